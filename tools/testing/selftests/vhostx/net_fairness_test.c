// SPDX-License-Identifier: GPL-2.0
/*
 * net_fairness_test: a flood on one queue must not starve the other
 * (CVE-2019-3900 class).  RX and TX of one device share a worker; with a
 * TX ring that never empties, RX frames must still be delivered promptly,
 * and with a tap that never stops receiving, TX must still complete.
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

VX_HARNESS_MAIN
