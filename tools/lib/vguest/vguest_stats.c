// SPDX-License-Identifier: GPL-2.0
/*
 * vguest_stats: a vhostx device's counters, by name (see vguest_stats.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include "vguest_stats.h"

#define VG_DEBUGFS	"/sys/kernel/debug"

/* A whole decimal number: its value in *@v. */
static int vg_num(const char *tok, uint64_t *v)
{
	char *end;

	if (!tok || *tok < '0' || *tok > '9')
		return 0;
	*v = strtoull(tok, &end, 10);
	return !*end;
}

static void vg_name(char *dst, const char *src)
{
	snprintf(dst, VG_STATS_NAME, "%s", src);
}

/* "label:\tV name V name V": the label's value, then the pairs. */
static void vg_stats_labelled(struct vg_stats *s, char *label, char **save)
{
	char *tok = strtok_r(NULL, " \t\n", save), *name = label;
	uint64_t v;

	label[strlen(label) - 1] = 0;
	if (!strcmp(label, "dev")) {
		if (tok)
			vg_name(s->dev, tok);
		return;
	}
	for (; tok; tok = strtok_r(NULL, " \t\n", save)) {
		if (!vg_num(tok, &v)) {
			name = tok;
			continue;
		}
		if (name && s->npairs < VG_STATS_PAIRS) {
			vg_name(s->pair_name[s->npairs], name);
			s->pair[s->npairs++] = v;
		}
		name = NULL;
	}
}

/* One line, its @prefix already removed. */
static void vg_stats_line(struct vg_stats *s, char *line)
{
	char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
	unsigned int i, r;
	uint64_t v;

	if (!tok)
		return;
	if (tok[strlen(tok) - 1] == ':') {
		vg_stats_labelled(s, tok, &save);
	} else if (!strcmp(tok, "vq")) {
		for (s->ncols = 0; s->ncols < VG_STATS_COLS &&
		     (tok = strtok_r(NULL, " \t\n", &save)); s->ncols++)
			vg_name(s->col[s->ncols], tok);
	} else if (vg_num(tok, &v) && s->nrows < VG_STATS_ROWS) {
		r = s->nrows++;
		s->row_vq[r] = (unsigned int)v;
		for (i = 0; i < VG_STATS_COLS &&
		     (tok = strtok_r(NULL, " \t\n", &save)); i++)
			s->row[r][i] = strtoull(tok, NULL, 10);
	}
}

static int vg_stats_parse(struct vg_stats *s, const char *path,
			  const char *prefix)
{
	size_t plen = strlen(prefix);
	char line[1024];
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, prefix, plen))
			vg_stats_line(s, line + plen);
	fclose(f);
	return s->ncols && s->nrows ? 0 : -ENODATA;
}

/**
 * vg_stats_read() - the counters of the vhostx device open as @fd, from
 * /proc/self/fdinfo/@fd.
 * Return: 0, -ENODATA if that holds no counter table (not a vhostx
 * device), or -errno.
 */
int vg_stats_read(struct vg_stats *s, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return vg_stats_parse(s, path, "vhostx-");
}

/** vg_stats_read_file() - the same from a debugfs stats file @path. */
int vg_stats_read_file(struct vg_stats *s, const char *path)
{
	return vg_stats_parse(s, path, "");
}

/**
 * vg_stats_get() - counter @name of virtqueue @vq from @s: its column in
 * @vq's row, else a name/value pair of a labelled line.
 * Return: 0 and the value in *@val, or -ENOENT.
 */
int vg_stats_get(const struct vg_stats *s, unsigned int vq, const char *name,
		 uint64_t *val)
{
	unsigned int c, r;

	for (c = 0; c < s->ncols; c++) {
		if (strcmp(s->col[c], name))
			continue;
		for (r = 0; r < s->nrows; r++) {
			if (s->row_vq[r] == vq) {
				*val = s->row[r][c];
				return 0;
			}
		}
		return -ENOENT;
	}
	for (c = 0; c < s->npairs; c++) {
		if (!strcmp(s->pair_name[c], name)) {
			*val = s->pair[c];
			return 0;
		}
	}
	return -ENOENT;
}

/**
 * vg_counter() - one counter, @name of virtqueue @vq, of the vhostx device
 * open as @fd.
 * Return: 0 and the value in *@val, -ENOENT (no such counter), -ENODATA
 * (not a vhostx device) or -errno.
 */
int vg_counter(int fd, unsigned int vq, const char *name, uint64_t *val)
{
	struct vg_stats *s = malloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = vg_stats_read(s, fd);
	if (!r)
		r = vg_stats_get(s, vq, name, val);
	free(s);
	return r;
}

/**
 * vg_stats_debugfs() - path of the debugfs stats file of the vhostx device
 * open as @fd (debugfs is mounted if it is not).
 * Return: 0 if that file is readable, -ENODATA (not a vhostx device) or
 * -errno.
 */
int vg_stats_debugfs(int fd, char *path, size_t size)
{
	struct vg_stats *s = malloc(sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = vg_stats_read(s, fd);
	if (!r && !s->dev[0])
		r = -ENODATA;
	if (!r) {
		if (access(VG_DEBUGFS "/vhostx", F_OK))
			mount("none", VG_DEBUGFS, "debugfs", 0, NULL);
		snprintf(path, size, VG_DEBUGFS "/vhostx/%s/stats", s->dev);
		r = access(path, R_OK) ? -errno : 0;
	}
	free(s);
	return r;
}
