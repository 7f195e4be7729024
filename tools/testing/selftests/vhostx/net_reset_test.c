// SPDX-License-Identifier: GPL-2.0
/*
 * net_reset_test: VIRTIO_F_RING_RESET, one queue reset while the other
 * carries traffic, as QEMU (7.2+) does it for a guest that resizes a ring
 * (ethtool -G): VHOST_NET_SET_BACKEND fd -1 for that queue,
 * VHOST_GET_VRING_BASE, then VRING_NUM (a new size), VRING_BASE 0,
 * VRING_ADDR (a new ring), KICK, CALL and the backend again.
 *
 *  - the device offers bit 40 and takes it;
 *  - RX reset from a second thread, 256 -> 128 -> 256 ..., while the main
 *    thread sends frames on TX: every TX frame arrives once, in order,
 *    intact; every RX frame injected around a reset (some waiting in the
 *    tap when it is detached) arrives once, in order, in the old or the
 *    new ring; the new ring works at its size;
 *  - TX reset the same way while RX runs: the reset ring's taken buffers
 *    are all returned by the time the detach returns (zero-copy ones
 *    too), exactly those frames left the tap, and TX resumes from base 0
 *    of the new ring;
 *  - hostile: the steps out of order (GET_VRING_BASE while attached and
 *    busy, SET_VRING_NUM/BASE while attached, a restart whose size grew
 *    but whose addresses did not), the reset queue moved to another tap;
 *  - no error on any err eventfd, the counters add up.
 *
 * The capture socket on the tap is read by a thread of its own for the
 * whole of the two reset tests: a packet socket may hold zero-copy frames
 * (7.2 queues them uncopied), and a TX detach waits for them, so a capture
 * that nobody reads during the reset would hold the detach up for good.
 *
 * Variants: copy, event index, busy polling on both queues (the RX spin
 * also watches TX), zero-copy TX.
 *
 * Also runs against the kernel's /dev/vhost-net (VX_NET_DEV), where it
 * skips only when that vhost-net predates the feature (6.1).
 */
#include <pthread.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING		256
#define SMALL		128
#define HLEN		12
#define RESETS		6
#define WINDOW		32	/* frames in flight on the running queue */
#define RUN_MIN		400	/* frames the running queue moves at least */
#define BURST		24	/* frames around each reset on the reset queue */
#define RX_BUF		2048
#define RX_SEQ0		0x1000000u	/* RX frames' sequence numbers */
#define BUF_MAX		(HLEN + 1514)

#define CAP_Q		1024	/* captured TX frames not yet checked */

#ifndef VIRTIO_F_RING_RESET
#define VIRTIO_F_RING_RESET	40
#endif

/* A TX frame the capture thread read: its sequence number, intact or not. */
struct rst_frame {
	uint32_t seq;
	uint32_t len;
	bool ok;
};

/*
 * The capture thread and the frames it read, oldest at @head.  @err: the
 * capture failed (-errno), or -ENOBUFS when @q overflowed.
 */
struct rst_cap {
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	volatile bool stop;
	bool running;
	int err;
	unsigned int head, tail;
	struct rst_frame q[CAP_Q];
};

/* Frame length of sequence number @seq: 60 to 1514 bytes. */
static size_t rst_flen(uint32_t seq)
{
	return 60 + (seq * 37u) % (1514 - 60 + 1);
}

FIXTURE(rst) {
	struct net_fx n;
	struct vg_vq alt[2];	/* the other ring of RX (0) and TX (1) */
	struct vg_vq *cur[2];	/* the ring each queue runs on now */
	uint8_t *txb[RING];	/* TX buffers, one per ring entry */
	uint8_t *rxb[2][RING];	/* RX buffers of each RX ring */
	bool zcopy, busypoll;
	/* The reset thread's verdict: NULL or what went wrong. */
	const char *fail;
	char why[160];
	volatile bool done;
	uint32_t tx_seq, rx_seq;	/* next frame of the reset queue */
	unsigned long tx_frames, rx_frames;	/* moved on the reset queue */
	unsigned long noise;	/* RX frames that were not ours */
	struct rst_cap cap;	/* reads the capture socket (two tests) */
};

FIXTURE_VARIANT(rst) {
	bool zcopy;
	unsigned int busyloop_us;	/* both queues busy-poll this long */
	uint64_t features;
};

FIXTURE_VARIANT_ADD(rst, copy) {
	.features = VG_F(VIRTIO_F_VERSION_1),
};

FIXTURE_VARIANT_ADD(rst, event_idx) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX),
};

/* The RX spin also watches TX: a reset of either meets it. */
FIXTURE_VARIANT_ADD(rst, busypoll) {
	.busyloop_us = 200,
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX),
};

FIXTURE_VARIANT_ADD(rst, zerocopy) {
	.zcopy = true,
	.features = VG_F(VIRTIO_F_VERSION_1),
};

FIXTURE_SETUP(rst)
{
	uint64_t offered = 0;
	unsigned int i, q;

	self->cap.running = false;
	net_fx_init(&self->n);
	vx_fixture_init(&self->n.d, &self->alt[0]);
	vx_fixture_init(&self->n.d, &self->alt[1]);
	self->zcopy = false;
	self->busypoll = variant->busyloop_us;
	self->fail = NULL;
	self->done = false;
	self->noise = 0;
	NET_REQUIRE_DEV();
	if (variant->zcopy) {
		if (net_dev_is_upstream())
			SKIP(return, "vhostx only (writable zero-copy parameter)");
		net_zcopy_on(_metadata);
		self->zcopy = true;
	}
	ASSERT_EQ(0, vg_open(&self->n.d, self->n.path, 1 << 20));
	ASSERT_EQ(0, vg_get_features(&self->n.d, &offered));
	vg_close(&self->n.d);
	if (net_dev_is_upstream() && !(offered & VG_F(VIRTIO_F_RING_RESET)))
		SKIP(return, "this vhost-net predates VIRTIO_F_RING_RESET (6.2)");
	/* vhostx offers it on every kernel: not offered is a failure. */
	ASSERT_TRUE(offered & VG_F(VIRTIO_F_RING_RESET));

	ASSERT_EQ(0, net_fx_tap(&self->n, HLEN));
	setsockopt(self->n.pkt, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 8 << 20 },
		   sizeof(int));
	ASSERT_EQ(0, net_fx_dev(&self->n, variant->features |
				VG_F(VIRTIO_F_RING_RESET), RING));
	/* Per queue, not per ring: it stays across the resets. */
	ASSERT_EQ(0, vg_vq_set_state(&self->n.rx,
				     VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
				     variant->busyloop_us));
	ASSERT_EQ(0, vg_vq_set_state(&self->n.tx,
				     VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
				     variant->busyloop_us));
	ASSERT_EQ(0, vg_vq_init(&self->n.d, &self->alt[0], 0, SMALL));
	ASSERT_EQ(0, vg_vq_init(&self->n.d, &self->alt[1], 1, SMALL));
	self->cur[0] = &self->n.rx;
	self->cur[1] = &self->n.tx;
	for (i = 0; i < RING; i++) {
		self->txb[i] = vg_alloc(&self->n.d, BUF_MAX, 64);
		ASSERT_NE(NULL, self->txb[i]);
		for (q = 0; q < 2; q++) {
			self->rxb[q][i] = vg_alloc(&self->n.d, RX_BUF, 64);
			ASSERT_NE(NULL, self->rxb[q][i]);
		}
	}
}

static void rst_cap_stop(FIXTURE_DATA(rst) *self);

FIXTURE_TEARDOWN(rst)
{
	rst_cap_stop(self);
	vg_vq_free(&self->alt[0]);
	vg_vq_free(&self->alt[1]);
	net_fx_teardown(&self->n);
	if (self->zcopy)
		net_zcopy_restore();
}

/* The thread's failure: the first one is kept. */
static void rst_fail(FIXTURE_DATA(rst) *self, const char *fmt, ...)
{
	va_list ap;

	if (self->fail)
		return;
	va_start(ap, fmt);
	vsnprintf(self->why, sizeof(self->why), fmt, ap);
	va_end(ap);
	self->fail = self->why;
}

/* Which RX buffer set belongs to ring @vq. */
static uint8_t **rst_rx_bufs(FIXTURE_DATA(rst) *self, struct vg_vq *vq)
{
	return self->rxb[vq == &self->alt[0]];
}

/* Fill RX ring @vq with its buffers (as many as fit), kick. */
static int rst_rx_fill(FIXTURE_DATA(rst) *self, struct vg_vq *vq)
{
	uint8_t **b = rst_rx_bufs(self, vq);
	unsigned int i;

	for (i = 0; i < vq->num && vq->num_free; i++)
		if (vg_vq_add_buf(vq, NULL, 0, b[i], RX_BUF, b[i]) < 0)
			return -ENOSPC;
	vg_vq_kick(vq);
	return 0;
}

/* Queue TX frame @seq on ring @vq (its buffer: the slot's), kick. */
static int rst_tx_add(FIXTURE_DATA(rst) *self, struct vg_vq *vq,
		      uint32_t seq, bool kick)
{
	uint8_t *b = self->txb[seq % RING];
	size_t flen = rst_flen(seq);

	memset(b, 0, HLEN);
	vg_frame_make(b + HLEN, flen, seq);
	if (vg_vq_add_buf(vq, b, (uint32_t)(HLEN + flen), NULL, 0, b) < 0)
		return -ENOSPC;
	if (kick)
		vg_vq_kick(vq);
	return 0;
}

/*
 * Reap the next RX frame of @vq, which must be frame @seq, intact (other
 * traffic the host stack sends is skipped, its buffer given back): 1, 0
 * if none came within @ms, -1 if it is wrong (the reason is recorded).
 * With @refill, the frame's buffer goes back to the ring.
 */
static int rst_rx_one(FIXTURE_DATA(rst) *self, struct vg_vq *vq,
		      uint32_t seq, int ms, bool refill)
{
	uint32_t len, got = 0;
	void *c;
	int r, ok;

	for (;;) {
		if (!vg_vq_used_pending(vq) && !vg_vq_wait_used(vq, 1, ms))
			return 0;
		r = vg_vq_get_used(vq, &len, &c);
		if (r < 0) {
			rst_fail(self, "RX ring %u: used entry refused (%d)",
				 vq->num, r);
			return -1;
		}
		ok = len >= HLEN ? vg_frame_parse((uint8_t *)c + HLEN,
						  len - HLEN, &got) : 0;
		if (ok >= 0 || !refill)
			break;
		self->noise++;
		vg_vq_add_buf(vq, NULL, 0, c, RX_BUF, c);
		vg_vq_kick(vq);
	}
	if (ok < 0) {
		self->noise++;
		return rst_rx_one(self, vq, seq, ms, refill);
	}
	if (len != HLEN + rst_flen(seq) ||
	    !vg_frame_ok((uint8_t *)c + HLEN, len - HLEN, seq)) {
		rst_fail(self, "RX ring %u: expected frame %#x (%zu bytes), got %#x (%u)",
			 vq->num, seq, HLEN + rst_flen(seq), got, len);
		return -1;
	}
	if (refill) {
		vg_vq_add_buf(vq, NULL, 0, c, RX_BUF, c);
		vg_vq_kick(vq);
	}
	return 1;
}

/*
 * The capture thread: reads every frame on the tap as it comes and queues
 * the TX ones (the device's; frames of the other direction and the host
 * stack's own are skipped) for rst_capture_one().
 */
static void *rst_capturer(void *arg)
{
	FIXTURE_DATA(rst) *self = arg;
	struct rst_cap *c = &self->cap;
	uint8_t f[2048];
	struct rst_frame fr;
	ssize_t n;
	int err = 0;

	while (!c->stop && !err) {
		n = vg_frame_capture(self->n.pkt, f, sizeof(f), 20);
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			err = (int)n;
		} else {
			if (vg_frame_parse(f, (size_t)n, &fr.seq) < 0 ||
			    fr.seq >= RX_SEQ0)
				continue;
			fr.len = (uint32_t)n;
			fr.ok = (size_t)n == rst_flen(fr.seq) &&
				vg_frame_ok(f, (size_t)n, fr.seq);
		}
		pthread_mutex_lock(&c->lock);
		if (!err && c->tail - c->head == CAP_Q)
			err = -ENOBUFS;
		if (err)
			c->err = err;
		else
			c->q[c->tail++ % CAP_Q] = fr;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

/* Start reading the capture socket in a thread: 0 or an errno. */
static int rst_cap_start(FIXTURE_DATA(rst) *self)
{
	struct rst_cap *c = &self->cap;
	int r;

	c->stop = false;
	c->err = 0;
	c->head = c->tail = 0;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	r = pthread_create(&c->th, NULL, rst_capturer, self);
	c->running = !r;
	return r;
}

static void rst_cap_stop(FIXTURE_DATA(rst) *self)
{
	if (!self->cap.running)
		return;
	self->cap.stop = true;
	pthread_join(self->cap.th, NULL);
	self->cap.running = false;
}

/*
 * Take the frame the device sent after @seq - 1 from the capture thread's
 * queue, which must be @seq, intact: 1, 0 if none came within @ms, -1
 * when wrong.
 */
static int rst_capture_one(FIXTURE_DATA(rst) *self, uint32_t seq, int ms)
{
	struct rst_cap *c = &self->cap;
	struct rst_frame fr;
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (c->head == c->tail && !c->err && !r)
		r = pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	if (c->head == c->tail) {
		pthread_mutex_unlock(&c->lock);
		if (!c->err)
			return 0;
		rst_fail(self, "capture: %s", strerror(-c->err));
		return -1;
	}
	fr = c->q[c->head++ % CAP_Q];
	pthread_mutex_unlock(&c->lock);
	if (fr.seq != seq || !fr.ok) {
		rst_fail(self, "TX: expected frame %#x (%zu bytes), got %#x (%u%s)",
			 seq, rst_flen(seq), fr.seq, fr.len,
			 fr.ok ? "" : ", damaged");
		return -1;
	}
	return 1;
}

/* Inject RX frame @seq into the tap (towards the RX queue). */
static int rst_inject(FIXTURE_DATA(rst) *self, uint32_t seq)
{
	static __thread uint8_t f[1514];
	size_t flen = rst_flen(seq);

	vg_frame_make(f, flen, seq);
	return vg_frame_inject(self->n.pkt, self->n.ifname, f, flen);
}

/* Nothing was signalled on ring @vq's err eventfd. */
static bool rst_no_error(struct vg_vq *vq)
{
	return vq->err_fd < 0 || vg_read_eventfd(vq->err_fd) == 0;
}

/*
 * QEMU's queue reset of queue @q: detach, stop (its base), then the next
 * ring of the other size programmed from base 0, and @fd attached.  On
 * success every buffer the device took from the old ring is back in its
 * used ring (@base, the old ring's used index, is returned).
 */
static int rst_reset(FIXTURE_DATA(rst) *self, unsigned int q, int fd,
		     unsigned int *base)
{
	struct vg_vq *old = self->cur[q];
	struct vg_vq *next = old == &self->alt[q] ?
			     (q ? &self->n.tx : &self->n.rx) : &self->alt[q];
	int r;

	r = vg_net_set_backend(&self->n.d, q, -1);
	if (r)
		return rst_fail(self, "detach vq %u: %d", q, r), r;
	r = vg_vq_get_base(old, base);
	if (r)
		return rst_fail(self, "GET_VRING_BASE vq %u: %d", q, r), r;
	if ((uint16_t)*base != vg_vq_used_idx(old))
		return rst_fail(self, "vq %u: base %u but used index %u after the detach",
				q, *base, vg_vq_used_idx(old)), -EIO;
	if (!rst_no_error(old))
		return rst_fail(self, "vq %u (%u entries): err eventfd signalled",
				q, old->num), -EIO;
	r = vg_vq_program(next, 0);
	if (!r)
		r = vg_net_set_backend(&self->n.d, q, fd);
	if (r)
		return rst_fail(self, "restart vq %u at %u: %d", q, next->num, r), r;
	self->cur[q] = next;
	return 0;
}

/*
 * RX reset cycles: frames injected just before the detach (some still in
 * the tap then) arrive once, in order, in the old ring or the new one;
 * then more arrive in the new ring.
 */
static void *rst_rx_resetter(void *arg)
{
	FIXTURE_DATA(rst) *self = arg;
	unsigned int i, k, base;
	uint32_t seq = RX_SEQ0, next = RX_SEQ0;
	struct vg_vq *old;
	int r;

	for (i = 0; i < RESETS && !self->fail; i++) {
		for (k = 0; k < BURST; k++)
			if (rst_inject(self, seq++))
				rst_fail(self, "inject: %s", strerror(errno));
		/* Some are received into the old ring, some wait. */
		usleep((i % 3) * 1000);
		old = self->cur[0];
		if (rst_reset(self, 0, self->n.tap, &base))
			break;
		/* What the old ring got: the first frames, in order. */
		while (vg_vq_used_pending(old) && next < seq) {
			r = rst_rx_one(self, old, next, 0, false);
			if (r != 1) {
				rst_fail(self, "RX ring %u: used entry vanished",
					 old->num);
				goto out;
			}
			next++;
			self->rx_frames++;
		}
		if (rst_rx_fill(self, self->cur[0])) {
			rst_fail(self, "RX fill at %u", self->cur[0]->num);
			break;
		}
		/* The rest, and a second burst, in the new ring. */
		for (k = 0; k < BURST; k++)
			if (rst_inject(self, seq++))
				rst_fail(self, "inject: %s", strerror(errno));
		while (next < seq) {
			r = rst_rx_one(self, self->cur[0], next, VX_TIMEOUT_MS,
				       false);
			if (r == 0)
				rst_fail(self, "RX ring %u: frame %#x not received after reset %u",
					 self->cur[0]->num, next, i);
			if (r != 1)
				goto out;
			next++;
			self->rx_frames++;
		}
	}
out:
	self->rx_seq = next;
	self->done = true;
	return NULL;
}

/*
 * TX reset cycles: a burst queued and kicked, the queue reset at once;
 * exactly the buffers the device took (base) left the tap, in order, and
 * are all used; the rest go again on the new ring, from base 0.
 */
static void *rst_tx_resetter(void *arg)
{
	FIXTURE_DATA(rst) *self = arg;
	uint32_t seq = 0, sent = 0;
	unsigned int i, k, base;
	int r;

	for (i = 0; i < RESETS && !self->fail; i++) {
		struct vg_vq *vq = self->cur[1];
		uint16_t start = vq->avail_idx;

		for (k = 0; k < BURST && vq->num_free; k++)
			if (rst_tx_add(self, vq, seq + k, k + 1 == BURST))
				rst_fail(self, "TX add");
		vg_vq_kick(vq);
		usleep((i % 3) * 1000);
		if (rst_reset(self, 1, self->n.tap, &base))
			break;
		/* Taken buffers were sent: exactly those, in order. */
		for (k = 0; k < (uint16_t)(base - start); k++) {
			if (vg_vq_get_used(vq, NULL, NULL) < 0) {
				rst_fail(self, "TX ring %u: used entry %u refused",
					 vq->num, k);
				goto out;
			}
			r = rst_capture_one(self, seq, VX_TIMEOUT_MS);
			if (r == 0)
				rst_fail(self, "TX frame %#x taken but not sent", seq);
			if (r != 1)
				goto out;
			seq++;
			sent++;
		}
		/* The untaken ones go again, on the new ring, then more. */
		vq = self->cur[1];
		for (k = 0; k < BURST; k++)
			if (rst_tx_add(self, vq, seq + k, k + 1 == BURST))
				rst_fail(self, "TX add at %u", vq->num);
		for (k = 0; k < BURST; k++) {
			r = rst_capture_one(self, seq, VX_TIMEOUT_MS);
			if (r == 0)
				rst_fail(self, "TX ring %u: frame %#x not sent after reset %u",
					 vq->num, seq, i);
			if (r != 1)
				goto out;
			seq++;
			sent++;
		}
		if (!vg_vq_wait_used(vq, BURST, VX_TIMEOUT_MS)) {
			rst_fail(self, "TX ring %u: buffers not returned", vq->num);
			goto out;
		}
		while (vg_vq_get_used(vq, NULL, NULL) >= 0)
			;
		if (vq->num_free != vq->num)
			rst_fail(self, "TX ring %u: %u buffers not returned",
				 vq->num, vq->num - vq->num_free);
	}
out:
	self->tx_seq = seq;
	self->tx_frames = sent;
	self->done = true;
	return NULL;
}

/*
 * One frame awaited on the running queue (@r: 1 it came, 0 not yet, -1
 * wrong): true when the loop must stop (wrong, or nothing for the
 * timeout since the last one).
 */
static bool rst_step(FIXTURE_DATA(rst) *self, int r, int64_t *last,
		     uint32_t *seen, uint32_t seq, const char *dir)
{
	if (r < 0)
		return true;
	if (r > 0) {
		(*seen)++;
		*last = vg_now_us();
		return false;
	}
	if (vg_now_us() - *last <= VX_TIMEOUT_MS * 1000LL)
		return false;
	rst_fail(self, "%s stalled at frame %#x of %#x", dir, *seen, seq);
	return true;
}

/* The counters (vhostx only) and err eventfds at the end of a test. */
static void rst_check_end(struct __test_metadata *_metadata,
			  FIXTURE_DATA(rst) *self, unsigned long rx_bufs,
			  unsigned long tx_bufs)
{
	unsigned int q;

	for (q = 0; q < 2; q++) {
		EXPECT_TRUE(rst_no_error(q ? &self->n.tx : &self->n.rx));
		EXPECT_TRUE(rst_no_error(&self->alt[q]));
	}
	if (net_dev_is_upstream())
		return;
	EXPECT_EQ(0, NET_COUNTER(&self->n, 0, "errors"));
	EXPECT_EQ(0, NET_COUNTER(&self->n, 1, "errors"));
	EXPECT_EQ(0, NET_COUNTER(&self->n, 0, "broken"));
	EXPECT_EQ(0, NET_COUNTER(&self->n, 1, "broken"));
	EXPECT_EQ(self->cur[0]->num, NET_COUNTER(&self->n, 0, "num"));
	EXPECT_EQ(self->cur[1]->num, NET_COUNTER(&self->n, 1, "num"));
	/* Every buffer used once, whatever ring it was on. */
	EXPECT_EQ(rx_bufs, NET_COUNTER(&self->n, 0, "bufs"));
	EXPECT_EQ(tx_bufs, NET_COUNTER(&self->n, 1, "bufs"));
	EXPECT_EQ(0, NET_COUNTER(&self->n, 0, "drops"));
	EXPECT_EQ(0, NET_COUNTER(&self->n, 1, "drops"));
	EXPECT_EQ(0, NET_COUNTER(&self->n, 1, "pending"));
	/* The busy polling went on across the resets. */
	if (self->busypoll)
		EXPECT_LT(0, NET_COUNTER(&self->n, 0, "spins") +
			     NET_COUNTER(&self->n, 1, "spins"));
}

/*
 * TX runs from the main thread, a window of frames in flight, each
 * captured once, in order and intact, while a second thread resets RX.
 */
VX_TEST_F_TIMEOUT(rst, rx_reset_while_tx_runs, 300)
{
	uint32_t seq = 0, seen = 0;
	int64_t last = vg_now_us();
	pthread_t th;
	int r;

	ASSERT_EQ(0, rst_cap_start(self));
	ASSERT_EQ(0, rst_rx_fill(self, &self->n.rx));
	ASSERT_EQ(0, pthread_create(&th, NULL, rst_rx_resetter, self));
	while ((!self->done || seen < RUN_MIN) && !self->fail) {
		while (seq - seen < WINDOW && self->n.tx.num_free) {
			if (rst_tx_add(self, &self->n.tx, seq, false))
				break;
			seq++;
		}
		vg_vq_kick(&self->n.tx);
		r = rst_capture_one(self, seen, 20);
		if (rst_step(self, r, &last, &seen, seq, "TX"))
			break;
		while (vg_vq_get_used(&self->n.tx, NULL, NULL) >= 0)
			;
	}
	self->done = true;
	pthread_join(th, NULL);
	ASSERT_EQ(NULL, self->fail) TH_LOG("%s", self->fail);
	/* The rest of the window, then every TX buffer back. */
	while (seen < seq) {
		ASSERT_EQ(1, rst_capture_one(self, seen, VX_TIMEOUT_MS))
			TH_LOG("frame %u of %u: %s", seen, seq,
			       self->fail ? self->fail : "not sent");
		seen++;
	}
	while (self->n.tx.num_free < RING) {
		ASSERT_LT(0, vg_vq_wait_used(&self->n.tx, 1, VX_TIMEOUT_MS));
		ASSERT_LE(0, vg_vq_get_used(&self->n.tx, NULL, NULL));
	}
	TH_LOG("%u TX frames while RX was reset %u times (%lu RX frames)",
	       seq, RESETS, self->rx_frames);
	ASSERT_EQ(RX_SEQ0 + 2 * BURST * RESETS, self->rx_seq);
	EXPECT_EQ(SMALL * (RESETS % 2) + RING * !(RESETS % 2),
		  self->cur[0]->num);
	rst_check_end(_metadata, self, self->rx_frames + self->noise, seq);
}

/*
 * RX runs from the main thread (frames injected with a window, each
 * received once, in order and intact, its buffer given back) while a
 * second thread resets TX.
 */
VX_TEST_F_TIMEOUT(rst, tx_reset_while_rx_runs, 300)
{
	uint32_t seq = RX_SEQ0, seen = RX_SEQ0;
	int64_t last = vg_now_us();
	pthread_t th;
	int r;

	ASSERT_EQ(0, rst_cap_start(self));
	ASSERT_EQ(0, rst_rx_fill(self, &self->n.rx));
	ASSERT_EQ(0, pthread_create(&th, NULL, rst_tx_resetter, self));
	while ((!self->done || seen - RX_SEQ0 < RUN_MIN) && !self->fail) {
		while (seq - seen < WINDOW) {
			ASSERT_EQ(0, rst_inject(self, seq));
			seq++;
		}
		r = rst_rx_one(self, &self->n.rx, seen, 20, true);
		if (rst_step(self, r, &last, &seen, seq, "RX"))
			break;
	}
	self->done = true;
	pthread_join(th, NULL);
	ASSERT_EQ(NULL, self->fail) TH_LOG("%s", self->fail);
	while (seen < seq) {
		ASSERT_EQ(1, rst_rx_one(self, &self->n.rx, seen, VX_TIMEOUT_MS,
					true))
			TH_LOG("RX frame %#x of %#x: %s", seen, seq,
			       self->fail ? self->fail : "not received");
		seen++;
	}
	TH_LOG("%u RX frames while TX was reset %u times (%lu TX frames)",
	       seen - RX_SEQ0, RESETS, self->tx_frames);
	ASSERT_EQ(self->tx_seq, self->tx_frames);
	ASSERT_LE(BURST * RESETS, self->tx_frames);
	EXPECT_EQ(SMALL * (RESETS % 2) + RING * !(RESETS % 2),
		  self->cur[1]->num);
	rst_check_end(_metadata, self, seen - RX_SEQ0 + self->noise,
		      self->tx_frames);
}

/* RX frames @from .. @to - 1 injected on @pkt/@ifname, received in @vq. */
static void rst_rx_check(struct __test_metadata *_metadata,
			 FIXTURE_DATA(rst) *self, struct vg_vq *vq, int pkt,
			 const char *ifname, uint32_t from, uint32_t to)
{
	static uint8_t f[1514];
	uint32_t seq;

	for (seq = from; seq < to; seq++) {
		vg_frame_make(f, rst_flen(seq), seq);
		ASSERT_EQ(0, vg_frame_inject(pkt, ifname, f, rst_flen(seq)));
	}
	for (seq = from; seq < to; seq++)
		ASSERT_EQ(1, rst_rx_one(self, vq, seq, VX_TIMEOUT_MS, true))
			TH_LOG("RX ring %u, frame %#x: %s", vq->num, seq,
			       self->fail ? self->fail : "not received");
}

/*
 * The sequence done wrong, on RX while TX carries traffic: the size and
 * base changed while attached (refused), the queue stopped while still
 * attached, restarted with a size that grew but addresses that did not
 * (the VMM's mistake: its own guest's ring is misread, the kernel stays
 * sound), restarted on another tap.  A correct reset always recovers;
 * TX never notices.
 */
VX_TEST_F_TIMEOUT(rst, hostile_sequences, 300)
{
	struct vg_vq *big = &self->n.rx, *small = &self->alt[0];
	char ifname2[IFNAMSIZ] = "";
	int tap2 = -1, pkt2 = -1;
	struct net_pump p;
	unsigned int base;

	net_pump_init(_metadata, &p, &self->n, 200);
	ASSERT_EQ(0, vg_tap_capture(ifname2, HLEN, &tap2, &pkt2));
	ASSERT_EQ(0, rst_rx_fill(self, big));
	net_pump_start(_metadata, &p);

	/* Attached: no new size or base. */
	EXPECT_EQ(-EBUSY, vg_vq_set_state(big, VHOST_SET_VRING_NUM, SMALL));
	EXPECT_EQ(-EBUSY, vg_vq_set_state(big, VHOST_SET_VRING_BASE, 0));
	rst_rx_check(_metadata, self, big, self->n.pkt, self->n.ifname,
		     RX_SEQ0, RX_SEQ0 + 8);

	/* Stopped before the detach, then reset properly. */
	ASSERT_EQ(0, vg_vq_get_base(big, &base));
	EXPECT_EQ(8 + self->noise, base);
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	ASSERT_EQ(0, vg_vq_get_base(big, &base));
	EXPECT_EQ(8 + self->noise, base);
	ASSERT_EQ(0, vg_vq_program(small, 0));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	ASSERT_EQ(0, rst_rx_fill(self, small));
	rst_rx_check(_metadata, self, small, self->n.pkt, self->n.ifname,
		     RX_SEQ0 + 8, RX_SEQ0 + 16);

	/* Grown to 256 on the 128-entry ring's addresses. */
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	ASSERT_EQ(0, vg_vq_get_base(small, &base));
	ASSERT_EQ(0, vg_vq_set_state(small, VHOST_SET_VRING_NUM, RING));
	ASSERT_EQ(0, vg_vq_set_state(small, VHOST_SET_VRING_BASE, 0));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	rst_inject(self, RX_SEQ0 + 100);
	vg_vq_kick(small);
	usleep(100 * 1000);
	/* Whatever the device made of it, a correct reset recovers. */
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	ASSERT_EQ(0, vg_vq_get_base(small, &base));
	vg_read_eventfd(small->err_fd);
	ASSERT_EQ(0, vg_vq_program(big, 0));
	/* On another tap this time. */
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, tap2));
	ASSERT_EQ(0, rst_rx_fill(self, big));
	rst_rx_check(_metadata, self, big, pkt2, ifname2, RX_SEQ0 + 16,
		     RX_SEQ0 + 24);
	EXPECT_TRUE(rst_no_error(big));

	/* And back to the first tap, at 128, from a reset while stopped. */
	ASSERT_EQ(0, vg_vq_get_base(big, &base));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	ASSERT_EQ(0, vg_vq_program(small, 0));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	ASSERT_EQ(0, rst_rx_fill(self, small));
	/* The grown ring's frame, if it was still in the tap, comes first. */
	if (vg_vq_wait_used(small, 1, 300))
		ASSERT_EQ(1, rst_rx_one(self, small, RX_SEQ0 + 100, 0, true))
			TH_LOG("%s", self->fail);
	rst_rx_check(_metadata, self, small, self->n.pkt, self->n.ifname,
		     RX_SEQ0 + 24, RX_SEQ0 + 32);
	EXPECT_TRUE(rst_no_error(small));
	close(pkt2);
	close(tap2);

	/* TX ran throughout: every buffer back, no error. */
	usleep(100 * 1000);
	net_pump_finish(_metadata, &p);
	EXPECT_EQ(RING, self->n.tx.num_free);
	EXPECT_TRUE(rst_no_error(&self->n.tx));
	if (!net_dev_is_upstream()) {
		EXPECT_EQ(0, NET_COUNTER(&self->n, 1, "errors"));
		EXPECT_EQ(p.sent, NET_COUNTER(&self->n, 1, "bufs"));
	}
	TH_LOG("%lu TX frames meanwhile", p.sent);
}

VX_HARNESS_MAIN
