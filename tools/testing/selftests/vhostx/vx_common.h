/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vhostx selftests (header-only, static inline, so
 * each test is one .c file).  Include after kselftest_harness.h.
 *
 * Helpers that need no harness (taps, frames, counters, patterns) live in
 * the vguest library (tools/lib/vguest); what is here runs in a test's
 * context (_metadata) or defines how tests are declared:
 *
 *   VX_TEST_F(fixture, name)              instead of TEST_F
 *   VX_TEST_F_TIMEOUT(fixture, name, s)   instead of TEST_F_TIMEOUT
 *   VX_TEST_F_IF(fixture, name, cond)     runs only for the variants where
 *                                         cond (an expression of `variant`)
 *                                         holds; the others do not list it
 *   VX_TEST_F_IF_TIMEOUT(f, n, cond, s)   the same with a timeout
 *   VX_HARNESS_MAIN                       instead of TEST_HARNESS_MAIN
 *
 * TEST_F, TEST_F_TIMEOUT, TEST_F_SIGNAL and TEST_HARNESS_MAIN are poisoned
 * below: using one is a compile error.
 */
#ifndef VX_COMMON_H
#define VX_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "vguest.h"
#include "vguest_net.h"
#include "vguest_stats.h"

#define VX_TEST_DEV	VG_VHOSTX_TEST
#define VX_NET_DEV	VG_VHOSTX_NET
#define VHOST_NET_DEV	VG_VHOST_NET

/*
 * VX_TIMEOUT_SCALE (environment, integer 1..100, default 1) multiplies
 * every wait below and each test's harness timeout: the debug kernel
 * (KASAN, lockdep) under TCG runs 10-30x slower than the stock one.
 */
static inline int vx_timeout_scale(void)
{
	static int scale;
	const char *s;

	if (!scale) {
		s = getenv("VX_TIMEOUT_SCALE");
		scale = s ? atoi(s) : 1;
		if (scale < 1)
			scale = 1;
		if (scale > 100)
			scale = 100;
	}
	return scale;
}

/* Generous: guests run under TCG, often nested. */
#define VX_TIMEOUT_MS	(5000 * vx_timeout_scale())
/* How long to watch for something that must NOT happen. */
#define VX_QUIET_MS	(300 * vx_timeout_scale())

/* ---- declaring tests ---- */

/* Which (variant, test) pairs VX_TEST_F_IF() restricts, and to what. */
struct vx_filter {
	const struct __test_metadata *test;
	bool (*applies)(const void *variant);
	struct vx_filter *next;
};

static struct vx_filter *vx_filters;

static inline bool vx_applies(const struct __test_metadata *t,
			      const struct __fixture_variant_metadata *v)
{
	const struct vx_filter *f;

	for (f = vx_filters; f; f = f->next)
		if (f->test == t)
			return f->applies(v->data);
	return true;
}

/*
 * A fixture test whose body is skipped when FIXTURE_SETUP() called SKIP():
 * the 6.1 kselftest_harness.h runs the body anyway, and its failures would
 * then be reported as a skip.
 */
#define __VX_TEST_F(fixture, name, tmout)				\
	static void vx_##fixture##_##name(struct __test_metadata *,	\
					  FIXTURE_DATA(fixture) *,	\
					  const FIXTURE_VARIANT(fixture) *); \
	__TEST_F_IMPL(fixture, name, -1, tmout)				\
	{								\
		if (!_metadata->skip)					\
			vx_##fixture##_##name(_metadata, self, variant); \
	}

#define __VX_TEST_F_BODY(fixture, name)					\
	static void vx_##fixture##_##name(				\
		struct __test_metadata __attribute__((unused)) *_metadata, \
		FIXTURE_DATA(fixture) __attribute__((unused)) *self,	\
		const FIXTURE_VARIANT(fixture) __attribute__((unused)) *variant)

#define VX_TEST_F_TIMEOUT(fixture, name, tmout)				\
	__VX_TEST_F(fixture, name, tmout)				\
	__VX_TEST_F_BODY(fixture, name)

#define VX_TEST_F(fixture, name)					\
	VX_TEST_F_TIMEOUT(fixture, name, TEST_TIMEOUT_DEFAULT)

#define VX_TEST_F_IF(fixture, name, cond)				\
	VX_TEST_F_IF_TIMEOUT(fixture, name, cond, TEST_TIMEOUT_DEFAULT)

#define VX_TEST_F_IF_TIMEOUT(fixture, name, cond, tmout)		\
	__VX_TEST_F(fixture, name, tmout)				\
	static bool vx_applies_##fixture##_##name(const void *data)	\
	{								\
		const FIXTURE_VARIANT(fixture) *variant = data;		\
									\
		return (cond);						\
	}								\
	static struct vx_filter vx_filter_##fixture##_##name = {	\
		.test = &_##fixture##_##name##_object,			\
		.applies = vx_applies_##fixture##_##name,		\
	};								\
	static void __attribute__((constructor))			\
	vx_register_##fixture##_##name(void)				\
	{								\
		vx_filter_##fixture##_##name.next = vx_filters;		\
		vx_filters = &vx_filter_##fixture##_##name;		\
	}								\
	__VX_TEST_F_BODY(fixture, name)

/*
 * The 6.1 harness's test_harness_run(), plus: every test's timeout is
 * scaled by VX_TIMEOUT_SCALE, and a (variant, test) pair that
 * VX_TEST_F_IF() excludes is neither run nor counted.
 */
static inline int vx_harness_run(void)
{
	struct __fixture_variant_metadata no_variant = { .name = "" }, *v;
	unsigned int cases = 0, tests = 0, count = 0, passes = 0;
	struct __test_results *results;
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int ret = 0;

	(void)test_harness_run;		/* replaced by this function */
	for (f = __fixture_list; f; f = f->next) {
		for (t = f->tests; t; t = t->next)
			t->timeout *= vx_timeout_scale();
		for (v = f->variant ?: &no_variant; v; v = v->next, cases++)
			for (t = f->tests; t; t = t->next)
				tests += vx_applies(t, v);
	}
	results = mmap(NULL, sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ksft_print_header();
	ksft_set_plan(tests);
	ksft_print_msg("Starting %u tests from %u test cases.\n", tests, cases);
	for (f = __fixture_list; f; f = f->next) {
		for (v = f->variant ?: &no_variant; v; v = v->next) {
			for (t = f->tests; t; t = t->next) {
				if (!vx_applies(t, v))
					continue;
				count++;
				t->results = results;
				__run_test(f, v, t);
				t->results = NULL;
				if (t->passed)
					passes++;
				else
					ret = 1;
			}
		}
	}
	munmap(results, sizeof(*results));
	ksft_print_msg("%s: %u / %u tests passed.\n", ret ? "FAILED" : "PASSED",
		       passes, count);
	ksft_exit(ret == 0);
	return KSFT_FAIL;
}

#define VX_HARNESS_MAIN							\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(void)							\
	{								\
		return vx_harness_run();				\
	}

#undef TEST_F
#undef TEST_F_TIMEOUT
#undef TEST_F_SIGNAL
#undef TEST_HARNESS_MAIN
#pragma GCC poison TEST_F TEST_F_TIMEOUT TEST_F_SIGNAL TEST_HARNESS_MAIN

/* SKIP the current test (harness context) when @path is absent. */
#define VX_REQUIRE_DEV(path) do {					\
	if (access((path), F_OK))					\
		SKIP(return, "%s not present (module not loaded?)", (path)); \
} while (0)

/* ---- counters (by name: vguest_stats.h) ---- */

/*
 * Counter @name of virtqueue @vq of the vhostx device open as @fd.  A
 * counter that cannot be read fails the test.
 */
static inline uint64_t vx_counter(struct __test_metadata *_metadata, int fd,
				  unsigned int vq, const char *name)
{
	uint64_t v = 0;
	int r = vg_counter(fd, vq, name, &v);

	ASSERT_EQ(0, r) TH_LOG("counter '%s' of vq %u: %s", name, vq,
			       strerror(-r));
	return v;
}

#define VX_COUNTER(fd, vq, name) vx_counter(_metadata, (fd), (vq), (name))

/*
 * The same from counters read at once with vg_stats_read() (several
 * counters of one moment).
 */
static inline uint64_t vx_stat(struct __test_metadata *_metadata,
			       const struct vg_stats *s, unsigned int vq,
			       const char *name)
{
	uint64_t v = 0;

	ASSERT_EQ(0, vg_stats_get(s, vq, name, &v))
		TH_LOG("no counter '%s' for vq %u", name, vq);
	return v;
}

#define VX_STAT(s, vq, name) vx_stat(_metadata, (s), (vq), (name))

/* ---- device set-up ---- */

/* Run an ioctl, return 0 or -errno. */
static inline int vx_ioctl(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg) < 0 ? -errno : 0;
}

/*
 * Fixture start: nothing open yet (so teardown may run after any step of
 * the set-up).  @vq may be NULL.
 */
static inline void vx_fixture_init(struct vg_dev *d, struct vg_vq *vq)
{
	d->fd = -1;
	d->arena = NULL;
	d->log = NULL;
	d->log_fd = -1;
	if (!vq)
		return;
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

/* Fixture end for a /dev/vhostx-test device: stop, free, close. */
static inline void vx_test_teardown(struct vg_dev *d, struct vg_vq *vq)
{
	if (d->fd >= 0)
		vg_test_stop(d);
	vg_vq_free(vq);
	vg_close(d);
}

/* ---- other processes ---- */

/* The result a child passed to _exit(-result), or -ECHILD. */
static inline int vx_child_result(pid_t pid)
{
	int status;

	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

/*
 * Evaluate @expr (an int: 0 or -errno) in a forked child, a process that
 * is not the device's owner, and give its value.
 */
#define VX_IN_CHILD(expr) ({						\
	pid_t __pid = fork();						\
									\
	if (!__pid)							\
		_exit(-(expr));						\
	vx_child_result(__pid);						\
})

/*
 * Fork a child running @child(@_metadata, @ready, @arg) until it is
 * killed: it sets up, then writes @size bytes to @ready (the parent gets
 * them in @msg) and works on.  Returns its pid; a child that does not
 * report ready fails the test.
 */
static inline pid_t vx_spawn(struct __test_metadata *_metadata,
			     void (*child)(struct __test_metadata *, int, void *),
			     void *arg, void *msg, size_t size)
{
	pid_t pid;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		child(_metadata, p[1], arg);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ((ssize_t)size, read(p[0], msg, size))
		TH_LOG("child set-up failed");
	close(p[0]);
	return pid;
}

/* SIGKILL @pid and require that it died of it. */
static inline void vx_kill(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* ---- workers: tasks of the owner or kthreads ---- */

/*
 * Does the running kernel have vhost_task (6.4+, CONFIG_VHOST_TASK)?
 * Then vhostx's workers are tasks of the owner by default and
 * VHOST_SET/GET_FORK_FROM_OWNER choose; without it they are kthreads and
 * the two ioctls are unknown.  Asked of the kernel's symbol table, not of
 * the module under test, so that a module that lost task mode fails.
 */
static inline bool vx_kernel_has_vhost_task(void)
{
	static int known = -1;
	char line[256];
	FILE *f;

	if (known >= 0)
		return known;
	known = 0;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return false;
	while (!known && fgets(line, sizeof(line), f))
		known = !!strstr(line, " vhost_task_create\n");
	fclose(f);
	return known;
}

#define VX_NO_VHOST_TASK	"kernel has no vhost_task: workers are kthreads only"

/* Write a module parameter (its sysfs @path): 0 or -errno. */
static inline int vx_param_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Read a module parameter into @buf (NUL-terminated): 0 or -errno. */
static inline int vx_param_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return n ? -errno : -EIO;
	buf[n] = 0;
	return 0;
}

/* Is the comm of @path ("/proc/<pid>[/task/<tid>]/comm") "vhostx-<@owner>"? */
static inline bool vx_comm_is_worker(const char *path, pid_t owner)
{
	char comm[32], want[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = 0;
	snprintf(want, sizeof(want), "vhostx-%d\n", owner);
	return !strcmp(comm, want);
}

/*
 * How many workers the thread @owner made (named "vhostx-<owner>") are
 * threads of process @pid (task mode)?  -errno if @pid is gone.
 */
static inline int vx_worker_threads(pid_t pid, pid_t owner)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/comm",
				 pid, atoi(e->d_name));
			n += vx_comm_is_worker(path, owner);
		}
	closedir(d);
	return n;
}

/*
 * How many workers @owner made are kthreads (children of kthreadd,
 * pid 2: kthread mode)?
 */
static inline int vx_worker_kthreads(pid_t owner)
{
	char path[64], stat[512], *p;
	struct dirent *e;
	int n = 0, ppid;
	FILE *f;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", atoi(e->d_name));
		if (!vx_comm_is_worker(path, owner))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", atoi(e->d_name));
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(stat, sizeof(stat), f) ? strrchr(stat, ')') : NULL;
		fclose(f);
		if (p && sscanf(p, ") %*c %d", &ppid) == 1 && ppid == 2)
			n++;
	}
	closedir(d);
	return n;
}

/* VHOST_SET_FORK_FROM_OWNER: 0 or -errno. */
static inline int vx_set_fork(int fd, uint8_t mode)
{
	return ioctl(fd, VHOST_SET_FORK_FROM_OWNER, &mode) < 0 ? -errno : 0;
}

/*
 * The whole fixture of tests that set up their own /dev/vhostx-test
 * device in self->d and self->vq (closed after each test).
 */
#define VX_TEST_DEV_FIXTURE(name)					\
	FIXTURE(name) {							\
		struct vg_dev d;					\
		struct vg_vq vq;					\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		vx_fixture_init(&self->d, &self->vq);			\
		VX_REQUIRE_DEV(VX_TEST_DEV);				\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		vx_test_teardown(&self->d, &self->vq);			\
	}

/*
 * Full driver-side set-up of a single-vq device the way QEMU does it:
 * SET_OWNER, GET_FEATURES, SET_FEATURES(@want & offered), SET_MEM_TABLE,
 * then the vring ioctls.  Fails with -EOPNOTSUPP if a wanted feature is not
 * offered.  Does not start the backend.
 */
static inline int vx_dev_setup(struct vg_dev *d, struct vg_vq *vq,
			       const char *path, uint64_t want,
			       unsigned int index, unsigned int num,
			       uint16_t base)
{
	int r = vg_dev_init(d, path, 0, want);

	return r ? r : vg_vq_setup(d, vq, index, num, base);
}

/* Same, then start the /dev/vhostx-test backend. */
static inline int vx_test_setup(struct vg_dev *d, struct vg_vq *vq,
				uint64_t want, unsigned int num, uint16_t base)
{
	int r = vx_dev_setup(d, vq, VX_TEST_DEV, want, 0, num, base);

	return r ? r : vg_test_start(d);
}

/*
 * /dev/vhostx-test with ACCESS_PLATFORM (IOTLB messages v2 if @v2), vq 0
 * of @num entries, its rings mapped 1:1 in the IOTLB as QEMU does before
 * it starts the device (descriptor table and avail ring read-only, the
 * used ring read-write), running; buffers stay unmapped.  0 or -errno:
 * vhostx always offers ACCESS_PLATFORM, so -EOPNOTSUPP fails a test.
 */
static inline int vx_iotlb_test_setup(struct vg_dev *d, struct vg_vq *vq,
				      bool v2, unsigned int num)
{
	int r = vg_dev_init(d, VX_TEST_DEV, 0, VG_F(VIRTIO_F_VERSION_1) |
			    VG_F(VIRTIO_F_ACCESS_PLATFORM));

	if (!r && v2)
		r = vg_set_backend_features(d,
					    VG_F(VHOST_BACKEND_F_IOTLB_MSG_V2));
	if (!r)
		r = vg_vq_setup(d, vq, 0, num, 0);
	if (!r)
		r = vg_iotlb_update(d, vg_gpa(vq->desc), 4096, vg_gpa(vq->desc),
				    VHOST_ACCESS_RO);
	if (!r)
		r = vg_iotlb_update(d, vg_gpa(vq->avail), 4096,
				    vg_gpa(vq->avail), VHOST_ACCESS_RO);
	if (!r)
		r = vg_iotlb_update(d, vg_gpa(vq->used), 4096,
				    vg_gpa(vq->used), VHOST_ACCESS_RW);
	return r ? r : vg_test_start(d);
}

/*
 * Push one echo buffer on a running vhostx-test queue (out pattern @seed,
 * @len bytes; in buffer @len bytes), wait for it and verify used len and
 * bytes.  Returns 0 or a negative code describing the failure.
 */
static inline int vx_echo_once(struct vg_vq *vq, size_t len, unsigned int seed)
{
	uint8_t *out = vg_alloc(vq->dev, len, 64);
	uint8_t *in = vg_alloc(vq->dev, len, 64);
	uint32_t ulen = 0;
	void *cookie = NULL;
	int head;

	if (!out || !in)
		return -ENOMEM;
	vg_fill(out, len, seed);
	head = vg_vq_add_buf(vq, out, (uint32_t)len, in, (uint32_t)len, out);
	if (head < 0)
		return head;
	vg_vq_kick(vq);
	if (!vg_vq_wait_used(vq, 1, VX_TIMEOUT_MS))
		return -ETIMEDOUT;
	if (vg_vq_get_used(vq, &ulen, &cookie) != head || cookie != out)
		return -EPROTO;
	if (ulen != len)
		return -EMSGSIZE;
	if (vg_check(in, len, seed, 0) >= 0)
		return -EILSEQ;
	return 0;
}

/*
 * Fill the free descriptors of @vq with echo buffers (@len bytes out of
 * @buf, @len in after it) and kick, without waiting.  Returns how many.
 */
static inline int vx_flood(struct vg_vq *vq, uint8_t *buf, size_t len)
{
	int n = 0;

	while (vq->num_free >= 2 &&
	       vg_vq_add_buf(vq, buf, (uint32_t)len, buf + len,
			     (uint32_t)len, buf) >= 0)
		n++;
	vg_vq_kick(vq);
	return n;
}

/*
 * A new open of /dev/vhostx-test (EVENT_IDX, indirect descriptors) echoes
 * byte-exact: the device survived what came before.  0 or -errno.
 */
static inline int vx_fresh_echo(void)
{
	uint64_t f = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX) |
		     VG_F(VIRTIO_RING_F_INDIRECT_DESC);
	struct vg_dev d;
	struct vg_vq vq;
	int r = vx_test_setup(&d, &vq, f, 128, 0);

	if (!r)
		r = vx_echo_once(&vq, 1500, 42);
	vx_test_teardown(&d, &vq);
	return r;
}

/* ---- hostile rings on /dev/vhostx-test (hostile_test, cve_ring_test) ---- */

/*
 * Publish what the test wrote into the ring of @vq (a running vhostx-test
 * queue), kick, and require: the error eventfd signalled, the error
 * counted, nothing used; and after another kick still nothing used (the
 * queue stays stalled on the bad chain rather than skipping it).
 */
static inline void vx_expect_rejected(struct __test_metadata *_metadata,
				      struct vg_vq *vq, const char *what)
{
	uint16_t used = vg_vq_used_idx(vq);
	uint64_t err0 = VX_COUNTER(vq->dev->fd, vq->index, "errors");

	vg_read_eventfd(vq->err_fd);
	vg_vq_publish(vq);
	ASSERT_EQ(0, vg_vq_notify(vq));
	ASSERT_LE(1, vg_wait_eventfd(vq->err_fd, VX_TIMEOUT_MS))
		TH_LOG("%s: error eventfd not signalled", what);
	ASSERT_EQ(used, vg_vq_used_idx(vq))
		TH_LOG("%s: device completed a hostile chain", what);
	ASSERT_LT(err0, VX_COUNTER(vq->dev->fd, vq->index, "errors"))
		TH_LOG("%s: error not counted", what);
	ASSERT_EQ(0, vg_vq_notify(vq));
	usleep(VX_QUIET_MS * 1000);
	ASSERT_EQ(used, vg_vq_used_idx(vq))
		TH_LOG("%s: device moved past the hostile chain", what);
}

/*
 * Reset the ring of @vq (backend stopped, rings reprogrammed at base 0,
 * backend restarted) and require byte-exact echoes again, with no error.
 */
static inline void vx_expect_recovers(struct __test_metadata *_metadata,
				      struct vg_vq *vq)
{
	/*
	 * Best effort: upstream refuses even to stop a queue whose ring
	 * addresses fail access_ok (EFAULT), and then it is not running.
	 */
	vg_test_stop(vq->dev);
	ASSERT_EQ(0, vg_vq_program(vq, 0));
	ASSERT_EQ(0, vg_test_start(vq->dev));
	vg_read_eventfd(vq->err_fd);
	ASSERT_EQ(0, vx_echo_once(vq, 64, 2));
	ASSERT_EQ(0, vx_echo_once(vq, 4000, 3));
	ASSERT_EQ(0, vg_read_eventfd(vq->err_fd));
}

#endif /* VX_COMMON_H */
