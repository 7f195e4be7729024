// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test: tearing a /dev/vhostx-test device down with work in
 * flight.  Closing the fd mid-traffic, the owner being SIGKILLed while it
 * floods the ring, RESET_OWNER during traffic, a forked child closing its
 * copy: none may hang or oops (the VM runner checks the kernel log), and
 * a fresh open must work afterwards.
 *
 * Where workers are tasks of the owner (a kernel with vhost_task), they
 * die with it: SIGKILL ends them between two works, and the device,
 * still open in another process, must finish every flush and close.
 */
#include <pthread.h>

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

/* Fill the ring, reap, refill, until killed. */
static void __attribute__((noreturn)) flood_forever(struct vg_vq *vq,
						    uint8_t *buf)
{
	for (;;) {
		vx_flood(vq, buf, 4096);
		while (vg_vq_get_used(vq, NULL, NULL) >= 0)
			;
	}
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
	flood_forever(&vq, buf);
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

struct kept_owner {
	struct vg_dev *d;
	bool kthread;
};

/* Move vq 0 between two workers for ever: each move flushes the old one. */
static void *reattach_loop(void *arg)
{
	const int *ids = arg;
	struct vhost_vring_worker w = { .index = 0 };
	unsigned long i;

	for (i = 0;; i++) {
		w.worker_id = ids[1 + (i & 1)];
		if (vx_ioctl(ids[0], VHOST_ATTACH_VRING_WORKER, &w))
			_exit(5);
	}
	return NULL;
}

/*
 * The owner, in a child, of a device its parent opened and keeps open:
 * the ring flooded and refilled; in task mode a second worker and a
 * thread moving the queue between the two, until it is killed.
 */
static void owner_of_kept_device(struct __test_metadata *_metadata,
				 int ready, void *arg)
{
	struct kept_owner *k = arg;
	struct vhost_vring_worker vw = { .index = 0 };
	struct vhost_worker_state ws;
	static int ids[3];
	struct vg_vq vq;
	pthread_t t;
	uint8_t *buf;

	memset(&vq, 0, sizeof(vq));
	if (vg_set_owner(k->d) || vg_set_features(k->d, FEAT) ||
	    vg_set_mem_table(k->d))
		_exit(1);
	if (!k->kthread) {
		if (vx_ioctl(k->d->fd, VHOST_GET_VRING_WORKER, &vw) ||
		    vx_ioctl(k->d->fd, VHOST_NEW_WORKER, &ws))
			_exit(2);
		ids[0] = k->d->fd;
		ids[1] = vw.worker_id;
		ids[2] = ws.worker_id;
	}
	if (vg_vq_setup(k->d, &vq, 0, 256, 0) || vg_test_start(k->d))
		_exit(3);
	buf = vg_alloc(k->d, 8192, 4096);
	if (!k->kthread && pthread_create(&t, NULL, reattach_loop, ids))
		_exit(4);
	if (write(ready, "r", 1) != 1)
		_exit(6);
	flood_forever(&vq, buf);
}

/*
 * The owner is SIGKILLed while another process holds the device.  Task
 * mode (where the kernel has vhost_task): its two workers are threads of
 * it and are gone when it is reaped, with a flush (the queue moving
 * between them) in flight; kthread mode: the worker stays until the
 * device is closed.  Either way the survivor is refused as non-owner,
 * closes without hanging, and the device works afterwards.
 */
VX_TEST_F_TIMEOUT(life, owner_killed_device_kept, 180)
{
	bool task = vx_kernel_has_vhost_task();
	struct kept_owner k = { .d = &self->d };
	int mode, round, ms;

	for (mode = 0; mode < 2; mode++) {
		/* Mode 0: task mode if the kernel has it; 1: kthread mode. */
		k.kthread = mode || !task;
		for (round = 0; round < 3; round++) {
			bool kt = k.kthread;
			pid_t pid;
			char c;

			ASSERT_EQ(0, vg_open(&self->d, VX_TEST_DEV, 0));
			if (kt && task)
				ASSERT_EQ(0, vx_set_fork(self->d.fd,
						VHOST_FORK_OWNER_KTHREAD));
			pid = vx_spawn(_metadata, owner_of_kept_device, &k,
				       &c, 1);
			usleep(100 * 1000 + round * 100 * 1000);
			ASSERT_EQ(kt ? 0 : 2, vx_worker_threads(pid, pid));
			ASSERT_EQ(kt ? 1 : 0, vx_worker_kthreads(pid));
			vx_kill(_metadata, pid);
			/* Reaped: its threads, workers included, are gone. */
			ASSERT_GT(0, vx_worker_threads(pid, pid));
			ASSERT_EQ(kt ? 1 : 0, vx_worker_kthreads(pid));
			ASSERT_EQ(-EPERM, vx_ioctl(self->d.fd, VHOST_SET_VRING_NUM,
				  &(struct vhost_vring_state){ 0, 256 }));
			vg_close(&self->d);
			for (ms = 0; vx_worker_kthreads(pid) && ms < VX_TIMEOUT_MS;
			     ms += 10)
				usleep(10 * 1000);
			ASSERT_EQ(0, vx_worker_kthreads(pid));
		}
		if (!task)
			break;
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
