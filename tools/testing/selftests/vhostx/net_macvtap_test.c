// SPDX-License-Identifier: GPL-2.0
/*
 * net_macvtap_test: a macvtap queue as backend.  A dummy parent carries a
 * macvtap (the backend) and a macvlan peer, both in bridge mode, so frames
 * pass between them locally: guest TX -> macvtap -> macvlan peer capture,
 * and peer send -> macvtap -> guest RX, byte-exact.
 */
#include <stdarg.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	64
#define HLEN	12
#define FLEN	200

static const uint8_t mac_tap[6] = { 0x02, 0, 0, 0, 0xaa, 0x01 };
static const uint8_t mac_peer[6] = { 0x02, 0, 0, 0, 0xaa, 0x02 };

/* n.tap: the macvtap queue; n.pkt: a capture socket on the peer. */
FIXTURE(mvt) {
	struct net_fx n;
	char parent[IFNAMSIZ], mvt[IFNAMSIZ], peer[IFNAMSIZ];
};

FIXTURE_SETUP(mvt)
{
	char path[64];
	int hdr = HLEN, r;

	net_fx_init(&self->n);
	self->parent[0] = 0;
	VX_REQUIRE_DEV(net_dev_path());
	if (net_sh("command -v ip >/dev/null"))
		SKIP(return, "ip(8) not available");
	snprintf(self->parent, IFNAMSIZ, "vxd%d", getpid() % 100000);
	snprintf(self->mvt, IFNAMSIZ, "vxt%d", getpid() % 100000);
	snprintf(self->peer, IFNAMSIZ, "vxp%d", getpid() % 100000);
	if (net_sh("ip link add %s type dummy 2>/dev/null", self->parent)) {
		self->parent[0] = 0;
		SKIP(return, "no dummy interfaces");
	}
	r = net_sh("ip link add link %s name %s type macvtap mode bridge && "
		   "ip link add link %s name %s type macvlan mode bridge",
		   self->parent, self->mvt, self->parent, self->peer);
	if (r)
		SKIP(return, "no macvtap/macvlan");
	vg_if_ipv6_off(self->parent);
	vg_if_ipv6_off(self->mvt);
	vg_if_ipv6_off(self->peer);
	ASSERT_EQ(0, net_sh("ip link set %s address 02:00:00:00:aa:01 && "
			    "ip link set %s address 02:00:00:00:aa:02 && "
			    "ip link set %s up && ip link set %s up && "
			    "ip link set %s up", self->mvt, self->peer,
			    self->parent, self->mvt, self->peer));

	snprintf(path, sizeof(path), "/dev/tap%u", if_nametoindex(self->mvt));
	self->n.tap = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->n.tap) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->n.tap, TUNSETVNETHDRSZ, &hdr));
	self->n.pkt = vg_packet_socket(self->peer, VG_ETH_P);
	ASSERT_LE(0, self->n.pkt);
	ASSERT_EQ(0, net_fx_dev(&self->n, VG_F(VIRTIO_F_VERSION_1), RING));
}

FIXTURE_TEARDOWN(mvt)
{
	net_fx_teardown(&self->n);
	if (self->parent[0])
		net_sh("ip link del %s 2>/dev/null", self->parent);
}

VX_TEST_F(mvt, tx_and_rx)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = (int)if_nametoindex(self->peer),
		.sll_halen = 6,
	};
	uint8_t frame[FLEN], cap[2048];
	unsigned int i;

	/* TX: guest -> macvtap -> peer. */
	for (i = 0; i < 8; i++) {
		uint8_t *b = vg_alloc(&self->n.d, HLEN + FLEN, 64);
		ssize_t n;

		memset(b, 0, HLEN);
		vg_frame_make(b + HLEN, FLEN, 10 + i);
		memcpy(b + HLEN, mac_peer, 6);
		memcpy(b + HLEN + 6, mac_tap, 6);
		ASSERT_LE(0, vg_vq_add_buf(&self->n.tx, b, HLEN + FLEN, NULL, 0,
					   b));
		vg_vq_kick(&self->n.tx);
		n = vg_frame_capture(self->n.pkt, cap, sizeof(cap), VX_TIMEOUT_MS);
		ASSERT_EQ(FLEN, n) TH_LOG("TX frame %u: %zd", i, n);
		ASSERT_TRUE(vg_frame_ok(cap, FLEN, 10 + i));
		ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL,
					   VX_TIMEOUT_MS));
	}

	/* RX: peer -> macvtap -> guest. */
	for (i = 0; i < 16; i++) {
		uint8_t *b = vg_alloc(&self->n.d, 2048, 64);

		ASSERT_LE(0, vg_vq_add_buf(&self->n.rx, NULL, 0, b, 2048, b));
	}
	vg_vq_kick(&self->n.rx);
	for (i = 0; i < 8; i++) {
		uint32_t len;
		void *c;

		vg_frame_make(frame, FLEN, 40 + i);
		memcpy(frame, mac_tap, 6);
		memcpy(frame + 6, mac_peer, 6);
		ASSERT_EQ(FLEN, sendto(self->n.pkt, frame, FLEN, 0,
				       (struct sockaddr *)&to, sizeof(to)));
		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("RX frame %u not received", i);
		ASSERT_EQ(HLEN + FLEN, len);
		ASSERT_EQ(0, memcmp((uint8_t *)c + HLEN, frame, FLEN));
	}
}

VX_HARNESS_MAIN
