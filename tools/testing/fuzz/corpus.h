/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guided fuzzer's inputs: a round is fully described by its seed and
 * the two tapes of values its driver and chaos threads consumed (see
 * fuzz_rng.h).  Inputs that reached new edges are kept in a corpus (in
 * memory and, one file each, in a directory), and new inputs are made by
 * mutating them.
 *
 * File format (little-endian, native on x86): the 8 bytes "VXFTAPE2",
 * u64 seed, u32 driver values, u32 chaos values, u32 devices (bit 0 the
 * test device, bit 1 the net device, as --dev gave them), then the values;
 * then, optionally (older files end before it), the operations: u32
 * n_ops, u32 nops_at, and n_ops + 1 u32 op_at[] (see struct tape).
 *
 * The magic's digit is the version: how the fuzzer reads the values.
 * Version 1 ("VXFTAPE1") inputs were recorded when every round wrote
 * split rings; they still do, with the operations of that time.  Version
 * 2 rounds also draw their ring format, packed sizes and bases, and the
 * packed ring's and in-order operations.  A mutation keeps its parent's
 * version; new inputs are of the current one.
 */
#ifndef VHOSTX_FUZZ_CORPUS_H
#define VHOSTX_FUZZ_CORPUS_H

#include <stdint.h>

#include "fuzz_rng.h"

#define TAPE_DEV_TEST	1u
#define TAPE_DEV_NET	2u

#define TAPE_VERSION	2u	/* new inputs */

/* A round runs TAPE_NOPS_MIN + below(TAPE_NOPS_SPAN) operations. */
#define TAPE_NOPS_MIN	10u
#define TAPE_NOPS_SPAN	300u
#define TAPE_OPS_MAX	(TAPE_NOPS_MIN + TAPE_NOPS_SPAN - 1)

struct tape {
	uint64_t seed;
	uint32_t nd, nc;
	uint32_t devs;		/* TAPE_DEV_* */
	uint32_t version;	/* 1 or TAPE_VERSION */
	uint64_t *d, *c;	/* TAPE_MAX values each */
	/*
	 * Where the round's operations lie on the driver tape, as it ran:
	 * operation i consumed the values [op_at[i], op_at[i + 1]); nops_at
	 * is the position of the value that drew how many operations the
	 * round runs.  n_ops 0: not known (the set-up was refused, or an
	 * older file), and only values are mutated.
	 */
	uint32_t n_ops, nops_at;
	uint32_t op_at[TAPE_OPS_MAX + 1];
};

int tape_alloc(struct tape *t);
void tape_free(struct tape *t);
void tape_copy(struct tape *dst, const struct tape *src);
int tape_save(const char *path, const struct tape *t);
int tape_load(const char *path, struct tape *t);

/* Load every *.tape of @dir (created if missing); returns how many. */
long corpus_load(const char *dir);
/* Keep @t (a copy) and write it to the corpus directory. */
int corpus_add(const struct tape *t);
unsigned long corpus_size(void);
/*
 * A new input in @out: one corpus entry mutated, decided by @sched.  On
 * the driver tape whole operations are duplicated, removed, moved, taken
 * from another entry, or the tape is cut after one so that the rest is
 * fresh; inside one operation, or on either tape, values are replaced,
 * set to small numbers, nudged, a block repeated, the tape cut short or
 * spliced with another entry.  Of two candidate entries the one with
 * fewer values (a cheaper round) is taken.
 */
void corpus_mutate(struct rng *sched, struct tape *out);

#endif
