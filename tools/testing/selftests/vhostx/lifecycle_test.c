// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test: tearing a /dev/vhostx-test device down with work in
 * flight.  Closing the fd mid-traffic, the owner being SIGKILLed while it
 * floods the ring, RESET_OWNER during traffic, a forked child closing its
 * copy: none may hang or oops (the VM runner checks the kernel log), and
 * a fresh open must work afterwards.
 */
#include "kselftest_harness.h"
#include "vx_common.h"

#define FEAT	(VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX) | \
		 VG_F(VIRTIO_RING_F_INDIRECT_DESC))

VX_TEST_DEV_FIXTURE(life)

VX_TEST_F(life, close_with_buffers_in_flight)
{
	uint8_t *buf;
	int round;

	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, FEAT, 256, 0));
		buf = vg_alloc(&self->d, 128 * 1024, 4096);
		ASSERT_LT(0, vx_flood(&self->vq, buf, 64 * 1024));
		/* Close immediately: the device must drop its work cleanly. */
		vg_close(&self->d);
		vg_vq_free(&self->vq);
	}
	ASSERT_EQ(0, vx_fresh_echo());
}

/* Closing the eventfds first: the device holds its own references. */
VX_TEST_F(life, close_eventfds_before_device)
{
	uint8_t *buf;

	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, FEAT, 256, 0));
	buf = vg_alloc(&self->d, 8192, 4096);
	ASSERT_EQ(0, vx_echo_once(&self->vq, 512, 1));
	vx_flood(&self->vq, buf, 4096);
	vg_vq_free(&self->vq);	/* closes kick/call/err */
	usleep(100 * 1000);
	vg_close(&self->d);
	ASSERT_EQ(0, vx_fresh_echo());
}

/* The owner: a device flooded, reaped and refilled until it is killed. */
static void flooding_owner(struct __test_metadata *_metadata, int ready,
			   void *arg)
{
	struct vg_dev d;
	struct vg_vq vq;
	uint8_t *buf;

	if (vx_test_setup(&d, &vq, FEAT, 256, 0))
		_exit(1);
	buf = vg_alloc(&d, 8192, 4096);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (;;) {
		vx_flood(&vq, buf, 4096);
		while (vg_vq_get_used(&vq, NULL, NULL) >= 0)
			;
	}
}

/* The owner is SIGKILLed while flooding; the device is torn down by exit. */
VX_TEST_F_TIMEOUT(life, owner_killed_mid_traffic, 90)
{
	int round;

	for (round = 0; round < 5; round++) {
		char c;
		pid_t pid = vx_spawn(_metadata, flooding_owner, NULL, &c, 1);

		usleep(200 * 1000 + round * 50 * 1000);
		vx_kill(_metadata, pid);
	}
	ASSERT_EQ(0, vx_fresh_echo());
}

/* The owner exits while a child still holds the fd: device stays sane. */
VX_TEST_F(life, owner_exits_child_keeps_fd)
{
	int status, p[2];
	pid_t pid;
	char c = 0;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vg_dev d;
		struct vg_vq vq;
		pid_t gc;

		close(p[0]);
		if (vx_test_setup(&d, &vq, FEAT, 64, 0) ||
		    vx_echo_once(&vq, 64, 1))
			_exit(1);
		gc = fork();
		if (gc == 0) {
			/* Not the owner: ioctls refused, close is fine. */
			int r = vg_vq_set_state(&vq, VHOST_SET_VRING_BASE, 0);

			sleep(1);	/* outlive the owner */
			(void)!write(p[1], r == -EPERM ? "p" : "x", 1);
			vg_close(&d);
			_exit(0);
		}
		_exit(gc > 0 ? 0 : 3);	/* owner exits with device open */
	}
	close(p[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, read(p[0], &c, 1));
	ASSERT_EQ('p', c) TH_LOG("non-owner ioctl was not refused with EPERM");
	close(p[0]);
	ASSERT_EQ(0, vx_fresh_echo());
}

/* RESET_OWNER with traffic queued, then become owner again and reuse. */
VX_TEST_F(life, reset_owner_during_traffic)
{
	uint8_t *buf;

	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, FEAT, 256, 0));
	buf = vg_alloc(&self->d, 128 * 1024, 4096);
	vx_flood(&self->vq, buf, 32 * 1024);
	ASSERT_EQ(0, vg_reset_owner(&self->d));
	/* Reset: not owned any more. */
	ASSERT_EQ(-EPERM, vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM, 256));
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_features(&self->d, FEAT));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
	ASSERT_EQ(0, vg_vq_program(&self->vq, 0));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 777, 5));
	vg_test_stop(&self->d);
}

/* Stop/start the backend repeatedly while buffers keep coming. */
VX_TEST_F_TIMEOUT(life, stop_start_under_load, 90)
{
	unsigned int inflight;
	uint8_t *buf;
	int i;

	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, FEAT, 256, 0));
	buf = vg_alloc(&self->d, 16384, 4096);
	for (i = 0; i < 50; i++) {
		vx_flood(&self->vq, buf, 4096);
		ASSERT_EQ(0, vg_test_stop(&self->d));
		while (vg_vq_get_used(&self->vq, NULL, NULL) >= 0)
			;
		ASSERT_EQ(0, vg_test_start(&self->d));
	}
	/* Everything queued eventually completes (2 descriptors each). */
	inflight = (self->vq.num - self->vq.num_free) / 2;
	vg_vq_notify(&self->vq);
	if (inflight)
		ASSERT_LE(inflight, (unsigned int)vg_vq_wait_used(&self->vq,
					inflight, VX_TIMEOUT_MS));
	vg_test_stop(&self->d);
}

VX_HARNESS_MAIN
