// SPDX-License-Identifier: GPL-2.0
/*
 * ref_test: drive the kernel's own /dev/vhost-net with the vguest library.
 *
 * This is the library's reference check: if these pass, vguest builds rings,
 * memory tables, notifications and EVENT_IDX the way a real vhost expects,
 * so failures elsewhere point at the device under test, not the driver.
 * Packets go guest TX ring -> vhost-net -> tap -> AF_PACKET capture, and
 * AF_PACKET send -> tap -> vhost-net -> guest RX ring.
 */
#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define FRAME_LEN	128

FIXTURE(vnet) {
	struct net_fx n;
};

FIXTURE_VARIANT(vnet) {
	bool event_idx;
};

FIXTURE_VARIANT_ADD(vnet, plain) { .event_idx = false };
FIXTURE_VARIANT_ADD(vnet, event_idx) { .event_idx = true };

FIXTURE_SETUP(vnet)
{
	uint64_t f = VG_F(VIRTIO_F_VERSION_1) |
		     VG_F(VIRTIO_RING_F_INDIRECT_DESC);

	net_fx_init(&self->n);
	self->n.path = VHOST_NET_DEV;
	VX_REQUIRE_DEV(VHOST_NET_DEV);
	if (access("/dev/net/tun", F_OK))
		SKIP(return, "/dev/net/tun not present");
	if (variant->event_idx)
		f |= VG_F(VIRTIO_RING_F_EVENT_IDX);
	ASSERT_EQ(0, net_fx_up(&self->n, f, 256));
}

FIXTURE_TEARDOWN(vnet)
{
	net_fx_teardown(&self->n);
}

/* Read frames from the packet socket until test frame @seq comes. */
static int capture(int pkt, unsigned int seq)
{
	uint8_t buf[2048];
	int tries;

	for (tries = 0; tries < 64; tries++) {
		ssize_t n = vg_frame_capture(pkt, buf, sizeof(buf),
					     VX_TIMEOUT_MS);

		if (n < 0)
			return (int)n;
		if (n == FRAME_LEN && vg_frame_ok(buf, FRAME_LEN, seq))
			return 0;
	}
	return -ENOENT;
}

/* Guest TX ring -> tap: frames arrive byte-exact and buffers complete. */
VX_TEST_F(vnet, tx_to_tap)
{
	const unsigned int n = 100;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint32_t len = 1;

		ASSERT_NE(NULL, net_tx_frame(&self->n, FRAME_LEN, i));
		ASSERT_EQ(0, capture(self->n.pkt, i))
			TH_LOG("frame %u not seen on %s", i, self->n.ifname);
		ASSERT_LE(0, net_wait_used(&self->n.tx, &len, NULL,
					   VX_TIMEOUT_MS));
		ASSERT_EQ(0, len);	/* TX used len is 0 */
	}
	ASSERT_EQ(256, self->n.tx.num_free);
}

/* AF_PACKET -> tap -> guest RX ring: header + frame byte-exact. */
VX_TEST_F(vnet, rx_from_tap)
{
	uint8_t frame[FRAME_LEN];
	unsigned int i, seen = 0;

	ASSERT_EQ(0, net_rx_post(&self->n, 32, 2048));
	for (i = 0; i < 8; i++) {
		vg_frame_make(frame, sizeof(frame), 1000 + i);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname,
					     frame, sizeof(frame)));
	}
	/* Other traffic (IPv6 ND...) may also arrive: look for ours. */
	while (seen < 8) {
		uint32_t len, seq;
		void *c;

		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c,
					   VX_TIMEOUT_MS))
			TH_LOG("only %u of 8 frames received", seen);
		if (len != self->n.hlen + FRAME_LEN ||
		    vg_frame_parse((uint8_t *)c + self->n.hlen, FRAME_LEN,
				   &seq) < 0)
			continue;
		ASSERT_TRUE(vg_frame_ok((uint8_t *)c + self->n.hlen, FRAME_LEN,
					1000 + seen));
		seen++;
	}
}

/* Used idx must wrap past 65535 cleanly and GET_VRING_BASE must follow. */
VX_TEST_F(vnet, tx_wraparound)
{
	unsigned int i, base;

	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, -1));
	ASSERT_EQ(0, vg_vq_program(&self->n.tx, 65530));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->n.tap));
	for (i = 0; i < 300; i++) {
		ASSERT_NE(NULL, net_tx_frame(&self->n, FRAME_LEN, i));
		ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL,
					   VX_TIMEOUT_MS));
	}
	ASSERT_EQ((uint16_t)(65530 + 300), vg_vq_used_idx(&self->n.tx));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, -1));
	ASSERT_EQ(0, vg_vq_get_base(&self->n.tx, &base));
	ASSERT_EQ((uint16_t)(65530 + 300), base);
}

/* Indirect descriptors: header and frame in separate indirect entries. */
VX_TEST_F(vnet, tx_indirect)
{
	uint8_t *hdr = vg_alloc(&self->n.d, self->n.hlen, 16);
	uint8_t *f = vg_alloc(&self->n.d, FRAME_LEN, 64);
	struct iovec sg[3];
	uint64_t feat;

	ASSERT_EQ(0, vg_get_features(&self->n.d, &feat));
	ASSERT_TRUE(feat & VG_F(VIRTIO_RING_F_INDIRECT_DESC));
	vg_frame_make(f, FRAME_LEN, 77);
	sg[0].iov_base = hdr;
	sg[0].iov_len = self->n.hlen;
	sg[1].iov_base = f;
	sg[1].iov_len = 40;
	sg[2].iov_base = f + 40;
	sg[2].iov_len = FRAME_LEN - 40;
	ASSERT_LE(0, vg_vq_add(&self->n.tx, sg, 3, 0, f, VG_ADD_INDIRECT));
	vg_vq_kick(&self->n.tx);
	ASSERT_EQ(0, capture(self->n.pkt, 77));
	ASSERT_LT(0, vg_vq_wait_used(&self->n.tx, 1, VX_TIMEOUT_MS));
}

VX_HARNESS_MAIN
