// SPDX-License-Identifier: GPL-2.0
/*
 * stress_lifecycle_test: many device lifetimes, torn down in every way a
 * VMM can tear them down, for leaks (kmemleak on the debug kernel), use
 * after free (KASAN) and lock problems (lockdep) to show up:
 *   - open / set-up / traffic / close, thousands of times;
 *   - close with traffic in flight;
 *   - the owner SIGKILLed mid-traffic;
 *   - the backend fd closed under the worker;
 *   - the memory table replaced during traffic.
 * VX_STRESS_SCALE (default 1: 400 open cycles...) multiplies every cycle count; the stock
 * `make check` run stays short, `make check-debug` may raise it.  Module
 * unload/reload after all users are gone is done by the debug-kernel
 * guest script (tools/testing/vm/debug-kernel/guest-check.sh).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"
#include "cve_common.h"

#define F(b)	(1ULL << (b))
#define FEAT	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) | \
		 F(VIRTIO_RING_F_INDIRECT_DESC))
#define HLEN	12

/* Long timeouts: the debug kernel under TCG is 10-30 times slower. */
FIXTURE(stress) { int unused; };
FIXTURE_SETUP(stress) { }
FIXTURE_TEARDOWN(stress) { }

static unsigned int scale(unsigned int n)
{
	const char *s = getenv("VX_STRESS_SCALE");
	unsigned long k = s ? strtoul(s, NULL, 0) : 1;

	return (unsigned int)(n * (k ? k : 1));
}

/* The net device and tun are there: the cycles include net devices. */
static bool have_net(void)
{
	return !access(VX_NET_DEV, F_OK) && !access("/dev/net/tun", F_OK);
}

/* Fill a ring with echo buffers and kick, without waiting. */
static int flood(struct vg_vq *vq, uint8_t *buf, size_t len)
{
	int n = 0;

	while (vq->num_free >= 2 &&
	       vg_vq_add_buf(vq, buf, (uint32_t)len, buf + len,
			     (uint32_t)len, buf) >= 0)
		n++;
	vg_vq_kick(vq);
	return n;
}

/* A net device on a fresh tap, both queues attached. */
static int net_up(struct vg_dev *d, struct vg_vq *rx, struct vg_vq *tx,
		  int *tap, char *ifname)
{
	int r;

	ifname[0] = 0;
	*tap = net_tap_open(ifname, HLEN, 0);
	if (*tap < 0)
		return *tap;
	r = net_dev_setup(d, rx, tx, NET_F(VIRTIO_F_VERSION_1), 128);
	if (!r)
		r = vg_net_set_backend(d, 0, *tap);
	if (!r)
		r = vg_net_set_backend(d, 1, *tap);
	return r;
}

/* Queue TX frames (no wait) and RX buffers on a net device. */
static void net_flood(struct vg_dev *d, struct vg_vq *rx, struct vg_vq *tx)
{
	uint8_t *b = vg_alloc(d, 2048 * 2, 64);

	if (!b)
		return;
	memset(b, 0, HLEN);
	net_make_frame(b + HLEN, 1000, 1);
	while (tx->num_free && vg_vq_add_buf(tx, b, HLEN + 1000, NULL, 0, b) >= 0)
		;
	while (rx->num_free &&
	       vg_vq_add_buf(rx, NULL, 0, b + 2048, 2048, b + 2048) >= 0)
		;
	vg_vq_kick(tx);
	vg_vq_kick(rx);
}

static void free_all(struct vg_dev *d, struct vg_vq *a, struct vg_vq *b)
{
	vg_close(d);
	vg_vq_free(a);
	if (b)
		vg_vq_free(b);
}

/* A fresh test device echoes byte-exact. */
static int fresh_ok(void)
{
	struct vg_dev d;
	struct vg_vq vq;
	int r = vx_test_setup(&d, &vq, FEAT, 64, 0);

	if (!r)
		r = vx_echo_once(&vq, 1500, 42);
	free_all(&d, &vq, NULL);
	return r;
}

TEST_F_TIMEOUT(stress, open_setup_traffic_close_cycles, 900)
{
	unsigned int i, n = scale(400), nets = 0;
	bool net = have_net();

	VX_REQUIRE_DEV(VX_TEST_DEV);
	for (i = 0; i < n; i++) {
		struct vg_dev d;
		struct vg_vq vq, tx;

		if (net && i % 20 == 0) {	/* taps are expensive: 1 in 20 */
			char ifname[IFNAMSIZ];
			int tap = -1;

			ASSERT_EQ(0, net_up(&d, &vq, &tx, &tap, ifname));
			net_flood(&d, &vq, &tx);
			ASSERT_LT(0, vg_vq_wait_used(&tx, 1, VX_TIMEOUT_MS));
			free_all(&d, &vq, &tx);
			close(tap);
			nets++;
			continue;
		}
		ASSERT_EQ(0, vx_test_setup(&d, &vq, FEAT, 1u << (i % 9), 0))
			TH_LOG("cycle %u", i);
		if (vq.num >= 2)
			ASSERT_EQ(0, vx_echo_once(&vq, 64 + i % 2000, i))
				TH_LOG("cycle %u", i);
		if (i % 2)
			vg_test_stop(&d);
		free_all(&d, &vq, NULL);
	}
	TH_LOG("%u cycles, %u of them on %s", n, nets, VX_NET_DEV);
	ASSERT_EQ(0, fresh_ok());
}

TEST_F_TIMEOUT(stress, close_during_traffic_cycles, 900)
{
	unsigned int i, n = scale(40);
	bool net = have_net();

	VX_REQUIRE_DEV(VX_TEST_DEV);
	for (i = 0; i < n; i++) {
		struct vg_dev d;
		struct vg_vq vq, tx;

		if (net && i % 5 == 0) {
			char ifname[IFNAMSIZ];
			int tap = -1;

			ASSERT_EQ(0, net_up(&d, &vq, &tx, &tap, ifname));
			net_flood(&d, &vq, &tx);
			/* tap first or device first, alternately */
			if (i % 10) {
				close(tap);
				free_all(&d, &vq, &tx);
			} else {
				free_all(&d, &vq, &tx);
				close(tap);
			}
			continue;
		}
		ASSERT_EQ(0, vx_test_setup(&d, &vq, FEAT, 256, 0));
		flood(&vq, vg_alloc(&d, 128 * 1024, 4096), 16 * 1024 + i);
		if (i % 3 == 0)
			usleep(i % 1000);
		free_all(&d, &vq, NULL);
	}
	ASSERT_EQ(0, fresh_ok());
}

TEST_F_TIMEOUT(stress, owner_sigkilled_cycles, 900)
{
	unsigned int i, n = scale(8);
	bool net = have_net();

	VX_REQUIRE_DEV(VX_TEST_DEV);
	for (i = 0; i < n; i++) {
		int status, p[2];
		pid_t pid;
		char c;

		ASSERT_EQ(0, pipe(p));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct vg_dev d, nd;
			struct vg_vq vq, rx, tx;
			char ifname[IFNAMSIZ];
			uint8_t *buf;
			int tap;

			close(p[0]);
			if (vx_test_setup(&d, &vq, FEAT, 256, 0))
				_exit(1);
			if (net && net_up(&nd, &rx, &tx, &tap, ifname))
				_exit(1);
			buf = vg_alloc(&d, 16384, 4096);
			if (write(p[1], "r", 1) != 1)
				_exit(2);
			for (;;) {
				flood(&vq, buf, 4096);
				while (vg_vq_get_used(&vq, NULL, NULL) >= 0)
					;
				if (net) {
					net_flood(&nd, &rx, &tx);
					while (vg_vq_get_used(&tx, NULL, NULL) >= 0)
						;
				}
			}
		}
		close(p[1]);
		ASSERT_EQ(1, read(p[0], &c, 1)) TH_LOG("child set-up failed");
		close(p[0]);
		usleep(20 * 1000 + (i % 7) * 30 * 1000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
	}
	ASSERT_EQ(0, fresh_ok());
}

TEST_F_TIMEOUT(stress, backend_closed_under_worker_cycles, 900)
{
	unsigned int i, n = scale(20);
	struct vg_dev d;
	struct vg_vq rx, tx;
	char ifname[IFNAMSIZ];
	int tap = -1;

	if (!have_net())
		SKIP(return, "%s or /dev/net/tun not present", VX_NET_DEV);
	ASSERT_EQ(0, net_up(&d, &rx, &tx, &tap, ifname));
	for (i = 0; i < n; i++) {
		char name[IFNAMSIZ] = "";
		int t = net_tap_open(name, HLEN, 0);

		ASSERT_LE(0, t);
		ASSERT_EQ(0, vg_net_set_backend(&d, i % 2, t));
		ASSERT_EQ(0, vg_net_set_backend(&d, !(i % 2), t));
		/* Traffic queued, then the only fd of the backend closed. */
		if (tx.num_free > 4 && rx.num_free > 4) {
			uint8_t *b = vg_alloc(&d, 4096, 64);

			if (b) {
				memset(b, 0, HLEN);
				net_make_frame(b + HLEN, 500, i);
				vg_vq_add_buf(&tx, b, HLEN + 500, NULL, 0, b);
				vg_vq_add_buf(&rx, NULL, 0, b + 2048, 2048, b);
				vg_vq_kick(&tx);
				vg_vq_kick(&rx);
			}
		}
		close(t);
		if (i % 3 == 0)
			ASSERT_EQ(0, vg_net_set_backend(&d, i % 2, -1));
		while (vg_vq_get_used(&tx, NULL, NULL) >= 0)
			;
		while (vg_vq_get_used(&rx, NULL, NULL) >= 0)
			;
	}
	ASSERT_EQ(0, vg_net_set_backend(&d, 0, tap));
	ASSERT_EQ(0, vg_net_set_backend(&d, 1, tap));
	free_all(&d, &rx, &tx);
	close(tap);
}

struct echo_loop {
	struct vg_vq *vq;
	uint8_t *buf;
	volatile bool stop;
	unsigned long done;
	int error;
};

static void *echo_fn(void *arg)
{
	struct echo_loop *e = arg;

	while (!e->stop && !e->error) {
		uint8_t *out = e->buf + (e->done % 16) * 8192, *in = out + 4096;
		size_t len = 100 + e->done % 3000;
		uint32_t ulen = 0;
		void *c;
		int h;

		vx_fill(out, len, (unsigned int)e->done);
		h = vg_vq_add_buf(e->vq, out, (uint32_t)len, in, (uint32_t)len, out);
		if (h < 0) {
			e->error = -ENOSPC;
			break;
		}
		vg_vq_kick(e->vq);
		if (!vg_vq_wait_used(e->vq, 1, VX_TIMEOUT_MS))
			e->error = -ETIMEDOUT;
		else if (vg_vq_get_used(e->vq, &ulen, &c) != h || ulen != len ||
			 vx_check(in, len, (unsigned int)e->done, 0) >= 0)
			e->error = -EILSEQ;
		else
			e->done++;
	}
	return NULL;
}

/*
 * The memory table replaced (by equivalent layouts: one region, two
 * regions split at a varying page, eight) while echo traffic runs: every
 * echo must complete byte-exact.
 */
TEST_F_TIMEOUT(stress, mem_table_replaced_during_traffic, 900)
{
	struct echo_loop e = { 0 };
	struct vhost_memory_region reg[8];
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int i, n = scale(150);
	pthread_t th;
	uint64_t lo, size;

	VX_REQUIRE_DEV(VX_TEST_DEV);
	ASSERT_EQ(0, vx_test_setup(&d, &vq, FEAT, 64, 0));
	lo = vg_gpa(d.arena);
	size = d.arena_size;
	e.vq = &vq;
	e.buf = vg_alloc(&d, 16 * 8192, 4096);
	ASSERT_NE(NULL, e.buf);
	ASSERT_EQ(0, pthread_create(&th, NULL, echo_fn, &e));
	for (i = 0; i < n && !e.error; i++) {
		unsigned int k, nreg = i % 3 == 0 ? 1 : i % 3 == 1 ? 2 : 8;
		uint64_t cut = ((i * 7919ULL) % (size / 4096 - 1) + 1) * 4096;

		if (nreg == 1) {
			reg[0] = (struct vhost_memory_region){ lo, size, lo, 0 };
		} else if (nreg == 2) {
			reg[0] = (struct vhost_memory_region){ lo, cut, lo, 0 };
			reg[1] = (struct vhost_memory_region){ lo + cut, size - cut,
							       lo + cut, 0 };
		} else {
			for (k = 0; k < 8; k++)
				reg[k] = (struct vhost_memory_region){
					lo + k * size / 8, size / 8, lo + k * size / 8, 0 };
		}
		ASSERT_EQ(0, vg_set_mem_regions(&d, reg, nreg));
		usleep(1000);
	}
	e.stop = true;
	pthread_join(th, NULL);
	ASSERT_EQ(0, e.error) TH_LOG("echo %lu failed while the table changed", e.done);
	TH_LOG("%u table changes, %lu echoes", i, e.done);
	ASSERT_LT(0, e.done);
	vg_test_stop(&d);
	free_all(&d, &vq, NULL);
	ASSERT_EQ(0, fresh_ok());
}

VX_HARNESS_MAIN
