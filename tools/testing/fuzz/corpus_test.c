// SPDX-License-Identifier: GPL-2.0
/*
 * The guided fuzzer's corpus on the host (no device needed): mutations
 * keep every input well formed (values within the tape, operation
 * boundaries in order and inside the values), a saved input loads back
 * with its operations, a file without them loads with none, and whole
 * operations stay whole: an operation the mutations move, copy or take
 * from another input still consumes its own values, in order.
 *
 * Built and run by `make -C tools/testing/fuzz check` (make check-debug,
 * make coverage and make fuzz-compare run it before they boot).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus.h"

static int failures, tests;

static void result(bool ok, const char *what)
{
	tests++;
	if (!ok)
		failures++;
	printf("%sok %d %s\n", ok ? "" : "not ", tests, what);
}

/* Operation i's values are (i << 32 | k): an operation's own values. */
static void make_input(struct rng *r, struct tape *t, unsigned int tag)
{
	uint32_t i, k, at, len;

	memset(t->d, 0, TAPE_MAX * sizeof(uint64_t));
	t->seed = rnd(r);
	t->version = TAPE_VERSION;
	t->devs = TAPE_DEV_TEST | TAPE_DEV_NET;
	/* The set-up draws a few values, then the operation count. */
	t->nops_at = 1 + below(r, 20);
	at = t->nops_at + 1 + below(r, 4);
	t->n_ops = one_in(r, 8) ? 0 : TAPE_NOPS_MIN + below(r, TAPE_NOPS_SPAN);
	for (i = 0; i < t->n_ops; i++) {
		t->op_at[i] = at;
		len = one_in(r, 4) ? 1 + below(r, 2000) : below(r, 200);
		if (at + len > TAPE_MAX)
			len = TAPE_MAX - at;
		for (k = 0; k < len; k++)
			t->d[at + k] = (uint64_t)(tag << 16 | i) << 32 | k;
		at += len;
	}
	t->op_at[t->n_ops] = at;
	t->nd = at + below(r, 64);
	if (t->nd > TAPE_MAX)
		t->nd = TAPE_MAX;
	t->nc = below(r, 4000);
	for (k = 0; k < t->nc; k++)
		t->c[k] = rnd(r);
}

static bool well_formed(const struct tape *t)
{
	uint32_t i;

	if (t->nd > TAPE_MAX || t->nc > TAPE_MAX)
		return false;
	if (!t->n_ops)
		return true;
	if (t->n_ops > TAPE_OPS_MAX || t->nops_at >= t->op_at[0])
		return false;
	for (i = 0; i < t->n_ops; i++)
		if (t->op_at[i] > t->op_at[i + 1])
			return false;
	return t->op_at[t->n_ops] <= t->nd;
}

/*
 * Every operation of @t is one original operation's values in order,
 * from its first (k == 0), but for at most @changed values altered.
 */
static bool ops_whole(const struct tape *t, unsigned int changed)
{
	unsigned int bad = 0;
	uint32_t i, k;

	for (i = 0; i < t->n_ops; i++) {
		if (t->op_at[i] < t->op_at[i + 1] &&
		    (uint32_t)t->d[t->op_at[i]])
			bad++;
		for (k = t->op_at[i] + 1; k < t->op_at[i + 1]; k++)
			if (t->d[k] != t->d[k - 1] + 1)
				bad++;
	}
	return bad <= 3 * changed;
}

int main(void)
{
	char dir[] = "/tmp/vhostx-corpus-XXXXXX", path[4096];
	struct rng r = { .s = 1 }, sched = { .s = 2 };
	struct tape t, out;
	unsigned long i, bad_form = 0, broken = 0, with_ops = 0;
	bool ok;
	FILE *f;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("TAP version 13\n1..4\n");
	if (!mkdtemp(dir) || tape_alloc(&t) || tape_alloc(&out)) {
		printf("Bail out! no memory or no temporary directory\n");
		return 1;
	}
	if (corpus_load(dir) != 0) {
		printf("Bail out! %s: not an empty corpus\n", dir);
		return 1;
	}
	for (i = 0; i < 32; i++) {
		make_input(&r, &t, (unsigned int)i);
		corpus_add(&t);
	}

	/* 1-2: mutations of the first inputs, then of their offspring. */
	for (i = 0; i < 20000; i++) {
		corpus_mutate(&sched, &out);
		if (!well_formed(&out))
			bad_form++;
		if (i < 10000) {
			/* At most 6 stacked mutations, each altering one value. */
			if (out.n_ops && !ops_whole(&out, 6))
				broken++;
			if (out.n_ops)
				with_ops++;
		} else if (one_in(&r, 64)) {
			corpus_add(&out);
		}
	}
	result(!bad_form, "mutated inputs are well formed");
	result(!broken && with_ops > 5000,
	       "whole operations stay whole and most mutations keep them");
	printf("# of 10000 mutations: %lu with operations, %lu broken\n",
	       with_ops, broken);

	/* 3: a saved input loads back with its operations. */
	do
		make_input(&r, &t, 99);
	while (t.n_ops < 40);
	t.n_ops = 40;	/* op_at[40]: where the 41st started */
	snprintf(path, sizeof(path), "%s/saved.tape", dir);
	ok = !tape_save(path, &t) && !tape_load(path, &out) &&
	     out.n_ops == 40 && out.nops_at == t.nops_at && out.nd == t.nd &&
	     !memcmp(out.op_at, t.op_at, 41 * sizeof(uint32_t)) &&
	     !memcmp(out.d, t.d, t.nd * sizeof(uint64_t));
	result(ok, "a saved input loads back with its operations");

	/* 4: a file of the time before operations were saved: none. */
	ok = !truncate(path, 8 + 8 + 4 * 3 + 8 * ((off_t)t.nd + t.nc)) &&
	     !tape_load(path, &out) && out.n_ops == 0 && out.nd == t.nd;
	f = fopen(path, "ab");	/* and a trailer that lies: none either */
	if (f) {
		uint32_t lie[3] = { 2, 5, TAPE_MAX + 1 };

		fwrite(lie, sizeof(lie), 1, f);
		fwrite(lie, sizeof(lie), 1, f);
		fclose(f);
	}
	ok = ok && !tape_load(path, &out) && out.n_ops == 0;
	result(ok, "an input without operations, or with bad ones, loads with none");

	tape_free(&t);
	tape_free(&out);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path))
		printf("# could not remove %s\n", dir);
	printf("# %d tests, %d failed\n", tests, failures);
	return failures ? 1 : 0;
}
