// SPDX-License-Identifier: GPL-2.0
/*
 * linger_test: a worker that ran work spins for more before it sleeps
 * (vhostx.ko's worker_linger_ns, adaptive; Documentation/vhostx/design.rst,
 * "Lingering"), on /dev/vhostx-test.
 *
 * The driver (this program, on CPU 0) echoes one buffer at a time and
 * waits a fixed gap between seeing the used entry and adding the next
 * buffer; the worker is moved to CPU 1, where nothing else runs.  How often
 * the worker slept is its voluntary context switches; the CPU it used is
 * its run time in /proc/<tid>/schedstat.
 *
 * - A gap well inside the window: the worker is still spinning when the
 *   next kick comes, so it sleeps for few of the buffers.
 * - The same with lingering off: it sleeps for nearly every buffer (so the
 *   first case measures lingering, not luck).
 * - A gap longer than the window (sparse traffic): the window stays shut,
 *   the worker sleeps every time and uses no CPU spinning.
 *
 * Lingering needs a CPU to itself: with one CPU the test cannot show it
 * and is skipped.
 */
#include <sched.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define LINGER_PARAM	"/sys/module/vhostx/parameters/worker_linger_ns"
/* The module's cap on the window: 1 ms. */
#define LINGER_MAX_NS	1000000
#define WARMUP		40

FIXTURE(linger) {
	struct vg_dev d;
	struct vg_vq vq;
	char saved[32];
	pid_t worker;
	uint8_t *out, *in;
};

/* The tid of @owner's worker (a thread of it, or a kthread), or 0. */
static pid_t find_worker(pid_t owner)
{
	const char *dirs[] = { "/proc/self/task", "/proc" };
	char path[64];
	struct dirent *e;
	pid_t tid = 0;
	unsigned int i;
	DIR *d;

	for (i = 0; i < ARRAY_SIZE(dirs) && !tid; i++) {
		d = opendir(dirs[i]);
		if (!d)
			continue;
		while (!tid && (e = readdir(d))) {
			if (e->d_name[0] < '1' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "%s/%d/comm", dirs[i],
				 atoi(e->d_name));
			if (vx_comm_is_worker(path, owner))
				tid = atoi(e->d_name);
		}
		closedir(d);
	}
	return tid;
}

/*
 * The first value in /proc/<tid>/@file that @fmt (one %lld) matches on a
 * line, or -1.
 */
static long long proc_value(pid_t tid, const char *file, const char *fmt)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", tid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The worker's voluntary context switches (its sleeps), or -1. */
static long long worker_sleeps(pid_t tid)
{
	return proc_value(tid, "status", "voluntary_ctxt_switches: %lld");
}

/* The worker's time on a CPU in ns, or -1. */
static long long worker_cpu_ns(pid_t tid)
{
	return proc_value(tid, "schedstat", "%lld");
}

static int pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) ? -errno : 0;
}

FIXTURE_SETUP(linger)
{
	vx_fixture_init(&self->d, &self->vq);
	self->saved[0] = 0;
	VX_REQUIRE_DEV(VX_TEST_DEV);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: a worker never lingers on a shared CPU");
	ASSERT_EQ(0, vx_param_read(LINGER_PARAM, self->saved, sizeof(self->saved)));
	ASSERT_EQ(0, vg_open(&self->d, VX_TEST_DEV, 0));
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_features(&self->d, VG_F(VIRTIO_F_VERSION_1)));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
	ASSERT_EQ(0, vg_vq_setup(&self->d, &self->vq, 0, 64, 0));
	ASSERT_EQ(0, vg_test_start(&self->d));
	self->worker = find_worker(getpid());
	ASSERT_NE(0, self->worker);
	ASSERT_EQ(0, pin(0, 0));
	ASSERT_EQ(0, pin(self->worker, 1));
	self->out = vg_alloc(&self->d, 64, 64);
	self->in = vg_alloc(&self->d, 64, 64);
	ASSERT_NE(NULL, self->out);
	ASSERT_NE(NULL, self->in);
}

FIXTURE_TEARDOWN(linger)
{
	if (self->saved[0])
		vx_param_write(LINGER_PARAM, self->saved);
	vx_test_teardown(&self->d, &self->vq);
}

static void spin_us(int64_t us)
{
	int64_t end = vg_now_us() + us;

	while (vg_now_us() < end)
		;
}

/*
 * @n echoes of one buffer each, @gap_us of driver time between seeing a
 * used entry and adding the next buffer; the worker's sleeps and CPU time
 * over them (after WARMUP echoes that let the window adapt).
 */
static void echoes(struct __test_metadata *_metadata,
		   FIXTURE_DATA(linger) *self, unsigned int n, int64_t gap_us,
		   long long *sleeps, long long *cpu_ns)
{
	long long s0 = 0, c0 = 0;
	uint32_t len;
	void *cookie;
	unsigned int i;

	for (i = 0; i < WARMUP + n; i++) {
		if (i == WARMUP) {
			s0 = worker_sleeps(self->worker);
			c0 = worker_cpu_ns(self->worker);
			ASSERT_LE(0, s0);
			ASSERT_LE(0, c0);
		}
		vg_fill(self->out, 64, i);
		ASSERT_LE(0, vg_vq_add_buf(&self->vq, self->out, 64,
					   self->in, 64, self->out));
		vg_vq_kick(&self->vq);
		ASSERT_EQ(1, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
		ASSERT_LE(0, vg_vq_get_used(&self->vq, &len, &cookie));
		ASSERT_EQ(64, len);
		ASSERT_GT(0, vg_check(self->in, 64, i, 0));
		spin_us(gap_us);
	}
	*sleeps = worker_sleeps(self->worker) - s0;
	*cpu_ns = worker_cpu_ns(self->worker) - c0;
	TH_LOG("%u echoes, gap %lld us: worker slept %lld times, ran %lld us",
	       n, (long long)gap_us, *sleeps, *cpu_ns / 1000);
}

/* Steady traffic inside the window: few sleeps. */
VX_TEST_F(linger, steady_traffic_sleeps_rarely)
{
	long long sleeps, cpu_ns;
	char val[16];

	snprintf(val, sizeof(val), "%d", LINGER_MAX_NS);
	ASSERT_EQ(0, vx_param_write(LINGER_PARAM, val));
	echoes(_metadata, self, 400, 50, &sleeps, &cpu_ns);
	ASSERT_LT(sleeps, 400 / 4);
}

/* The same with lingering off: a sleep for nearly every buffer. */
VX_TEST_F(linger, off_sleeps_every_time)
{
	long long sleeps, cpu_ns;

	ASSERT_EQ(0, vx_param_write(LINGER_PARAM, "0"));
	echoes(_metadata, self, 400, 50, &sleeps, &cpu_ns);
	ASSERT_GE(sleeps, 400 / 2);
}

/*
 * Sparse traffic (gaps ten times the longest window): the window stays
 * shut, so the worker sleeps every time and spends less than half a
 * window per buffer more than with lingering off (lingering each time
 * would cost a whole one).
 */
VX_TEST_F(linger, sparse_traffic_does_not_spin)
{
	long long sleeps, cpu_ns, base_ns;
	char val[16];

	ASSERT_EQ(0, vx_param_write(LINGER_PARAM, "0"));
	echoes(_metadata, self, 30, 10 * LINGER_MAX_NS / 1000, &sleeps,
	       &base_ns);
	snprintf(val, sizeof(val), "%d", LINGER_MAX_NS);
	ASSERT_EQ(0, vx_param_write(LINGER_PARAM, val));
	echoes(_metadata, self, 30, 10 * LINGER_MAX_NS / 1000, &sleeps,
	       &cpu_ns);
	ASSERT_GE(sleeps, 30 / 2);
	ASSERT_LT(cpu_ns, base_ns + 30LL * LINGER_MAX_NS / 2);
}

VX_HARNESS_MAIN
