// SPDX-License-Identifier: GPL-2.0
/*
 * cve_dev_test: the device-level vulnerability classes of
 * Documentation/vhostx/security.rst: what read() returns (CVE-2018-1118),
 * IOTLB updates racing with traffic, and ioctls from a process that is not
 * the owner.  Test names carry the class.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define NUM	64

VX_TEST_DEV_FIXTURE(cdev)

/*
 * CVE-2018-1118 class: uninitialised bytes returned by read().  An IOTLB
 * miss is read in both message formats into a buffer full of 0xaa: every
 * byte of the message that is not a field must be zero, nothing past the
 * message may be written, and a buffer too small for a message reads 0.
 * (On the debug kernel, uninitialised stack bytes are 0xfe, not 0.)
 */
VX_TEST_F_TIMEOUT(cdev, cve_2018_1118_read_uninitialised, 300)
{
	int pass;

	for (pass = 0; pass < 2; pass++) {
		bool v2 = pass == 1;
		/* Defined bytes: type (and asid for v2), then 26 of iotlb. */
		size_t msize = v2 ? sizeof(struct vhost_msg_v2) : sizeof(struct vhost_msg);
		size_t ioff = v2 ? offsetof(struct vhost_msg_v2, iotlb) :
				   offsetof(struct vhost_msg, iotlb);
		size_t fend = ioff + offsetof(struct vhost_iotlb_msg, type) + 1;
		size_t hdr = v2 ? 8 : 4;
		uint8_t m[256], small[16], *b;
		struct vhost_iotlb_msg im;
		uint32_t type;
		ssize_t n;
		size_t i;
		int r;

		r = vx_iotlb_test_setup(&self->d, &self->vq, v2, NUM);
		ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
		/* A buffer on an unmapped page: the device must ask for it. */
		b = vg_alloc(&self->d, 4096, 4096);
		ASSERT_NE(NULL, b);
		vg_fill(b, 100, 1);
		ASSERT_LE(0, vg_vq_add_buf(&self->vq, b, 100, b + 2048, 100, b));
		vg_vq_kick(&self->vq);
		ASSERT_EQ(1, vg_wait_readable(self->d.fd, VX_TIMEOUT_MS))
			TH_LOG("no IOTLB miss");

		memset(small, 0xaa, sizeof(small));
		ASSERT_EQ(0, read(self->d.fd, small, hdr + 4))
			TH_LOG("a too-small read must return 0");
		for (i = 0; i < sizeof(small); i++)
			ASSERT_EQ(0xaa, small[i]) TH_LOG("short read wrote byte %zu", i);

		memset(m, 0xaa, sizeof(m));
		n = read(self->d.fd, m, sizeof(m));
		ASSERT_EQ((ssize_t)msize, n);
		memcpy(&type, m, sizeof(type));
		ASSERT_EQ(v2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG, type);
		memcpy(&im, m + ioff, sizeof(im));
		ASSERT_EQ(VHOST_IOTLB_MISS, im.type);
		for (i = 4; i < ioff; i++)	/* v1 padding, v2 asid */
			ASSERT_EQ(0, m[i]) TH_LOG("byte %zu (before iotlb) is %#x", i, m[i]);
		for (i = fend; i < msize; i++)
			ASSERT_EQ(0, m[i]) TH_LOG("byte %zu (padding) is %#x", i, m[i]);
		for (i = msize; i < sizeof(m); i++)
			ASSERT_EQ(0xaa, m[i]) TH_LOG("byte %zu past the message written", i);

		/* Answer the miss: the echo then completes. */
		ASSERT_EQ(0, vg_iotlb_update(&self->d, vg_gpa(b), 4096, vg_gpa(b),
					     VHOST_ACCESS_RW));
		ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
		ASSERT_EQ(-1, vg_check(b + 2048, 100, 1, 0));
		vg_test_stop(&self->d);
		vg_vq_free(&self->vq);
		vg_close(&self->d);
	}
}

struct racer {
	struct vg_dev *d;
	struct vg_vq *vq;	/* whose used index shows the device's progress */
	uint64_t lo, size;	/* what to invalidate and map back */
	volatile bool stop;
	unsigned long invalidations, answers;
};

/*
 * Misses were answered: leave the mapping alone until the device has used
 * a buffer or missed again (at most 50 ms).  Otherwise the racer gives up
 * the CPU only while memory is unmapped (the sleep in racer_fn()): the
 * handler run an answer queues gets a CPU only after the next
 * invalidation, misses, is answered, and so on every round, for as long
 * as that phase holds (on a loaded machine, past an echo's timeout).  No
 * device can use a buffer that is unmapped again before each of its runs:
 * what this class is about is that none is lost, corrupted or used with a
 * stale translation.
 */
static void racer_let_device_run(struct racer *r, uint16_t used)
{
	int64_t t0 = vg_now_us();

	while (!r->stop && vg_vq_used_idx(r->vq) == used &&
	       vg_wait_readable(r->d->fd, 0) <= 0 &&
	       vg_now_us() - t0 < 50000)
		sched_yield();
}

/* Invalidate and re-map guest memory, and answer misses, until stopped. */
static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	struct vhost_msg_v2 m;
	unsigned int i = 0;

	while (!r->stop) {
		uint64_t off = (i * 4096ULL * 7) % r->size;
		bool answered = false;
		uint16_t used;

		if (i % 8 == 7)		/* now and then everything, rings too */
			vg_iotlb_invalidate(r->d, r->lo, r->size);
		else
			vg_iotlb_invalidate(r->d, r->lo + off, 4096ULL << (i % 4));
		__atomic_fetch_add(&r->invalidations, 1, __ATOMIC_RELAXED);
		if (i % 2)
			usleep(200);
		vg_iotlb_update(r->d, r->lo, r->size, r->lo, VHOST_ACCESS_RW);
		used = vg_vq_used_idx(r->vq);
		while (vg_iotlb_read(r->d, &m, 0) > 0) {
			vg_iotlb_update(r->d, r->lo, r->size, r->lo, VHOST_ACCESS_RW);
			r->answers++;
			answered = true;
		}
		if (answered)
			racer_let_device_run(r, used);
		i++;
	}
	return NULL;
}

/*
 * Class: IOTLB updates racing with traffic.  One thread echoes buffers
 * through the device while another keeps invalidating and re-mapping
 * guest memory (buffers and rings) and answering misses: every echo must
 * still complete byte-exact, and the device must work afterwards.  The
 * racer lets the device run after each answer (racer_let_device_run()).
 */
VX_TEST_F_TIMEOUT(cdev, iotlb_update_racing_with_traffic, 180)
{
	struct racer rc = { 0 };
	pthread_t th;
	uint8_t *b;
	int i, r;

	r = vx_iotlb_test_setup(&self->d, &self->vq, true, NUM);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
	rc.d = &self->d;
	rc.vq = &self->vq;
	rc.lo = vg_gpa(self->d.arena);
	rc.size = self->d.arena_size;
	ASSERT_EQ(0, vg_iotlb_update(&self->d, rc.lo, rc.size, rc.lo,
				     VHOST_ACCESS_RW));
	b = vg_alloc(&self->d, 64 * 4096, 4096);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, pthread_create(&th, NULL, racer_fn, &rc));
	/* Else the echoes may all be done before the racer ever ran. */
	while (!__atomic_load_n(&rc.invalidations, __ATOMIC_RELAXED))
		usleep(1000);
	for (i = 0; i < 200; i++) {
		uint8_t *out = b + (i % 32) * 8192, *in = out + 4096;
		size_t len = 64 + (i * 37) % 4000;
		uint32_t ulen = 0;
		void *c = NULL;
		int h;

		vg_fill(out, len, i);
		memset(in, 0, len);
		h = vg_vq_add_buf(&self->vq, out, (uint32_t)len, in,
				  (uint32_t)len, out);
		if (h < 0)
			break;
		vg_vq_kick(&self->vq);
		r = vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS) ? 0 : -ETIMEDOUT;
		if (!r && (vg_vq_get_used(&self->vq, &ulen, &c) != h ||
			   ulen != len || vg_check(in, len, i, 0) >= 0))
			r = -EILSEQ;
		if (r) {
			rc.stop = true;
			pthread_join(th, NULL);
			ASSERT_EQ(0, r) TH_LOG("echo %d failed while IOTLB raced", i);
		}
	}
	rc.stop = true;
	pthread_join(th, NULL);
	ASSERT_EQ(200, i);
	TH_LOG("%lu invalidations, %lu misses answered", rc.invalidations,
	       rc.answers);
	ASSERT_LT(0, rc.invalidations);
	/* The class is about misses answered under traffic: some were. */
	ASSERT_LT(0, rc.answers);
	ASSERT_EQ(0, vg_iotlb_update(&self->d, rc.lo, rc.size, rc.lo,
				     VHOST_ACCESS_RW));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 1500, 99));
}

/* Results of the ioctls a non-owner child tried, in order. */
struct nonowner_case {
	const char *name;
	unsigned long nr;
	int expect;
};

/*
 * Class: ioctls from a process that is not the owner.  A forked child
 * holding the owner's fd tries every state-changing ioctl: EPERM (EBUSY
 * for SET_OWNER); the owner's device is untouched and keeps working.
 * (GET/SET_FEATURES and the backend-feature ioctls are open to any holder
 * of the fd, as in the kernel's vhost.)
 */
VX_TEST_F_TIMEOUT(cdev, ioctls_from_non_owner, 300)
{
	struct vhost_vring_state st = { 0, NUM };
	struct vhost_vring_file vf = { 0, -1 };
	struct vhost_vring_addr va = { 0 };
	struct vhost_worker_state ws = { 0 };
	struct vhost_vring_worker vw = { 0, 0 };
	struct vhost_memory mem = { 0 };
	uint64_t u64 = 0;
	int one = 1, fd = -1;
	const struct {
		const char *name;
		unsigned long nr;
		void *arg;
		int expect;
	} c[] = {
		{ "SET_OWNER", VHOST_SET_OWNER, NULL, EBUSY },
		{ "RESET_OWNER", VHOST_RESET_OWNER, NULL, EPERM },
		{ "SET_MEM_TABLE", VHOST_SET_MEM_TABLE, &mem, EPERM },
		{ "SET_LOG_BASE", VHOST_SET_LOG_BASE, &u64, EPERM },
		{ "SET_LOG_FD", VHOST_SET_LOG_FD, &fd, EPERM },
		{ "SET_VRING_NUM", VHOST_SET_VRING_NUM, &st, EPERM },
		{ "SET_VRING_BASE", VHOST_SET_VRING_BASE, &st, EPERM },
		{ "GET_VRING_BASE", VHOST_GET_VRING_BASE, &st, EPERM },
		{ "SET_VRING_ADDR", VHOST_SET_VRING_ADDR, &va, EPERM },
		{ "SET_VRING_KICK", VHOST_SET_VRING_KICK, &vf, EPERM },
		{ "SET_VRING_CALL", VHOST_SET_VRING_CALL, &vf, EPERM },
		{ "SET_VRING_ERR", VHOST_SET_VRING_ERR, &vf, EPERM },
		{ "SET_VRING_BUSYLOOP_TIMEOUT", VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &st, EPERM },
		{ "NEW_WORKER", VHOST_NEW_WORKER, &ws, EPERM },
		{ "ATTACH_VRING_WORKER", VHOST_ATTACH_VRING_WORKER, &vw, EPERM },
		{ "TEST_RUN", VHOST_TEST_RUN, &one, EPERM },
		{ "TEST_SET_BACKEND", VHOST_TEST_SET_BACKEND, &vf, EPERM },
	};
	const size_t n = sizeof(c) / sizeof(c[0]);
	int res[32], p[2], status;
	unsigned int base = 0;
	size_t i;
	pid_t pid;

	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq, VG_F(VIRTIO_F_VERSION_1),
				   NUM, 0));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 1));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		for (i = 0; i < n; i++)
			res[i] = ioctl(self->d.fd, c[i].nr, c[i].arg) < 0 ? errno : 0;
		_exit(write(p[1], res, n * sizeof(int)) == (ssize_t)(n * sizeof(int)) ? 0 : 1);
	}
	close(p[1]);
	ASSERT_EQ((ssize_t)(n * sizeof(int)), read(p[0], res, n * sizeof(int)));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	for (i = 0; i < n; i++) {
		const char *name = c[i].name;
		int expect = c[i].expect, got = res[i];

		EXPECT_EQ(expect, got)
			TH_LOG("non-owner %s: errno %d, expected %d", name, got,
			       expect);
	}
	/* Still owned, still running with the owner's settings. */
	ASSERT_EQ(0, vx_echo_once(&self->vq, 2000, 2));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(2, base);
}

/* NEW_WORKER until refused (at most @max tries): how many it made. */
static int new_workers(int fd, int max, int *err, unsigned int *last)
{
	struct vhost_worker_state ws;
	int n;

	*err = 0;
	for (n = 0; n < max; n++) {
		ws.worker_id = 0;
		*err = vx_ioctl(fd, VHOST_NEW_WORKER, &ws);
		if (*err)
			break;
		*last = ws.worker_id;
	}
	return n;
}

/*
 * Class: a resource created per ioctl without a bound.  Each worker is a
 * kernel thread that the owner's RLIMIT_NPROC and pids cgroup do not
 * count; an owner looping on VHOST_NEW_WORKER must be refused (ENOMEM, as
 * the kernel's vhost refuses a worker it cannot create) once the device
 * has its default worker and one per virtqueue: one more on
 * /dev/vhostx-test (1 vq), two on /dev/vhostx-net (2 vqs).  Freeing one
 * makes room for one; the device keeps working.
 */
VX_TEST_F_TIMEOUT(cdev, workers_per_device_bounded, 300)
{
	struct vhost_worker_state ws;
	struct vg_dev net = { .fd = -1 };
	unsigned int last = 0;
	int err, n;

	ASSERT_EQ(0, vx_test_setup(&self->d, &self->vq,
				   VG_F(VIRTIO_F_VERSION_1), NUM, 0));
	n = new_workers(self->d.fd, 3000, &err, &last);
	ASSERT_EQ(1, n) TH_LOG("%d workers made on a 1-queue device", n);
	ASSERT_EQ(-ENOMEM, err);
	ws.worker_id = last;
	ASSERT_EQ(0, vx_ioctl(self->d.fd, VHOST_FREE_WORKER, &ws));
	ASSERT_EQ(1, new_workers(self->d.fd, 3000, &err, &last));
	ASSERT_EQ(-ENOMEM, err);
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 1));

	/* The net device is loaded with the test device: never skipped. */
	ASSERT_EQ(0, vg_open(&net, VX_NET_DEV, 1 << 20));
	ASSERT_EQ(0, vg_set_owner(&net));
	n = new_workers(net.fd, 3000, &err, &last);
	vg_close(&net);
	ASSERT_EQ(2, n) TH_LOG("%d workers made on a 2-queue device", n);
	ASSERT_EQ(-ENOMEM, err);
}

/*
 * Class: a base never checked against the memory regions.  With LOG_ALL,
 * VHOST_SET_LOG_BASE on a running queue must check that the new bitmap
 * covers every region, as the kernel's vhost does (EFAULT, the old base
 * kept); a stopped queue takes any base and is checked when it starts.
 * Before, the bad base was taken and the queue stopped at its first
 * logged write, in the middle of a migration.
 */
VX_TEST_F_TIMEOUT(cdev, log_base_not_covering_memory, 300)
{
	uint64_t bad = 0xffff888000000000ULL, good;

	ASSERT_EQ(0, vx_dev_setup(&self->d, &self->vq, VX_TEST_DEV,
				  VG_F(VIRTIO_F_VERSION_1) |
				  VG_F(VHOST_F_LOG_ALL),
				  0, NUM, 0));
	ASSERT_EQ(0, vg_log_setup(&self->d));
	good = self->d.log_base;
	ASSERT_EQ(0, vg_test_start(&self->d));

	ASSERT_EQ(-EFAULT, vx_ioctl(self->d.fd, VHOST_SET_LOG_BASE, &bad));
	/* Still logging into the old bitmap. */
	vg_log_clear(&self->d);
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 1));
	ASSERT_LT(0, vg_log_count(&self->d));
	ASSERT_EQ(0, VX_COUNTER(self->d.fd, 0, "errors"));

	/* Stopped: taken, then refused when the queue starts. */
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vx_ioctl(self->d.fd, VHOST_SET_LOG_BASE, &bad));
	ASSERT_EQ(-EFAULT, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_ioctl(self->d.fd, VHOST_SET_LOG_BASE, &good));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 2));
}

struct runner {
	int fd;
	volatile bool stop;
	unsigned long ok, eperm, other;
	int other_err;
};

/* VHOST_TEST_RUN(1) in a loop, sorting the results. */
static void *runner_fn(void *arg)
{
	struct runner *rn = arg;
	int one = 1, r;

	while (!rn->stop) {
		r = vx_ioctl(rn->fd, VHOST_TEST_RUN, &one);
		if (!r) {
			rn->ok++;
		} else if (r == -EPERM) {
			rn->eperm++;
		} else {
			rn->other++;
			rn->other_err = r;
		}
	}
	return NULL;
}

/*
 * Class: an owner check made before a lock is dropped and re-taken.  One
 * thread of the owner keeps calling VHOST_TEST_RUN while another resets
 * the owner: each call either runs as the owner (0) or finds no owner
 * (EPERM); none may act on the device after the reset (it used to, and
 * failed with EFAULT on the emptied device, or started it for whoever
 * owned it next).
 */
VX_TEST_F_TIMEOUT(cdev, test_run_racing_reset_owner, 300)
{
	struct runner rn = { 0 };
	unsigned int rounds = 0;
	int64_t end;
	pthread_t th;

	ASSERT_EQ(0, vx_dev_setup(&self->d, &self->vq, VX_TEST_DEV,
				  VG_F(VIRTIO_F_VERSION_1), 0, NUM, 0));
	rn.fd = self->d.fd;
	end = vg_now_us() + 5000000LL * vx_timeout_scale();
	do {
		if (rounds) {
			ASSERT_EQ(0, vg_set_owner(&self->d));
			ASSERT_EQ(0, vg_set_features(&self->d,
						     VG_F(VIRTIO_F_VERSION_1)));
			ASSERT_EQ(0, vg_set_mem_table(&self->d));
			ASSERT_EQ(0, vg_vq_program(&self->vq, 0));
		}
		rn.stop = false;
		ASSERT_EQ(0, pthread_create(&th, NULL, runner_fn, &rn));
		usleep((rounds % 4) * 100);
		ASSERT_EQ(0, vg_reset_owner(&self->d));
		rn.stop = true;
		pthread_join(th, NULL);
		rounds++;
	} while (vg_now_us() < end);
	TH_LOG("%u rounds: %lu runs, %lu EPERM, %lu other (last %d)", rounds,
	       rn.ok, rn.eperm, rn.other, rn.other_err);
	ASSERT_EQ(0, rn.other);
	ASSERT_LT(0, rn.ok);
	ASSERT_LT(0, rn.eperm);
	/* Set up again, the device works. */
	ASSERT_EQ(0, vg_set_owner(&self->d));
	ASSERT_EQ(0, vg_set_features(&self->d, VG_F(VIRTIO_F_VERSION_1)));
	ASSERT_EQ(0, vg_set_mem_table(&self->d));
	ASSERT_EQ(0, vg_vq_program(&self->vq, 0));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 100, 1));
}

VX_HARNESS_MAIN
