// SPDX-License-Identifier: GPL-2.0
/*
 * abi_test: the ioctls specific to the ring test device /dev/vhostx-test,
 * as upstream's vhost_test defines them (drivers/vhost/test.c):
 *   VHOST_TEST_RUN (int 0/1; anything else EINVAL; owner only; EFAULT if
 *   the ring is not accessible) and VHOST_TEST_SET_BACKEND (a struct
 *   vhost_vring_file {index, fd}: fd -1 stops, index >= 1 is ENOBUFS).
 * The device-generic ioctls are compared against vhost-net in compat_test;
 * what it cannot show is here too: VHOST_SET_FEATURES_ARRAY with a count
 * of 2^64-1 over gigabytes of readable zeros stays bounded (it ends at the
 * first hole, and at once when the caller is killed).
 */
#include <time.h>

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

/*
 * @size bytes: a writable first page (the count and the two words the
 * device keeps), then readable zeros that cost no memory, then a hole.
 */
static uint64_t *zeros_then_hole(size_t size)
{
	uint8_t *p = mmap(NULL, size + 4096, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + size, 4096);
	if (mprotect(p, 4096, PROT_READ | PROT_WRITE)) {
		munmap(p, size);
		return NULL;
	}
	((uint64_t *)p)[0] = ~0ULL;
	return (uint64_t *)p;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Every word of 64 MiB is read, the hole after them ends it: EFAULT. */
VX_TEST_F(abi, features_array_count_ends_at_hole)
{
	size_t size = 64 << 20;
	uint64_t *a = zeros_then_hole(size);

	ASSERT_NE(NULL, a);
	ASSERT_EQ(-EFAULT, vx_ioctl(self->d.fd, VHOST_SET_FEATURES_ARRAY, a));
	munmap(a, size);
}

/*
 * 16 GiB of zeros: minutes of reading under TCG.  The caller is killed
 * while the device reads them and dies within a second.
 */
VX_TEST_F(abi, features_array_count_stops_when_killed)
{
	size_t size = 16ULL << 30;
	struct timespec t0;
	uint64_t *a = zeros_then_hole(size);
	int p[2], status;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		ioctl(self->d.fd, VHOST_SET_FEATURES_ARRAY, a);
		_exit(2);
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	usleep(VX_QUIET_MS * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("the scan ended before the kill: status %#x", status);
	ASSERT_GT(1000L * vx_timeout_scale(), ms_since(&t0));
	munmap(a, size);
}

VX_HARNESS_MAIN
