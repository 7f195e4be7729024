/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the net_*_test programs (header-only).  Include after
 * kselftest_harness.h and vx_common.h.
 *
 * The device under test is /dev/vhostx-net, or $VX_NET_DEV when set: the
 * same programs run against the kernel's own /dev/vhost-net to check that
 * their expectations match upstream behaviour (which has no counters: a
 * test reads them only when !net_dev_is_upstream()).
 *
 * Traffic goes guest TX ring -> device -> tap -> AF_PACKET capture socket,
 * and AF_PACKET send -> tap -> device -> guest RX ring, with the test
 * frames of vguest_net.h.
 */
#ifndef NET_COMMON_H
#define NET_COMMON_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <poll.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "vguest_net.h"

static inline const char *net_dev_path(void)
{
	const char *p = getenv("VX_NET_DEV");

	return p && *p ? p : VX_NET_DEV;
}

/* The kernel's own vhost-net is under test (see above). */
static inline bool net_dev_is_upstream(void)
{
	return !strcmp(net_dev_path(), VHOST_NET_DEV);
}

/*
 * Counter @name of queue @vq of the device under test (VX_COUNTER(): a
 * counter vhostx cannot show fails the test); 0 on the kernel's
 * vhost-net, which has none: assertions on it are for vhostx only.
 */
#define NET_COUNTER(n, vq, name)					\
	(net_dev_is_upstream() ? 0 : VX_COUNTER((n)->d.fd, (vq), (name)))

#define NET_REQUIRE_DEV() do {						\
	VX_REQUIRE_DEV(net_dev_path());					\
	if (access("/dev/net/tun", F_OK))				\
		SKIP(return, "/dev/net/tun not present");		\
} while (0)

/*
 * A variant that negotiates VIRTIO_F_IN_ORDER: vhostx offers it on every
 * kernel; the kernel's vhost-net only from 6.17 on, so only there is a
 * missing bit a reason to skip.
 */
#define NET_REQUIRE_FEATURES(f) do {					\
	struct vg_dev _d;						\
	uint64_t _off = 0;						\
									\
	if (!net_dev_is_upstream() || !((f) & VG_F(VIRTIO_F_IN_ORDER)))	\
		break;							\
	if (vg_open(&_d, net_dev_path(), 1 << 20))			\
		break;							\
	vg_get_features(&_d, &_off);					\
	vg_close(&_d);							\
	if (!(_off & VG_F(VIRTIO_F_IN_ORDER)))				\
		SKIP(return, "this vhost-net predates VIRTIO_F_IN_ORDER"); \
} while (0)

#define NET_ZCOPY_PARAM "/sys/module/vhostx_net/parameters/experimental_zcopytx"
#define NET_ZCOPY_MIN_PARAM "/sys/module/vhostx_net/parameters/zcopy_min_len"

/* Write vhostx_net's experimental_zcopytx ("0"/"1"): 0 or -errno. */
static inline int net_zcopy_param(const char *val)
{
	return vx_param_write(NET_ZCOPY_PARAM, val);
}

/*
 * Write vhostx_net's zcopy_min_len (bytes, read at attach): 0 or -errno.
 * The zero-copy tests use upstream vhost-net's threshold, 256, so their
 * 1514-byte frames go zero-copy; NET_ZCOPY_MIN_DEFAULT restores the
 * module's default.
 */
#define NET_ZCOPY_MIN_TESTS	"256"
#define NET_ZCOPY_MIN_DEFAULT	"4096"
static inline int net_zcopy_min(const char *val)
{
	return vx_param_write(NET_ZCOPY_MIN_PARAM, val);
}

/*
 * Turn zero-copy TX on for the tests that are about it, with the tests'
 * threshold: both parameters are 0644 on vhostx_net, and a failure to set
 * them fails the test (it would hide the zero-copy path).
 */
static inline void net_zcopy_on(struct __test_metadata *_metadata)
{
	int r = net_zcopy_param("1");

	ASSERT_EQ(0, r) TH_LOG("%s: %s", NET_ZCOPY_PARAM, strerror(-r));
	r = net_zcopy_min(NET_ZCOPY_MIN_TESTS);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", NET_ZCOPY_MIN_PARAM, strerror(-r));
}

/*
 * Back to the module's defaults, zero-copy on with a 4096-byte threshold
 * (fixture teardown: best effort).
 */
#define NET_ZCOPY_DEFAULT	"1"
static inline void net_zcopy_restore(void)
{
	net_zcopy_param(NET_ZCOPY_DEFAULT);
	net_zcopy_min(NET_ZCOPY_MIN_DEFAULT);
}

/* Run a shell command (printf-style); its exit status, or -1. */
static inline int net_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/*
 * Virtio-net header bytes in guest buffers for @features: 12 with
 * MRG_RXBUF or VERSION_1, else 10.
 */
static inline size_t net_hdr_len(uint64_t features)
{
	return features & (VG_F(VIRTIO_NET_F_MRG_RXBUF) |
			   VG_F(VIRTIO_F_VERSION_1)) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		sizeof(struct virtio_net_hdr);
}

/* Reap used entries until one arrives (or timeout): returns head or -errno. */
static inline int net_wait_used(struct vg_vq *vq, uint32_t *len, void **cookie,
				int ms)
{
	if (!vg_vq_wait_used(vq, 1, ms))
		return -ETIMEDOUT;
	return vg_vq_get_used(vq, len, cookie);
}

/*
 * What a net test works with: the device under test and its queues, a
 * tap and a packet socket capturing test frames on it.  Fixtures embed it
 * as `n`; set-up is net_fx_init(), then net_fx_tap() and net_fx_dev()
 * (or net_fx_up(), both; net_fx_open() leaves the queues detached),
 * teardown net_fx_teardown().
 */
struct net_fx {
	const char *path;	/* the device: net_dev_path() by default */
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
	size_t hlen;		/* virtio-net header bytes in guest buffers */
};

/* Nothing open yet: teardown may follow any step of the set-up. */
static inline void net_fx_init(struct net_fx *n)
{
	vx_fixture_init(&n->d, &n->rx);
	vx_fixture_init(&n->d, &n->tx);
	n->tap = n->pkt = -1;
	n->ifname[0] = 0;
	n->path = net_dev_path();
}

/* A new tap with a @hdr_len-byte vnet header, test frames captured on it. */
static inline int net_fx_tap(struct net_fx *n, int hdr_len)
{
	n->ifname[0] = 0;
	return vg_tap_capture(n->ifname, hdr_len, &n->tap, &n->pkt);
}

/*
 * Open the device, set up RX (vq 0) and TX (vq 1) with @features and
 * rings of @num; no backend attached.
 */
static inline int net_fx_open(struct net_fx *n, uint64_t features,
			      unsigned int num)
{
	n->hlen = net_hdr_len(features);
	return vg_net_open(&n->d, &n->rx, &n->tx, n->path, 0, features, num);
}

/* The device with @features and rings of @num, both queues on the tap. */
static inline int net_fx_dev(struct net_fx *n, uint64_t features,
			     unsigned int num)
{
	int r = net_fx_open(n, features, num);

	return r ? r : vg_net_attach(&n->d, n->tap);
}

/* Both: a tap with the header the features give, then the device. */
static inline int net_fx_up(struct net_fx *n, uint64_t features,
			    unsigned int num)
{
	int r = net_fx_tap(n, (int)net_hdr_len(features));

	return r ? r : net_fx_dev(n, features, num);
}

/* Detach (if the device is open), close everything. */
static inline void net_fx_teardown(struct net_fx *n)
{
	vg_net_close(&n->d, &n->rx, &n->tx);
	if (n->pkt >= 0)
		close(n->pkt);
	if (n->tap >= 0)
		close(n->tap);
	n->pkt = n->tap = -1;
}

/*
 * Queue one TX frame (vg_frame_make(@seq), @flen bytes) behind a zeroed
 * header, and kick.  Returns the buffer, or NULL.
 */
static inline uint8_t *net_tx_frame(struct net_fx *n, size_t flen,
				    uint32_t seq)
{
	uint8_t *b = vg_alloc(&n->d, n->hlen + flen, 64);

	if (!b)
		return NULL;
	memset(b, 0, n->hlen);
	vg_frame_make(b + n->hlen, flen, seq);
	if (vg_vq_add_buf(&n->tx, b, (uint32_t)(n->hlen + flen), NULL, 0,
			  b) < 0)
		return NULL;
	vg_vq_kick(&n->tx);
	return b;
}

/* Post @count RX buffers of @size bytes each, kick.  0 or -errno. */
static inline int net_rx_post(struct net_fx *n, unsigned int count,
			      size_t size)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		uint8_t *b = vg_alloc(&n->d, size, 64);

		if (!b)
			return -ENOMEM;
		if (vg_vq_add_buf(&n->rx, NULL, 0, b, (uint32_t)size, b) < 0)
			return -ENOSPC;
	}
	vg_vq_kick(&n->rx);
	return 0;
}

/*
 * A thread that keeps the TX ring of a net fixture full of frames and
 * reaps what completes, until net_pump_stop(): traffic for tests that do
 * something else meanwhile (swap backends, close, starve RX...).
 */
#define NET_PUMP_BUFS	256

struct net_pump {
	struct net_fx *n;
	uint8_t *bufs[NET_PUMP_BUFS];	/* header + frame, queued in turn */
	size_t len;
	volatile bool stop;
	volatile unsigned long sent, done;
	int error;			/* a buffer could not be queued */
	pthread_t th;
};

static inline void *net_pump_fn(void *arg)
{
	struct net_pump *p = arg;
	struct vg_vq *tx = &p->n->tx;
	unsigned int next = 0;

	while (!p->stop) {
		while (tx->num_free && !p->stop) {
			uint8_t *b = p->bufs[next++ % NET_PUMP_BUFS];

			if (vg_vq_add_buf(tx, b, (uint32_t)p->len, NULL, 0,
					  b) < 0) {
				p->error = 1;
				return NULL;
			}
			p->sent++;
		}
		vg_vq_kick(tx);
		vg_vq_wait_used(tx, 1, 20);
		while (vg_vq_get_used(tx, NULL, NULL) >= 0)
			p->done++;
	}
	return NULL;
}

/* @p's buffers: test frames of @flen bytes behind zeroed headers. */
static inline void net_pump_init(struct __test_metadata *_metadata,
				 struct net_pump *p, struct net_fx *n,
				 size_t flen)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->len = n->hlen + flen;
	for (i = 0; i < NET_PUMP_BUFS; i++) {
		p->bufs[i] = vg_alloc(&n->d, p->len, 64);
		ASSERT_NE(NULL, p->bufs[i]);
		memset(p->bufs[i], 0, n->hlen);
		vg_frame_make(p->bufs[i] + n->hlen, flen, i);
	}
}

static inline void net_pump_start(struct __test_metadata *_metadata,
				  struct net_pump *p)
{
	ASSERT_EQ(0, pthread_create(&p->th, NULL, net_pump_fn, p));
}

static inline void net_pump_stop(struct net_pump *p)
{
	p->stop = true;
	pthread_join(p->th, NULL);
}

/*
 * Stop the pump, then wait for every buffer it queued to come back: the
 * pump queued some and none failed to queue.
 */
static inline void net_pump_finish(struct __test_metadata *_metadata,
				   struct net_pump *p)
{
	net_pump_stop(p);
	ASSERT_EQ(0, p->error);
	ASSERT_LT(0, p->sent);
	while (p->done < p->sent) {
		ASSERT_LE(0, net_wait_used(&p->n->tx, NULL, NULL,
					   VX_TIMEOUT_MS))
			TH_LOG("%lu of %lu TX buffers completed", p->done,
			       p->sent);
		p->done++;
	}
}

#endif /* NET_COMMON_H */
