// SPDX-License-Identifier: GPL-2.0
/*
 * log_test: dirty page logging (VHOST_F_LOG_ALL) through /dev/vhostx-test.
 *
 * With LOG_ALL negotiated, a log bitmap registered by SET_LOG_BASE and the
 * vring flagged VHOST_VRING_F_LOG (log_guest_addr = used ring gpa), every
 * guest page the device writes - in buffers, up to the bytes actually
 * written, and the used ring - gets its bit set, and the log eventfd is
 * signalled.  Pages it only reads (out buffers, descriptors, avail ring)
 * must stay clean.  Rings and buffers sit on pages of their own, so the
 * expected bitmap is exact.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define PG	4096

FIXTURE(dlog) {
	struct vg_dev d;
	struct vg_vq vq;
	uint64_t features;	/* the variant's, besides VERSION_1 */
};

FIXTURE_VARIANT(dlog) {
	uint64_t features;
};

FIXTURE_VARIANT_ADD(dlog, split) { .features = 0 };
/* One used entry per batch: the used ring's range is logged all the same. */
FIXTURE_VARIANT_ADD(dlog, in_order) { .features = VG_F(VIRTIO_F_IN_ORDER) };

FIXTURE_SETUP(dlog)
{
	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	self->features = variant->features;
}

FIXTURE_TEARDOWN(dlog)
{
	vx_test_teardown(&self->d, &self->vq);
}

/*
 * QEMU's order: features, log base + fd, vring address with the log flag
 * and the used ring's log address.  A ring of @num entries starting at
 * @base.  The log address is the used ring's own, or with @log_pages
 * (which receives their address) 4 bytes before the second of the pages
 * allocated for it.
 */
static int log_setup_ring(FIXTURE_DATA(dlog) *self, bool log_all,
			  bool vring_log, unsigned int num, uint16_t base,
			  uint64_t *log_pages)
{
	uint64_t f = VG_F(VIRTIO_F_VERSION_1) | self->features |
		     (log_all ? VG_F(VHOST_F_LOG_ALL) : 0);
	uint64_t used_gpa;
	int r;

	r = vx_dev_setup(&self->d, &self->vq, VX_TEST_DEV, f, 0, num, base);
	if (!r)
		r = vg_log_setup(&self->d);
	used_gpa = vg_gpa(self->vq.used);
	if (!r && log_pages) {
		/* A fourth page: the avail_event slot after the ring. */
		*log_pages = vg_gpa(vg_alloc(&self->d, 4 * PG, PG));
		used_gpa = *log_pages + PG - 4;
	}
	if (!r && vring_log)
		r = vg_vq_set_addr(&self->vq, 1 << VHOST_VRING_F_LOG, used_gpa);
	if (!r)
		r = vg_test_start(&self->d);
	/* Starting writes used->flags (logged): begin from a clean log. */
	usleep(20 * 1000);
	vg_log_clear(&self->d);
	vg_read_eventfd(self->d.log_fd);
	return r;
}

static int log_setup(FIXTURE_DATA(dlog) *self, bool log_all, bool vring_log)
{
	return log_setup_ring(self, log_all, vring_log, 64, 0, NULL);
}

/* Queue sg, kick, wait for completion; returns used len or -1. */
static int64_t run_chain(FIXTURE_DATA(dlog) *self, struct iovec *sg,
			 unsigned int nout, unsigned int nin)
{
	uint32_t len;

	if (vg_vq_add(&self->vq, sg, nout, nin, sg, 0) < 0)
		return -1;
	vg_vq_kick(&self->vq);
	if (!vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS))
		return -1;
	if (vg_vq_get_used(&self->vq, &len, NULL) < 0)
		return -1;
	return len;
}

static void expect_clean_rings(struct __test_metadata *_metadata,
			       struct vg_dev *d, struct vg_vq *vq)
{
	EXPECT_FALSE(vg_log_test(d, vg_gpa(vq->desc)));
	EXPECT_FALSE(vg_log_test(d, vg_gpa(vq->avail)));
}

VX_TEST_F(dlog, in_page_and_used_ring)
{
	uint8_t *out, *in;
	struct iovec sg[2];
	uint64_t marked;

	ASSERT_EQ(0, log_setup(self, true, true));
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, PG, PG);
	vg_fill(out, 100, 1);
	sg[0] = (struct iovec){ out, 100 };
	sg[1] = (struct iovec){ in, 100 };
	marked = VX_COUNTER(self->d.fd, 0, "log_pages");
	ASSERT_EQ(100, run_chain(self, sg, 1, 1));
	/*
	 * The counter a VMM or the e2e test reads: one per page marked, a
	 * page marked twice (used entry, then used index) counted twice.
	 */
	EXPECT_LE(marked + 2, VX_COUNTER(self->d.fd, 0, "log_pages"));
	ASSERT_EQ(-1, vg_check(in, 100, 1, 0));

	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in)));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(self->vq.used)));
	EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(out)));
	expect_clean_rings(_metadata, &self->d, &self->vq);
	EXPECT_EQ(2, vg_log_count(&self->d));
	EXPECT_LE(1, vg_wait_eventfd(self->d.log_fd, VX_TIMEOUT_MS));
}

/* An in buffer over three pages, fully written: three dirty pages. */
VX_TEST_F(dlog, multi_page_in_buffer)
{
	uint8_t *out, *in;
	struct iovec sg[2];

	ASSERT_EQ(0, log_setup(self, true, true));
	out = vg_alloc(&self->d, 3 * PG, PG);
	in = vg_alloc(&self->d, 3 * PG, PG);
	vg_fill(out, 3 * PG, 2);
	sg[0] = (struct iovec){ out, 3 * PG };
	sg[1] = (struct iovec){ in, 3 * PG };
	ASSERT_EQ(3 * PG, run_chain(self, sg, 1, 1));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in)));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in) + PG));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in) + 2 * PG));
	EXPECT_EQ(4, vg_log_count(&self->d));	/* + used ring page */
}

/* Only the bytes written count: a big in buffer, 100 bytes used. */
VX_TEST_F(dlog, only_written_bytes_logged)
{
	uint8_t *out, *in;
	struct iovec sg[2];

	ASSERT_EQ(0, log_setup(self, true, true));
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, 3 * PG, PG);
	sg[0] = (struct iovec){ out, 100 };
	sg[1] = (struct iovec){ in + PG - 50, 2 * PG };	/* straddles */
	ASSERT_EQ(100, run_chain(self, sg, 1, 1));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in)));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in) + PG));
	EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(in) + 2 * PG));
	EXPECT_EQ(3, vg_log_count(&self->d));
}

/* Scattered in segments on distant pages; the last only partly used. */
VX_TEST_F(dlog, scattered_in_segments)
{
	uint8_t *out, *in;
	struct iovec sg[4];

	ASSERT_EQ(0, log_setup(self, true, true));
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, 8 * PG, PG);
	vg_fill(out, 150, 3);
	sg[0] = (struct iovec){ out, 150 };
	sg[1] = (struct iovec){ in + 1 * PG, 100 };
	sg[2] = (struct iovec){ in + 5 * PG, 100 };
	sg[3] = (struct iovec){ in + 7 * PG, 100 };	/* never reached */
	ASSERT_EQ(150, run_chain(self, sg, 1, 3));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in) + 1 * PG));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in) + 5 * PG));
	EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(in) + 7 * PG));
	EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(in)));
	EXPECT_EQ(3, vg_log_count(&self->d));
}

/* Without VHOST_VRING_F_LOG the used ring is not logged, buffers are. */
VX_TEST_F(dlog, used_ring_needs_vring_flag)
{
	uint8_t *out, *in;
	struct iovec sg[2];

	ASSERT_EQ(0, log_setup(self, true, false));
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, PG, PG);
	sg[0] = (struct iovec){ out, 64 };
	sg[1] = (struct iovec){ in, 64 };
	ASSERT_EQ(64, run_chain(self, sg, 1, 1));
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in)));
	EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(self->vq.used)));
	EXPECT_EQ(1, vg_log_count(&self->d));
}

/* Without LOG_ALL nothing is logged, even with a log base set. */
VX_TEST_F(dlog, nothing_without_log_all)
{
	uint8_t *out, *in;
	struct iovec sg[2];

	ASSERT_EQ(0, log_setup(self, false, false));
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, PG, PG);
	sg[0] = (struct iovec){ out, 64 };
	sg[1] = (struct iovec){ in, 64 };
	ASSERT_EQ(64, run_chain(self, sg, 1, 1));
	EXPECT_EQ(0, vg_log_count(&self->d));
	EXPECT_EQ(0, vg_wait_eventfd(self->d.log_fd, VX_QUIET_MS));
	EXPECT_EQ(0, VX_COUNTER(self->d.fd, 0, "log_pages"));
}

/* Many completions: every in page of every buffer is logged. */
VX_TEST_F(dlog, many_buffers_all_logged)
{
	const unsigned int n = 30;	/* 2 descriptors each, ring of 64 */
	uint8_t *out, *in;
	unsigned int i;

	ASSERT_EQ(0, log_setup(self, true, true));
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, n * PG, PG);
	ASSERT_NE(NULL, in);
	for (i = 0; i < n; i++)
		ASSERT_LE(0, vg_vq_add_buf(&self->vq, out, 8, in + i * PG + 8,
					   8, in + i * PG));
	vg_vq_kick(&self->vq);
	ASSERT_EQ(n, (unsigned int)vg_vq_wait_used(&self->vq, n, VX_TIMEOUT_MS));
	for (i = 0; i < n; i++)
		EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in) + i * PG))
			TH_LOG("in page %u not logged", i);
	EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(self->vq.used)));
	EXPECT_EQ(n + 1, vg_log_count(&self->d));
}

/*
 * Used entries published in one update across the end of the ring are
 * logged in two pieces: the ring's last entries and its first ones.  The
 * used ring's log address (which the VMM chooses) puts the header on the
 * last bytes of one page, entries 0-511 on the next and 512-1023 on the
 * one after; a batch of four starting two before the end marks the middle
 * page only through its wrapped piece.
 */
VX_TEST_F(dlog, used_entries_wrapping_logged)
{
	const unsigned int num = 1024, n = 4;
	uint64_t pages = 0;
	uint8_t *out, *in;
	unsigned int i;

	ASSERT_EQ(0, log_setup_ring(self, true, true, num, num - 2, &pages));
	ASSERT_NE(0, pages);
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, n * PG, PG);
	ASSERT_NE(NULL, in);
	for (i = 0; i < n; i++)
		ASSERT_LE(0, vg_vq_add_buf(&self->vq, out, 8, in + i * PG, 8,
					   in + i * PG));
	vg_vq_kick(&self->vq);
	ASSERT_EQ(n, (unsigned int)vg_vq_wait_used(&self->vq, n, VX_TIMEOUT_MS));
	EXPECT_EQ((uint16_t)(num - 2 + n), vg_vq_used_idx(&self->vq));
	EXPECT_TRUE(vg_log_test(&self->d, pages)) TH_LOG("used index");
	EXPECT_TRUE(vg_log_test(&self->d, pages + 2 * PG))
		TH_LOG("entries 1022-1023");
	EXPECT_TRUE(vg_log_test(&self->d, pages + PG))
		TH_LOG("entries 0-1, after the wrap");
}

/*
 * Packed ring: the device writes used descriptors into the descriptor
 * ring and its event area, both logged (the descriptor ring by the
 * address it was given, mapped back through the memory table; the event
 * area at log_guest_addr, which QEMU points at it).  The driver's event
 * area and the out buffer it only reads stay clean.  Twice round a ring
 * of 5, so used descriptors wrap.
 */
VX_TEST_F(dlog, packed_ring_writes_logged)
{
	uint64_t f = VG_F(VIRTIO_F_VERSION_1) | VG_F(VHOST_F_LOG_ALL) |
		     VG_F(VIRTIO_F_RING_PACKED);
	uint8_t *out, *in;
	struct iovec sg[2];
	unsigned int i;

	ASSERT_EQ(0, vx_dev_setup(&self->d, &self->vq, VX_TEST_DEV, f, 0, 5, 0));
	ASSERT_EQ(0, vg_log_setup(&self->d));
	ASSERT_EQ(0, vg_vq_set_addr(&self->vq, 1 << VHOST_VRING_F_LOG,
				    vg_gpa(self->vq.pdevice)));
	ASSERT_EQ(0, vg_test_start(&self->d));
	usleep(20 * 1000);
	out = vg_alloc(&self->d, PG, PG);
	in = vg_alloc(&self->d, PG, PG);
	for (i = 0; i < 6; i++) {
		vg_log_clear(&self->d);
		vg_read_eventfd(self->d.log_fd);
		vg_fill(out, 100, i);
		sg[0] = (struct iovec){ out, 100 };
		sg[1] = (struct iovec){ in, 100 };
		ASSERT_EQ(100, run_chain(self, sg, 1, 1));
		ASSERT_EQ(-1, vg_check(in, 100, i, 0));
		/* The device's last write (its event area) is done by now. */
		usleep(20 * 1000);
		EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(in)));
		EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(self->vq.pdesc)))
			TH_LOG("used descriptor %u not logged", i);
		EXPECT_TRUE(vg_log_test(&self->d, vg_gpa(self->vq.pdevice)));
		EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(self->vq.pdriver)));
		EXPECT_FALSE(vg_log_test(&self->d, vg_gpa(out)));
		EXPECT_EQ(3, vg_log_count(&self->d));
		EXPECT_LE(1, vg_wait_eventfd(self->d.log_fd, VX_TIMEOUT_MS));
	}
}

/*
 * The VMM makes the bitmap read-only under the running queue: pinning it
 * for a write fails, so the device cannot log what it wrote and stops the
 * queue (error eventfd, "broken"); a split ring publishes nothing.  An in
 * buffer fails at its data (vhostx_log_write()), an out-only buffer at the
 * used entry (the ring's own dirty-log error).  Writable again and the
 * ring reset, the queue echoes.
 */
static void log_revoked(struct __test_metadata *_metadata,
			FIXTURE_DATA(dlog) *self, bool in_buffer)
{
	uint8_t *out = vg_alloc(&self->d, PG, PG);
	uint8_t *in = vg_alloc(&self->d, PG, PG);
	struct iovec sg[2] = { { out, 100 }, { in, 100 } };
	uint16_t used0 = vg_vq_used_idx(&self->vq);

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	ASSERT_LE(0, vg_vq_add(&self->vq, sg, 1, in_buffer, out, 0));
	ASSERT_EQ(0, mprotect(self->d.log, self->d.log_size, PROT_READ));
	vg_read_eventfd(self->vq.err_fd);
	vg_vq_kick(&self->vq);
	EXPECT_LE(1, vg_wait_eventfd(self->vq.err_fd, VX_TIMEOUT_MS));
	EXPECT_EQ(1, VX_COUNTER(self->d.fd, 0, "broken"));
	ASSERT_EQ(0, mprotect(self->d.log, self->d.log_size,
			      PROT_READ | PROT_WRITE));
	/* A packed ring's used descriptor is out before it is logged. */
	if (!self->vq.packed)
		EXPECT_EQ(used0, vg_vq_used_idx(&self->vq));
	vx_expect_recovers(_metadata, &self->vq);
}

VX_TEST_F(dlog, bitmap_read_only_in_buffer)
{
	ASSERT_EQ(0, log_setup(self, true, true));
	log_revoked(_metadata, self, true);
}

VX_TEST_F(dlog, bitmap_read_only_used_entry)
{
	ASSERT_EQ(0, log_setup(self, true, true));
	log_revoked(_metadata, self, false);
}

/* The same on a packed ring: its used descriptor cannot be logged. */
VX_TEST_F(dlog, packed_bitmap_read_only)
{
	uint64_t f = VG_F(VIRTIO_F_VERSION_1) | VG_F(VHOST_F_LOG_ALL) |
		     VG_F(VIRTIO_F_RING_PACKED);

	ASSERT_EQ(0, vx_dev_setup(&self->d, &self->vq, VX_TEST_DEV, f, 0, 5, 0));
	ASSERT_EQ(0, vg_log_setup(&self->d));
	ASSERT_EQ(0, vg_vq_set_addr(&self->vq, 1 << VHOST_VRING_F_LOG,
				    vg_gpa(self->vq.pdevice)));
	ASSERT_EQ(0, vg_test_start(&self->d));
	/*
	 * Starting runs the handler once (it writes the device event area):
	 * let that run end first, or it may take the buffer log_revoked()
	 * adds while the bitmap is still writable (seen in a CI run).
	 */
	usleep(20 * 1000);
	log_revoked(_metadata, self, false);
}

VX_HARNESS_MAIN
