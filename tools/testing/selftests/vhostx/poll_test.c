// SPDX-License-Identifier: GPL-2.0
/*
 * poll_test: polling mode (vhostx.ko's poll_cpus and poll_idle_us).
 *
 * Each test turns polling on for one CPU (the last online one) before it
 * opens its devices, and restores both parameters after.  A device whose
 * owner is set then has no worker thread: the shared poller on that CPU
 * runs its work, and a kicked queue joins the poller's set:
 *
 * - while polled, the ring tells the guest not to kick (used ring
 *   NO_NOTIFY, or avail_event out of reach with EVENT_IDX; the packed
 *   ring's device event area), and buffers published without a kick are
 *   still served, byte-exact, with the kick counter unchanged;
 * - a queue idle longer than poll_idle_us asks for kicks again, and a
 *   kick is served;
 * - polling turned off (and on again) at run time loses nothing;
 * - two owners (two processes) on one poller are both served, and a
 *   flooding one does not starve a light one;
 * - an owner killed, a device closed or reset while polled leave the
 *   poller serving other devices;
 * - /dev/vhostx-net's TX and RX flow polled, without kicks.
 *
 * Without polling every test fails: the device asks for every kick.
 */
#include <sched.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define POLL_CPUS	"/sys/module/vhostx/parameters/poll_cpus"
#define POLL_IDLE	"/sys/module/vhostx/parameters/poll_idle_us"
/* Long enough that a queue in use stays polled through a test step. */
#define IDLE_LONG	"1000000"
/* Short: a queue goes back to kicks soon after it stops moving. */
#define IDLE_SHORT	"1000"

#define V1	VG_F(VIRTIO_F_VERSION_1)
#define EVIDX	VG_F(VIRTIO_RING_F_EVENT_IDX)
#define PACKED	VG_F(VIRTIO_F_RING_PACKED)
#define RING	64
#define LEN	300

/* The parameters as they were, restored at teardown. */
struct poll_saved {
	char cpus[256];
	char idle[32];
	bool saved;
};

static int poll_param_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The CPU the tests poll on: the last online one. */
static void poll_cpu(char *buf, size_t size)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(buf, size, "%ld", n > 1 ? n - 1 : 0);
}

/* Save the parameters, then polling on with @idle_us. */
static void poll_on(struct __test_metadata *_metadata, struct poll_saved *s,
		    const char *idle_us)
{
	char cpu[24];
	int r;

	r = poll_param_read(POLL_CPUS, s->cpus, sizeof(s->cpus));
	ASSERT_EQ(0, r) TH_LOG("%s: %s (vhostx without polling mode?)",
			       POLL_CPUS, strerror(-r));
	ASSERT_EQ(0, poll_param_read(POLL_IDLE, s->idle, sizeof(s->idle)));
	s->saved = true;
	poll_cpu(cpu, sizeof(cpu));
	ASSERT_EQ(0, net_param_write(POLL_IDLE, idle_us));
	r = net_param_write(POLL_CPUS, cpu);
	ASSERT_EQ(0, r) TH_LOG("poll_cpus=%s: %s", cpu, strerror(-r));
}

static void poll_restore(struct poll_saved *s)
{
	if (!s->saved)
		return;
	net_param_write(POLL_CPUS, *s->cpus ? s->cpus : "\n");
	net_param_write(POLL_IDLE, s->idle);
	s->saved = false;
}

/* A counter without failing the test: 0 or -errno. */
static int poll_counter(int fd, unsigned int vq, const char *name,
			uint64_t *v)
{
	return vg_counter(fd, vq, name, v);
}

/* Wait until counter @name of @vq is @want: true, or false at timeout. */
static bool poll_wait_counter(int fd, unsigned int vq, const char *name,
			      uint64_t want)
{
	int64_t end = vg_now_us() + (int64_t)VX_TIMEOUT_MS * 1000;
	uint64_t v;

	do {
		if (!poll_counter(fd, vq, name, &v) && v == want)
			return true;
		usleep(1000);
	} while (vg_now_us() < end);
	return false;
}

/*
 * Queue @n echo buffers on @vq (@len bytes out, @len in, seeds @seed
 * on), publish, and kick only if the device asks.  Returns how many
 * kicks were needed (0 or 1), or -errno.
 */
static int echo_add_at(struct vg_vq *vq, unsigned int n, size_t len,
		       unsigned int seed, uint8_t *base)
{
	unsigned int i;
	int r;

	for (i = 0; i < n; i++) {
		uint8_t *b = base ? base + 2 * len * i :
				    vg_alloc(vq->dev, 2 * len, 64);

		if (!b)
			return -ENOMEM;
		vg_fill(b, len, seed + i);
		memset(b + len, 0, len);
		r = vg_vq_add_buf(vq, b, (uint32_t)len, b + len, (uint32_t)len,
				  b);
		if (r < 0)
			return r;
	}
	return vg_vq_kick(vq);
}

/* The same in new buffers of the arena. */
static int echo_add(struct vg_vq *vq, unsigned int n, size_t len,
		    unsigned int seed)
{
	return echo_add_at(vq, n, len, seed, NULL);
}

/* Reap @n echoes of echo_add(): in order, lengths and bytes exact. */
static int echo_reap(struct vg_vq *vq, unsigned int n, size_t len,
		     unsigned int seed)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint32_t ulen = 0;
		void *c = NULL;

		if (!vg_vq_wait_used(vq, 1, VX_TIMEOUT_MS))
			return -ETIMEDOUT;
		if (vg_vq_get_used(vq, &ulen, &c) < 0 || !c)
			return -EPROTO;
		if (ulen != len)
			return -EMSGSIZE;
		if (vg_check((uint8_t *)c + len, len, seed + i, 0) >= 0)
			return -EILSEQ;
	}
	return 0;
}

/* ---- one /dev/vhostx-test device, every ring format ---- */

FIXTURE(poll) {
	struct poll_saved saved;
	struct vg_dev d;
	struct vg_vq vq;
};

FIXTURE_VARIANT(poll) {
	uint64_t features;
};

FIXTURE_VARIANT_ADD(poll, split) { .features = V1 };
FIXTURE_VARIANT_ADD(poll, split_evidx) { .features = V1 | EVIDX };
FIXTURE_VARIANT_ADD(poll, packed) { .features = V1 | PACKED };
FIXTURE_VARIANT_ADD(poll, packed_evidx) { .features = V1 | PACKED | EVIDX };

FIXTURE_SETUP(poll)
{
	memset(&self->saved, 0, sizeof(self->saved));
	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
}

FIXTURE_TEARDOWN(poll)
{
	vx_test_teardown(&self->d, &self->vq);
	poll_restore(&self->saved);
}

/* Polling on, the device set up and kicked once: its queue is polled. */
static void poll_start(struct __test_metadata *_metadata,
		       FIXTURE_DATA(poll) *self, uint64_t features,
		       const char *idle_us)
{
	poll_on(_metadata, &self->saved, idle_us);
	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, features, RING, 0));
	ASSERT_EQ(1, echo_add(&self->vq, 1, LEN, 1));
	ASSERT_EQ(0, echo_reap(&self->vq, 1, LEN, 1));
}

VX_TEST_F(poll, polled_queue_flows_without_kicks)
{
	uint64_t kicks;
	unsigned int b;

	poll_start(_metadata, self, variant->features, IDLE_LONG);
	/* The poller took the queue before it ran the kick. */
	ASSERT_EQ(1, VX_COUNTER(self->d.fd, 0, "polled"));
	ASSERT_FALSE(vg_vq_device_wants_kick(&self->vq));
	kicks = VX_COUNTER(self->d.fd, 0, "kicks");
	ASSERT_EQ(1, kicks);

	for (b = 0; b < 8; b++) {
		/* Published, not kicked: the device said it needs none. */
		ASSERT_EQ(0, echo_add(&self->vq, 8, LEN, 100 + 8 * b));
		ASSERT_EQ(0, echo_reap(&self->vq, 8, LEN, 100 + 8 * b));
		ASSERT_FALSE(vg_vq_device_wants_kick(&self->vq));
	}
	ASSERT_EQ(kicks, VX_COUNTER(self->d.fd, 0, "kicks"));
	ASSERT_EQ(65, VX_COUNTER(self->d.fd, 0, "bufs"));
	ASSERT_EQ(65 * LEN, VX_COUNTER(self->d.fd, 0, "bytes"));
	ASSERT_LT(0, VX_COUNTER(self->d.fd, 0, "polls"));
	ASSERT_LT(0, VX_COUNTER(self->d.fd, 0, "poll_ns"));
	ASSERT_LT(0, VX_COUNTER(self->d.fd, 0, "poll_turns"));
	ASSERT_EQ(0, VX_COUNTER(self->d.fd, 0, "broken"));
}

VX_TEST_F(poll, idle_queue_gets_kicks_back)
{
	poll_start(_metadata, self, variant->features, IDLE_SHORT);
	ASSERT_TRUE(poll_wait_counter(self->d.fd, 0, "polled", 0))
		TH_LOG("queue still polled after poll_idle_us");
	/* Kicks are on again, and the ring was re-checked: nothing lost. */
	ASSERT_TRUE(vg_vq_device_wants_kick(&self->vq));
	ASSERT_LT(0, VX_COUNTER(self->d.fd, 0, "polls"));
	ASSERT_EQ(1, echo_add(&self->vq, 4, LEN, 50));
	ASSERT_EQ(0, echo_reap(&self->vq, 4, LEN, 50));
	ASSERT_EQ(2, VX_COUNTER(self->d.fd, 0, "kicks"));
	ASSERT_EQ(5, VX_COUNTER(self->d.fd, 0, "bufs"));
	/* And after going quiet again, kicks again. */
	ASSERT_TRUE(poll_wait_counter(self->d.fd, 0, "polled", 0));
	ASSERT_TRUE(vg_vq_device_wants_kick(&self->vq));
}

/*
 * Polling off while buffers are in flight, then on again, several times:
 * every buffer is served, kicks come back when off, go when on.
 */
VX_TEST_F(poll, runtime_off_on_under_traffic)
{
	unsigned int round, seed = 1000, done = 1, tries;
	char cpu[24];
	int kicked;

	poll_cpu(cpu, sizeof(cpu));
	poll_start(_metadata, self, variant->features, IDLE_LONG);
	for (round = 0; round < 3; round++) {
		/* In flight as polling goes off. */
		ASSERT_EQ(0, echo_add(&self->vq, 16, LEN, seed));
		ASSERT_EQ(0, net_param_write(POLL_CPUS, "\n"));
		ASSERT_EQ(0, echo_reap(&self->vq, 16, LEN, seed));
		seed += 16;
		ASSERT_TRUE(poll_wait_counter(self->d.fd, 0, "polled", 0));
		ASSERT_TRUE(vg_vq_device_wants_kick(&self->vq));
		ASSERT_LE(0, echo_add(&self->vq, 16, LEN, seed));
		ASSERT_EQ(0, echo_reap(&self->vq, 16, LEN, seed));
		seed += 16;
		/*
		 * On again: the next kick puts the queue back in the set.  A
		 * batch added while the last run had not yet turned kicks
		 * back on needs none (that run re-checks the ring): add until
		 * one is kicked.
		 */
		ASSERT_EQ(0, net_param_write(POLL_CPUS, cpu));
		for (kicked = 0, tries = 0; !kicked && tries < 8; tries++) {
			kicked = echo_add(&self->vq, 16, LEN, seed);
			ASSERT_LE(0, kicked);
			ASSERT_EQ(0, echo_reap(&self->vq, 16, LEN, seed));
			seed += 16;
			done += 16;
		}
		ASSERT_EQ(1, kicked);
		ASSERT_EQ(1, VX_COUNTER(self->d.fd, 0, "polled"));
		ASSERT_EQ(0, echo_add(&self->vq, 16, LEN, seed));
		ASSERT_EQ(0, echo_reap(&self->vq, 16, LEN, seed));
		seed += 16;
		done += 48;
	}
	ASSERT_EQ(done, VX_COUNTER(self->d.fd, 0, "bufs"));
	ASSERT_EQ((uint64_t)done * LEN, VX_COUNTER(self->d.fd, 0, "bytes"));
}

/* RESET_OWNER while polled, then the device set up again and polled. */
VX_TEST_F(poll, reset_owner_while_polled)
{
	poll_start(_metadata, self, variant->features, IDLE_LONG);
	ASSERT_EQ(1, VX_COUNTER(self->d.fd, 0, "polled"));
	/* Buffers in flight, not kicked. */
	ASSERT_EQ(0, echo_add(&self->vq, 8, LEN, 7));
	ASSERT_EQ(0, vg_reset_owner(&self->d));
	vg_vq_free(&self->vq);
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_features(&self->d, variant->features));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
	ASSERT_EQ(0, vg_vq_setup(&self->d, &self->vq, 0, RING, 0));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, VX_COUNTER(self->d.fd, 0, "polled"));
	ASSERT_EQ(1, echo_add(&self->vq, 1, LEN, 70));
	ASSERT_EQ(0, echo_reap(&self->vq, 1, LEN, 70));
	ASSERT_EQ(1, VX_COUNTER(self->d.fd, 0, "polled"));
	ASSERT_EQ(0, echo_add(&self->vq, 8, LEN, 71));
	ASSERT_EQ(0, echo_reap(&self->vq, 8, LEN, 71));
}

/*
 * The backend detached while polled (vhostx-test's RUN 0): the queue
 * leaves the set with kicks on all the same (a backend attached later
 * must hear of new buffers), and RUN 1 serves what came meanwhile.
 */
VX_TEST_F(poll, backend_stopped_while_polled)
{
	poll_start(_metadata, self, variant->features, IDLE_LONG);
	ASSERT_EQ(1, VX_COUNTER(self->d.fd, 0, "polled"));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, net_param_write(POLL_IDLE, IDLE_SHORT));
	ASSERT_TRUE(poll_wait_counter(self->d.fd, 0, "polled", 0));
	ASSERT_TRUE(vg_vq_device_wants_kick(&self->vq));
	ASSERT_EQ(1, echo_add(&self->vq, 8, LEN, 20));
	ASSERT_EQ(0, vg_test_run(&self->d, 1));
	ASSERT_EQ(0, echo_reap(&self->vq, 8, LEN, 20));
	ASSERT_EQ(9, VX_COUNTER(self->d.fd, 0, "bufs"));
}

/* ---- several devices and owners on one poller ---- */

FIXTURE(polls) {
	struct poll_saved saved;
};

FIXTURE_SETUP(polls)
{
	memset(&self->saved, 0, sizeof(self->saved));
	VX_REQUIRE_DEV(VX_TEST_DEV);
}

FIXTURE_TEARDOWN(polls)
{
	poll_restore(&self->saved);
}

/*
 * An owner's traffic: a device, one kick, then @batches of 8 echoes
 * without kicks.  0, or a negative step number and errno-like code.
 */
static int owner_traffic(unsigned int batches, unsigned int seed)
{
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int b;
	uint64_t v;
	int r;

	vx_fixture_init(&d, &vq);
	r = vx_test_setup(&d, &vq, V1, RING, 0);
	if (!r && echo_add(&vq, 1, LEN, seed) != 1)
		r = -EIO;
	if (!r)
		r = echo_reap(&vq, 1, LEN, seed);
	for (b = 0; !r && b < batches; b++) {
		if (echo_add(&vq, 8, LEN, seed + 1 + 8 * b) != 0)
			r = -EAGAIN;	/* asked for a kick: not polled */
		else
			r = echo_reap(&vq, 8, LEN, seed + 1 + 8 * b);
	}
	if (!r && (poll_counter(d.fd, 0, "bufs", &v) || v != 1 + 8 * batches))
		r = -ERANGE;
	if (!r && (poll_counter(d.fd, 0, "poll_turns", &v) || !v))
		r = -ENOENT;
	vx_test_teardown(&d, &vq);
	return r;
}

VX_TEST_F(polls, two_owners_one_poller)
{
	pid_t a, b;

	poll_on(_metadata, &self->saved, IDLE_LONG);
	a = fork();
	ASSERT_LE(0, a);
	if (!a)
		_exit(-owner_traffic(40, 1));
	b = fork();
	ASSERT_LE(0, b);
	if (!b)
		_exit(-owner_traffic(40, 5000));
	ASSERT_EQ(0, vx_child_result(a));
	ASSERT_EQ(0, vx_child_result(b));
}

/* What a busy owner does: echoes of @len bytes, @batch at a time. */
struct busy {
	size_t len;
	unsigned int batch;
	unsigned int num;
};

/*
 * A child: a polled device (ring of @num) it keeps busy without kicks
 * until killed, always in the same buffers (the arena would run out).
 */
static void busy_owner(struct __test_metadata *_metadata, int ready,
		       void *arg)
{
	const struct busy *bz = arg;
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int seed = 1;
	uint8_t *base;
	char ok = 1;

	vx_fixture_init(&d, &vq);
	if (vx_test_setup(&d, &vq, V1, bz->num, 0) ||
	    echo_add(&vq, 1, bz->len, 0) != 1 || echo_reap(&vq, 1, bz->len, 0))
		_exit(1);
	base = vg_alloc(&d, 2 * bz->len * bz->batch, 64);
	if (!base || write(ready, &ok, 1) != 1)
		_exit(1);
	for (;;) {
		if (echo_add_at(&vq, bz->batch, bz->len, seed, base) < 0 ||
		    echo_reap(&vq, bz->batch, bz->len, seed))
			_exit(1);
		seed += bz->batch;
	}
}

VX_TEST_F(polls, owner_killed_mid_poll)
{
	struct busy busy = { .len = LEN, .batch = 16, .num = RING };
	pid_t pid;
	char ok;

	poll_on(_metadata, &self->saved, IDLE_LONG);
	pid = vx_spawn(_metadata, busy_owner, &busy, &ok, 1);
	usleep(100 * 1000);
	vx_kill(_metadata, pid);
	/* The poller serves the next owner. */
	ASSERT_EQ(0, owner_traffic(8, 300));
}

/*
 * A device flooding the poller does not starve a light one on it: each
 * of the light device's round trips completes (the handler budgets cut
 * the flood's turns).  Its round-trip times are logged.
 */
VX_TEST_F_TIMEOUT(polls, flood_does_not_starve_light_device, 120)
{
	/* 4 KiB echoes, a quarter of the ring at a time. */
	struct busy flood = { .len = 4096, .batch = 64, .num = 256 };
	int64_t t, rtt[20], max = 0, sum = 0;
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int i;
	pid_t pid;
	char ok;

	poll_on(_metadata, &self->saved, IDLE_LONG);
	pid = vx_spawn(_metadata, busy_owner, &flood, &ok, 1);
	vx_fixture_init(&d, &vq);
	ASSERT_EQ(0, vx_test_setup(&d, &vq, V1, RING, 0));
	for (i = 0; i < 20; i++) {
		t = vg_now_us();
		ASSERT_LE(0, echo_add(&vq, 1, LEN, 10 + i));
		ASSERT_EQ(0, echo_reap(&vq, 1, LEN, 10 + i))
			TH_LOG("round trip %u starved", i);
		rtt[i] = vg_now_us() - t;
		sum += rtt[i];
		if (rtt[i] > max)
			max = rtt[i];
	}
	TH_LOG("light device beside a flood: round trip mean %lld us, max %lld us",
	       (long long)(sum / 20), (long long)max);
	ASSERT_EQ(1, VX_COUNTER(d.fd, 0, "polled"));
	vx_test_teardown(&d, &vq);
	vx_kill(_metadata, pid);
}

VX_TEST_F(polls, close_while_polled)
{
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int i;

	poll_on(_metadata, &self->saved, IDLE_LONG);
	for (i = 0; i < 3; i++) {
		vx_fixture_init(&d, &vq);
		ASSERT_EQ(0, vx_test_setup(&d, &vq, V1, RING, 0));
		ASSERT_EQ(1, echo_add(&vq, 1, LEN, 0));
		ASSERT_EQ(0, echo_reap(&vq, 1, LEN, 0));
		ASSERT_EQ(1, VX_COUNTER(d.fd, 0, "polled"));
		/* Closed with buffers in flight, the backend still on. */
		ASSERT_EQ(0, echo_add(&vq, 32, LEN, 1));
		vg_vq_free(&vq);
		vg_close(&d);
	}
	ASSERT_EQ(0, owner_traffic(8, 900));
}

/* ---- /dev/vhostx-net ---- */

FIXTURE(pnet) {
	struct poll_saved saved;
	struct net_fx n;
};

FIXTURE_SETUP(pnet)
{
	memset(&self->saved, 0, sizeof(self->saved));
	net_fx_init(&self->n);
	self->n.path = VX_NET_DEV;
	VX_REQUIRE_DEV(VX_NET_DEV);
	if (access("/dev/net/tun", F_OK))
		SKIP(return, "/dev/net/tun not present");
	poll_on(_metadata, &self->saved, IDLE_LONG);
	ASSERT_EQ(0, net_fx_up(&self->n, V1, 256));
}

FIXTURE_TEARDOWN(pnet)
{
	net_fx_teardown(&self->n);
	poll_restore(&self->saved);
}

/* Until the device asks @vq for kicks (true), or timeout (false). */
static bool rx_wait_kick_wanted(struct vg_vq *vq)
{
	int64_t end = vg_now_us() + (int64_t)VX_TIMEOUT_MS * 1000;

	while (!vg_vq_device_wants_kick(vq))
		if (vg_now_us() > end)
			return false;
		else
			usleep(1000);
	return true;
}

/* TX, then RX, polled: frames byte-exact with no kick after the first. */
VX_TEST_F(pnet, tx_rx_polled)
{
	uint8_t *cap = malloc(65536), frame[1514];
	unsigned int i, b;
	uint64_t kicks;

	ASSERT_NE(NULL, cap);
	/* TX: one kicked frame, then batches the device does not ask for. */
	ASSERT_NE(NULL, net_tx_frame(&self->n, 200, 0));
	ASSERT_EQ(200, vg_frame_capture(self->n.pkt, cap, 65536,
					VX_TIMEOUT_MS));
	ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL, VX_TIMEOUT_MS));
	ASSERT_EQ(1, VX_COUNTER(self->n.d.fd, 1, "polled"));
	kicks = VX_COUNTER(self->n.d.fd, 1, "kicks");
	for (b = 0; b < 4; b++) {
		for (i = 1; i <= 8; i++) {
			unsigned int k = 8 * b + i;
			uint8_t *buf = vg_alloc(&self->n.d,
						self->n.hlen + 60 + k, 64);

			ASSERT_NE(NULL, buf);
			memset(buf, 0, self->n.hlen);
			vg_frame_make(buf + self->n.hlen, 60 + k, k);
			ASSERT_LE(0, vg_vq_add_buf(&self->n.tx, buf,
				  (uint32_t)(self->n.hlen + 60 + k), NULL, 0,
				  buf));
		}
		ASSERT_EQ(0, vg_vq_kick(&self->n.tx));
		for (i = 1; i <= 8; i++) {
			unsigned int k = 8 * b + i;

			ASSERT_EQ((ssize_t)(60 + k),
				  vg_frame_capture(self->n.pkt, cap, 65536,
						   VX_TIMEOUT_MS));
			ASSERT_TRUE(vg_frame_ok(cap, 60 + k, k));
			ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL,
						   VX_TIMEOUT_MS));
		}
	}
	ASSERT_EQ(kicks, VX_COUNTER(self->n.d.fd, 1, "kicks"));
	ASSERT_EQ(33, VX_COUNTER(self->n.d.fd, 1, "bufs"));

	/*
	 * RX: the guest kicks RX only when the device ran out of buffers
	 * (otherwise the socket's wakeups drive it): a frame waits in the
	 * tap with no buffer posted, the device asks for a kick, the
	 * buffers' kick puts the queue in the set.
	 */
	vg_frame_make(frame, 100, 500);
	ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame, 100));
	ASSERT_TRUE(rx_wait_kick_wanted(&self->n.rx));
	ASSERT_EQ(1, net_rx_post(&self->n, 8, 2048) == 0 &&
		     VX_COUNTER(self->n.d.fd, 0, "kicks") == 1);
	for (i = 0; i < 8; i++) {
		uint32_t len = 0;
		void *c = NULL;

		if (i) {
			vg_frame_make(frame, 100 + i, 500 + i);
			ASSERT_EQ(0, vg_frame_inject(self->n.pkt,
						     self->n.ifname, frame,
						     100 + i));
		}
		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c,
					   VX_TIMEOUT_MS));
		ASSERT_EQ(self->n.hlen + 100 + i, len);
		ASSERT_TRUE(vg_frame_ok((uint8_t *)c + self->n.hlen, 100 + i,
					500 + i));
	}
	ASSERT_EQ(1, VX_COUNTER(self->n.d.fd, 0, "polled"));
	kicks = VX_COUNTER(self->n.d.fd, 0, "kicks");
	/* More buffers: no kick asked for, and frames still land. */
	for (i = 0; i < 8; i++) {
		uint8_t *bb = vg_alloc(&self->n.d, 2048, 64);

		ASSERT_NE(NULL, bb);
		ASSERT_LE(0, vg_vq_add_buf(&self->n.rx, NULL, 0, bb, 2048, bb));
	}
	ASSERT_EQ(0, vg_vq_kick(&self->n.rx));
	for (i = 0; i < 8; i++) {
		uint32_t len = 0;
		void *c = NULL;

		vg_frame_make(frame, 300 + i, 900 + i);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname,
					     frame, 300 + i));
		ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c,
					   VX_TIMEOUT_MS));
		ASSERT_EQ(self->n.hlen + 300 + i, len);
		ASSERT_TRUE(vg_frame_ok((uint8_t *)c + self->n.hlen, 300 + i,
					900 + i));
	}
	ASSERT_EQ(kicks, VX_COUNTER(self->n.d.fd, 0, "kicks"));
	ASSERT_EQ(16, VX_COUNTER(self->n.d.fd, 0, "bufs"));
	ASSERT_LT(0, VX_COUNTER(self->n.d.fd, 0, "poll_ns"));
	free(cap);
}

VX_HARNESS_MAIN
