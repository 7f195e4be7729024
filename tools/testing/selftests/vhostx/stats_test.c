// SPDX-License-Identifier: GPL-2.0
/*
 * Per-queue statistics, read the way an operator or a VMM would: from
 * /proc/self/fdinfo/<fd> of the descriptor it holds (and the debugfs file
 * that fdinfo names).  The counters must match the traffic exactly.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "vguest.h"
#include "vx_common.h"
#include "kselftest_harness.h"

struct vx_stats {
	unsigned long long kicks, runs, bufs, bytes, calls, suppressed,
			   batches, yields, errors, misses, drops;
	unsigned int num, last_avail, last_used;
	int broken;
};

/* Parse the "vhostx-<vq> ..." line of vq @index from @path. */
static int read_stats(const char *path, const char *prefix, int index,
		      struct vx_stats *s, char *dev_name, size_t name_len)
{
	char line[512], fmt[256];
	FILE *f = fopen(path, "r");
	int found = -ENOENT, vq;

	if (!f)
		return -errno;
	snprintf(fmt, sizeof(fmt),
		 "%s%%d %%u %%u %%u %%d %%llu %%llu %%llu %%llu %%llu %%llu %%llu %%llu %%llu %%llu %%llu",
		 prefix);
	while (fgets(line, sizeof(line), f)) {
		if (dev_name && !strncmp(line, "vhostx-dev:", 11))
			sscanf(line + 11, "%63s", dev_name);
		if (sscanf(line, fmt, &vq, &s->num, &s->last_avail,
			   &s->last_used, &s->broken, &s->kicks, &s->runs,
			   &s->bufs, &s->bytes, &s->calls, &s->suppressed,
			   &s->batches, &s->yields, &s->errors, &s->misses,
			   &s->drops) == 16 && vq == index)
			found = 0;
	}
	(void)name_len;
	fclose(f);
	return found;
}

static int fdinfo_stats(int fd, struct vx_stats *s, char *dev_name)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return read_stats(path, "vhostx-", 0, s, dev_name, 64);
}

FIXTURE(stats) {
	struct vg_dev d;
	struct vg_vq vq;
};

FIXTURE_SETUP(stats)
{
	int r;

	self->d.fd = -1;
	VX_REQUIRE_DEV(VX_TEST_DEV);
	r = vx_test_setup(&self->d, &self->vq, 1ULL << VIRTIO_F_VERSION_1,
			  64, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
}

FIXTURE_TEARDOWN(stats)
{
	if (self->d.fd >= 0)
		vg_test_stop(&self->d);
	vg_vq_free(&self->vq);
	vg_close(&self->d);
}

TEST_F(stats, fresh_device_is_zero)
{
	struct vx_stats s;
	char name[64] = "";

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, fdinfo_stats(self->d.fd, &s, name));
	EXPECT_EQ(0, strncmp(name, "test-", 5)) TH_LOG("dev name '%s'", name);
	EXPECT_EQ(64, s.num);
	EXPECT_EQ(0, s.bufs);
	EXPECT_EQ(0, s.bytes);
	EXPECT_EQ(0, s.errors);
	EXPECT_EQ(0, s.broken);
}

/* N echo buffers of L bytes: exactly N used entries and N * L bytes. */
TEST_F(stats, counts_match_traffic)
{
	const unsigned int n = 40, len = 300;
	struct vx_stats s;
	unsigned int i;

	VX_SETUP_SKIPPED();
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, vx_echo_once(&self->vq, len, i));
	ASSERT_EQ(0, fdinfo_stats(self->d.fd, &s, NULL));
	EXPECT_EQ(n, s.bufs);
	EXPECT_EQ((unsigned long long)n * len, s.bytes);
	EXPECT_EQ(n, s.last_avail);
	EXPECT_EQ(n, s.last_used);
	EXPECT_LE(1, s.kicks);
	EXPECT_LE(1, s.calls);
	EXPECT_LE(s.batches, s.bufs);
	EXPECT_EQ(0, s.errors);
}

/* A guest error shows as errors == 1 and the queue marked stopped. */
TEST_F(stats, guest_error_counted)
{
	struct vx_stats s;

	VX_SETUP_SKIPPED();
	/* A head past the ring. */
	vg_vq_raw_push(&self->vq, 64 + 3);
	vg_vq_kick(&self->vq);
	ASSERT_LT(0, vg_wait_eventfd(self->vq.err_fd, VX_TIMEOUT_MS));
	ASSERT_EQ(0, fdinfo_stats(self->d.fd, &s, NULL));
	EXPECT_EQ(1, s.errors);
	EXPECT_EQ(1, s.broken);
	EXPECT_EQ(0, s.bufs);
}

/* fdinfo names the debugfs directory holding the same counters. */
TEST_F(stats, debugfs_matches_fdinfo)
{
	struct vx_stats a, b;
	char name[64] = "", path[128];

	VX_SETUP_SKIPPED();
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 7));
	ASSERT_EQ(0, fdinfo_stats(self->d.fd, &a, name));
	if (access("/sys/kernel/debug/vhostx", F_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(path, sizeof(path), "/sys/kernel/debug/vhostx/%s/stats", name);
	if (access(path, R_OK))
		SKIP(return, "debugfs not available (%s)", path);
	ASSERT_EQ(0, read_stats(path, "", 0, &b, NULL, 0));
	EXPECT_EQ(a.bufs, b.bufs);
	EXPECT_EQ(a.bytes, b.bytes);
	EXPECT_EQ(1, b.bufs);
}

VX_HARNESS_MAIN
