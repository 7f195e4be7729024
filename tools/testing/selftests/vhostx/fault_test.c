// SPDX-License-Identifier: GPL-2.0
/*
 * fault_test: every allocation a VMM's ioctl makes vhostx do may fail.
 *
 * A kernel with fault injection (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_
 * DEBUG_FS: the debug kernel of make check-debug) fails the n-th slab
 * allocation of one system call of this thread when n is written to
 * /proc/thread-self/fail-nth.  For each step of a VMM's set-up of a
 * device (open, SET_OWNER, SET_FEATURES, SET_MEM_TABLE, the vring ioctls,
 * workers, IOTLB updates, SET_BACKEND), and for n = 1, 2, ... until the
 * step makes no n-th allocation, a fresh device is set up to that step,
 * the step runs with its n-th allocation failing, and then:
 *
 *   - the step either succeeded (the failure was absorbed) or returned
 *     ENOMEM, never another errno;
 *   - the same step without a fault succeeds (nothing half-done is left
 *     behind that makes the retry fail);
 *   - the rest of the set-up succeeds and the device moves data: bytes
 *     echoed by the test backend, or a frame each way through a tap;
 *   - the kernel log stays clean and kmemleak finds nothing (vm-run).
 *
 * A second case fails a share of the slab allocations the workers make
 * while they move packets (failslab's task filter, make-it-fail on the
 * worker threads): drops are allowed, a stuck queue, an error or a report
 * are not, and traffic is whole again once the faults stop.
 *
 * Without fault injection in the kernel (Debian's kernels) the program
 * skips; that skip is listed for Debian's kernels only, so the debug run
 * fails if it cannot inject.
 */
#include <dirent.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "vx_common.h"
#include "net_common.h"

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
/* Far more than any step allocates: a step that never stops is a bug. */
#define MAX_NTH		200

/* ---- fault injection ---- */

static int debugfs_write(const char *name, const char *val)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), FAILSLAB "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		r = -errno;
	close(fd);
	return r;
}

static long debugfs_read(const char *name)
{
	char path[128], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), FAILSLAB "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -EIO;
}

/*
 * failslab for allocations that may sleep too (GFP_KERNEL and the
 * _ACCOUNT ones vhostx makes: failslab ignores them by default), silent
 * (its messages would look like a report), and nothing random.
 */
static int failslab_setup(void)
{
	int r = debugfs_write("ignore-gfp-wait", "N");

	if (!r)
		r = debugfs_write("verbose", "0");
	if (!r)
		r = debugfs_write("probability", "0");
	if (!r)
		r = debugfs_write("task-filter", "N");
	return r;
}

static void failslab_restore(void)
{
	debugfs_write("probability", "0");
	debugfs_write("task-filter", "N");
	debugfs_write("times", "1");
	debugfs_write("ignore-gfp-wait", "Y");
}

static bool fault_injection_available(void)
{
	return !access(FAIL_NTH, W_OK) && !access(FAILSLAB "times", W_OK);
}

/* The fail-nth file of this thread, opened once (open() allocates). */
static int nth_fd = -1;

static int nth_set(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	return pwrite(nth_fd, b, l, 0) == l ? 0 : -errno;
}

/* After a call: was the armed fault injected (the counter reached 0)? */
static bool nth_fired(void)
{
	char b[16] = "";

	if (pread(nth_fd, b, sizeof(b) - 1, 0) <= 0)
		return false;
	return strtoul(b, NULL, 10) == 0;
}

/* ---- the devices, set up one system call per step ---- */

enum fx_kind { FX_TEST, FX_TEST_IOTLB, FX_NET };

struct fx {
	enum fx_kind kind;
	const char *path;
	struct vg_dev d;
	struct vg_vq vq[2];	/* test: vq[0]; net: rx, tx */
	unsigned int nvqs;
	uint64_t features;
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r;
	} mem;
	unsigned int worker;
	/* net */
	int tap, pkt;
	char ifname[IFNAMSIZ];
	size_t hlen;
};

typedef int (*step_fn)(struct fx *f, unsigned int arg);

struct step {
	const char *name;
	step_fn fn;
	unsigned int arg;
};

static int st_open(struct fx *f, unsigned int arg)
{
	f->d.fd = open(f->path, O_RDWR | O_CLOEXEC);
	return f->d.fd < 0 ? -errno : 0;
}

static int st_owner(struct fx *f, unsigned int arg)
{
	return vx_ioctl(f->d.fd, VHOST_SET_OWNER, NULL);
}

static int st_features(struct fx *f, unsigned int arg)
{
	return vg_set_features(&f->d, f->features);
}

static int st_backend_features(struct fx *f, unsigned int arg)
{
	uint64_t bf = VG_F(VHOST_BACKEND_F_IOTLB_MSG_V2);

	return vx_ioctl(f->d.fd, VHOST_SET_BACKEND_FEATURES, &bf);
}

static int st_mem(struct fx *f, unsigned int arg)
{
	return vx_ioctl(f->d.fd, VHOST_SET_MEM_TABLE, &f->mem);
}

static int st_num(struct fx *f, unsigned int i)
{
	return vg_vq_set_state(&f->vq[i], VHOST_SET_VRING_NUM, f->vq[i].num);
}

static int st_base(struct fx *f, unsigned int i)
{
	return vg_vq_set_state(&f->vq[i], VHOST_SET_VRING_BASE, 0);
}

static int st_addr(struct fx *f, unsigned int i)
{
	return vg_vq_set_addr(&f->vq[i], 0, 0);
}

static int st_kick(struct fx *f, unsigned int i)
{
	return vg_vq_set_file(&f->vq[i], VHOST_SET_VRING_KICK, f->vq[i].kick_fd);
}

static int st_call(struct fx *f, unsigned int i)
{
	return vg_vq_set_file(&f->vq[i], VHOST_SET_VRING_CALL, f->vq[i].call_fd);
}

static int st_err(struct fx *f, unsigned int i)
{
	return vg_vq_set_file(&f->vq[i], VHOST_SET_VRING_ERR, f->vq[i].err_fd);
}

static int st_new_worker(struct fx *f, unsigned int arg)
{
	struct vhost_worker_state s = { .worker_id = ~0u };
	int r = vx_ioctl(f->d.fd, VHOST_NEW_WORKER, &s);

	f->worker = s.worker_id;
	return r;
}

static int st_attach_worker(struct fx *f, unsigned int i)
{
	struct vhost_vring_worker w = { .index = i, .worker_id = f->worker };

	return vx_ioctl(f->d.fd, VHOST_ATTACH_VRING_WORKER, &w);
}

/* The whole arena mapped read-write in the IOTLB, as one update. */
static int st_iotlb(struct fx *f, unsigned int arg)
{
	return vg_iotlb_update(&f->d, vg_gpa(f->d.arena), f->d.arena_size,
			       vg_gpa(f->d.arena), VHOST_ACCESS_RW);
}

static int st_test_backend(struct fx *f, unsigned int arg)
{
	return vg_test_set_backend(&f->d, 0, f->d.fd);
}

static int st_test_run(struct fx *f, unsigned int arg)
{
	return vg_test_run(&f->d, 1);
}

static int st_net_backend(struct fx *f, unsigned int i)
{
	return vg_net_set_backend(&f->d, i, f->tap);
}

#define VQ_STEPS(i)							\
	{ "SET_VRING_NUM", st_num, i },					\
	{ "SET_VRING_BASE", st_base, i },				\
	{ "SET_VRING_ADDR", st_addr, i },				\
	{ "SET_VRING_KICK", st_kick, i },				\
	{ "SET_VRING_CALL", st_call, i },				\
	{ "SET_VRING_ERR", st_err, i }

static const struct step test_steps[] = {
	{ "open", st_open },
	{ "SET_OWNER", st_owner },
	{ "SET_FEATURES", st_features },
	{ "SET_MEM_TABLE", st_mem },
	{ "NEW_WORKER", st_new_worker },
	VQ_STEPS(0),
	{ "ATTACH_VRING_WORKER", st_attach_worker, 0 },
	{ "TEST_SET_BACKEND", st_test_backend },
	{ "TEST_RUN", st_test_run },
};

static const struct step iotlb_steps[] = {
	{ "open", st_open },
	{ "SET_OWNER", st_owner },
	{ "SET_FEATURES", st_features },
	{ "SET_BACKEND_FEATURES", st_backend_features },
	{ "SET_MEM_TABLE", st_mem },
	VQ_STEPS(0),
	{ "IOTLB_UPDATE", st_iotlb },
	{ "TEST_SET_BACKEND", st_test_backend },
	{ "TEST_RUN", st_test_run },
};

static const struct step net_steps[] = {
	{ "open", st_open },
	{ "SET_OWNER", st_owner },
	{ "SET_FEATURES", st_features },
	{ "SET_MEM_TABLE", st_mem },
	VQ_STEPS(0),
	VQ_STEPS(1),
	{ "NET_SET_BACKEND rx", st_net_backend, 0 },
	{ "NET_SET_BACKEND tx", st_net_backend, 1 },
};

/* Close the device, and make a new arena and rings: nothing open. */
static int fx_reset(struct fx *f)
{
	unsigned int i;
	int r;

	for (i = 0; i < f->nvqs; i++)
		vg_vq_free(&f->vq[i]);
	vg_close(&f->d);
	r = vg_open(&f->d, f->path, 0);
	if (r)
		return r;
	close(f->d.fd);
	f->d.fd = -1;
	for (i = 0; i < f->nvqs && !r; i++)
		r = vg_vq_init(&f->d, &f->vq[i], i, 64);
	f->mem.m.nregions = 1;
	f->mem.r = (struct vhost_memory_region){
		.guest_phys_addr = vg_gpa(f->d.arena),
		.memory_size = f->d.arena_size,
		.userspace_addr = vg_gpa(f->d.arena),
	};
	return r;
}

static void fx_close(struct fx *f)
{
	unsigned int i;

	for (i = 0; i < f->nvqs; i++)
		vg_vq_free(&f->vq[i]);
	vg_close(&f->d);
	if (f->pkt >= 0)
		close(f->pkt);
	if (f->tap >= 0)
		close(f->tap);
	f->pkt = f->tap = -1;
}

/* The test backend echoes one buffer: 0, or what went wrong. */
static const char *fx_echo(struct fx *f)
{
	struct vg_vq *vq = &f->vq[0];
	uint8_t *out = vg_alloc(&f->d, 256, 64);
	uint8_t *in = vg_alloc(&f->d, 256, 64);
	struct iovec sg[2] = { { out, 256 }, { in, 256 } };
	uint32_t len = 0;
	void *c = NULL;

	if (!out || !in)
		return "arena full";
	vg_fill(out, 256, 7);
	if (vg_vq_add(vq, sg, 1, 1, out, 0) < 0)
		return "ring full";
	vg_vq_kick(vq);
	if (!vg_vq_wait_used(vq, 1, VX_TIMEOUT_MS))
		return "no used buffer";
	vg_vq_get_used(vq, &len, &c);
	if (len != 256 || c != out)
		return "wrong used entry";
	if (vg_check(in, 256, 7, 0) != -1)
		return "echoed bytes differ";
	if (vg_read_eventfd(vq->err_fd))
		return "error eventfd signalled";
	return NULL;
}

/*
 * One frame out through the tap and one in: 0, or what went wrong.  The
 * frame in lands in the oldest RX buffer posted, which may be an earlier
 * one than the buffer posted here (or none is posted: the ring is full).
 */
static const char *fx_net_traffic(struct fx *f, uint32_t seq)
{
	uint8_t frame[600], cap[2048];
	uint8_t *tx = vg_alloc(&f->d, f->hlen + sizeof(frame), 64);
	uint8_t *rx = vg_alloc(&f->d, 2048, 64);
	uint32_t len = 0;
	void *c = NULL;
	ssize_t n;

	if (!tx || !rx)
		return "arena full";
	vg_vq_add_buf(&f->vq[0], NULL, 0, rx, 2048, rx);
	vg_vq_kick(&f->vq[0]);
	memset(tx, 0, f->hlen);
	vg_frame_make(tx + f->hlen, sizeof(frame), seq);
	if (vg_vq_add_buf(&f->vq[1], tx, f->hlen + sizeof(frame), NULL, 0,
			  tx) < 0)
		return "tx ring full";
	vg_vq_kick(&f->vq[1]);
	n = vg_frame_capture(f->pkt, cap, sizeof(cap), VX_TIMEOUT_MS);
	if (n != sizeof(frame) || !vg_frame_ok(cap, sizeof(frame), seq))
		return "tx frame not on the tap";
	if (net_wait_used(&f->vq[1], &len, &c, VX_TIMEOUT_MS) < 0 || c != tx)
		return "tx buffer not used";
	vg_frame_make(frame, sizeof(frame), seq + 1);
	if (vg_frame_inject(f->pkt, f->ifname, frame, sizeof(frame)))
		return "cannot inject";
	if (net_wait_used(&f->vq[0], &len, &c, VX_TIMEOUT_MS) < 0)
		return "rx frame not received";
	if (len != f->hlen + sizeof(frame) ||
	    !vg_frame_ok((uint8_t *)c + f->hlen, sizeof(frame), seq + 1))
		return "rx frame differs";
	if (vg_read_eventfd(f->vq[0].err_fd) || vg_read_eventfd(f->vq[1].err_fd))
		return "error eventfd signalled";
	return NULL;
}

static const char *fx_traffic(struct fx *f, uint32_t seq)
{
	return f->kind == FX_NET ? fx_net_traffic(f, seq) : fx_echo(f);
}

FIXTURE(fault) {
	struct fx f;
	bool armed;
};

FIXTURE_VARIANT(fault) {
	enum fx_kind kind;
	const struct step *steps;
	unsigned int nsteps;
	uint64_t features;
};

FIXTURE_VARIANT_ADD(fault, test) {
	.kind = FX_TEST, .steps = test_steps,
	.nsteps = ARRAY_SIZE(test_steps),
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX) |
		    VG_F(VIRTIO_RING_F_INDIRECT_DESC),
};

FIXTURE_VARIANT_ADD(fault, test_iotlb) {
	.kind = FX_TEST_IOTLB, .steps = iotlb_steps,
	.nsteps = ARRAY_SIZE(iotlb_steps),
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_F_ACCESS_PLATFORM),
};

FIXTURE_VARIANT_ADD(fault, net) {
	.kind = FX_NET, .steps = net_steps,
	.nsteps = ARRAY_SIZE(net_steps),
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_NET_F_MRG_RXBUF) |
		    VG_F(VIRTIO_RING_F_EVENT_IDX),
};

FIXTURE_SETUP(fault)
{
	struct fx *f = &self->f;

	memset(f, 0, sizeof(*f));
	vx_fixture_init(&f->d, NULL);
	f->tap = f->pkt = -1;
	f->kind = variant->kind;
	f->features = variant->features;
	f->path = f->kind == FX_NET ? VX_NET_DEV : VX_TEST_DEV;
	f->nvqs = f->kind == FX_NET ? 2 : 1;
	VX_REQUIRE_DEV(f->path);
	if (!fault_injection_available())
		SKIP(return, "no fault injection in this kernel (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS)");
	ASSERT_EQ(0, failslab_setup());
	self->armed = true;
	nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nth_fd);
	if (f->kind == FX_NET) {
		f->hlen = net_hdr_len(f->features);
		ASSERT_EQ(0, vg_tap_capture(f->ifname, (int)f->hlen, &f->tap,
					    &f->pkt));
	}
}

FIXTURE_TEARDOWN(fault)
{
	if (nth_fd >= 0) {
		nth_set(0);
		close(nth_fd);
		nth_fd = -1;
	}
	if (self->armed)
		failslab_restore();
	fx_close(&self->f);
}

/*
 * Steps [0, k) without a fault: 0, or the index of the step that failed
 * plus one, negated errno in *err.
 */
static int run_steps(struct fx *f, const struct step *s, unsigned int from,
		     unsigned int to, int *err)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		*err = s[i].fn(f, s[i].arg);
		if (*err)
			return i + 1;
	}
	return 0;
}

VX_TEST_F_TIMEOUT(fault, each_allocation_of_each_step, 900)
{
	struct fx *f = &self->f;
	const struct step *s = variant->steps;
	unsigned int k, n, injected = 0, absorbed = 0;
	uint32_t seq = 1;

	for (k = 0; k < variant->nsteps; k++) {
		for (n = 1; n <= MAX_NTH; n++) {
			const char *bad;
			int r, err = 0, at;
			bool fired;

			ASSERT_EQ(0, fx_reset(f));
			at = run_steps(f, s, 0, k, &err);
			ASSERT_EQ(0, at) TH_LOG("%s: %s", s[at ? at - 1 : 0].name,
						 strerror(-err));

			ASSERT_EQ(0, nth_set(n));
			r = s[k].fn(f, s[k].arg);
			fired = nth_fired();
			ASSERT_EQ(0, nth_set(0));

			if (!fired) {
				/* The step makes fewer than n allocations. */
				ASSERT_EQ(0, r) TH_LOG("%s without a fault: %s",
						       s[k].name, strerror(-r));
				break;
			}
			injected++;
			if (!r) {
				absorbed++;
			} else {
				ASSERT_EQ(-ENOMEM, r)
					TH_LOG("%s, allocation %u failed: %s",
					       s[k].name, n, strerror(-r));
				/* Nothing half-done: the retry works. */
				r = s[k].fn(f, s[k].arg);
				ASSERT_EQ(0, r)
					TH_LOG("%s retried after allocation %u failed: %s",
					       s[k].name, n, strerror(-r));
			}
			at = run_steps(f, s, k + 1, variant->nsteps, &err);
			ASSERT_EQ(0, at)
				TH_LOG("after %s allocation %u failed: %s: %s",
				       s[k].name, n, s[at ? at - 1 : 0].name,
				       strerror(-err));
			bad = fx_traffic(f, seq);
			seq += 2;
			ASSERT_EQ(NULL, bad)
				TH_LOG("after %s allocation %u failed: %s",
				       s[k].name, n, bad);
		}
		ASSERT_GE(MAX_NTH, n) TH_LOG("%s: more than %d allocations",
					     s[k].name, MAX_NTH);
	}
	TH_LOG("%u allocation failures injected, %u absorbed", injected,
	       absorbed);
	/*
	 * A kernel that injected nothing did not test anything.  How many
	 * allocations a step makes depends on the kernel: with kmemleak its
	 * own bookkeeping allocations fail too, and without it some steps
	 * make none that can fail (the coverage kernel injected 13 failures
	 * into the IOTLB variant's 14 steps, 11 into the net one's 18).
	 */
	ASSERT_LT(0, injected);
}

/* Threads named @want in directory @dir (/proc, /proc/self/task). */
static int tids_named(const char *dir, const char *want, pid_t *tids,
		      int n, int max)
{
	char path[300], comm[32];
	struct dirent *e;
	DIR *d = opendir(dir);
	int fd;

	if (!d)
		return n;
	while ((e = readdir(d)) && n < max) {
		ssize_t l;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		l = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (l <= 0)
			continue;
		comm[l] = 0;
		if (!strcmp(comm, want))
			tids[n++] = atoi(e->d_name);
	}
	closedir(d);
	return n;
}

/*
 * The workers' threads, "vhostx-<owner pid>": kthreads (in /proc), or
 * threads of the owner (in its /proc/self/task).
 */
static int worker_tids(pid_t owner, pid_t *tids, int max)
{
	char want[32];

	snprintf(want, sizeof(want), "vhostx-%d\n", owner);
	return tids_named("/proc/self/task", want, tids,
			  tids_named("/proc", want, tids, 0, max), max);
}

static int make_it_fail(pid_t tid, const char *v)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/make-it-fail", tid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, v, 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

/* Take every used buffer of both queues. */
static void reap(struct fx *f)
{
	unsigned int q;
	uint32_t len;
	void *c;

	for (q = 0; q < f->nvqs; q++)
		while (vg_vq_used_pending(&f->vq[q]))
			vg_vq_get_used(&f->vq[q], &len, &c);
}

/*
 * The net workers' own allocations (socket buffers on RX and TX, and
 * what vhostx allocates per packet) fail one time in four while frames
 * flow both ways.  Frames may be dropped, but no queue may stop or stick:
 * afterwards every frame goes through again.
 */
VX_TEST_F_IF_TIMEOUT(fault, worker_allocations, variant->kind == FX_NET, 600)
{
	struct fx *f = &self->f;
	pid_t tids[8];
	long before, after;
	unsigned int i, ntids;
	uint8_t frame[600], cap[2048];
	const char *bad;
	int err = 0;

	ASSERT_EQ(0, fx_reset(f));
	ASSERT_EQ(0, run_steps(f, variant->steps, 0, variant->nsteps, &err))
		TH_LOG("set-up: %s", strerror(-err));
	ASSERT_EQ(NULL, fx_traffic(f, 1));
	ntids = worker_tids(getpid(), tids, 8);
	ASSERT_LT(0, ntids) TH_LOG("no vhostx-%d worker thread", getpid());

	ASSERT_EQ(0, debugfs_write("task-filter", "Y"));
	ASSERT_EQ(0, debugfs_write("times", "100000"));
	ASSERT_EQ(0, debugfs_write("probability", "25"));
	before = debugfs_read("times");
	for (i = 0; i < ntids; i++)
		ASSERT_EQ(0, make_it_fail(tids[i], "1"));

	/* Frames both ways, one RX buffer posted for each: flow, no checks. */
	for (i = 0; i < 200; i++) {
		uint8_t *tx = vg_alloc(&f->d, f->hlen + sizeof(frame), 64);
		uint8_t *rx = vg_alloc(&f->d, 2048, 64);

		ASSERT_NE(NULL, tx);
		ASSERT_NE(NULL, rx);
		reap(f);
		if (vg_vq_add_buf(&f->vq[0], NULL, 0, rx, 2048, rx) >= 0)
			vg_vq_kick(&f->vq[0]);
		memset(tx, 0, f->hlen);
		vg_frame_make(tx + f->hlen, sizeof(frame), 1000 + i);
		if (vg_vq_add_buf(&f->vq[1], tx, f->hlen + sizeof(frame),
				  NULL, 0, tx) >= 0)
			vg_vq_kick(&f->vq[1]);
		vg_frame_make(frame, sizeof(frame), 5000 + i);
		vg_frame_inject(f->pkt, f->ifname, frame, sizeof(frame));
		while (vg_frame_capture(f->pkt, cap, sizeof(cap), 0) > 0)
			;
		if (i % 16 == 15)
			usleep(10000);
	}
	usleep(200000);
	after = debugfs_read("times");
	for (i = 0; i < ntids; i++)
		make_it_fail(tids[i], "0");
	ASSERT_EQ(0, debugfs_write("probability", "0"));
	TH_LOG("%ld worker allocations failed", before - after);
	ASSERT_LT(0, before - after) TH_LOG("no worker allocation failed");

	/*
	 * No queue stuck: the frames the tap still holds fill RX buffers
	 * until a quiet spell with buffers free, and every TX buffer comes
	 * back (sent or dropped).
	 */
	for (i = 0; i < 100; i++) {
		uint8_t *rx;

		while (f->vq[0].num_free &&
		       (rx = vg_alloc(&f->d, 2048, 64)) &&
		       vg_vq_add_buf(&f->vq[0], NULL, 0, rx, 2048, rx) >= 0)
			;
		vg_vq_kick(&f->vq[0]);
		if (!vg_vq_wait_used(&f->vq[0], 1, VX_QUIET_MS))
			break;
		reap(f);
	}
	ASSERT_GT(100, i) TH_LOG("the tap's backlog never ends");
	for (i = 0; i < 50 && f->vq[1].num_free < f->vq[1].num; i++) {
		vg_vq_wait_used(&f->vq[1], 1, VX_QUIET_MS);
		reap(f);
	}
	ASSERT_EQ(f->vq[1].num, f->vq[1].num_free) TH_LOG("TX queue stuck");
	while (vg_frame_capture(f->pkt, cap, sizeof(cap), VX_QUIET_MS) > 0)
		;
	ASSERT_EQ(0, vg_read_eventfd(f->vq[0].err_fd));
	ASSERT_EQ(0, vg_read_eventfd(f->vq[1].err_fd));
	/* And every frame goes through again, both ways. */
	for (i = 0; i < 8; i++) {
		bad = fx_net_traffic(f, 20000 + 2 * i);
		ASSERT_EQ(NULL, bad) TH_LOG("frame %u after the faults: %s", i, bad);
	}
}

VX_HARNESS_MAIN
