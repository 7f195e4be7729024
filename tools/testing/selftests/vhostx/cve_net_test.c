// SPDX-License-Identifier: GPL-2.0
/*
 * cve_net_test: the vulnerability classes of Documentation/vhostx/security.rst
 * that need the network backend, on /dev/vhostx-net with a tap.  Test
 * names carry the class (and the upstream CVE where there is one).
 */
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"
#include "cve_common.h"

#define HLEN	12
#define V1	NET_F(VIRTIO_F_VERSION_1)
#define MRG	NET_F(VIRTIO_NET_F_MRG_RXBUF)
#define INDIR_F	NET_F(VIRTIO_RING_F_INDIRECT_DESC)
#define LOGALL	NET_F(VHOST_F_LOG_ALL)
#define CANARY	0x5a

FIXTURE(cnet) {
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
	bool zc_set;	/* this test turned experimental_zcopytx on */
	bool zc_min_set; /* and lowered zcopy_min_len below its frames */
};

FIXTURE_SETUP(cnet)
{
	self->tap = self->pkt = -1;
	self->d.fd = -1;
	memset(&self->rx, 0, sizeof(self->rx));
	memset(&self->tx, 0, sizeof(self->tx));
	self->rx.kick_fd = self->rx.call_fd = self->rx.err_fd = -1;
	self->tx.kick_fd = self->tx.call_fd = self->tx.err_fd = -1;
	NET_REQUIRE_DEV();
	self->ifname[0] = 0;
	ASSERT_EQ(0, net_tap_capture(self->ifname, HLEN, &self->tap,
					     &self->pkt));
}

FIXTURE_TEARDOWN(cnet)
{
	vg_close(&self->d);
	vg_vq_free(&self->rx);
	vg_vq_free(&self->tx);
	if (self->pkt >= 0)
		close(self->pkt);
	if (self->tap >= 0)
		close(self->tap);
	if (self->zc_set)
		net_zcopy_param("0");
	if (self->zc_min_set)
		net_zcopy_min(NET_ZCOPY_MIN_DEFAULT);
}

/* Device with @features, rings of @num, both queues on the tap. */
static int cnet_up(FIXTURE_DATA(cnet) *self, uint64_t features,
		   unsigned int num)
{
	int r = net_dev_setup(&self->d, &self->rx, &self->tx, features, num);

	if (!r)
		r = vg_net_set_backend(&self->d, 0, self->tap);
	if (!r)
		r = vg_net_set_backend(&self->d, 1, self->tap);
	return r;
}

/* @n RX buffers of @size bytes, each followed by 64 canary bytes. */
static void post_rx(struct __test_metadata *_metadata,
		    FIXTURE_DATA(cnet) *self, unsigned int n, size_t size,
		    uint8_t **bufs)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->d, size + 64, 64);

		ASSERT_NE(NULL, b);
		memset(b, 0xee, size);
		memset(b + size, CANARY, 64);
		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b,
					   (uint32_t)size, b));
		if (bufs)
			bufs[i] = b;
	}
	vg_vq_kick(&self->rx);
}

static bool canary_ok(const uint8_t *b, size_t size)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (b[size + i] != CANARY)
			return false;
	return true;
}

/* Inject a frame and wait for it (skipping strangers) in the RX ring. */
static int rx_frame(FIXTURE_DATA(cnet) *self, size_t flen, unsigned int seed,
		    uint32_t *len_out, void **buf_out, int ms)
{
	static uint8_t f[9000];
	uint32_t len;
	void *c;
	int i;

	net_make_frame(f, flen, seed);
	if (net_inject(self->pkt, self->ifname, f, flen))
		return -EIO;
	for (i = 0; i < 64; i++) {
		if (net_wait_used(&self->rx, &len, &c, ms) < 0)
			return -ETIMEDOUT;
		if (len == HLEN + flen &&
		    net_frame_ok((uint8_t *)c + HLEN, flen, seed)) {
			if (len_out)
				*len_out = len;
			if (buf_out)
				*buf_out = c;
			return 0;
		}
	}
	return -EPROTO;
}

/* One TX frame must complete. */
static int tx_frame(FIXTURE_DATA(cnet) *self, unsigned int seed)
{
	uint8_t *b = vg_alloc(&self->d, HLEN + 200, 64);

	if (!b)
		return -ENOMEM;
	memset(b, 0, HLEN);
	net_make_frame(b + HLEN, 200, seed);
	if (vg_vq_add_buf(&self->tx, b, HLEN + 200, NULL, 0, b) < 0)
		return -ENOSPC;
	vg_vq_kick(&self->tx);
	return net_wait_used(&self->tx, NULL, NULL, VX_TIMEOUT_MS) < 0 ?
		-ETIMEDOUT : 0;
}

static int set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr = { 0 };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (sk < 0)
		return -errno;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_mtu = mtu;
	r = ioctl(sk, SIOCSIFMTU, &ifr) ? -errno : 0;
	close(sk);
	return r;
}

/*
 * CVE-2014-0077 class: RX length not validated.  A packet larger than the
 * buffer (no MRG_RXBUF) must be dropped, not written past the buffer; the
 * buffer then takes the next packet that fits.
 */
TEST_F_TIMEOUT(cnet, cve_2014_0077_rx_len_not_validated, 300)
{
	static const size_t big[] = { 1000, 4000 };
	long long drops0;
	unsigned int i;
	uint8_t *b[1];
	uint32_t len;
	void *c;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, cnet_up(self, V1, 64));
	ASSERT_EQ(0, set_mtu(self->ifname, 9000));
	post_rx(_metadata, self, 1, 256, b);
	for (i = 0; i < 2; i++) {
		drops0 = cve_stat(self->d.fd, 0, CVE_ST_DROPS);
		ASSERT_EQ(-ETIMEDOUT, rx_frame(self, big[i], 1 + i, NULL, NULL,
					       VX_QUIET_MS * 2))
			TH_LOG("a %zu-byte frame used a 256-byte buffer", big[i]);
		ASSERT_EQ(0, vg_vq_used_idx(&self->rx));
		ASSERT_TRUE(canary_ok(b[0], 256)) TH_LOG("written past the RX buffer");
		if (drops0 >= 0)
			ASSERT_LT(drops0, cve_stat(self->d.fd, 0, CVE_ST_DROPS))
				TH_LOG("drop not counted");
	}
	ASSERT_EQ(0, rx_frame(self, 200, 3, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(b[0], c);
	ASSERT_TRUE(canary_ok(b[0], 256));
}

/* Same class with MRG_RXBUF: each used length within its buffer. */
TEST_F_TIMEOUT(cnet, cve_2014_0077_rx_len_mergeable, 300)
{
	struct virtio_net_hdr_mrg_rxbuf *h;
	uint8_t *b[16];
	uint32_t len, total = 0;
	void *c, *first = NULL;
	unsigned int i, n;
	uint8_t f[1400];

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, cnet_up(self, V1 | MRG, 64));
	post_rx(_metadata, self, 16, 256, b);
	net_make_frame(f, sizeof(f), 3);
	ASSERT_EQ(0, net_inject(self->pkt, self->ifname, f, sizeof(f)));
	ASSERT_LE(0, net_wait_used(&self->rx, &len, &first, VX_TIMEOUT_MS));
	h = first;
	n = h->num_buffers;
	ASSERT_EQ((HLEN + sizeof(f) + 255) / 256, n);
	ASSERT_GE(256, len);
	total = len;
	for (i = 1; i < n; i++) {
		ASSERT_LE(0, net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS));
		ASSERT_GE(256, len) TH_LOG("used len %u > buffer 256", len);
		total += len;
	}
	ASSERT_EQ(HLEN + sizeof(f), total);
	for (i = 0; i < 16; i++)
		ASSERT_TRUE(canary_ok(b[i], 256)) TH_LOG("buffer %u overrun", i);
}

/*
 * Collect the used entries of one mergeable RX frame spread over buffers
 * of @per one-byte descriptors at data + (buf * per + j) * 2 (cookie =
 * data + buf), reassemble it and check it.  0 if it is the frame.
 */
static int rx_gather(FIXTURE_DATA(cnet) *self, uint8_t *data, unsigned int per,
		     size_t flen, unsigned int seed, unsigned int *nbufs)
{
	static uint8_t f[2048];
	size_t total = 0, j;
	uint32_t len;
	void *c;

	*nbufs = 0;
	while (total < HLEN + flen) {
		unsigned int buf;

		if (net_wait_used(&self->rx, &len, &c, VX_TIMEOUT_MS) < 0)
			return -ETIMEDOUT;
		buf = (unsigned int)((uint8_t *)c - data);
		if (len > per || total + len > sizeof(f))
			return -EMSGSIZE;
		for (j = 0; j < len; j++)
			f[total + j] = data[(buf * per + j) * 2];
		total += len;
		(*nbufs)++;
	}
	if (total != HLEN + flen)
		return -EPROTO;
	if (((struct virtio_net_hdr_mrg_rxbuf *)f)->num_buffers != *nbufs)
		return -EBADMSG;
	return net_frame_ok(f + HLEN, flen, seed) ? 0 : -EILSEQ;
}

/*
 * CVE-2019-14835 class: more dirty-log entries than buffers during
 * migration.  RX with LOG_ALL and MRG_RXBUF into buffers that are indirect
 * tables of one-byte writable descriptors: a 200-byte frame needs 212 log
 * entries over 14 buffers and must be delivered and logged exactly (only
 * the data page and the used ring); a 1500-byte one needs more segments
 * than the device takes at once and must be dropped (or delivered
 * exactly), never overflow anything.  Then the device still works.
 */
TEST_F_TIMEOUT(cnet, cve_2019_14835_log_overflow, 300)
{
	const unsigned int per = 16, nbuf = 128;
	uint64_t a, used_pg;
	unsigned int i, j, n;
	uint8_t *data;
	int r;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx,
				   V1 | MRG | INDIR_F | LOGALL, 256));
	ASSERT_EQ(0, vg_log_setup(&self->d));
	ASSERT_EQ(0, vg_vq_set_addr(&self->rx, VHOST_VRING_F_LOG,
				    vg_gpa(self->rx.used)));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));

	data = vg_alloc(&self->d, 4096, 4096);
	ASSERT_NE(NULL, data);
	for (i = 0; i < nbuf; i++) {
		struct iovec sg[16];

		for (j = 0; j < per; j++) {
			sg[j].iov_base = data + (i * per + j) * 2;
			sg[j].iov_len = 1;
		}
		ASSERT_LE(0, vg_vq_add(&self->rx, sg, 0, per, data + i,
				       VG_ADD_INDIRECT));
	}
	vg_vq_kick(&self->rx);
	vg_log_clear(&self->d);

	{
		uint8_t f[200];

		net_make_frame(f, sizeof(f), 4);
		ASSERT_EQ(0, net_inject(self->pkt, self->ifname, f, sizeof(f)));
	}
	ASSERT_EQ(0, rx_gather(self, data, per, 200, 4, &n));
	ASSERT_EQ((HLEN + 200 + per - 1) / per, n);
	/* Logged: the data page, the used ring; nothing else. */
	ASSERT_TRUE(vg_log_test(&self->d, vg_gpa(data)));
	used_pg = vg_gpa(self->rx.used) & ~4095ULL;
	for (a = vg_gpa(self->d.arena); a < vg_gpa(self->d.arena) +
	     self->d.arena_size; a += 4096) {
		if (a == vg_gpa(data) || (a >= used_pg &&
		    a < vg_gpa(self->rx.used) + 6 + 8 * 256))
			continue;
		ASSERT_FALSE(vg_log_test(&self->d, a))
			TH_LOG("page %#llx logged but never written",
			       (unsigned long long)a);
	}

	/* 1512 one-byte segments: more than one packet may take. */
	{
		uint8_t f[1500];

		net_make_frame(f, sizeof(f), 5);
		ASSERT_EQ(0, net_inject(self->pkt, self->ifname, f, sizeof(f)));
	}
	r = rx_gather(self, data, per, 1500, 5, &n);
	if (r != -ETIMEDOUT)
		ASSERT_EQ(0, r) TH_LOG("1500-byte frame delivered wrongly");
	/* Whatever happened to it, a small frame still arrives exactly. */
	{
		uint8_t f[60];

		net_make_frame(f, sizeof(f), 6);
		ASSERT_EQ(0, net_inject(self->pkt, self->ifname, f, sizeof(f)));
	}
	ASSERT_EQ(0, rx_gather(self, data, per, 60, 6, &n));
}

/* ---- traffic pump: keeps the TX ring full and reaps completions ---- */
#define PUMP_RING	256
#define FLEN		1000

struct pump {
	struct vg_vq *tx;
	uint8_t *bufs[PUMP_RING];
	volatile bool stop;
	volatile unsigned long sent, done;
	size_t flen;
};

/* Closes a device from its own thread (the close may wait). */
struct closer {
	int fd;
};

static void *closer_fn(void *arg)
{
	struct closer *c = arg;

	close(c->fd);
	return NULL;
}

static void *pump_fn(void *arg)
{
	struct pump *p = arg;
	unsigned int next = 0;

	while (!p->stop) {
		while (p->tx->num_free > 0) {
			uint8_t *b = p->bufs[next++ % PUMP_RING];

			if (vg_vq_add_buf(p->tx, b, (uint32_t)(HLEN + p->flen),
					  NULL, 0, b) < 0)
				break;
			p->sent++;
		}
		vg_vq_kick(p->tx);
		vg_vq_wait_used(p->tx, 1, 20);
		while (vg_vq_get_used(p->tx, NULL, NULL) >= 0)
			p->done++;
	}
	return NULL;
}

static void pump_init(struct __test_metadata *_metadata,
		      FIXTURE_DATA(cnet) *self, struct pump *p, size_t flen)
{
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->tx = &self->tx;
	p->flen = flen;
	for (i = 0; i < PUMP_RING; i++) {
		p->bufs[i] = vg_alloc(&self->d, HLEN + flen, 64);
		ASSERT_NE(NULL, p->bufs[i]);
		memset(p->bufs[i], 0, HLEN);
		net_make_frame(p->bufs[i] + HLEN, flen, i);
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * CVE-2019-3900 class: a guest starving the worker.  With a TX ring that
 * never empties, RX (same device, same worker) must still deliver every
 * frame promptly, and TX must keep completing meanwhile.
 */
TEST_F_TIMEOUT(cnet, cve_2019_3900_worker_starvation, 300)
{
	unsigned long done0;
	struct timespec t0;
	struct pump p;
	pthread_t th;
	long worst = 0;
	int i;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
	pump_init(_metadata, self, &p, FLEN);
	post_rx(_metadata, self, 64, 2048, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, pump_fn, &p));
	usleep(200 * 1000);
	done0 = p.done;
	for (i = 0; i < 20; i++) {
		int r;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = rx_frame(self, 500, 100 + i, NULL, NULL, VX_TIMEOUT_MS);
		if (ms_since(&t0) > worst)
			worst = ms_since(&t0);
		if (r) {
			p.stop = true;
			pthread_join(th, NULL);
			ASSERT_EQ(0, r) TH_LOG("RX frame %d starved behind the TX flood", i);
		}
	}
	p.stop = true;
	pthread_join(th, NULL);
	TH_LOG("worst RX delay under TX flood: %ld ms; TX completed %lu",
	       worst, p.done - done0);
	ASSERT_LT(done0, p.done) TH_LOG("TX made no progress while RX ran");
}

/*
 * CVE-2020-10942 class: wrong socket family as backend.  Sockets whose
 * address is larger than a packet socket's (AF_UNIX with a long path,
 * AF_INET6), and other families, must be refused with ENOTSOCK without
 * the device reading past a sockaddr; a real backend works afterwards.
 */
TEST_F_TIMEOUT(cnet, cve_2020_10942_wrong_socket_family, 300)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fds[6], n = 0, i, q, raw;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, cnet_up(self, V1, 64));
	fds[n] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fds[n]);
	memset(un.sun_path, 'x', sizeof(un.sun_path) - 1);
	un.sun_path[0] = 0;	/* abstract: full-length name, no file */
	ASSERT_EQ(0, bind(fds[n], (struct sockaddr *)&un, sizeof(un)));
	n++;
	fds[n++] = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fds[n++] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fds[n++] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	fds[n++] = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	fds[n++] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		for (q = 0; q < 2; q++)
			EXPECT_EQ(-ENOTSOCK, vg_net_set_backend(&self->d, q, fds[i]))
				TH_LOG("socket %d accepted on vq %d", i, q);
		close(fds[i]);
	}
	/* A raw packet socket is a valid backend. */
	raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, raw);
	sll.sll_ifindex = (int)if_nametoindex(self->ifname);
	ASSERT_EQ(0, bind(raw, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, raw));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	close(raw);
	post_rx(_metadata, self, 8, 2048, NULL);
	ASSERT_EQ(0, tx_frame(self, 7));
	ASSERT_EQ(0, rx_frame(self, 300, 8, NULL, NULL, VX_TIMEOUT_MS));
}

static bool if_gone(const char *ifname, int ms)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%.*s", IFNAMSIZ, ifname);
	for (; ms > 0; ms -= 50) {
		if (access(path, F_OK))
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* Class: backend fd swapped during traffic. */
TEST_F_TIMEOUT(cnet, backend_fd_swapped_during_traffic, 300)
{
	char name2[IFNAMSIZ] = "";
	struct pump p;
	pthread_t th;
	int tap2, i;

	VX_SETUP_SKIPPED();
	tap2 = net_tap_open(name2, HLEN, 0);
	ASSERT_LE(0, tap2);
	ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
	pump_init(_metadata, self, &p, FLEN);
	post_rx(_metadata, self, 64, 2048, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, pump_fn, &p));
	for (i = 0; i < 60; i++) {
		int fd = i % 3 == 0 ? tap2 : i % 3 == 1 ? -1 : self->tap;
		uint8_t f[300];

		EXPECT_EQ(0, vg_net_set_backend(&self->d, i & 1, fd));
		EXPECT_EQ(0, vg_net_set_backend(&self->d, !(i & 1), fd));
		net_make_frame(f, sizeof(f), i);
		net_inject(self->pkt, self->ifname, f, sizeof(f));
		usleep(3000);
	}
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	usleep(100 * 1000);
	p.stop = true;
	pthread_join(th, NULL);
	/* Everything queued completes on the final backend. */
	while (p.done < p.sent) {
		ASSERT_LE(0, net_wait_used(&self->tx, NULL, NULL, VX_TIMEOUT_MS))
			TH_LOG("%lu of %lu TX buffers completed", p.done, p.sent);
		p.done++;
	}
	ASSERT_EQ(0, rx_frame(self, 400, 9999, NULL, NULL, VX_TIMEOUT_MS));
	close(tap2);
	ASSERT_TRUE(if_gone(name2, 2000)) TH_LOG("swapped-out tap still referenced");
}

/*
 * Class: backend fd closed during traffic.  Each tap's only fd is closed
 * while the device uses it; replacing it drops the last reference under
 * the worker.  Every such tap must then disappear.
 */
TEST_F_TIMEOUT(cnet, backend_fd_closed_during_traffic, 300)
{
	char names[12][IFNAMSIZ];
	struct pump p;
	pthread_t th;
	int i;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
	pump_init(_metadata, self, &p, FLEN);
	post_rx(_metadata, self, 64, 2048, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, pump_fn, &p));
	for (i = 0; i < 12; i++) {
		int t;

		names[i][0] = 0;
		t = net_tap_open(names[i], HLEN, 0);
		ASSERT_LE(0, t);
		EXPECT_EQ(0, vg_net_set_backend(&self->d, 1, t));
		EXPECT_EQ(0, vg_net_set_backend(&self->d, 0, t));
		close(t);		/* the device holds the last reference */
		usleep(20 * 1000);
	}
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	p.stop = true;
	pthread_join(th, NULL);
	for (i = 0; i < 12; i++)
		ASSERT_TRUE(if_gone(names[i], 2000)) TH_LOG("%s leaked", names[i]);
	ASSERT_EQ(0, rx_frame(self, 400, 4242, NULL, NULL, VX_TIMEOUT_MS));
	while (p.done < p.sent) {
		ASSERT_LE(0, net_wait_used(&self->tx, NULL, NULL, VX_TIMEOUT_MS));
		p.done++;
	}
}

/*
 * Class: zero-copy completions after the device is closed.  TX a flood of
 * large frames, close the device with them in flight, then the tap.
 */
TEST_F_TIMEOUT(cnet, zerocopy_completions_after_close, 300)
{
	char on = 'N';
	struct pump p;
	pthread_t th;
	int fd, round;

	VX_SETUP_SKIPPED();
	fd = open(NET_ZCOPY_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "vhostx_net has no experimental_zcopytx parameter");
	if (read(fd, &on, 1) != 1)
		on = 'N';
	close(fd);
	/* vhostx reads the parameter at SET_BACKEND: turn it on for us. */
	if (on != 'Y' && !net_dev_is_upstream() && !net_zcopy_param("1")) {
		self->zc_set = true;
		on = 'Y';
	}
	/* Its 4000-byte frames must go zero-copy, not be copied. */
	if (on == 'Y' && !net_dev_is_upstream() &&
	    !net_zcopy_min(NET_ZCOPY_MIN_TESTS))
		self->zc_min_set = true;
	for (round = 0; round < 3; round++) {
		struct closer cl = { .fd = -1 };
		struct timespec deadline;
		char name[IFNAMSIZ];
		pthread_t ct;

		if (round) {
			self->ifname[0] = 0;
			ASSERT_EQ(0, net_tap_capture(self->ifname, HLEN,
						     &self->tap, &self->pkt));
		}
		ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
		pump_init(_metadata, self, &p, 4000);
		ASSERT_EQ(0, pthread_create(&th, NULL, pump_fn, &p));
		usleep(150 * 1000);
		/*
		 * The device goes with frames in flight (guest memory stays):
		 * its release waits for their completions.  Frames the packet
		 * socket holds (newer kernels queue them there without
		 * copying) complete only when that socket goes, which is
		 * after the close began.
		 */
		cl.fd = self->d.fd;
		self->d.fd = -1;
		ASSERT_EQ(0, pthread_create(&ct, NULL, closer_fn, &cl));
		usleep(50 * 1000);
		p.stop = true;
		pthread_join(th, NULL);
		close(self->pkt);
		self->pkt = -1;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += VX_TIMEOUT_MS / 1000;
		ASSERT_EQ(0, pthread_timedjoin_np(ct, NULL, &deadline))
			TH_LOG("round %d: close still waits for completions", round);
		vg_close(&self->d);
		vg_vq_free(&self->rx);
		vg_vq_free(&self->tx);
		snprintf(name, sizeof(name), "%s", self->ifname);
		close(self->tap);
		self->tap = -1;
		ASSERT_TRUE(if_gone(name, 2000));
	}
	if (on != 'Y')
		SKIP(return, "experimental_zcopytx=%c and not settable: only the copy path ran",
		     on);
}

/* Class: the owner killed mid-traffic (network device, tap attached). */
TEST_F_TIMEOUT(cnet, owner_killed_mid_traffic, 120)
{
	int round;

	VX_SETUP_SKIPPED();
	for (round = 0; round < 4; round++) {
		char name[IFNAMSIZ] = "";
		int status, p[2], i;
		pid_t pid;

		ASSERT_EQ(0, pipe(p));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct pump pu;

			close(p[0]);
			close(self->pkt);
			close(self->tap);
			self->ifname[0] = 0;
			self->tap = net_tap_open(self->ifname, HLEN, 0);
			if (self->tap < 0 || cnet_up(self, V1, PUMP_RING))
				_exit(1);
			pump_init(_metadata, self, &pu, FLEN);
			post_rx(_metadata, self, 128, 2048, NULL);
			if (write(p[1], self->ifname, IFNAMSIZ) != IFNAMSIZ)
				_exit(2);
			pump_fn(&pu);	/* forever */
			_exit(0);
		}
		close(p[1]);
		ASSERT_EQ(IFNAMSIZ, read(p[0], name, IFNAMSIZ)) TH_LOG("child set-up failed");
		close(p[0]);
		{
			int pk = net_packet_socket(name);
			uint8_t f[600];

			for (i = 0; pk >= 0 && i < 50; i++) {
				net_make_frame(f, sizeof(f), i);
				net_inject(pk, name, f, sizeof(f));
				usleep(2000 + round * 1000);
			}
			if (pk >= 0)
				close(pk);
		}
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_TRUE(if_gone(name, 5000)) TH_LOG("dead owner's tap still referenced");
	}
	ASSERT_EQ(0, cnet_up(self, V1, 64));
	post_rx(_metadata, self, 8, 2048, NULL);
	ASSERT_EQ(0, tx_frame(self, 1));
	ASSERT_EQ(0, rx_frame(self, 300, 2, NULL, NULL, VX_TIMEOUT_MS));
}

VX_HARNESS_MAIN
