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
 * its CPU-time clock.
 *
 * - A gap well inside the window: the worker is still spinning when the
 *   next kick comes, so it sleeps for few of the buffers.
 * - The same with lingering off: it sleeps for nearly every buffer (so the
 *   first case measures lingering, not luck).
 * - Gaps longer than the window, after traffic that opened it: the
 *   window shuts within a few gaps, so the worker's CPU time over the
 *   next gaps is that of lingering off.
 *
 * Lingering needs a CPU to itself: with one CPU the test cannot show it
 * and is skipped.
 */
#include <sched.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define LINGER_PARAM	"/sys/module/vhostx/parameters/worker_linger_ns"
/* The module's cap on the window: 1 ms. */
#define LINGER_MAX_NS	1000000

FIXTURE(linger) {
	struct vg_dev d;
	struct vg_vq vq;
	char saved[32];
	pid_t worker;
	bool thread;
	uint8_t *out, *in;
};

/*
 * The tid of @owner's worker (a thread of it, or a kthread), or 0;
 * *@thread: whether it is a thread of this process.
 */
static pid_t find_worker(pid_t owner, bool *thread)
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
			if (vx_comm_is_worker(path, owner)) {
				tid = atoi(e->d_name);
				*thread = i == 0;
			}
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

/*
 * The worker's CPU time in ns, or -1: a thread of ours has a thread CPU
 * clock; a kthread is a process of its own, with a process CPU clock.
 */
static long long worker_cpu_ns(pid_t tid, bool thread)
{
	struct timespec ts;
	clockid_t clk;

	if (thread)
		clk = ((~(clockid_t)tid) << 3) | 6;	/* CPUCLOCK_PERTHREAD, SCHED */
	else if (clock_getcpuclockid(tid, &clk))
		return -1;
	if (clock_gettime(clk, &ts))
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
	self->worker = find_worker(getpid(), &self->thread);
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
 * @warmup, then @n, echoes of one buffer each, @gap_us of driver time
 * between seeing a used entry and adding the next buffer; the worker's
 * sleeps and CPU time over the @n (after the warm-up let the window
 * adapt), and the mean wall time of one of them less the gap.
 */
static void echoes(struct __test_metadata *_metadata,
		   FIXTURE_DATA(linger) *self, unsigned int warmup,
		   unsigned int n, int64_t gap_us, long long *sleeps,
		   long long *cpu_ns, long long *echo_us)
{
	long long s0 = 0, c0 = 0;
	int64_t t0 = 0;
	uint32_t len;
	void *cookie;
	unsigned int i;

	for (i = 0; i < warmup + n; i++) {
		if (i == warmup) {
			s0 = worker_sleeps(self->worker);
			c0 = worker_cpu_ns(self->worker, self->thread);
			t0 = vg_now_us();
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
	*cpu_ns = worker_cpu_ns(self->worker, self->thread) - c0;
	*echo_us = n ? (vg_now_us() - t0) / n - gap_us : 0;
	TH_LOG("%u echoes, gap %lld us: worker slept %lld times, ran %lld us; an echo took %lld us",
	       n, (long long)gap_us, *sleeps, *cpu_ns / 1000, *echo_us);
}

static void set_linger(struct __test_metadata *_metadata, int ns)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", ns);
	ASSERT_EQ(0, vx_param_write(LINGER_PARAM, val));
}

/*
 * Steady traffic inside the window: few sleeps.  Where an echo itself
 * takes most of the window (a debug kernel, a loaded host), the gap the
 * worker sees is not inside it, and the test cannot show lingering.
 */
VX_TEST_F(linger, steady_traffic_sleeps_rarely)
{
	long long sleeps, cpu_ns, echo_us;

	set_linger(_metadata, LINGER_MAX_NS);
	echoes(_metadata, self, 40, 400, 50, &sleeps, &cpu_ns, &echo_us);
	if (sleeps >= 400 / 4 && echo_us > LINGER_MAX_NS / 1000 / 2)
		SKIP(return, "an echo takes %lld us here, over half the %d us window",
		     echo_us, LINGER_MAX_NS / 1000);
	ASSERT_LT(sleeps, 400 / 4);
}

/* The same with lingering off: a sleep for nearly every buffer. */
VX_TEST_F(linger, off_sleeps_every_time)
{
	long long sleeps, cpu_ns, echo_us;

	set_linger(_metadata, 0);
	echoes(_metadata, self, 40, 400, 50, &sleeps, &cpu_ns, &echo_us);
	ASSERT_GE(sleeps, 400 / 2);
}

/*
 * Gaps of 700 us open the window (the worker spins for most of each);
 * gaps of 1.5 ms, longer than its 1 ms maximum, then shut it within the
 * 10 warm-up gaps: over the next 30 the worker uses less than half a
 * window of CPU per gap more than with lingering off.  A window that did
 * not adapt would cost a whole one per gap.  (Whether the idle time
 * counts the linger, as it must, is not told apart here: under TCG
 * waking a sleeping vCPU takes a few hundred microseconds, which blurs
 * the difference.)
 */
VX_TEST_F(linger, longer_gaps_shut_the_window)
{
	long long sleeps, cpu_ns, base_ns, echo_us;
	int64_t gap = 3 * LINGER_MAX_NS / 2 / 1000;

	set_linger(_metadata, 0);
	echoes(_metadata, self, 20, 0, 700, &sleeps, &base_ns, &echo_us);
	echoes(_metadata, self, 10, 30, gap, &sleeps, &base_ns, &echo_us);
	set_linger(_metadata, LINGER_MAX_NS);
	echoes(_metadata, self, 20, 0, 700, &sleeps, &cpu_ns, &echo_us);
	echoes(_metadata, self, 10, 30, gap, &sleeps, &cpu_ns, &echo_us);
	ASSERT_LT(cpu_ns, base_ns + 30LL * LINGER_MAX_NS / 2);
}

VX_HARNESS_MAIN
