// SPDX-License-Identifier: GPL-2.0
/*
 * The guided fuzzer's corpus: see corpus.h.
 */
#include <assert.h>
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
	dst->n_ops = src->n_ops;
	dst->nops_at = src->nops_at;
	memcpy(dst->op_at, src->op_at, (src->n_ops + 1) * sizeof(uint32_t));
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
	     fwrite(t->c, sizeof(uint64_t), t->nc, f) == t->nc &&
	     fwrite(&t->n_ops, sizeof(t->n_ops), 1, f) == 1 &&
	     fwrite(&t->nops_at, sizeof(t->nops_at), 1, f) == 1 &&
	     fwrite(t->op_at, sizeof(uint32_t), t->n_ops + 1, f) == t->n_ops + 1;
	if (fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}

/* The optional operations after the values; none if absent or not sane. */
static void ops_load(FILE *f, struct tape *t)
{
	uint32_t i;

	if (fread(&t->n_ops, sizeof(t->n_ops), 1, f) != 1 ||
	    fread(&t->nops_at, sizeof(t->nops_at), 1, f) != 1 ||
	    t->n_ops > TAPE_OPS_MAX ||
	    fread(t->op_at, sizeof(uint32_t), t->n_ops + 1, f) != t->n_ops + 1)
		goto none;
	for (i = 0; i < t->n_ops; i++)
		if (t->op_at[i] > t->op_at[i + 1])
			goto none;
	if (t->op_at[t->n_ops] > t->nd || t->nops_at >= t->op_at[0])
		goto none;
	return;
none:
	t->n_ops = 0;
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
	t->n_ops = 0;
	if (ok)
		ops_load(f, t);
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
	/* Only the values it has: a corpus of full tapes would not fit. */
	e = &entries[n_entries];
	e->d = malloc((t->nd ? t->nd : 1) * sizeof(uint64_t));
	e->c = malloc((t->nc ? t->nc : 1) * sizeof(uint64_t));
	if (!e->d || !e->c) {
		tape_free(e);
		return -ENOMEM;
	}
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

/* One value changed in place, in the way @how (0-3) says. */
static void mutate_value(struct rng *r, uint64_t *v, uint32_t how)
{
	switch (how) {
	case 0:		/* another decision */
		*v = rnd(r);
		break;
	case 1:		/* the first choices of a below(): small values */
		*v = below(r, 16);
		break;
	case 2:		/* a neighbouring choice */
		*v += one_in(r, 2) ? 1 : -1;
		break;
	default:	/* a bit */
		*v ^= 1ull << below(r, 64);
		break;
	}
}

/*
 * One mutation of @n values in @v (capacity TAPE_MAX); true if values
 * moved (inserted, cut or spliced), not only changed in place.
 */
static bool mutate_values(struct rng *r, uint64_t *v, uint32_t *n,
			  const struct tape *other, bool driver)
{
	uint32_t at, len, i, how;

	if (!*n) {
		/* Nothing recorded: a few fresh values. */
		*n = 1 + below(r, 8);
		for (i = 0; i < *n; i++)
			v[i] = rnd(r);
		return true;
	}
	at = below(r, *n);
	how = below(r, 7);
	switch (how) {
	case 0 ... 3:
		mutate_value(r, &v[at], how);
		break;
	case 4:		/* cut short: the rest comes fresh from the generator */
		*n = at;
		return true;
	case 5:		/* repeat a block (the same operations again) */
		len = 1 + below(r, 32);
		if (at + len > *n)
			len = *n - at;
		if (*n + len > TAPE_MAX)
			break;
		memmove(v + at + len, v + at, (*n - at) * sizeof(uint64_t));
		*n += len;
		return true;
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
			return true;
		}
		break;
	}
	return false;
}

/* ---- whole operations on the driver tape ---- */

/* Run exactly @t's operations (as far as the count can say it). */
static void ops_count(struct tape *t)
{
	uint32_t n = t->n_ops;

	if (n < TAPE_NOPS_MIN)
		n = TAPE_NOPS_MIN;	/* the rest come fresh */
	if (n > TAPE_OPS_MAX)
		n = TAPE_OPS_MAX;
	if (t->nops_at < t->nd)
		t->d[t->nops_at] = n - TAPE_NOPS_MIN;
}

static uint32_t op_len(const struct tape *t, uint32_t i)
{
	return t->op_at[i + 1] - t->op_at[i];
}

/* Remove operation @i of @t. */
static void op_remove(struct tape *t, uint32_t i)
{
	uint32_t len = op_len(t, i), j;

	memmove(t->d + t->op_at[i], t->d + t->op_at[i + 1],
		(t->nd - t->op_at[i + 1]) * sizeof(uint64_t));
	t->nd -= len;
	for (j = i; j < t->n_ops; j++)
		t->op_at[j] = t->op_at[j + 1] - len;
	t->n_ops--;
}

/*
 * Insert the @len values at @src (an operation; they may lie in @t) as
 * operation @k of @t.  The values after it stay aligned with the
 * operations that consume them; a full tape loses its tail.  False if
 * nothing was inserted.
 */
static bool op_insert(struct tape *t, uint32_t k, const uint64_t *src,
		      uint32_t len)
{
	static uint64_t buf[TAPE_MAX];
	uint32_t at = t->op_at[k], j;

	if (!len || t->n_ops >= TAPE_OPS_MAX || at + len > TAPE_MAX)
		return false;
	memcpy(buf, src, len * sizeof(uint64_t));
	if (t->nd + len > TAPE_MAX) {
		/* Drop the operations that no longer fit, then the values. */
		while (t->n_ops > k && t->op_at[t->n_ops - 1] + len >= TAPE_MAX)
			t->n_ops--;
		if (t->op_at[t->n_ops] + len > TAPE_MAX)
			t->op_at[t->n_ops] = TAPE_MAX - len;
		t->nd = TAPE_MAX - len;
	}
	memmove(t->d + at + len, t->d + at, (t->nd - at) * sizeof(uint64_t));
	memcpy(t->d + at, buf, len * sizeof(uint64_t));
	t->nd += len;
	for (j = t->n_ops + 1; j > k; j--)
		t->op_at[j] = t->op_at[j - 1] + len;
	t->n_ops++;
	return true;
}

/* One mutation of whole operations; false if it could not apply. */
static bool mutate_ops(struct rng *r, struct tape *t, const struct tape *other)
{
	uint32_t i = below(r, t->n_ops), k = below(r, t->n_ops + 1), j, len;
	bool from_other = other && other->n_ops && other->version == t->version;

	switch (below(r, 6)) {
	case 0:		/* the same operation once more, somewhere */
		op_insert(t, k, t->d + t->op_at[i], op_len(t, i));
		break;
	case 1:		/* one operation less */
		if (t->n_ops < 2)
			return false;
		op_remove(t, i);
		break;
	case 2:		/* moved */
		len = op_len(t, i);
		if (t->n_ops < 2 || !len)
			return false;
		if (!op_insert(t, k, t->d + t->op_at[i], len))
			return false;
		i = k <= i ? i + 1 : i;
		if (i < t->n_ops)	/* not lost off a full tape's end */
			op_remove(t, i);
		break;
	case 3:		/* another input's operation, added or instead of one */
		if (!from_other)
			return false;
		j = below(r, other->n_ops);
		if (one_in(r, 2) && t->n_ops > 1) {
			op_remove(t, i);
			k = i;
		}
		op_insert(t, k, other->d + other->op_at[j], op_len(other, j));
		break;
	case 4:		/* our first operations, then another input's last */
		if (!from_other)
			return false;
		j = below(r, other->n_ops);
		t->nd = t->op_at[k];
		t->n_ops = k;
		while (j < other->n_ops && t->n_ops < TAPE_OPS_MAX) {
			op_insert(t, t->n_ops, other->d + other->op_at[j],
				  op_len(other, j));
			j++;
		}
		break;
	default:	/* cut after an operation: the rest comes fresh */
		t->nd = t->op_at[k];
		t->n_ops = k;
		return true;	/* the count stays: fresh operations follow */
	}
	ops_count(t);
	return true;
}

/* One value mutation inside operation @i (the boundaries stay). */
static void mutate_in_op(struct rng *r, struct tape *t, uint32_t i)
{
	uint32_t len = op_len(t, i);
	uint64_t *v;

	if (!len)
		return;
	v = &t->d[t->op_at[i] + below(r, len)];
	mutate_value(r, v, below(r, 4));
}

/* Of two entries drawn, the cheaper: fewer values, a shorter round. */
static const struct tape *pick_entry(struct rng *sched)
{
	const struct tape *a, *b;

	/* Half the time one of the newest: they opened the latest edges. */
	if (n_entries > 8 && one_in(sched, 2))
		a = &entries[n_entries - 1 - below(sched, 8)];
	else
		a = &entries[below(sched, n_entries)];
	b = &entries[below(sched, n_entries)];
	return (uint64_t)b->nd + b->nc < (uint64_t)a->nd + a->nc ? b : a;
}

void corpus_mutate(struct rng *sched, struct tape *out)
{
	const struct tape *e, *other;
	unsigned int k = 1 + below(sched, 6), i;

	assert(n_entries);
	e = pick_entry(sched);
	other = n_entries > 1 ? &entries[below(sched, n_entries)] : NULL;
	tape_copy(out, e);
	for (i = 0; i < k; i++) {
		/*
		 * The driver thread's choices shape a round most; with its
		 * operations known, most mutations keep them whole.
		 */
		if (one_in(sched, 4)) {
			mutate_values(sched, out->c, &out->nc, other, false);
		} else if (out->n_ops && !one_in(sched, 4)) {
			if (one_in(sched, 2) || !mutate_ops(sched, out, other))
				mutate_in_op(sched, out, below(sched, out->n_ops));
		} else {
			if (mutate_values(sched, out->d, &out->nd, other, true))
				out->n_ops = 0;	/* the operations moved */
		}
	}
}
