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
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define ETH_P_VX	0x88b5		/* IEEE local experimental */
#define HDR_LEN		12		/* virtio_net_hdr_mrg_rxbuf */
#define FRAME_LEN	128

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_VX),
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_VX));

	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(s);
		return -errno;
	}
	return s;
}

static void make_frame(uint8_t *f, size_t len, unsigned int seed)
{
	memset(f, 0xff, 6);			/* broadcast dst */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = ETH_P_VX >> 8;
	f[13] = ETH_P_VX & 0xff;
	vx_fill(f + 14, len - 14, seed);
}

FIXTURE(vnet) {
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap;
	int pkt;
	char ifname[IFNAMSIZ];
};

FIXTURE_VARIANT(vnet) {
	bool event_idx;
};

FIXTURE_VARIANT_ADD(vnet, plain) { .event_idx = false };
FIXTURE_VARIANT_ADD(vnet, event_idx) { .event_idx = true };

FIXTURE_SETUP(vnet)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC);

	self->tap = self->pkt = -1;
	self->d.fd = -1;
	VX_REQUIRE_DEV(VHOST_NET_DEV);
	if (access("/dev/net/tun", F_OK))
		SKIP(return, "/dev/net/tun not present");
	if (variant->event_idx)
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;

	self->ifname[0] = 0;
	self->tap = vx_tap_open(self->ifname);
	ASSERT_LE(0, self->tap) TH_LOG("tap: %s", strerror(-self->tap));
	self->pkt = packet_socket(self->ifname);
	ASSERT_LE(0, self->pkt) TH_LOG("packet socket: %s",
				       strerror(-self->pkt));

	ASSERT_EQ(0, vx_dev_setup(&self->d, &self->rx, VHOST_NET_DEV, f,
				  0, 256, 0));
	ASSERT_EQ(0, vg_vq_setup(&self->d, &self->tx, 1, 256, 0));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
}

FIXTURE_TEARDOWN(vnet)
{
	if (self->d.fd >= 0) {
		vg_net_set_backend(&self->d, 0, -1);
		vg_net_set_backend(&self->d, 1, -1);
	}
	vg_close(&self->d);
	if (self->pkt >= 0)
		close(self->pkt);
	if (self->tap >= 0)
		close(self->tap);
}

/* Read frames from the packet socket until one matches @seed's payload. */
static int capture(int pkt, unsigned int seed, size_t frame_len)
{
	uint8_t buf[2048];
	struct pollfd p = { .fd = pkt, .events = POLLIN };
	int tries;

	for (tries = 0; tries < 64; tries++) {
		ssize_t n;

		if (poll(&p, 1, VX_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = recv(pkt, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		if ((size_t)n == frame_len &&
		    vx_check(buf + 14, frame_len - 14, seed, 0) < 0)
			return 0;
	}
	return -ENOENT;
}

/* Guest TX ring -> tap: frames arrive byte-exact and buffers complete. */
TEST_F(vnet, tx_to_tap)
{
	const unsigned int n = 100;
	unsigned int i, done = 0;

	VX_SETUP_SKIPPED();

	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->d, HDR_LEN + FRAME_LEN, 64);

		ASSERT_NE(NULL, b);
		make_frame(b + HDR_LEN, FRAME_LEN, i);
		ASSERT_LE(0, vg_vq_add_buf(&self->tx, b, HDR_LEN + FRAME_LEN,
					   NULL, 0, b));
		vg_vq_kick(&self->tx);
		ASSERT_EQ(0, capture(self->pkt, i, FRAME_LEN))
			TH_LOG("frame %u not seen on %s", i, self->ifname);
		while (done <= i) {
			uint32_t len = 1;

			ASSERT_LT(0, vg_vq_wait_used(&self->tx, 1, VX_TIMEOUT_MS));
			ASSERT_LE(0, vg_vq_get_used(&self->tx, &len, NULL));
			ASSERT_EQ(0, len);	/* TX used len is 0 */
			done++;
		}
	}
	ASSERT_EQ(256, self->tx.num_free);
}

/* AF_PACKET -> tap -> guest RX ring: header + frame byte-exact. */
TEST_F(vnet, rx_from_tap)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex(self->ifname),
		.sll_halen = 6,
	};
	uint8_t frame[FRAME_LEN], *bufs[32];
	unsigned int i, seen = 0;

	VX_SETUP_SKIPPED();

	for (i = 0; i < 32; i++) {
		bufs[i] = vg_alloc(&self->d, 2048, 64);
		ASSERT_NE(NULL, bufs[i]);
		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, bufs[i], 2048,
					   bufs[i]));
	}
	vg_vq_kick(&self->rx);

	for (i = 0; i < 8; i++) {
		make_frame(frame, sizeof(frame), 1000 + i);
		ASSERT_EQ((ssize_t)sizeof(frame),
			  sendto(self->pkt, frame, sizeof(frame), 0,
				 (struct sockaddr *)&to, sizeof(to)));
	}
	/* Other traffic (IPv6 ND...) may also arrive: look for ours. */
	while (seen < 8) {
		uint32_t len;
		void *c;

		ASSERT_LT(0, vg_vq_wait_used(&self->rx, 1, VX_TIMEOUT_MS))
			TH_LOG("only %u of 8 frames received", seen);
		ASSERT_LE(0, vg_vq_get_used(&self->rx, &len, &c));
		if (len == HDR_LEN + FRAME_LEN &&
		    ((uint8_t *)c)[HDR_LEN + 12] == (ETH_P_VX >> 8)) {
			ASSERT_EQ(-1, vx_check((uint8_t *)c + HDR_LEN + 14,
					       FRAME_LEN - 14, 1000 + seen, 0));
			seen++;
		}
	}
}

/* Used idx must wrap past 65535 cleanly and GET_VRING_BASE must follow. */
TEST_F(vnet, tx_wraparound)
{
	unsigned int i, base;

	VX_SETUP_SKIPPED();

	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	ASSERT_EQ(0, vg_vq_program(&self->tx, 65530));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	for (i = 0; i < 300; i++) {
		uint8_t *b = vg_alloc(&self->d, HDR_LEN + FRAME_LEN, 64);

		ASSERT_NE(NULL, b);
		make_frame(b + HDR_LEN, FRAME_LEN, i);
		ASSERT_LE(0, vg_vq_add_buf(&self->tx, b, HDR_LEN + FRAME_LEN,
					   NULL, 0, b));
		vg_vq_kick(&self->tx);
		ASSERT_LT(0, vg_vq_wait_used(&self->tx, 1, VX_TIMEOUT_MS));
		ASSERT_LE(0, vg_vq_get_used(&self->tx, NULL, NULL));
	}
	ASSERT_EQ((uint16_t)(65530 + 300), vg_vq_used_idx(&self->tx));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	ASSERT_EQ(0, vg_vq_get_base(&self->tx, &base));
	ASSERT_EQ((uint16_t)(65530 + 300), base);
}

/* Indirect descriptors: header and frame in separate indirect entries. */
TEST_F(vnet, tx_indirect)
{
	uint8_t *hdr = vg_alloc(&self->d, HDR_LEN, 16);
	uint8_t *f = vg_alloc(&self->d, FRAME_LEN, 64);
	struct iovec sg[3];
	uint64_t feat;

	VX_SETUP_SKIPPED();

	ASSERT_EQ(0, vg_get_features(&self->d, &feat));
	ASSERT_TRUE(feat & (1ULL << VIRTIO_RING_F_INDIRECT_DESC));
	make_frame(f, FRAME_LEN, 77);
	sg[0].iov_base = hdr;
	sg[0].iov_len = HDR_LEN;
	sg[1].iov_base = f;
	sg[1].iov_len = 40;
	sg[2].iov_base = f + 40;
	sg[2].iov_len = FRAME_LEN - 40;
	ASSERT_LE(0, vg_vq_add(&self->tx, sg, 3, 0, f, VG_ADD_INDIRECT));
	vg_vq_kick(&self->tx);
	ASSERT_EQ(0, capture(self->pkt, 77, FRAME_LEN));
	ASSERT_LT(0, vg_vq_wait_used(&self->tx, 1, VX_TIMEOUT_MS));
}

VX_HARNESS_MAIN
