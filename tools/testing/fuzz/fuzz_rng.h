/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's random numbers: splitmix64, optionally on a tape.
 *
 * Every decision of a round (which operation, which index, which length)
 * is one rnd() value.  In random mode the values come from the generator
 * alone.  With a tape (guided mode, replays of saved inputs) rnd() first
 * returns the tape's values in order and then continues from the
 * generator; with recording on, every value it returns is appended to the
 * tape, so after a round the tape holds exactly the values the round
 * consumed: the round's input, which the guided mode mutates and saves.
 */
#ifndef VHOSTX_FUZZ_RNG_H
#define VHOSTX_FUZZ_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAPE_MAX	(1u << 16)	/* values per tape */

struct rng {
	uint64_t s;
	uint64_t *tape;		/* NULL: random mode */
	uint32_t len, pos;	/* values on the tape, next one to return */
	bool record;		/* append generated values past the end */
};

static inline uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rnd(struct rng *r)
{
	uint64_t v;

	if (r->tape && r->pos < r->len)
		return r->tape[r->pos++];
	v = splitmix(&r->s);
	if (r->tape && r->record && r->len < TAPE_MAX) {
		r->tape[r->len++] = v;
		r->pos = r->len;
	}
	return v;
}

/* The value rnd() returns next, not consumed. */
static inline uint64_t rnd_peek(const struct rng *r)
{
	uint64_t s = r->s;

	if (r->tape && r->pos < r->len)
		return r->tape[r->pos];
	return splitmix(&s);
}

static inline uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

static inline bool one_in(struct rng *r, uint32_t n)
{
	return below(r, n) == 0;
}

/* Restart @r from @seed, replaying its tape from the start. */
static inline void rng_restart(struct rng *r, uint64_t seed)
{
	r->s = seed;
	r->pos = 0;
}

#endif
