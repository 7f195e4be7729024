// SPDX-License-Identifier: GPL-2.0
/*
 * net_batch_test: bursts.  RX takes packets from tun's ring in batches of
 * up to 64: a burst arrives complete, byte-exact and in order, and packets
 * still in a batch when the RX backend is detached go back to the tap and
 * are received after re-attaching, in order, none lost.  A TX burst of
 * small frames leaves in order.
 */
#include <time.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	256
#define BSZ	2048

FIXTURE(bt) {
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
	size_t hlen;
};

FIXTURE_SETUP(bt)
{
	uint64_t f = NET_F(VIRTIO_F_VERSION_1);
	int big = 64 << 20;

	self->tap = self->pkt = -1;
	self->d.fd = -1;
	NET_REQUIRE_DEV();
	self->hlen = net_hdr_len(f);
	self->ifname[0] = 0;
	ASSERT_EQ(0, net_tap_capture(self->ifname, 12, &self->tap,
					     &self->pkt));
	setsockopt(self->pkt, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(self->pkt, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx, f, RING));
	ASSERT_EQ(0, net_attach_tap(&self->d, self->tap));
}

FIXTURE_TEARDOWN(bt)
{
	net_teardown(&self->d, self->tap, self->pkt);
}

static size_t bt_len(unsigned int i)
{
	return 60 + (i * 37) % 1455;
}

static void bt_post(struct __test_metadata *_metadata, FIXTURE_DATA(bt) *self,
		    unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->d, BSZ, 64);

		ASSERT_NE(NULL, b);
		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b, BSZ, b));
	}
	vg_vq_kick(&self->rx);
}

static void bt_inject(struct __test_metadata *_metadata,
		      FIXTURE_DATA(bt) *self, unsigned int from,
		      unsigned int to)
{
	uint8_t frame[1514];
	unsigned int i;

	for (i = from; i < to; i++) {
		net_make_frame(frame, bt_len(i), i);
		ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame,
					bt_len(i)));
	}
}

/* Receive frames @from..@to-1, in order, byte-exact. */
static void bt_expect(struct __test_metadata *_metadata,
		      FIXTURE_DATA(bt) *self, unsigned int from,
		      unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		uint32_t len = 0;
		void *c = NULL;

		ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("frame %u (of %u..%u) not received", i, from, to);
		ASSERT_EQ(self->hlen + bt_len(i), len) TH_LOG("frame %u", i);
		ASSERT_TRUE(net_frame_ok((uint8_t *)c + self->hlen, bt_len(i), i))
			TH_LOG("frame %u differs or out of order", i);
	}
}

TEST_F(bt, rx_burst_in_order)
{
	const unsigned int n = 240;

	VX_SETUP_SKIPPED();
	bt_post(_metadata, self, RING);
	bt_inject(_metadata, self, 0, n);
	bt_expect(_metadata, self, 0, n);
	ASSERT_EQ(0, vg_vq_wait_used(&self->rx, 1, VX_QUIET_MS));
	if (net_stat(0, "drops") >= 0)
		ASSERT_TRUE(net_stat(0, "drops") == 0);
}

/*
 * Few buffers, many packets: the device has taken a batch from the tap's
 * ring but can place only some.  Detaching must hand the rest back to the
 * tap: after re-attaching they all arrive, in order.
 */
TEST_F(bt, rx_detach_returns_batched_packets)
{
	const unsigned int n = 100, first = 10;

	VX_SETUP_SKIPPED();
	bt_post(_metadata, self, first);
	bt_inject(_metadata, self, 0, n);
	bt_expect(_metadata, self, 0, first);
	usleep(200 * 1000);
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, -1));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	bt_post(_metadata, self, n - first);
	bt_expect(_metadata, self, first, n);
	/* Swapping to the same tap with packets waiting loses none either. */
	bt_post(_metadata, self, 5);
	bt_inject(_metadata, self, n, n + 40);
	bt_expect(_metadata, self, n, n + 5);
	usleep(200 * 1000);
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->pkt));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	bt_post(_metadata, self, 35);
	bt_expect(_metadata, self, n + 5, n + 40);
}

/* A burst of small TX frames leaves the tap complete and in order. */
TEST_F(bt, tx_burst_in_order)
{
	const unsigned int n = 200;
	uint8_t cap[2048];
	unsigned int i;

	VX_SETUP_SKIPPED();
	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->d, self->hlen + 64, 64);

		ASSERT_NE(NULL, b);
		memset(b, 0, self->hlen);
		net_make_frame(b + self->hlen, 64, 1000 + i);
		ASSERT_LE(0, vg_vq_add_buf(&self->tx, b, self->hlen + 64,
					   NULL, 0, b));
	}
	vg_vq_kick(&self->tx);
	for (i = 0; i < n; i++) {
		ssize_t got = net_capture(self->pkt, cap, sizeof(cap),
					  VX_TIMEOUT_MS);

		ASSERT_EQ(64, got) TH_LOG("frame %u", i);
		ASSERT_TRUE(net_frame_ok(cap, 64, 1000 + i))
			TH_LOG("frame %u differs or out of order", i);
	}
	ASSERT_EQ(n, (unsigned int)vg_vq_wait_used(&self->tx, n, VX_TIMEOUT_MS));
}

/*
 * TX of small frames with and without batching into tun (a tap with a
 * finite sndbuf is sent to one packet at a time): both byte-exact and in
 * order; the rates are logged (TCG: compare the ratio only).
 */
static double bt_tx_rate(struct __test_metadata *_metadata,
			 FIXTURE_DATA(bt) *self, unsigned int rounds)
{
	const unsigned int burst = 128;
	uint8_t *pool[128], cap[256];
	struct timespec t0, t1;
	unsigned int r, i;
	double s;

	for (i = 0; i < burst; i++) {
		pool[i] = vg_alloc(&self->d, self->hlen + 64, 64);
		if (!pool[i])
			return -1;
		memset(pool[i], 0, self->hlen);
		net_make_frame(pool[i] + self->hlen, 64, 5000 + i);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < burst; i++)
			if (vg_vq_add_buf(&self->tx, pool[i], self->hlen + 64,
					  NULL, 0, pool[i]) < 0)
				return -1;
		vg_vq_kick(&self->tx);
		if (vg_vq_wait_used(&self->tx, burst, VX_TIMEOUT_MS) < (int)burst)
			return -1;
		for (i = 0; i < burst; i++) {
			void *c = NULL;

			if (vg_vq_get_used(&self->tx, NULL, &c) < 0 ||
			    c != pool[i])
				return -1;
		}
		/* Every frame of the first round checked on the tap. */
		for (i = 0; r == 0 && i < burst; i++)
			if (net_capture(self->pkt, cap, sizeof(cap),
					VX_TIMEOUT_MS) != 64 ||
			    !net_frame_ok(cap, 64, 5000 + i))
				return -2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return s > 0 ? rounds * burst / s : 0;
}

TEST_F(bt, tx_batched_and_unbatched)
{
	double batched, single;
	int sndbuf = 64 << 20;
	uint8_t cap[256];

	VX_SETUP_SKIPPED();
	batched = bt_tx_rate(_metadata, self, 40);
	ASSERT_LT(0, batched) TH_LOG("batched TX failed: %.0f", batched);
	ASSERT_EQ(0, ioctl(self->tap, TUNSETSNDBUF, &sndbuf));
	/* Let the capture socket drain what the rounds after the first sent. */
	while (net_capture(self->pkt, cap, sizeof(cap), 100) > 0)
		;
	single = bt_tx_rate(_metadata, self, 40);
	ASSERT_LT(0, single) TH_LOG("unbatched TX failed: %.0f", single);
	TH_LOG("64-byte TX: %.0f pps batched, %.0f pps one sendmsg each (%.2fx)",
	       batched, single, batched / single);
}

VX_HARNESS_MAIN
