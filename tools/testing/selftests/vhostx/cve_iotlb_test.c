// SPDX-License-Identifier: GPL-2.0
/*
 * cve_iotlb_test: the device IOTLB (ACCESS_PLATFORM) classes of
 * Documentation/vhostx/security.rst: the miss messages read() returns,
 * racing with updates and resets.  Test names carry the class.
 *
 * The device is /dev/vhostx-test with IOTLB messages v2, its rings mapped
 * 1:1 in the IOTLB before it starts (as QEMU does); buffers are put in
 * pages the IOTLB does not map, so that the device reports misses.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define NUM	64
#define PAGE	4096ULL

VX_TEST_DEV_FIXTURE(ciotlb)

/* The device with ACCESS_PLATFORM and v2 messages, its rings mapped. */
#define IOTLB_OPEN(self) do {						\
	int __r = vx_iotlb_test_setup(&(self)->d, &(self)->vq, true, NUM); \
									\
	ASSERT_EQ(0, __r) TH_LOG("set-up: %s", strerror(-__r));	\
} while (0)

/* Queue one echo buffer (64 bytes out, 64 in) at @page; kick. */
static int queue_at(struct vg_vq *vq, uint8_t *page)
{
	int r = vg_vq_add_buf(vq, page, 64, page + 2048, 64, page);

	if (r >= 0)
		vg_vq_kick(vq);
	return r;
}

static long long now_ms(void)
{
	return vg_now_us() / 1000;
}

/* A message read() returned is a well-formed v2 miss inside [lo, hi). */
static bool miss_ok(const struct vhost_msg_v2 *m, uint64_t lo, uint64_t hi)
{
	return m->type == VHOST_IOTLB_MSG_V2 && !m->asid &&
	       m->iotlb.type == VHOST_IOTLB_MISS &&
	       m->iotlb.perm >= VHOST_ACCESS_RO &&
	       m->iotlb.perm <= VHOST_ACCESS_RW && !m->iotlb.size &&
	       !m->iotlb.uaddr && m->iotlb.iova >= lo && m->iotlb.iova < hi;
}

struct reader {
	struct vg_dev *d;	/* its fd O_NONBLOCK */
	uint64_t lo, hi;	/* where misses may be */
	volatile bool stop;
	unsigned long reads, bad;
	struct vhost_msg_v2 first_bad;
};

/*
 * Read every message as soon as it is there and answer it as a VMM does
 * (map the page), until stopped.
 */
static void *reader_fn(void *arg)
{
	struct reader *rd = arg;
	struct vhost_msg_v2 m;
	uint64_t page;

	while (!rd->stop) {
		if (vg_wait_readable(rd->d->fd, 5) <= 0)
			continue;
		memset(&m, 0, sizeof(m));
		while (read(rd->d->fd, &m, sizeof(m)) == sizeof(m)) {
			rd->reads++;
			if (!miss_ok(&m, rd->lo, rd->hi)) {
				if (!rd->bad++)
					rd->first_bad = m;
				continue;
			}
			page = m.iotlb.iova & ~(PAGE - 1);
			vg_iotlb_update(rd->d, page, PAGE, page,
					VHOST_ACCESS_RW);
			memset(&m, 0, sizeof(m));
		}
	}
	return NULL;
}

static void log_bad(struct __test_metadata *_metadata, const struct reader *rd)
{
	const struct vhost_msg_v2 *m = &rd->first_bad;

	TH_LOG("%lu of %lu messages malformed; first: type %u iotlb.type %u perm %u iova %#llx size %#llx uaddr %#llx",
	       rd->bad, rd->reads, m->type, m->iotlb.type, m->iotlb.perm,
	       (unsigned long long)m->iotlb.iova,
	       (unsigned long long)m->iotlb.size,
	       (unsigned long long)m->iotlb.uaddr);
}

/*
 * Class: state read after the lock that protects it is dropped.  read()
 * takes a miss off the read list under iotlb_lock; an UPDATE covering it
 * (or a RESET_OWNER) frees it as soon as it is on the pending list, so
 * the message must be copied before the lock is dropped.  One thread
 * reads misses as fast as they come and answers them while the main
 * thread keeps unmapping, using and re-mapping buffer pages, then, on
 * fresh devices,
 * resets the owner while a miss is being read.  Every message read must
 * be a well-formed miss for a page the test used (freed memory would show
 * as garbage; KASAN on the debug kernel reports the read itself).
 */
VX_TEST_F_TIMEOUT(ciotlb, iotlb_miss_read_racing_update_and_reset, 300)
{
	struct reader rd = { 0 };
	long long end;
	pthread_t th;
	uint8_t *pages;
	unsigned int i, rounds = 0, resets = 0;
	int fl;

	IOTLB_OPEN(self);
	pages = vg_alloc(&self->d, 16 * PAGE, PAGE);
	ASSERT_NE(NULL, pages);
	fl = fcntl(self->d.fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->d.fd, F_SETFL, fl | O_NONBLOCK));
	rd.d = &self->d;
	rd.lo = vg_gpa(pages);
	rd.hi = rd.lo + 16 * PAGE;
	ASSERT_EQ(0, pthread_create(&th, NULL, reader_fn, &rd));

	/* Updates freeing misses the reader is taking. */
	end = now_ms() + 3000LL * vx_timeout_scale();
	for (i = 0; now_ms() < end; i++) {
		uint8_t *p = pages + (i % 16) * PAGE;

		vg_iotlb_invalidate(&self->d, vg_gpa(p), PAGE);
		if (queue_at(&self->vq, p) < 0)
			break;
		if (i & 1)
			usleep(50);
		vg_iotlb_update(&self->d, vg_gpa(p), PAGE, vg_gpa(p),
				VHOST_ACCESS_RW);
		vg_vq_kick(&self->vq);
		if (!vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS))
			break;
		vg_vq_get_used(&self->vq, NULL, NULL);
		rounds++;
	}
	rd.stop = true;
	pthread_join(th, NULL);
	TH_LOG("%u update rounds, %lu misses read", rounds, rd.reads);
	if (rd.bad)
		log_bad(_metadata, &rd);
	ASSERT_EQ(0, rd.bad);
	ASSERT_LT(0, rounds);
	ASSERT_LT(0, rd.reads);
	/* The device still works. */
	ASSERT_EQ(0, vg_iotlb_update(&self->d, vg_gpa(self->d.arena),
				     self->d.arena_size, vg_gpa(self->d.arena),
				     VHOST_ACCESS_RW));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 512, 7));
	vg_test_stop(&self->d);
	vg_vq_free(&self->vq);
	vg_close(&self->d);

	/* Resets freeing misses the reader is taking, on fresh devices. */
	rd.bad = rd.reads = 0;
	end = now_ms() + 3000LL * vx_timeout_scale();
	for (i = 0; now_ms() < end || resets < 5; i++) {
		IOTLB_OPEN(self);
		pages = vg_alloc(&self->d, PAGE, PAGE);
		ASSERT_NE(NULL, pages);
		fl = fcntl(self->d.fd, F_GETFL);
		ASSERT_EQ(0, fcntl(self->d.fd, F_SETFL, fl | O_NONBLOCK));
		rd.d = &self->d;
		rd.lo = vg_gpa(pages);
		rd.hi = rd.lo + PAGE;
		rd.stop = false;
		ASSERT_EQ(0, pthread_create(&th, NULL, reader_fn, &rd));
		ASSERT_LE(0, queue_at(&self->vq, pages));
		usleep((i % 8) * 25);
		ASSERT_EQ(0, vg_reset_owner(&self->d));
		resets++;
		rd.stop = true;
		pthread_join(th, NULL);
		vg_vq_free(&self->vq);
		vg_close(&self->d);
	}
	TH_LOG("%u resets, %lu misses read", resets, rd.reads);
	if (rd.bad)
		log_bad(_metadata, &rd);
	ASSERT_EQ(0, rd.bad);
}

/*
 * Class: a permission check that accepts any one of the requested bits.
 * The used ring is translated for writing, and a mapping must grant every
 * permission asked for: once the vIOMMU maps the used ring's page
 * read-only, a kicked buffer must stop the queue (error eventfd) without
 * a byte of the used ring written (the kernel's vhost-net writes nothing
 * either: used idx stays where it was).
 */
VX_TEST_F_TIMEOUT(ciotlb, used_ring_mapped_read_only, 300)
{
	static uint8_t before[PAGE];
	uint8_t *bufs;

	IOTLB_OPEN(self);
	bufs = vg_alloc(&self->d, 2 * PAGE, PAGE);
	ASSERT_NE(NULL, bufs);
	ASSERT_EQ(0, vg_iotlb_update(&self->d, vg_gpa(bufs), 2 * PAGE,
				     vg_gpa(bufs), VHOST_ACCESS_RW));
	/* Mapped read-write: the echo completes. */
	ASSERT_LE(0, queue_at(&self->vq, bufs));
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
	ASSERT_LE(0, vg_vq_get_used(&self->vq, NULL, NULL));
	ASSERT_EQ(1, vg_vq_used_idx(&self->vq));

	/* The used ring's page becomes read-only for the device. */
	ASSERT_EQ(0, vg_iotlb_invalidate(&self->d, vg_gpa(self->vq.used),
					 PAGE));
	ASSERT_EQ(0, vg_iotlb_update(&self->d, vg_gpa(self->vq.used), PAGE,
				     vg_gpa(self->vq.used), VHOST_ACCESS_RO));
	vg_read_eventfd(self->vq.err_fd);
	memcpy(before, self->vq.used, PAGE);
	ASSERT_LE(0, queue_at(&self->vq, bufs + PAGE));
	vg_vq_notify(&self->vq);	/* even if the device said no kicks */
	ASSERT_LT(0, vg_wait_eventfd(self->vq.err_fd, VX_TIMEOUT_MS))
		TH_LOG("queue not stopped; used idx %u",
		       vg_vq_used_idx(&self->vq));
	usleep(VX_QUIET_MS * 1000);
	ASSERT_EQ(1, vg_vq_used_idx(&self->vq));
	ASSERT_EQ(0, memcmp(before, self->vq.used, PAGE))
		TH_LOG("the used ring was written through a read-only mapping");
	ASSERT_EQ(1, VX_COUNTER(self->d.fd, 0, "broken"));
}

/* Read one message within the timeout: true if it is a miss in @page. */
static bool miss_in(struct vg_dev *d, const uint8_t *page)
{
	struct vhost_msg_v2 m;

	memset(&m, 0, sizeof(m));
	return vg_iotlb_read(d, &m, VX_TIMEOUT_MS) == sizeof(m) &&
	       miss_ok(&m, vg_gpa(page), vg_gpa(page) + PAGE);
}

/* Map @page 1:1 and wait for the one buffer queued to complete. */
static bool answer_and_complete(struct vg_dev *d, struct vg_vq *vq,
				const uint8_t *page)
{
	return !vg_iotlb_update(d, vg_gpa(page), PAGE, vg_gpa(page),
				VHOST_ACCESS_RW) &&
	       vg_vq_wait_used(vq, 1, VX_TIMEOUT_MS) &&
	       vg_vq_get_used(vq, NULL, NULL) >= 0;
}

/*
 * Class: a bound on outstanding IOTLB misses that can wedge a queue.  A
 * vq has at most one miss message, but a miss the VMM read and cannot
 * answer must not make the queue deaf: a miss at a new address is
 * reported.  Here the guest rewrites the buffer it queued (it was not
 * taken) to point at another unmapped page: that miss must be readable.
 */
VX_TEST_F_TIMEOUT(ciotlb, iotlb_miss_bound_new_address, 300)
{
	uint8_t *a, *b;
	int head;

	IOTLB_OPEN(self);
	a = vg_alloc(&self->d, PAGE, PAGE);
	b = vg_alloc(&self->d, PAGE, PAGE);
	ASSERT_TRUE(a && b);
	head = queue_at(&self->vq, a);
	ASSERT_LE(0, head);
	ASSERT_TRUE(miss_in(&self->d, a));
	/* Not answered.  The same buffer now points at b. */
	self->vq.desc[head].addr = vg_gpa(b);
	self->vq.desc[self->vq.desc[head].next].addr = vg_gpa(b) + 2048;
	vg_vq_notify(&self->vq);
	ASSERT_TRUE(miss_in(&self->d, b)) TH_LOG("no miss for the new address");
	ASSERT_TRUE(answer_and_complete(&self->d, &self->vq, b));
}

/*
 * Same class: after the ring is restarted (backend detached and attached
 * again) its next miss is reported, even when it is the very miss the VMM
 * read before and left unanswered.
 */
VX_TEST_F_TIMEOUT(ciotlb, iotlb_miss_bound_ring_restart, 300)
{
	uint8_t *a;

	IOTLB_OPEN(self);
	a = vg_alloc(&self->d, PAGE, PAGE);
	ASSERT_NE(NULL, a);
	ASSERT_LE(0, queue_at(&self->vq, a));
	ASSERT_TRUE(miss_in(&self->d, a));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_TRUE(miss_in(&self->d, a)) TH_LOG("no miss after the restart");
	ASSERT_TRUE(answer_and_complete(&self->d, &self->vq, a));
}

/*
 * Same class: a read() that cannot copy the message out (EFAULT) does not
 * lose it: the next read() returns it.
 */
VX_TEST_F_TIMEOUT(ciotlb, iotlb_miss_bound_failed_read, 300)
{
	uint8_t *a;
	void *hole;

	IOTLB_OPEN(self);
	a = vg_alloc(&self->d, PAGE, PAGE);
	ASSERT_NE(NULL, a);
	hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_LE(0, queue_at(&self->vq, a));
	ASSERT_EQ(1, vg_wait_readable(self->d.fd, VX_TIMEOUT_MS));
	ASSERT_EQ(-1, read(self->d.fd, hole, sizeof(struct vhost_msg_v2)));
	ASSERT_EQ(EFAULT, errno);
	munmap(hole, PAGE);
	ASSERT_TRUE(miss_in(&self->d, a)) TH_LOG("the miss was lost");
	ASSERT_TRUE(answer_and_complete(&self->d, &self->vq, a));
}

struct sleeper {
	int fd;			/* blocking */
	volatile bool done;
	int ret, err;
};

static void *sleeper_fn(void *arg)
{
	struct sleeper *sl = arg;
	struct vhost_msg_v2 m;

	sl->ret = (int)read(sl->fd, &m, sizeof(m));
	sl->err = errno;
	sl->done = true;
	return NULL;
}

static void sig_nop(int sig)
{
}

/*
 * Class: a sleeper never woken when the state it waits on goes away.  A
 * read() blocked waiting for IOTLB messages must return when
 * VHOST_RESET_OWNER drops the IOTLB (EBADFD, as the kernel's vhost
 * returns), not sleep until a signal.
 */
VX_TEST_F_TIMEOUT(ciotlb, iotlb_read_woken_by_reset_owner, 120)
{
	struct sigaction sa = { .sa_handler = sig_nop };
	struct sleeper sl = { 0 };
	pthread_t th;
	long long t0;

	IOTLB_OPEN(self);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sl.fd = self->d.fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, sleeper_fn, &sl));
	usleep(VX_QUIET_MS * 1000);
	ASSERT_FALSE(sl.done) TH_LOG("read() returned %d with nothing queued",
				     sl.ret);
	ASSERT_EQ(0, vg_reset_owner(&self->d));
	for (t0 = now_ms(); !sl.done && now_ms() - t0 < VX_TIMEOUT_MS;)
		usleep(10000);
	if (!sl.done)
		pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	ASSERT_EQ(-1, sl.ret);
	ASSERT_EQ(EBADFD, sl.err) TH_LOG("read() ended with %s",
					 strerror(sl.err));
}

VX_HARNESS_MAIN
