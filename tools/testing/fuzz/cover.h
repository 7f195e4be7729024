/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KCOV coverage of the modules for the fuzzer (kernel with CONFIG_KCOV,
 * modules built with VHOSTX_COVERAGE=y so that only they are instrumented).
 *
 * Two sources: each fuzzing thread's own system calls (KCOV_ENABLE on a
 * per-thread descriptor), and the device workers' runs, which the modules
 * account to the owner's KCOV common handle (KCOV_REMOTE_ENABLE in the
 * main thread before any other thread exists; threads inherit the handle,
 * and the device takes it from the thread that calls VHOST_SET_OWNER).
 * An edge is a pair of consecutive program counters of one trace.
 */
#ifndef VHOSTX_FUZZ_COVER_H
#define VHOSTX_FUZZ_COVER_H

#include <stdbool.h>
#include <stdint.h>

struct cover_thread;

/* Main thread, before other threads: 0, or -errno (no KCOV). */
int cover_init(void);
bool cover_on(void);
/* In each fuzzing thread: start tracing it (NULL without KCOV). */
struct cover_thread *cover_thread_start(void);
/* Fold the thread's trace into the global map; returns new edges. */
unsigned long cover_thread_collect(struct cover_thread *ct);
/* Stop tracing, fold the rest in; returns new edges. */
unsigned long cover_thread_stop(struct cover_thread *ct);
/* Fold the workers' (remote) trace in; returns new edges. */
unsigned long cover_remote_collect(void);
/*
 * Totals so far: distinct edges, those of them first seen in the workers'
 * runs (the remote trace), distinct program counters.
 */
void cover_counts(unsigned long *edges, unsigned long *remote_edges,
		  unsigned long *pcs);

#endif
