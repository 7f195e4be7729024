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

FIXTURE(mvt) {
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tapfd, pkt;
	char parent[IFNAMSIZ], mvt[IFNAMSIZ], peer[IFNAMSIZ];
};

FIXTURE_SETUP(mvt)
{
	char path[64];
	int hdr = HLEN, r;

	self->tapfd = self->pkt = -1;
	self->d.fd = -1;
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
	net_sysctl(self->parent, "disable_ipv6", "1");
	net_sysctl(self->mvt, "disable_ipv6", "1");
	net_sysctl(self->peer, "disable_ipv6", "1");
	ASSERT_EQ(0, net_sh("ip link set %s address 02:00:00:00:aa:01 && "
			    "ip link set %s address 02:00:00:00:aa:02 && "
			    "ip link set %s up && ip link set %s up && "
			    "ip link set %s up", self->mvt, self->peer,
			    self->parent, self->mvt, self->peer));

	snprintf(path, sizeof(path), "/dev/tap%u", if_nametoindex(self->mvt));
	self->tapfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->tapfd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->tapfd, TUNSETVNETHDRSZ, &hdr));
	self->pkt = net_packet_socket(self->peer);
	ASSERT_LE(0, self->pkt);

	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx,
				   NET_F(VIRTIO_F_VERSION_1), RING));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tapfd));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tapfd));
}

FIXTURE_TEARDOWN(mvt)
{
	vg_close(&self->d);
	if (self->pkt >= 0)
		close(self->pkt);
	if (self->tapfd >= 0)
		close(self->tapfd);
	if (self->parent[0])
		net_sh("ip link del %s 2>/dev/null", self->parent);
}

TEST_F(mvt, tx_and_rx)
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
		uint8_t *b = vg_alloc(&self->d, HLEN + FLEN, 64);
		ssize_t n;

		memset(b, 0, HLEN);
		net_make_frame(b + HLEN, FLEN, 10 + i);
		memcpy(b + HLEN, mac_peer, 6);
		memcpy(b + HLEN + 6, mac_tap, 6);
		ASSERT_LE(0, vg_vq_add_buf(&self->tx, b, HLEN + FLEN, NULL, 0,
					   b));
		vg_vq_kick(&self->tx);
		n = net_capture(self->pkt, cap, sizeof(cap), VX_TIMEOUT_MS);
		ASSERT_EQ(FLEN, n) TH_LOG("TX frame %u: %zd", i, n);
		ASSERT_TRUE(net_frame_ok(cap, FLEN, 10 + i));
		ASSERT_LE(0, net_wait_used(&self->tx, NULL, NULL,
					   VX_TIMEOUT_MS));
	}

	/* RX: peer -> macvtap -> guest. */
	for (i = 0; i < 16; i++) {
		uint8_t *b = vg_alloc(&self->d, 2048, 64);

		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b, 2048, b));
	}
	vg_vq_kick(&self->rx);
	for (i = 0; i < 8; i++) {
		uint32_t len;
		void *c;

		net_make_frame(frame, FLEN, 40 + i);
		memcpy(frame, mac_tap, 6);
		memcpy(frame + 6, mac_peer, 6);
		ASSERT_EQ(FLEN, sendto(self->pkt, frame, FLEN, 0,
				       (struct sockaddr *)&to, sizeof(to)));
		ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("RX frame %u not received", i);
		ASSERT_EQ(HLEN + FLEN, len);
		ASSERT_EQ(0, memcmp((uint8_t *)c + HLEN, frame, FLEN));
	}
}

VX_HARNESS_MAIN
