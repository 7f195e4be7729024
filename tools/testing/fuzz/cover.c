// SPDX-License-Identifier: GPL-2.0
/*
 * KCOV coverage for the fuzzer: see cover.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kcov.h>

#include "cover.h"

#define KCOV_PATH	"/sys/kernel/debug/kcov"
#define THREAD_WORDS	(1ul << 18)	/* a thread's trace per collection */
#define REMOTE_WORDS	(1ul << 20)	/* all workers' traces between collections */
#define MAP_BITS	22		/* edge and PC maps: 4 Mbit each */

struct cover_thread {
	int fd;
	uint64_t *area;
	unsigned long words;
};

static struct cover_thread remote = { .fd = -1 };
static bool on;
static uint8_t edge_map[1ul << (MAP_BITS - 3)], pc_map[1ul << (MAP_BITS - 3)];
static unsigned long n_edges, n_pcs, n_remote_edges;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static int trace_open(struct cover_thread *ct, unsigned long words)
{
	ct->fd = open(KCOV_PATH, O_RDWR | O_CLOEXEC);
	if (ct->fd < 0)
		return -errno;
	if (ioctl(ct->fd, KCOV_INIT_TRACE, words))
		goto fail;
	ct->area = mmap(NULL, words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			MAP_SHARED, ct->fd, 0);
	if (ct->area == MAP_FAILED)
		goto fail;
	ct->words = words;
	return 0;
fail:
	close(ct->fd);
	ct->fd = -1;
	return -errno;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static bool set_bit_new(uint8_t *map, uint64_t h)
{
	uint64_t bit = h & ((1ul << MAP_BITS) - 1);
	uint8_t m = 1u << (bit & 7);

	if (map[bit >> 3] & m)
		return false;
	map[bit >> 3] |= m;
	return true;
}

/* Fold one trace into the maps and empty it; returns new edges. */
static unsigned long fold(struct cover_thread *ct)
{
	uint64_t n = __atomic_load_n(&ct->area[0], __ATOMIC_RELAXED), i, prev = 0;
	unsigned long fresh = 0;

	if (n >= ct->words)
		n = ct->words - 1;
	pthread_mutex_lock(&map_lock);
	for (i = 1; i <= n; i++) {
		uint64_t pc = ct->area[i];

		if (set_bit_new(pc_map, mix(pc)))
			n_pcs++;
		if (set_bit_new(edge_map, mix(pc ^ (prev << 1)))) {
			n_edges++;
			fresh++;
			if (ct == &remote)
				n_remote_edges++;
		}
		prev = pc;
	}
	pthread_mutex_unlock(&map_lock);
	/*
	 * A worker finishing meanwhile may append to the remote trace between
	 * the read of the count and this reset: those entries are lost, which
	 * only makes the guidance a little less sharp.
	 */
	__atomic_store_n(&ct->area[0], 0, __ATOMIC_RELAXED);
	return fresh;
}

int cover_init(void)
{
	struct kcov_remote_arg arg = {
		.trace_mode = KCOV_TRACE_PC,
		.area_size = 1u << 16,
		.num_handles = 0,
		.common_handle = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						    (uint32_t)getpid()),
	};
	int ret = trace_open(&remote, REMOTE_WORDS);

	if (ret)
		return ret;
	if (ioctl(remote.fd, KCOV_REMOTE_ENABLE, &arg)) {
		ret = -errno;
		munmap(remote.area, remote.words * sizeof(uint64_t));
		close(remote.fd);
		remote.fd = -1;
		return ret;
	}
	on = true;
	return 0;
}

bool cover_on(void)
{
	return on;
}

struct cover_thread *cover_thread_start(void)
{
	struct cover_thread *ct;

	if (!on)
		return NULL;
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return NULL;
	if (trace_open(ct, THREAD_WORDS))
		goto fail;
	if (ioctl(ct->fd, KCOV_ENABLE, KCOV_TRACE_PC)) {
		munmap(ct->area, ct->words * sizeof(uint64_t));
		close(ct->fd);
		goto fail;
	}
	__atomic_store_n(&ct->area[0], 0, __ATOMIC_RELAXED);
	return ct;
fail:
	free(ct);
	return NULL;
}

unsigned long cover_thread_collect(struct cover_thread *ct)
{
	return ct ? fold(ct) : 0;
}

unsigned long cover_thread_stop(struct cover_thread *ct)
{
	unsigned long fresh;

	if (!ct)
		return 0;
	ioctl(ct->fd, KCOV_DISABLE, 0);
	fresh = fold(ct);
	munmap(ct->area, ct->words * sizeof(uint64_t));
	close(ct->fd);
	free(ct);
	return fresh;
}

unsigned long cover_remote_collect(void)
{
	return on ? fold(&remote) : 0;
}

void cover_counts(unsigned long *edges, unsigned long *remote_edges,
		  unsigned long *pcs)
{
	pthread_mutex_lock(&map_lock);
	*edges = n_edges;
	*remote_edges = n_remote_edges;
	*pcs = n_pcs;
	pthread_mutex_unlock(&map_lock);
}
