// SPDX-License-Identifier: GPL-2.0
/*
 * cve_net_test: the vulnerability classes of Documentation/vhostx/security.rst
 * that need the network backend, on /dev/vhostx-net with a tap.  Test
 * names carry the class (and the upstream CVE where there is one).
 */
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define HLEN	12
#define V1	VG_F(VIRTIO_F_VERSION_1)
#define MRG	VG_F(VIRTIO_NET_F_MRG_RXBUF)
#define INDIR_F	VG_F(VIRTIO_RING_F_INDIRECT_DESC)
#define LOGALL	VG_F(VHOST_F_LOG_ALL)
#define CANARY	0x5a

FIXTURE(cnet) {
	struct net_fx n;
	bool zc_set;	/* this test turned zero-copy TX on */
};

FIXTURE_SETUP(cnet)
{
	net_fx_init(&self->n);
	NET_REQUIRE_DEV();
	ASSERT_EQ(0, net_fx_tap(&self->n, HLEN));
}

FIXTURE_TEARDOWN(cnet)
{
	net_fx_teardown(&self->n);
	if (self->zc_set)
		net_zcopy_restore();
}

/* Device with @features, rings of @num, both queues on the tap. */
static int cnet_up(FIXTURE_DATA(cnet) *self, uint64_t features,
		   unsigned int num)
{
	return net_fx_dev(&self->n, features, num);
}

/* @n RX buffers of @size bytes, each followed by 64 canary bytes. */
static void post_rx(struct __test_metadata *_metadata,
		    FIXTURE_DATA(cnet) *self, unsigned int n, size_t size,
		    uint8_t **bufs)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *b = vg_alloc(&self->n.d, size + 64, 64);

		ASSERT_NE(NULL, b);
		memset(b, 0xee, size);
		memset(b + size, CANARY, 64);
		ASSERT_LE(0, vg_vq_add_buf(&self->n.rx, NULL, 0, b,
					   (uint32_t)size, b));
		if (bufs)
			bufs[i] = b;
	}
	vg_vq_kick(&self->n.rx);
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

	vg_frame_make(f, flen, seed);
	if (vg_frame_inject(self->n.pkt, self->n.ifname, f, flen))
		return -EIO;
	for (i = 0; i < 64; i++) {
		if (net_wait_used(&self->n.rx, &len, &c, ms) < 0)
			return -ETIMEDOUT;
		if (len == HLEN + flen &&
		    vg_frame_ok((uint8_t *)c + HLEN, flen, seed)) {
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
	uint8_t *b = vg_alloc(&self->n.d, HLEN + 200, 64);

	if (!b)
		return -ENOMEM;
	memset(b, 0, HLEN);
	vg_frame_make(b + HLEN, 200, seed);
	if (vg_vq_add_buf(&self->n.tx, b, HLEN + 200, NULL, 0, b) < 0)
		return -ENOSPC;
	vg_vq_kick(&self->n.tx);
	return net_wait_used(&self->n.tx, NULL, NULL, VX_TIMEOUT_MS) < 0 ?
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
VX_TEST_F_TIMEOUT(cnet, cve_2014_0077_rx_len_not_validated, 300)
{
	static const size_t big[] = { 1000, 4000 };
	uint64_t drops0;
	unsigned int i;
	uint8_t *b[1];
	uint32_t len;
	void *c;

	ASSERT_EQ(0, cnet_up(self, V1, 64));
	ASSERT_EQ(0, set_mtu(self->n.ifname, 9000));
	post_rx(_metadata, self, 1, 256, b);
	for (i = 0; i < 2; i++) {
		drops0 = NET_COUNTER(&self->n, 0, "drops");
		ASSERT_EQ(-ETIMEDOUT, rx_frame(self, big[i], 1 + i, NULL, NULL,
					       VX_QUIET_MS * 2))
			TH_LOG("a %zu-byte frame used a 256-byte buffer", big[i]);
		ASSERT_EQ(0, vg_vq_used_idx(&self->n.rx));
		ASSERT_TRUE(canary_ok(b[0], 256)) TH_LOG("written past the RX buffer");
		if (!net_dev_is_upstream())
			ASSERT_LT(drops0, VX_COUNTER(self->n.d.fd, 0, "drops"))
				TH_LOG("drop not counted");
	}
	ASSERT_EQ(0, rx_frame(self, 200, 3, &len, &c, VX_TIMEOUT_MS));
	ASSERT_EQ(b[0], c);
	ASSERT_TRUE(canary_ok(b[0], 256));
}

/* Same class with MRG_RXBUF: each used length within its buffer. */
VX_TEST_F_TIMEOUT(cnet, cve_2014_0077_rx_len_mergeable, 300)
{
	struct virtio_net_hdr_mrg_rxbuf *h;
	uint8_t *b[16];
	uint32_t len, total = 0;
	void *c, *first = NULL;
	unsigned int i, n;
	uint8_t f[1400];

	ASSERT_EQ(0, cnet_up(self, V1 | MRG, 64));
	post_rx(_metadata, self, 16, 256, b);
	vg_frame_make(f, sizeof(f), 3);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, f, sizeof(f)));
	ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &first, VX_TIMEOUT_MS));
	h = first;
	n = h->num_buffers;
	ASSERT_EQ((HLEN + sizeof(f) + 255) / 256, n);
	ASSERT_GE(256, len);
	total = len;
	for (i = 1; i < n; i++) {
		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS));
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

		if (net_wait_used(&self->n.rx, &len, &c, VX_TIMEOUT_MS) < 0)
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
	return vg_frame_ok(f + HLEN, flen, seed) ? 0 : -EILSEQ;
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
VX_TEST_F_TIMEOUT(cnet, cve_2019_14835_log_overflow, 300)
{
	const unsigned int per = 16, nbuf = 128;
	uint64_t a, used_pg, drops;
	unsigned int i, j, n;
	uint8_t *data;
	int r;

	ASSERT_EQ(0, net_fx_open(&self->n, V1 | MRG | INDIR_F | LOGALL, 256));
	ASSERT_EQ(0, vg_log_setup(&self->n.d));
	ASSERT_EQ(0, vg_vq_set_addr(&self->n.rx, VHOST_VRING_F_LOG,
				    vg_gpa(self->n.rx.used)));
	ASSERT_EQ(0, vg_net_attach(&self->n.d, self->n.tap));

	data = vg_alloc(&self->n.d, 4096, 4096);
	ASSERT_NE(NULL, data);
	for (i = 0; i < nbuf; i++) {
		struct iovec sg[16];

		for (j = 0; j < per; j++) {
			sg[j].iov_base = data + (i * per + j) * 2;
			sg[j].iov_len = 1;
		}
		ASSERT_LE(0, vg_vq_add(&self->n.rx, sg, 0, per, data + i,
				       VG_ADD_INDIRECT));
	}
	vg_vq_kick(&self->n.rx);
	vg_log_clear(&self->n.d);

	{
		uint8_t f[200];

		vg_frame_make(f, sizeof(f), 4);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, f, sizeof(f)));
	}
	ASSERT_EQ(0, rx_gather(self, data, per, 200, 4, &n));
	ASSERT_EQ((HLEN + 200 + per - 1) / per, n);
	/* Logged: the data page, the used ring; nothing else. */
	ASSERT_TRUE(vg_log_test(&self->n.d, vg_gpa(data)));
	used_pg = vg_gpa(self->n.rx.used) & ~4095ULL;
	for (a = vg_gpa(self->n.d.arena); a < vg_gpa(self->n.d.arena) +
	     self->n.d.arena_size; a += 4096) {
		if (a == vg_gpa(data) || (a >= used_pg &&
		    a < vg_gpa(self->n.rx.used) + 6 + 8 * 256))
			continue;
		ASSERT_FALSE(vg_log_test(&self->n.d, a))
			TH_LOG("page %#llx logged but never written",
			       (unsigned long long)a);
	}

	/* 1512 one-byte segments: more than one packet may take. */
	drops = NET_COUNTER(&self->n, 0, "drops");
	{
		uint8_t f[1500];

		vg_frame_make(f, sizeof(f), 5);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, f, sizeof(f)));
	}
	r = rx_gather(self, data, per, 1500, 5, &n);
	/* Dropped (and counted), or delivered exactly. */
	if (r != -ETIMEDOUT) {
		ASSERT_EQ(0, r) TH_LOG("1500-byte frame delivered wrongly");
	} else if (!net_dev_is_upstream()) {
		ASSERT_LT(drops, VX_COUNTER(self->n.d.fd, 0, "drops"));
	}
	/* Whatever happened to it, a small frame still arrives exactly. */
	{
		uint8_t f[60];

		vg_frame_make(f, sizeof(f), 6);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, f, sizeof(f)));
	}
	ASSERT_EQ(0, rx_gather(self, data, per, 60, 6, &n));
}

#define PUMP_RING	NET_PUMP_BUFS
#define FLEN		1000

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

/* Longest frame after the header a TX buffer may carry (net.h). */
#define TX_MAX_FRAME	(65536 + 18)

/*
 * Send one TX buffer of @len bytes at @addr (header included, as the
 * guest wrote it) and reap it: 0 with its used length in *@ulen, or
 * -ETIMEDOUT.
 */
/* Queue one TX buffer of @len bytes at @addr and kick; 0 or -ENOSPC. */
static int tx_queue(FIXTURE_DATA(cnet) *self, void *addr, uint32_t len)
{
	if (vg_vq_add_buf(&self->n.tx, addr, len, NULL, 0, addr) < 0)
		return -ENOSPC;
	vg_vq_kick(&self->n.tx);
	return 0;
}

/* tx_queue(), then wait for its used entry (length in @ulen). */
static int tx_raw(FIXTURE_DATA(cnet) *self, void *addr, uint32_t len,
		  uint32_t *ulen)
{
	int r = tx_queue(self, addr, len);

	if (r)
		return r;
	return net_wait_used(&self->n.tx, ulen, NULL, VX_TIMEOUT_MS) < 0 ?
		-ETIMEDOUT : 0;
}

/* Our frames captured on the tap until quiet: their lengths' total. */
static long long captured(int pkt)
{
	static uint8_t f[TX_MAX_FRAME + 64];
	long long total = 0;
	ssize_t n;

	while ((n = vg_frame_capture(pkt, f, sizeof(f), VX_QUIET_MS)) > 0)
		total += n;
	return total;
}

/*
 * Class: a size_t length narrowed to 32 bits.  A TX buffer of 4 GiB - 100
 * bytes (one descriptor into a 4 GiB region that is never touched) once
 * wrapped the TX batch's buffer size to a few hundred bytes, and the copy
 * of nearly 4 GiB that followed hit the kernel's WARN for a copy larger
 * than INT_MAX.  Every TX frame longer than any tun/tap takes (64 KiB +
 * an Ethernet header with a VLAN tag) is dropped before any copy: used
 * length 0, the drop counted, no error, the queue goes on.  A frame of
 * exactly that size still goes out.  Both with TX batching (the tap's
 * default sndbuf) and without (sndbuf limited: one sendmsg() a packet).
 */
VX_TEST_F_TIMEOUT(cnet, tx_length_narrowed_to_32_bits, 300)
{
	const uint64_t big_size = 4ULL << 30;
	struct vhost_memory_region r[2];
	uint64_t drops0;
	uint32_t ulen;
	uint8_t *big, *f;
	int pass, sndbuf = 1 << 20;

	big = mmap(NULL, big_size, PROT_READ,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	ASSERT_EQ(0, cnet_up(self, V1, 256));
	r[0] = (struct vhost_memory_region){
		.guest_phys_addr = vg_gpa(self->n.d.arena),
		.memory_size = self->n.d.arena_size,
		.userspace_addr = vg_gpa(self->n.d.arena),
	};
	r[1] = (struct vhost_memory_region){
		.guest_phys_addr = vg_gpa(big),
		.memory_size = big_size,
		.userspace_addr = vg_gpa(big),
	};
	ASSERT_EQ(0, vg_set_mem_regions(&self->n.d, r, 2));
	f = vg_alloc(&self->n.d, HLEN + TX_MAX_FRAME + 1, 64);
	ASSERT_NE(NULL, f);
	memset(f, 0, HLEN);
	vg_frame_make(f + HLEN, TX_MAX_FRAME + 1, 7);

	for (pass = 0; pass < 2; pass++) {
		if (pass)
			ASSERT_EQ(0, ioctl(self->n.tap, TUNSETSNDBUF, &sndbuf));
		drops0 = VX_COUNTER(self->n.d.fd, 1, "drops");
		ulen = 1;
		ASSERT_EQ(0, tx_raw(self, big, 0xffffff9cU, &ulen))
			TH_LOG("pass %d: 4 GiB - 100 byte buffer not returned",
			       pass);
		ASSERT_EQ(0, ulen);
		ASSERT_EQ(0, tx_raw(self, f, HLEN + TX_MAX_FRAME + 1, &ulen));
		ASSERT_EQ(drops0 + 2, VX_COUNTER(self->n.d.fd, 1, "drops"));
		ASSERT_EQ(0, captured(self->n.pkt)) TH_LOG("pass %d", pass);
		/*
		 * The longest frame a guest sends, and a small one: out.  The
		 * long one is read before its used entry is awaited: with
		 * zero-copy on (the default) a packet socket bound to the tap
		 * holds it uncopied on 7.x until it is read (net.rst).
		 */
		ASSERT_EQ(0, tx_queue(self, f, HLEN + TX_MAX_FRAME));
		ASSERT_EQ(TX_MAX_FRAME, captured(self->n.pkt))
			TH_LOG("pass %d", pass);
		ASSERT_LE(0, net_wait_used(&self->n.tx, &ulen, NULL,
					   VX_TIMEOUT_MS));
		ASSERT_EQ(0, tx_frame(self, 8));
		ASSERT_EQ(200, captured(self->n.pkt)) TH_LOG("pass %d", pass);
		ASSERT_EQ(drops0 + 2, VX_COUNTER(self->n.d.fd, 1, "drops"));
		ASSERT_GE(0, vg_read_eventfd(self->n.tx.err_fd));
	}
	munmap(big, big_size);
}

/*
 * CVE-2019-3900 class: a guest starving the worker.  With a TX ring that
 * never empties, RX (same device, same worker) must still deliver every
 * frame promptly, and TX must keep completing meanwhile.
 */
VX_TEST_F_TIMEOUT(cnet, cve_2019_3900_worker_starvation, 300)
{
	unsigned long done0;
	struct net_pump p;
	long worst = 0;
	int i;

	ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
	net_pump_init(_metadata, &p, &self->n, FLEN);
	post_rx(_metadata, self, 64, 2048, NULL);
	net_pump_start(_metadata, &p);
	usleep(200 * 1000);
	done0 = p.done;
	for (i = 0; i < 20; i++) {
		int64_t t0 = vg_now_us();
		int r;

		r = rx_frame(self, 500, 100 + i, NULL, NULL, VX_TIMEOUT_MS);
		if ((vg_now_us() - t0) / 1000 > worst)
			worst = (vg_now_us() - t0) / 1000;
		if (r) {
			net_pump_stop(&p);
			ASSERT_EQ(0, r) TH_LOG("RX frame %d starved behind the TX flood", i);
		}
	}
	net_pump_stop(&p);
	TH_LOG("worst RX delay under TX flood: %ld ms; TX completed %lu",
	       worst, p.done - done0);
	ASSERT_LT(done0, p.done) TH_LOG("TX made no progress while RX ran");
}

struct mutex_prober {
	int fd;
	volatile bool stop;
	long worst_ms;
	unsigned long probes;
};

/* Take the RX vq mutex (a harmless vring ioctl) and time each wait. */
static void *prober_fn(void *arg)
{
	struct mutex_prober *pr = arg;
	struct vhost_vring_state st;
	int64_t t0;
	long ms;

	while (!pr->stop) {
		st = (struct vhost_vring_state){ .index = 0 };
		t0 = vg_now_us();
		ioctl(pr->fd, VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &st);
		ms = (long)((vg_now_us() - t0) / 1000);
		if (ms > pr->worst_ms)
			pr->worst_ms = ms;
		pr->probes++;
		usleep(20000);
	}
	return NULL;
}

/*
 * Class: a guest making one handler run unbounded work.  Every RX buffer
 * is a chain through the whole descriptor table (zero-length descriptors,
 * one writable byte at the end) and every avail entry points at it; each
 * packet, too long for the 1023 buffers the device may take for it, makes
 * the device walk 1023 chains before it drops the packet.  Unbounded, one
 * run of 128 such packets walked 128 x 1023 x 1024 descriptors without a
 * reschedule (a soft lockup under TCG: about 40 s) while holding the vq
 * mutex.  Every packet must be dropped, the vq mutex never held for long
 * (10 s: a run takes 2 s at most here), and (the VM runner's check) no
 * soft lockup reported.
 */
VX_TEST_F_TIMEOUT(cnet, rx_chains_walked_without_bound, 900)
{
	const unsigned int num = 1024;
	unsigned int i, pkts = 128 / vx_timeout_scale();
	struct mutex_prober pr = { 0 };
	uint64_t drops0, drops = 0;
	int64_t t0;
	uint8_t *buf, f[1100];
	pthread_t th;

	if (pkts < 8)
		pkts = 8;
	ASSERT_EQ(0, cnet_up(self, V1 | MRG, num));
	buf = vg_alloc(&self->n.d, 64, 64);
	ASSERT_NE(NULL, buf);
	for (i = 0; i + 1 < num; i++)
		vg_vq_raw_desc(&self->n.rx, i, vg_gpa(buf), 0,
			       VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, i + 1);
	vg_vq_raw_desc(&self->n.rx, num - 1, vg_gpa(buf), 1,
		       VRING_DESC_F_WRITE, 0);
	for (i = 0; i < num; i++)
		vg_vq_raw_push(&self->n.rx, 0);
	vg_vq_publish(&self->n.rx);
	vg_vq_notify(&self->n.rx);
	drops0 = VX_COUNTER(self->n.d.fd, 0, "drops");

	pr.fd = self->n.d.fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, prober_fn, &pr));
	t0 = vg_now_us();
	for (i = 0; i < pkts; i++) {
		vg_frame_make(f, sizeof(f), i);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, f,
					     sizeof(f)));
	}
	while (vg_now_us() - t0 < 600000000LL * vx_timeout_scale()) {
		drops = VX_COUNTER(self->n.d.fd, 0, "drops") - drops0;
		if (drops >= pkts)
			break;
		usleep(100000);
	}
	pr.stop = true;
	pthread_join(th, NULL);
	TH_LOG("%llu of %u packets dropped in %lld ms; vq mutex waited up to %ld ms (%lu probes)",
	       (unsigned long long)drops, pkts,
	       (long long)(vg_now_us() - t0) / 1000, pr.worst_ms, pr.probes);
	ASSERT_EQ(pkts, drops);
	ASSERT_GT(10000L * vx_timeout_scale(), pr.worst_ms);
	ASSERT_EQ(0, VX_COUNTER(self->n.d.fd, 0, "errors"));
}

/*
 * Class: a retry that cannot make progress spins the worker.  A raw
 * packet socket whose interface's qdisc drops every frame (pfifo of
 * length 0) fails each send with ENOBUFS after the frame is gone, and is
 * writable again at once: retrying the same buffer when the socket is
 * writable spun the worker forever and never gave the buffer back.  The
 * frames must count as dropped and the buffers come back, in a bounded
 * number of handler runs.
 */
VX_TEST_F_TIMEOUT(cnet, tx_retry_spins_on_dropping_qdisc, 300)
{
	const unsigned int n = 8;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	char dummy[IFNAMSIZ];
	uint64_t runs;
	unsigned int i;
	uint8_t *b;
	int raw;

	snprintf(dummy, sizeof(dummy), "vxqd%d", getpid() % 100000);
	if (net_sh("modprobe -q dummy; ip link add %s type dummy 2>/dev/null && "
		   "ip link set %s up && "
		   "tc qdisc add dev %s root pfifo limit 0", dummy, dummy,
		   dummy)) {
		net_sh("ip link del %s 2>/dev/null", dummy);
		SKIP(return, "no dummy interface or pfifo qdisc");
	}
	/* The fixture's device, its TX queue on a raw socket (no header). */
	ASSERT_EQ(0, net_fx_open(&self->n,
				 V1 | VG_F(VHOST_NET_F_VIRTIO_NET_HDR), 64));
	raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, raw);
	sll.sll_ifindex = (int)if_nametoindex(dummy);
	ASSERT_EQ(0, bind(raw, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, raw));
	for (i = 0; i < n; i++) {
		b = vg_alloc(&self->n.d, HLEN + 200, 64);
		ASSERT_NE(NULL, b);
		memset(b, 0, HLEN);
		vg_frame_make(b + HLEN, 200, i);
		ASSERT_LE(0, vg_vq_add_buf(&self->n.tx, b, HLEN + 200, NULL, 0,
					   b));
	}
	vg_vq_kick(&self->n.tx);
	vg_vq_wait_used(&self->n.tx, n, VX_TIMEOUT_MS);
	i = vg_vq_used_pending(&self->n.tx);
	runs = VX_COUNTER(self->n.d.fd, 1, "runs");
	TH_LOG("%u of %u buffers back, %llu drops, %llu handler runs", i, n,
	       (unsigned long long)VX_COUNTER(self->n.d.fd, 1, "drops"),
	       (unsigned long long)runs);
	vg_net_set_backend(&self->n.d, 1, -1);
	close(raw);
	net_sh("ip link del %s", dummy);
	ASSERT_EQ(n, i);
	ASSERT_EQ(n, VX_COUNTER(self->n.d.fd, 1, "drops"));
	ASSERT_GT(4 * n, runs);
}

/*
 * CVE-2020-10942 class: wrong socket family as backend.  Sockets whose
 * address is larger than a packet socket's (AF_UNIX with a long path,
 * AF_INET6), and other families, must be refused with ENOTSOCK without
 * the device reading past a sockaddr; a real backend works afterwards.
 */
VX_TEST_F_TIMEOUT(cnet, cve_2020_10942_wrong_socket_family, 300)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fds[6], n = 0, i, q, raw;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};

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
			EXPECT_EQ(-ENOTSOCK, vg_net_set_backend(&self->n.d, q, fds[i]))
				TH_LOG("socket %d accepted on vq %d", i, q);
		close(fds[i]);
	}
	/* A raw packet socket is a valid backend. */
	raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, raw);
	sll.sll_ifindex = (int)if_nametoindex(self->n.ifname);
	ASSERT_EQ(0, bind(raw, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, raw));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->n.tap));
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
VX_TEST_F_TIMEOUT(cnet, backend_fd_swapped_during_traffic, 300)
{
	char name2[IFNAMSIZ] = "";
	struct net_pump p;
	int tap2, i;

	tap2 = vg_tap_open(name2, HLEN, 0);
	ASSERT_LE(0, tap2);
	ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
	net_pump_init(_metadata, &p, &self->n, FLEN);
	post_rx(_metadata, self, 64, 2048, NULL);
	net_pump_start(_metadata, &p);
	for (i = 0; i < 60; i++) {
		int fd = i % 3 == 0 ? tap2 : i % 3 == 1 ? -1 : self->n.tap;
		uint8_t f[300];

		EXPECT_EQ(0, vg_net_set_backend(&self->n.d, i & 1, fd));
		EXPECT_EQ(0, vg_net_set_backend(&self->n.d, !(i & 1), fd));
		vg_frame_make(f, sizeof(f), i);
		vg_frame_inject(self->n.pkt, self->n.ifname, f, sizeof(f));
		usleep(3000);
	}
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->n.tap));
	usleep(100 * 1000);
	net_pump_stop(&p);
	/* Everything queued completes on the final backend. */
	while (p.done < p.sent) {
		ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL, VX_TIMEOUT_MS))
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
VX_TEST_F_TIMEOUT(cnet, backend_fd_closed_during_traffic, 300)
{
	char names[12][IFNAMSIZ];
	struct net_pump p;
	int i;

	ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
	net_pump_init(_metadata, &p, &self->n, FLEN);
	post_rx(_metadata, self, 64, 2048, NULL);
	net_pump_start(_metadata, &p);
	for (i = 0; i < 12; i++) {
		int t;

		names[i][0] = 0;
		t = vg_tap_open(names[i], HLEN, 0);
		ASSERT_LE(0, t);
		EXPECT_EQ(0, vg_net_set_backend(&self->n.d, 1, t));
		EXPECT_EQ(0, vg_net_set_backend(&self->n.d, 0, t));
		close(t);		/* the device holds the last reference */
		usleep(20 * 1000);
	}
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 1, self->n.tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->n.d, 0, self->n.tap));
	net_pump_stop(&p);
	for (i = 0; i < 12; i++)
		ASSERT_TRUE(if_gone(names[i], 2000)) TH_LOG("%s leaked", names[i]);
	ASSERT_EQ(0, rx_frame(self, 400, 4242, NULL, NULL, VX_TIMEOUT_MS));
	while (p.done < p.sent) {
		ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL, VX_TIMEOUT_MS));
		p.done++;
	}
}

/*
 * Class: zero-copy completions after the device is closed.  TX a flood of
 * large frames, close the device with them in flight, then the tap.
 * vhostx reads its zero-copy parameters at SET_BACKEND: they are set so
 * that the 4000-byte frames go zero-copy (the kernel's vhost-net runs with
 * whatever its own parameter says).
 */
VX_TEST_F_TIMEOUT(cnet, zerocopy_completions_after_close, 300)
{
	struct net_pump p;
	int round;

	if (!net_dev_is_upstream()) {
		self->zc_set = true;
		net_zcopy_on(_metadata);
	}
	for (round = 0; round < 3; round++) {
		struct closer cl = { .fd = -1 };
		struct timespec deadline;
		char name[IFNAMSIZ];
		pthread_t ct;

		if (round)
			ASSERT_EQ(0, net_fx_tap(&self->n, HLEN));
		ASSERT_EQ(0, cnet_up(self, V1, PUMP_RING));
		net_pump_init(_metadata, &p, &self->n, 4000);
		net_pump_start(_metadata, &p);
		usleep(150 * 1000);
		/* Frames did go out from guest pages. */
		if (!net_dev_is_upstream())
			ASSERT_LT(0, VX_COUNTER(self->n.d.fd, 1, "sent"));
		/*
		 * The device goes with frames in flight (guest memory stays):
		 * its release waits for their completions.  Frames the packet
		 * socket holds (newer kernels queue them there without
		 * copying) complete only when that socket goes, which is
		 * after the close began.
		 */
		cl.fd = self->n.d.fd;
		self->n.d.fd = -1;
		ASSERT_EQ(0, pthread_create(&ct, NULL, closer_fn, &cl));
		usleep(50 * 1000);
		net_pump_stop(&p);
		close(self->n.pkt);
		self->n.pkt = -1;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += VX_TIMEOUT_MS / 1000;
		ASSERT_EQ(0, pthread_timedjoin_np(ct, NULL, &deadline))
			TH_LOG("round %d: close still waits for completions", round);
		vg_close(&self->n.d);
		vg_vq_free(&self->n.rx);
		vg_vq_free(&self->n.tx);
		snprintf(name, sizeof(name), "%s", self->n.ifname);
		close(self->n.tap);
		self->n.tap = -1;
		ASSERT_TRUE(if_gone(name, 2000));
	}
}

/* An owner of a net device on its own tap, pumping TX until killed. */
static void pumping_owner(struct __test_metadata *_metadata, int ready,
			  void *arg)
{
	FIXTURE_DATA(cnet) *self = arg;
	struct net_pump pu;

	close(self->n.pkt);
	close(self->n.tap);
	self->n.ifname[0] = 0;
	self->n.tap = vg_tap_open(self->n.ifname, HLEN, 0);
	if (self->n.tap < 0 || cnet_up(self, V1, PUMP_RING))
		_exit(1);
	net_pump_init(_metadata, &pu, &self->n, FLEN);
	post_rx(_metadata, self, 128, 2048, NULL);
	if (write(ready, self->n.ifname, IFNAMSIZ) != IFNAMSIZ)
		_exit(2);
	net_pump_fn(&pu);	/* until killed */
}

/* Class: the owner killed mid-traffic (network device, tap attached). */
VX_TEST_F_TIMEOUT(cnet, owner_killed_mid_traffic, 120)
{
	int round;

	for (round = 0; round < 4; round++) {
		char name[IFNAMSIZ] = "";
		pid_t pid = vx_spawn(_metadata, pumping_owner, self, name,
				     IFNAMSIZ);
		int pk = vg_packet_socket(name, VG_ETH_P), i;
		uint8_t f[600];

		for (i = 0; pk >= 0 && i < 50; i++) {
			vg_frame_make(f, sizeof(f), i);
			vg_frame_inject(pk, name, f, sizeof(f));
			usleep(2000 + round * 1000);
		}
		if (pk >= 0)
			close(pk);
		vx_kill(_metadata, pid);
		ASSERT_TRUE(if_gone(name, 5000)) TH_LOG("dead owner's tap still referenced");
	}
	ASSERT_EQ(0, cnet_up(self, V1, 64));
	post_rx(_metadata, self, 8, 2048, NULL);
	ASSERT_EQ(0, tx_frame(self, 1));
	ASSERT_EQ(0, rx_frame(self, 300, 2, NULL, NULL, VX_TIMEOUT_MS));
}

VX_HARNESS_MAIN
