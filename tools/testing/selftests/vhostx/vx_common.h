/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vhostx selftests (header-only, static inline, so
 * each test is one .c file).  Include after kselftest_harness.h.
 */
#ifndef VX_COMMON_H
#define VX_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "vguest.h"
#if defined(__has_include)
#if __has_include(<linux/vhostx.h>)
#include <linux/vhostx.h>
#endif
#endif

#define VX_TEST_DEV	"/dev/vhostx-test"
#define VX_NET_DEV	"/dev/vhostx-net"
#define VHOST_NET_DEV	"/dev/vhost-net"

/*
 * VX_TIMEOUT_SCALE (environment, integer 1..100, default 1) multiplies
 * every wait below and each test's harness timeout: the debug kernel
 * (KASAN, lockdep) under TCG runs 10-30x slower than the stock one.
 */
static inline int vx_timeout_scale(void)
{
	static int scale;
	const char *s;

	if (!scale) {
		s = getenv("VX_TIMEOUT_SCALE");
		scale = s ? atoi(s) : 1;
		if (scale < 1)
			scale = 1;
		if (scale > 100)
			scale = 100;
	}
	return scale;
}

/* Generous: guests run under TCG, often nested. */
#define VX_TIMEOUT_MS	(5000 * vx_timeout_scale())
/* How long to watch for something that must NOT happen. */
#define VX_QUIET_MS	(300 * vx_timeout_scale())

/*
 * Use instead of TEST_HARNESS_MAIN (same as 6.1's, plus the scaling of
 * every registered test's timeout by VX_TIMEOUT_SCALE).
 */
#define VX_HARNESS_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		struct __fixture_metadata *f;				\
		struct __test_metadata *t;				\
									\
		for (f = __fixture_list; f; f = f->next)		\
			for (t = f->tests; t; t = t->next)		\
				t->timeout *= vx_timeout_scale();	\
		return test_harness_run(argc, argv);			\
	}

/* SKIP the current test (harness context) when @path is absent. */
#define VX_REQUIRE_DEV(path) do {					\
	if (access((path), F_OK))					\
		SKIP(return, "%s not present (module not loaded?)", (path)); \
} while (0)

/*
 * The 6.1 kselftest_harness.h runs the test body even when FIXTURE_SETUP
 * called SKIP(); start every TEST_F body with this.
 */
#define VX_SETUP_SKIPPED() do {						\
	if (_metadata->skip)						\
		return;							\
} while (0)

/* A descriptor number that is certainly not open. */
static inline int vx_closed_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 1000);

	if (fd >= 0)
		close(fd);
	return fd >= 0 ? fd : 1000;
}

/* Run an ioctl, return 0 or -errno. */
static inline int vx_ioctl(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) < 0 ? -errno : 0;
}

/* Deterministic per-buffer byte pattern. */
static inline void vx_fill(void *buf, size_t len, unsigned int seed)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* Index of first byte that differs from the pattern, or -1. */
static inline long vx_check(const void *buf, size_t len, unsigned int seed,
			    size_t pat_off)
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

/*
 * Full driver-side set-up of a single-vq device the way QEMU does it:
 * SET_OWNER, GET_FEATURES, SET_FEATURES(@want & offered), SET_MEM_TABLE,
 * then the vring ioctls.  Fails with -EOPNOTSUPP if a wanted feature is not
 * offered.  Does not start the backend.
 */
static inline int vx_dev_setup(struct vg_dev *d, struct vg_vq *vq,
			       const char *path, uint64_t want,
			       unsigned int index, unsigned int num,
			       uint16_t base)
{
	uint64_t offered;
	int r;

	r = vg_open(d, path, 0);
	if (r)
		return r;
	r = vg_set_owner(d);
	if (!r)
		r = vg_get_features(d, &offered);
	if (!r && (want & ~offered))
		r = -EOPNOTSUPP;
	if (!r)
		r = vg_set_features(d, want);
	if (!r)
		r = vg_set_mem_table(d);
	if (!r)
		r = vg_vq_setup(d, vq, index, num, base);
	return r;
}

/* Same, then start the /dev/vhostx-test backend. */
static inline int vx_test_setup(struct vg_dev *d, struct vg_vq *vq,
				uint64_t want, unsigned int num, uint16_t base)
{
	int r = vx_dev_setup(d, vq, VX_TEST_DEV, want, 0, num, base);

	return r ? r : vg_test_start(d);
}

/*
 * Push one echo buffer on a running vhostx-test queue (out pattern @seed,
 * @len bytes; in buffer @len bytes), wait for it and verify used len and
 * bytes.  Returns 0 or a negative code describing the failure.
 */
static inline int vx_echo_once(struct vg_vq *vq, size_t len, unsigned int seed)
{
	uint8_t *out = vg_alloc(vq->dev, len, 64);
	uint8_t *in = vg_alloc(vq->dev, len, 64);
	uint32_t ulen = 0;
	void *cookie = NULL;
	int head;

	if (!out || !in)
		return -ENOMEM;
	vx_fill(out, len, seed);
	head = vg_vq_add_buf(vq, out, (uint32_t)len, in, (uint32_t)len, out);
	if (head < 0)
		return head;
	vg_vq_kick(vq);
	if (!vg_vq_wait_used(vq, 1, VX_TIMEOUT_MS))
		return -ETIMEDOUT;
	if (vg_vq_get_used(vq, &ulen, &cookie) != head || cookie != out)
		return -EPROTO;
	if (ulen != len)
		return -EMSGSIZE;
	if (vx_check(in, len, seed, 0) >= 0)
		return -EILSEQ;
	return 0;
}

/*
 * Open a tap device for a vhost-net backend: IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR with a 12-byte header (VERSION_1 layout), interface up.
 * @name: in/out, IFNAMSIZ buffer; empty lets the kernel pick.
 */
static inline int vx_tap_open(char *name)
{
	struct ifreq ifr;
	int fd, sk, hdr = sizeof(struct virtio_net_hdr_mrg_rxbuf);

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		goto err;
	strcpy(name, ifr.ifr_name);

	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		goto err;
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(sk, SIOCSIFFLAGS, &ifr);
	}
	close(sk);
	return fd;
err:
	hdr = -errno;
	close(fd);
	return hdr;
}

#endif /* VX_COMMON_H */
