// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_fuzz: a hostile guest and a careless VMM, at random, against
 * /dev/vhostx-test and /dev/vhostx-net (tap backend).
 *
 * Each "slot" (--threads of them) runs rounds.  A round opens a device,
 * negotiates a random feature set (maybe ACCESS_PLATFORM with IOTLB
 * messages, maybe LOG_ALL with a dirty log), sets up real queues, starts
 * the backend, and then two threads work on it at once for a random number
 * of operations:
 *   - the driver thread writes descriptor tables, indirect tables, avail
 *     entries and indices (good and bad: loops, long chains, heads out of
 *     range, index jumps, lengths, addresses inside/across/outside the
 *     memory regions, wrapping), queues well-formed traffic, kicks, injects
 *     frames into the tap, sends IOTLB updates/invalidations and answers
 *     misses, and issues vring/device ioctls with good and bad arguments;
 *   - the chaos thread scribbles over the rings and issues ioctls, IOTLB
 *     messages and backend swaps in the middle of all that.
 * Rounds write split or packed rings (the format is drawn at the round's
 * start, as are packed ring sizes, bases and VIRTIO_F_IN_ORDER; packed.c
 * has the packed ring's and the in-order operations).
 * After the round the device must work again with a well-formed ring, either
 * in place (backend stopped, memory table, rings and base reprogrammed,
 * backend restarted) or, if the round's ioctls left it unusable (e.g. an
 * owner reset), after a fresh open; and the module must still answer.
 * Kernel-side problems (oops, KASAN, lockdep, kmemleak) are caught by the
 * VM runner from the kernel log.
 *
 * Everything random comes from --seed: slot k, round r uses a generator
 * seeded from (seed, k, r), so `--replay k:r` reruns one round alone.  The
 * interleaving of the two threads of a round is up to the scheduler.
 *
 * Addresses the device may *write* (memory regions, IOTLB entries, ring
 * addresses, log base) are only ever inside the guest arena, in unmapped
 * user space, or in kernel space, so the fuzzer cannot corrupt itself.
 *
 * usage: vhostx_fuzz [--seed N] [--seconds S] [--threads T] [--dev test|net|both]
 *                    [--rounds N] [--replay SLOT:ROUND] [--timeout-ms MS] [-v]
 * exit status: 0 (prints "vhostx_fuzz: ... iterations"), 1 a device did not
 * recover or the module stopped answering, 3 stuck (the watchdog fired long
 * after the time budget: blocked tasks are dumped to the kernel log),
 * 4 no device (skip), 2 usage.  At the end it prints, per ring format (and
 * in order or not), the rounds, the buffers the queues used and the queues
 * a guest error stopped, from the queues' own counters.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>

#include "fuzz.h"
#include "vguest_net.h"
#include "vguest_stats.h"
#include "cover.h"

/* ---- options and global state ---- */
static uint64_t opt_seed = 1;
static unsigned int opt_seconds = 60, opt_threads = 2, opt_timeout_ms = 20000;
static long opt_rounds = -1;
static int opt_replay_slot = -1;
static long opt_replay_round = -1;
static int opt_verbose;
static bool opt_test = true, opt_net = true;
static bool opt_cover;			/* --cover: count KCOV edges */
static const char *opt_guided;		/* --guided DIR: the corpus */
static const char *opt_run_tape;	/* --run-tape FILE|DIR */
static const char *opt_repro_dir;	/* --repro-dir DIR: failing inputs */
static bool opt_faults;			/* --faults: failing allocations */
static struct timespec t_start;
static atomic_bool stop_all;
static atomic_ulong n_rounds, n_ops, n_inplace, n_reopen, n_skipped_net;
static atomic_int failed;
static unsigned long n_fresh_rounds;	/* guided: rounds of a new input */

static double elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t_start.tv_sec) +
	       (t.tv_nsec - t_start.tv_nsec) / 1e9;
}

static bool time_up(void)
{
	return atomic_load(&stop_all) || elapsed() >= opt_seconds;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vhostx_fuzz: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* A guest address: mostly valid, often on an edge, sometimes absurd. */
uint64_t pick_gpa(struct slot *s, struct rng *r, uint32_t len)
{
	uint64_t lo = arena_lo(s), hi = arena_hi(s);

	switch (below(r, 16)) {
	case 0: return hi - below(r, 2 * (len + 1));		/* across the end */
	case 1: return lo - below(r, 64);			/* across the start */
	case 2: return hi + (rnd(r) & 0xffff);			/* just outside */
	case 3: return ~0ULL - below(r, 4096);			/* wraps */
	case 4: return below(r, 2) ? 0 : 4096;
	case 5: return rnd(r);
	case 6: return KERNEL_ADDR + (rnd(r) & 0xfffff);
	default:
		return vg_gpa(s->scratch) + (rnd(r) % DATA_LEN);
	}
}

uint32_t pick_len(struct rng *r)
{
	switch (below(r, 12)) {
	case 0: return 0;
	case 1: return 0xffffffffu - below(r, 16);
	case 2: return 1u << below(r, 32);
	case 3: return (uint32_t)rnd(r);
	case 4: return 65536 + below(r, 1024);
	default: return 1 + below(r, 4096);
	}
}

/*
 * A user address the device might read or write through: inside the arena,
 * unmapped, the guard page, or kernel space.  Never other process memory.
 */
uint64_t pick_uaddr(struct slot *s, struct rng *r)
{
	switch (below(r, 8)) {
	case 0: return vg_gpa(s->guard);
	case 1: return UNMAPPED_BASE + ((rnd(r) % (1ULL << 40)) & ~4095ULL);
	case 2: return KERNEL_ADDR + ((rnd(r) & 0xfffffff) & ~4095ULL);
	case 3: return 0;
	default:
		return arena_lo(s) + ((rnd(r) % s->d.arena_size) &
				      (one_in(r, 4) ? ~0ULL : ~4095ULL));
	}
}

uint16_t pick_idx(struct rng *r, unsigned int num)
{
	switch (below(r, 8)) {
	case 0: return (uint16_t)(num + below(r, 4));
	case 1: return 0xffff;
	case 2: return (uint16_t)rnd(r);
	default: return (uint16_t)below(r, num);
	}
}

uint16_t pick_flags(struct rng *r)
{
	static const uint16_t f[] = {
		0, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
		VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE,
	};

	return one_in(r, 16) ? (uint16_t)rnd(r) : f[below(r, 7)];
}

/* ---- ops: hostile guest side ---- */
struct vg_vq *pick_vq(struct slot *s, struct rng *r)
{
	return &s->vq[below(r, s->nvq)];
}

static void op_desc(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	uint32_t len;

	if (vq->packed)
		return op_pdesc(s, r, vq);
	len = pick_len(r);
	vg_vq_raw_desc(vq, below(r, vq->num), pick_gpa(s, r, len), len,
		       pick_flags(r), pick_idx(r, vq->num));
}

/* A chain of plausible descriptors, maybe looping or overlong. */
static void op_chain(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	unsigned int n, i, start, q = vq->index & 1;
	bool wr_from, in_order;

	if (vq->packed)
		return op_pchain(s, r, vq);
	n = 1 + below(r, vq->num + 2);
	start = below(r, vq->num);
	wr_from = below(r, n + 1);
	/* In order, most chains start where the last one ended. */
	in_order = s->rings && vq->in_order && !one_in(r, 4);
	if (in_order) {
		start = s->io_next[q] % vq->num;
		s->io_last[q] = (uint16_t)start;
		s->io_next[q] = (uint16_t)((start + n) % vq->num);
	}

	for (i = 0; i < n; i++) {
		unsigned int idx = (start + i) % vq->num;
		uint16_t fl = (i + 1 < n || one_in(r, 8)) ? VRING_DESC_F_NEXT : 0;
		uint32_t len = one_in(r, 8) ? pick_len(r) : 1 + below(r, 2048);

		if (i >= wr_from || (s->net && vq->index == 0))
			fl |= VRING_DESC_F_WRITE;
		if (one_in(r, 16))
			fl ^= VRING_DESC_F_WRITE;	/* out after in */
		vg_vq_raw_desc(vq, idx,
			       one_in(r, 8) ? pick_gpa(s, r, len) :
			       vg_gpa(s->scratch) + below(r, DATA_LEN - 4096),
			       len, fl,
			       one_in(r, 8) ? pick_idx(r, vq->num) :
			       (uint16_t)((idx + 1) % vq->num));
	}
	vg_vq_raw_push(vq, (uint16_t)start);
	vg_vq_publish(vq);
}

static void op_indirect(struct slot *s, struct rng *r)
{
	static const uint32_t sizes[] = { 1, 2, 3, 16, 64, 1024, 1025, 65536, 65537 };
	struct vg_vq *vq = pick_vq(s, r);
	struct vring_desc *t = (struct vring_desc *)(s->scratch + TABLE_OFF);
	uint32_t n, i, tlen;
	unsigned int head;

	if (vq->packed)
		return op_pindirect(s, r, vq);
	n = one_in(r, 2) ? 1 + below(r, 8) : sizes[below(r, 9)];
	head = below(r, vq->num);
	if (s->rings && vq->in_order && !one_in(r, 4)) {
		head = s->io_next[vq->index & 1] % vq->num;
		s->io_last[vq->index & 1] = (uint16_t)head;
		s->io_next[vq->index & 1] = (uint16_t)((head + 1) % vq->num);
	}

	for (i = 0; i < n; i++) {
		uint32_t len = one_in(r, 8) ? pick_len(r) : 1 + below(r, 2048);
		uint16_t fl = (i + 1 < n) ? VRING_DESC_F_NEXT : 0;

		if (s->net && vq->index == 0)
			fl |= VRING_DESC_F_WRITE;
		if (one_in(r, 12))
			fl = pick_flags(r);
		t[i].addr = one_in(r, 8) ? pick_gpa(s, r, len) :
			    vg_gpa(s->scratch) + below(r, DATA_LEN - 4096);
		t[i].len = len;
		t[i].flags = fl;
		t[i].next = one_in(r, 8) ? pick_idx(r, n) : (uint16_t)(i + 1);
	}
	tlen = n * 16;
	switch (below(r, 8)) {
	case 0: tlen += 1 + below(r, 15); break;	/* not a multiple of 16 */
	case 1: tlen = 0; break;
	case 2: tlen = pick_len(r); break;
	}
	vg_vq_raw_desc(vq, head, one_in(r, 10) ? pick_gpa(s, r, tlen) : vg_gpa(t),
		       tlen, VRING_DESC_F_INDIRECT |
		       (one_in(r, 10) ? VRING_DESC_F_NEXT : 0), 0);
	vg_vq_raw_push(vq, (uint16_t)head);
	vg_vq_publish(vq);
}

static void op_avail(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);

	if (vq->packed)
		return op_pavail(s, r, vq);
	switch (below(r, 6)) {
	case 0:		/* jump by more than the ring */
		vq->avail_idx += vq->num + 1 + below(r, 100);
		break;
	case 1:
		vq->avail_idx -= 1 + below(r, 3);
		break;
	case 2:
		vq->avail_idx = (uint16_t)rnd(r);
		break;
	default:
		vg_vq_raw_push(vq, pick_idx(r, vq->num));
	}
	vg_vq_publish(vq);
}

/* Well-formed traffic: fill free-looking descriptors with good buffers. */
static void op_traffic(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	unsigned int n, i;

	if (vq->packed)
		return op_ptraffic(s, r, vq);
	/* In order, well-formed traffic is in order. */
	if (s->rings && vq->in_order)
		return op_inorder_vq(s, r, vq);
	n = 1 + below(r, vq->num);
	for (i = 0; i < n; i++) {
		unsigned int h = below(r, vq->num);
		uint8_t *b = s->scratch + (below(r, 64) * 4096);
		uint32_t len = 60 + below(r, 1500);

		if (s->net && vq->index == 1) {		/* TX frame */
			memset(b, 0, s->hlen);
			vg_frame_make(b + s->hlen, len, h);
			vg_vq_raw_desc(vq, h, vg_gpa(b), s->hlen + len, 0, 0);
		} else if (s->net) {			/* RX buffer */
			vg_vq_raw_desc(vq, h, vg_gpa(b), 4096,
				       VRING_DESC_F_WRITE, 0);
		} else if (h + 1 < vq->num) {		/* echo out + in */
			vg_vq_raw_desc(vq, h, vg_gpa(b), len,
				       VRING_DESC_F_NEXT, h + 1);
			vg_vq_raw_desc(vq, h + 1, vg_gpa(b) + 2048, len,
				       VRING_DESC_F_WRITE, 0);
		}
		vg_vq_raw_push(vq, (uint16_t)h);
	}
	vg_vq_publish(vq);
	vg_vq_notify(vq);
}

static void op_inject(struct slot *s, struct rng *r)
{
	static __thread uint8_t f[9018];
	size_t len;
	unsigned int i, n = 1 + below(r, 16);

	if (!s->net || s->pkt < 0)
		return;
	for (i = 0; i < n; i++) {
		len = one_in(r, 4) ? 1500 + below(r, 9000 - 1500) :
		      VG_ETH_HLEN + below(r, 1500);
		vg_frame_make(f, len, (unsigned int)len);
		vg_frame_inject(s->pkt, s->ifname, f, len);
	}
}

/* Random bytes over the rings themselves (the guest owns that memory). */
static void op_scribble(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	unsigned int n, i;

	if (vq->packed)
		return op_pscribble(s, r, vq);
	n = 1 + below(r, 8);
	for (i = 0; i < n; i++) {
		switch (below(r, 5)) {
		case 0:
			((uint8_t *)vq->desc)[below(r, 16 * vq->num)] = (uint8_t)rnd(r);
			break;
		case 1:
			vq->avail->idx = (uint16_t)(vq->avail->idx + below(r, 3));
			break;
		case 2:
			vq->avail->ring[below(r, vq->num)] = pick_idx(r, vq->num);
			break;
		case 3:
			vq->avail->flags = (uint16_t)below(r, 2);
			vq->avail->ring[vq->num] = (uint16_t)rnd(r); /* used_event */
			break;
		case 4:
			((uint8_t *)vq->used)[below(r, 6 + 8 * vq->num)] = (uint8_t)rnd(r);
			break;
		}
	}
}

static void op_kick(struct slot *s, struct rng *r)
{
	vg_vq_notify(pick_vq(s, r));
}

/* Reap completions (driver thread only: vguest's shadow state). */
static void op_reap(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	int64_t n;

	if (vq->packed)
		op_preap(s, r, vq);
	else
		vq->last_used = vg_vq_used_idx(vq);
	vg_read_eventfd(vq->call_fd);
	n = vg_read_eventfd(vq->err_fd);
	if (n > 0)
		s->err_signals += (uint64_t)n;
	if (s->d.log && one_in(r, 4))
		vg_log_clear(&s->d);
}

/* ---- ops: VMM side ---- */
static void op_iotlb(struct slot *s, struct rng *r)
{
	struct vhost_msg_v2 m;
	uint64_t iova, size;

	switch (below(r, 6)) {
	case 0:		/* answer pending misses with the identity map */
		while (vg_iotlb_read(&s->d, &m, 0) > 0 &&
		       m.iotlb.type == VHOST_IOTLB_MISS)
			vg_iotlb_update(&s->d, arena_lo(s), s->d.arena_size,
					arena_lo(s), VHOST_ACCESS_RW);
		break;
	case 1:		/* invalidate part of guest memory, maybe the rings */
		iova = arena_lo(s) + ((rnd(r) % s->d.arena_size) & ~4095ULL);
		vg_iotlb_invalidate(&s->d, iova, 4096ULL << below(r, 12));
		break;
	case 2:		/* map something odd */
		size = one_in(r, 4) ? rnd(r) : 4096ULL << below(r, 12);
		vg_iotlb_update(&s->d, pick_gpa(s, r, 4096), size,
				pick_uaddr(s, r), (uint8_t)below(r, 5));
		break;
	case 3: {	/* malformed writes */
		uint8_t junk[80];
		size_t i;

		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)rnd(r);
		if (one_in(r, 2))
			*(uint32_t *)junk = one_in(r, 2) ? VHOST_IOTLB_MSG_V2 :
					    VHOST_IOTLB_MSG;
		if (write(s->d.fd, junk, below(r, sizeof(junk) + 1)) < 0)
			; /* errors expected */
		break;
	}
	case 4:		/* invalidate everything */
		vg_iotlb_invalidate(&s->d, 0, ~0ULL);
		break;
	default:	/* restore the identity map */
		vg_iotlb_update(&s->d, arena_lo(s), s->d.arena_size,
				arena_lo(s), VHOST_ACCESS_RW);
	}
}

int ring_ioctl(struct slot *s, unsigned long nr, unsigned int index,
		      unsigned int num)
{
	struct vhost_vring_state st = { .index = index, .num = num };

	return ioctl(s->d.fd, nr, &st);
}

static void op_mem_table(struct slot *s, struct rng *r)
{
	struct vhost_memory_region reg[8];
	unsigned int n = below(r, 9), i;
	uint64_t lo = arena_lo(s);

	if (one_in(r, 3)) {		/* identity, split into pieces */
		uint64_t cut = (rnd(r) % s->d.arena_size) & ~4095ULL;

		if (!cut)
			cut = 4096;
		reg[0] = (struct vhost_memory_region){ lo, cut, lo, 0 };
		reg[1] = (struct vhost_memory_region){ lo + cut,
			s->d.arena_size - cut, lo + cut, 0 };
		vg_set_mem_regions(&s->d, reg, one_in(r, 4) ? 1 : 2);
		return;
	}
	if (one_in(r, 3)) {
		vg_set_mem_table(&s->d);
		return;
	}
	for (i = 0; i < n; i++) {
		reg[i].guest_phys_addr = one_in(r, 2) ? lo + (rnd(r) % s->d.arena_size) :
					 rnd(r);
		reg[i].memory_size = one_in(r, 4) ? rnd(r) :
				     4096ULL << below(r, 12);
		reg[i].userspace_addr = pick_uaddr(s, r);
		reg[i].flags_padding = one_in(r, 8) ? rnd(r) : 0;
	}
	vg_set_mem_regions(&s->d, reg, n);
}

static void op_vring_addr(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	struct vhost_vring_addr a = {
		.index = one_in(r, 8) ? below(r, 300) : vq->index,
		.flags = below(r, 2) ? VHOST_VRING_F_LOG : (uint32_t)below(r, 4),
		.desc_user_addr = vg_gpa(vq->desc),
		.avail_user_addr = vg_gpa(vq->avail),
		.used_user_addr = vg_gpa(vq->used),
		.log_guest_addr = one_in(r, 2) ? vg_gpa(vq->used) : pick_gpa(s, r, 64),
	};

	if (vq->packed) {
		a.desc_user_addr = vg_gpa(vq->pdesc);
		a.avail_user_addr = vg_gpa(vq->pdriver);
		a.used_user_addr = vg_gpa(vq->pdevice);
		if (a.log_guest_addr == 0)
			a.log_guest_addr = vg_gpa(vq->pdevice);
	}

	switch (below(r, 5)) {
	case 0: a.desc_user_addr = pick_uaddr(s, r) + below(r, 2) * 2; break;
	case 1: a.avail_user_addr = pick_uaddr(s, r) + below(r, 2); break;
	case 2: a.used_user_addr = pick_uaddr(s, r) + below(r, 2) * 2; break;
	}
	ioctl(s->d.fd, VHOST_SET_VRING_ADDR, &a);
}

static void op_vring_file(struct slot *s, struct rng *r)
{
	static const unsigned long nrs[] = {
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR,
	};
	struct vg_vq *vq = pick_vq(s, r);
	struct vhost_vring_file f = { .index = vq->index };
	int tmp = -1;

	switch (below(r, 5)) {
	case 0: f.fd = -1; break;
	case 1: f.fd = s->d.fd; break;			/* not an eventfd */
	case 2: f.fd = vg_closed_fd(); break;
	case 3: f.fd = tmp = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); break;
	default:					/* put ours back */
		f.fd = below(r, 3) == 0 ? vq->kick_fd :
		       below(r, 2) ? vq->call_fd : vq->err_fd;
	}
	if (one_in(r, 8))
		f.index = below(r, 300);
	ioctl(s->d.fd, nrs[below(r, 3)], &f);
	if (tmp >= 0)
		close(tmp);	/* the device keeps its own reference */
}

static void op_backend(struct slot *s, struct rng *r)
{
	int fd = -1, tmp = -1;

	if (!s->net) {
		int run = below(r, 3);

		if (one_in(r, 3))
			vg_test_set_backend(&s->d, below(r, 3),
					    one_in(r, 2) ? s->d.fd : -1);
		else
			ioctl(s->d.fd, VHOST_TEST_RUN, &run);
		return;
	}
	switch (below(r, 6)) {
	case 0: fd = -1; break;
	case 1: fd = tmp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); break;
	case 2: fd = tmp = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); break;
	case 3: fd = s->d.fd; break;
	case 4: {	/* a second tap, closed right after the swap */
		char name[IFNAMSIZ] = "";

		fd = tmp = vg_tap_open(name, 12, 0);
		break;
	}
	default: fd = s->tap;
	}
	vg_net_set_backend(&s->d, one_in(r, 8) ? below(r, 4) : below(r, 2), fd);
	if (tmp >= 0)
		close(tmp);
}

static void op_ioctl(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	unsigned int idx = one_in(r, 8) ? below(r, 300) : vq->index;
	uint64_t v;

	switch (below(r, 16)) {
	case 0: ring_ioctl(s, VHOST_SET_VRING_NUM, idx,
			   one_in(r, 2) ? 1u << below(r, 17) : (uint32_t)rnd(r));
		break;
	case 1: ring_ioctl(s, VHOST_SET_VRING_BASE, idx,
			   one_in(r, 2) ? below(r, 65536) : (uint32_t)rnd(r));
		break;
	case 2: ring_ioctl(s, VHOST_GET_VRING_BASE, idx, 0); break;
	case 3: op_vring_addr(s, r); break;
	case 4: op_vring_file(s, r); break;
	case 5: op_mem_table(s, r); break;
	case 6:
		v = one_in(r, 3) ? rnd(r) : s->features ^
		    (VG_F(VHOST_F_LOG_ALL) * below(r, 2)) ^
		    (VG_F(VIRTIO_RING_F_EVENT_IDX) * below(r, 2));
		ioctl(s->d.fd, VHOST_SET_FEATURES, &v);
		break;
	case 7:
		v = one_in(r, 2) && s->d.log ? s->d.log_base : pick_uaddr(s, r);
		ioctl(s->d.fd, VHOST_SET_LOG_BASE, &v);
		break;
	case 8:
		ring_ioctl(s, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, idx,
			   one_in(r, 4) ? (uint32_t)rnd(r) : below(r, 200));
		break;
	case 9: ring_ioctl(s, VHOST_SET_VRING_ENDIAN, idx, below(r, 3)); break;
	case 10: {
		struct vhost_worker_state w = { .worker_id = below(r, 4) };
		struct vhost_vring_worker vw = { .index = idx,
						 .worker_id = below(r, 4) };

		switch (below(r, 4)) {
		case 0: ioctl(s->d.fd, VHOST_NEW_WORKER, &w); break;
		case 1: ioctl(s->d.fd, VHOST_FREE_WORKER, &w); break;
		case 2: ioctl(s->d.fd, VHOST_ATTACH_VRING_WORKER, &vw); break;
		default: ioctl(s->d.fd, VHOST_GET_VRING_WORKER, &vw);
		}
		break;
	}
	case 11: op_backend(s, r); break;
	case 12:
		v = one_in(r, 2) ? VG_F(VHOST_BACKEND_F_IOTLB_MSG_V2) : rnd(r);
		ioctl(s->d.fd, VHOST_SET_BACKEND_FEATURES, &v);
		break;
	case 13: {
		struct vhost_msg_v2 m;
		char small[8];

		if (read(s->d.fd, one_in(r, 4) ? (void *)small : (void *)&m,
			 one_in(r, 4) ? sizeof(small) : sizeof(m)) < 0)
			; /* EAGAIN expected */
		break;
	}
	case 14: {
		int fd = one_in(r, 2) ? s->d.log_fd : -1;

		ioctl(s->d.fd, VHOST_SET_LOG_FD, &fd);
		break;
	}
	default:
		ioctl(s->d.fd, VHOST_GET_FEATURES, &v);
	}
}

/*
 * --faults (a kernel with failslab and fail-nth): an operation of the
 * driver thread may run with the n-th slab allocation of its system calls
 * failing (/proc/thread-self/fail-nth), n drawn like any other value, so
 * a guided input that reached an error path is mutated into its
 * neighbours.  Only the driver thread: the set-up and the health checks
 * never run armed.
 */
#define FAILSLAB_DIR	"/sys/kernel/debug/failslab/"

static __thread int nth_fd = -1;

static void failslab_write(const char *name, const char *val)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), FAILSLAB_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		;
	close(fd);
}

/* Allocations that may sleep fail too (failslab skips them by default). */
static int faults_init(void)
{
	if (access("/proc/self/fail-nth", W_OK) ||
	    access(FAILSLAB_DIR "ignore-gfp-wait", W_OK))
		return -ENOENT;
	failslab_write("ignore-gfp-wait", "N");
	failslab_write("verbose", "0");
	return 0;
}

static void faults_exit(void)
{
	failslab_write("ignore-gfp-wait", "Y");
}

static void nth_write(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	if (nth_fd < 0)
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd >= 0 && pwrite(nth_fd, b, l, 0) < 0)
		;
}

typedef void (*op_fn)(struct slot *, struct rng *);

/* One driver operation, with an allocation failing now and then. */
static void run_op(const op_fn op, struct slot *s, struct rng *r)
{
	unsigned int n = 0;

	if (opt_faults && one_in(r, 4))
		n = 1 + below(r, 16);
	if (n)
		nth_write(n);
	op(s, r);
	if (n)
		nth_write(0);
}

/* Driver thread: everything, weighted towards the rings. */
static const op_fn driver_ops[] = {
	op_desc, op_desc, op_chain, op_chain, op_indirect, op_avail,
	op_traffic, op_traffic, op_traffic, op_kick, op_kick, op_reap,
	op_inject, op_inject, op_iotlb, op_ioctl, op_ioctl, op_scribble,
};
/* Chaos thread: no vguest shadow state, races with the driver. */
static const op_fn chaos_ops[] = {
	op_scribble, op_scribble, op_kick, op_iotlb, op_ioctl, op_ioctl,
	op_inject, op_mem_table, op_backend, op_vring_file,
};
/*
 * Rounds that draw their ring format (s->rings): the same, plus in-order
 * traffic, event suppression, packed bases and sizes, and restarts
 * (packed.c).  Separate tables, so that version 1 tapes replay alike.
 */
static const op_fn driver_ops_rings[] = {
	op_desc, op_desc, op_chain, op_chain, op_indirect, op_avail,
	op_traffic, op_traffic, op_traffic, op_kick, op_kick, op_reap,
	op_inject, op_inject, op_iotlb, op_ioctl, op_ioctl, op_scribble,
	op_inorder, op_event, op_vring_base, op_reprogram,
};
static const op_fn chaos_ops_rings[] = {
	op_scribble, op_scribble, op_kick, op_iotlb, op_ioctl, op_ioctl,
	op_inject, op_mem_table, op_backend, op_vring_file, op_vring_base,
};

#define N_OPS(t)	(sizeof(t) / sizeof((t)[0]))

static void *chaos_thread(void *arg)
{
	struct slot *s = arg;
	struct cover_thread *ct = cover_thread_start();

	while (!atomic_load(&s->chaos_stop)) {
		if (s->rings)
			chaos_ops_rings[below(&s->cr, N_OPS(chaos_ops_rings))](s, &s->cr);
		else
			chaos_ops[below(&s->cr, N_OPS(chaos_ops))](s, &s->cr);
		if (one_in(&s->cr, 4))
			usleep(below(&s->cr, 2000));
	}
	s->chaos_new = cover_thread_stop(ct);
	return NULL;
}

/* ---- set-up, health check ---- */
static uint64_t round_seed(unsigned int slot, long round)
{
	struct rng r = { opt_seed ^ (0x51ed270b27ULL * (slot + 1)) };
	uint64_t x = rnd(&r);

	r.s = x ^ ((uint64_t)round * 0x2545f4914f6cdd1dULL);
	return rnd(&r);
}

static void slot_close(struct slot *s)
{
	unsigned int i;

	vg_close(&s->d);	/* the device first: it may be mid-traffic */
	for (i = 0; i < 2; i++)
		vg_vq_free(&s->vq[i]);
	if (s->pkt >= 0)
		close(s->pkt);
	if (s->tap >= 0)
		close(s->tap);
	s->pkt = s->tap = -1;
}

int start_backend(struct slot *s)
{
	int r;

	if (!s->net)
		return vg_test_start(&s->d);
	r = vg_net_set_backend(&s->d, 0, s->tap);
	return r ? r : vg_net_set_backend(&s->d, 1, s->tap);
}

void stop_backend(struct slot *s)
{
	if (!s->net) {
		vg_test_stop(&s->d);
		return;
	}
	vg_net_set_backend(&s->d, 0, -1);
	vg_net_set_backend(&s->d, 1, -1);
}

/*
 * Open and configure the device for this round: @sane picks the plain
 * configuration the health check uses (no IOTLB, no log).
 */
static int slot_open(struct slot *s, struct rng *r, bool sane)
{
	const char *path = s->net ? VG_VHOSTX_NET : VG_VHOSTX_TEST;
	uint64_t offered = 0, want;
	unsigned int i, num = sane ? 64 : 1u << below(r, 9);
	int ret;

	memset(&s->d, 0, sizeof(s->d));
	memset(s->vq, 0, sizeof(s->vq));
	for (i = 0; i < 2; i++)
		s->vq[i].kick_fd = s->vq[i].call_fd = s->vq[i].err_fd = -1;
	s->tap = s->pkt = -1;
	s->iotlb = s->logging = false;
	s->nvq = s->net ? 2 : 1;

	ret = vg_open(&s->d, path, ARENA);
	if (ret)
		return ret;
	/* read() of IOTLB messages must never block the fuzzer. */
	fcntl(s->d.fd, F_SETFL, fcntl(s->d.fd, F_GETFL) | O_NONBLOCK);
	ret = vg_set_owner(&s->d);
	if (!ret)
		ret = vg_get_features(&s->d, &offered);
	if (ret)
		return ret;
	want = sane ? offered & (VG_F(VIRTIO_F_VERSION_1) |
				 VG_F(VIRTIO_RING_F_INDIRECT_DESC))
		    : offered & rnd(r);
	if (!sane && one_in(r, 3))
		want |= offered & VG_F(VIRTIO_F_ACCESS_PLATFORM);
	if (!sane && one_in(r, 3))
		want |= offered & VG_F(VHOST_F_LOG_ALL);
	if (sane)
		want &= ~(VG_F(VIRTIO_F_ACCESS_PLATFORM) | VG_F(VHOST_F_LOG_ALL));
	/*
	 * The ring format: packed in half the rounds that draw it (not in
	 * version 1 tapes, recorded when the fuzzer wrote split rings only).
	 * One format for the device: a started queue keeps its own, so
	 * the queues of a device share it.  IN_ORDER comes with the random
	 * feature set above.  A random VHOST_SET_FEATURES or op_reprogram()
	 * may still switch a stopped device's format under the rings.
	 */
	want &= ~VG_F(VIRTIO_F_RING_PACKED);
	if (!sane && s->rings && one_in(r, 2))
		want |= offered & VG_F(VIRTIO_F_RING_PACKED);
	s->iotlb = want & VG_F(VIRTIO_F_ACCESS_PLATFORM);
	if (s->iotlb) {
		uint64_t bf = VG_F(VHOST_BACKEND_F_IOTLB_MSG_V2);

		vg_set_backend_features(&s->d, bf);
	}
	ret = vg_set_features(&s->d, want);
	if (ret)
		return ret;
	s->features = want;
	s->hlen = want & (VG_F(VIRTIO_NET_F_MRG_RXBUF) | VG_F(VIRTIO_F_VERSION_1)) ? 12 : 10;
	ret = vg_set_mem_table(&s->d);
	for (i = 0; !ret && i < s->nvq; i++) {
		/* Packed: any size, per queue; drawn rounds: any base. */
		unsigned int n = want & VG_F(VIRTIO_F_RING_PACKED) ?
				 pick_num_packed(r) : num;
		uint16_t base = !sane && s->rings && one_in(r, 4) ?
				(uint16_t)rnd(r) : 0;

		ret = vg_vq_setup(&s->d, &s->vq[i], i, n, base);
	}
	s->io_next[0] = s->io_next[1] = s->io_last[0] = s->io_last[1] = 0;
	if (ret)
		return ret;
	s->scratch = vg_alloc(&s->d, SCRATCH_LEN, 4096);
	/* The last arena page becomes the guard: unmapped for the device. */
	s->guard = s->d.arena + s->d.arena_size - 4096;
	if (!s->scratch || s->scratch + SCRATCH_LEN > s->guard)
		return -ENOMEM;
	mprotect(s->guard, 4096, PROT_NONE);
	if (s->iotlb) {
		ret = vg_iotlb_update(&s->d, arena_lo(s), s->d.arena_size,
				      arena_lo(s), VHOST_ACCESS_RW);
		if (ret)
			return ret;
	}
	if (want & VG_F(VHOST_F_LOG_ALL)) {
		s->logging = true;
		ret = vg_log_setup(&s->d);
		for (i = 0; !ret && i < s->nvq; i++)
			ret = vg_vq_set_addr(&s->vq[i], VHOST_VRING_F_LOG,
					     s->vq[i].packed ?
					     vg_gpa(s->vq[i].pdevice) :
					     vg_gpa(s->vq[i].used));
		if (ret)
			return ret;
	}
	if (s->net) {
		s->ifname[0] = 0;
		/* The tap's vnet header as the features say (the VMM's job). */
		s->tap = vg_tap_open(s->ifname,
				      want & VG_F(VHOST_NET_F_VIRTIO_NET_HDR) ? 0 :
				      (int)s->hlen, 0);
		if (s->tap < 0)
			return s->tap;
		if (!sane && one_in(r, 2)) {	/* room for jumbo frames */
			struct ifreq ifr = { 0 };
			int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

			snprintf(ifr.ifr_name, IFNAMSIZ, "%s", s->ifname);
			ifr.ifr_mtu = 9000;
			if (sk >= 0) {
				ioctl(sk, SIOCSIFMTU, &ifr);
				close(sk);
			}
		}
		s->pkt = vg_packet_socket(s->ifname, VG_ETH_P);
		if (s->pkt < 0)
			return s->pkt;
	}
	return start_backend(s);
}

/* One well-formed transfer on every queue, byte-exact for the echo device. */
static __thread const char *xfer_step;

static int transfer_ok(struct slot *s, int ms)
{
	uint8_t *g = s->scratch + GOOD_OFF;
	uint8_t *out = g, *in = g + 8192;
	struct vg_vq *vq;
	struct timespec t0, t1;
	unsigned int slot = 0, tries;
	uint32_t len = 0;
	void *cookie;
	int h, i;

	xfer_step = "echo";
	if (!s->net) {
		vq = &s->vq[0];
		vg_fill(out, 1000, 77);
		memset(in, 0, 1000);
		h = vg_vq_add_buf(vq, out, 1000, in, 1000, out);
		if (h < 0)
			return -1000 + h;
		vg_vq_kick(vq);
		if (!vg_vq_wait_used(vq, 1, opt_timeout_ms))
			return -ETIMEDOUT;
		if (vg_vq_get_used(vq, &len, &cookie) != h || len != 1000)
			return -EPROTO;
		return vg_check(in, 1000, 77, 0) < 0 ? 0 : -EILSEQ;
	}
	/* TX: one frame must complete. */
	xfer_step = "tx";
	vq = &s->vq[1];
	memset(out, 0, s->hlen);
	vg_frame_make(out + s->hlen, 100, 5);
	h = vg_vq_add_buf(vq, out, (uint32_t)s->hlen + 100, NULL, 0, out);
	if (h < 0)
		return -1000 + h;
	vg_vq_kick(vq);
	if (!vg_vq_wait_used(vq, 1, ms))
		return -ETIMEDOUT;
	if (vg_vq_get_used(vq, NULL, NULL) != h)
		return -EPROTO;
	/*
	 * RX: a frame through the tap must land in a buffer.  Frames the
	 * round injected may still fill the tap's queue (and make it drop
	 * ours): keep a few buffers posted, reap, and inject again now and
	 * then, until ours shows up.
	 */
	xfer_step = "rx";
	vq = &s->vq[0];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (tries = 0; ; tries++) {
		unsigned int want = vq->num < 4 ? vq->num : 4;

		while (vq->num - vq->num_free < want) {
			uint8_t *b = in + (slot++ % 4) * 8192;

			h = vg_vq_add_buf(vq, NULL, 0, b, 8192, b);
			if (h < 0)
				return -1000 + h;
		}
		vg_vq_kick(vq);
		if (tries % 8 == 0) {
			vg_frame_make(out, 200, 6);
			if (vg_frame_inject(s->pkt, s->ifname, out, 200) && tries > 64)
				return -EIO;
		}
		vg_vq_wait_used(vq, 1, 50);
		while (vg_vq_get_used(vq, &len, &cookie) >= 0) {
			static const size_t off[] = { 0, 10, 12, 22, 24 };

			for (i = 0; cookie && i < 5; i++)
				if (len == off[i] + 200 &&
				    vg_frame_ok((uint8_t *)cookie + off[i], 200, 6))
					return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return -ETIMEDOUT;
	}
}

/*
 * What the rounds did to each ring format, from the queues' own counters
 * (fdinfo, read before the recovery resets them): buffers used and
 * queues stopped by a guest error, and the err eventfd signals read.
 * Indexed [packed][in order] by the features the round negotiated.
 */
static atomic_ulong rf_rounds[2][2], rf_bufs[2][2], rf_errors[2][2],
		    rf_signals[2][2], rf_ms[2][2];

/* @t0: when the round started (its operations' time is counted). */
static void ring_stats(struct slot *s, double t0)
{
	unsigned int p = !!(s->features & VG_F(VIRTIO_F_RING_PACKED));
	unsigned int o = !!(s->features & VG_F(VIRTIO_F_IN_ORDER));
	struct vg_stats st;
	uint64_t v;
	unsigned int i;
	int64_t n;

	atomic_fetch_add(&rf_rounds[p][o], 1);
	atomic_fetch_add(&rf_ms[p][o], (unsigned long)((elapsed() - t0) * 1000));
	for (i = 0; i < s->nvq; i++) {
		n = vg_read_eventfd(s->vq[i].err_fd);
		if (n > 0)
			s->err_signals += (uint64_t)n;
	}
	atomic_fetch_add(&rf_signals[p][o], s->err_signals);
	if (vg_stats_read(&st, s->d.fd))
		return;
	for (i = 0; i < s->nvq; i++) {
		if (!vg_stats_get(&st, i, "bufs", &v))
			atomic_fetch_add(&rf_bufs[p][o], v);
		if (!vg_stats_get(&st, i, "errors", &v))
			atomic_fetch_add(&rf_errors[p][o], v);
	}
}

static void ring_stats_print(void)
{
	static const char *const name[2][2] = {
		{ "split", "split in-order" }, { "packed", "packed in-order" },
	};
	unsigned int p, o;

	for (p = 0; p < 2; p++)
		for (o = 0; o < 2; o++)
			if (atomic_load(&rf_rounds[p][o]))
				say("%s rings: %lu rounds (%.0f s), %lu buffers used, %lu queues "
				    "stopped by a guest error, %lu err eventfd signals",
				    name[p][o], atomic_load(&rf_rounds[p][o]),
				    atomic_load(&rf_ms[p][o]) / 1000.0,
				    atomic_load(&rf_bufs[p][o]),
				    atomic_load(&rf_errors[p][o]),
				    atomic_load(&rf_signals[p][o]));
}

/* Why in-place recovery failed (counted, printed at the end). */
enum { RS_OWNER, RS_FEATURES, RS_MEM, RS_VRING, RS_IOTLB, RS_START,
       RS_TRANSFER, RS_MAX };
static const char *const rs_name[RS_MAX] = {
	"owner", "features", "mem-table", "vring", "iotlb", "start", "transfer",
};
static atomic_ulong rs_count[RS_MAX];

/*
 * Put the device back into a sane state in place; 0 if it then works.
 * The negotiated features stay (an IOTLB, once set up, stays in use as in
 * the kernel's vhost: it is re-mapped instead), except the dirty log.
 */
static int recover_in_place(struct slot *s)
{
	uint64_t bf = s->iotlb ? VG_F(VHOST_BACKEND_F_IOTLB_MSG_V2) : 0;
	unsigned int i;
	int r, stage;

	vg_set_owner(&s->d);			/* in case of RESET_OWNER */
	stop_backend(s);
	stage = RS_FEATURES;
	vg_set_backend_features(&s->d, bf);
	r = vg_set_features(&s->d, s->features & ~VG_F(VHOST_F_LOG_ALL));
	if (r == -EPERM)
		stage = RS_OWNER;
	if (!r) {
		stage = RS_MEM;
		r = vg_set_mem_table(&s->d);
	}
	for (i = 0; !r && i < s->nvq; i++) {
		stage = RS_VRING;
		ring_ioctl(s, VHOST_SET_VRING_ENDIAN, i, VHOST_VRING_LITTLE_ENDIAN);
		ring_ioctl(s, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, i, 0);
		r = vg_vq_program(&s->vq[i], 0);
	}
	if (!r && s->iotlb) {
		struct vhost_msg_v2 m;

		stage = RS_IOTLB;
		while (vg_iotlb_read(&s->d, &m, 0) > 0)
			;		/* stale misses */
		/* Stale odd entries may overlap: drop everything, as a VMM
		 * resetting its vIOMMU would, then map guest memory again. */
		vg_iotlb_invalidate(&s->d, 0, ~0ULL);
		r = vg_iotlb_update(&s->d, arena_lo(s), s->d.arena_size,
				    arena_lo(s), VHOST_ACCESS_RW);
	}
	if (!r) {
		stage = RS_START;
		r = start_backend(s);
	}
	if (!r) {
		stage = RS_TRANSFER;
		r = transfer_ok(s, (int)opt_timeout_ms / 4);
	}
	if (r) {
		atomic_fetch_add(&rs_count[stage], 1);
		if (opt_verbose)
			say("slot %u round %ld: in-place recovery failed at %s%s%s: %s"
			    " (%s, num %u, features %#llx)",
			    s->id, s->round, rs_name[stage],
			    stage == RS_TRANSFER ? " " : "",
			    stage == RS_TRANSFER ? xfer_step : "",
			    strerror(r < -1000 ? -(r + 1000) : -r),
			    s->net ? "net" : "test", s->vq[0].num,
			    (unsigned long long)s->features);
		if (opt_verbose > 1) {
			char path[64], line[256];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", s->d.fd);
			f = fopen(path, "re");
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "vhostx", 6))
					fprintf(stderr, "    %s", line);
			if (f)
				fclose(f);
		}
	}
	return r;
}

/* The module still answers: a fresh open works end to end. */
static int fresh_device_ok(struct slot *s, struct rng *r)
{
	int ret;

	slot_close(s);
	ret = slot_open(s, r, true);
	if (!ret)
		ret = transfer_ok(s, (int)opt_timeout_ms);
	slot_close(s);
	return ret;
}

static int run_round(struct slot *s, long round)
{
	double t0 = elapsed();
	unsigned int nops, i;
	pthread_t chaos;
	bool have_chaos;
	int ret;

	s->round = round;
	s->chaos_new = 0;
	s->err_signals = 0;
	s->rings = !s->taped || s->in.version >= 2;
	s->in.n_ops = 0;	/* until the operations run */
	/*
	 * On a tape (guided mode, replays) the generators replay the input's
	 * values and record the ones the round draws beyond them; otherwise
	 * they are plain generators seeded from (seed, slot, round).
	 */
	s->r.tape = s->taped ? s->in.d : NULL;
	s->r.len = s->taped ? s->in.nd : 0;
	s->r.record = s->taped;
	s->cr.tape = s->taped ? s->in.c : NULL;
	s->cr.len = s->taped ? s->in.nc : 0;
	s->cr.record = s->taped;
	rng_restart(&s->r, s->taped ? s->in.seed : round_seed(s->id, round));
	s->net = opt_net && (!opt_test || one_in(&s->r, 2));
	if (s->net && access(VG_VHOSTX_NET, F_OK)) {
		s->net = false;
		atomic_fetch_add(&n_skipped_net, 1);
	}
	/* The chaos seed is the value the driver draws next (not consumed). */
	rng_restart(&s->cr, rnd_peek(&s->r) ^ 0xc4a05);
	ret = slot_open(s, &s->r, false);
	if (ret) {
		/* A random feature set may be refused; not a failure. */
		if (opt_verbose)
			say("slot %u round %ld: set-up refused (%s)", s->id,
			    round, strerror(-ret));
		slot_close(s);
		ret = fresh_device_ok(s, &s->r);
		goto check;
	}
	s->in.nops_at = s->r.pos;
	nops = TAPE_NOPS_MIN + below(&s->r, TAPE_NOPS_SPAN);
	atomic_store(&s->chaos_stop, false);
	have_chaos = !one_in(&s->r, 4) &&
		     !pthread_create(&chaos, NULL, chaos_thread, s);
	for (i = 0; i < nops && !time_up(); i++) {
		/* Where each operation's values start (taped rounds). */
		s->in.op_at[i] = s->r.pos;
		run_op(s->rings ?
		       driver_ops_rings[below(&s->r, N_OPS(driver_ops_rings))] :
		       driver_ops[below(&s->r, N_OPS(driver_ops))],
		       s, &s->r);
		if (one_in(&s->r, 64) && !s->net)
			vg_reset_owner(&s->d);		/* rare: owner reset mid-round */
		if (one_in(&s->r, 8))
			usleep(below(&s->r, 1000));
	}
	s->in.op_at[i] = s->r.pos;
	s->in.n_ops = s->taped ? i : 0;
	s->ops += i;
	atomic_fetch_add(&n_ops, i);
	atomic_store(&s->chaos_stop, true);
	if (have_chaos)
		pthread_join(chaos, NULL);
	ring_stats(s, t0);

	if (!recover_in_place(s)) {
		atomic_fetch_add(&n_inplace, 1);
		slot_close(s);
		if (!one_in(&s->r, 8))
			return 0;
		/* Now and then also prove the module answers a fresh open. */
		ret = fresh_device_ok(s, &s->r);
	} else {
		atomic_fetch_add(&n_reopen, 1);
		ret = fresh_device_ok(s, &s->r);
	}
check:
	if (ret) {
		say("FAIL: slot %u round %ld (%s): a fresh device does not work: %s"
		    " (replay: --seed %" PRIu64 " --replay %u:%ld)", s->id, round,
		    s->net ? "net" : "test", strerror(ret < -1000 ? -(ret + 1000) : -ret),
		    opt_seed, s->id, round);
		return -1;
	}
	return 0;
}

/* ---- kernel reports (guided mode and tape replays) ---- */
static int kmsg_fd = -1;

/* Start watching the kernel log from its current end. */
static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

/* A kernel report since the last call (what the VM runner also fails on)? */
static bool kmsg_report(void)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "KASAN", "UBSAN", "general protection",
		"possible circular locking", "possible recursive locking",
		"inconsistent lock state", "suspicious RCU usage",
		"blocked for more than", "unreferenced object",
	};
	char rec[8192];
	bool found = false;
	ssize_t n;
	size_t i;

	if (kmsg_fd < 0)
		return false;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(rec, bad[i]))
				found = true;
	}
	return found;
}

/* Keep the input of a failing round where a regression test can use it. */
static void save_failing(struct slot *s, const char *why)
{
	const char *dir = opt_repro_dir ? opt_repro_dir : opt_guided;
	char path[4096];

	if (!dir || !s->taped)
		return;
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s-%" PRIu64 "-%u-%ld.tape", dir, why,
		 opt_seed, s->id, s->round);
	if (tape_save(path, &s->in))
		say("cannot save %s", path);
	else
		say("input saved: %s (replay: vhostx_fuzz --run-tape %s)", path, path);
}

/* After a taped round: the tapes hold what it consumed. */
static void tape_trim(struct slot *s)
{
	s->in.nd = s->r.pos;
	s->in.nc = s->cr.pos;
}

/*
 * Guided mode: each round runs either a fresh input or a mutation of a
 * corpus entry (corpus.c); an input that reached an edge no earlier round
 * reached joins the corpus.  Which of the two a round runs follows what
 * each has paid lately: new edges per second of the rounds that ran it
 * (sums that decay by 1 % a round, so the share follows the run's
 * phases), within 1/8 and 7/8, so that neither stops being tried.  The
 * draws come from a generator seeded by --seed, so the same seed and
 * corpus directory give the same inputs as long as the same inputs reach
 * the same new edges in about the same time (the threads' interleaving
 * and the machine may change that).
 */
struct arm {
	double edges, secs;
};

static struct arm arm_fresh = { 1, 1 }, arm_mutate = { 1, 1 };

static double arm_rate(const struct arm *a)
{
	return a->edges / a->secs;
}

/* Parts in 1024 of the rounds that run a mutation. */
static unsigned int mutate_share(void)
{
	double f = arm_rate(&arm_fresh), m = arm_rate(&arm_mutate);
	unsigned int share;

	if (!(f + m > 0))
		return 512;	/* neither paid anything for long */
	share = (unsigned int)(1024 * m / (f + m));

	if (share < 128)
		share = 128;
	if (share > 896)
		share = 896;
	return share;
}

static void arm_paid(struct arm *played, double edges, double secs)
{
	arm_fresh.edges *= 0.99;
	arm_fresh.secs *= 0.99;
	arm_mutate.edges *= 0.99;
	arm_mutate.secs *= 0.99;
	played->edges += edges;
	played->secs += secs;
}

static int guided_round(struct slot *s, struct rng *sched, long round,
			struct cover_thread *ct)
{
	unsigned long fresh;
	double t0 = elapsed();
	bool new_input;
	int ret;

	/*
	 * Always a new input while the corpus is empty (nothing to mutate);
	 * the draw is made either way, so a seed's schedule stays the same.
	 */
	new_input = below(sched, 1024) >= mutate_share();
	if (new_input || !corpus_size()) {
		new_input = true;
		s->in.seed = round_seed(s->id, round);
		s->in.nd = s->in.nc = 0;
		s->in.version = TAPE_VERSION;
	} else {
		corpus_mutate(sched, &s->in);
	}
	s->in.devs = (opt_test ? TAPE_DEV_TEST : 0) | (opt_net ? TAPE_DEV_NET : 0);
	ret = run_round(s, round);
	tape_trim(s);
	fresh = cover_thread_collect(ct) + cover_remote_collect() + s->chaos_new;
	arm_paid(new_input ? &arm_fresh : &arm_mutate, (double)fresh,
		 elapsed() - t0);
	if (new_input)
		n_fresh_rounds++;
	if (kmsg_report()) {
		say("FAIL: slot %u round %ld: the kernel reported a problem", s->id, round);
		save_failing(s, "kernel");
		return -1;
	}
	if (ret) {
		save_failing(s, "recover");
		return ret;
	}
	if (fresh && corpus_add(&s->in) && opt_verbose)
		say("corpus: cannot keep an input");
	return 0;
}

static unsigned int slot0_id;
static double next_report = 30;

static void *slot_thread(void *arg)
{
	struct slot *s = arg;
	struct cover_thread *ct = cover_thread_start();
	struct rng sched = { .s = opt_seed ^ 0x9a1dedULL ^ s->id };
	long round;
	int ret;

	for (round = opt_replay_round >= 0 ? opt_replay_round : 0; ; round++) {
		if (opt_replay_round >= 0 && round > opt_replay_round)
			break;
		if (opt_rounds >= 0 && round >= opt_rounds)
			break;
		if (opt_replay_round < 0 && time_up())
			break;
		if (opt_verbose)
			say("slot %u round %ld", s->id, round);
		if (opt_guided) {
			ret = guided_round(s, &sched, round, ct);
		} else {
			ret = run_round(s, round);
			cover_thread_collect(ct);
			cover_remote_collect();
		}
		if (ret) {
			atomic_store(&failed, 1);
			atomic_store(&stop_all, true);
			break;
		}
		atomic_fetch_add(&n_rounds, 1);
		if (cover_on() && s->id == slot0_id && elapsed() >= next_report) {
			unsigned long e, re, pcs;

			cover_counts(&e, &re, &pcs);
			say("%4.0f s: %lu edges, %lu PCs, %lu rounds, corpus %lu, %lu fresh",
			    elapsed(), e, pcs, atomic_load(&n_rounds), corpus_size(),
			    n_fresh_rounds);
			next_report += 30;
		}
	}
	cover_thread_stop(ct);
	return NULL;
}

/*
 * --run-tape: replay saved inputs (a file, or every *.tape of a directory,
 * in name order), one round each; any failure or kernel report fails.
 */
static int run_tapes(struct slot *s)
{
	struct dirent **names = NULL;
	char path[4096];
	struct stat st;
	int n = 1, i, bad = 0, ret;

	if (stat(opt_run_tape, &st)) {
		say("%s: %s", opt_run_tape, strerror(errno));
		return 2;
	}
	if (S_ISDIR(st.st_mode)) {
		n = scandir(opt_run_tape, &names, NULL, alphasort);
		if (n < 0)
			return 2;
	}
	for (i = 0; i < n; i++) {
		const char *name = names ? names[i]->d_name : opt_run_tape;
		size_t len = strlen(name);

		if (names) {
			if (len < 6 || strcmp(name + len - 5, ".tape"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", opt_run_tape, name);
		} else {
			snprintf(path, sizeof(path), "%s", name);
		}
		if (tape_load(path, &s->in)) {
			say("%s: not a tape", path);
			bad++;
			continue;
		}
		opt_test = s->in.devs & TAPE_DEV_TEST;
		opt_net = s->in.devs & TAPE_DEV_NET;
		s->taped = true;
		ret = run_round(s, 0);
		tape_trim(s);	/* the values the round consumed */
		if (ret || kmsg_report()) {
			say("FAIL: %s", path);
			bad++;
		} else {
			say("ok: %s (%u + %u values)", path, s->in.nd, s->in.nc);
		}
	}
	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	return bad ? 1 : 0;
}

/*
 * If the run overstays its budget by far, something is stuck (in the kernel
 * or here): say where every slot is, have the kernel dump blocked tasks,
 * and fail.
 */
static struct slot *wd_slots;
static unsigned int wd_nslots;

static void *watchdog_thread(void *arg)
{
	unsigned int grace = 60 + 6 * opt_timeout_ms / 1000, i;
	int fd;

	(void)arg;
	while (elapsed() < opt_seconds + grace)
		sleep(1);
	for (i = 0; i < wd_nslots; i++)
		say("STUCK: slot %u in round %ld (%s), %lu ops done; replay: --seed %"
		    PRIu64 " --replay %u:%ld", wd_slots[i].id, wd_slots[i].round,
		    wd_slots[i].net ? "net" : "test", wd_slots[i].ops, opt_seed,
		    wd_slots[i].id, wd_slots[i].round);
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "w", 1) < 0)
			;
		close(fd);
	}
	fflush(NULL);
	_exit(3);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vhostx_fuzz [--seed N] [--seconds S] [--threads T] [--dev test|net|both]\n"
		"                   [--rounds N] [--replay SLOT:ROUND] [--timeout-ms MS] [-v]\n"
		"                   [--cover] [--guided CORPUS_DIR] [--repro-dir DIR] [--faults]\n"
		"       vhostx_fuzz --run-tape FILE|DIR [--dev ...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct slot *slots;
	pthread_t *th, wd;
	unsigned int i, nslots;
	int a;

	for (a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(argv[a], "-v") || !strcmp(argv[a], "-vv")) {
			opt_verbose = argv[a][2] ? 2 : 1;
			continue;
		}
		if (!strcmp(argv[a], "--cover")) {
			opt_cover = true;
			continue;
		}
		if (!strcmp(argv[a], "--faults")) {
			opt_faults = true;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(argv[a], "--seed"))
			opt_seed = strtoull(v, NULL, 0);
		else if (!strcmp(argv[a], "--seconds"))
			opt_seconds = (unsigned int)strtoul(v, NULL, 0);
		else if (!strcmp(argv[a], "--threads"))
			opt_threads = (unsigned int)strtoul(v, NULL, 0);
		else if (!strcmp(argv[a], "--rounds"))
			opt_rounds = strtol(v, NULL, 0);
		else if (!strcmp(argv[a], "--guided"))
			opt_guided = v;
		else if (!strcmp(argv[a], "--run-tape"))
			opt_run_tape = v;
		else if (!strcmp(argv[a], "--repro-dir"))
			opt_repro_dir = v;
		else if (!strcmp(argv[a], "--timeout-ms"))
			opt_timeout_ms = (unsigned int)strtoul(v, NULL, 0);
		else if (!strcmp(argv[a], "--replay")) {
			if (sscanf(v, "%d:%ld", &opt_replay_slot, &opt_replay_round) != 2)
				usage();
		} else if (!strcmp(argv[a], "--dev")) {
			opt_test = !strcmp(v, "test") || !strcmp(v, "both");
			opt_net = !strcmp(v, "net") || !strcmp(v, "both");
			if (!opt_test && !opt_net)
				usage();
		} else
			usage();
		a++;
	}
	if (!opt_threads || opt_threads > 64)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (opt_test && access(VG_VHOSTX_TEST, F_OK)) {
		say("%s not present: skipping", VG_VHOSTX_TEST);
		return 4;
	}
	if (!opt_test && access(VG_VHOSTX_NET, F_OK)) {
		say("%s not present: skipping", VG_VHOSTX_NET);
		return 4;
	}
	if (opt_net && access("/dev/net/tun", F_OK))
		opt_net = false;

	if (opt_guided)
		opt_threads = 1;	/* one corpus, one writer */
	nslots = opt_replay_slot >= 0 || opt_run_tape ? 1 : opt_threads;
	slots = calloc(nslots, sizeof(*slots));
	th = calloc(nslots, sizeof(*th));
	if (!slots || !th)
		return 1;
	/* Before any other thread: they inherit the KCOV common handle. */
	if (opt_cover || opt_guided) {
		int ret = cover_init();

		if (ret) {
			say("no KCOV coverage (%s): needs a kernel with CONFIG_KCOV, "
			    "debugfs and the modules built with VHOSTX_COVERAGE=y",
			    strerror(-ret));
			return 1;
		}
	}
	if (opt_faults && faults_init()) {
		say("no fault injection: needs a kernel with CONFIG_FAILSLAB and "
		    "CONFIG_FAULT_INJECTION_DEBUG_FS, debugfs mounted");
		return 1;
	}
	if (opt_faults)
		atexit(faults_exit);
	if (opt_guided || opt_run_tape) {
		for (i = 0; i < nslots; i++)
			if (tape_alloc(&slots[i].in))
				return 1;
		kmsg_open();
	}
	if (opt_run_tape) {
		clock_gettime(CLOCK_MONOTONIC, &t_start);
		opt_seconds = UINT_MAX / 2;	/* a replay is never cut short */
		slots[0].tap = slots[0].pkt = -1;
		a = run_tapes(&slots[0]);
		ring_stats_print();
		return a;
	}
	if (opt_guided) {
		long n = corpus_load(opt_guided);

		if (n < 0) {
			say("%s: %s", opt_guided, strerror((int)-n));
			return 1;
		}
		say("guided: %ld inputs loaded from %s", n, opt_guided);
		slots[0].taped = true;
	}
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	say("seed %" PRIu64 ", %u s, %u slot(s) x 2 threads, devices:%s%s%s%s",
	    opt_seed, opt_seconds, nslots, opt_test ? " test" : "",
	    opt_net ? " net" : "", opt_guided ? ", guided" :
	    opt_cover ? ", coverage" : "", opt_faults ? ", faults" : "");
	wd_slots = slots;
	wd_nslots = nslots;
	if (opt_replay_round < 0 && pthread_create(&wd, NULL, watchdog_thread, NULL))
		return 1;
	slot0_id = opt_replay_slot >= 0 ? (unsigned int)opt_replay_slot : 0;
	for (i = 0; i < nslots; i++) {
		slots[i].id = opt_replay_slot >= 0 ? (unsigned int)opt_replay_slot : i;
		slots[i].tap = slots[i].pkt = -1;
		if (pthread_create(&th[i], NULL, slot_thread, &slots[i])) {
			say("cannot start a thread");
			return 1;
		}
	}
	for (i = 0; i < nslots; i++)
		pthread_join(th[i], NULL);
	say("seed %" PRIu64 ": %lu iterations (rounds), %lu operations in %.0f s; "
	    "recovered in place %lu, needed a fresh open %lu%s; %s",
	    opt_seed, atomic_load(&n_rounds), atomic_load(&n_ops), elapsed(),
	    atomic_load(&n_inplace), atomic_load(&n_reopen),
	    atomic_load(&n_skipped_net) ? " (net device absent: test only)" : "",
	    atomic_load(&failed) ? "FAILED" : "ok");
	ring_stats_print();
	for (i = 0; i < RS_MAX; i++)
		if (atomic_load(&rs_count[i]))
			say("in-place recovery failed at %s: %lu", rs_name[i],
			    atomic_load(&rs_count[i]));
	if (cover_on()) {
		unsigned long e, re, pcs;

		cover_remote_collect();
		cover_counts(&e, &re, &pcs);
		say("coverage: %lu edges (%lu first seen in the workers), %lu PCs "
		    "of the modules (KCOV) in %.0f s, corpus %lu inputs",
		    e, re, pcs, elapsed(), corpus_size());
	}
	printf("vhostx_fuzz: %lu iterations\n", atomic_load(&n_rounds));
	return atomic_load(&failed) ? 1 : 0;
}
