// SPDX-License-Identifier: GPL-2.0
/*
 * worker_test: the worker ioctls (upstream since 6.5) on /dev/vhostx-test.
 *
 * Semantics follow upstream drivers/vhost/vhost.c: NEW_WORKER returns a
 * fresh id (ENOMEM once the device has one worker per queue besides its
 * default one); ATTACH_VRING_WORKER moves a vq to it (ENODEV for an unknown
 * id, ENOBUFS for a bad vq index); GET_VRING_WORKER reports the vq's
 * worker; FREE_WORKER fails with EBUSY while any vq is attached and ENODEV
 * for an unknown id.  Attaching is done before SET_VRING_KICK, as the uapi
 * header asks.  Traffic must flow on whatever worker the vq ends up on.
 */
#include "kselftest_harness.h"
#include "vx_common.h"

/* VHOST_*_WORKER come from include/uapi/linux/vhostx.h via vguest.h. */


FIXTURE(worker) {
	struct vg_dev d;
	struct vg_vq vq;
	bool vq_ready;
};

FIXTURE_SETUP(worker)
{
	vx_fixture_init(&self->d, &self->vq);
	self->vq_ready = false;
	VX_REQUIRE_DEV(VX_TEST_DEV);
	ASSERT_EQ(0, vg_open(&self->d, VX_TEST_DEV, 0));
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_features(&self->d, VG_F(VIRTIO_F_VERSION_1)));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
}

FIXTURE_TEARDOWN(worker)
{
	if (self->vq_ready) {
		vg_test_stop(&self->d);
		vg_vq_free(&self->vq);
	}
	vg_close(&self->d);
}

static int new_worker(int fd, unsigned int *id)
{
	struct vhost_worker_state s = { .worker_id = 0xdeadbeef };
	int r = vx_ioctl(fd, VHOST_NEW_WORKER, &s);

	*id = s.worker_id;
	return r;
}

static int free_worker(int fd, unsigned int id)
{
	struct vhost_worker_state s = { .worker_id = id };

	return vx_ioctl(fd, VHOST_FREE_WORKER, &s);
}

static int attach(int fd, unsigned int index, unsigned int id)
{
	struct vhost_vring_worker w = { .index = index, .worker_id = id };

	return vx_ioctl(fd, VHOST_ATTACH_VRING_WORKER, &w);
}

static int get_worker(int fd, unsigned int index, unsigned int *id)
{
	struct vhost_vring_worker w = { .index = index, .worker_id = 0xdeadbeef };
	int r = vx_ioctl(fd, VHOST_GET_VRING_WORKER, &w);

	*id = w.worker_id;
	return r;
}

/* Set the vq up (after any attach), start, and push @n echo buffers. */
static void traffic(struct __test_metadata *_metadata,
		    FIXTURE_DATA(worker) *self, unsigned int n)
{
	unsigned int i;

	if (!self->vq_ready) {
		ASSERT_EQ(0, vg_vq_setup(&self->d, &self->vq, 0, 64, 0));
		self->vq_ready = true;
		ASSERT_EQ(0, vg_test_start(&self->d));
	}
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vx_echo_once(&self->vq, 64 + i, i));
}

/* The ABI numbers are upstream's (include/uapi/linux/vhost.h, 6.5+). */
TEST(ioctl_numbers_match_upstream)
{
	ASSERT_EQ(_IOR(0xAF, 0x8, struct vhost_worker_state), VHOST_NEW_WORKER);
	ASSERT_EQ(_IOW(0xAF, 0x9, struct vhost_worker_state), VHOST_FREE_WORKER);
	ASSERT_EQ(_IOW(0xAF, 0x15, struct vhost_vring_worker),
		  VHOST_ATTACH_VRING_WORKER);
	ASSERT_EQ(_IOWR(0xAF, 0x16, struct vhost_vring_worker),
		  VHOST_GET_VRING_WORKER);
	ASSERT_EQ(4, sizeof(struct vhost_worker_state));
	ASSERT_EQ(8, sizeof(struct vhost_vring_worker));
}

VX_TEST_F(worker, default_worker_reported)
{
	unsigned int def = 0xdeadbeef;

	ASSERT_EQ(0, get_worker(self->d.fd, 0, &def));
	ASSERT_NE(0xdeadbeef, def);
	traffic(_metadata, self, 3);
}

/* One queue: room for the default worker and one more (then ENOMEM). */
VX_TEST_F(worker, new_workers_have_distinct_ids)
{
	unsigned int def, a, b;

	ASSERT_EQ(0, get_worker(self->d.fd, 0, &def));
	ASSERT_EQ(0, new_worker(self->d.fd, &a));
	ASSERT_NE(def, a);
	ASSERT_EQ(-ENOMEM, new_worker(self->d.fd, &b));
	ASSERT_EQ(0, attach(self->d.fd, 0, a));
	ASSERT_EQ(0, free_worker(self->d.fd, def));
	ASSERT_EQ(0, new_worker(self->d.fd, &b));
	ASSERT_NE(a, b);
}

VX_TEST_F(worker, attach_get_and_traffic)
{
	unsigned int w, got;

	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	ASSERT_EQ(0, get_worker(self->d.fd, 0, &got));
	ASSERT_EQ(w, got);
	traffic(_metadata, self, 50);
	ASSERT_EQ(0, get_worker(self->d.fd, 0, &got));
	ASSERT_EQ(w, got);
}

VX_TEST_F(worker, free_attached_is_ebusy)
{
	unsigned int w;

	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	ASSERT_EQ(-EBUSY, free_worker(self->d.fd, w));
	traffic(_metadata, self, 5);	/* still fine after the refusal */
}

VX_TEST_F(worker, free_after_detach)
{
	unsigned int def, w, got;

	ASSERT_EQ(0, get_worker(self->d.fd, 0, &def));
	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	ASSERT_EQ(-EBUSY, free_worker(self->d.fd, w));
	ASSERT_EQ(0, attach(self->d.fd, 0, def));
	ASSERT_EQ(0, free_worker(self->d.fd, w));
	ASSERT_EQ(-ENODEV, free_worker(self->d.fd, w));
	ASSERT_EQ(-ENODEV, attach(self->d.fd, 0, w));
	ASSERT_EQ(0, get_worker(self->d.fd, 0, &got));
	ASSERT_EQ(def, got);
	traffic(_metadata, self, 5);
}

/* The default worker is an ordinary worker once nothing uses it. */
VX_TEST_F(worker, free_default_worker)
{
	unsigned int def, w;

	ASSERT_EQ(0, get_worker(self->d.fd, 0, &def));
	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	ASSERT_EQ(-EBUSY, free_worker(self->d.fd, def));
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	ASSERT_EQ(0, free_worker(self->d.fd, def));
	traffic(_metadata, self, 5);
}

VX_TEST_F(worker, unknown_ids_and_indexes)
{
	unsigned int got;

	ASSERT_EQ(-ENODEV, free_worker(self->d.fd, 0xdead));
	ASSERT_EQ(-ENODEV, attach(self->d.fd, 0, 0xdead));
	ASSERT_EQ(-ENOBUFS, attach(self->d.fd, 5, 0));
	ASSERT_EQ(-ENOBUFS, get_worker(self->d.fd, 5, &got));
	ASSERT_EQ(-ENOBUFS, get_worker(self->d.fd, 0xffffffff, &got));
}

/* Another process may not create or free workers. */
VX_TEST_F(worker, non_owner_eperm)
{
	unsigned int w, x;

	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	ASSERT_EQ(-EPERM, VX_IN_CHILD(new_worker(self->d.fd, &x)));
	ASSERT_EQ(-EPERM, VX_IN_CHILD(free_worker(self->d.fd, w)));
	ASSERT_EQ(-EPERM, VX_IN_CHILD(attach(self->d.fd, 0, w)));
	ASSERT_EQ(0, free_worker(self->d.fd, w));
}

/* Workers nobody freed go away with the device; reopening works. */
VX_TEST_F(worker, close_with_workers)
{
	unsigned int w;

	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	traffic(_metadata, self, 3);
	vg_test_stop(&self->d);
	vg_vq_free(&self->vq);
	self->vq_ready = false;
	vg_close(&self->d);

	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, VG_F(VIRTIO_F_VERSION_1),
				   64, 0));
	self->vq_ready = true;
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 1));
}

VX_HARNESS_MAIN
