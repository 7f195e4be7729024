// SPDX-License-Identifier: GPL-2.0
/*
 * abi_test: the ioctls specific to the ring test device /dev/vhostx-test,
 * as upstream's vhost_test defines them (drivers/vhost/test.c):
 *   VHOST_TEST_RUN (int 0/1; anything else EINVAL; owner only; EFAULT if
 *   the ring is not accessible) and VHOST_TEST_SET_BACKEND (a struct
 *   vhost_vring_file {index, fd}: fd -1 stops, index >= 1 is ENOBUFS).
 * The device-generic ioctls are compared against vhost-net in compat_test.
 */
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define F(b)	(1ULL << (b))

FIXTURE(abi) {
	struct vg_dev d;
	struct vg_vq vq;
};

FIXTURE_SETUP(abi)
{
	self->d.fd = -1;
	memset(&self->vq, 0, sizeof(self->vq));
	self->vq.kick_fd = self->vq.call_fd = self->vq.err_fd = -1;
	VX_REQUIRE_DEV(VX_TEST_DEV);
	ASSERT_EQ(0, vg_open(&self->d, VX_TEST_DEV, 0));
}

FIXTURE_TEARDOWN(abi)
{
	if (self->d.fd >= 0)
		vg_test_stop(&self->d);
	vg_vq_free(&self->vq);
	vg_close(&self->d);
}

static int full_setup(FIXTURE_DATA(abi) *self)
{
	int r = vg_set_owner(&self->d);

	if (!r)
		r = vg_set_features(&self->d, F(VIRTIO_F_VERSION_1));
	if (!r)
		r = vg_set_mem_table(&self->d);
	if (!r)
		r = vg_vq_setup(&self->d, &self->vq, 0, 64, 0);
	return r;
}

/* Upstream VHOST_FEATURES: what every vhost device offers. */
TEST_F(abi, features_offered)
{
	uint64_t f, want = F(VIRTIO_F_NOTIFY_ON_EMPTY) |
		F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_RING_F_EVENT_IDX) |
		F(VHOST_F_LOG_ALL) | F(VIRTIO_F_ANY_LAYOUT) |
		F(VIRTIO_F_VERSION_1);

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, vg_get_features(&self->d, &f));
	ASSERT_EQ(want, f & want) TH_LOG("offered %#llx", (unsigned long long)f);
	/* Accepted before SET_OWNER, as upstream. */
	ASSERT_EQ(0, vg_set_features(&self->d, want));
}

TEST_F(abi, run_argument_checked)
{
	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, full_setup(self));
	ASSERT_EQ(-EINVAL, vg_test_run(&self->d, 2));
	ASSERT_EQ(-EINVAL, vg_test_run(&self->d, -1));
	ASSERT_EQ(0, vg_test_run(&self->d, 1));
	ASSERT_EQ(0, vg_test_run(&self->d, 1));	/* idempotent */
	ASSERT_EQ(0, vg_test_run(&self->d, 0));
	ASSERT_EQ(0, vg_test_run(&self->d, 0));
}

TEST_F(abi, run_before_owner_eperm)
{
	VX_SETUP_SKIPPED();
	ASSERT_EQ(-EPERM, vg_test_run(&self->d, 1));
}

TEST_F(abi, run_from_non_owner_eperm)
{
	int status;
	pid_t pid;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, full_setup(self));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(-vg_test_run(&self->d, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(EPERM, WEXITSTATUS(status));
}

/* No ring addresses at all: the used ring cannot be written. */
TEST_F(abi, run_without_rings_efault)
{
	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
	ASSERT_EQ(-EFAULT, vg_test_run(&self->d, 1));
}

/*
 * SET_BACKEND takes struct vhost_vring_file, as tools/virtio/virtio_test.c
 * passes it ({ .index = 0, .fd = 1 } to start, fd -1 to stop).
 */
TEST_F(abi, set_backend_takes_vring_file)
{
	VX_SETUP_SKIPPED();
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

TEST_F(abi, set_backend_non_owner_eperm)
{
	int status;
	pid_t pid;

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, full_setup(self));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(-vg_test_set_backend(&self->d, 0, self->d.fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(EPERM, WEXITSTATUS(status));
}

/* Offering a feature does not mean it is on: EVENT_IDX only when acked. */
TEST_F(abi, event_idx_only_when_acked)
{
	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, full_setup(self));		/* VERSION_1 only */
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
	usleep(50 * 1000);
	/* Without EVENT_IDX the device never writes avail_event. */
	ASSERT_EQ(0, vg_vq_avail_event(&self->vq));
}

VX_HARNESS_MAIN
