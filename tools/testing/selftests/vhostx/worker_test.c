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
 *
 * The kind of worker: where the kernel has vhost_task, threads of the
 * owner by default (counted against its RLIMIT_NPROC, ENOMEM when that
 * is reached, as vhost-net), kthreads after VHOST_SET_FORK_FROM_OWNER
 * (KTHREAD), in which mode NEW_WORKER fails with EFAULT as in 7.x;
 * without vhost_task, kthreads only.
 */
#include <sys/mman.h>
#include <sys/resource.h>

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

/*
 * Arguments the kernel cannot read (or answers it cannot write): EFAULT.
 * A NEW_WORKER whose answer cannot be written leaves no worker behind
 * (the one it made is destroyed, as upstream): the room for one more is
 * still there afterwards, and vq 0 stays on its worker.
 */
VX_TEST_F(worker, unreadable_arguments)
{
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	/* Zeroes, read-only: index 0, worker id 0. */
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	int fd = self->d.fd;
	unsigned int def, got, w;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, get_worker(fd, 0, &def));
	ASSERT_EQ(-EFAULT, vx_ioctl(fd, VHOST_NEW_WORKER, ro));
	ASSERT_EQ(-EFAULT, vx_ioctl(fd, VHOST_NEW_WORKER, none));
	ASSERT_EQ(-EFAULT, vx_ioctl(fd, VHOST_FREE_WORKER, none));
	ASSERT_EQ(-EFAULT, vx_ioctl(fd, VHOST_ATTACH_VRING_WORKER, none));
	ASSERT_EQ(-EFAULT, vx_ioctl(fd, VHOST_GET_VRING_WORKER, none));
	ASSERT_EQ(-EFAULT, vx_ioctl(fd, VHOST_GET_VRING_WORKER, ro));
	ASSERT_EQ(0, get_worker(fd, 0, &got));
	ASSERT_EQ(def, got);
	ASSERT_EQ(0, new_worker(fd, &w));
	ASSERT_EQ(-ENOMEM, new_worker(fd, &got));
	traffic(_metadata, self, 2);
	munmap(none, 4096);
	munmap(ro, 4096);
}

/*
 * The order a VMM should not use: attaching a running vq (after its kick
 * was set up), and to the worker it is already on.  Traffic goes on, and
 * attaching twice counts once: after moving the vq away, the worker can
 * be freed.
 */
VX_TEST_F(worker, attach_running_and_twice)
{
	unsigned int def, w, got;

	ASSERT_EQ(0, get_worker(self->d.fd, 0, &def));
	ASSERT_EQ(0, new_worker(self->d.fd, &w));
	traffic(_metadata, self, 2);
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	ASSERT_EQ(0, attach(self->d.fd, 0, w));
	ASSERT_EQ(0, get_worker(self->d.fd, 0, &got));
	ASSERT_EQ(w, got);
	traffic(_metadata, self, 3);
	ASSERT_EQ(-EBUSY, free_worker(self->d.fd, w));
	ASSERT_EQ(0, attach(self->d.fd, 0, def));
	ASSERT_EQ(0, free_worker(self->d.fd, w));
	traffic(_metadata, self, 2);
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

/* Wait until @count workers of @owner are threads and @kcount kthreads. */
static bool workers_are(pid_t owner, int count, int kcount)
{
	int ms;

	for (ms = 0; ms < VX_TIMEOUT_MS; ms += 10) {
		if (vx_worker_threads(getpid(), owner) == count &&
		    vx_worker_kthreads(owner) == kcount)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* Owner, features, memory; vq 0 after the caller's worker ioctls. */
static int owned(struct vg_dev *d)
{
	int r = vg_set_owner(d);

	if (!r)
		r = vg_set_features(d, VG_F(VIRTIO_F_VERSION_1));
	return r ? r : vg_set_mem_table(d);
}

static int run_echo(struct vg_dev *d, struct vg_vq *vq, unsigned int n)
{
	unsigned int i;
	int r = vg_vq_setup(d, vq, 0, 64, 0);

	if (!r)
		r = vg_test_start(d);
	for (i = 0; !r && i < n; i++)
		r = vx_echo_once(vq, 100 + i, i);
	return r;
}

/*
 * The default mode: with vhost_task, every worker is a thread of the
 * owner (in /proc/<owner>/task, named vhostx-<owner>) and none is a
 * kthread; without it the other way round.  Traffic runs on both workers;
 * the threads are gone once the device is closed.
 */
TEST(default_worker_kind)
{
	bool task = vx_kernel_has_vhost_task();
	pid_t me = getpid();
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int w;

	VX_REQUIRE_DEV(VX_TEST_DEV);
	vx_fixture_init(&d, &vq);
	ASSERT_TRUE(workers_are(me, 0, 0));
	ASSERT_EQ(0, vg_open(&d, VX_TEST_DEV, 0));
	ASSERT_EQ(0, owned(&d));
	ASSERT_TRUE(workers_are(me, task, !task))
		TH_LOG("after SET_OWNER: %d threads, %d kthreads, want %s",
		       vx_worker_threads(me, me), vx_worker_kthreads(me),
		       task ? "a thread" : "a kthread");
	ASSERT_EQ(0, new_worker(d.fd, &w));
	ASSERT_TRUE(workers_are(me, 2 * task, 2 * !task));
	ASSERT_EQ(0, attach(d.fd, 0, w));
	ASSERT_EQ(0, run_echo(&d, &vq, 20));
	vx_test_teardown(&d, &vq);
	ASSERT_TRUE(workers_are(me, 0, 0))
		TH_LOG("after close: %d threads, %d kthreads",
		       vx_worker_threads(me, me), vx_worker_kthreads(me));
}

/*
 * VHOST_SET_FORK_FROM_OWNER(KTHREAD) before SET_OWNER: the worker is a
 * kthread, not a thread of the owner, and traffic runs on it; NEW_WORKER
 * is EFAULT in that mode (7.x: only workers the owner's limits count may
 * be added).  RESET_OWNER goes back to task mode.
 */
TEST(kthread_mode_on_request)
{
	pid_t me = getpid();
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int w;
	uint8_t m = 0xa5;

	VX_REQUIRE_DEV(VX_TEST_DEV);
	if (!vx_kernel_has_vhost_task())
		SKIP(return, VX_NO_VHOST_TASK);
	vx_fixture_init(&d, &vq);
	ASSERT_EQ(0, vg_open(&d, VX_TEST_DEV, 0));
	ASSERT_EQ(0, vx_ioctl(d.fd, VHOST_GET_FORK_FROM_OWNER, &m));
	ASSERT_EQ(VHOST_FORK_OWNER_TASK, m);
	ASSERT_EQ(0, vx_set_fork(d.fd, VHOST_FORK_OWNER_KTHREAD));
	ASSERT_EQ(0, owned(&d));
	ASSERT_TRUE(workers_are(me, 0, 1))
		TH_LOG("kthread mode: %d threads, %d kthreads",
		       vx_worker_threads(me, me), vx_worker_kthreads(me));
	ASSERT_EQ(-EFAULT, new_worker(d.fd, &w));
	ASSERT_TRUE(workers_are(me, 0, 1));
	ASSERT_EQ(0, run_echo(&d, &vq, 10));

	vg_test_stop(&d);
	ASSERT_EQ(0, vg_reset_owner(&d));
	ASSERT_TRUE(workers_are(me, 0, 0));
	ASSERT_EQ(0, vx_ioctl(d.fd, VHOST_GET_FORK_FROM_OWNER, &m));
	ASSERT_EQ(VHOST_FORK_OWNER_TASK, m);
	ASSERT_EQ(0, owned(&d));
	ASSERT_TRUE(workers_are(me, 1, 0));
	ASSERT_EQ(0, new_worker(d.fd, &w));
	ASSERT_TRUE(workers_are(me, 2, 0));
	vx_test_teardown(&d, &vq);
	ASSERT_TRUE(workers_are(me, 0, 0));
}

/* A user with no process but the test's child. */
#define NPROC_UID	43219

enum { NP_TASK_OWNER, NP_KT_OWNER, NP_REF_OWNER, NP_TASK_OWNER_RAISED,
       NP_TASK_NEW, NP_KT_NEW, NP_TASK_NEW_RAISED, NP_STEPS };

static const char *const np_names[NP_STEPS] = {
	"SET_OWNER, default mode, NPROC 0",
	"SET_OWNER, kthread mode, NPROC 0",
	"vhost-net SET_OWNER, NPROC 0",
	"SET_OWNER, default mode, NPROC raised",
	"NEW_WORKER, default mode, NPROC 0",
	"NEW_WORKER, kthread mode, NPROC 0",
	"NEW_WORKER, default mode, NPROC raised",
};

static int nproc(rlim_t soft)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = 64 };

	return setrlimit(RLIMIT_NPROC, &rl) ? -errno : 0;
}

/*
 * RLIMIT_NPROC of the owner's user at 0: a task-mode worker is a thread
 * of the owner, so SET_OWNER and NEW_WORKER fail with ENOMEM, as with
 * vhost-net (whose workers are tasks from 6.4), and work once the limit
 * is raised; a kthread is counted against nothing of the owner's (and on
 * a kernel without vhost_task every worker is one).  Run as a user with
 * no capability in a child.
 */
TEST(rlimit_nproc_counts_task_workers)
{
	bool task = vx_kernel_has_vhost_task();
	int want[NP_STEPS] = {
		[NP_TASK_OWNER] = task ? -ENOMEM : 0,
		[NP_TASK_OWNER_RAISED] = task ? 0 : -EBUSY,
		[NP_REF_OWNER] = task ? -ENOMEM : 0,
		[NP_TASK_NEW] = task ? -ENOMEM : 0,
		[NP_KT_NEW] = task ? -EFAULT : 0,
	};
	int *got, i, fd_task, fd_kt, fd_ref;
	unsigned int w;
	pid_t pid;

	VX_REQUIRE_DEV(VX_TEST_DEV);
	got = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, got);
	for (i = 0; i < NP_STEPS; i++)
		got[i] = -EINPROGRESS;
	fd_task = open(VX_TEST_DEV, O_RDWR);
	fd_kt = open(VX_TEST_DEV, O_RDWR);
	fd_ref = open(VHOST_NET_DEV, O_RDWR);
	ASSERT_LE(0, fd_task);
	ASSERT_LE(0, fd_kt);
	if (task)
		ASSERT_EQ(0, vx_set_fork(fd_kt, VHOST_FORK_OWNER_KTHREAD));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgid(NPROC_UID) || setuid(NPROC_UID) || nproc(0))
			_exit(1);
		got[NP_TASK_OWNER] = vx_ioctl(fd_task, VHOST_SET_OWNER, NULL);
		got[NP_KT_OWNER] = vx_ioctl(fd_kt, VHOST_SET_OWNER, NULL);
		if (fd_ref >= 0)
			got[NP_REF_OWNER] = vx_ioctl(fd_ref, VHOST_SET_OWNER,
						     NULL);
		if (nproc(64))
			_exit(2);
		got[NP_TASK_OWNER_RAISED] = vx_ioctl(fd_task, VHOST_SET_OWNER,
						     NULL);
		if (nproc(0))
			_exit(3);
		got[NP_TASK_NEW] = new_worker(fd_task, &w);
		got[NP_KT_NEW] = new_worker(fd_kt, &w);
		if (nproc(64))
			_exit(4);
		/* On 6.1 the first NEW_WORKER took the room there was. */
		if (!task)
			got[NP_TASK_NEW_RAISED] = 0;
		else
			got[NP_TASK_NEW_RAISED] = new_worker(fd_task, &w);
		_exit(0);
	}
	ASSERT_EQ(0, vx_child_result(pid));
	for (i = 0; i < NP_STEPS; i++) {
		if (i == NP_REF_OWNER && fd_ref < 0)
			continue;
		EXPECT_EQ(want[i], got[i]) TH_LOG("%s", np_names[i]);
	}
	close(fd_task);
	close(fd_kt);
	if (fd_ref >= 0)
		close(fd_ref);
	munmap(got, 4096);
}

VX_HARNESS_MAIN
