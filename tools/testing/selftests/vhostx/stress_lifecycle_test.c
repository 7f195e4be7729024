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

#define FEAT	(VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX) | \
		 VG_F(VIRTIO_RING_F_INDIRECT_DESC))
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

/* The cycles use both devices (and tun for the net device's backend). */
#define STRESS_REQUIRE_DEVS() do {					\
	VX_REQUIRE_DEV(VX_TEST_DEV);					\
	NET_REQUIRE_DEV();						\
} while (0)

/* A net device on a fresh tap (no capture socket), both queues attached. */
static int net_up(struct net_fx *n)
{
	net_fx_init(n);
	n->tap = vg_tap_open(n->ifname, HLEN, 0);
	if (n->tap < 0)
		return n->tap;
	return net_fx_dev(n, VG_F(VIRTIO_F_VERSION_1), 128);
}

/* Queue TX frames (no wait) and RX buffers on a net device. */
static void net_flood(struct net_fx *n)
{
	uint8_t *b = vg_alloc(&n->d, 2048 * 2, 64);

	if (!b)
		return;
	memset(b, 0, HLEN);
	vg_frame_make(b + HLEN, 1000, 1);
	while (n->tx.num_free &&
	       vg_vq_add_buf(&n->tx, b, HLEN + 1000, NULL, 0, b) >= 0)
		;
	while (n->rx.num_free &&
	       vg_vq_add_buf(&n->rx, NULL, 0, b + 2048, 2048, b + 2048) >= 0)
		;
	vg_vq_kick(&n->tx);
	vg_vq_kick(&n->rx);
}

static void free_all(struct vg_dev *d, struct vg_vq *vq)
{
	vg_close(d);
	vg_vq_free(vq);
}

/* Close a net device as it is (backends attached), the tap first or last. */
static void net_down(struct net_fx *n, bool tap_first)
{
	if (tap_first)
		close(n->tap);
	free_all(&n->d, &n->rx);
	vg_vq_free(&n->tx);
	if (!tap_first)
		close(n->tap);
}

VX_TEST_F_TIMEOUT(stress, open_setup_traffic_close_cycles, 900)
{
	unsigned int i, n = scale(400), nets = 0;

	STRESS_REQUIRE_DEVS();
	for (i = 0; i < n; i++) {
		struct vg_dev d;
		struct vg_vq vq;

		if (i % 20 == 0) {	/* taps are expensive: 1 in 20 */
			struct net_fx nd;

			ASSERT_EQ(0, net_up(&nd));
			net_flood(&nd);
			ASSERT_LT(0, vg_vq_wait_used(&nd.tx, 1, VX_TIMEOUT_MS));
			net_down(&nd, false);
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
		free_all(&d, &vq);
	}
	TH_LOG("%u cycles, %u of them on %s", n, nets, VX_NET_DEV);
	ASSERT_EQ(0, vx_fresh_echo());
}

VX_TEST_F_TIMEOUT(stress, close_during_traffic_cycles, 900)
{
	unsigned int i, n = scale(40);

	STRESS_REQUIRE_DEVS();
	for (i = 0; i < n; i++) {
		struct vg_dev d;
		struct vg_vq vq;

		if (i % 5 == 0) {
			struct net_fx nd;

			ASSERT_EQ(0, net_up(&nd));
			net_flood(&nd);
			/* tap first or device first, alternately */
			net_down(&nd, i % 10);
			continue;
		}
		ASSERT_EQ(0, vx_test_setup(&d, &vq, FEAT, 256, 0));
		vx_flood(&vq, vg_alloc(&d, 128 * 1024, 4096), 16 * 1024 + i);
		if (i % 3 == 0)
			usleep(i % 1000);
		free_all(&d, &vq);
	}
	ASSERT_EQ(0, vx_fresh_echo());
}

/* An owner of both devices, flooding them until it is killed. */
static void owner(struct __test_metadata *_metadata, int ready, void *arg)
{
	struct net_fx nd;
	struct vg_dev d;
	struct vg_vq vq;
	uint8_t *buf;

	if (vx_test_setup(&d, &vq, FEAT, 256, 0) || net_up(&nd))
		_exit(1);
	buf = vg_alloc(&d, 16384, 4096);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (;;) {
		vx_flood(&vq, buf, 4096);
		while (vg_vq_get_used(&vq, NULL, NULL) >= 0)
			;
		net_flood(&nd);
		while (vg_vq_get_used(&nd.tx, NULL, NULL) >= 0)
			;
	}
}

VX_TEST_F_TIMEOUT(stress, owner_sigkilled_cycles, 900)
{
	unsigned int i, n = scale(8);

	STRESS_REQUIRE_DEVS();
	for (i = 0; i < n; i++) {
		char c;
		pid_t pid = vx_spawn(_metadata, owner, NULL, &c, 1);

		usleep(20 * 1000 + (i % 7) * 30 * 1000);
		vx_kill(_metadata, pid);
	}
	ASSERT_EQ(0, vx_fresh_echo());
}

VX_TEST_F_TIMEOUT(stress, backend_closed_under_worker_cycles, 900)
{
	unsigned int i, n = scale(20);
	struct net_fx nd;

	STRESS_REQUIRE_DEVS();
	ASSERT_EQ(0, net_up(&nd));
	for (i = 0; i < n; i++) {
		char name[IFNAMSIZ] = "";
		int t = vg_tap_open(name, HLEN, 0);

		ASSERT_LE(0, t);
		ASSERT_EQ(0, vg_net_set_backend(&nd.d, i % 2, t));
		ASSERT_EQ(0, vg_net_set_backend(&nd.d, !(i % 2), t));
		/* Traffic queued, then the only fd of the backend closed. */
		if (nd.tx.num_free > 4 && nd.rx.num_free > 4) {
			uint8_t *b = vg_alloc(&nd.d, 4096, 64);

			if (b) {
				memset(b, 0, HLEN);
				vg_frame_make(b + HLEN, 500, i);
				vg_vq_add_buf(&nd.tx, b, HLEN + 500, NULL, 0, b);
				vg_vq_add_buf(&nd.rx, NULL, 0, b + 2048, 2048, b);
				vg_vq_kick(&nd.tx);
				vg_vq_kick(&nd.rx);
			}
		}
		close(t);
		if (i % 3 == 0)
			ASSERT_EQ(0, vg_net_set_backend(&nd.d, i % 2, -1));
		while (vg_vq_get_used(&nd.tx, NULL, NULL) >= 0)
			;
		while (vg_vq_get_used(&nd.rx, NULL, NULL) >= 0)
			;
	}
	ASSERT_EQ(0, vg_net_attach(&nd.d, nd.tap));
	net_down(&nd, false);
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

		vg_fill(out, len, (unsigned int)e->done);
		h = vg_vq_add_buf(e->vq, out, (uint32_t)len, in, (uint32_t)len, out);
		if (h < 0) {
			e->error = -ENOSPC;
			break;
		}
		vg_vq_kick(e->vq);
		if (!vg_vq_wait_used(e->vq, 1, VX_TIMEOUT_MS))
			e->error = -ETIMEDOUT;
		else if (vg_vq_get_used(e->vq, &ulen, &c) != h || ulen != len ||
			 vg_check(in, len, (unsigned int)e->done, 0) >= 0)
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
VX_TEST_F_TIMEOUT(stress, mem_table_replaced_during_traffic, 900)
{
	struct echo_loop e = { 0 };
	struct vhost_memory_region reg[8];
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int i, n = scale(150);
	pthread_t th;
	uint64_t lo, size;

	STRESS_REQUIRE_DEVS();
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
	free_all(&d, &vq);
	ASSERT_EQ(0, vx_fresh_echo());
}

VX_HARNESS_MAIN
