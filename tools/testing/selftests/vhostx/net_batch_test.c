// SPDX-License-Identifier: GPL-2.0
/*
 * net_batch_test: bursts.  RX takes packets from tun's ring in batches of
 * up to 64: a burst arrives complete, byte-exact and in order, and packets
 * still in a batch when the RX backend is detached go back to the tap and
 * are received after re-attaching, in order, none lost.  A TX burst of
 * small frames leaves in order, through TX batches into tun (counted in
 * the "batched" counter) unless the tap's send buffer is limited.
 */
#include <time.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	256
#define BSZ	2048

FIXTURE(bt) {
	struct net_fx n;
};

FIXTURE_VARIANT(bt) {
	uint64_t features;
};

FIXTURE_VARIANT_ADD(bt, split) { .features = VG_F(VIRTIO_F_VERSION_1) };
FIXTURE_VARIANT_ADD(bt, packed) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_F_RING_PACKED) };
FIXTURE_VARIANT_ADD(bt, in_order) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_F_IN_ORDER) };

FIXTURE_SETUP(bt)
{
	int big = 64 << 20;

	net_fx_init(&self->n);
	NET_REQUIRE_DEV();
	if ((variant->features & VG_F(VIRTIO_F_RING_PACKED)) &&
	    net_dev_is_upstream())
		SKIP(return, "the kernel's vhost-net has no packed ring");
	NET_REQUIRE_FEATURES(variant->features);
	ASSERT_EQ(0, net_fx_up(&self->n, variant->features, RING));
	setsockopt(self->n.pkt, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(self->n.pkt, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
}

FIXTURE_TEARDOWN(bt)
{
	net_fx_teardown(&self->n);
}

static size_t bt_len(unsigned int i)
{
	return 60 + (i * 37) % 1455;
}

static void bt_inject(struct __test_metadata *_metadata, struct net_fx *n,
		      unsigned int from, unsigned int to)
{
	uint8_t frame[1514];
	unsigned int i;

	for (i = from; i < to; i++) {
		vg_frame_make(frame, bt_len(i), i);
		ASSERT_EQ(0, vg_frame_inject(n->pkt, n->ifname, frame,
					     bt_len(i)));
	}
}

/* Receive frames @from..@to-1, in order, byte-exact. */
static void bt_expect(struct __test_metadata *_metadata, struct net_fx *n,
		      unsigned int from, unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		uint32_t len = 0;
		void *c = NULL;

		ASSERT_LE(0, net_wait_used(&n->rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("frame %u (of %u..%u) not received", i, from, to);
		ASSERT_EQ(n->hlen + bt_len(i), len) TH_LOG("frame %u", i);
		ASSERT_TRUE(vg_frame_ok((uint8_t *)c + n->hlen, bt_len(i), i))
			TH_LOG("frame %u differs or out of order", i);
	}
}

VX_TEST_F(bt, rx_burst_in_order)
{
	const unsigned int n = 240;

	ASSERT_EQ(0, net_rx_post(&self->n, RING, BSZ));
	bt_inject(_metadata, &self->n, 0, n);
	bt_expect(_metadata, &self->n, 0, n);
	ASSERT_EQ(0, vg_vq_wait_used(&self->n.rx, 1, VX_QUIET_MS));
	if (!net_dev_is_upstream())
		ASSERT_EQ(0, VX_COUNTER(self->n.d.fd, 0, "drops"));
}

/*
 * Few buffers, many packets: the device has taken a batch from the tap's
 * ring but can place only some.  Detaching must hand the rest back to the
 * tap: after re-attaching they all arrive, in order.
 */
VX_TEST_F(bt, rx_detach_returns_batched_packets)
{
	const unsigned int n = 100, first = 10;
	struct net_fx *x = &self->n;

	ASSERT_EQ(0, net_rx_post(x, first, BSZ));
	bt_inject(_metadata, x, 0, n);
	bt_expect(_metadata, x, 0, first);
	usleep(200 * 1000);
	ASSERT_EQ(0, vg_net_set_backend(&x->d, 0, -1));
	ASSERT_EQ(0, vg_net_set_backend(&x->d, 0, x->tap));
	ASSERT_EQ(0, net_rx_post(x, n - first, BSZ));
	bt_expect(_metadata, x, first, n);
	/* Swapping to the same tap with packets waiting loses none either. */
	ASSERT_EQ(0, net_rx_post(x, 5, BSZ));
	bt_inject(_metadata, x, n, n + 40);
	bt_expect(_metadata, x, n, n + 5);
	usleep(200 * 1000);
	ASSERT_EQ(0, vg_net_set_backend(&x->d, 0, x->pkt));
	ASSERT_EQ(0, vg_net_set_backend(&x->d, 0, x->tap));
	ASSERT_EQ(0, net_rx_post(x, 35, BSZ));
	bt_expect(_metadata, x, n + 5, n + 40);
}

/*
 * Queue @count 64-byte TX frames (seq @seq0 on), one kick; every frame
 * must leave the tap, in order, byte-exact, and every buffer complete.
 */
static void bt_tx_burst(struct __test_metadata *_metadata, struct net_fx *n,
			unsigned int count, unsigned int seq0)
{
	uint8_t cap[2048];
	unsigned int i;

	for (i = 0; i < count; i++) {
		uint8_t *b = vg_alloc(&n->d, n->hlen + 64, 64);

		ASSERT_NE(NULL, b);
		memset(b, 0, n->hlen);
		vg_frame_make(b + n->hlen, 64, seq0 + i);
		ASSERT_LE(0, vg_vq_add_buf(&n->tx, b, n->hlen + 64, NULL, 0, b));
	}
	vg_vq_kick(&n->tx);
	for (i = 0; i < count; i++) {
		ssize_t got = vg_frame_capture(n->pkt, cap, sizeof(cap),
					       VX_TIMEOUT_MS);

		ASSERT_EQ(64, got) TH_LOG("frame %u", i);
		ASSERT_TRUE(vg_frame_ok(cap, 64, seq0 + i))
			TH_LOG("frame %u differs or out of order", i);
	}
	ASSERT_EQ(count, (unsigned int)vg_vq_wait_used(&n->tx, count,
						       VX_TIMEOUT_MS));
	for (i = 0; i < count; i++)
		ASSERT_LE(0, vg_vq_get_used(&n->tx, NULL, NULL));
}

/* A burst of small TX frames leaves the tap complete and in order. */
VX_TEST_F(bt, tx_burst_in_order)
{
	bt_tx_burst(_metadata, &self->n, 200, 1000);
}

/*
 * TX of small frames into tun: with the tap's default (unlimited) send
 * buffer every one goes through a TX batch (one sendmsg() for up to 64,
 * counted in "batched"); with a finite TUNSETSNDBUF, as vhost-net, one
 * sendmsg() each and none batched.  Byte-exact and in order both ways.
 */
VX_TEST_F(bt, tx_batched_and_unbatched)
{
	const unsigned int burst = 128;
	int sndbuf = 64 << 20;
	uint64_t b0, b1;

	if (net_dev_is_upstream()) {
		bt_tx_burst(_metadata, &self->n, burst, 5000);
		ASSERT_EQ(0, ioctl(self->n.tap, TUNSETSNDBUF, &sndbuf));
		bt_tx_burst(_metadata, &self->n, burst, 6000);
		return;
	}
	b0 = VX_COUNTER(self->n.d.fd, 1, "batched");
	bt_tx_burst(_metadata, &self->n, burst, 5000);
	b1 = VX_COUNTER(self->n.d.fd, 1, "batched");
	ASSERT_EQ(burst, b1 - b0) TH_LOG("%llu of %u frames went through a TX batch",
					 (unsigned long long)(b1 - b0), burst);
	ASSERT_EQ(0, ioctl(self->n.tap, TUNSETSNDBUF, &sndbuf));
	bt_tx_burst(_metadata, &self->n, burst, 6000);
	ASSERT_EQ(b1, VX_COUNTER(self->n.d.fd, 1, "batched"))
		TH_LOG("batched into a tap with a limited send buffer");
}

/*
 * In order, a TX batch is returned with one used entry (the last frame's
 * id, len 0), the used index moving by every frame; the guest reaps
 * every buffer.  Without it, one entry per frame.  RX writes one entry
 * per buffer either way: the guest reads each buffer's length.
 */
/* Used entries are a split ring's: packed rings have used descriptors. */
VX_TEST_F_IF(bt, used_entries_per_batch,
	     !(variant->features & VG_F(VIRTIO_F_RING_PACKED)))
{
	const unsigned int burst = 128, rx = 40;
	struct net_fx *n = &self->n;
	uint16_t tx0 = vg_vq_used_idx(&n->tx);
	uint64_t e0 = n->tx.used_entries, r0;

	bt_tx_burst(_metadata, n, burst, 7000);
	ASSERT_EQ((uint16_t)(tx0 + burst), vg_vq_used_idx(&n->tx));
	if (n->tx.in_order) {
		ASSERT_GT(burst / 2, n->tx.used_entries - e0)
			TH_LOG("%llu used entries for %u frames",
			       (unsigned long long)(n->tx.used_entries - e0),
			       burst);
	} else {
		ASSERT_EQ(burst, n->tx.used_entries - e0);
	}

	r0 = n->rx.used_entries;
	ASSERT_EQ(0, net_rx_post(n, rx, BSZ));
	bt_inject(_metadata, n, 0, rx);
	bt_expect(_metadata, n, 0, rx);
	ASSERT_EQ(rx, n->rx.used_entries - r0);
}

VX_HARNESS_MAIN
