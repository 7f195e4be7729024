// SPDX-License-Identifier: GPL-2.0
/*
 * hostile_test: a guest that writes malformed rings into /dev/vhostx-test.
 *
 * Defined outcome for every case (upstream vhost semantics): the device
 * completes nothing from the bad chain, signals the vring's error eventfd,
 * stays stalled on it (a good buffer queued behind it is not consumed), and
 * works again after the ring is reset (backend stopped, SET_VRING_BASE,
 * rings re-initialised, backend restarted).  The phostile fixture does the
 * same on packed rings.  The VM runner separately
 * fails the run on any oops/WARN/KASAN report in the kernel log.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define NUM		16
#define NEXT		VRING_DESC_F_NEXT
#define WR		VRING_DESC_F_WRITE
#define INDIR		VRING_DESC_F_INDIRECT

FIXTURE(hostile) {
	struct vg_dev d;
	struct vg_vq vq;
	uint8_t *buf;		/* 4 KiB of valid guest memory */
	uint64_t end;		/* first gpa past guest memory */
};

FIXTURE_SETUP(hostile)
{
	int r;

	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	r = vx_test_setup(&self->d, &self->vq, VG_F(VIRTIO_F_VERSION_1) |
			  VG_F(VIRTIO_RING_F_INDIRECT_DESC), NUM, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
	self->buf = vg_alloc(&self->d, 4096, 4096);
	ASSERT_NE(NULL, self->buf);
	self->end = vg_gpa(self->d.arena) + self->d.arena_size;
	/* Sanity: the device works before we attack it. */
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
}

FIXTURE_TEARDOWN(hostile)
{
	vx_test_teardown(&self->d, &self->vq);
}

/* Builders get the fixture and write a hostile ring (not yet published). */
#define HOSTILE(name)							\
	static void build_##name(FIXTURE_DATA(hostile) *self);		\
	VX_TEST_F(hostile, name)					\
	{								\
		build_##name(self);					\
		vx_expect_rejected(_metadata, &self->vq, #name);	\
		vx_expect_recovers(_metadata, &self->vq);		\
	}								\
	static void build_##name(FIXTURE_DATA(hostile) *self)

#define B(self)		vg_gpa((self)->buf)
#define DESC(self, i, a, l, f, n) vg_vq_raw_desc(&(self)->vq, i, a, l, f, n)
#define PUSH(self, h)	vg_vq_raw_push(&(self)->vq, h)

/* An indirect table in guest memory. */
static struct vring_desc *table(FIXTURE_DATA(hostile) *self, size_t n)
{
	return vg_alloc(&self->d, n * sizeof(struct vring_desc), 16);
}

HOSTILE(desc_self_loop)
{
	DESC(self, 0, B(self), 16, NEXT, 0);
	PUSH(self, 0);
}

HOSTILE(desc_loop_two)
{
	DESC(self, 0, B(self), 16, NEXT, 1);
	DESC(self, 1, B(self) + 16, 16, NEXT, 0);
	PUSH(self, 0);
}

/* Visits every descriptor, then comes back: longer than the ring. */
HOSTILE(chain_longer_than_ring)
{
	unsigned int i;

	for (i = 0; i < NUM; i++)
		DESC(self, i, B(self) + i * 8, 8, NEXT, (i + 1) % NUM);
	PUSH(self, 0);
}

HOSTILE(next_out_of_range)
{
	DESC(self, 0, B(self), 16, NEXT, NUM);
	PUSH(self, 0);
}

HOSTILE(head_out_of_range)
{
	PUSH(self, NUM);
}

HOSTILE(head_0xffff)
{
	PUSH(self, 0xffff);
}

/* avail->idx moves by more than the ring size. */
HOSTILE(avail_idx_jump)
{
	DESC(self, 0, B(self), 16, 0, 0);
	self->vq.avail_idx += NUM + 1;
}

HOSTILE(avail_idx_backwards)
{
	self->vq.avail_idx -= 1;
}

HOSTILE(nested_indirect)
{
	struct vring_desc *t = table(self, 2), *inner = table(self, 1);

	inner[0] = (struct vring_desc){ B(self), 16, 0, 0 };
	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ vg_gpa(inner), 16, INDIR, 0 };
	DESC(self, 0, vg_gpa(t), 32, INDIR, 0);
	PUSH(self, 0);
}

HOSTILE(indirect_len_not_multiple_of_16)
{
	struct vring_desc *t = table(self, 2);

	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ B(self) + 16, 16, 0, 0 };
	DESC(self, 0, vg_gpa(t), 24, INDIR, 0);
	PUSH(self, 0);
}

/* An indirect descriptor ends the chain: INDIRECT with NEXT is refused
 * (virtio 1.x 2.7.5.3.1; the kernel's vhost follows NEXT instead). */
HOSTILE(indirect_with_next)
{
	struct vring_desc *t = table(self, 1);

	t[0] = (struct vring_desc){ B(self), 16, 0, 0 };
	DESC(self, 0, vg_gpa(t), 16, INDIR | NEXT, 1);
	DESC(self, 1, B(self) + 16, 16, 0, 0);
	PUSH(self, 0);
}

/*
 * Two readable descriptors whose lengths add up past 4 GiB.  A second
 * region of 8 GiB (beyond the arena, never touched: translation only
 * checks it is user address space) makes both translate, so the only
 * thing that can stop the chain is the length overflow check.  Control
 * first: one 3.75 GiB readable buffer there is accepted (used len 0: the
 * test device copies only into writable descriptors).
 */
VX_TEST_F(hostile, chain_length_overflows_u32)
{
	const uint64_t gpa = 1ULL << 40;
	struct vhost_memory_region r[2] = {
		{ .guest_phys_addr = vg_gpa(self->d.arena),
		  .memory_size = self->d.arena_size,
		  .userspace_addr = vg_gpa(self->d.arena) },
		{ .guest_phys_addr = gpa, .memory_size = 8ULL << 30,
		  .userspace_addr = 1ULL << 45 },
	};
	uint16_t used;

	ASSERT_EQ(0, vg_set_mem_regions(&self->d, r, 2));

	used = vg_vq_used_idx(&self->vq);
	DESC(self, 0, gpa, 0xf0000000u, 0, 0);
	PUSH(self, 0);
	vg_vq_publish(&self->vq);
	ASSERT_EQ(0, vg_vq_notify(&self->vq));
	ASSERT_TRUE(vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS))
		TH_LOG("a 3.75 GiB buffer in the big region was not accepted");
	ASSERT_EQ((uint16_t)(used + 1), vg_vq_used_idx(&self->vq));

	DESC(self, 1, gpa, 0xf0000000u, NEXT, 2);
	DESC(self, 2, gpa + 0xf0000000u, 0x20000000u, 0, 0);
	PUSH(self, 1);
	vx_expect_rejected(_metadata, &self->vq, "chain length over 4 GiB");
	vx_expect_recovers(_metadata, &self->vq);
}

HOSTILE(indirect_len_zero)
{
	struct vring_desc *t = table(self, 1);

	t[0] = (struct vring_desc){ B(self), 16, 0, 0 };
	DESC(self, 0, vg_gpa(t), 0, INDIR, 0);
	PUSH(self, 0);
}

/* More than 65536 entries: a 16-bit next cannot address them. */
HOSTILE(indirect_table_too_big)
{
	size_t n = 65536 + 1;
	struct vring_desc *t = table(self, n);
	size_t i;

	for (i = 0; t && i < n; i++)
		t[i] = (struct vring_desc){ B(self), 1, NEXT, (uint16_t)(i + 1) };
	DESC(self, 0, t ? vg_gpa(t) : B(self), (uint32_t)(n * 16), INDIR, 0);
	PUSH(self, 0);
}

HOSTILE(indirect_loop)
{
	struct vring_desc *t = table(self, 2);

	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ B(self) + 16, 16, NEXT, 0 };
	DESC(self, 0, vg_gpa(t), 32, INDIR, 0);
	PUSH(self, 0);
}

HOSTILE(indirect_table_outside_memory)
{
	DESC(self, 0, self->end + (1 << 20), 32, INDIR, 0);
	PUSH(self, 0);
}

HOSTILE(out_after_in)
{
	DESC(self, 0, B(self), 16, NEXT, 1);		/* out */
	DESC(self, 1, B(self) + 16, 16, WR | NEXT, 2);	/* in */
	DESC(self, 2, B(self) + 32, 16, 0, 0);		/* out again */
	PUSH(self, 0);
}

HOSTILE(out_after_in_indirect)
{
	struct vring_desc *t = table(self, 2);

	t[0] = (struct vring_desc){ B(self), 16, WR | NEXT, 1 };
	t[1] = (struct vring_desc){ B(self) + 16, 16, 0, 0 };
	DESC(self, 0, vg_gpa(t), 32, INDIR, 0);
	PUSH(self, 0);
}

HOSTILE(out_addr_outside_memory)
{
	DESC(self, 0, self->end + (1 << 20), 64, 0, 0);
	PUSH(self, 0);
}

HOSTILE(in_addr_outside_memory)
{
	DESC(self, 0, B(self), 64, NEXT, 1);
	DESC(self, 1, self->end + (1 << 20), 64, WR, 0);
	PUSH(self, 0);
}

HOSTILE(addr_below_memory)
{
	DESC(self, 0, 4096, 64, 0, 0);
	PUSH(self, 0);
}

/* addr + len wraps around 2^64. */
HOSTILE(addr_len_overflow)
{
	DESC(self, 0, ~0ULL - 10, 100, 0, 0);
	PUSH(self, 0);
}

/* Starts inside guest memory, ends outside it. */
HOSTILE(buffer_straddles_memory_end)
{
	DESC(self, 0, self->end - 32, 64, 0, 0);
	PUSH(self, 0);
}

HOSTILE(len_4g_minus_1)
{
	DESC(self, 0, B(self), 0xffffffffu, 0, 0);
	PUSH(self, 0);
}

HOSTILE(in_addr_len_overflow_indirect)
{
	struct vring_desc *t = table(self, 2);

	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ ~0ULL - 10, 100, WR, 0 };
	DESC(self, 0, vg_gpa(t), 32, INDIR, 0);
	PUSH(self, 0);
}

/*
 * Zero-length descriptors are not an error upstream: they translate to no
 * iovec at all, whatever their address.  The chain echoes normally.
 */
VX_TEST_F(hostile, zero_len_desc_ignored)
{
	uint8_t *out, *in;
	uint32_t len;

	out = self->buf;
	in = self->buf + 512;
	vg_fill(out, 32, 7);
	DESC(self, 0, vg_gpa(out), 32, NEXT, 1);
	DESC(self, 1, self->end + (1 << 20), 0, WR | NEXT, 2);
	DESC(self, 2, vg_gpa(in), 32, WR, 0);
	PUSH(self, 0);
	vg_vq_publish(&self->vq);
	vg_vq_notify(&self->vq);
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
	len = self->vq.used->ring[(uint16_t)(vg_vq_used_idx(&self->vq) - 1) % NUM].len;
	ASSERT_EQ(32, len);
	ASSERT_EQ(-1, vg_check(in, 32, 7, 0));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
	vx_expect_recovers(_metadata, &self->vq);
}

/* Misaligned ring addresses are refused at SET_VRING_ADDR. */
VX_TEST_F(hostile, ring_addr_misaligned)
{
	struct vhost_vring_addr a = {
		.index = 0,
		.desc_user_addr = vg_gpa(self->vq.desc),
		.avail_user_addr = vg_gpa(self->vq.avail) + 1,
		.used_user_addr = vg_gpa(self->vq.used),
	};

	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(-EINVAL, vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	a.avail_user_addr -= 1;
	a.used_user_addr += 2;
	ASSERT_EQ(-EINVAL, vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	vx_expect_recovers(_metadata, &self->vq);
}

/* A kernel address is refused while running (access_ok fails). */
VX_TEST_F(hostile, ring_addr_kernel_while_running)
{
	struct vhost_vring_addr a = {
		.index = 0,
		.desc_user_addr = 0xffff888000000000ULL,
		.avail_user_addr = vg_gpa(self->vq.avail),
		.used_user_addr = vg_gpa(self->vq.used),
	};

	ASSERT_EQ(-EINVAL, vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 4));
	/* Stopped, it is accepted, but starting must then fail. */
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(-EFAULT, vg_test_start(&self->d));
	vx_expect_recovers(_metadata, &self->vq);
}

/* An unmapped page in the process: returns its address. */
static uint64_t unmapped_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p, 4096);
	return vg_gpa(p);
}

static int set_ring(FIXTURE_DATA(hostile) *self, uint64_t desc,
		    uint64_t avail, uint64_t used)
{
	struct vhost_vring_addr a = {
		.index = 0, .desc_user_addr = desc,
		.avail_user_addr = avail, .used_user_addr = used,
	};

	return vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a);
}

/* The used ring is written at start: starting must fail with EFAULT. */
VX_TEST_F(hostile, used_ring_unmapped)
{
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, set_ring(self, vg_gpa(self->vq.desc),
			      vg_gpa(self->vq.avail), unmapped_page()));
	ASSERT_EQ(-EFAULT, vg_test_start(&self->d));
	vx_expect_recovers(_metadata, &self->vq);
}

/*
 * Desc/avail rings are only read on a kick upstream: start may succeed,
 * the kick then signals the error eventfd.  (A device that validates them
 * at start must fail that with EFAULT instead.)
 */
static void unmapped_ring_read(struct __test_metadata *_metadata,
			       FIXTURE_DATA(hostile) *self, bool desc)
{
	int r;

	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, set_ring(self,
			      desc ? unmapped_page() : vg_gpa(self->vq.desc),
			      desc ? vg_gpa(self->vq.avail) : unmapped_page(),
			      vg_gpa(self->vq.used)));
	r = vg_test_start(&self->d);
	if (r) {
		ASSERT_EQ(-EFAULT, r);
	} else {
		/* The device may already have looked (and failed) at start. */
		ASSERT_EQ(0, vg_vq_notify(&self->vq));
		ASSERT_LE(1, vg_wait_eventfd(self->vq.err_fd, VX_TIMEOUT_MS));
		ASSERT_EQ(1, vg_vq_used_idx(&self->vq));
	}
	vx_expect_recovers(_metadata, &self->vq);
}

VX_TEST_F(hostile, desc_ring_unmapped)
{
	/* Queue something so the device reaches the descriptor table. */
	DESC(self, 0, B(self), 16, 0, 0);
	PUSH(self, 0);
	vg_vq_publish(&self->vq);
	unmapped_ring_read(_metadata, self, true);
}

VX_TEST_F(hostile, avail_ring_unmapped)
{
	unmapped_ring_read(_metadata, self, false);
}

/* After all that, a brand-new open of the device works too. */
VX_TEST_F(hostile, fresh_fd_after_abuse)
{
	struct vg_dev d2;
	struct vg_vq vq2;

	DESC(self, 0, B(self), 16, NEXT, 0);
	PUSH(self, 0);
	vx_expect_rejected(_metadata, &self->vq, "self loop");
	ASSERT_EQ(0, vx_test_setup(&d2, &vq2, VG_F(VIRTIO_F_VERSION_1), 64, 0));
	ASSERT_EQ(0, vx_echo_once(&vq2, 1000, 9));
	vg_test_stop(&d2);
	vg_vq_free(&vq2);
	vg_close(&d2);
}

/*
 * Packed rings (VIRTIO_F_RING_PACKED): the same outcome for what is
 * hostile there.  A builder writes descriptors from the driver's next
 * position on, the head (k == 0) last, as a driver publishes.
 */
FIXTURE(phostile) {
	struct vg_dev d;
	struct vg_vq vq;
	uint8_t *buf;		/* 4 KiB of valid guest memory */
	uint64_t end;		/* first gpa past guest memory */
};

FIXTURE_SETUP(phostile)
{
	int r;

	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	/* 12: not a power of two, as packed rings allow. */
	r = vx_test_setup(&self->d, &self->vq, VG_F(VIRTIO_F_VERSION_1) |
			  VG_F(VIRTIO_F_RING_PACKED) |
			  VG_F(VIRTIO_RING_F_INDIRECT_DESC) |
			  VG_F(VIRTIO_RING_F_EVENT_IDX), 12, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
	self->buf = vg_alloc(&self->d, 4096, 4096);
	ASSERT_NE(NULL, self->buf);
	self->end = vg_gpa(self->d.arena) + self->d.arena_size;
	/* Sanity, and the ring's position moves off slot 0. */
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
}

FIXTURE_TEARDOWN(phostile)
{
	vx_test_teardown(&self->d, &self->vq);
}

#define PHOSTILE(name)							\
	static void pbuild_##name(FIXTURE_DATA(phostile) *self);	\
	VX_TEST_F(phostile, name)					\
	{								\
		pbuild_##name(self);					\
		vx_expect_rejected(_metadata, &self->vq, #name);	\
		vx_expect_recovers(_metadata, &self->vq);		\
	}								\
	static void pbuild_##name(FIXTURE_DATA(phostile) *self)

/*
 * Descriptor @k of the buffer at the driver's position, available; the
 * head's flags wait for vg_vq_publish(), so the device cannot see the
 * buffer before the test looks for its error.
 */
static void pdesc(FIXTURE_DATA(phostile) *self, unsigned int k, uint64_t addr,
		  uint32_t len, uint16_t id, uint16_t flags)
{
	vg_pos_t pos = vg_pos_add(&self->vq, self->vq.avail_pos, k);

	flags |= vg_pos_flags(&self->vq, pos);
	if (k)
		vg_vq_raw_pdesc(&self->vq, pos, addr, len, id, flags);
	else
		vg_vq_raw_pdesc_head(&self->vq, pos, addr, len, id, flags);
}

/* The same with the AVAIL/USED bits of the other lap. */
static void pdesc_other_lap(FIXTURE_DATA(phostile) *self, unsigned int k,
			    uint64_t addr, uint32_t len, uint16_t id,
			    uint16_t flags)
{
	vg_pos_t pos = vg_pos_add(&self->vq, self->vq.avail_pos,
				  k + self->vq.num);

	vg_vq_raw_pdesc(&self->vq, vg_pos_add(&self->vq, self->vq.avail_pos, k),
			addr, len, id, flags | vg_pos_flags(&self->vq, pos));
}

static struct vring_packed_desc *ptable(FIXTURE_DATA(phostile) *self,
					size_t n)
{
	return vg_alloc(&self->d, n * 16, 16);
}

#define PB(self)	vg_gpa((self)->buf)

/* The second descriptor of a chain is in the other lap. */
PHOSTILE(wrap_flips_mid_chain)
{
	pdesc_other_lap(self, 1, PB(self) + 64, 64, 0, WR);
	pdesc(self, 0, PB(self), 64, 0, NEXT);
}

/* Every descriptor says NEXT: the chain would go round the ring. */
PHOSTILE(chain_longer_than_ring)
{
	unsigned int k;

	for (k = self->vq.num; k-- > 0;)
		pdesc(self, k, PB(self), 16, 0, NEXT);
}

PHOSTILE(id_out_of_range)
{
	pdesc(self, 1, PB(self) + 64, 64, self->vq.num, WR);
	pdesc(self, 0, PB(self), 64, self->vq.num, NEXT);
}

PHOSTILE(id_0xffff)
{
	pdesc(self, 0, PB(self), 64, 0xffff, 0);
}

/*
 * Two buffers with one id, made available together: the second reuses an
 * id the device still holds (the first is taken, not yet used).
 */
PHOSTILE(id_reused_while_in_flight)
{
	pdesc(self, 1, PB(self) + 64, 64, 3, 0);
	pdesc(self, 0, PB(self), 64, 3, 0);
}

/*
 * The same id again once the device used it is the driver's right: the
 * library hands out the id it got back last, so every buffer here has
 * the first one's id.
 */
VX_TEST_F(phostile, id_reused_after_use_accepted)
{
	uint8_t *out = self->buf, *in = self->buf + 1024;
	int round, head, first = -1;
	uint32_t len;

	for (round = 0; round < 4; round++) {
		vg_fill(out, 200, round);
		head = vg_vq_add_buf(&self->vq, out, 200, in, 200, out);
		ASSERT_LE(0, head);
		if (first < 0)
			first = head;
		ASSERT_EQ(first, head);
		vg_vq_kick(&self->vq);
		ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
		ASSERT_EQ(head, vg_vq_get_used(&self->vq, &len, NULL));
		ASSERT_EQ(200, len);
		ASSERT_EQ(-1, vg_check(in, 200, round, 0));
	}
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

PHOSTILE(indirect_with_next)
{
	struct vring_packed_desc *t = ptable(self, 1);

	t[0] = (struct vring_packed_desc){ .addr = PB(self), .len = 16 };
	pdesc(self, 1, PB(self), 16, 0, 0);
	pdesc(self, 0, vg_gpa(t), 16, 0, INDIR | NEXT);
}

PHOSTILE(nested_indirect)
{
	struct vring_packed_desc *t = ptable(self, 2), *u = ptable(self, 1);

	u[0] = (struct vring_packed_desc){ .addr = PB(self), .len = 16 };
	t[0] = (struct vring_packed_desc){ .addr = PB(self), .len = 16 };
	t[1] = (struct vring_packed_desc){ .addr = vg_gpa(u), .len = 16,
					   .flags = INDIR };
	pdesc(self, 0, vg_gpa(t), 32, 0, INDIR);
}

PHOSTILE(indirect_len_zero)
{
	pdesc(self, 0, vg_gpa(ptable(self, 1)), 0, 0, INDIR);
}

PHOSTILE(indirect_len_not_multiple_of_16)
{
	pdesc(self, 0, vg_gpa(ptable(self, 2)), 24, 0, INDIR);
}

/* Over the limit (1024 entries), whatever is there. */
PHOSTILE(indirect_table_too_big)
{
	pdesc(self, 0, PB(self), 1025 * 16, 0, INDIR);
}

PHOSTILE(indirect_table_outside_memory)
{
	pdesc(self, 0, self->end, 16, 0, INDIR);
}

PHOSTILE(out_after_in)
{
	pdesc(self, 1, PB(self) + 64, 64, 0, 0);
	pdesc(self, 0, PB(self), 64, 0, WR | NEXT);
}

PHOSTILE(addr_outside_memory)
{
	pdesc(self, 0, self->end, 64, 0, WR);
}

/* Device-writable data at the end of a chain that goes on past it. */
PHOSTILE(in_addr_len_overflow_indirect)
{
	struct vring_packed_desc *t = ptable(self, 2);

	t[0] = (struct vring_packed_desc){ .addr = PB(self), .len = 16 };
	t[1] = (struct vring_packed_desc){ .addr = ~0ULL - 8, .len = 64,
					   .flags = WR };
	pdesc(self, 0, vg_gpa(t), 32, 0, INDIR);
}

/*
 * Inside an indirect table only WRITE counts: NEXT there is ignored
 * (2.8.19), the entries are used in order.
 */
VX_TEST_F(phostile, next_inside_indirect_ignored)
{
	struct vring_packed_desc *t = ptable(self, 2);
	uint8_t *out = self->buf, *in = self->buf + 256;
	uint32_t len;
	vg_pos_t pos;
	int id;

	vg_fill(out, 100, 5);
	t[0] = (struct vring_packed_desc){ .addr = vg_gpa(out), .len = 100,
					   .flags = NEXT };
	t[1] = (struct vring_packed_desc){ .addr = vg_gpa(in), .len = 100,
					   .flags = WR | NEXT };
	/* The library's bookkeeping for one buffer of one descriptor... */
	id = self->vq.free_id;
	pos = self->vq.avail_pos;
	self->vq.free_id = self->vq.id_next[id];
	self->vq.slots[id].cookie = out;
	self->vq.slots[id].ndesc = 1;
	self->vq.num_free--;
	self->vq.avail_pos = self->vq.publish_pos = vg_pos_add(&self->vq, pos, 1);
	/* ...then the head, written as a driver publishes it. */
	vg_vq_raw_pdesc(&self->vq, pos, vg_gpa(t), 32, id,
			INDIR | vg_pos_flags(&self->vq, pos));
	ASSERT_EQ(0, vg_vq_notify(&self->vq));
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
	ASSERT_EQ(id, vg_vq_get_used(&self->vq, &len, NULL));
	ASSERT_EQ(100, len);
	ASSERT_EQ(-1, vg_check(in, 100, 5, 0));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

/* The device event area is written at start: starting must fail. */
VX_TEST_F(phostile, device_area_unmapped)
{
	struct vhost_vring_addr a = {
		.index = 0, .desc_user_addr = vg_gpa(self->vq.pdesc),
		.avail_user_addr = vg_gpa(self->vq.pdriver),
		.used_user_addr = unmapped_page(),
	};

	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(-EFAULT, vg_test_start(&self->d));
	vx_expect_recovers(_metadata, &self->vq);
}

/* The descriptor ring is read on a kick: the kick reports the error. */
VX_TEST_F(phostile, desc_ring_unmapped)
{
	struct vhost_vring_addr a = {
		.index = 0, .desc_user_addr = unmapped_page(),
		.avail_user_addr = vg_gpa(self->vq.pdriver),
		.used_user_addr = vg_gpa(self->vq.pdevice),
	};
	int r;

	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vx_ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	r = vg_test_start(&self->d);
	if (r) {
		ASSERT_EQ(-EFAULT, r);
	} else {
		ASSERT_EQ(0, vg_vq_notify(&self->vq));
		ASSERT_LE(1, vg_wait_eventfd(self->vq.err_fd, VX_TIMEOUT_MS));
	}
	vx_expect_recovers(_metadata, &self->vq);
}

/* A driver event area the guest filled with nonsense: calls, no harm. */
VX_TEST_F(phostile, driver_event_nonsense)
{
	self->vq.pdriver->flags = 0xffff;
	self->vq.pdriver->off_wrap = 0xffff;
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 3));
	self->vq.pdriver->flags = VRING_PACKED_EVENT_FLAG_DESC;
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 4));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

/*
 * A driver that negotiated IN_ORDER must make descriptors available in
 * table order (virtio 1.x, 2.7.9): each head right after the previous
 * buffer's descriptors.  One that skips or reorders heads broke the
 * contract the batched used entries rely on: the queue stops at that
 * buffer with the error eventfd, the buffers before it complete.
 */
FIXTURE(hostile_in_order) {
	struct vg_dev d;
	struct vg_vq vq;
	uint8_t *buf;
};

FIXTURE_SETUP(hostile_in_order)
{
	int r;

	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	r = vx_test_setup(&self->d, &self->vq, VG_F(VIRTIO_F_VERSION_1) |
			  VG_F(VIRTIO_RING_F_INDIRECT_DESC) |
			  VG_F(VIRTIO_F_IN_ORDER), NUM, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
	ASSERT_TRUE(self->vq.in_order);
	self->buf = vg_alloc(&self->d, 4096, 4096);
	ASSERT_NE(NULL, self->buf);
	/* Two descriptors (out, in): heads 0 and 1; 2 is next. */
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
}

FIXTURE_TEARDOWN(hostile_in_order)
{
	vx_test_teardown(&self->d, &self->vq);
}

#define IO_DESC(i) vg_vq_raw_desc(&self->vq, i, vg_gpa(self->buf), 16, 0, 0)

/* Head 5 where 2 is due: three descriptors skipped. */
VX_TEST_F(hostile_in_order, skipped_head)
{
	IO_DESC(5);
	vg_vq_raw_push(&self->vq, 5);
	vx_expect_rejected(_metadata, &self->vq, "skipped head");
	vx_expect_recovers(_metadata, &self->vq);
}

/* Heads 3 then 2: the first is already out of order. */
VX_TEST_F(hostile_in_order, reordered_heads)
{
	IO_DESC(2);
	IO_DESC(3);
	vg_vq_raw_push(&self->vq, 3);
	vg_vq_raw_push(&self->vq, 2);
	vx_expect_rejected(_metadata, &self->vq, "reordered heads");
	vx_expect_recovers(_metadata, &self->vq);
}

/*
 * Heads 2 and 3 (good, one used entry for both: out-only buffers), then 3
 * again and 4: the repeated head stops the queue, nothing after it used.
 */
VX_TEST_F(hostile_in_order, repeated_head_after_good_ones)
{
	uint16_t used = vg_vq_used_idx(&self->vq);

	IO_DESC(2);
	IO_DESC(3);
	IO_DESC(4);
	self->vq.used->ring[(used + 1) % NUM].id = 0xdead;
	vg_vq_raw_push(&self->vq, 2);
	vg_vq_raw_push(&self->vq, 3);
	vg_vq_publish(&self->vq);
	ASSERT_EQ(0, vg_vq_notify(&self->vq));
	ASSERT_EQ(2, vg_vq_wait_used(&self->vq, 2, VX_TIMEOUT_MS));
	ASSERT_EQ(3, self->vq.used->ring[used % NUM].id);
	ASSERT_EQ(0xdead, self->vq.used->ring[(used + 1) % NUM].id);
	vg_vq_raw_push(&self->vq, 3);
	vg_vq_raw_push(&self->vq, 4);
	vx_expect_rejected(_metadata, &self->vq, "repeated head");
	vx_expect_recovers(_metadata, &self->vq);
}

/* An indirect buffer takes one descriptor of the table: 3 follows 2. */
VX_TEST_F(hostile_in_order, indirect_counts_one_descriptor)
{
	struct vring_desc *t = vg_alloc(&self->d, 2 * sizeof(*t), 16);

	ASSERT_NE(NULL, t);
	t[0] = (struct vring_desc){ vg_gpa(self->buf), 16, 0, 0 };
	vg_vq_raw_desc(&self->vq, 2, vg_gpa(t), sizeof(*t),
		       VRING_DESC_F_INDIRECT, 0);
	IO_DESC(3);
	vg_vq_raw_push(&self->vq, 2);
	vg_vq_raw_push(&self->vq, 3);
	vg_vq_publish(&self->vq);
	ASSERT_EQ(0, vg_vq_notify(&self->vq));
	ASSERT_EQ(2, vg_vq_wait_used(&self->vq, 2, VX_TIMEOUT_MS));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

VX_HARNESS_MAIN
