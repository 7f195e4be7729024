// SPDX-License-Identifier: GPL-2.0
/*
 * abi_test: the ioctls specific to the ring test device /dev/vhostx-test,
 * as upstream's vhost_test defines them (drivers/vhost/test.c):
 *   VHOST_TEST_RUN (int 0/1; anything else EINVAL; owner only; EFAULT if
 *   the ring is not accessible) and VHOST_TEST_SET_BACKEND (a struct
 *   vhost_vring_file {index, fd}: fd -1 stops, index >= 1 is ENOBUFS).
 * The device-generic ioctls are compared against vhost-net in compat_test.
 */
#include "kselftest_harness.h"
#include "vx_common.h"


FIXTURE(abi) {
	struct vg_dev d;
	struct vg_vq vq;
};

FIXTURE_SETUP(abi)
{
	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	ASSERT_EQ(0, vg_open(&self->d, VX_TEST_DEV, 0));
}

FIXTURE_TEARDOWN(abi)
{
	vx_test_teardown(&self->d, &self->vq);
}

static int full_setup(FIXTURE_DATA(abi) *self)
{
	int r = vg_set_owner(&self->d);

	if (!r)
		r = vg_set_features(&self->d, VG_F(VIRTIO_F_VERSION_1));
	if (!r)
		r = vg_set_mem_table(&self->d);
	if (!r)
		r = vg_vq_setup(&self->d, &self->vq, 0, 64, 0);
	return r;
}

/* Upstream VHOST_FEATURES: what every vhost device offers. */
VX_TEST_F(abi, features_offered)
{
	uint64_t f, want = VG_F(VIRTIO_F_NOTIFY_ON_EMPTY) |
		VG_F(VIRTIO_RING_F_INDIRECT_DESC) | VG_F(VIRTIO_RING_F_EVENT_IDX) |
		VG_F(VHOST_F_LOG_ALL) | VG_F(VIRTIO_F_ANY_LAYOUT) |
		VG_F(VIRTIO_F_VERSION_1);

	ASSERT_EQ(0, vg_get_features(&self->d, &f));
	ASSERT_EQ(want, f & want) TH_LOG("offered %#llx", (unsigned long long)f);
	/* Accepted before SET_OWNER, as upstream. */
	ASSERT_EQ(0, vg_set_features(&self->d, want));
}

VX_TEST_F(abi, run_argument_checked)
{
	ASSERT_EQ(0, full_setup(self));
	ASSERT_EQ(-EINVAL, vg_test_run(&self->d, 2));
	ASSERT_EQ(-EINVAL, vg_test_run(&self->d, -1));
	ASSERT_EQ(0, vg_test_run(&self->d, 1));
	ASSERT_EQ(0, vg_test_run(&self->d, 1));	/* idempotent */
	ASSERT_EQ(0, vg_test_run(&self->d, 0));
	ASSERT_EQ(0, vg_test_run(&self->d, 0));
}

VX_TEST_F(abi, run_before_owner_eperm)
{
	ASSERT_EQ(-EPERM, vg_test_run(&self->d, 1));
}

VX_TEST_F(abi, run_from_non_owner_eperm)
{
	ASSERT_EQ(0, full_setup(self));
	ASSERT_EQ(-EPERM, VX_IN_CHILD(vg_test_run(&self->d, 1)));
}

/* No ring addresses at all: the used ring cannot be written. */
VX_TEST_F(abi, run_without_rings_efault)
{
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
	ASSERT_EQ(-EFAULT, vg_test_run(&self->d, 1));
}

/*
 * SET_BACKEND takes struct vhost_vring_file, as tools/virtio/virtio_test.c
 * passes it ({ .index = 0, .fd = 1 } to start, fd -1 to stop).
 */
VX_TEST_F(abi, set_backend_takes_vring_file)
{
	ASSERT_EQ(0, full_setup(self));
	ASSERT_EQ(0, vg_test_set_backend(&self->d, 0, self->d.fd));
	ASSERT_EQ(-EBUSY, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE, 0));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 1));
	ASSERT_EQ(0, vg_test_set_backend(&self->d, 0, -1));	/* stops */
	ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE, 1));
	ASSERT_EQ(-ENOBUFS, vg_test_set_backend(&self->d, 1, self->d.fd));
	ASSERT_EQ(0, vg_test_set_backend(&self->d, 0, self->d.fd));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 2));
}

VX_TEST_F(abi, set_backend_non_owner_eperm)
{
	ASSERT_EQ(0, full_setup(self));
	ASSERT_EQ(-EPERM,
		  VX_IN_CHILD(vg_test_set_backend(&self->d, 0, self->d.fd)));
}

/* Offering a feature does not mean it is on: EVENT_IDX only when acked. */
VX_TEST_F(abi, event_idx_only_when_acked)
{
	ASSERT_EQ(0, full_setup(self));		/* VERSION_1 only */
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
	usleep(50 * 1000);
	/* Without EVENT_IDX the device never writes avail_event. */
	ASSERT_EQ(0, vg_vq_avail_event(&self->vq));
}

VX_HARNESS_MAIN
