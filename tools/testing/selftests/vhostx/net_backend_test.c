// SPDX-License-Identifier: GPL-2.0
/*
 * net_backend_test: VHOST_NET_SET_BACKEND.  Which descriptors are accepted
 * (tap, raw AF_PACKET) and which are refused with ENOTSOCK (UDP and TCP
 * sockets, AF_PACKET datagram sockets, unix sockets, pipes, eventfds,
 * regular files, the device itself, closed descriptors: CVE-2020-10942
 * class); vq index and owner checks; a raw packet socket as backend; and
 * detaching, swapping and closing while traffic flows.
 */
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	256
#define HLEN	12
#define FLEN	128

FIXTURE(be) {
	struct net_fx n;	/* queues detached at start */
	int tap2, pkt2;
	char ifname2[IFNAMSIZ];
};

FIXTURE_SETUP(be)
{
	net_fx_init(&self->n);
	self->tap2 = self->pkt2 = -1;
	NET_REQUIRE_DEV();
	ASSERT_EQ(0, net_fx_tap(&self->n, HLEN));
	self->ifname2[0] = 0;
	ASSERT_EQ(0, vg_tap_capture(self->ifname2, HLEN, &self->tap2,
				    &self->pkt2));
	ASSERT_EQ(0, net_fx_open(&self->n, VG_F(VIRTIO_F_VERSION_1), RING));
}

FIXTURE_TEARDOWN(be)
{
	net_fx_teardown(&self->n);
	if (self->pkt2 >= 0)
		close(self->pkt2);
	if (self->tap2 >= 0)
		close(self->tap2);
}

static void be_expect_notsock(struct __test_metadata *_metadata,
			      struct vg_dev *d, int fd, const char *what)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		EXPECT_EQ(-ENOTSOCK, vg_net_set_backend(d, i, fd))
			TH_LOG("vq %u accepted %s", i, what);
}

VX_TEST_F(be, wrong_fd_types)
{
	int p[2], fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->n.d, fd, "a UDP socket");
	close(fd);

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd >= 0) {
		be_expect_notsock(_metadata, &self->n.d, fd, "a TCP socket");
		close(fd);
	}

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->n.d, fd, "a raw IP socket");
	close(fd);

	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->n.d, fd, "an AF_PACKET datagram socket");
	close(fd);

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->n.d, fd, "a unix socket");
	close(fd);

	ASSERT_EQ(0, pipe(p));
	be_expect_notsock(_metadata, &self->n.d, p[0], "a pipe");
	close(p[0]);
	close(p[1]);

	fd = eventfd(0, 0);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->n.d, fd, "an eventfd");
	close(fd);

	fd = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->n.d, fd, "a regular file");
	close(fd);

	be_expect_notsock(_metadata, &self->n.d, self->n.d.fd, "the device itself");
	be_expect_notsock(_metadata, &self->n.d, 1000, "a closed descriptor");
	be_expect_notsock(_metadata, &self->n.d, -2, "fd -2");

	/* The queues still work after all that. */
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->n.tap));
}

VX_TEST_F(be, vq_index_and_owner)
{
	struct vg_dev other;

	EXPECT_EQ(-ENOBUFS, vg_net_set_backend(&self->n.d, 2, self->n.tap));
	EXPECT_EQ(-ENOBUFS, vg_net_set_backend(&self->n.d, 0x10000, self->n.tap));

	/* A device without owner refuses. */
	ASSERT_EQ(0, vg_open(&other, net_dev_path(), 1 << 20));
	EXPECT_EQ(-EPERM, vg_net_set_backend(&other, 0, self->n.tap));
	vg_close(&other);

	/* So does a process that is not the owner. */
	EXPECT_EQ(-EPERM,
		  VX_IN_CHILD(vg_net_set_backend(&self->n.d, 0, self->n.tap)));

	/* Attaching twice and detaching twice are fine. */
	EXPECT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	EXPECT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	EXPECT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	EXPECT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
}

/* The socket's reference is dropped on detach: the tap can go away. */
VX_TEST_F(be, detach_releases_tap)
{
	char path[128];

	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->tap2));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->tap2));
	close(self->pkt2);
	self->pkt2 = -1;
	close(self->tap2);
	self->tap2 = -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s", self->ifname2);
	/* Still attached: the device holds the tap open. */
	usleep(100 * 1000);
	EXPECT_EQ(0, access(path, F_OK));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, -1));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, -1));
	usleep(200 * 1000);
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s still exists", path);
}

/* A raw AF_PACKET socket bound to the tap's interface as backend. */
VX_TEST_F(be, packet_socket_backend)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	uint8_t rbuf[2048];
	struct net_fx m;
	uint32_t len;
	void *c;
	ssize_t n;
	int raw, i;

	/* The packet socket takes no vnet header: the device handles it. */
	net_fx_init(&m);
	ASSERT_EQ(0, net_fx_open(&m, VG_F(VIRTIO_F_VERSION_1) |
				 VG_F(VHOST_NET_F_VIRTIO_NET_HDR), RING));
	raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, raw);
	sll.sll_ifindex = (int)if_nametoindex(self->n.ifname);
	ASSERT_EQ(0, bind(raw, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vg_net_attach(&m.d, raw));

	/* TX: out of the interface, so readable on the tap fd. */
	ASSERT_NE(NULL, net_tx_frame(&m, FLEN, 7));
	ASSERT_LE(0, net_wait_used(&m.tx, &len, NULL, VX_TIMEOUT_MS));
	for (i = 0; i < 16; i++) {
		struct pollfd p = { .fd = self->n.tap, .events = POLLIN };

		ASSERT_LT(0, poll(&p, 1, VX_TIMEOUT_MS));
		n = read(self->n.tap, rbuf, sizeof(rbuf));
		if (n == HLEN + FLEN && vg_frame_ok(rbuf + HLEN, FLEN, 7))
			break;
	}
	ASSERT_GT(16, i) TH_LOG("frame not seen on the tap");

	/* RX: written to the tap fd, received on the interface. */
	ASSERT_EQ(0, net_rx_post(&m, 8, 2048));
	memset(rbuf, 0, HLEN);
	vg_frame_make(rbuf + HLEN, FLEN, 8);
	ASSERT_EQ(HLEN + FLEN, write(self->n.tap, rbuf, HLEN + FLEN));
	for (;;) {
		ASSERT_LE(0, net_wait_used(&m.rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("frame not received from the packet socket");
		if (len == HLEN + FLEN &&
		    vg_frame_ok((uint8_t *)c + HLEN, FLEN, 8))
			break;
	}
	net_fx_teardown(&m);
	close(raw);
}

static unsigned long be_rx_packets(const char *ifname)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_packets",
		 ifname);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strtoul(buf, NULL, 10);
}

/*
 * Swap the TX and RX backends between two taps and "none" while a thread
 * floods TX.  Every buffer completes, and every frame the device took came
 * out of exactly one of the taps.
 */
VX_TEST_F(be, swap_under_traffic)
{
	unsigned long base1, base2, out;
	struct net_pump p;
	uint8_t frame[FLEN];
	uint32_t len;
	void *c;
	int i;

	net_pump_init(_metadata, &p, &self->n, FLEN);
	ASSERT_EQ(0, net_rx_post(&self->n, 64, 2048));
	/* Keep the capture sockets from filling: we count via sysfs. */
	close(self->pkt2);
	self->pkt2 = -1;
	base1 = be_rx_packets(self->n.ifname);
	base2 = be_rx_packets(self->ifname2);

	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->n.tap));
	net_pump_start(_metadata, &p);
	for (i = 0; i < 60; i++) {
		int fd = (i % 3 == 0) ? self->n.tap : (i % 3 == 1) ?
			 self->tap2 : -1;

		ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, fd));
		ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, fd));
		usleep(5000);
	}
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->tap2));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	usleep(200 * 1000);
	/* Everything queued completes once a backend is attached. */
	net_pump_finish(_metadata, &p);
	ASSERT_EQ(RING, self->n.tx.num_free);
	usleep(100 * 1000);
	out = be_rx_packets(self->n.ifname) - base1 +
	      be_rx_packets(self->ifname2) - base2;
	EXPECT_EQ(p.sent, out) TH_LOG("%lu frames queued, %lu left the taps",
				      p.sent, out);

	/* RX still works on the final backend. */
	vg_frame_make(frame, FLEN, 31337);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, FLEN));
	for (;;) {
		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS));
		if (len == HLEN + FLEN &&
		    vg_frame_ok((uint8_t *)c + HLEN, FLEN, 31337))
			break;
	}
}

/* Closing the device (and its owner's fds) with traffic in flight. */
VX_TEST_F(be, close_under_traffic)
{
	struct net_pump p;

	net_pump_init(_metadata, &p, &self->n, FLEN);
	ASSERT_EQ(0, net_rx_post(&self->n, 64, 2048));
	ASSERT_EQ(0, vg_net_attach(&self->n.d, self->n.tap));
	net_pump_start(_metadata, &p);
	usleep(300 * 1000);
	/* Pull the fd from under the pump; it only touches the rings. */
	close(self->n.d.fd);
	self->n.d.fd = -1;
	usleep(100 * 1000);
	net_pump_stop(&p);
	ASSERT_LT(0, p.done);
	/* The taps were released: closing them must work and free them. */
	close(self->n.pkt);
	self->n.pkt = -1;
	close(self->n.tap);
	self->n.tap = -1;
	usleep(200 * 1000);
	{
		char path[128];

		snprintf(path, sizeof(path), "/sys/class/net/%s",
			 self->n.ifname);
		EXPECT_NE(0, access(path, F_OK));
	}
}

VX_HARNESS_MAIN
