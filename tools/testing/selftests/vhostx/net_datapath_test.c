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
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
	uint64_t features;
	size_t hlen;		/* header bytes in guest buffers */
	bool mrg;
};

FIXTURE_VARIANT(dp) {
	uint64_t features;	/* besides EVENT_IDX / INDIRECT_DESC */
	int tap_hdr;		/* vnet header on the tap: 0, 10 or 12 */
	bool event_idx;
	bool indirect;
};

#define V1	NET_F(VIRTIO_F_VERSION_1)
#define MRG	NET_F(VIRTIO_NET_F_MRG_RXBUF)
#define NOHDR	NET_F(VHOST_NET_F_VIRTIO_NET_HDR)

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

FIXTURE_SETUP(dp)
{
	uint64_t f = variant->features;

	self->tap = self->pkt = -1;
	self->d.fd = -1;
	NET_REQUIRE_DEV();
	if (variant->event_idx)
		f |= NET_F(VIRTIO_RING_F_EVENT_IDX);
	if (variant->indirect)
		f |= NET_F(VIRTIO_RING_F_INDIRECT_DESC);
	self->features = f;
	self->hlen = net_hdr_len(f);
	self->mrg = f & MRG;

	self->ifname[0] = 0;
	self->tap = net_tap_open(self->ifname, variant->tap_hdr, 0);
	ASSERT_LE(0, self->tap) TH_LOG("tap: %s", strerror(-self->tap));
	self->pkt = net_packet_socket(self->ifname);
	ASSERT_LE(0, self->pkt);
	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx, f, RING));
	ASSERT_EQ(0, net_attach_tap(&self->d, self->tap));
}

FIXTURE_TEARDOWN(dp)
{
	net_teardown(&self->d, self->tap, self->pkt);
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
TEST_F(dp, tx_exact)
{
	const unsigned int batches = 6, per = 16;
	uint8_t *cap = malloc(65536);
	unsigned int b, i;

	ASSERT_NE(NULL, cap);
	for (b = 0; b < batches; b++) {
		for (i = 0; i < per; i++) {
			unsigned int k = b * per + i;
			size_t flen = dp_sizes[k % NSIZES];
			uint8_t *buf = vg_alloc(&self->d, self->hlen + flen, 64);

			ASSERT_NE(NULL, buf);
			memset(buf, 0, self->hlen);
			net_make_frame(buf + self->hlen, flen, k);
			ASSERT_LE(0, dp_add_tx(&self->tx, buf, self->hlen, flen,
					       k, variant->indirect));
		}
		vg_vq_kick(&self->tx);
		for (i = 0; i < per; i++) {
			unsigned int k = b * per + i;
			size_t flen = dp_sizes[k % NSIZES];
			ssize_t n = net_capture(self->pkt, cap, 65536,
						VX_TIMEOUT_MS);

			ASSERT_EQ((ssize_t)flen, n)
				TH_LOG("packet %u: got %zd bytes", k, n);
			ASSERT_TRUE(net_frame_ok(cap, flen, k))
				TH_LOG("packet %u: payload differs", k);
		}
		for (i = 0; i < per; i++) {
			uint32_t len = 1;

			ASSERT_LE(0, net_wait_used(&self->tx, &len, NULL,
						   VX_TIMEOUT_MS));
			ASSERT_EQ(0, len);
		}
	}
	ASSERT_EQ(RING, self->tx.num_free);
	/* vhostx counts frame bytes (without virtio-net headers). */
	if (net_stat(1, "bytes") >= 0) {
		long long want = 0;

		for (i = 0; i < batches * per; i++)
			want += dp_sizes[i % NSIZES];
		ASSERT_TRUE(want == net_stat(1, "bytes"))
			TH_LOG("bytes %lld, expected %lld",
			       net_stat(1, "bytes"), want);
		ASSERT_TRUE(net_stat(1, "drops") == 0);
	}
	/* Nothing else came out. */
	ASSERT_EQ(-ETIMEDOUT, net_capture(self->pkt, cap, 65536, VX_QUIET_MS));
	free(cap);
}

/* Post @n RX buffers of @size bytes (split hdr/data when indirect). */
static void dp_post_rx(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dp) *self, bool indirect,
		       unsigned int n, size_t size, uint8_t **bufs)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->d, size, 64);
		struct iovec sg[2];

		ASSERT_NE(NULL, b);
		memset(b, 0xee, size);
		if (indirect && size > self->hlen) {
			sg[0].iov_base = b;
			sg[0].iov_len = self->hlen;
			sg[1].iov_base = b + self->hlen;
			sg[1].iov_len = size - self->hlen;
			ASSERT_LE(0, vg_vq_add(&self->rx, sg, 0, 2, b,
					       VG_ADD_INDIRECT));
		} else {
			ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b,
						   (uint32_t)size, b));
		}
		if (bufs)
			bufs[i] = b;
	}
	vg_vq_kick(&self->rx);
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
TEST_F(dp, rx_exact)
{
	const unsigned int n = 48;
	uint8_t frame[1514];
	unsigned int i;

	dp_post_rx(_metadata, self, variant->indirect, 64, 2048, NULL);
	for (i = 0; i < n; i++) {
		size_t flen = dp_sizes[i % NSIZES];

		net_make_frame(frame, flen, 500 + i);
		ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, flen));
	}
	for (i = 0; i < n; i++) {
		size_t flen = dp_sizes[i % NSIZES];
		uint32_t len = 0;
		void *c = NULL;

		ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("only %u of %u frames received", i, n);
		ASSERT_EQ(self->hlen + flen, len);
		ASSERT_TRUE(dp_hdr_ok(c, self->hlen, 1, self->mrg));
		ASSERT_TRUE(net_frame_ok((uint8_t *)c + self->hlen, flen,
					 500 + i))
			TH_LOG("frame %u differs", i);
		/* Nothing written past the packet. */
		ASSERT_EQ(0xee, ((uint8_t *)c)[len]);
	}
	ASSERT_EQ(0, vg_vq_used_pending(&self->rx));
}

/* MRG_RXBUF: a frame spread over several small buffers, num_buffers set. */
TEST_F(dp, rx_mergeable)
{
	const size_t bsz = 256, flen = 1000;
	size_t total = self->hlen + flen, off = 0;
	unsigned int nb = (unsigned int)((total + bsz - 1) / bsz), i;
	uint8_t frame[1000], *joined = malloc(total);

	if (!self->mrg)
		SKIP(free(joined); return, "mergeable RX buffers not negotiated");
	ASSERT_NE(NULL, joined);
	dp_post_rx(_metadata, self, false, 16, bsz, NULL);
	net_make_frame(frame, flen, 4242);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, flen));
	ASSERT_LE(nb, (unsigned int)vg_vq_wait_used(&self->rx, nb,
						     VX_TIMEOUT_MS));
	for (i = 0; i < nb; i++) {
		uint32_t len = 0;
		void *c = NULL;

		ASSERT_LE(0, vg_vq_get_used(&self->rx, &len, &c));
		ASSERT_EQ(i + 1 < nb ? bsz : total - off, len);
		memcpy(joined + off, c, len);
		off += len;
	}
	ASSERT_EQ(total, off);
	ASSERT_TRUE(dp_hdr_ok(joined, self->hlen, nb, true))
		TH_LOG("num_buffers %u, expected %u",
		       ((struct virtio_net_hdr_mrg_rxbuf *)joined)->num_buffers,
		       nb);
	ASSERT_TRUE(net_frame_ok(joined + self->hlen, flen, 4242));
	ASSERT_EQ(0, vg_vq_used_pending(&self->rx));
	free(joined);
}

/*
 * The header split over two descriptors, 5 bytes here and 7 bytes in
 * another place, then the frame right after the first 5: num_buffers
 * lands in the second piece (a store at offset 10 of the first one would
 * corrupt the frame).  With MRG_RXBUF the frame spans several chains.
 */
TEST_F(dp, rx_header_split)
{
	const size_t bsz = 600, flen = 1000;
	size_t total = self->hlen + flen, off = 0;
	unsigned int nb = self->mrg ? (unsigned int)((total + bsz - 1) / bsz) : 1;
	uint8_t frame[1000], *joined = malloc(total), *bufs[4], *hdr2[4];
	unsigned int i;

	if (self->hlen < 12)
		SKIP(free(joined); return, "no num_buffers in a %zu-byte header",
		     self->hlen);
	ASSERT_NE(NULL, joined);
	for (i = 0; i < 4; i++) {
		size_t size = self->mrg ? bsz : 2048;
		uint8_t *b = vg_alloc(&self->d, size + 1, 64);
		uint8_t *h = vg_alloc(&self->d, 8, 64);
		struct iovec sg[3] = {
			{ b, 5 }, { h, 7 }, { b + 5, size - 12 },
		};

		ASSERT_NE(NULL, b);
		ASSERT_NE(NULL, h);
		memset(b, 0xee, size + 1);
		memset(h, 0xee, 8);
		ASSERT_LE(0, vg_vq_add(&self->rx, sg, 0, 3, b,
				       variant->indirect ? VG_ADD_INDIRECT : 0));
		bufs[i] = b;
		hdr2[i] = h;
	}
	vg_vq_kick(&self->rx);
	net_make_frame(frame, flen, 777);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, flen));
	ASSERT_LE(nb, (unsigned int)vg_vq_wait_used(&self->rx, nb,
						     VX_TIMEOUT_MS));
	for (i = 0; i < nb; i++) {
		uint32_t len = 0, n;
		void *c = NULL;

		ASSERT_LE(0, vg_vq_get_used(&self->rx, &len, &c));
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
	ASSERT_TRUE(dp_hdr_ok(joined, self->hlen, nb, self->mrg))
		TH_LOG("num_buffers %u, expected %u",
		       ((struct virtio_net_hdr_mrg_rxbuf *)joined)->num_buffers,
		       nb);
	ASSERT_TRUE(net_frame_ok(joined + self->hlen, flen, 777));
	free(joined);
}

/*
 * The device reads avail entries ahead.  Detach RX after one of eight
 * buffers was used, reprogram the ring at base 1 (zeroed, new heads),
 * attach again: the next frame must land in the new ring's first buffer,
 * not in whatever the old entry at index 1 named.
 */
TEST_F(dp, rx_ring_reprogrammed_after_read_ahead)
{
	uint8_t frame[200], *old[8], *fresh[2];
	uint32_t len = 0;
	void *c = NULL;
	unsigned int i;

	dp_post_rx(_metadata, self, variant->indirect, 8, 2048, old);
	net_make_frame(frame, sizeof(frame), 31);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, sizeof(frame)));
	ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(old[0], c);

	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, -1));
	ASSERT_EQ(0, vg_vq_program(&self->rx, 1));
	dp_post_rx(_metadata, self, variant->indirect, 2, 2048, fresh);
	for (i = 0; i < 8; i++)
		memset(old[i], 0xee, 2048);
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));

	net_make_frame(frame, sizeof(frame), 32);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, sizeof(frame)));
	ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(fresh[0], c) TH_LOG("frame went to a stale buffer");
	ASSERT_EQ(self->hlen + sizeof(frame), len);
	ASSERT_TRUE(net_frame_ok(fresh[0] + self->hlen, sizeof(frame), 32));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0xee, old[i][self->hlen]) TH_LOG("old buffer %u written", i);
}

/* MRG_RXBUF: not enough buffers yet -> the frame waits, then arrives whole. */
TEST_F(dp, rx_mergeable_waits_for_buffers)
{
	const size_t bsz = 256, flen = 1000;
	unsigned int nb = (unsigned int)((self->hlen + flen + bsz - 1) / bsz);
	uint8_t frame[1000];
	uint32_t len;
	void *c;

	if (!self->mrg)
		SKIP(return, "mergeable RX buffers not negotiated");
	dp_post_rx(_metadata, self, false, 2, bsz, NULL);
	net_make_frame(frame, flen, 99);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, flen));
	ASSERT_EQ(0, vg_vq_wait_used(&self->rx, 1, VX_QUIET_MS));
	dp_post_rx(_metadata, self, false, nb, bsz, NULL);
	ASSERT_LE(nb, (unsigned int)vg_vq_wait_used(&self->rx, nb,
						     VX_TIMEOUT_MS));
	ASSERT_LE(0, vg_vq_get_used(&self->rx, &len, &c));
	ASSERT_EQ(bsz, len);
	ASSERT_TRUE(dp_hdr_ok(c, self->hlen, nb, true));
}

/*
 * Without MRG_RXBUF a frame larger than one buffer is dropped, the buffer
 * is left untouched and reused for the next frame that fits
 * (CVE-2014-0077 class: never write past a buffer).
 */
TEST_F(dp, rx_too_small_dropped)
{
	const size_t bsz = 100;
	uint8_t frame[1000], *bufs[4];
	long long drops;
	uint32_t len = 0;
	void *c = NULL;
	unsigned int i;

	if (self->mrg)
		SKIP(return, "mergeable RX buffers negotiated");
	dp_post_rx(_metadata, self, false, 4, bsz, bufs);
	net_make_frame(frame, sizeof(frame), 1);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, sizeof(frame)));
	net_make_frame(frame, 60, 2);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, 60));

	ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(self->hlen + 60, len);
	ASSERT_EQ(bufs[0], c);
	ASSERT_TRUE(net_frame_ok((uint8_t *)c + self->hlen, 60, 2));
	ASSERT_EQ(0, vg_vq_wait_used(&self->rx, 1, VX_QUIET_MS));
	/* vhostx counts the drop (-1: no counters, e.g. upstream). */
	drops = net_stat(0, "drops");
	if (drops >= 0)
		ASSERT_TRUE(drops == 1) TH_LOG("drops %lld", drops);
	/* The other buffers were never written. */
	for (i = 1; i < 4; i++) {
		uint8_t *b = bufs[i];
		size_t k;

		for (k = 0; k < bsz; k++)
			ASSERT_EQ(0xee, b[k]);
	}
}

VX_HARNESS_MAIN
