// SPDX-License-Identifier: GPL-2.0
/*
 * Per-queue statistics, read the way an operator or a VMM would: from
 * /proc/self/fdinfo/<fd> of the descriptor it holds (and the debugfs file
 * that fdinfo names).  The counters must match the traffic exactly.
 */
#include <sys/vfs.h>
#include <linux/magic.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define ST(s, name)	VX_STAT((s), 0, (name))

FIXTURE(stats) {
	struct vg_dev d;
	struct vg_vq vq;
};

FIXTURE_SETUP(stats)
{
	int r;

	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	r = vx_test_setup(&self->d, &self->vq, VG_F(VIRTIO_F_VERSION_1), 64, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
}

FIXTURE_TEARDOWN(stats)
{
	vx_test_teardown(&self->d, &self->vq);
}

VX_TEST_F(stats, fresh_device_is_zero)
{
	struct vg_stats s;

	ASSERT_EQ(0, vg_stats_read(&s, self->d.fd));
	EXPECT_EQ(0, strncmp(s.dev, "test-", 5)) TH_LOG("dev name '%s'", s.dev);
	EXPECT_EQ(64, ST(&s, "num"));
	EXPECT_EQ(0, ST(&s, "bufs"));
	EXPECT_EQ(0, ST(&s, "bytes"));
	EXPECT_EQ(0, ST(&s, "errors"));
	EXPECT_EQ(0, ST(&s, "broken"));
}

/* N echo buffers of L bytes: exactly N used entries and N * L bytes. */
VX_TEST_F(stats, counts_match_traffic)
{
	const unsigned int n = 40, len = 300;
	struct vg_stats s;
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vx_echo_once(&self->vq, len, i));
	ASSERT_EQ(0, vg_stats_read(&s, self->d.fd));
	EXPECT_EQ(n, ST(&s, "bufs"));
	EXPECT_EQ((uint64_t)n * len, ST(&s, "bytes"));
	EXPECT_EQ(n, ST(&s, "last_avail"));
	EXPECT_EQ(n, ST(&s, "last_used"));
	EXPECT_LE(1, ST(&s, "kicks"));
	EXPECT_LE(1, ST(&s, "calls"));
	EXPECT_LE(ST(&s, "batches"), ST(&s, "bufs"));
	EXPECT_EQ(0, ST(&s, "errors"));
}

/* A guest error shows as errors == 1 and the queue marked stopped. */
VX_TEST_F(stats, guest_error_counted)
{
	struct vg_stats s;

	/* A head past the ring. */
	vg_vq_raw_push(&self->vq, 64 + 3);
	vg_vq_kick(&self->vq);
	ASSERT_LT(0, vg_wait_eventfd(self->vq.err_fd, VX_TIMEOUT_MS));
	ASSERT_EQ(0, vg_stats_read(&s, self->d.fd));
	EXPECT_EQ(1, ST(&s, "errors"));
	EXPECT_EQ(1, ST(&s, "broken"));
	EXPECT_EQ(0, ST(&s, "bufs"));
}

/*
 * fdinfo names the debugfs directory holding the same counters (debugfs
 * may be absent: the kernel's configuration, see expected-skips).
 */
VX_TEST_F(stats, debugfs_matches_fdinfo)
{
	struct vg_stats a, b;
	struct statfs sfs;
	char path[128];
	int r;

	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 7));
	ASSERT_EQ(0, vg_stats_read(&a, self->d.fd));
	r = vg_stats_debugfs(self->d.fd, path, sizeof(path));
	/* (It mounted debugfs if the kernel has it.) */
	if (r && (statfs("/sys/kernel/debug", &sfs) ||
		  sfs.f_type != DEBUGFS_MAGIC))
		SKIP(return, "debugfs not available");
	ASSERT_EQ(0, r) TH_LOG("%s: %s", path, strerror(-r));
	ASSERT_EQ(0, vg_stats_read_file(&b, path));
	EXPECT_EQ(ST(&a, "bufs"), ST(&b, "bufs"));
	EXPECT_EQ(ST(&a, "bytes"), ST(&b, "bytes"));
	EXPECT_EQ(1, ST(&b, "bufs"));
}

VX_HARNESS_MAIN
