// SPDX-License-Identifier: GPL-2.0
/*
 * postcopy_test: guest memory that is not there yet, as in a post-copy
 * migration.  The VMM registers guest memory with userfaultfd
 * (UFFDIO_REGISTER_MODE_MISSING) and fills each page when something
 * touches it (UFFDIO_COPY); here the something is a vhostx worker.
 *
 * On /dev/vhostx-test (one queue copying each buffer's readable part into
 * its writable part), with a second memory region whose pages are
 * missing:
 *
 * - a buffer read from a missing page: the worker waits on the fault, no
 *   used entry appears until the page is filled, then the copy is
 *   byte-exact;
 * - a buffer written into a missing page: the same, the data lands in
 *   the page the VMM filled;
 * - the owner killed while its worker waits on a fault, with the device
 *   closed before or after the userfaultfd (the order the dying process
 *   releases them in): the process dies, its worker ends;
 * - the owner killed while a second thread of it waits in an ioctl for
 *   the queue the worker faults on: the same;
 * - a live owner closing the device while its worker waits: the close
 *   waits for the page, as for any slow guest memory, and returns once
 *   it is filled.
 *
 * Every case runs with the default workers and with kthread workers
 * (VHOST_SET_FORK_FROM_OWNER; on kernels without vhost_task the two are
 * the same).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define PC_PAGES	8
#define PC_LEN		1024
#define PC_SEED		0x9c

/* A device set up by a VMM doing post-copy: see vmm_setup(). */
struct pc_vmm {
	struct vg_dev d;
	struct vg_vq vq;
	int uffd;
	uint8_t *missing;	/* PC_PAGES registered, not populated */
	size_t page;
	uint8_t *src;		/* a page of pattern for UFFDIO_COPY */
};

static void vmm_init(struct pc_vmm *v)
{
	vx_fixture_init(&v->d, &v->vq);
	v->uffd = -1;
	v->missing = MAP_FAILED;
	v->src = MAP_FAILED;
	v->page = sysconf(_SC_PAGESIZE);
}

static void vmm_free(struct pc_vmm *v)
{
	vx_test_teardown(&v->d, &v->vq);
	if (v->uffd >= 0)
		close(v->uffd);
	if (v->missing != MAP_FAILED)
		munmap(v->missing, PC_PAGES * v->page);
	if (v->src != MAP_FAILED)
		munmap(v->src, v->page);
}

static int vmm_uffd(struct pc_vmm *v)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = {
			.start = (uintptr_t)v->missing,
			.len = PC_PAGES * v->page,
		},
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	/* Not UFFD_USER_MODE_ONLY: the faults to catch are the kernel's. */
	v->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (v->uffd < 0)
		return -errno;
	if (ioctl(v->uffd, UFFDIO_API, &api) ||
	    ioctl(v->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

/*
 * Open /dev/vhostx-test (kthread workers if @kthread), then a
 * userfaultfd, or the other way round if @uffd_first: the fd numbers
 * decide the order in which a dying owner releases them.  Memory: the
 * arena (rings, populated) and PC_PAGES missing pages, both identity
 * mapped; queue 0 of 64 entries, running.
 */
static int vmm_setup(struct pc_vmm *v, bool kthread, bool uffd_first)
{
	struct vhost_memory_region r[2];
	int ret;

	v->missing = mmap(NULL, PC_PAGES * v->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v->src = mmap(NULL, v->page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->missing == MAP_FAILED || v->src == MAP_FAILED)
		return -ENOMEM;
	vg_fill(v->src, v->page, PC_SEED);
	if (uffd_first) {
		ret = vmm_uffd(v);
		if (ret)
			return ret;
	}
	ret = vg_open(&v->d, VX_TEST_DEV, 0);
	if (!ret && kthread && vx_kernel_has_vhost_task())
		ret = vx_set_fork(v->d.fd, VHOST_FORK_OWNER_KTHREAD);
	if (!ret)
		ret = vg_set_owner(&v->d);
	if (!ret)
		ret = vg_set_features(&v->d, VG_F(VIRTIO_F_VERSION_1));
	if (ret)
		return ret;
	if (!uffd_first) {
		ret = vmm_uffd(v);
		if (ret)
			return ret;
	}
	r[0] = (struct vhost_memory_region) {
		.guest_phys_addr = vg_gpa(v->d.arena),
		.memory_size = v->d.arena_size,
		.userspace_addr = vg_gpa(v->d.arena),
	};
	r[1] = (struct vhost_memory_region) {
		.guest_phys_addr = vg_gpa(v->missing),
		.memory_size = PC_PAGES * v->page,
		.userspace_addr = vg_gpa(v->missing),
	};
	ret = vg_set_mem_regions(&v->d, r, 2);
	if (!ret)
		ret = vg_vq_setup(&v->d, &v->vq, 0, 64, 0);
	return ret ? ret : vg_test_start(&v->d);
}

/*
 * Wait for the worker's fault: the page address of the next fault
 * message, 0 if none came in @ms, or -errno.
 */
static long vmm_fault(struct pc_vmm *v, int ms, bool *write)
{
	struct uffd_msg msg;
	struct pollfd p = { .fd = v->uffd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n < 0)
		return -errno;
	if (!n)
		return 0;
	if (read(v->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -errno;
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		return -EPROTO;
	if (write)
		*write = msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE;
	return msg.arg.pagefault.address & ~(uint64_t)(v->page - 1);
}

/* Fill the missing page at @addr with the pattern page: 0 or -errno. */
static int vmm_fill(struct pc_vmm *v, uint64_t addr)
{
	struct uffdio_copy c = {
		.dst = addr,
		.src = (uintptr_t)v->src,
		.len = v->page,
	};

	return ioctl(v->uffd, UFFDIO_COPY, &c) ? -errno : 0;
}

/*
 * Queue one buffer whose readable half is missing memory, and kick.
 * The worker faults on it.
 */
static int pc_queue_read_fault(struct pc_vmm *v, uint8_t *in)
{
	int r = vg_vq_add_buf(&v->vq, v->missing + v->page, PC_LEN, in,
			      PC_LEN, in);

	if (r >= 0)
		r = vg_vq_kick(&v->vq);
	return r < 0 ? r : 0;
}

FIXTURE(pc) {
	struct pc_vmm v;
};

FIXTURE_VARIANT(pc) {
	bool kthread;
};

FIXTURE_VARIANT_ADD(pc, default_workers) {
	.kthread = false,
};

FIXTURE_VARIANT_ADD(pc, kthread_workers) {
	.kthread = true,
};

FIXTURE_SETUP(pc)
{
	vmm_init(&self->v);
	VX_REQUIRE_DEV(VX_TEST_DEV);
}

FIXTURE_TEARDOWN(pc)
{
	vmm_free(&self->v);
}

/* The worker reads a missing page: it waits, then copies what came. */
VX_TEST_F(pc, read_waits_for_the_page)
{
	struct pc_vmm *v = &self->v;
	uint8_t *in;
	uint32_t len;
	void *cookie;
	long addr;

	ASSERT_EQ(0, vmm_setup(v, variant->kthread, false));
	in = vg_alloc(&v->d, PC_LEN, 64);
	ASSERT_NE(NULL, in);
	memset(in, 0, PC_LEN);
	ASSERT_EQ(0, pc_queue_read_fault(v, in));

	addr = vmm_fault(v, VX_TIMEOUT_MS, NULL);
	ASSERT_EQ((long)(uintptr_t)(v->missing + v->page), addr)
		TH_LOG("no fault from the worker on the missing page");
	/* Still waiting: nothing used while the page is missing. */
	usleep(VX_QUIET_MS * 1000);
	EXPECT_EQ(0, vg_vq_used_pending(&v->vq));
	EXPECT_EQ(0, vg_read_eventfd(v->vq.err_fd) > 0);

	ASSERT_EQ(0, vmm_fill(v, addr));
	ASSERT_LE(1, vg_vq_wait_used(&v->vq, 1, VX_TIMEOUT_MS));
	ASSERT_LE(0, vg_vq_get_used(&v->vq, &len, &cookie));
	EXPECT_EQ(PC_LEN, len);
	EXPECT_EQ(in, cookie);
	EXPECT_EQ(-1, vg_check(in, PC_LEN, PC_SEED, 0));
}

/* The worker writes into a missing page: the data lands once it is there. */
VX_TEST_F(pc, write_waits_for_the_page)
{
	struct pc_vmm *v = &self->v;
	uint8_t *out, *dst;
	bool write = false;
	uint32_t len;
	void *cookie;
	long addr;

	ASSERT_EQ(0, vmm_setup(v, variant->kthread, false));
	out = vg_alloc(&v->d, PC_LEN, 64);
	ASSERT_NE(NULL, out);
	vg_fill(out, PC_LEN, PC_SEED + 1);
	dst = v->missing + 2 * v->page + 128;
	ASSERT_LE(0, vg_vq_add_buf(&v->vq, out, PC_LEN, dst, PC_LEN, dst));
	ASSERT_LE(0, vg_vq_kick(&v->vq));

	addr = vmm_fault(v, VX_TIMEOUT_MS, &write);
	ASSERT_EQ((long)(uintptr_t)(v->missing + 2 * v->page), addr);
	usleep(VX_QUIET_MS * 1000);
	EXPECT_EQ(0, vg_vq_used_pending(&v->vq));

	ASSERT_EQ(0, vmm_fill(v, addr));
	ASSERT_LE(1, vg_vq_wait_used(&v->vq, 1, VX_TIMEOUT_MS));
	ASSERT_LE(0, vg_vq_get_used(&v->vq, &len, &cookie));
	EXPECT_EQ(PC_LEN, len);
	EXPECT_EQ(dst, cookie);
	EXPECT_EQ(-1, vg_check(dst, PC_LEN, PC_SEED + 1, 0));
	/* The rest of the page is what the VMM put there. */
	EXPECT_EQ(-1, vg_check(v->missing + 2 * v->page, 128, PC_SEED, 0));
}

/*
 * A live owner closes the device while its worker waits on a fault: the
 * close waits for the worker, which waits for the page; once the VMM
 * fills it, the buffer completes and the close returns.
 */
static void *pc_close_thread(void *arg)
{
	struct pc_vmm *v = arg;

	close(v->d.fd);
	return NULL;
}

VX_TEST_F(pc, close_waits_for_the_page)
{
	struct pc_vmm *v = &self->v;
	pthread_t t;
	uint8_t *in;
	long addr;
	void *ret;

	ASSERT_EQ(0, vmm_setup(v, variant->kthread, false));
	in = vg_alloc(&v->d, PC_LEN, 64);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, pc_queue_read_fault(v, in));
	addr = vmm_fault(v, VX_TIMEOUT_MS, NULL);
	ASSERT_LT(0, addr);

	ASSERT_EQ(0, pthread_create(&t, NULL, pc_close_thread, v));
	usleep(VX_QUIET_MS * 1000);
	EXPECT_EQ(EBUSY, pthread_tryjoin_np(t, &ret))
		TH_LOG("the close returned while the worker waited");
	ASSERT_EQ(0, vmm_fill(v, addr));
	ASSERT_EQ(0, pthread_join(t, &ret));
	/* The arena stays mapped until vmm_free(): the copy landed there. */
	EXPECT_EQ(-1, vg_check(in, PC_LEN, PC_SEED, 0));
}

/* ---- the owner dies while its worker waits ---- */

struct pc_child_arg {
	bool kthread;
	bool uffd_first;
	bool stuck_ioctl;	/* a second thread waits in RUN(0) */
};

static void *pc_stop_thread(void *arg)
{
	struct pc_vmm *v = arg;

	vg_test_stop(&v->d);
	return NULL;
}

/*
 * The child VMM: set up, make its worker fault, report the fault's
 * address, then (if asked) have a second thread stop the queue the
 * worker holds, and wait to be killed.
 */
static void pc_child(struct __test_metadata *_metadata, int ready, void *p)
{
	struct pc_child_arg *a = p;
	struct pc_vmm v;
	pthread_t t;
	uint8_t *in;
	long addr;

	vmm_init(&v);
	if (vmm_setup(&v, a->kthread, a->uffd_first))
		_exit(1);
	in = vg_alloc(&v.d, PC_LEN, 64);
	if (!in || pc_queue_read_fault(&v, in))
		_exit(2);
	addr = vmm_fault(&v, VX_TIMEOUT_MS, NULL);
	if (addr <= 0)
		_exit(3);
	if (a->stuck_ioctl && pthread_create(&t, NULL, pc_stop_thread, &v))
		_exit(4);
	if (write(ready, &addr, sizeof(addr)) != sizeof(addr))
		_exit(5);
	for (;;)
		pause();
}

static void pc_kill_case(struct __test_metadata *_metadata,
			 struct pc_child_arg *a)
{
	long addr = 0;
	pid_t pid;

	pid = vx_spawn(_metadata, pc_child, a, &addr, sizeof(addr));
	ASSERT_LT(0, addr);
	/* Let the second thread reach its wait. */
	if (a->stuck_ioctl)
		usleep(VX_QUIET_MS * 1000);
	/* Dies, releasing both files, and is reaped: nothing hangs. */
	vx_kill(_metadata, pid);
	EXPECT_EQ(0, vx_worker_kthreads(pid));
	EXPECT_EQ(0, vx_worker_threads(pid, pid) > 0);
}

VX_TEST_F_TIMEOUT(pc, owner_killed_device_opened_first, 120)
{
	struct pc_child_arg a = { .kthread = variant->kthread };

	pc_kill_case(_metadata, &a);
}

VX_TEST_F_TIMEOUT(pc, owner_killed_userfaultfd_opened_first, 120)
{
	struct pc_child_arg a = {
		.kthread = variant->kthread,
		.uffd_first = true,
	};

	pc_kill_case(_metadata, &a);
}

VX_TEST_F_TIMEOUT(pc, owner_killed_while_an_ioctl_waits, 120)
{
	struct pc_child_arg a = {
		.kthread = variant->kthread,
		.stuck_ioctl = true,
	};

	pc_kill_case(_metadata, &a);
}

VX_HARNESS_MAIN
