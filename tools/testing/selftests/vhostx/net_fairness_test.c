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
	struct vg_dev d;
	struct vg_vq rx, tx;
	int tap, pkt;
	char ifname[IFNAMSIZ];
	volatile bool stop;
	unsigned long flood;	/* buffers the flooding thread completed */
	int error;
};

FIXTURE_SETUP(fair)
{
	self->tap = self->pkt = -1;
	self->d.fd = -1;
	NET_REQUIRE_DEV();
	self->ifname[0] = 0;
	ASSERT_EQ(0, net_tap_capture(self->ifname, HLEN, &self->tap,
					     &self->pkt));
	ASSERT_EQ(0, net_dev_setup(&self->d, &self->rx, &self->tx,
				   NET_F(VIRTIO_F_VERSION_1), RING));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 0, self->tap));
	ASSERT_EQ(0, vg_net_set_backend(&self->d, 1, self->tap));
}

FIXTURE_TEARDOWN(fair)
{
	vg_close(&self->d);
	if (self->pkt >= 0)
		close(self->pkt);
	if (self->tap >= 0)
		close(self->tap);
}

static long fair_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Keep the TX ring full. */
static void *fair_tx_flood(void *arg)
{
	FIXTURE_DATA(fair) *self = arg;
	uint8_t *b = vg_alloc(&self->d, HLEN + FLEN, 64);
	memset(b, 0, HLEN);
	net_make_frame(b + HLEN, FLEN, 1);
	while (!self->stop) {
		while (self->tx.num_free)
			if (vg_vq_add_buf(&self->tx, b, HLEN + FLEN, NULL, 0,
					  b) < 0) {
				self->error = 1;
				return NULL;
			}
		vg_vq_kick(&self->tx);
		while (vg_vq_get_used(&self->tx, NULL, NULL) >= 0)
			self->flood++;
		vg_wait_eventfd(self->tx.call_fd, 1);
	}
	return NULL;
}

TEST_F(fair, tx_flood_does_not_starve_rx)
{
	uint8_t frame[128];
	pthread_t th;
	unsigned int i;
	long worst = 0;

	for (i = 0; i < 64; i++) {
		uint8_t *b = vg_alloc(&self->d, 2048, 64);

		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, b, 2048, b));
	}
	vg_vq_kick(&self->rx);
	/* Our capture socket would fill with the flood: not needed here. */
	ASSERT_EQ(0, pthread_create(&th, NULL, fair_tx_flood, self));
	usleep(200 * 1000);
	for (i = 0; i < ROUNDS; i++) {
		struct timespec t0;
		uint32_t len;
		void *c;
		long ms;

		net_make_frame(frame, sizeof(frame), 100 + i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_EQ(0, net_inject(self->pkt, self->ifname, frame,
					sizeof(frame)));
		for (;;) {
			ASSERT_LE(0, net_wait_used(&self->rx, &len, &c,
						   VX_TIMEOUT_MS))
				TH_LOG("RX frame %u starved by the TX flood", i);
			if (len == HLEN + sizeof(frame) &&
			    net_frame_ok((uint8_t *)c + HLEN, sizeof(frame),
					 100 + i))
				break;
		}
		ms = fair_ms_since(&t0);
		if (ms > worst)
			worst = ms;
		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, c, 2048, c));
		vg_vq_kick(&self->rx);
	}
	self->stop = true;
	pthread_join(th, NULL);
	ASSERT_EQ(0, self->error);
	/* And the flood itself moved. */
	ASSERT_LT(RING, self->flood);
	TH_LOG("worst RX latency under TX flood: %ld ms, %lu TX buffers",
	       worst, self->flood);
}

/* Keep the tap's queue full and recycle RX buffers. */
static void *fair_rx_flood(void *arg)
{
	FIXTURE_DATA(fair) *self = arg;
	uint8_t frame[FLEN];

	net_make_frame(frame, sizeof(frame), 2);
	while (!self->stop) {
		void *c;
		int k;

		for (k = 0; k < 32; k++)
			if (net_inject(self->pkt, self->ifname, frame,
				       sizeof(frame)))
				break;	/* queue full: fine */
		while (vg_vq_get_used(&self->rx, NULL, &c) >= 0) {
			self->flood++;
			vg_vq_add_buf(&self->rx, NULL, 0, c, 2048, c);
		}
		vg_vq_kick(&self->rx);
	}
	return NULL;
}

TEST_F(fair, rx_flood_does_not_starve_tx)
{
	uint8_t *b = vg_alloc(&self->d, HLEN + 128, 64);
	pthread_t th;
	unsigned int i;
	long worst = 0;

	for (i = 0; i < RING; i++) {
		uint8_t *r = vg_alloc(&self->d, 2048, 64);

		ASSERT_LE(0, vg_vq_add_buf(&self->rx, NULL, 0, r, 2048, r));
	}
	vg_vq_kick(&self->rx);
	memset(b, 0, HLEN);
	ASSERT_EQ(0, pthread_create(&th, NULL, fair_rx_flood, self));
	usleep(200 * 1000);
	for (i = 0; i < ROUNDS; i++) {
		struct timespec t0;
		long ms;

		net_make_frame(b + HLEN, 128, 200 + i);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_LE(0, vg_vq_add_buf(&self->tx, b, HLEN + 128, NULL, 0,
					   b));
		vg_vq_kick(&self->tx);
		ASSERT_LE(0, net_wait_used(&self->tx, NULL, NULL,
					   VX_TIMEOUT_MS))
			TH_LOG("TX buffer %u starved by the RX flood", i);
		ms = fair_ms_since(&t0);
		if (ms > worst)
			worst = ms;
	}
	self->stop = true;
	pthread_join(th, NULL);
	ASSERT_LT(0, self->flood);
	TH_LOG("worst TX latency under RX flood: %ld ms, %lu RX buffers",
	       worst, self->flood);
}

VX_HARNESS_MAIN
