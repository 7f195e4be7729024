// SPDX-License-Identifier: GPL-2.0
/*
 * The guided fuzzer's corpus: see corpus.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "corpus.h"

#define CORPUS_MAX	4096
/* "VXFTAPE" and the version's digit. */
static const char magic[7] = "VXFTAPE";

static struct tape *entries;
static unsigned long n_entries, n_saved;
static const char *corpus_dir;

int tape_alloc(struct tape *t)
{
	memset(t, 0, sizeof(*t));
	t->d = calloc(TAPE_MAX, sizeof(uint64_t));
	t->c = calloc(TAPE_MAX, sizeof(uint64_t));
	if (!t->d || !t->c) {
		tape_free(t);
		return -ENOMEM;
	}
	return 0;
}

void tape_free(struct tape *t)
{
	free(t->d);
	free(t->c);
	t->d = t->c = NULL;
}

void tape_copy(struct tape *dst, const struct tape *src)
{
	dst->seed = src->seed;
	dst->nd = src->nd;
	dst->nc = src->nc;
	dst->devs = src->devs;
	dst->version = src->version;
	memcpy(dst->d, src->d, src->nd * sizeof(uint64_t));
	memcpy(dst->c, src->c, src->nc * sizeof(uint64_t));
}

int tape_save(const char *path, const struct tape *t)
{
	FILE *f = fopen(path, "wb");
	char v = (char)('0' + (t->version ? t->version : TAPE_VERSION));
	int ok;

	if (!f)
		return -errno;
	ok = fwrite(magic, sizeof(magic), 1, f) == 1 &&
	     fwrite(&v, 1, 1, f) == 1 &&
	     fwrite(&t->seed, sizeof(t->seed), 1, f) == 1 &&
	     fwrite(&t->nd, sizeof(t->nd), 1, f) == 1 &&
	     fwrite(&t->nc, sizeof(t->nc), 1, f) == 1 &&
	     fwrite(&t->devs, sizeof(t->devs), 1, f) == 1 &&
	     fwrite(t->d, sizeof(uint64_t), t->nd, f) == t->nd &&
	     fwrite(t->c, sizeof(uint64_t), t->nc, f) == t->nc;
	if (fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}

int tape_load(const char *path, struct tape *t)
{
	FILE *f = fopen(path, "rb");
	char m[8];
	int ok;

	if (!f)
		return -errno;
	ok = fread(m, sizeof(m), 1, f) == 1 &&
	     !memcmp(m, magic, sizeof(magic)) &&
	     m[7] >= '1' && m[7] <= '0' + TAPE_VERSION &&
	     fread(&t->seed, sizeof(t->seed), 1, f) == 1 &&
	     fread(&t->nd, sizeof(t->nd), 1, f) == 1 &&
	     fread(&t->nc, sizeof(t->nc), 1, f) == 1 &&
	     fread(&t->devs, sizeof(t->devs), 1, f) == 1 &&
	     t->nd <= TAPE_MAX && t->nc <= TAPE_MAX &&
	     fread(t->d, sizeof(uint64_t), t->nd, f) == t->nd &&
	     fread(t->c, sizeof(uint64_t), t->nc, f) == t->nc;
	t->version = (uint32_t)(m[7] - '0');
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int keep(const struct tape *t)
{
	struct tape *e;

	if (!entries) {
		entries = calloc(CORPUS_MAX, sizeof(*entries));
		if (!entries)
			return -ENOMEM;
	}
	if (n_entries == CORPUS_MAX)
		return -ENOSPC;
	e = &entries[n_entries];
	if (tape_alloc(e))
		return -ENOMEM;
	tape_copy(e, t);
	n_entries++;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_tape(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 5 && !strcmp(de->d_name + n - 5, ".tape");
}

long corpus_load(const char *dir)
{
	struct dirent **names;
	struct tape t;
	char path[4096];
	int n, i;
	long loaded = 0;

	corpus_dir = dir;
	mkdir(dir, 0755);
	if (tape_alloc(&t))
		return -ENOMEM;
	n = scandir(dir, &names, is_tape, by_name);	/* sorted: reproducible */
	if (n < 0) {
		tape_free(&t);
		return -errno;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (!tape_load(path, &t) && !keep(&t))
			loaded++;
		free(names[i]);
	}
	free(names);
	tape_free(&t);
	n_saved = n > 0 ? (unsigned long)n : 0;
	return loaded;
}

int corpus_add(const struct tape *t)
{
	char path[4096];
	int ret = keep(t);

	if (ret || !corpus_dir)
		return ret;
	/* Names sort in the order found; never overwrite a loaded entry. */
	do
		snprintf(path, sizeof(path), "%s/%06lu.tape", corpus_dir, n_saved++);
	while (!access(path, F_OK));
	return tape_save(path, t);
}

unsigned long corpus_size(void)
{
	return n_entries;
}

/* One mutation of @n values in @v (capacity TAPE_MAX). */
static void mutate_values(struct rng *r, uint64_t *v, uint32_t *n,
			  const struct tape *other, bool driver)
{
	uint32_t at, len, i;

	if (!*n) {
		/* Nothing recorded: a few fresh values. */
		*n = 1 + below(r, 8);
		for (i = 0; i < *n; i++)
			v[i] = rnd(r);
		return;
	}
	at = below(r, *n);
	switch (below(r, 7)) {
	case 0:		/* another decision */
		v[at] = rnd(r);
		break;
	case 1:		/* the first choices of a below(): small values */
		v[at] = below(r, 16);
		break;
	case 2:		/* a neighbouring choice */
		v[at] += one_in(r, 2) ? 1 : -1;
		break;
	case 3:		/* a bit */
		v[at] ^= 1ull << below(r, 64);
		break;
	case 4:		/* cut short: the rest comes fresh from the generator */
		*n = at;
		break;
	case 5:		/* repeat a block (the same operations again) */
		len = 1 + below(r, 32);
		if (at + len > *n)
			len = *n - at;
		if (*n + len > TAPE_MAX)
			break;
		memmove(v + at + len, v + at, (*n - at) * sizeof(uint64_t));
		*n += len;
		break;
	default:	/* splice: our prefix, another input's suffix */
		if (other) {
			const uint64_t *ov = driver ? other->d : other->c;
			uint32_t on = driver ? other->nd : other->nc;
			uint32_t from = on ? below(r, on) : 0;

			len = on - from;
			if (at + len > TAPE_MAX)
				len = TAPE_MAX - at;
			memcpy(v + at, ov + from, len * sizeof(uint64_t));
			*n = at + len;
		}
		break;
	}
}

void corpus_mutate(struct rng *sched, struct tape *out)
{
	const struct tape *e, *other;
	unsigned int k = 1 + below(sched, 6), i;

	/* Half the time one of the newest: they opened the latest edges. */
	if (n_entries > 8 && one_in(sched, 2))
		e = &entries[n_entries - 1 - below(sched, 8)];
	else
		e = &entries[below(sched, n_entries)];
	other = n_entries > 1 ? &entries[below(sched, n_entries)] : NULL;
	tape_copy(out, e);
	for (i = 0; i < k; i++) {
		/* The driver thread's choices shape a round most. */
		if (!one_in(sched, 4))
			mutate_values(sched, out->d, &out->nd, other, true);
		else
			mutate_values(sched, out->c, &out->nc, other, false);
	}
}
