// SPDX-License-Identifier: GPL-2.0
/*
 * net_zerocopy_test: zero-copy TX (vhostx_net experimental_zcopytx=1, a
 * 0644 parameter read when the TX backend is attached).
 *
 *  - large and small packets arrive byte-exact, used entries in order;
 *  - packets held by the stack: the tap is bridged to a dummy device whose
 *    plug qdisc keeps the skbs (and so the guest pages) until released.
 *    Used entries wait, in order, behind the held packets; past the
 *    in-flight limit large packets are copied instead of stopping the
 *    queue; close and detach wait for the held packets and return;
 *  - copy vs zero-copy throughput, logged (the figures in net.rst).
 *
 * Counters come from the "vhostx-net-zcopy:" line of /proc/self/fdinfo.
 */
#include <sys/wait.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING		256
#define PARAM		NET_ZCOPY_PARAM
#define BR		"vxzcbr0"
#define DUMMY		"vxzcd0"

struct zc_stats {
	int on;
	unsigned long long sent, completed, copied, fallback;
	int pending;
	unsigned long long batched;
	unsigned int min_len;
};

static int zc_read(int fd, struct zc_stats *s)
{
	char path[64], line[512];
	int found = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vhostx-net-zcopy: %d sent %llu completed %llu copied %llu fallback %llu pending %d batched %llu min_len %u",
			   &s->on, &s->sent, &s->completed, &s->copied,
			   &s->fallback, &s->pending, &s->batched,
			   &s->min_len) == 8)
			found = 0;
	fclose(f);
	return found;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

FIXTURE(zc) {
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
	size_t hlen;
	bool bridged;
};

FIXTURE_SETUP(zc)
{
	uint64_t f = NET_F(VIRTIO_F_VERSION_1);

	self->tap = self->pkt = -1;
	self->d.fd = -1;
	self->bridged = false;
	NET_REQUIRE_DEV();
	if (net_dev_is_upstream())
		SKIP(return, "vhostx only (counters, writable parameter)");
	if (net_zcopy_param("1") || net_zcopy_min(NET_ZCOPY_MIN_TESTS))
		SKIP(return, "cannot set " PARAM " or zcopy_min_len");
	self->hlen = net_hdr_len(f);
	self->ifname[0] = 0;
	ASSERT_EQ(0, net_tap_capture(self->ifname, 12, &self->tap,
					     &self->pkt));
	/* Room for a burst of large frames (as root, above rmem_max). */
	setsockopt(self->pkt, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 64 << 20 },
		   sizeof(int));
	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx, f, RING));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
}

FIXTURE_TEARDOWN(zc)
{
	if (self->bridged)
		net_sh("tc qdisc change dev " DUMMY " root plug release_indefinite 2>/dev/null");
	if (self->d.fd >= 0)
		vg_net_set_backend(&self->d, 1, -1);
	vg_close(&self->d);
	if (self->bridged)
		net_sh("printf 'link del " DUMMY "\nlink del " BR "\n' | ip -force -batch - 2>/dev/null");
	if (self->pkt >= 0)
		close(self->pkt);
	if (self->tap >= 0)
		close(self->tap);
	net_zcopy_param("0");
	net_zcopy_min(NET_ZCOPY_MIN_DEFAULT);
}

/*
 * Bridge the tap to a dummy device with a blocked plug qdisc: every frame
 * the device sends is flooded to the dummy and held there.
 */
static int zc_hold_setup(FIXTURE_DATA(zc) *self)
{
	self->bridged = true;
	/* One ip and one tc run: every program start is slow under TCG. */
	if (net_sh("modprobe -a -q bridge dummy sch_plug && "
	       "printf 'link add " BR " type bridge\n"
	       "link add " DUMMY " type dummy\n"
	       "link set %s master " BR "\n"
	       "link set " DUMMY " master " BR "\n"
	       "link set " DUMMY " up\nlink set " BR " up\n' | ip -batch - && "
	       "printf 'qdisc add dev " DUMMY " root plug limit 100000000\n"
	       "qdisc change dev " DUMMY " root plug block\n' | tc -batch -",
	       self->ifname))
		return -1;
	net_sysctl(BR, "disable_ipv6", "1");
	net_sysctl(DUMMY, "disable_ipv6", "1");
	return 0;
}

static void zc_release(void)
{
	net_sh("tc qdisc change dev " DUMMY " root plug release_indefinite");
}

/*
 * Release the held frames @ms from now, from a child process, which
 * first closes its copy of the device descriptor @fd (else the parent's
 * close would not be the last one).
 */
static pid_t zc_release_later(int ms, int fd)
{
	int p[2];
	pid_t pid;
	char c = 0;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		close(fd);
		/* Now the parent's close is the last one. */
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		usleep(ms * 1000);
		zc_release();
		_exit(0);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/*
 * Queue one TX packet of @flen frame bytes, in 1-3 pieces.  Broadcast
 * unless the tap is bridged: there a broadcast is cloned for the bridge's
 * own stack, and cloning copies zero-copy pages, so held frames go to an
 * unknown unicast address, flooded to the dummy port alone, uncloned.
 */
static uint8_t *zc_add(struct __test_metadata *_metadata,
		       FIXTURE_DATA(zc) *self, size_t flen, unsigned int seed)
{
	uint8_t *b = vg_alloc(&self->d, self->hlen + flen, 64);
	struct iovec sg[3];
	unsigned int n = 1 + seed % 3;

	if (!b)
		return NULL;
	memset(b, 0, self->hlen);
	net_make_frame(b + self->hlen, flen, seed);
	if (self->bridged)
		memcpy(b + self->hlen, "\x02\x00\x00\x00\x00\x99", 6);
	sg[0].iov_base = b;
	sg[0].iov_len = self->hlen + (n == 1 ? flen : 20);
	sg[1].iov_base = b + self->hlen + 20;
	sg[1].iov_len = n == 2 ? flen - 20 : (flen - 20) / 2;
	sg[2].iov_base = b + self->hlen + 20 + sg[1].iov_len;
	sg[2].iov_len = flen - 20 - sg[1].iov_len;
	if (vg_vq_add(&self->tx, sg, n, 0, b, 0) < 0)
		return NULL;
	return b;
}

/* Queue @n packets (even ones @even frame bytes, odd ones @odd), kick. */
static void zc_queue(struct __test_metadata *_metadata, FIXTURE_DATA(zc) *self,
		     uint8_t **bufs, unsigned int n, size_t even, size_t odd)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		bufs[i] = zc_add(_metadata, self, i % 2 ? odd : even, i);
		ASSERT_NE(NULL, bufs[i]);
	}
	vg_vq_kick(&self->tx);
}

/* Reap @n used entries, which must be @bufs in order. */
static void zc_reap_in_order(struct __test_metadata *_metadata,
			     FIXTURE_DATA(zc) *self, uint8_t **bufs,
			     unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint32_t len = 1;
		void *c = NULL;

		ASSERT_LE(0, net_wait_used(&self->tx, &len, &c, VX_TIMEOUT_MS))
			TH_LOG("used entry %u of %u missing", i, n);
		ASSERT_EQ(bufs[i], c) TH_LOG("used entry %u out of order", i);
		ASSERT_EQ(0, len);
	}
}

static const size_t zc_sizes[] = { 60, 255, 256, 257, 1000, 1514, 9000,
				   32000 };
#define NSIZES	(sizeof(zc_sizes) / sizeof(zc_sizes[0]))

/* Small and large packets, byte-exact on the tap, used entries in order. */
TEST_F(zc, exact_and_in_order)
{
	const unsigned int n = 64;
	uint8_t *bufs[64], *cap = malloc(65536);
	struct zc_stats s;
	unsigned int i, large = 0;

	VX_SETUP_SKIPPED();
	ASSERT_NE(NULL, cap);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(1, s.on);
	for (i = 0; i < n; i++) {
		bufs[i] = zc_add(_metadata, self, zc_sizes[i % NSIZES], i);
		ASSERT_NE(NULL, bufs[i]);
		/* The threshold counts what the socket gets: header too. */
		large += self->hlen + zc_sizes[i % NSIZES] >= 256;
	}
	vg_vq_kick(&self->tx);
	for (i = 0; i < n; i++) {
		size_t flen = zc_sizes[i % NSIZES];
		ssize_t got = net_capture(self->pkt, cap, 65536, VX_TIMEOUT_MS);

		if (got != (ssize_t)flen) {
			unsigned int k;

			for (k = 0; k < n; k++)
				if (got == (ssize_t)zc_sizes[k % NSIZES] &&
				    net_frame_ok(cap, got, k))
					TH_LOG("packet %u: got packet %u instead", i, k);
		}
		ASSERT_EQ((ssize_t)flen, got) TH_LOG("packet %u", i);
		ASSERT_TRUE(net_frame_ok(cap, flen, i)) TH_LOG("packet %u differs", i);
	}
	zc_reap_in_order(_metadata, self, bufs, n);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	TH_LOG("sent %llu completed %llu copied %llu fallback %llu pending %d",
	       s.sent, s.completed, s.copied, s.fallback, s.pending);
	ASSERT_EQ(large, s.sent);
	ASSERT_EQ(s.sent, s.completed + s.copied);
	ASSERT_EQ(0, s.pending);
	free(cap);
}

/*
 * With zero-copy on, buffers still go back in batches: 128 small (copied)
 * packets kicked at once take a handful of used-index updates, not 128.
 */
TEST_F(zc, used_entries_batched)
{
	const unsigned int n = 128;
	uint8_t *bufs[128], *cap = malloc(2048);
	long long bufs0, batches0, nbufs, nbatches;
	struct zc_stats s0, s;
	unsigned int i;

	VX_SETUP_SKIPPED();
	ASSERT_NE(NULL, cap);
	ASSERT_EQ(0, zc_read(self->d.fd, &s0));
	bufs0 = net_stat(1, "bufs");
	batches0 = net_stat(1, "batches");
	ASSERT_LE(0, bufs0);
	ASSERT_LE(0, batches0);
	zc_queue(_metadata, self, bufs, n, 60, 60);
	for (i = 0; i < n; i++)
		ASSERT_EQ(60, net_capture(self->pkt, cap, 2048, VX_TIMEOUT_MS))
			TH_LOG("packet %u", i);
	zc_reap_in_order(_metadata, self, bufs, n);
	nbufs = net_stat(1, "bufs") - bufs0;
	nbatches = net_stat(1, "batches") - batches0;
	TH_LOG("%lld buffers in %lld used-ring updates", nbufs, nbatches);
	ASSERT_EQ(n, nbufs);
	/* VHOSTX_NET_BATCH (64) at a time, plus the rest at the end. */
	ASSERT_GE(8, nbatches);
	/* And they went to tun copied into batches, not one by one. */
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	TH_LOG("%llu of them through the TX batch", s.batched - s0.batched);
	ASSERT_EQ(n, s.batched - s0.batched);
	ASSERT_EQ(s0.sent, s.sent);
	free(cap);
}

/*
 * zcopy_min_len, read at attach: below it packets are copied (batched
 * when they fit a page), from it on sent from guest pages; a mix of both
 * arrives byte-exact and is returned in guest order.
 */
TEST_F(zc, min_len_read_at_attach)
{
	const unsigned int n = 32;
	uint8_t *bufs[32], *cap = malloc(65536);
	struct zc_stats s0, s;
	unsigned int i;

	VX_SETUP_SKIPPED();
	ASSERT_NE(NULL, cap);
	ASSERT_EQ(0, zc_read(self->d.fd, &s0));
	ASSERT_EQ(256, s0.min_len);
	ASSERT_EQ(0, net_zcopy_min("2000"));
	/* Not before the next attach. */
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(256, s.min_len);
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	ASSERT_EQ(0, zc_read(self->d.fd, &s0));
	ASSERT_EQ(2000, s0.min_len);
	/* Even: 1514 bytes, copied; odd: 9000 bytes, zero-copy. */
	zc_queue(_metadata, self, bufs, n, 1514, 9000);
	for (i = 0; i < n; i++) {
		size_t flen = i % 2 ? 9000 : 1514;

		ASSERT_EQ((ssize_t)flen,
			  net_capture(self->pkt, cap, 65536, VX_TIMEOUT_MS))
			TH_LOG("packet %u", i);
		ASSERT_TRUE(net_frame_ok(cap, flen, i)) TH_LOG("packet %u", i);
	}
	zc_reap_in_order(_metadata, self, bufs, n);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	TH_LOG("sent %llu batched %llu", s.sent - s0.sent,
	       s.batched - s0.batched);
	ASSERT_EQ(n / 2, s.sent - s0.sent);
	ASSERT_EQ(n / 2, s.batched - s0.batched);
	ASSERT_EQ(0, s.pending);

	/* The module's default: 4096. */
	ASSERT_EQ(0, net_zcopy_min(NET_ZCOPY_MIN_DEFAULT));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(4096, s.min_len);
	free(cap);
}

/* With the parameter off at attach time, nothing goes zero-copy. */
TEST_F(zc, param_read_at_attach)
{
	struct zc_stats s;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, net_zcopy_param("0"));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	ASSERT_NE(NULL, zc_add(_metadata, self, 1514, 1));
	vg_vq_kick(&self->tx);
	ASSERT_LE(0, net_wait_used(&self->tx, NULL, NULL, VX_TIMEOUT_MS));
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(0, s.on);
	ASSERT_EQ(0, s.sent);
}

/*
 * Held packets: the copied small packets queued behind a held large one
 * wait for it; on release everything comes back in guest order.
 */
TEST_F_TIMEOUT(zc, held_packets_keep_order, 180)
{
	const unsigned int n = 16;
	uint8_t *bufs[16];
	struct zc_stats s;

	VX_SETUP_SKIPPED();
	if (zc_hold_setup(self))
		SKIP(return, "bridge/dummy/plug qdisc not available");
	zc_queue(_metadata, self, bufs, n, 1514, 100);
	usleep(300 * 1000);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	TH_LOG("held: sent %llu pending %d, used %u", s.sent, s.pending,
	       vg_vq_used_pending(&self->tx));
	ASSERT_EQ(n / 2, s.sent);
	ASSERT_EQ(n / 2, s.pending);
	/* Packet 0 is held: nothing may be returned yet. */
	ASSERT_EQ(0, vg_vq_used_pending(&self->tx));
	zc_release();
	zc_reap_in_order(_metadata, self, bufs, n);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(0, s.pending);
	ASSERT_EQ(n / 2, s.completed + s.copied);
}

/* Past the in-flight limit large packets are copied: the queue goes on. */
TEST_F_TIMEOUT(zc, fallback_to_copy_when_stalled, 180)
{
	const unsigned int n = 120, limit = RING / 4;
	uint8_t *bufs[120];
	struct zc_stats s;
	long long bytes = -1;
	long t0;

	VX_SETUP_SKIPPED();
	if (zc_hold_setup(self))
		SKIP(return, "bridge/dummy/plug qdisc not available");
	zc_queue(_metadata, self, bufs, n, 1000, 1000);
	/* Every packet reaches the socket although the first ones are held. */
	for (t0 = now_ms(); now_ms() - t0 < VX_TIMEOUT_MS; usleep(20000)) {
		bytes = net_stat(1, "bytes");
		if (bytes == (long long)n * 1000)
			break;
	}
	ASSERT_EQ((long long)n * 1000, bytes);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	TH_LOG("stalled: sent %llu fallback %llu pending %d", s.sent,
	       s.fallback, s.pending);
	ASSERT_EQ(limit, s.sent);
	ASSERT_EQ(n - limit, s.fallback);
	ASSERT_EQ(0, vg_vq_used_pending(&self->tx));
	zc_release();
	zc_reap_in_order(_metadata, self, bufs, n);
}

/* Detach with packets held: returns once they complete, ring complete. */
TEST_F_TIMEOUT(zc, detach_waits_for_held_packets, 180)
{
	const unsigned int n = 8;
	uint8_t *bufs[8];
	struct zc_stats s;
	pid_t child;
	long t0, ms;

	VX_SETUP_SKIPPED();
	if (zc_hold_setup(self))
		SKIP(return, "bridge/dummy/plug qdisc not available");
	zc_queue(_metadata, self, bufs, n, 1514, 1514);
	usleep(300 * 1000);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(n, s.pending);
	child = zc_release_later(500, self->d.fd);
	ASSERT_LT(0, child);
	t0 = now_ms();
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
	ms = now_ms() - t0;
	waitpid(child, NULL, 0);
	TH_LOG("detach waited %ld ms", ms);
	ASSERT_LE(300, ms);
	/* All used entries are there when the detach returns. */
	ASSERT_EQ(n, vg_vq_used_pending(&self->tx));
	zc_reap_in_order(_metadata, self, bufs, n);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(0, s.pending);
	/* And the queue works again after re-attaching. */
	zc_release();
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
	bufs[0] = zc_add(_metadata, self, 1514, 99);
	ASSERT_NE(NULL, bufs[0]);
	vg_vq_kick(&self->tx);
	zc_reap_in_order(_metadata, self, bufs, 1);
}

/* Close with packets held: release waits for them, then frees; no hang. */
TEST_F_TIMEOUT(zc, close_waits_for_held_packets, 180)
{
	const unsigned int n = 8;
	struct zc_stats s;
	unsigned int i;
	pid_t child;
	long t0, ms;

	VX_SETUP_SKIPPED();
	if (zc_hold_setup(self))
		SKIP(return, "bridge/dummy/plug qdisc not available");
	for (i = 0; i < n; i++)
		ASSERT_NE(NULL, zc_add(_metadata, self, 1514, i));
	vg_vq_kick(&self->tx);
	usleep(300 * 1000);
	ASSERT_EQ(0, zc_read(self->d.fd, &s));
	ASSERT_EQ(n, s.pending);
	child = zc_release_later(500, self->d.fd);
	ASSERT_LT(0, child);
	t0 = now_ms();
	vg_close(&self->d);
	ms = now_ms() - t0;
	waitpid(child, NULL, 0);
	TH_LOG("close waited %ld ms", ms);
	ASSERT_LE(300, ms);
	ASSERT_GT(VX_TIMEOUT_MS, ms);
}

/*
 * Copy vs zero-copy: TX throughput of @flen-byte frames into a tap nobody
 * reads (the stack frees them at once).  Logged only: TCG timings.
 */
static double zc_rate(struct __test_metadata *_metadata,
		      FIXTURE_DATA(zc) *self, size_t flen, unsigned int total)
{
	const unsigned int burst = 64;
	uint8_t *pool[64];
	unsigned int i, sent = 0;
	long t0, ms;

	for (i = 0; i < burst; i++) {
		pool[i] = vg_alloc(&self->d, self->hlen + flen, 4096);
		if (!pool[i])
			return -1;
		memset(pool[i], 0, self->hlen);
		net_make_frame(pool[i] + self->hlen, flen, i);
	}
	t0 = now_ms();
	while (sent < total) {
		for (i = 0; i < burst; i++)
			if (vg_vq_add_buf(&self->tx, pool[i], self->hlen + flen,
					  NULL, 0, pool[i]) < 0)
				return -1;
		vg_vq_kick(&self->tx);
		if (vg_vq_wait_used(&self->tx, burst, VX_TIMEOUT_MS) < (int)burst)
			return -1;
		for (i = 0; i < burst; i++)
			if (vg_vq_get_used(&self->tx, NULL, NULL) < 0)
				return -1;
		sent += burst;
	}
	ms = now_ms() - t0;
	return ms ? sent * 1000.0 / ms : 0;
}

TEST_F_TIMEOUT(zc, throughput_copy_vs_zerocopy, 180)
{
	static const size_t sizes[] = { 1514, 16000, 60000 };
	unsigned int i;

	VX_SETUP_SKIPPED();
	/* Only the device's TX matters: nobody captures. */
	close(self->pkt);
	self->pkt = -1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double copy, zc;

		ASSERT_EQ(0, net_zcopy_param("0"));
		ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
		ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
		copy = zc_rate(_metadata, self, sizes[i], 2048);
		ASSERT_LT(0, copy);
		ASSERT_EQ(0, net_zcopy_param("1"));
		ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, -1));
		ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
		zc = zc_rate(_metadata, self, sizes[i], 2048);
		ASSERT_LT(0, zc);
		TH_LOG("%zu-byte frames: copy %.0f pps, zero-copy %.0f pps (%.2fx)",
		       sizes[i], copy, zc, zc / copy);
	}
}

VX_HARNESS_MAIN
