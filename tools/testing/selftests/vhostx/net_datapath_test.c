// SPDX-License-Identifier: GPL-2.0
/*
 * net_datapath_test: byte-exact TX and RX through a tap, for every
 * virtio-net header layout (10 or 12 bytes through the tap, or stripped
 * and supplied by the device with VHOST_NET_F_VIRTIO_NET_HDR), mergeable
 * RX buffers on and off, EVENT_IDX on and off, indirect descriptors on and
 * off; RX into buffers that are too small; mergeable RX waiting for
 * buffers.
 */
#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	256

FIXTURE(dp) {
	struct net_fx n;
	bool mrg;
};

FIXTURE_VARIANT(dp) {
	uint64_t features;	/* besides EVENT_IDX / INDIRECT_DESC */
	int tap_hdr;		/* vnet header on the tap: 0, 10 or 12 */
	bool event_idx;
	bool indirect;
};

#define V1	VG_F(VIRTIO_F_VERSION_1)
#define MRG	VG_F(VIRTIO_NET_F_MRG_RXBUF)
#define NOHDR	VG_F(VHOST_NET_F_VIRTIO_NET_HDR)
#define INORD	VG_F(VIRTIO_F_IN_ORDER)
/* The variant has mergeable RX buffers; a 12-byte header (num_buffers). */
#define DP_MRG		(variant->features & MRG)
#define DP_HDR12	(net_hdr_len(variant->features) == 12)

FIXTURE_VARIANT_ADD(dp, v1_hdr12) { .features = V1, .tap_hdr = 12 };
FIXTURE_VARIANT_ADD(dp, v1_hdr12_evidx_indirect) {
	.features = V1, .tap_hdr = 12, .event_idx = true, .indirect = true };
FIXTURE_VARIANT_ADD(dp, legacy_hdr10) { .features = 0, .tap_hdr = 10 };
FIXTURE_VARIANT_ADD(dp, legacy_hdr10_evidx) {
	.features = 0, .tap_hdr = 10, .event_idx = true };
FIXTURE_VARIANT_ADD(dp, legacy_hdr10_indirect) {
	.features = 0, .tap_hdr = 10, .indirect = true };
FIXTURE_VARIANT_ADD(dp, mrg_v1) { .features = MRG | V1, .tap_hdr = 12 };
FIXTURE_VARIANT_ADD(dp, mrg_v1_evidx_indirect) {
	.features = MRG | V1, .tap_hdr = 12, .event_idx = true,
	.indirect = true };
FIXTURE_VARIANT_ADD(dp, mrg_legacy) { .features = MRG, .tap_hdr = 12 };
FIXTURE_VARIANT_ADD(dp, nohdr_v1) { .features = NOHDR | V1, .tap_hdr = 0 };
FIXTURE_VARIANT_ADD(dp, nohdr_legacy_evidx) {
	.features = NOHDR, .tap_hdr = 0, .event_idx = true };
FIXTURE_VARIANT_ADD(dp, nohdr_mrg_indirect) {
	.features = NOHDR | MRG | V1, .tap_hdr = 0, .indirect = true };
/* Packed rings (VIRTIO_F_RING_PACKED): RX mergeable buffers among them. */
#define PACKED	(V1 | VG_F(VIRTIO_F_RING_PACKED))
FIXTURE_VARIANT_ADD(dp, packed_hdr12) { .features = PACKED, .tap_hdr = 12 };
FIXTURE_VARIANT_ADD(dp, packed_hdr12_evidx_indirect) {
	.features = PACKED, .tap_hdr = 12, .event_idx = true,
	.indirect = true };
FIXTURE_VARIANT_ADD(dp, packed_mrg) { .features = MRG | PACKED, .tap_hdr = 12 };
FIXTURE_VARIANT_ADD(dp, packed_mrg_evidx_indirect) {
	.features = MRG | PACKED, .tap_hdr = 12, .event_idx = true,
	.indirect = true };
FIXTURE_VARIANT_ADD(dp, packed_nohdr_mrg_evidx) {
	.features = NOHDR | MRG | PACKED, .tap_hdr = 0, .event_idx = true };
FIXTURE_VARIANT_ADD(dp, in_order_v1_hdr12) {
	.features = INORD | V1, .tap_hdr = 12 };
FIXTURE_VARIANT_ADD(dp, in_order_mrg_v1_evidx_indirect) {
	.features = INORD | MRG | V1, .tap_hdr = 12, .event_idx = true,
	.indirect = true };
FIXTURE_VARIANT_ADD(dp, in_order_nohdr_mrg) {
	.features = INORD | NOHDR | MRG | V1, .tap_hdr = 0 };

FIXTURE_SETUP(dp)
{
	uint64_t f = variant->features;

	net_fx_init(&self->n);
	NET_REQUIRE_DEV();
	if ((f & VG_F(VIRTIO_F_RING_PACKED)) && net_dev_is_upstream())
		SKIP(return, "the kernel's vhost-net has no packed ring");
	NET_REQUIRE_FEATURES(f);
	if (variant->event_idx)
		f |= VG_F(VIRTIO_RING_F_EVENT_IDX);
	if (variant->indirect)
		f |= VG_F(VIRTIO_RING_F_INDIRECT_DESC);
	self->mrg = f & MRG;
	ASSERT_EQ(0, net_fx_tap(&self->n, variant->tap_hdr));
	ASSERT_EQ(0, net_fx_dev(&self->n, f, RING));
}

FIXTURE_TEARDOWN(dp)
{
	net_fx_teardown(&self->n);
}

/*
 * Queue one TX packet: header + frame, split over 1..3 segments depending
 * on @i so descriptor chains of several lengths are exercised.
 */
static int dp_add_tx(struct vg_vq *vq, uint8_t *b, size_t hlen, size_t flen,
		     unsigned int i, bool indirect)
{
	struct iovec sg[3];
	unsigned int n;

	switch (i % 3) {
	case 0:
		sg[0].iov_base = b;
		sg[0].iov_len = hlen + flen;
		n = 1;
		break;
	case 1:
		sg[0].iov_base = b;
		sg[0].iov_len = hlen;
		sg[1].iov_base = b + hlen;
		sg[1].iov_len = flen;
		n = 2;
		break;
	default:
		sg[0].iov_base = b;
		sg[0].iov_len = hlen + 3;
		sg[1].iov_base = b + hlen + 3;
		sg[1].iov_len = flen / 2 - 3;
		sg[2].iov_base = b + hlen + flen / 2;
		sg[2].iov_len = flen - flen / 2;
		n = 3;
		break;
	}
	return vg_vq_add(vq, sg, n, 0, b, indirect ? VG_ADD_INDIRECT : 0);
}

static const size_t dp_sizes[] = { 60, 61, 64, 128, 333, 1000, 1500, 1514 };
#define NSIZES	(sizeof(dp_sizes) / sizeof(dp_sizes[0]))

/* Guest TX -> tap: every frame arrives byte-exact, in order; used len 0. */
VX_TEST_F(dp, tx_exact)
{
	const unsigned int batches = 6, per = 16;
	uint8_t *cap = malloc(65536);
	uint64_t bytes = 0;
	unsigned int b, i;

	ASSERT_NE(NULL, cap);
	for (b = 0; b < batches; b++) {
		for (i = 0; i < per; i++) {
			unsigned int k = b * per + i;
			size_t flen = dp_sizes[k % NSIZES];
			uint8_t *buf = vg_alloc(&self->n.d, self->n.hlen + flen, 64);

			ASSERT_NE(NULL, buf);
			memset(buf, 0, self->n.hlen);
			vg_frame_make(buf + self->n.hlen, flen, k);
			ASSERT_LE(0, dp_add_tx(&self->n.tx, buf, self->n.hlen, flen,
					       k, variant->indirect));
		}
		vg_vq_kick(&self->n.tx);
		for (i = 0; i < per; i++) {
			unsigned int k = b * per + i;
			size_t flen = dp_sizes[k % NSIZES];
			ssize_t n = vg_frame_capture(self->n.pkt, cap, 65536,
						VX_TIMEOUT_MS);

			ASSERT_EQ((ssize_t)flen, n)
				TH_LOG("packet %u: got %zd bytes", k, n);
			ASSERT_TRUE(vg_frame_ok(cap, flen, k))
				TH_LOG("packet %u: payload differs", k);
		}
		for (i = 0; i < per; i++) {
			uint32_t len = 1;

			ASSERT_LE(0, net_wait_used(&self->n.tx, &len, NULL,
						   VX_TIMEOUT_MS));
			ASSERT_EQ(0, len);
		}
	}
	ASSERT_EQ(RING, self->n.tx.num_free);
	/* vhostx counts frame bytes (without virtio-net headers). */
	for (i = 0; i < batches * per; i++)
		bytes += dp_sizes[i % NSIZES];
	if (!net_dev_is_upstream()) {
		ASSERT_EQ(bytes, VX_COUNTER(self->n.d.fd, 1, "bytes"));
		ASSERT_EQ(0, VX_COUNTER(self->n.d.fd, 1, "drops"));
	}
	/* Nothing else came out. */
	ASSERT_EQ(-ETIMEDOUT, vg_frame_capture(self->n.pkt, cap, 65536, VX_QUIET_MS));
	free(cap);
}

/* Post @n RX buffers of @size bytes (split hdr/data when indirect). */
static void dp_post_rx(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dp) *self, bool indirect,
		       unsigned int n, size_t size, uint8_t **bufs)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->n.d, size, 64);
		struct iovec sg[2];

		ASSERT_NE(NULL, b);
		memset(b, 0xee, size);
		if (indirect && size > self->n.hlen) {
			sg[0].iov_base = b;
			sg[0].iov_len = self->n.hlen;
			sg[1].iov_base = b + self->n.hlen;
			sg[1].iov_len = size - self->n.hlen;
			ASSERT_LE(0, vg_vq_add(&self->n.rx, sg, 0, 2, b,
					       VG_ADD_INDIRECT));
		} else {
			ASSERT_LE(0, vg_vq_add_buf(&self->n.rx, NULL, 0, b,
						   (uint32_t)size, b));
		}
		if (bufs)
			bufs[i] = b;
	}
	vg_vq_kick(&self->n.rx);
}

/*
 * Check a received header: no offloads, and num_buffers when the header
 * has it (12 bytes): the buffer count with MRG_RXBUF, else 1.
 */
static bool dp_hdr_ok(const uint8_t *b, size_t hlen, unsigned int nbufs,
		      bool mrg)
{
	const struct virtio_net_hdr_mrg_rxbuf *h = (const void *)b;

	if (h->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	if (hlen == sizeof(*h) && h->num_buffers != nbufs &&
	    (mrg || !net_dev_is_upstream()))
		return false;
	return true;
}

/* tap -> guest RX: header + frame byte-exact, in order. */
VX_TEST_F(dp, rx_exact)
{
	const unsigned int n = 48;
	uint8_t frame[1514];
	unsigned int i;

	dp_post_rx(_metadata, self, variant->indirect, 64, 2048, NULL);
	for (i = 0; i < n; i++) {
		size_t flen = dp_sizes[i % NSIZES];

		vg_frame_make(frame, flen, 500 + i);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, flen));
	}
	for (i = 0; i < n; i++) {
		size_t flen = dp_sizes[i % NSIZES];
		uint32_t len = 0;
		void *c = NULL;

		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("only %u of %u frames received", i, n);
		ASSERT_EQ(self->n.hlen + flen, len);
		ASSERT_TRUE(dp_hdr_ok(c, self->n.hlen, 1, self->mrg));
		ASSERT_TRUE(vg_frame_ok((uint8_t *)c + self->n.hlen, flen,
					 500 + i))
			TH_LOG("frame %u differs", i);
		/* Nothing written past the packet. */
		ASSERT_EQ(0xee, ((uint8_t *)c)[len]);
	}
	ASSERT_EQ(0, vg_vq_used_pending(&self->n.rx));
}

/* MRG_RXBUF: a frame spread over several small buffers, num_buffers set. */
VX_TEST_F_IF(dp, rx_mergeable, DP_MRG)
{
	const size_t bsz = 256, flen = 1000;
	size_t total = self->n.hlen + flen, off = 0;
	unsigned int nb = (unsigned int)((total + bsz - 1) / bsz), i;
	uint8_t frame[1000], *joined = malloc(total);

	ASSERT_NE(NULL, joined);
	dp_post_rx(_metadata, self, false, 16, bsz, NULL);
	vg_frame_make(frame, flen, 4242);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, flen));
	ASSERT_LE(nb, (unsigned int)vg_vq_wait_used(&self->n.rx, nb,
						     VX_TIMEOUT_MS));
	for (i = 0; i < nb; i++) {
		uint32_t len = 0;
		void *c = NULL;

		ASSERT_LE(0, vg_vq_get_used(&self->n.rx, &len, &c));
		ASSERT_EQ(i + 1 < nb ? bsz : total - off, len);
		memcpy(joined + off, c, len);
		off += len;
	}
	ASSERT_EQ(total, off);
	ASSERT_TRUE(dp_hdr_ok(joined, self->n.hlen, nb, true))
		TH_LOG("num_buffers %u, expected %u",
		       ((struct virtio_net_hdr_mrg_rxbuf *)joined)->num_buffers,
		       nb);
	ASSERT_TRUE(vg_frame_ok(joined + self->n.hlen, flen, 4242));
	ASSERT_EQ(0, vg_vq_used_pending(&self->n.rx));
	free(joined);
}

/*
 * The header split over two descriptors, 5 bytes here and 7 bytes in
 * another place, then the frame right after the first 5: num_buffers
 * lands in the second piece (a store at offset 10 of the first one would
 * corrupt the frame).  With MRG_RXBUF the frame spans several chains.
 */
VX_TEST_F_IF(dp, rx_header_split, DP_HDR12)
{
	const size_t bsz = 600, flen = 1000;
	size_t total = self->n.hlen + flen, off = 0;
	unsigned int nb = self->mrg ? (unsigned int)((total + bsz - 1) / bsz) : 1;
	uint8_t frame[1000], *joined = malloc(total), *bufs[4], *hdr2[4];
	unsigned int i;

	ASSERT_NE(NULL, joined);
	for (i = 0; i < 4; i++) {
		size_t size = self->mrg ? bsz : 2048;
		uint8_t *b = vg_alloc(&self->n.d, size + 1, 64);
		uint8_t *h = vg_alloc(&self->n.d, 8, 64);
		struct iovec sg[3] = {
			{ b, 5 }, { h, 7 }, { b + 5, size - 12 },
		};

		ASSERT_NE(NULL, b);
		ASSERT_NE(NULL, h);
		memset(b, 0xee, size + 1);
		memset(h, 0xee, 8);
		ASSERT_LE(0, vg_vq_add(&self->n.rx, sg, 0, 3, b,
				       variant->indirect ? VG_ADD_INDIRECT : 0));
		bufs[i] = b;
		hdr2[i] = h;
	}
	vg_vq_kick(&self->n.rx);
	vg_frame_make(frame, flen, 777);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, flen));
	ASSERT_LE(nb, (unsigned int)vg_vq_wait_used(&self->n.rx, nb,
						     VX_TIMEOUT_MS));
	for (i = 0; i < nb; i++) {
		uint32_t len = 0, n;
		void *c = NULL;

		ASSERT_LE(0, vg_vq_get_used(&self->n.rx, &len, &c));
		ASSERT_EQ(bufs[i], c);
		ASSERT_EQ(i + 1 < nb ? bsz : total - off, len);
		ASSERT_LE(12, len);
		/* Gather the chain: 5 bytes, 7 bytes elsewhere, the rest. */
		memcpy(joined + off, bufs[i], 5);
		memcpy(joined + off + 5, hdr2[i], 7);
		n = len - 12;
		memcpy(joined + off + 12, bufs[i] + 5, n);
		off += len;
		/* Nothing written past what the used entry claims. */
		ASSERT_EQ(0xee, hdr2[i][7]);
		ASSERT_EQ(0xee, bufs[i][5 + n]);
	}
	ASSERT_EQ(total, off);
	ASSERT_TRUE(dp_hdr_ok(joined, self->n.hlen, nb, self->mrg))
		TH_LOG("num_buffers %u, expected %u",
		       ((struct virtio_net_hdr_mrg_rxbuf *)joined)->num_buffers,
		       nb);
	ASSERT_TRUE(vg_frame_ok(joined + self->n.hlen, flen, 777));
	free(joined);
}

/*
 * The device reads avail entries ahead.  Detach RX after one of eight
 * buffers was used, reprogram the ring at base 1 (zeroed, new heads),
 * attach again: the next frame must land in the new ring's first buffer,
 * not in whatever the old entry at index 1 named.
 */
VX_TEST_F(dp, rx_ring_reprogrammed_after_read_ahead)
{
	uint8_t frame[200], *old[8], *fresh[2];
	uint32_t len = 0;
	void *c = NULL;
	unsigned int i;

	dp_post_rx(_metadata, self, variant->indirect, 8, 2048, old);
	vg_frame_make(frame, sizeof(frame), 31);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame,
				     sizeof(frame)));
	ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(old[0], c);

	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	ASSERT_EQ(0, vg_vq_program(&self->n.rx, 1));
	dp_post_rx(_metadata, self, variant->indirect, 2, 2048, fresh);
	for (i = 0; i < 8; i++)
		memset(old[i], 0xee, 2048);
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));

	vg_frame_make(frame, sizeof(frame), 32);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame,
				     sizeof(frame)));
	ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(fresh[0], c) TH_LOG("frame went to a stale buffer");
	ASSERT_EQ(self->n.hlen + sizeof(frame), len);
	ASSERT_TRUE(vg_frame_ok(fresh[0] + self->n.hlen, sizeof(frame), 32));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0xee, old[i][self->n.hlen]) TH_LOG("old buffer %u written", i);
}

/* MRG_RXBUF: not enough buffers yet -> the frame waits, then arrives whole. */
VX_TEST_F_IF(dp, rx_mergeable_waits_for_buffers, DP_MRG)
{
	const size_t bsz = 256, flen = 1000;
	unsigned int nb = (unsigned int)((self->n.hlen + flen + bsz - 1) / bsz);
	uint8_t frame[1000];
	uint32_t len;
	void *c;

	dp_post_rx(_metadata, self, false, 2, bsz, NULL);
	vg_frame_make(frame, flen, 99);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, flen));
	ASSERT_EQ(0, vg_vq_wait_used(&self->n.rx, 1, VX_QUIET_MS));
	dp_post_rx(_metadata, self, false, nb, bsz, NULL);
	ASSERT_LE(nb, (unsigned int)vg_vq_wait_used(&self->n.rx, nb,
						     VX_TIMEOUT_MS));
	ASSERT_LE(0, vg_vq_get_used(&self->n.rx, &len, &c));
	ASSERT_EQ(bsz, len);
	ASSERT_TRUE(dp_hdr_ok(c, self->n.hlen, nb, true));
}

/*
 * Without MRG_RXBUF a frame larger than one buffer is dropped, the buffer
 * is left untouched and reused for the next frame that fits
 * (CVE-2014-0077 class: never write past a buffer).
 */
VX_TEST_F_IF(dp, rx_too_small_dropped, !DP_MRG)
{
	const size_t bsz = 100;
	uint8_t frame[1000], *bufs[4];
	uint32_t len = 0;
	void *c = NULL;
	unsigned int i;

	dp_post_rx(_metadata, self, false, 4, bsz, bufs);
	vg_frame_make(frame, sizeof(frame), 1);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame,
				     sizeof(frame)));
	vg_frame_make(frame, 60, 2);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, 60));

	ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(self->n.hlen + 60, len);
	ASSERT_EQ(bufs[0], c);
	ASSERT_TRUE(vg_frame_ok((uint8_t *)c + self->n.hlen, 60, 2));
	ASSERT_EQ(0, vg_vq_wait_used(&self->n.rx, 1, VX_QUIET_MS));
	/* vhostx counts the drop. */
	if (!net_dev_is_upstream())
		ASSERT_EQ(1, VX_COUNTER(self->n.d.fd, 0, "drops"));
	/* The other buffers were never written. */
	for (i = 1; i < 4; i++) {
		uint8_t *b = bufs[i];
		size_t k;

		for (k = 0; k < bsz; k++)
			ASSERT_EQ(0xee, b[k]);
	}
}

VX_HARNESS_MAIN
