// SPDX-License-Identifier: GPL-2.0
/*
 * vguest: userspace virtio driver (split rings here, packed rings in
 * vguest_packed.c) for exercising vhost devices.
 * See vguest.h for the memory model and conventions.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vguest.h"
#include "vguest_packed.h"

#define VG_PAGE		4096UL
/* Arena alignment: one log bitmap byte covers 8 pages, so aligning the arena
 * to 8 pages makes bit 0 of byte 0 of the bitmap the first arena page. */
#define VG_ARENA_ALIGN	(2UL << 20)

#define vg_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

static int vg_err(void)
{
	return errno ? -errno : -EIO;
}

static int vg_ioctl(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) < 0 ? vg_err() : 0;
}

/* ------------------------------------------------------------------ */
/* data patterns and descriptors                                        */
/* ------------------------------------------------------------------ */

/** vg_fill() - write the deterministic byte pattern of @seed into @buf. */
void vg_fill(void *buf, size_t len, unsigned int seed)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/**
 * vg_check() - compare @buf with the pattern of @seed, starting @pat_off
 * bytes into the pattern.
 * Return: the index of the first byte that differs, or -1.
 */
long vg_check(const void *buf, size_t len, unsigned int seed, size_t pat_off)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		size_t k = i + pat_off;

		if (p[i] != (uint8_t)(seed * 31 + k * 7 + (k >> 8)))
			return (long)i;
	}
	return -1;
}

/** vg_now_us() - CLOCK_MONOTONIC in microseconds. */
int64_t vg_now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/** vg_closed_fd() - a descriptor number that is certainly not open. */
int vg_closed_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 1000);

	if (fd >= 0)
		close(fd);
	return fd >= 0 ? fd : 1000;
}

/* ------------------------------------------------------------------ */
/* device                                                               */
/* ------------------------------------------------------------------ */

/**
 * vg_open() - open a vhost device and map guest memory for it.
 * @arena_size: bytes of guest memory (0 = VG_DEFAULT_ARENA), rounded up to
 *              a page.  The arena is zero-filled and 2 MiB aligned.
 */
int vg_open(struct vg_dev *d, const char *path, size_t arena_size)
{
	size_t map_len;
	uint8_t *p;
	uintptr_t a;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->log_fd = -1;
	if (!arena_size)
		arena_size = VG_DEFAULT_ARENA;
	arena_size = (arena_size + VG_PAGE - 1) & ~(VG_PAGE - 1);

	/* Over-map and trim so the arena is VG_ARENA_ALIGN aligned. */
	map_len = arena_size + VG_ARENA_ALIGN;
	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return vg_err();
	a = ((uintptr_t)p + VG_ARENA_ALIGN - 1) & ~(VG_ARENA_ALIGN - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + map_len > a + arena_size)
		munmap((void *)(a + arena_size),
		       (uintptr_t)p + map_len - (a + arena_size));
	d->arena = (uint8_t *)a;
	d->arena_size = arena_size;

	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		int r = vg_err();

		munmap(d->arena, d->arena_size);
		d->arena = NULL;
		return r;
	}
	return 0;
}

/** vg_close() - close the device fd and release all memory. Idempotent. */
void vg_close(struct vg_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->log_fd >= 0)
		close(d->log_fd);
	d->log_fd = -1;
	if (d->log)
		munmap(d->log, d->log_size);
	d->log = NULL;
	if (d->arena)
		munmap(d->arena, d->arena_size);
	d->arena = NULL;
}

/**
 * vg_alloc() - carve zeroed guest memory out of the arena.
 * @align: power of two (0 means 8).  Returns NULL when the arena is full.
 */
void *vg_alloc(struct vg_dev *d, size_t size, size_t align)
{
	size_t off;

	if (!align)
		align = 8;
	off = (d->arena_off + align - 1) & ~(align - 1);
	if (off + size > d->arena_size || off + size < off)
		return NULL;
	d->arena_off = off + size;
	memset(d->arena + off, 0, size);
	return d->arena + off;
}

int vg_set_owner(struct vg_dev *d)
{
	return vg_ioctl(d->fd, VHOST_SET_OWNER, NULL);
}

int vg_reset_owner(struct vg_dev *d)
{
	return vg_ioctl(d->fd, VHOST_RESET_OWNER, NULL);
}

int vg_get_features(struct vg_dev *d, uint64_t *features)
{
	return vg_ioctl(d->fd, VHOST_GET_FEATURES, features);
}

int vg_set_features(struct vg_dev *d, uint64_t features)
{
	int r = vg_ioctl(d->fd, VHOST_SET_FEATURES, &features);

	if (!r)
		d->features = features;
	return r;
}

int vg_get_backend_features(struct vg_dev *d, uint64_t *features)
{
	return vg_ioctl(d->fd, VHOST_GET_BACKEND_FEATURES, features);
}

int vg_set_backend_features(struct vg_dev *d, uint64_t features)
{
	return vg_ioctl(d->fd, VHOST_SET_BACKEND_FEATURES, &features);
}

/** vg_set_mem_regions() - VHOST_SET_MEM_TABLE with arbitrary regions. */
int vg_set_mem_regions(struct vg_dev *d,
		       const struct vhost_memory_region *r, unsigned int n)
{
	struct vhost_memory *m;
	int ret;

	m = calloc(1, sizeof(*m) + n * sizeof(*r));
	if (!m)
		return -ENOMEM;
	m->nregions = n;
	if (n)
		memcpy(m->regions, r, n * sizeof(*r));
	ret = vg_ioctl(d->fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return ret;
}

/** vg_set_mem_table() - identity table: one region covering the arena. */
int vg_set_mem_table(struct vg_dev *d)
{
	struct vhost_memory_region r = {
		.guest_phys_addr = vg_gpa(d->arena),
		.memory_size = d->arena_size,
		.userspace_addr = vg_gpa(d->arena),
	};

	return vg_set_mem_regions(d, &r, 1);
}

/**
 * vg_dev_init() - vg_open(@path, @arena_size), then SET_OWNER, the
 * features @want (-EOPNOTSUPP unless the device offers all of them) and
 * the identity memory table, as QEMU does before the vrings.
 */
int vg_dev_init(struct vg_dev *d, const char *path, size_t arena_size,
		uint64_t want)
{
	uint64_t offered;
	int r = vg_open(d, path, arena_size);

	if (!r)
		r = vg_set_owner(d);
	if (!r)
		r = vg_get_features(d, &offered);
	if (!r && (want & ~offered))
		r = -EOPNOTSUPP;
	if (!r)
		r = vg_set_features(d, want);
	return r ? r : vg_set_mem_table(d);
}

/* ------------------------------------------------------------------ */
/* backends                                                             */
/* ------------------------------------------------------------------ */

int vg_test_run(struct vg_dev *d, int run)
{
	return vg_ioctl(d->fd, VHOST_TEST_RUN, &run);
}

/* VHOST_TEST_SET_BACKEND takes a struct vhost_vring_file despite its
 * _IOW(..., int) encoding, as upstream's vhost_test does. */
int vg_test_set_backend(struct vg_dev *d, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vg_ioctl(d->fd, VHOST_TEST_SET_BACKEND, &f);
}

int vg_test_start(struct vg_dev *d)
{
	int r = vg_test_set_backend(d, 0, d->fd);

	return r ? r : vg_test_run(d, 1);
}

/* RUN(0) stops every queue of upstream's vhost_test (and vhostx_test). */
int vg_test_stop(struct vg_dev *d)
{
	return vg_test_run(d, 0);
}

int vg_net_set_backend(struct vg_dev *d, unsigned int index, int fd)
{
	struct vhost_vring_file f = { .index = index, .fd = fd };

	return vg_ioctl(d->fd, VHOST_NET_SET_BACKEND, &f);
}

/* ------------------------------------------------------------------ */
/* eventfds                                                             */
/* ------------------------------------------------------------------ */

/**
 * vg_wait_readable() - wait up to @timeout_ms for @fd to be readable.
 * Returns 1 if it is, 0 on timeout, -errno.
 */
int vg_wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return vg_err();
	return r > 0;
}

int vg_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? vg_err() : fd;
}

/** vg_read_eventfd() - consume the counter: >0 count, 0 if none, -errno. */
int64_t vg_read_eventfd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == sizeof(v))
		return (int64_t)v;
	return errno == EAGAIN ? 0 : vg_err();
}

/**
 * vg_wait_eventfd() - wait up to @timeout_ms for a (non-blocking) eventfd
 * and consume it.  Returns the counter (>0), 0 on timeout, -errno.
 */
int64_t vg_wait_eventfd(int fd, int timeout_ms)
{
	int r = vg_wait_readable(fd, timeout_ms);

	return r > 0 ? vg_read_eventfd(fd) : r;
}

/* ------------------------------------------------------------------ */
/* virtqueue set-up                                                     */
/* ------------------------------------------------------------------ */

/**
 * vg_vq_init() - allocate rings (page aligned, each on its own pages so
 * dirty-log tests can tell them apart), slots and eventfds.  Issues no
 * ioctl.  Call vg_vq_program() (or use vg_vq_setup()) to hand it over.
 */
int vg_vq_init(struct vg_dev *d, struct vg_vq *vq, unsigned int index,
	       unsigned int num)
{
	memset(vq, 0, sizeof(*vq));
	vq->dev = d;
	vq->index = index;
	vq->num = num;
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	vq->packed = !!(d->features & VG_F(VIRTIO_F_RING_PACKED));
	/* Packed rings may have any size (2.8), split ones powers of 2. */
	if (!num || num > 32768 || (!vq->packed && (num & (num - 1))))
		return -EINVAL;

	vq->slots = calloc(num, sizeof(*vq->slots));
	if (vq->packed) {
		if (vgp_init(vq) || !vq->slots) {
			vg_vq_free(vq);
			return -ENOMEM;
		}
	} else {
		vq->desc = vg_alloc(d, 16UL * num, VG_PAGE);
		/* avail: flags, idx, ring[num], used_event */
		vq->avail = vg_alloc(d, 6 + 2UL * num, VG_PAGE);
		/* used: flags, idx, ring[num], avail_event */
		vq->used = vg_alloc(d, 6 + 8UL * num, VG_PAGE);
		if (!vq->desc || !vq->avail || !vq->used || !vq->slots) {
			free(vq->slots);
			vq->slots = NULL;
			return -ENOMEM;
		}
	}

	vq->kick_fd = vg_eventfd();
	vq->call_fd = vg_eventfd();
	vq->err_fd = vg_eventfd();
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0) {
		vg_vq_free(vq);
		return -EMFILE;
	}
	vg_vq_reset(vq, 0);
	return 0;
}

/**
 * vg_vq_reset() - forget everything in flight and zero the rings; both
 * avail->idx and used->idx start at @base (as after SET_VRING_BASE @base
 * on a fresh ring: the device reads used->idx when the queue starts).
 * Indirect tables already allocated are kept for reuse.  Packed: both
 * sides start at position @base modulo 2 * num (vguest_packed.c).
 */
void vg_vq_reset(struct vg_vq *vq, uint16_t base)
{
	unsigned int i;

	vq->calls = 0;
	vq->event_idx = !!(vq->dev->features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	vq->in_order = !!(vq->dev->features & (1ULL << VIRTIO_F_IN_ORDER));
	if (vq->packed) {
		vgp_reset(vq, base);
		vg_vq_enable_cb(vq);
		return;
	}
	memset(vq->desc, 0, 16UL * vq->num);
	memset(vq->avail, 0, 6 + 2UL * vq->num);
	memset(vq->used, 0, 6 + 8UL * vq->num);
	for (i = 0; i < vq->num; i++) {
		vq->desc[i].next = (uint16_t)(i + 1);
		vq->slots[i].cookie = NULL;
		vq->slots[i].ndesc = 0;
	}
	vq->free_head = 0;
	vq->num_free = vq->num;
	vq->avail->idx = base;
	vq->used->idx = base;
	vq->avail_idx = base;
	vq->kicked_idx = base;
	vq->last_used = base;
	vq->inflight_head = 0;
	vq->batch_id = -1;
	vq->batch_len = 0;
	vq->used_entries = 0;
	/* Like Linux' virtio_ring: ask for an interrupt at the next use. */
	vg_vq_enable_cb(vq);
}

void vg_vq_free(struct vg_vq *vq)
{
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	if (vq->err_fd >= 0)
		close(vq->err_fd);
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	free(vq->slots);
	vq->slots = NULL;
	vgp_free(vq);
}

int vg_vq_set_state(struct vg_vq *vq, unsigned long ioctl_nr, unsigned int num)
{
	struct vhost_vring_state s = { .index = vq->index, .num = num };

	return vg_ioctl(vq->dev->fd, ioctl_nr, &s);
}

int vg_vq_get_base(struct vg_vq *vq, unsigned int *base)
{
	struct vhost_vring_state s = { .index = vq->index };
	int r = vg_ioctl(vq->dev->fd, VHOST_GET_VRING_BASE, &s);

	if (!r)
		*base = s.num;
	return r;
}

int vg_vq_set_file(struct vg_vq *vq, unsigned long ioctl_nr, int fd)
{
	struct vhost_vring_file f = { .index = vq->index, .fd = fd };

	return vg_ioctl(vq->dev->fd, ioctl_nr, &f);
}

/**
 * vg_vq_set_addr() - VHOST_SET_VRING_ADDR for this vq's rings.
 * @flags: e.g. 1 << VHOST_VRING_F_LOG; @log_guest_addr: gpa of used ring
 * (packed: of the device area, as QEMU gives it).
 */
int vg_vq_set_addr(struct vg_vq *vq, unsigned int flags,
		   uint64_t log_guest_addr)
{
	struct vhost_vring_addr a = {
		.index = vq->index,
		.flags = flags,
		.desc_user_addr = vg_gpa(vq->desc),
		.avail_user_addr = vg_gpa(vq->avail),
		.used_user_addr = vg_gpa(vq->used),
		.log_guest_addr = log_guest_addr,
	};

	if (vq->packed) {
		a.desc_user_addr = vg_gpa(vq->pdesc);
		a.avail_user_addr = vg_gpa(vq->pdriver);
		a.used_user_addr = vg_gpa(vq->pdevice);
	}

	return vg_ioctl(vq->dev->fd, VHOST_SET_VRING_ADDR, &a);
}

/**
 * vg_vq_program() - reset driver state to @base and issue, in QEMU's order,
 * SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_KICK,
 * SET_VRING_CALL, SET_VRING_ERR.  Stops at the first failure.
 */
int vg_vq_program(struct vg_vq *vq, uint16_t base)
{
	int r;

	vg_vq_reset(vq, base);
	r = vg_vq_set_state(vq, VHOST_SET_VRING_NUM, vq->num);
	if (!r)
		r = vg_vq_set_state(vq, VHOST_SET_VRING_BASE,
				    vg_vq_driver_base(vq));
	if (!r)
		r = vg_vq_set_addr(vq, 0, 0);
	if (!r)
		r = vg_vq_set_file(vq, VHOST_SET_VRING_KICK, vq->kick_fd);
	if (!r)
		r = vg_vq_set_file(vq, VHOST_SET_VRING_CALL, vq->call_fd);
	if (!r)
		r = vg_vq_set_file(vq, VHOST_SET_VRING_ERR, vq->err_fd);
	return r;
}

int vg_vq_setup(struct vg_dev *d, struct vg_vq *vq, unsigned int index,
		unsigned int num, uint16_t base)
{
	int r = vg_vq_init(d, vq, index, num);

	return r ? r : vg_vq_program(vq, base);
}

/* ------------------------------------------------------------------ */
/* driver fast path                                                     */
/* ------------------------------------------------------------------ */

static void vg_fill_desc(struct vring_desc *d, const struct iovec *sg,
			 unsigned int n, unsigned int nout)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		d[i].addr = vg_gpa(sg[i].iov_base);
		d[i].len = (uint32_t)sg[i].iov_len;
		d[i].flags = i >= nout ? VRING_DESC_F_WRITE : 0;
		if (i + 1 < n)
			d[i].flags |= VRING_DESC_F_NEXT;
	}
}

static int vg_add_indirect(struct vg_vq *vq, const struct iovec *sg,
			   unsigned int n, unsigned int nout)
{
	uint16_t head = vq->free_head;
	struct vg_slot *s = &vq->slots[head];
	struct vring_desc *d = &vq->desc[head];
	unsigned int i;

	if (n > VG_INDIRECT_MAX)
		return -E2BIG;
	if (!s->indir) {
		s->indir = vg_alloc(vq->dev, VG_INDIRECT_MAX * sizeof(*d), 16);
		if (!s->indir)
			return -ENOMEM;
	}
	vg_fill_desc(s->indir, sg, n, nout);
	/* Within an indirect table, next is an index into the table. */
	for (i = 0; i + 1 < n; i++)
		s->indir[i].next = (uint16_t)(i + 1);

	vq->free_head = vq->in_order ? (uint16_t)((head + 1) % vq->num) : d->next;
	d->addr = vg_gpa(s->indir);
	d->len = n * sizeof(*d);
	d->flags = VRING_DESC_F_INDIRECT;
	s->ndesc = 1;
	return head;
}

static int vg_add_direct(struct vg_vq *vq, const struct iovec *sg,
			 unsigned int n, unsigned int nout)
{
	uint16_t head = vq->free_head, i = head, last = head;
	unsigned int k;

	for (k = 0; k < n; k++) {
		struct vring_desc *d = &vq->desc[i];

		d->addr = vg_gpa(sg[k].iov_base);
		d->len = (uint32_t)sg[k].iov_len;
		d->flags = k >= nout ? VRING_DESC_F_WRITE : 0;
		if (k + 1 < n)
			d->flags |= VRING_DESC_F_NEXT;
		last = i;
		if (vq->in_order)	/* the table in order, wrapping */
			d->next = (uint16_t)((i + 1) % vq->num);
		i = d->next;	/* free list is linked through next */
	}
	vq->free_head = vq->in_order ? i : vq->desc[last].next;
	vq->slots[head].ndesc = (uint16_t)n;
	return head;
}

/**
 * vg_vq_add() - queue one buffer chain (not yet visible to the device).
 * @sg: @nout device-readable segments followed by @nin device-writable ones.
 * @cookie: non-NULL token returned by vg_vq_get_used().
 * Returns the head index, -ENOSPC if the ring lacks descriptors, -EINVAL.
 */
int vg_vq_add(struct vg_vq *vq, const struct iovec *sg, unsigned int nout,
	      unsigned int nin, void *cookie, unsigned int flags)
{
	unsigned int n = nout + nin, k;
	int head;

	if (!n || !cookie)
		return -EINVAL;
	if (vq->packed)
		return vgp_add(vq, sg, nout, nin, cookie, flags);
	if (flags & VG_ADD_INDIRECT) {
		if (!vq->num_free)
			return -ENOSPC;
		head = vg_add_indirect(vq, sg, n, nout);
	} else {
		if (n > vq->num_free)
			return -ENOSPC;
		head = vg_add_direct(vq, sg, n, nout);
	}
	if (head < 0)
		return head;
	vq->num_free -= vq->slots[head].ndesc;
	vq->slots[head].cookie = cookie;
	vq->slots[head].in_len = 0;
	for (k = nout; k < n; k++)
		vq->slots[head].in_len += (uint32_t)sg[k].iov_len;
	vq->avail->ring[vq->avail_idx % vq->num] = (uint16_t)head;
	vq->avail_idx++;
	return head;
}

/** vg_vq_add_buf() - one out and/or one in segment (either may be empty). */
int vg_vq_add_buf(struct vg_vq *vq, void *out, uint32_t out_len,
		  void *in, uint32_t in_len, void *cookie)
{
	struct iovec sg[2];
	unsigned int nout = 0, nin = 0;

	if (out_len) {
		sg[0].iov_base = out;
		sg[0].iov_len = out_len;
		nout = 1;
	}
	if (in_len) {
		sg[nout].iov_base = in;
		sg[nout].iov_len = in_len;
		nin = 1;
	}
	return vg_vq_add(vq, sg, nout, nin, cookie, 0);
}

/** vg_vq_publish() - make added chains visible (store-release avail->idx). */
void vg_vq_publish(struct vg_vq *vq)
{
	if (vq->packed)
		return vgp_publish(vq);
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

/**
 * vg_vq_kick_needed() - does the device want a notification for what was
 * published since the last call?  Honours VRING_USED_F_NO_NOTIFY, or the
 * avail_event index with EVENT_IDX.
 */
bool vg_vq_kick_needed(struct vg_vq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;
	bool need;

	if (vq->packed)
		return vgp_kick_needed(vq);
	vg_mb();	/* avail->idx store before reading device's flags */
	if (vq->event_idx)
		need = vring_need_event(vg_vq_avail_event(vq), new, old);
	else
		need = !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) &
			 VRING_USED_F_NO_NOTIFY);
	vq->kicked_idx = new;
	return need;
}

/** vg_vq_notify() - unconditionally signal the kick eventfd. */
int vg_vq_notify(struct vg_vq *vq)
{
	uint64_t one = 1;

	return write(vq->kick_fd, &one, sizeof(one)) == sizeof(one) ?
		0 : vg_err();
}

/** vg_vq_kick() - publish, and notify if needed.  Returns 1 if notified. */
int vg_vq_kick(struct vg_vq *vq)
{
	int r;

	vg_vq_publish(vq);
	if (!vg_vq_kick_needed(vq))
		return 0;
	r = vg_vq_notify(vq);
	return r ? r : 1;
}

/* Packed: the buffers reaped and pending, counted from the base. */
uint16_t vg_vq_used_idx(struct vg_vq *vq)
{
	if (vq->packed)
		return (uint16_t)(vq->used_count + vgp_used_pending(vq));
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
}

/** vg_vq_used_pending() - used entries not yet reaped. */
unsigned int vg_vq_used_pending(struct vg_vq *vq)
{
	if (vq->packed)
		return vgp_used_pending(vq);
	return (uint16_t)(vg_vq_used_idx(vq) - vq->last_used);
}

static void vg_free_chain(struct vg_vq *vq, uint16_t head)
{
	struct vg_slot *s = &vq->slots[head];
	uint16_t i = head, k;

	if (vq->in_order) {
		/* Reaped in the order added: the next chain follows this one. */
		vq->inflight_head = (uint16_t)((head + s->ndesc) % vq->num);
		vq->num_free += s->ndesc;
		s->ndesc = 0;
		s->cookie = NULL;
		return;
	}
	/* Direct chains were built from the free list, so their descriptors
	 * are linked through next; re-link the tail to the free list. */
	for (k = 1; k < s->ndesc; k++)
		i = vq->desc[i].next;
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += s->ndesc;
	s->ndesc = 0;
	s->cookie = NULL;
}

/*
 * In order: reap the oldest buffer in flight.  A used entry stands for it
 * and every buffer added before its id, as the device batched them: the
 * last one gets the entry's len, the others were used whole.
 */
static int vg_get_used_in_order(struct vg_vq *vq, uint32_t *len,
				void **cookie)
{
	struct vring_used_elem *e;
	uint16_t id = vq->inflight_head;
	bool last;

	if (vg_vq_used_idx(vq) == vq->last_used)
		return -EAGAIN;
	if (vq->batch_id < 0) {
		e = &vq->used->ring[vq->last_used % vq->num];
		vq->used_entries++;
		if (e->id >= vq->num || !vq->slots[e->id].cookie) {
			vq->last_used++;
			return -EPROTO;
		}
		vq->batch_id = (int32_t)e->id;
		vq->batch_len = e->len;
	}
	last = id == vq->batch_id;
	if (len)
		*len = last ? vq->batch_len : vq->slots[id].in_len;
	vq->last_used++;
	if (last)
		vq->batch_id = -1;
	if (vq->event_idx && !(vq->avail->flags & VRING_AVAIL_F_NO_INTERRUPT))
		vg_vq_set_used_event(vq, vq->last_used);
	if (!vq->slots[id].cookie)
		return -EPROTO;
	if (cookie)
		*cookie = vq->slots[id].cookie;
	vg_free_chain(vq, id);
	return id;
}

/**
 * vg_vq_get_used() - reap one used buffer.
 * Returns the head id and fills @len/@cookie (either may be NULL), -EAGAIN
 * when nothing is pending, -EPROTO if the device returned an id that is
 * out of range or not in flight (the entry is then consumed).  In order,
 * one used entry may return several buffers, one per call.
 */
int vg_vq_get_used(struct vg_vq *vq, uint32_t *len, void **cookie)
{
	struct vring_used_elem *e;
	uint32_t id;

	if (vq->packed)
		return vgp_get_used(vq, len, cookie);
	if (vq->in_order)
		return vg_get_used_in_order(vq, len, cookie);
	if (vg_vq_used_idx(vq) == vq->last_used)
		return -EAGAIN;
	e = &vq->used->ring[vq->last_used % vq->num];
	vq->used_entries++;
	id = e->id;
	if (len)
		*len = e->len;
	vq->last_used++;
	if (vq->event_idx && !(vq->avail->flags & VRING_AVAIL_F_NO_INTERRUPT))
		vg_vq_set_used_event(vq, vq->last_used);
	if (id >= vq->num || !vq->slots[id].cookie)
		return -EPROTO;
	if (cookie)
		*cookie = vq->slots[id].cookie;
	vg_free_chain(vq, (uint16_t)id);
	return (int)id;
}

/**
 * vg_vq_enable_cb() - ask for a call at the next used buffer.
 * Returns true if used buffers are already pending (caller should reap).
 */
bool vg_vq_enable_cb(struct vg_vq *vq)
{
	if (vq->packed)
		return vgp_enable_cb(vq);
	vq->avail->flags &= ~VRING_AVAIL_F_NO_INTERRUPT;
	if (vq->event_idx)
		vg_vq_set_used_event(vq, vq->last_used);
	vg_mb();
	return vg_vq_used_pending(vq) != 0;
}

/**
 * vg_vq_disable_cb() - ask the device not to call.  Without EVENT_IDX this
 * sets VRING_AVAIL_F_NO_INTERRUPT; with it, used_event is parked half a
 * ring-index space away so the device's need_event test stays false.
 */
void vg_vq_disable_cb(struct vg_vq *vq)
{
	if (vq->packed)
		return vgp_disable_cb(vq);
	vq->avail->flags |= VRING_AVAIL_F_NO_INTERRUPT;
	if (vq->event_idx)
		vg_vq_set_used_event(vq, (uint16_t)(vq->last_used + 0x8000));
	vg_mb();
}

/**
 * vg_vq_wait_used() - wait until at least @count entries are pending.
 * Polls the call eventfd (consuming it) in short slices, so it also works
 * when calls are suppressed.  Returns pending count, or 0 on timeout.
 */
int vg_vq_wait_used(struct vg_vq *vq, unsigned int count, int timeout_ms)
{
	int64_t t0 = vg_now_us(), r;

	for (;;) {
		unsigned int n = vg_vq_used_pending(vq);

		if (n >= count)
			return (int)n;
		if (vg_now_us() - t0 >= (int64_t)timeout_ms * 1000)
			return 0;
		r = vg_wait_eventfd(vq->call_fd, 5);
		if (r > 0)
			vq->calls += (uint64_t)r;
	}
}

/**
 * vg_vq_calls() - take the number of calls (call eventfd signals) received
 * since the last vg_vq_calls(), including those vg_vq_wait_used() consumed
 * while waiting.  If none, waits up to @timeout_ms (0: just look).
 */
uint64_t vg_vq_calls(struct vg_vq *vq, int timeout_ms)
{
	int64_t r = vq->calls ? vg_read_eventfd(vq->call_fd) :
				vg_wait_eventfd(vq->call_fd, timeout_ms);
	uint64_t n = vq->calls + (r > 0 ? (uint64_t)r : 0);

	vq->calls = 0;
	return n;
}

/* ------------------------------------------------------------------ */
/* raw ring access                                                      */
/* ------------------------------------------------------------------ */

/** vg_vq_raw_desc() - write descriptor @i verbatim (i may be >= num). */
void vg_vq_raw_desc(struct vg_vq *vq, unsigned int i, uint64_t addr,
		    uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = &vq->desc[i];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/** vg_vq_raw_push() - put @head in the avail ring, bypassing bookkeeping.
 * Follow with vg_vq_publish()/vg_vq_notify(). */
void vg_vq_raw_push(struct vg_vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
}

/** vg_vq_raw_set_avail_idx() - store any value into avail->idx. */
void vg_vq_raw_set_avail_idx(struct vg_vq *vq, uint16_t idx)
{
	vq->avail_idx = idx;
	vg_vq_publish(vq);
}

/** vg_vq_avail_event() - device's avail_event (used->ring[num]). */
uint16_t vg_vq_avail_event(struct vg_vq *vq)
{
	uint16_t *p = (uint16_t *)&vq->used->ring[vq->num];

	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/**
 * vg_vq_device_wants_kick() - would the device want a kick for the next
 * buffer published (no NO_NOTIFY, avail_event at the avail index; packed:
 * ENABLE, or DESC at the next position)?
 */
bool vg_vq_device_wants_kick(struct vg_vq *vq)
{
	if (vq->packed)
		return vgp_device_wants_kick(vq);
	if (vq->event_idx)
		return vg_vq_avail_event(vq) == vq->avail_idx;
	return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) &
		 VRING_USED_F_NO_NOTIFY);
}

/**
 * vg_vq_driver_base() - the VHOST_SET/GET_VRING_BASE value of the driver's
 * position: the avail index; packed: the next descriptor to make
 * available with its wrap counter in the low 16 bits, the next used one
 * with its own in the high 16 bits.  Once every published buffer is used,
 * what GET_VRING_BASE must answer.
 */
uint32_t vg_vq_driver_base(struct vg_vq *vq)
{
	if (vq->packed)
		return vg_pos_base(vq, vq->avail_pos) |
		       vg_pos_base(vq, vq->used_pos) << 16;
	return vq->avail_idx;
}

/** vg_vq_set_used_event() - driver's used_event (avail->ring[num]). */
void vg_vq_set_used_event(struct vg_vq *vq, uint16_t ev)
{
	__atomic_store_n(&vq->avail->ring[vq->num], ev, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* dirty log                                                            */
/* ------------------------------------------------------------------ */

/**
 * vg_log_setup() - map a bitmap covering the arena, register it with
 * VHOST_SET_LOG_BASE and an eventfd with VHOST_SET_LOG_FD.
 *
 * vhost indexes the bitmap by guest physical page number from 0, and our
 * gpas are process addresses, so the base handed to the device is biased
 * down by arena/4096/8 bytes: the device then lands in our small bitmap
 * (the arena is aligned to 8 pages, so no bit offset is needed).
 */
int vg_log_setup(struct vg_dev *d)
{
	size_t pages = d->arena_size / VG_PAGE;
	int r;

	d->log_size = ((pages + 7) / 8 + VG_PAGE - 1) & ~(VG_PAGE - 1);
	d->log = mmap(NULL, d->log_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->log == MAP_FAILED) {
		d->log = NULL;
		return vg_err();
	}
	d->log_base = vg_gpa(d->log) - vg_gpa(d->arena) / VG_PAGE / 8;
	r = vg_ioctl(d->fd, VHOST_SET_LOG_BASE, &d->log_base);
	if (r)
		return r;
	d->log_fd = vg_eventfd();
	if (d->log_fd < 0)
		return d->log_fd;
	return vg_ioctl(d->fd, VHOST_SET_LOG_FD, &d->log_fd);
}

void vg_log_clear(struct vg_dev *d)
{
	memset(d->log, 0, d->log_size);
}

/** vg_log_test() - is the page holding @gpa (inside the arena) dirty? */
bool vg_log_test(struct vg_dev *d, uint64_t gpa)
{
	uint64_t pg = (gpa - vg_gpa(d->arena)) / VG_PAGE;

	if (gpa < vg_gpa(d->arena) || pg / 8 >= d->log_size)
		return false;
	return d->log[pg / 8] & (1u << (pg % 8));
}

/** vg_log_count() - number of dirty pages in the bitmap. */
unsigned long vg_log_count(struct vg_dev *d)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < d->log_size; i++)
		n += (unsigned long)__builtin_popcount(d->log[i]);
	return n;
}

/* ------------------------------------------------------------------ */
/* IOTLB                                                                */
/* ------------------------------------------------------------------ */

static int vg_iotlb_write(struct vg_dev *d, const struct vhost_iotlb_msg *m)
{
	struct vhost_msg_v2 msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.type = VHOST_IOTLB_MSG_V2;
	msg.iotlb = *m;
	n = write(d->fd, &msg, sizeof(msg));
	if (n < 0)
		return vg_err();
	return n == sizeof(msg) ? 0 : -EIO;
}

/** vg_iotlb_update() - map [iova, iova+size) to uaddr with @perm. */
int vg_iotlb_update(struct vg_dev *d, uint64_t iova, uint64_t size,
		    uint64_t uaddr, uint8_t perm)
{
	struct vhost_iotlb_msg m = {
		.iova = iova, .size = size, .uaddr = uaddr, .perm = perm,
		.type = VHOST_IOTLB_UPDATE,
	};

	return vg_iotlb_write(d, &m);
}

int vg_iotlb_invalidate(struct vg_dev *d, uint64_t iova, uint64_t size)
{
	struct vhost_iotlb_msg m = {
		.iova = iova, .size = size, .type = VHOST_IOTLB_INVALIDATE,
	};

	return vg_iotlb_write(d, &m);
}

/**
 * vg_iotlb_read() - wait up to @timeout_ms for a message on the device fd
 * and read it into @msg (which the caller may pre-fill to detect bytes the
 * device leaves untouched).  Returns bytes read, 0 on timeout, -errno.
 */
int vg_iotlb_read(struct vg_dev *d, struct vhost_msg_v2 *msg, int timeout_ms)
{
	int r = vg_wait_readable(d->fd, timeout_ms);
	ssize_t n;

	if (r <= 0)
		return r;
	n = read(d->fd, msg, sizeof(*msg));
	return n < 0 ? vg_err() : (int)n;
}
