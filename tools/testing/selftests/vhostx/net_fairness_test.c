// SPDX-License-Identifier: GPL-2.0
/*
 * net_fairness_test: a flood on one queue must not starve the other
 * (CVE-2019-3900 class).  RX and TX of one device share a worker; with a
 * TX ring that never empties, RX frames must still be delivered promptly,
 * and with a tap that never stops receiving, TX must still complete.
 * The budget of one handler run is vhostx_net's weight and byte_weight
 * parameters, writable at run time.
 */
#include <pthread.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define RING	256
#define HLEN	12
#define FLEN	1000
#define ROUNDS	20

FIXTURE(fair) {
	struct net_fx n;
	volatile bool stop;
	unsigned long flood;	/* RX buffers the flooding thread reaped */
};

FIXTURE_SETUP(fair)
{
	net_fx_init(&self->n);
	NET_REQUIRE_DEV();
	ASSERT_EQ(0, net_fx_up(&self->n, VG_F(VIRTIO_F_VERSION_1), RING));
}

FIXTURE_TEARDOWN(fair)
{
	vx_param_write("/sys/module/vhostx_net/parameters/byte_weight",
			"524288");
	net_fx_teardown(&self->n);
}

VX_TEST_F(fair, tx_flood_does_not_starve_rx)
{
	struct net_pump p;
	uint8_t frame[128];
	unsigned int i;
	long worst = 0;

	net_pump_init(_metadata, &p, &self->n, FLEN);
	ASSERT_EQ(0, net_rx_post(&self->n, 64, 2048));
	/* Our capture socket would fill with the flood: not needed here. */
	net_pump_start(_metadata, &p);
	usleep(200 * 1000);
	for (i = 0; i < ROUNDS; i++) {
		int64_t t0 = vg_now_us();
		uint32_t len;
		void *c;

		vg_frame_make(frame, sizeof(frame), 100 + i);
		ASSERT_EQ(0, vg_frame_inject(self->n.pkt, self->n.ifname, frame,
					     sizeof(frame)));
		for (;;) {
			ASSERT_LE(0, net_wait_used(&self->n.rx, &len, &c,
						   VX_TIMEOUT_MS))
				TH_LOG("RX frame %u starved by the TX flood", i);
			if (len == HLEN + sizeof(frame) &&
			    vg_frame_ok((uint8_t *)c + HLEN, sizeof(frame),
					100 + i))
				break;
		}
		if ((vg_now_us() - t0) / 1000 > worst)
			worst = (vg_now_us() - t0) / 1000;
		ASSERT_LE(0, vg_vq_add_buf(&self->n.rx, NULL, 0, c, 2048, c));
		vg_vq_kick(&self->n.rx);
	}
	net_pump_stop(&p);
	ASSERT_EQ(0, p.error);
	/* And the flood itself moved. */
	ASSERT_LT(RING, p.done);
	TH_LOG("worst RX latency under TX flood: %ld ms, %lu TX buffers",
	       worst, p.done);
}

/* Keep the tap's queue full and recycle RX buffers. */
static void *fair_rx_flood(void *arg)
{
	FIXTURE_DATA(fair) *self = arg;
	uint8_t frame[FLEN];

	vg_frame_make(frame, sizeof(frame), 2);
	while (!self->stop) {
		void *c;
		int k;

		for (k = 0; k < 32; k++)
			if (vg_frame_inject(self->n.pkt, self->n.ifname, frame,
				       sizeof(frame)))
				break;	/* queue full: fine */
		while (vg_vq_get_used(&self->n.rx, NULL, &c) >= 0) {
			self->flood++;
			vg_vq_add_buf(&self->n.rx, NULL, 0, c, 2048, c);
		}
		vg_vq_kick(&self->n.rx);
	}
	return NULL;
}

VX_TEST_F(fair, rx_flood_does_not_starve_tx)
{
	pthread_t th;
	unsigned int i;
	long worst = 0;

	ASSERT_EQ(0, net_rx_post(&self->n, RING, 2048));
	ASSERT_EQ(0, pthread_create(&th, NULL, fair_rx_flood, self));
	usleep(200 * 1000);
	for (i = 0; i < ROUNDS; i++) {
		int64_t t0 = vg_now_us();

		ASSERT_NE(NULL, net_tx_frame(&self->n, 128, 200 + i));
		ASSERT_LE(0, net_wait_used(&self->n.tx, NULL, NULL,
					   VX_TIMEOUT_MS))
			TH_LOG("TX buffer %u starved by the RX flood", i);
		if ((vg_now_us() - t0) / 1000 > worst)
			worst = (vg_now_us() - t0) / 1000;
	}
	self->stop = true;
	pthread_join(th, NULL);
	ASSERT_LT(0, self->flood);
	TH_LOG("worst TX latency under RX flood: %ld ms, %lu RX buffers",
	       worst, self->flood);
}

#define BYTE_WEIGHT_PARAM	"/sys/module/vhostx_net/parameters/byte_weight"
#define BYTE_WEIGHT_DEFAULT	"524288"
#define BW_PKTS			64
#define BW_BUDGET		4096

/*
 * Queue @count TX frames of FLEN bytes, kick once, wait until all are
 * used; return how many TX runs yielded meanwhile.
 */
static uint64_t fair_tx_burst(struct __test_metadata *_metadata,
			      struct net_fx *n, unsigned int count)
{
	uint64_t yields0 = NET_COUNTER(n, 1, "yields");
	unsigned int i;

	for (i = 0; i < count; i++) {
		uint8_t *b = vg_alloc(&n->d, n->hlen + FLEN, 64);

		ASSERT_NE(NULL, b);
		memset(b, 0, n->hlen);
		vg_frame_make(b + n->hlen, FLEN, 300 + i);
		ASSERT_LE(0, vg_vq_add_buf(&n->tx, b, (uint32_t)(n->hlen + FLEN),
					   NULL, 0, b));
	}
	vg_vq_kick(&n->tx);
	ASSERT_TRUE(vg_vq_wait_used(&n->tx, count, VX_TIMEOUT_MS))
		TH_LOG("TX burst of %u frames not completed", count);
	for (i = 0; i < count; i++)
		ASSERT_LE(0, vg_vq_get_used(&n->tx, NULL, NULL));
	return NET_COUNTER(n, 1, "yields") - yields0;
}

/*
 * A TX run yields once it has moved byte_weight bytes (socket header
 * included), read at each run: 64 frames in one kick take no yield with
 * the default 512 KiB, and one per full budget with 4 KiB.
 */
VX_TEST_F(fair, tx_yields_at_byte_weight)
{
	size_t len = self->n.hlen + FLEN;	/* what one frame counts */
	unsigned int per_run = (BW_BUDGET + len - 1) / len;
	char val[16];
	int r;

	if (net_dev_is_upstream())
		SKIP(return, "vhostx only (byte_weight, yields)");
	/* A run must not be cut by the packet weight instead. */
	ASSERT_GT(256, BW_PKTS);
	ASSERT_EQ(-EINVAL, vx_param_write(BYTE_WEIGHT_PARAM, "0"));
	r = vx_param_write(BYTE_WEIGHT_PARAM, BYTE_WEIGHT_DEFAULT);
	ASSERT_EQ(0, r) TH_LOG("%s: %s", BYTE_WEIGHT_PARAM, strerror(-r));
	ASSERT_EQ(0, fair_tx_burst(_metadata, &self->n, BW_PKTS));

	snprintf(val, sizeof(val), "%d", BW_BUDGET);
	ASSERT_EQ(0, vx_param_write(BYTE_WEIGHT_PARAM, val));
	/* The last run yields only if it used its whole budget. */
	ASSERT_EQ(BW_PKTS / per_run, fair_tx_burst(_metadata, &self->n,
						   BW_PKTS))
		TH_LOG("runs of %u frames expected with byte_weight %d",
		       per_run, BW_BUDGET);
	ASSERT_EQ(0, vx_param_write(BYTE_WEIGHT_PARAM, BYTE_WEIGHT_DEFAULT));
}

VX_HARNESS_MAIN
