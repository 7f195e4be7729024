// SPDX-License-Identifier: GPL-2.0
/*
 * compat_test: run the same QEMU-style set-up sequence, with its error
 * cases, against the kernel's own /dev/vhost-net (the reference) and a
 * vhostx device, and require identical results, step by step.
 *
 * Each step also carries the result upstream 6.1 gives (read from
 * drivers/vhost/vhost.c and net.c; 7.x's for the ioctls 6.17 added, with
 * the values it gives where they do not depend on the device's features);
 * the reference run is checked against it, so a wrong expectation shows
 * up as a reference failure rather than as a vhostx bug.  Without /dev/vhost-net the vhostx device is checked
 * against the expectations alone.
 *
 * Variants: vhostx_test (device-generic ioctls only), vhostx_net (generic +
 * VHOST_NET_SET_BACKEND / backend features), reference (vhost-net against
 * the expectations: validates this file on any kernel).
 */
#include <poll.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define MAX_STEPS	128

struct step {
	const char *name;
	int expect;		/* upstream 6.1 result: 0 or -errno */
	int ret;		/* what this device returned */
	uint64_t val;		/* returned value, when compare_val */
	bool compare_val;
	uint64_t expect_val;	/* upstream's value, when check_val */
	bool check_val;
};

struct run {
	struct step s[MAX_STEPS];
	int n;
};

static void rec(struct run *r, const char *name, int expect, int ret)
{
	if (r->n < MAX_STEPS)
		r->s[r->n++] = (struct step){ name, expect, ret, 0, false };
}

static void rec_val(struct run *r, const char *name, int expect, int ret,
		    uint64_t val)
{
	if (r->n < MAX_STEPS)
		r->s[r->n++] = (struct step){ name, expect, ret, val, true };
}

/* A step whose value upstream also gives: @want. */
static void rec_want(struct run *r, const char *name, int expect, int ret,
		     uint64_t val, uint64_t want)
{
	if (r->n < MAX_STEPS)
		r->s[r->n++] = (struct step){ name, expect, ret, val, true,
					      want, true };
}

static int xio(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) < 0 ? -errno : 0;
}

static int vring_state(int fd, unsigned long nr, unsigned int idx,
		       unsigned int num)
{
	struct vhost_vring_state s = { .index = idx, .num = num };

	return xio(fd, nr, &s);
}

static int vring_file(int fd, unsigned long nr, unsigned int idx, int efd)
{
	struct vhost_vring_file f = { .index = idx, .fd = efd };

	return xio(fd, nr, &f);
}

static int vring_addr(int fd, unsigned int idx, uint64_t desc, uint64_t avail,
		      uint64_t used, unsigned int flags, uint64_t log)
{
	struct vhost_vring_addr a = {
		.index = idx, .flags = flags, .desc_user_addr = desc,
		.avail_user_addr = avail, .used_user_addr = used,
		.log_guest_addr = log,
	};

	return xio(fd, VHOST_SET_VRING_ADDR, &a);
}

/* SET_MEM_TABLE with @n regions of one page each, carved from the arena. */
static int mem_pages(struct vg_dev *d, unsigned int n, uint32_t padding,
		     uint64_t size)
{
	struct vhost_memory *m = calloc(1, sizeof(*m) + n * sizeof(m->regions[0]));
	unsigned int i;
	int r;

	if (!m)
		return -ENOMEM;
	m->nregions = n;
	m->padding = padding;
	for (i = 0; i < n; i++) {
		m->regions[i].guest_phys_addr = vg_gpa(d->arena) + i * 8192ULL;
		m->regions[i].userspace_addr = vg_gpa(d->arena) + i * 8192ULL;
		m->regions[i].memory_size = size;
	}
	r = xio(d->fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	return r;
}

/* Run @nr on @fd from a forked child (a process that is not the owner). */
static int child_ioctl(int fd, unsigned long nr, void *arg)
{
	return VX_IN_CHILD(xio(fd, nr, arg));
}

#define UNKNOWN_IOCTL	_IOW(VHOST_VIRTIO, 0x7f, __u32)

/* Steps every vhost device shares (vq index 0 only). */
static void generic_seq(struct run *r, const char *path)
{
	struct vg_dev d;
	struct vhost_vring_state st = { 0 };
	uint64_t f = 0, v;
	uint32_t idx;
	int efd, bad_fd, kfd = 0;
	uint8_t *ring;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	efd = vg_eventfd();
	bad_fd = vg_closed_fd();
	ring = vg_alloc(&d, 3 * 4096, 4096);

	/* Before SET_OWNER only the feature ioctls work. */
	rec(r, "GET_FEATURES before owner", 0, xio(d.fd, VHOST_GET_FEATURES, &f));
	rec(r, "SET_MEM_TABLE before owner", -EPERM, vg_set_mem_table(&d));
	rec(r, "SET_VRING_NUM before owner", -EPERM,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));
	rec(r, "GET_VRING_BASE before owner", -EPERM,
	    xio(d.fd, VHOST_GET_VRING_BASE, &st));
	rec(r, "SET_VRING_KICK before owner", -EPERM,
	    vring_file(d.fd, VHOST_SET_VRING_KICK, 0, efd));
	rec(r, "SET_LOG_FD before owner", -EPERM,
	    xio(d.fd, VHOST_SET_LOG_FD, &efd));
	idx = 0;
	rec(r, "unknown ioctl before owner", -EPERM,
	    xio(d.fd, UNKNOWN_IOCTL, &idx));
	rec(r, "RESET_OWNER before owner", -EPERM,
	    xio(d.fd, VHOST_RESET_OWNER, NULL));

	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "SET_OWNER again", -EBUSY, xio(d.fd, VHOST_SET_OWNER, NULL));

	v = 1ULL << 50;
	rec(r, "SET_FEATURES unknown bit 50", -EOPNOTSUPP,
	    xio(d.fd, VHOST_SET_FEATURES, &v));
	v = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	rec(r, "SET_FEATURES VERSION_1|EVENT_IDX|INDIRECT", 0,
	    xio(d.fd, VHOST_SET_FEATURES, &v));

	rec(r, "SET_MEM_TABLE 65 regions", -E2BIG, mem_pages(&d, 65, 0, 4096));
	rec(r, "SET_MEM_TABLE padding != 0", -EOPNOTSUPP,
	    mem_pages(&d, 1, 1, 4096));
	rec(r, "SET_MEM_TABLE zero-size region", -EFAULT,
	    mem_pages(&d, 1, 0, 0));
	rec(r, "SET_MEM_TABLE 64 regions", 0, mem_pages(&d, 64, 0, 4096));
	rec(r, "SET_MEM_TABLE 0 regions", 0, mem_pages(&d, 0, 0, 4096));
	rec(r, "SET_MEM_TABLE identity", 0, vg_set_mem_table(&d));

	rec(r, "SET_VRING_NUM 0", -EINVAL,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 0));
	rec(r, "SET_VRING_NUM 3", -EINVAL,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 3));
	rec(r, "SET_VRING_NUM 65536", -EINVAL,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 65536));
	rec(r, "SET_VRING_NUM 32768", 0,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 32768));
	rec(r, "SET_VRING_NUM 256", 0,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));
	rec(r, "SET_VRING_NUM index 0xffff", -ENOBUFS,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0xffff, 256));

	rec(r, "SET_VRING_BASE 0x10000", -EINVAL,
	    vring_state(d.fd, VHOST_SET_VRING_BASE, 0, 0x10000));
	rec(r, "SET_VRING_BASE 7", 0,
	    vring_state(d.fd, VHOST_SET_VRING_BASE, 0, 7));
	st.index = 0;
	st.num = 0;
	rec_val(r, "GET_VRING_BASE", 0, xio(d.fd, VHOST_GET_VRING_BASE, &st),
		st.num);
	st.index = 0xffff;
	rec(r, "GET_VRING_BASE index 0xffff", -ENOBUFS,
	    xio(d.fd, VHOST_GET_VRING_BASE, &st));

	if (ring) {
		uint64_t b = vg_gpa(ring);

		rec(r, "SET_VRING_ADDR avail odd", -EINVAL,
		    vring_addr(d.fd, 0, b, b + 4097, b + 8192, 0, 0));
		rec(r, "SET_VRING_ADDR used %4 == 2", -EINVAL,
		    vring_addr(d.fd, 0, b, b + 4096, b + 8194, 0, 0));
		rec(r, "SET_VRING_ADDR log_guest_addr %4 == 2", -EINVAL,
		    vring_addr(d.fd, 0, b, b + 4096, b + 8192,
			       1 << VHOST_VRING_F_LOG, b + 8194));
		rec(r, "SET_VRING_ADDR unknown flag", -EOPNOTSUPP,
		    vring_addr(d.fd, 0, b, b + 4096, b + 8192, 2, 0));
		/* Upstream checks no alignment for the descriptor table. */
		rec(r, "SET_VRING_ADDR desc %16 == 8", 0,
		    vring_addr(d.fd, 0, b + 8, b + 4096, b + 8192, 0, 0));
		/* Not validated while the ring is stopped. */
		rec(r, "SET_VRING_ADDR kernel address, stopped", 0,
		    vring_addr(d.fd, 0, 0xffff888000000000ULL, b + 4096,
			       b + 8192, 0, 0));
		rec(r, "SET_VRING_ADDR good", 0,
		    vring_addr(d.fd, 0, b, b + 4096, b + 8192, 0, 0));
	}

	rec(r, "SET_VRING_KICK closed fd", -EBADF,
	    vring_file(d.fd, VHOST_SET_VRING_KICK, 0, bad_fd));
	rec(r, "SET_VRING_KICK not an eventfd", -EINVAL,
	    vring_file(d.fd, VHOST_SET_VRING_KICK, 0, d.fd));
	rec(r, "SET_VRING_KICK eventfd", 0,
	    vring_file(d.fd, VHOST_SET_VRING_KICK, 0, efd));
	rec(r, "SET_VRING_KICK unbind", 0,
	    vring_file(d.fd, VHOST_SET_VRING_KICK, 0, VHOST_FILE_UNBIND));
	rec(r, "SET_VRING_CALL closed fd", -EBADF,
	    vring_file(d.fd, VHOST_SET_VRING_CALL, 0, bad_fd));
	rec(r, "SET_VRING_CALL not an eventfd", -EINVAL,
	    vring_file(d.fd, VHOST_SET_VRING_CALL, 0, d.fd));
	rec(r, "SET_VRING_CALL eventfd", 0,
	    vring_file(d.fd, VHOST_SET_VRING_CALL, 0, efd));
	rec(r, "SET_VRING_ERR closed fd", -EBADF,
	    vring_file(d.fd, VHOST_SET_VRING_ERR, 0, bad_fd));
	rec(r, "SET_VRING_ERR not an eventfd", -EINVAL,
	    vring_file(d.fd, VHOST_SET_VRING_ERR, 0, d.fd));
	rec(r, "SET_VRING_ERR eventfd", 0,
	    vring_file(d.fd, VHOST_SET_VRING_ERR, 0, efd));
	rec(r, "SET_VRING_CALL index 0xffff", -ENOBUFS,
	    vring_file(d.fd, VHOST_SET_VRING_CALL, 0xffff, efd));

	rec(r, "SET_LOG_FD closed fd", -EBADF,
	    xio(d.fd, VHOST_SET_LOG_FD, &bad_fd));
	rec(r, "SET_LOG_FD not an eventfd", -EINVAL,
	    xio(d.fd, VHOST_SET_LOG_FD, &d.fd));
	rec(r, "SET_LOG_FD eventfd", 0, xio(d.fd, VHOST_SET_LOG_FD, &efd));
	kfd = VHOST_FILE_UNBIND;
	rec(r, "SET_LOG_FD unbind", 0, xio(d.fd, VHOST_SET_LOG_FD, &kfd));
	v = vg_gpa(d.arena);
	rec(r, "SET_LOG_BASE", 0, xio(d.fd, VHOST_SET_LOG_BASE, &v));

	rec(r, "SET_VRING_BUSYLOOP_TIMEOUT 50", 0,
	    vring_state(d.fd, VHOST_SET_VRING_BUSYLOOP_TIMEOUT, 0, 50));
	st.index = 0;
	st.num = 0;
	rec_val(r, "GET_VRING_BUSYLOOP_TIMEOUT", 0,
		xio(d.fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &st), st.num);

	/* Unknown ioctls fall through to the vring ioctls, which read a vq
	 * index from the argument first. */
	idx = 0;
	rec(r, "unknown ioctl, arg index 0", -ENOTTY,
	    xio(d.fd, UNKNOWN_IOCTL, &idx));
	idx = 0xffff;
	rec(r, "unknown ioctl, arg index 0xffff", -ENOBUFS,
	    xio(d.fd, UNKNOWN_IOCTL, &idx));
	rec(r, "unknown ioctl, NULL arg", -EFAULT,
	    xio(d.fd, UNKNOWN_IOCTL, NULL));

	/* Another process (same open file) is not the owner. */
	rec(r, "child GET_FEATURES", 0, child_ioctl(d.fd, VHOST_GET_FEATURES, &f));
	rec(r, "child SET_OWNER", -EBUSY, child_ioctl(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "child SET_VRING_NUM", -EPERM,
	    child_ioctl(d.fd, VHOST_SET_VRING_NUM, &(struct vhost_vring_state){ 0, 256 }));
	rec(r, "child SET_MEM_TABLE", -EPERM,
	    child_ioctl(d.fd, VHOST_SET_MEM_TABLE,
			&(struct vhost_memory){ .nregions = 0 }));
	rec(r, "child RESET_OWNER", -EPERM,
	    child_ioctl(d.fd, VHOST_RESET_OWNER, NULL));

	rec(r, "RESET_OWNER", 0, xio(d.fd, VHOST_RESET_OWNER, NULL));
	rec(r, "SET_VRING_NUM after RESET_OWNER", -EPERM,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));
	rec(r, "SET_OWNER after RESET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "SET_VRING_NUM after new owner", 0,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));

	close(efd);
	vg_close(&d);
}

/* SET_MEM_TABLE with one region. */
static int mem_one(struct vg_dev *d, uint64_t gpa, uint64_t size,
		   uint64_t uaddr)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r;
	} t = {
		.m.nregions = 1,
		.r = { .guest_phys_addr = gpa, .memory_size = size,
		       .userspace_addr = uaddr },
	};

	return xio(d->fd, VHOST_SET_MEM_TABLE, &t);
}

/* SET_MEM_TABLE saying one region, whose entry lies in a hole. */
static int mem_unreadable_regions(struct vg_dev *d)
{
	uint8_t *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vhost_memory *m;
	int r;

	if (p == MAP_FAILED)
		return -ENOMEM;
	munmap(p + 4096, 4096);
	m = (struct vhost_memory *)(p + 4096 - sizeof(*m));
	m->nregions = 1;
	m->padding = 0;
	r = xio(d->fd, VHOST_SET_MEM_TABLE, m);
	munmap(p, 4096);
	return r;
}

/*
 * Arguments the kernel cannot read, or answers it cannot write: every
 * ioctl that takes a pointer, given NULL (and the ones that answer, a
 * read-only page of zeros: vq 0, whose answer cannot be written), gives
 * EFAULT and changes nothing; so do memory tables whose regions cannot be
 * read or whose guest range wraps.  The device then still sets up.  (A
 * region outside user space: vhost-net 6.1 takes it while no queue runs,
 * vhostx refuses it at once: mem_table_outside_user_space.)
 */
static void unreadable_args_seq(struct run *r, const char *path)
{
	static const struct {
		const char *name;
		unsigned long nr;
	} null_args[] = {
		{ "SET_FEATURES NULL", VHOST_SET_FEATURES },
		{ "GET_BACKEND_FEATURES NULL", VHOST_GET_BACKEND_FEATURES },
		{ "SET_BACKEND_FEATURES NULL", VHOST_SET_BACKEND_FEATURES },
		{ "SET_MEM_TABLE NULL", VHOST_SET_MEM_TABLE },
		{ "SET_LOG_BASE NULL", VHOST_SET_LOG_BASE },
		{ "SET_LOG_FD NULL", VHOST_SET_LOG_FD },
		{ "SET_VRING_NUM NULL", VHOST_SET_VRING_NUM },
		{ "SET_VRING_ADDR NULL", VHOST_SET_VRING_ADDR },
		{ "SET_VRING_BASE NULL", VHOST_SET_VRING_BASE },
		{ "GET_VRING_BASE NULL", VHOST_GET_VRING_BASE },
		{ "SET_VRING_KICK NULL", VHOST_SET_VRING_KICK },
		{ "SET_VRING_CALL NULL", VHOST_SET_VRING_CALL },
		{ "SET_VRING_ERR NULL", VHOST_SET_VRING_ERR },
		{ "SET_VRING_BUSYLOOP_TIMEOUT NULL",
		  VHOST_SET_VRING_BUSYLOOP_TIMEOUT },
		{ "GET_VRING_BUSYLOOP_TIMEOUT NULL",
		  VHOST_GET_VRING_BUSYLOOP_TIMEOUT },
	}, ro_args[] = {
		{ "GET_FEATURES read-only", VHOST_GET_FEATURES },
		{ "GET_BACKEND_FEATURES read-only", VHOST_GET_BACKEND_FEATURES },
		{ "GET_VRING_BASE read-only", VHOST_GET_VRING_BASE },
		{ "GET_VRING_BUSYLOOP_TIMEOUT read-only",
		  VHOST_GET_VRING_BUSYLOOP_TIMEOUT },
	};
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int i;

	vx_fixture_init(&d, &vq);
	if (ro == MAP_FAILED || vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	rec(r, "GET_FEATURES NULL before owner", -EFAULT,
	    xio(d.fd, VHOST_GET_FEATURES, NULL));
	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "GET_FEATURES NULL", -EFAULT, xio(d.fd, VHOST_GET_FEATURES, NULL));
	for (i = 0; i < sizeof(null_args) / sizeof(null_args[0]); i++)
		rec(r, null_args[i].name, -EFAULT,
		    xio(d.fd, null_args[i].nr, NULL));
	for (i = 0; i < sizeof(ro_args) / sizeof(ro_args[0]); i++)
		rec(r, ro_args[i].name, -EFAULT, xio(d.fd, ro_args[i].nr, ro));
	rec(r, "SET_MEM_TABLE regions unreadable", -EFAULT,
	    mem_unreadable_regions(&d));
	rec(r, "SET_MEM_TABLE region wraps", -EFAULT,
	    mem_one(&d, ~0ULL - 4095, 8192, vg_gpa(d.arena)));
	rec(r, "set-up after them", 0,
	    vg_set_features(&d, VG_F(VIRTIO_F_VERSION_1)) ?:
	    vg_set_mem_table(&d) ?: vg_vq_setup(&d, &vq, 0, 64, 0));
	vg_vq_free(&vq);
	vg_close(&d);
	munmap(ro, 4096);
}

/* vhost-net specific steps (VHOST_NET_SET_BACKEND, backend features). */
static void net_seq(struct run *r, const char *path)
{
	struct vg_dev d;
	struct vg_vq vq;
	uint64_t v = 0, lv;
	char ifname[IFNAMSIZ] = "";
	int tap, efd, bad_fd;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	efd = vg_eventfd();
	bad_fd = vg_closed_fd();
	tap = vg_tap_open(ifname, sizeof(struct virtio_net_hdr_mrg_rxbuf), 0);

	rec(r, "NET_SET_BACKEND before owner", -EPERM,
	    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, efd));
	rec_val(r, "GET_BACKEND_FEATURES has IOTLB_MSG_V2", 0,
		xio(d.fd, VHOST_GET_BACKEND_FEATURES, &v),
		!!(v & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2)));
	v = 1ULL << 63;
	rec(r, "SET_BACKEND_FEATURES unknown", -EOPNOTSUPP,
	    xio(d.fd, VHOST_SET_BACKEND_FEATURES, &v));
	v = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	rec(r, "SET_BACKEND_FEATURES IOTLB_MSG_V2", 0,
	    xio(d.fd, VHOST_SET_BACKEND_FEATURES, &v));

	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	/* No memory table yet: vq access check fails first. */
	rec(r, "NET_SET_BACKEND before SET_MEM_TABLE", -EFAULT,
	    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
	/* (ACCESS_PLATFORM is left out: upstream keeps the device IOTLB once
	 * it was negotiated, which would change every later step.) */
	v = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	rec(r, "SET_FEATURES VERSION_1|MRG_RXBUF", 0,
	    xio(d.fd, VHOST_SET_FEATURES, &v));
	d.features = v;
	rec(r, "SET_MEM_TABLE identity", 0, vg_set_mem_table(&d));
	rec(r, "NET_SET_BACKEND index 2", -ENOBUFS,
	    vring_file(d.fd, VHOST_NET_SET_BACKEND, 2, tap));
	rec(r, "NET_SET_BACKEND unbind idle vq", 0,
	    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, -1));
	rec(r, "vring setup", 0, vg_vq_setup(&d, &vq, 1, 256, 0));
	rec(r, "NET_SET_BACKEND eventfd", -ENOTSOCK,
	    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, efd));
	rec(r, "NET_SET_BACKEND closed fd", -ENOTSOCK,
	    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, bad_fd));
	if (tap >= 0) {
		uint64_t b = vg_gpa(vq.desc);

		rec(r, "NET_SET_BACKEND tap", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
		rec(r, "SET_VRING_NUM while running", -EBUSY,
		    vring_state(d.fd, VHOST_SET_VRING_NUM, 1, 256));
		rec(r, "SET_VRING_BASE while running", -EBUSY,
		    vring_state(d.fd, VHOST_SET_VRING_BASE, 1, 0));
		rec(r, "SET_VRING_ADDR kernel address while running", -EINVAL,
		    vring_addr(d.fd, 1, 0xffff888000000000ULL,
			       vg_gpa(vq.avail), vg_gpa(vq.used), 0, 0));
		rec(r, "SET_VRING_ADDR good while running", 0,
		    vring_addr(d.fd, 1, b, vg_gpa(vq.avail), vg_gpa(vq.used),
			       0, 0));
		rec(r, "SET_FEATURES while running", 0,
		    xio(d.fd, VHOST_SET_FEATURES, &v));
		/* With LOG_ALL a new log base must cover the memory table. */
		lv = v | VG_F(VHOST_F_LOG_ALL);
		rec(r, "SET_FEATURES +LOG_ALL while running", 0,
		    xio(d.fd, VHOST_SET_FEATURES, &lv));
		lv = 0xffff888000000000ULL;
		rec(r, "SET_LOG_BASE kernel address, LOG_ALL, running",
		    -EFAULT, xio(d.fd, VHOST_SET_LOG_BASE, &lv));
		lv = vg_gpa(d.arena);
		rec(r, "SET_LOG_BASE user address, LOG_ALL, running", 0,
		    xio(d.fd, VHOST_SET_LOG_BASE, &lv));
		rec(r, "SET_FEATURES -LOG_ALL while running", 0,
		    xio(d.fd, VHOST_SET_FEATURES, &v));
		rec(r, "child NET_SET_BACKEND", -EPERM,
		    child_ioctl(d.fd, VHOST_NET_SET_BACKEND,
				&(struct vhost_vring_file){ 1, -1 }));
		rec(r, "NET_SET_BACKEND unbind", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, -1));
		rec(r, "SET_VRING_BASE after unbind", 0,
		    vring_state(d.fd, VHOST_SET_VRING_BASE, 1, 0));
		close(tap);
	}
	vg_vq_free(&vq);
	close(efd);
	vg_close(&d);
}

#ifndef VIRTIO_F_RING_RESET
#define VIRTIO_F_RING_RESET	40
#endif

/* Does the device at @path offer VIRTIO_F_RING_RESET? */
static bool offers_ring_reset(const char *path)
{
	uint64_t f = 0;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return false;
	if (ioctl(fd, VHOST_GET_FEATURES, &f))
		f = 0;
	close(fd);
	return f & VG_F(VIRTIO_F_RING_RESET);
}

/*
 * VIRTIO_F_RING_RESET (bit 40, vhost-net from 6.2): acked where offered,
 * then QEMU's reset of one queue while the other stays attached (detach,
 * GET_VRING_BASE, a ring of another size from base 0, kick and call,
 * attach), back to the first size, and the mistakes around it: a new
 * size or base while attached, a size grown on the small ring's
 * addresses.
 */
static void ring_reset_seq(struct run *r, const char *path)
{
	struct vhost_vring_state st = { 0 };
	char ifname[IFNAMSIZ] = "";
	struct vg_vq vq[2], small;
	struct vg_dev d;
	uint64_t f = 0, v;
	int tap;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	tap = vg_tap_open(ifname, sizeof(struct virtio_net_hdr_mrg_rxbuf), 0);
	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "GET_FEATURES", 0, xio(d.fd, VHOST_GET_FEATURES, &f));
	v = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_NET_F_MRG_RXBUF) |
	    (f & VG_F(VIRTIO_F_RING_RESET));
	rec(r, "SET_FEATURES VERSION_1|MRG_RXBUF|RING_RESET if offered", 0,
	    xio(d.fd, VHOST_SET_FEATURES, &v));
	d.features = v;
	rec(r, "SET_MEM_TABLE identity", 0, vg_set_mem_table(&d));
	rec(r, "vring setup RX", 0, vg_vq_setup(&d, &vq[0], 0, 256, 0));
	rec(r, "vring setup TX", 0, vg_vq_setup(&d, &vq[1], 1, 256, 0));
	rec(r, "ring of 128", 0, vg_vq_init(&d, &small, 0, 128));
	if (tap >= 0) {
		rec(r, "NET_SET_BACKEND RX", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, tap));
		rec(r, "NET_SET_BACKEND TX", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
		rec(r, "SET_VRING_NUM 128 on the running RX", -EBUSY,
		    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 128));
		rec(r, "SET_VRING_BASE 0 on the running RX", -EBUSY,
		    vring_state(d.fd, VHOST_SET_VRING_BASE, 0, 0));
		rec(r, "reset: NET_SET_BACKEND RX -1", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, -1));
		st.index = 0;
		rec_val(r, "reset: GET_VRING_BASE RX", 0,
			xio(d.fd, VHOST_GET_VRING_BASE, &st), st.num);
		rec(r, "reset: SET_VRING_NUM 128", 0,
		    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 128));
		rec(r, "reset: SET_VRING_BASE 0", 0,
		    vring_state(d.fd, VHOST_SET_VRING_BASE, 0, 0));
		rec(r, "reset: SET_VRING_ADDR the 128 ring", 0,
		    vg_vq_set_addr(&small, 0, 0));
		rec(r, "reset: SET_VRING_KICK", 0,
		    vring_file(d.fd, VHOST_SET_VRING_KICK, 0, small.kick_fd));
		rec(r, "reset: SET_VRING_CALL", 0,
		    vring_file(d.fd, VHOST_SET_VRING_CALL, 0, small.call_fd));
		rec(r, "reset: NET_SET_BACKEND RX", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, tap));
		rec(r, "TX still attached: NET_SET_BACKEND TX same tap", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
		rec(r, "grow: NET_SET_BACKEND RX -1", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, -1));
		rec_val(r, "grow: GET_VRING_BASE RX", 0,
			xio(d.fd, VHOST_GET_VRING_BASE, &st), st.num);
		rec(r, "grow: SET_VRING_NUM 256, 128 ring's addresses", 0,
		    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));
		rec(r, "grow: NET_SET_BACKEND RX", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, tap));
		rec(r, "back: NET_SET_BACKEND RX -1", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, -1));
		rec(r, "back: the 256 ring", 0, vg_vq_program(&vq[0], 0));
		rec(r, "back: NET_SET_BACKEND RX", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, tap));
		rec(r, "NET_SET_BACKEND RX -1", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 0, -1));
		rec(r, "NET_SET_BACKEND TX -1", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, -1));
		close(tap);
	}
	vg_vq_free(&small);
	vg_vq_free(&vq[0]);
	vg_vq_free(&vq[1]);
	vg_close(&d);
}

/*
 * The ioctls 6.17 added: VHOST_GET/SET_FEATURES_ARRAY (0x83) and
 * VHOST_SET/GET_FORK_FROM_OWNER (0x84/0x85).  Their steps' expectations
 * are 7.x's (drivers/vhost/net.c and vhost.c); where the kernel's
 * vhost-net predates them (6.1, 6.12) the device is checked against those
 * alone.
 */
#define SENTINEL	0x5a5a5a5a5a5a5a5aULL

/* Bits 65-68: UDP tunnel GSO, which 7.x's vhost-net offers and vhostx not. */
#define UDP_TUNNEL_WORD1	0x1eULL

/*
 * @n words right below a page that is not mapped: for faults at an exact
 * word.  Released with guard_free().
 */
static uint64_t *guard_words(unsigned int n)
{
	uint8_t *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + 4096, 4096);
	return (uint64_t *)(p + 4096) - n;
}

static void guard_free(uint64_t *w)
{
	if (w)
		munmap((void *)((uintptr_t)w & ~4095UL), 4096);
}

/* VHOST_GET_FEATURES_ARRAY into @a (a[0] = @count, the rest SENTINEL). */
static int get_array(int fd, uint64_t *a, unsigned int words, uint64_t count)
{
	unsigned int i;

	a[0] = count;
	for (i = 1; i < words; i++)
		a[i] = SENTINEL;
	return xio(fd, VHOST_GET_FEATURES_ARRAY, a);
}

static int set_array(int fd, uint64_t count, uint64_t w0, uint64_t w1,
		     uint64_t w2, uint64_t w3)
{
	uint64_t a[5] = { count, w0, w1, w2, w3 };

	return xio(fd, VHOST_SET_FEATURES_ARRAY, a);
}

/* Is every word of @a from @from on (up to @words) still SENTINEL? */
static bool untouched(const uint64_t *a, unsigned int from, unsigned int words)
{
	for (; from < words; from++)
		if (a[from] != SENTINEL)
			return false;
	return true;
}

static void features_array_seq(struct run *r, const char *path)
{
	uint64_t a[8], f = 0, *g;
	struct vg_dev d;
	int ret;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	rec(r, "GET_FEATURES", 0, xio(d.fd, VHOST_GET_FEATURES, &f));

	/* GET: min(count, 2) words of bits, the rest of count zeroed. */
	ret = get_array(d.fd, a, 8, 0);
	rec_want(r, "GET_FEATURES_ARRAY count 0: nothing written", 0, ret,
		 untouched(a, 1, 8), 1);
	ret = get_array(d.fd, a, 8, 1);
	rec_want(r, "GET_FEATURES_ARRAY count 1: word 0 only", 0, ret,
		 a[1] == f && untouched(a, 2, 8), 1);
	ret = get_array(d.fd, a, 8, 2);
	rec_want(r, "GET_FEATURES_ARRAY count 2: word 0", 0, ret,
		 a[1] == f && untouched(a, 3, 8), 1);
	rec_want(r, "GET_FEATURES_ARRAY count 2: word 1 but UDP tunnel GSO",
		 0, 0, a[2] & ~UDP_TUNNEL_WORD1, 0);
	ret = get_array(d.fd, a, 8, 5);
	rec_want(r, "GET_FEATURES_ARRAY count 5: words 2-4 zeroed", 0, ret,
		 a[1] == f && !a[3] && !a[4] && !a[5] && untouched(a, 6, 8),
		 1);
	rec(r, "GET_FEATURES_ARRAY NULL", -EFAULT,
	    xio(d.fd, VHOST_GET_FEATURES_ARRAY, NULL));
	g = guard_words(3);
	if (g) {
		ret = get_array(d.fd, g, 3, 2);
		rec_want(r, "GET_FEATURES_ARRAY count 2, all mapped", 0, ret,
			 g[1] == f, 1);
		ret = get_array(d.fd, g, 3, 3);
		rec_want(r, "GET_FEATURES_ARRAY count 3, word 2 unmapped",
			 -EFAULT, ret, g[1] == f, 1);
	}
	guard_free(g);
	ret = get_array(d.fd, a, 8, 1ULL << 61);
	rec_want(r, "GET_FEATURES_ARRAY count 2^61", -EFAULT, ret,
		 a[1] == f && untouched(a, 3, 8), 1);
	ret = get_array(d.fd, a, 8, ~0ULL);
	rec_want(r, "GET_FEATURES_ARRAY count 2^64-1", -EFAULT, ret,
		 a[1] == f && untouched(a, 3, 8), 1);

	/* SET: words past 2 must be zero, read one by one before any check. */
	rec(r, "SET_FEATURES_ARRAY count 0", 0,
	    set_array(d.fd, 0, 1ULL << 50, 0, 0, 0));
	rec(r, "SET_FEATURES_ARRAY count 1 VERSION_1", 0,
	    set_array(d.fd, 1, VG_F(VIRTIO_F_VERSION_1), 1, 1, 1));
	rec(r, "SET_FEATURES_ARRAY count 1 bit 50", -EOPNOTSUPP,
	    set_array(d.fd, 1, 1ULL << 50, 0, 0, 0));
	rec(r, "SET_FEATURES_ARRAY count 2 bit 127", -EOPNOTSUPP,
	    set_array(d.fd, 2, VG_F(VIRTIO_F_VERSION_1), 1ULL << 63, 0, 0));
	rec(r, "SET_FEATURES_ARRAY count 4, words 2-3 zero", 0,
	    set_array(d.fd, 4, VG_F(VIRTIO_F_VERSION_1), 0, 0, 0));
	rec(r, "SET_FEATURES_ARRAY count 4, word 3 not zero", -EOPNOTSUPP,
	    set_array(d.fd, 4, VG_F(VIRTIO_F_VERSION_1), 0, 0, 1));
	rec(r, "SET_FEATURES_ARRAY NULL", -EFAULT,
	    xio(d.fd, VHOST_SET_FEATURES_ARRAY, NULL));
	g = guard_words(5);
	if (g) {
		g[0] = 3;
		g[1] = 1ULL << 50;
		g[2] = 0;
		rec(r, "SET_FEATURES_ARRAY bit 50, count 3 ending mapped",
		    -EOPNOTSUPP, xio(d.fd, VHOST_SET_FEATURES_ARRAY, g));
		g[0] = 5;
		g[3] = g[4] = 0;
		rec(r, "SET_FEATURES_ARRAY bit 50, word 4 unmapped", -EFAULT,
		    xio(d.fd, VHOST_SET_FEATURES_ARRAY, g));
		g[3] = 1;
		rec(r, "SET_FEATURES_ARRAY word 2 not zero, word 4 unmapped",
		    -EOPNOTSUPP, xio(d.fd, VHOST_SET_FEATURES_ARRAY, g));
		g[0] = ~0ULL;
		g[1] = VG_F(VIRTIO_F_VERSION_1);
		g[3] = 0;
		rec(r, "SET_FEATURES_ARRAY count 2^64-1, zeros to the hole",
		    -EFAULT, xio(d.fd, VHOST_SET_FEATURES_ARRAY, g));
		g[4] = 2;
		rec(r, "SET_FEATURES_ARRAY count 2^64-1, word 3 not zero",
		    -EOPNOTSUPP, xio(d.fd, VHOST_SET_FEATURES_ARRAY, g));
	}
	guard_free(g);
	g = guard_words(2);
	if (g) {
		g[0] = 2;
		g[1] = VG_F(VIRTIO_F_VERSION_1);
		rec(r, "SET_FEATURES_ARRAY count 2, word 1 unmapped", -EFAULT,
		    xio(d.fd, VHOST_SET_FEATURES_ARRAY, g));
	}
	guard_free(g);
	rec(r, "SET_FEATURES bit 50 still refused", -EOPNOTSUPP,
	    xio(d.fd, VHOST_SET_FEATURES, &(uint64_t){ 1ULL << 50 }));

	/* No owner needed, before SET_OWNER or from another process. */
	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	a[0] = 2;
	rec(r, "child GET_FEATURES_ARRAY", 0,
	    child_ioctl(d.fd, VHOST_GET_FEATURES_ARRAY, a));
	a[0] = 1;
	a[1] = VG_F(VIRTIO_F_VERSION_1);
	rec(r, "child SET_FEATURES_ARRAY", 0,
	    child_ioctl(d.fd, VHOST_SET_FEATURES_ARRAY, a));
	/* Everything offered acked back (ACCESS_PLATFORM too: the last step). */
	ret = get_array(d.fd, a, 8, 2);
	rec(r, "GET_FEATURES_ARRAY after owner", 0, ret);
	a[0] = 2;
	rec(r, "SET_FEATURES_ARRAY every offered bit", 0,
	    xio(d.fd, VHOST_SET_FEATURES_ARRAY, a));
	vg_close(&d);
}

static int get_fork(int fd, uint8_t *mode)
{
	*mode = 0xa5;
	return xio(fd, VHOST_GET_FORK_FROM_OWNER, mode);
}

static int set_fork(int fd, uint8_t mode)
{
	return xio(fd, VHOST_SET_FORK_FROM_OWNER, &mode);
}

/*
 * The worker mode, as 7.x: task mode by default, either mode until
 * SET_OWNER (by any process), EBUSY after, the default again after
 * RESET_OWNER.  For kernels with vhost_task, where vhostx has both modes.
 */
static void fork_owner_seq(struct run *r, const char *path)
{
	struct vg_dev d;
	uint8_t m = 0;
	int ret;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER: task mode by default", 0, ret, m,
		 VHOST_FORK_OWNER_TASK);
	rec(r, "SET_FORK_FROM_OWNER KTHREAD", 0,
	    set_fork(d.fd, VHOST_FORK_OWNER_KTHREAD));
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER after KTHREAD", 0, ret, m,
		 VHOST_FORK_OWNER_KTHREAD);
	rec(r, "SET_FORK_FROM_OWNER TASK", 0,
	    set_fork(d.fd, VHOST_FORK_OWNER_TASK));
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER after TASK", 0, ret, m,
		 VHOST_FORK_OWNER_TASK);
	rec(r, "SET_FORK_FROM_OWNER 2", -EINVAL, set_fork(d.fd, 2));
	rec(r, "SET_FORK_FROM_OWNER 0xff", -EINVAL, set_fork(d.fd, 0xff));
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER after EINVAL", 0, ret, m,
		 VHOST_FORK_OWNER_TASK);
	rec(r, "SET_FORK_FROM_OWNER NULL", -EFAULT,
	    xio(d.fd, VHOST_SET_FORK_FROM_OWNER, NULL));
	rec(r, "GET_FORK_FROM_OWNER NULL", -EFAULT,
	    xio(d.fd, VHOST_GET_FORK_FROM_OWNER, NULL));
	rec(r, "child SET_FORK_FROM_OWNER KTHREAD", 0,
	    child_ioctl(d.fd, VHOST_SET_FORK_FROM_OWNER,
			&(uint8_t){ VHOST_FORK_OWNER_KTHREAD }));
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER after the child's", 0, ret, m,
		 VHOST_FORK_OWNER_KTHREAD);

	rec(r, "SET_OWNER in kthread mode", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "SET_FORK_FROM_OWNER TASK after owner", -EBUSY,
	    set_fork(d.fd, VHOST_FORK_OWNER_TASK));
	rec(r, "SET_FORK_FROM_OWNER KTHREAD after owner", -EBUSY,
	    set_fork(d.fd, VHOST_FORK_OWNER_KTHREAD));
	rec(r, "SET_FORK_FROM_OWNER 2 after owner", -EBUSY,
	    set_fork(d.fd, 2));
	rec(r, "SET_FORK_FROM_OWNER NULL after owner", -EBUSY,
	    xio(d.fd, VHOST_SET_FORK_FROM_OWNER, NULL));
	rec(r, "child SET_FORK_FROM_OWNER after owner", -EBUSY,
	    child_ioctl(d.fd, VHOST_SET_FORK_FROM_OWNER,
			&(uint8_t){ VHOST_FORK_OWNER_TASK }));
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER after owner", 0, ret, m,
		 VHOST_FORK_OWNER_KTHREAD);
	rec(r, "child GET_FORK_FROM_OWNER", 0,
	    child_ioctl(d.fd, VHOST_GET_FORK_FROM_OWNER, &m));
	rec(r, "SET_VRING_NUM in kthread mode", 0,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));

	rec(r, "RESET_OWNER", 0, xio(d.fd, VHOST_RESET_OWNER, NULL));
	ret = get_fork(d.fd, &m);
	rec_want(r, "GET_FORK_FROM_OWNER after RESET_OWNER: the default", 0,
		 ret, m, VHOST_FORK_OWNER_TASK);
	rec(r, "SET_OWNER again, task mode", 0,
	    xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "SET_VRING_NUM in task mode", 0,
	    vring_state(d.fd, VHOST_SET_VRING_NUM, 0, 256));
	rec(r, "RESET_OWNER in task mode", 0,
	    xio(d.fd, VHOST_RESET_OWNER, NULL));
	rec(r, "SET_FORK_FROM_OWNER KTHREAD after RESET_OWNER", 0,
	    set_fork(d.fd, VHOST_FORK_OWNER_KTHREAD));
	rec(r, "SET_OWNER again, kthread mode", 0,
	    xio(d.fd, VHOST_SET_OWNER, NULL));
	vg_close(&d);
}

/*
 * A kernel without vhost_task: neither the kernel's vhost-net (6.1) nor
 * vhostx (kthreads only) knows the two ioctls, and both answer as for any
 * unknown ioctl, as 7.x built without CONFIG_VHOST_ENABLE_FORK_OWNER_CONTROL
 * does: EPERM before SET_OWNER, then the vring ioctl's answer to the u32
 * at the argument (ENOBUFS for a vq index out of range, else ENOTTY).
 */
static void fork_owner_absent_seq(struct run *r, const char *path)
{
	uint32_t arg;
	struct vg_dev d;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	arg = VHOST_FORK_OWNER_TASK;
	rec(r, "GET_FORK_FROM_OWNER before owner", -EPERM,
	    xio(d.fd, VHOST_GET_FORK_FROM_OWNER, &arg));
	rec(r, "SET_FORK_FROM_OWNER TASK before owner", -EPERM,
	    xio(d.fd, VHOST_SET_FORK_FROM_OWNER, &arg));
	arg = VHOST_FORK_OWNER_KTHREAD;
	rec(r, "SET_FORK_FROM_OWNER KTHREAD before owner", -EPERM,
	    xio(d.fd, VHOST_SET_FORK_FROM_OWNER, &arg));
	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	arg = 0;
	rec_want(r, "GET_FORK_FROM_OWNER after owner", -ENOTTY,
		 xio(d.fd, VHOST_GET_FORK_FROM_OWNER, &arg), arg, 0);
	rec(r, "SET_FORK_FROM_OWNER KTHREAD after owner", -ENOTTY,
	    xio(d.fd, VHOST_SET_FORK_FROM_OWNER, &arg));
	arg = 0xffffffff;
	rec(r, "SET_FORK_FROM_OWNER, 2^32-1 at the argument", -ENOBUFS,
	    xio(d.fd, VHOST_SET_FORK_FROM_OWNER, &arg));
	rec(r, "GET_FORK_FROM_OWNER NULL after owner", -EFAULT,
	    xio(d.fd, VHOST_GET_FORK_FROM_OWNER, NULL));
	rec(r, "SET_VRING_NUM", 0, vring_state(d.fd, VHOST_SET_VRING_NUM, 0,
					       256));
	vg_close(&d);
}

/* Read one v2 IOTLB message into @m without blocking: bytes or -errno. */
static int iotlb_read_now(int fd, struct vhost_msg_v2 *m)
{
	int fl = fcntl(fd, F_GETFL);
	ssize_t n;

	memset(m, 0, sizeof(*m));
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	n = read(fd, m, sizeof(*m));
	n = n < 0 ? -errno : n;
	fcntl(fd, F_SETFL, fl);
	return (int)n;
}

/* Does poll() report POLLIN now? */
static uint64_t pollin_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Replace the IOTLB mapping of one page (identity) with @perm. */
static int iotlb_remap(struct vg_dev *d, uint64_t page, uint8_t perm)
{
	int r = vg_iotlb_invalidate(d, page, 4096);

	return r ? r : vg_iotlb_update(d, page, 4096, page, perm);
}

/*
 * A device IOTLB (ACCESS_PLATFORM), every offered feature but the packed
 * ring acked (LOG_ALL too), a log and a memory table, ring addresses set: attaching a backend
 * makes vhost-net write the used flags and read the used index through
 * the IOTLB, each looked up for reading.  Unmapped: EFAULT, and a miss
 * for the used ring (read access) is readable.  Mapped write-only:
 * EFAULT, no message.  Mapped read-write: attached.
 */
static void iotlb_seq(struct run *r, const char *path)
{
	char ifname[IFNAMSIZ] = "";
	struct vhost_msg_v2 m;
	struct vg_dev d;
	struct vg_vq vq;
	uint64_t f = 0, bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	uint64_t used;
	int tap, n;

	if (vg_open(&d, path, 1 << 20)) {
		rec(r, "open", 0, -errno);
		return;
	}
	tap = vg_tap_open(ifname, sizeof(struct virtio_net_hdr_mrg_rxbuf), 0);
	rec(r, "SET_OWNER", 0, xio(d.fd, VHOST_SET_OWNER, NULL));
	rec(r, "GET_FEATURES", 0, xio(d.fd, VHOST_GET_FEATURES, &f));
	/* vhost-net has no packed ring: both compared on the split one. */
	f &= ~(1ULL << VIRTIO_F_RING_PACKED);
	rec(r, "SET_BACKEND_FEATURES IOTLB_MSG_V2", 0,
	    xio(d.fd, VHOST_SET_BACKEND_FEATURES, &bf));
	rec_val(r, "SET_FEATURES every offered one", 0,
		xio(d.fd, VHOST_SET_FEATURES, &f),
		!!(f & (1ULL << VIRTIO_F_ACCESS_PLATFORM)) +
		2 * !!(f & (1ULL << VHOST_F_LOG_ALL)));
	d.features = f;
	rec(r, "SET_MEM_TABLE identity", 0, vg_set_mem_table(&d));
	rec(r, "log set-up", 0, vg_log_setup(&d));
	rec(r, "vring setup", 0, vg_vq_setup(&d, &vq, 1, 256, 0));
	used = vg_gpa(vq.used);
	if (tap >= 0) {
		rec(r, "NET_SET_BACKEND, nothing in the IOTLB", -EFAULT,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
		rec_val(r, "poll() after it", 0, 0, pollin_now(d.fd));
		n = iotlb_read_now(d.fd, &m);
		rec(r, "read() after it", sizeof(m), n);
		rec_val(r, "its type", 0, 0, m.iotlb.type);
		rec_val(r, "its iova - used ring", 0, 0, m.iotlb.iova - used);
		rec_val(r, "its perm", 0, 0, m.iotlb.perm);
		rec(r, "read() again", -EAGAIN, iotlb_read_now(d.fd, &m));
		rec(r, "IOTLB used ring write-only", 0,
		    iotlb_remap(&d, used, VHOST_ACCESS_WO));
		rec(r, "NET_SET_BACKEND, used ring write-only", -EFAULT,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
		rec(r, "read() after it", -EAGAIN, iotlb_read_now(d.fd, &m));
		rec(r, "IOTLB used ring read-write", 0,
		    iotlb_remap(&d, used, VHOST_ACCESS_RW));
		rec(r, "NET_SET_BACKEND, used ring mapped", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, tap));
		rec(r, "NET_SET_BACKEND unbind", 0,
		    vring_file(d.fd, VHOST_NET_SET_BACKEND, 1, -1));
		close(tap);
	}
	vg_vq_free(&vq);
	vg_close(&d);
}

FIXTURE(compat) {
	struct run ref, dut;
};

FIXTURE_VARIANT(compat) {
	const char *dut;
	bool net;
};

FIXTURE_VARIANT_ADD(compat, vhostx_test) { .dut = VX_TEST_DEV, .net = false };
FIXTURE_VARIANT_ADD(compat, vhostx_net) { .dut = VX_NET_DEV, .net = true };
FIXTURE_VARIANT_ADD(compat, reference) { .dut = VHOST_NET_DEV, .net = true };

FIXTURE_SETUP(compat)
{
	VX_REQUIRE_DEV(variant->dut);
	memset(&self->ref, 0, sizeof(self->ref));
	memset(&self->dut, 0, sizeof(self->dut));
}

FIXTURE_TEARDOWN(compat)
{
}

static int check_against(struct __test_metadata *_metadata,
			 const struct run *dut, const struct run *ref,
			 const char *what)
{
	int i, bad = 0;

	for (i = 0; i < dut->n; i++) {
		const struct step *s = &dut->s[i];
		int want = ref ? ref->s[i].ret : s->expect;

		if (ref && strcmp(ref->s[i].name, s->name))
			return -1;
		if (s->ret != want) {
			TH_LOG("%s: step '%s': got %d (%s), %s %d (%s)", what,
			       s->name, s->ret, strerror(-s->ret),
			       ref ? "vhost-net gave" : "upstream gives",
			       want, strerror(-want));
			bad++;
		} else if (!ref && s->check_val && s->val != s->expect_val) {
			TH_LOG("%s: step '%s': value %llu, upstream gives %llu",
			       what, s->name, (unsigned long long)s->val,
			       (unsigned long long)s->expect_val);
			bad++;
		} else if (ref && s->compare_val && s->val != ref->s[i].val) {
			TH_LOG("%s: step '%s': value %llu, vhost-net %llu",
			       what, s->name, (unsigned long long)s->val,
			       (unsigned long long)ref->s[i].val);
			bad++;
		}
	}
	return bad;
}

static void compare(struct __test_metadata *_metadata, struct run *ref,
		    struct run *dut, bool have_ref)
{
	/* The reference must behave as upstream's source says ... */
	if (have_ref)
		EXPECT_EQ(0, check_against(_metadata, ref, NULL, "vhost-net"));
	/* ... and the device under test exactly as the reference. */
	ASSERT_EQ(have_ref ? ref->n : dut->n, dut->n);
	EXPECT_EQ(0, check_against(_metadata, dut, have_ref ? ref : NULL,
				   "device under test"));
}

VX_TEST_F(compat, generic_ioctls)
{
	bool have_ref = !access(VHOST_NET_DEV, F_OK);

	if (have_ref)
		generic_seq(&self->ref, VHOST_NET_DEV);
	else
		TH_LOG("%s absent: checking against upstream expectations only",
		       VHOST_NET_DEV);
	generic_seq(&self->dut, variant->dut);
	compare(_metadata, &self->ref, &self->dut, have_ref);
}

VX_TEST_F(compat, unreadable_arguments)
{
	bool have_ref = !access(VHOST_NET_DEV, F_OK);

	if (have_ref)
		unreadable_args_seq(&self->ref, VHOST_NET_DEV);
	unreadable_args_seq(&self->dut, variant->dut);
	compare(_metadata, &self->ref, &self->dut, have_ref);
}

/*
 * Where vhostx is stricter than vhost-net 6.1, which checks a region's
 * user range only for queues running at the time: a region outside user
 * space, or whose user range wraps, is refused at SET_MEM_TABLE.
 */
VX_TEST_F_IF(compat, mem_table_outside_user_space,
	     strcmp(variant->dut, VHOST_NET_DEV))
{
	struct vg_dev d;

	ASSERT_EQ(0, vg_open(&d, variant->dut, 1 << 20));
	ASSERT_EQ(0, xio(d.fd, VHOST_SET_OWNER, NULL));
	EXPECT_EQ(-EFAULT, mem_one(&d, vg_gpa(d.arena), 4096,
				   0xffff888000000000ULL));
	EXPECT_EQ(-EFAULT, mem_one(&d, vg_gpa(d.arena), 8192, ~0ULL - 4095));
	EXPECT_EQ(0, vg_set_mem_table(&d));
	vg_close(&d);
}

/*
 * Does the kernel's vhost-net know @nr?  Before SET_OWNER, 6.1's and
 * 6.12's answer every ioctl they do not know with EPERM; 7.x's answer
 * these without an owner.
 */
static bool vhost_net_knows(unsigned long nr)
{
	uint64_t arg[3] = { 0 };
	int fd = open(VHOST_NET_DEV, O_RDWR);
	bool knows;

	if (fd < 0)
		return false;
	knows = ioctl(fd, nr, arg) == 0;
	close(fd);
	return knows;
}

/*
 * A sequence of 7.x's ioctls: compared with vhost-net where it has them,
 * else checked against 7.x's expectations (the reference variant, which
 * checks vhost-net itself, has nothing to check then).
 */
static void new_ioctl_compare(struct __test_metadata *_metadata,
			      FIXTURE_DATA(compat) *self,
			      const FIXTURE_VARIANT(compat) *variant,
			      unsigned long probe,
			      void (*seq)(struct run *r, const char *path))
{
	bool have_ref = vhost_net_knows(probe);

	if (!have_ref && !strcmp(variant->dut, VHOST_NET_DEV))
		SKIP(return, "/dev/vhost-net predates 6.17's ioctl %#lx", probe);
	if (have_ref)
		seq(&self->ref, VHOST_NET_DEV);
	else
		TH_LOG("vhost-net lacks ioctl %#lx: checking 7.x's answers",
		       probe);
	seq(&self->dut, variant->dut);
	compare(_metadata, &self->ref, &self->dut, have_ref);
}

VX_TEST_F(compat, features_array)
{
	new_ioctl_compare(_metadata, self, variant, VHOST_GET_FEATURES_ARRAY,
			  features_array_seq);
}

/*
 * Where the kernel has vhost_task, 7.x's worker modes (compared with
 * vhost-net from 6.17, else checked against 7.x's answers); without it,
 * both ioctls unknown to vhostx as to the kernel's vhost-net.
 */
VX_TEST_F(compat, fork_from_owner)
{
	bool have_ref = !access(VHOST_NET_DEV, F_OK);

	if (vx_kernel_has_vhost_task()) {
		new_ioctl_compare(_metadata, self, variant,
				  VHOST_GET_FORK_FROM_OWNER, fork_owner_seq);
		return;
	}
	TH_LOG("%s: the ioctls are unknown", VX_NO_VHOST_TASK);
	if (have_ref)
		fork_owner_absent_seq(&self->ref, VHOST_NET_DEV);
	fork_owner_absent_seq(&self->dut, variant->dut);
	compare(_metadata, &self->ref, &self->dut, have_ref);
}

#ifndef VIRTIO_F_RING_RESET
#define VIRTIO_F_RING_RESET	40
#endif

/*
 * Feature bits vhostx-net offers where the running kernel's vhost-net may
 * not: VIRTIO_F_IN_ORDER (vhost-net from 6.17 on), VIRTIO_F_RING_RESET
 * (vhost-net from 6.2 on) and VIRTIO_F_RING_PACKED (vhost-net never);
 * vhostx offers them on every kernel.  And those vhost-net may offer that
 * vhostx does not have yet: none.
 */
#define VX_AHEAD	(VG_F(VIRTIO_F_IN_ORDER) | VG_F(VIRTIO_F_RING_PACKED) | \
			 VG_F(VIRTIO_F_RING_RESET))
#define VX_BEHIND	0ULL

/*
 * The offered bits are vhost-net's, whatever its version, but for the
 * ones listed above; and vhostx offers those it is ahead with.
 */
VX_TEST_F_IF(compat, net_features_offered,
	     variant->net && strcmp(variant->dut, VHOST_NET_DEV))
{
	uint64_t ref = 0, dut = 0;
	struct vg_dev r, d;

	if (access(VHOST_NET_DEV, F_OK))
		SKIP(return, "%s absent", VHOST_NET_DEV);
	ASSERT_EQ(0, vg_open(&r, VHOST_NET_DEV, 1 << 20));
	ASSERT_EQ(0, vg_get_features(&r, &ref));
	vg_close(&r);
	ASSERT_EQ(0, vg_open(&d, variant->dut, 1 << 20));
	ASSERT_EQ(0, vg_get_features(&d, &dut));
	vg_close(&d);
	ASSERT_EQ(VX_AHEAD, dut & VX_AHEAD);
	ASSERT_EQ(0, (dut & ~ref) & ~VX_AHEAD)
		TH_LOG("offered beyond vhost-net: %#llx",
		       (unsigned long long)(dut & ~ref));
	ASSERT_EQ(0, (ref & ~dut) & ~VX_BEHIND)
		TH_LOG("vhost-net offers, vhostx does not: %#llx",
		       (unsigned long long)(ref & ~dut));
}

/* A vhost-net sequence on the reference (if present) and the device. */
static void net_compare(struct __test_metadata *_metadata,
			FIXTURE_DATA(compat) *self, const char *dut,
			void (*seq)(struct run *r, const char *path))
{
	bool have_ref = !access(VHOST_NET_DEV, F_OK);

	if (access("/dev/net/tun", F_OK))
		SKIP(return, "/dev/net/tun not present");
	if (have_ref)
		seq(&self->ref, VHOST_NET_DEV);
	seq(&self->dut, dut);
	compare(_metadata, &self->ref, &self->dut, have_ref);
}

VX_TEST_F_IF(compat, net_ioctls, variant->net)
{
	net_compare(_metadata, self, variant->dut, net_seq);
}

VX_TEST_F_IF(compat, iotlb_attach, variant->net)
{
	net_compare(_metadata, self, variant->dut, iotlb_seq);
}

/*
 * vhostx_net offers VIRTIO_F_RING_RESET on every kernel, as vhost-net
 * does from 6.2 (6.1's does not: then only the sequence is compared).
 */
VX_TEST_F_IF(compat, ring_reset, variant->net)
{
	bool ref_has = offers_ring_reset(VHOST_NET_DEV);

	if (!strcmp(variant->dut, VHOST_NET_DEV) && !ref_has)
		SKIP(return, "this vhost-net predates VIRTIO_F_RING_RESET (6.2)");
	if (!ref_has)
		TH_LOG("%s does not offer VIRTIO_F_RING_RESET (before 6.2)",
		       VHOST_NET_DEV);
	ASSERT_TRUE(offers_ring_reset(variant->dut))
		TH_LOG("%s does not offer VIRTIO_F_RING_RESET", variant->dut);
	net_compare(_metadata, self, variant->dut, ring_reset_seq);
}

VX_HARNESS_MAIN
