// SPDX-License-Identifier: GPL-2.0
/*
 * cve_ring_test: one test per ring-walking vulnerability class of
 * Documentation/vhostx/security.rst, on /dev/vhostx-test.
 *
 * Guest memory is two regions with a 4 MiB hole between them, so "outside
 * every region" includes an address between two regions, not only past
 * the end.  For every hostile ring the device must: complete nothing,
 * signal the vring's error eventfd, count an error in fdinfo, stay stalled
 * on the bad chain, and echo byte-exact again once the ring is reset.
 * (hostile_test covers more shapes of the same classes one by one.)
 */
#include "kselftest_harness.h"
#include "vx_common.h"

#define NUM		16
#define NEXT		VRING_DESC_F_NEXT
#define WR		VRING_DESC_F_WRITE
#define INDIR		VRING_DESC_F_INDIRECT
#define LOW_LEN		(8UL << 20)	/* region 0: arena[0, 8M) */
#define HOLE_LEN	(4UL << 20)	/* hole: arena[8M, 12M) */

FIXTURE(ring) {
	struct vg_dev d;
	struct vg_vq vq;
	uint8_t *buf;		/* 4 KiB of valid guest memory */
	uint64_t hole;		/* first gpa of the hole */
	uint64_t high;		/* first gpa of region 1 */
	uint64_t end;		/* first gpa past guest memory */
};

FIXTURE_SETUP(ring)
{
	struct vhost_memory_region reg[2];
	uint64_t a;
	int r;

	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	r = vx_dev_setup(&self->d, &self->vq, VX_TEST_DEV,
			 VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_INDIRECT_DESC),
			 0, NUM, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
	a = vg_gpa(self->d.arena);
	self->hole = a + LOW_LEN;
	self->high = self->hole + HOLE_LEN;
	self->end = a + self->d.arena_size;
	ASSERT_LT(self->high, self->end);
	reg[0] = (struct vhost_memory_region){ a, LOW_LEN, a, 0 };
	reg[1] = (struct vhost_memory_region){ self->high, self->end - self->high,
					       self->high, 0 };
	ASSERT_EQ(0, vg_set_mem_regions(&self->d, reg, 2));
	ASSERT_EQ(0, vg_test_start(&self->d));
	self->buf = vg_alloc(&self->d, 4096, 4096);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
}

FIXTURE_TEARDOWN(ring)
{
	vx_test_teardown(&self->d, &self->vq);
}

#define B(self)			vg_gpa((self)->buf)
#define DESC(i, a, l, f, n)	vg_vq_raw_desc(&self->vq, i, a, l, f, n)
#define PUSH(h)			vg_vq_raw_push(&self->vq, h)
#define CASE(what) do {						\
	vx_expect_rejected(_metadata, &self->vq, what);			\
	vx_expect_recovers(_metadata, &self->vq);			\
} while (0)

static struct vring_desc *table(FIXTURE_DATA(ring) *self, size_t n)
{
	return vg_alloc(&self->d, n * sizeof(struct vring_desc), 16);
}

/* Class: descriptor loops and chains longer than the ring. */
VX_TEST_F_TIMEOUT(ring, desc_loop_and_chain_longer_than_ring, 300)
{
	struct vring_desc *t;
	unsigned int i;

	DESC(0, B(self), 16, NEXT, 0);
	PUSH(0);
	CASE("self loop");

	DESC(3, B(self), 16, NEXT, 7);
	DESC(7, B(self) + 16, 16, NEXT, 3);
	PUSH(3);
	CASE("two-descriptor loop");

	for (i = 0; i < NUM; i++)	/* every descriptor once, then again */
		DESC(i, B(self) + i * 8, 8, NEXT, (i + 1) % NUM);
	PUSH(5);
	CASE("chain through the whole ring and around");

	t = table(self, 3);
	ASSERT_NE(NULL, t);
	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ B(self) + 16, 16, NEXT, 2 };
	t[2] = (struct vring_desc){ B(self) + 32, 16, NEXT, 0 };
	DESC(0, vg_gpa(t), 48, INDIR, 0);
	PUSH(0);
	CASE("loop inside an indirect table");
}

/* Class: avail index jumping by more than the ring size. */
VX_TEST_F_TIMEOUT(ring, avail_idx_jump_beyond_ring_size, 300)
{
	DESC(0, B(self), 16, 0, 0);
	self->vq.avail_idx += NUM + 1;
	CASE("avail idx + NUM + 1");

	self->vq.avail_idx += 0x8000;
	CASE("avail idx + 0x8000");

	self->vq.avail_idx -= 1;
	CASE("avail idx moved backwards");
}

/* Class: head index out of range. */
VX_TEST_F_TIMEOUT(ring, head_index_out_of_range, 300)
{
	PUSH(NUM);
	CASE("head == NUM");
	PUSH(0xffff);
	CASE("head 0xffff");
	DESC(2, B(self), 16, NEXT, NUM + 3);
	PUSH(2);
	CASE("next out of range");
}

/* Class: nested indirect tables. */
VX_TEST_F_TIMEOUT(ring, nested_indirect_table, 300)
{
	struct vring_desc *t = table(self, 2), *inner = table(self, 1);

	ASSERT_NE(NULL, inner);
	inner[0] = (struct vring_desc){ B(self), 16, 0, 0 };
	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ vg_gpa(inner), 16, INDIR, 0 };
	DESC(0, vg_gpa(t), 32, INDIR, 0);
	PUSH(0);
	CASE("indirect descriptor inside an indirect table");

	DESC(1, vg_gpa(inner), 16, INDIR | NEXT, 2);
	DESC(2, B(self), 16, 0, 0);
	PUSH(1);
	CASE("indirect descriptor with NEXT");
}

/* Class: indirect length not a multiple of 16. */
VX_TEST_F_TIMEOUT(ring, indirect_len_not_multiple_of_16, 300)
{
	struct vring_desc *t = table(self, 2);
	static const uint32_t lens[] = { 24, 8, 33, 0 };
	unsigned int i;

	ASSERT_NE(NULL, t);
	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ B(self) + 16, 16, WR, 0 };
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		DESC(0, vg_gpa(t), lens[i], INDIR, 0);
		PUSH(0);
		CASE("indirect table length");
	}
}

/* Class: huge indirect tables. */
VX_TEST_F_TIMEOUT(ring, huge_indirect_table, 300)
{
	size_t n = 65537, i;
	struct vring_desc *t = table(self, n);

	ASSERT_NE(NULL, t);
	/* More entries than a 16-bit next can address. */
	for (i = 0; i < n; i++)
		t[i] = (struct vring_desc){ B(self), 1, NEXT, (uint16_t)(i + 1) };
	DESC(0, vg_gpa(t), (uint32_t)(n * 16), INDIR, 0);
	PUSH(0);
	CASE("65537-entry indirect table");

	/* 4096 one-byte entries chained: more segments than any iovec array. */
	for (i = 0; i < 4096; i++)
		t[i] = (struct vring_desc){ B(self) + (i % 64) * 64, 1,
					    (uint16_t)(i < 4095 ? NEXT : 0),
					    (uint16_t)(i + 1) };
	DESC(0, vg_gpa(t), 4096 * 16, INDIR, 0);
	PUSH(0);
	CASE("4096-entry indirect chain");

	/* A table length near 4 GiB, a multiple of 16, mostly unmapped. */
	DESC(0, vg_gpa(t), 0xfffffff0u, INDIR, 0);
	PUSH(0);
	CASE("indirect table of 4 GiB");
}

/* Class: out (readable) descriptors after in (writable) ones. */
VX_TEST_F_TIMEOUT(ring, out_desc_after_in_desc, 300)
{
	struct vring_desc *t = table(self, 3);

	ASSERT_NE(NULL, t);
	DESC(0, B(self), 16, NEXT, 1);
	DESC(1, B(self) + 16, 16, WR | NEXT, 2);
	DESC(2, B(self) + 32, 16, 0, 0);
	PUSH(0);
	CASE("out after in, direct");

	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ B(self) + 16, 16, WR | NEXT, 2 };
	t[2] = (struct vring_desc){ B(self) + 32, 16, 0, 0 };
	DESC(0, vg_gpa(t), 48, INDIR, 0);
	PUSH(0);
	CASE("out after in, indirect");
}

/* Class: addresses outside every memory region. */
VX_TEST_F_TIMEOUT(ring, addr_outside_every_region, 300)
{
	DESC(0, self->hole + 4096, 64, 0, 0);
	PUSH(0);
	CASE("out buffer in the hole between regions");

	DESC(0, B(self), 64, NEXT, 1);
	DESC(1, self->hole + 8192, 64, WR, 0);
	PUSH(0);
	CASE("in buffer in the hole between regions");

	DESC(0, self->hole - 32, 64, 0, 0);
	PUSH(0);
	CASE("buffer running from region 0 into the hole");

	DESC(0, self->high - 32, 64, 0, 0);
	PUSH(0);
	CASE("buffer running from the hole into region 1");

	DESC(0, self->end - 16, 64, 0, 0);
	PUSH(0);
	CASE("buffer running past the last region");

	DESC(0, 4096, 64, 0, 0);
	PUSH(0);
	CASE("buffer below every region");

	DESC(0, self->hole, 32, INDIR, 0);
	PUSH(0);
	CASE("indirect table in the hole");
}

/* Class: addr + len overflow. */
VX_TEST_F_TIMEOUT(ring, addr_plus_len_overflow, 300)
{
	struct vring_desc *t = table(self, 2);

	ASSERT_NE(NULL, t);
	DESC(0, ~0ULL - 10, 100, 0, 0);
	PUSH(0);
	CASE("out buffer wrapping 2^64");

	DESC(0, B(self), 16, NEXT, 1);
	DESC(1, ~0ULL - 0xfff, 0x2000, WR, 0);
	PUSH(0);
	CASE("in buffer wrapping 2^64");

	t[0] = (struct vring_desc){ B(self), 16, NEXT, 1 };
	t[1] = (struct vring_desc){ ~0ULL - 10, 100, WR, 0 };
	DESC(0, vg_gpa(t), 32, INDIR, 0);
	PUSH(0);
	CASE("wrapping buffer inside an indirect table");

	DESC(0, ~0ULL - 15, 32, INDIR, 0);
	PUSH(0);
	CASE("indirect table wrapping 2^64");

	/* Two descriptors of 2 GiB + 2 GiB: total length overflows 32 bits. */
	DESC(0, B(self), 0x80000000u, NEXT, 1);
	DESC(1, B(self), 0x80000000u, 0, 0);
	PUSH(0);
	CASE("chain length overflowing 32 bits");
}

VX_HARNESS_MAIN
