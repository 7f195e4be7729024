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
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, tap2, pkt, pkt2;
	char ifname[IFNAMSIZ], ifname2[IFNAMSIZ];
};

FIXTURE_SETUP(be)
{
	self->tap = self->tap2 = self->pkt = self->pkt2 = -1;
	self->d.fd = -1;
	NET_REQUIRE_DEV();
	self->ifname[0] = self->ifname2[0] = 0;
	self->tap = net_tap_open(self->ifname, HLEN, 0);
	ASSERT_LE(0, self->tap);
	self->tap2 = net_tap_open(self->ifname2, HLEN, 0);
	ASSERT_LE(0, self->tap2);
	self->pkt = net_packet_socket(self->ifname);
	ASSERT_LE(0, self->pkt);
	self->pkt2 = net_packet_socket(self->ifname2);
	ASSERT_LE(0, self->pkt2);
	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx,
				   NET_F(VIRTIO_F_VERSION_1), RING));
}

FIXTURE_TEARDOWN(be)
{
	vg_close(&self->d);
	if (self->pkt >= 0)
		close(self->pkt);
	if (self->pkt2 >= 0)
		close(self->pkt2);
	if (self->tap >= 0)
		close(self->tap);
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

TEST_F(be, wrong_fd_types)
{
	int p[2], fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->d, fd, "a UDP socket");
	close(fd);

	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd >= 0) {
		be_expect_notsock(_metadata, &self->d, fd, "a TCP socket");
		close(fd);
	}

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->d, fd, "a raw IP socket");
	close(fd);

	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->d, fd, "an AF_PACKET datagram socket");
	close(fd);

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->d, fd, "a unix socket");
	close(fd);

	ASSERT_EQ(0, pipe(p));
	be_expect_notsock(_metadata, &self->d, p[0], "a pipe");
	close(p[0]);
	close(p[1]);

	fd = eventfd(0, 0);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->d, fd, "an eventfd");
	close(fd);

	fd = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, fd);
	be_expect_notsock(_metadata, &self->d, fd, "a regular file");
	close(fd);

	be_expect_notsock(_metadata, &self->d, self->d.fd, "the device itself");
	be_expect_notsock(_metadata, &self->d, 1000, "a closed descriptor");
	be_expect_notsock(_metadata, &self->d, -2, "fd -2");

	/* The queues still work after all that. */
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
}

TEST_F(be, vq_index_and_owner)
{
	struct vg_dev other;
	pid_t pid;
	int status;

	EXPECT_EQ(-ENOBUFS, vg_net_set_backend(&self->d, 2, self->tap));
	EXPECT_EQ(-ENOBUFS, vg_net_set_backend(&self->d, 0x10000, self->tap));

	/* A device without owner refuses. */
	ASSERT_EQ(0, vg_open(&other, net_dev_path(), 1 << 20));
	EXPECT_EQ(-EPERM, vg_net_set_backend(&other, 0, self->tap));
	vg_close(&other);

	/* So does a process that is not the owner. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(vg_net_set_backend(&self->d, 0, self->tap) == -EPERM ?
		      0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Attaching twice and detaching twice are fine. */
	EXPECT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	EXPECT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	EXPECT_EQ(0, vg_net_set_backend(&self->d, 0, -1));
	EXPECT_EQ(0, vg_net_set_backend(&self->d, 0, -1));
}

/* The socket's reference is dropped on detach: the tap can go away. */
TEST_F(be, detach_releases_tap)
{
	char path[128];

	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap2));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap2));
	close(self->pkt2);
	self->pkt2 = -1;
	close(self->tap2);
	self->tap2 = -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s", self->ifname2);
	/* Still attached: the device holds the tap open. */
	usleep(100 * 1000);
	EXPECT_EQ(0, access(path, F_OK));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, -1));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	usleep(200 * 1000);
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s still exists", path);
}

/* A raw AF_PACKET socket bound to the tap's interface as backend. */
TEST_F(be, packet_socket_backend)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	uint8_t rbuf[2048], *b;
	struct vg_dev d;
	struct vg_vq rx, tx;
	uint32_t len;
	void *c;
	ssize_t n;
	int raw, i;

	/* The packet socket takes no vnet header: the device handles it. */
	ASSERT_EQ(0, net_dev_setup(&d, &rx, &tx,
				   NET_F(VIRTIO_F_VERSION_1) |
				   NET_F(VHOST_NET_F_VIRTIO_NET_HDR), RING));
	raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, raw);
	sll.sll_ifindex = (int)if_nametoindex(self->ifname);
	ASSERT_EQ(0, bind(raw, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vg_net_set_backend(&d, 0, raw));
	ASSERT_EQ(0, vg_net_set_backend(&d, 1, raw));

	/* TX: out of the interface, so readable on the tap fd. */
	b = vg_alloc(&d, HLEN + FLEN, 64);
	memset(b, 0, HLEN);
	net_make_frame(b + HLEN, FLEN, 7);
	ASSERT_LE(0, vg_vq_add_buf(&tx, b, HLEN + FLEN, NULL, 0, b));
	vg_vq_kick(&tx);
	ASSERT_LE(0, net_wait_used(&tx, &len, NULL, VX_TIMEOUT_MS));
	for (i = 0; i < 16; i++) {
		struct pollfd p = { .fd = self->tap, .events = POLLIN };

		ASSERT_LT(0, poll(&p, 1, VX_TIMEOUT_MS));
		n = read(self->tap, rbuf, sizeof(rbuf));
		if (n == HLEN + FLEN && net_frame_ok(rbuf + HLEN, FLEN, 7))
			break;
	}
	ASSERT_GT(16, i) TH_LOG("frame not seen on the tap");

	/* RX: written to the tap fd, received on the interface. */
	for (i = 0; i < 8; i++) {
		b = vg_alloc(&d, 2048, 64);
		ASSERT_LE(0, vg_vq_add_buf(&rx, NULL, 0, b, 2048, b));
	}
	vg_vq_kick(&rx);
	memset(rbuf, 0, HLEN);
	net_make_frame(rbuf + HLEN, FLEN, 8);
	ASSERT_EQ(HLEN + FLEN, write(self->tap, rbuf, HLEN + FLEN));
	for (;;) {
		ASSERT_LE(0, net_wait_used(&rx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("frame not received from the packet socket");
		if (len == HLEN + FLEN &&
		    net_frame_ok((uint8_t *)c + HLEN, FLEN, 8))
			break;
	}
	vg_close(&d);
	close(raw);
}

struct be_pump {
	struct vg_vq *tx;
	uint8_t *bufs[RING];
	volatile bool stop;
	unsigned long sent, done;
	int error;
};

/* Keep the TX ring full of frames and reap completions until told to stop. */
static void *be_pump_fn(void *arg)
{
	struct be_pump *p = arg;
	unsigned int next = 0;

	while (!p->stop) {
		void *c;

		while (p->tx->num_free && !p->stop) {
			uint8_t *b = p->bufs[next++ % RING];

			net_make_frame(b + HLEN, FLEN, (unsigned int)p->sent);
			if (vg_vq_add_buf(p->tx, b, HLEN + FLEN, NULL, 0,
					  b) < 0) {
				p->error = 1;
				return NULL;
			}
			p->sent++;
		}
		vg_vq_kick(p->tx);
		while (vg_vq_get_used(p->tx, NULL, &c) >= 0)
			p->done++;
		vg_wait_eventfd(p->tx->call_fd, 2);
	}
	return NULL;
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
TEST_F(be, swap_under_traffic)
{
	struct be_pump p = { .tx = &self->tx };
	unsigned long base1, base2, out;
	uint8_t frame[FLEN];
	pthread_t th;
	uint32_t len;
	void *c;
	int i;

	for (i = 0; i < RING; i++) {
		p.bufs[i] = vg_alloc(&self->d, HLEN + FLEN, 64);
		ASSERT_NE(NULL, p.bufs[i]);
		memset(p.bufs[i], 0, HLEN);
	}
	for (i = 0; i < 64; i++) {
		uint8_t *b = vg_alloc(&self->d, 2048, 64);

		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b, 2048, b));
	}
	vg_vq_kick(&self->rx);
	/* Keep the capture sockets from filling: we count via sysfs. */
	close(self->pkt2);
	self->pkt2 = -1;
	base1 = be_rx_packets(self->ifname);
	base2 = be_rx_packets(self->ifname2);

	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	ASSERT_EQ(0, pthread_create(&th, NULL, be_pump_fn, &p));
	for (i = 0; i < 60; i++) {
		int fd = (i % 3 == 0) ? self->tap : (i % 3 == 1) ?
			 self->tap2 : -1;

		ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, fd));
		ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, fd));
		usleep(5000);
	}
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap2));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	usleep(200 * 1000);
	p.stop = true;
	pthread_join(th, NULL);
	ASSERT_EQ(0, p.error);
	ASSERT_LT(0, p.sent);

	/* Everything queued completes once a backend is attached. */
	while (p.done < p.sent) {
		ASSERT_LE(0, net_wait_used(&self->tx, NULL, NULL,
					   VX_TIMEOUT_MS))
			TH_LOG("%lu of %lu TX buffers completed",
			       p.done, p.sent);
		p.done++;
	}
	ASSERT_EQ(RING, self->tx.num_free);
	usleep(100 * 1000);
	out = be_rx_packets(self->ifname) - base1 +
	      be_rx_packets(self->ifname2) - base2;
	EXPECT_EQ(p.sent, out) TH_LOG("%lu frames queued, %lu left the taps",
				      p.sent, out);

	/* RX still works on the final backend. */
	net_make_frame(frame, FLEN, 31337);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame, FLEN));
	for (;;) {
		ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS));
		if (len == HLEN + FLEN &&
		    net_frame_ok((uint8_t *)c + HLEN, FLEN, 31337))
			break;
	}
}

/* Closing the device (and its owner's fds) with traffic in flight. */
TEST_F(be, close_under_traffic)
{
	struct be_pump p = { .tx = &self->tx };
	pthread_t th;
	int i;

	for (i = 0; i < RING; i++) {
		p.bufs[i] = vg_alloc(&self->d, HLEN + FLEN, 64);
		ASSERT_NE(NULL, p.bufs[i]);
		memset(p.bufs[i], 0, HLEN);
	}
	for (i = 0; i < 64; i++) {
		uint8_t *b = vg_alloc(&self->d, 2048, 64);

		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b, 2048, b));
	}
	vg_vq_kick(&self->rx);
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	ASSERT_EQ(0, pthread_create(&th, NULL, be_pump_fn, &p));
	usleep(300 * 1000);
	/* Pull the fd from under the pump; it only touches the rings. */
	close(self->d.fd);
	self->d.fd = -1;
	usleep(100 * 1000);
	p.stop = true;
	pthread_join(th, NULL);
	ASSERT_LT(0, p.done);
	/* The taps were released: closing them must work and free them. */
	close(self->pkt);
	self->pkt = -1;
	close(self->tap);
	self->tap = -1;
	usleep(200 * 1000);
	{
		char path[128];

		snprintf(path, sizeof(path), "/sys/class/net/%s",
			 self->ifname);
		EXPECT_NE(0, access(path, F_OK));
	}
}

VX_HARNESS_MAIN
