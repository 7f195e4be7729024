// SPDX-License-Identifier: GPL-2.0
/*
 * ring_test: ring behaviour through /dev/vhostx-test, split and packed
 * (the variants named packed_*: VIRTIO_F_RING_PACKED, sizes that are not
 * powers of two among them).
 *
 * vhostx_test echoes: for each available chain it reads every out byte and
 * copies them into the chain's in descriptors (truncated to the in space),
 * reporting used len = bytes written (0 without in descriptors).  That
 * lets every test check data byte for byte, for direct and indirect
 * chains, with and without EVENT_IDX and IN_ORDER, across 16-bit index
 * wrap-around.
 */
#include "kselftest_harness.h"
#include "vx_common.h"


FIXTURE(ring) {
	struct vg_dev d;
	struct vg_vq vq;
	unsigned int add_flags;
};

FIXTURE_VARIANT(ring) {
	uint64_t features;
	unsigned int add_flags;
	unsigned int num;
};

FIXTURE_VARIANT_ADD(ring, direct) {
	.features = VG_F(VIRTIO_F_VERSION_1), .num = 256,
};
FIXTURE_VARIANT_ADD(ring, indirect) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_INDIRECT_DESC),
	.add_flags = VG_ADD_INDIRECT, .num = 256,
};
FIXTURE_VARIANT_ADD(ring, event_idx) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX),
	.num = 256,
};
FIXTURE_VARIANT_ADD(ring, small_event_idx_indirect) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX) |
		    VG_F(VIRTIO_RING_F_INDIRECT_DESC),
	.add_flags = VG_ADD_INDIRECT, .num = 8,
};

#define PACKED	(VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_F_RING_PACKED))

FIXTURE_VARIANT_ADD(ring, packed_direct) {
	.features = PACKED, .num = 256,
};
FIXTURE_VARIANT_ADD(ring, packed_indirect) {
	.features = PACKED | VG_F(VIRTIO_RING_F_INDIRECT_DESC),
	.add_flags = VG_ADD_INDIRECT, .num = 256,
};
FIXTURE_VARIANT_ADD(ring, packed_event_idx) {
	.features = PACKED | VG_F(VIRTIO_RING_F_EVENT_IDX), .num = 256,
};
/* Sizes that are not powers of two: only packed rings have them. */
FIXTURE_VARIANT_ADD(ring, packed_odd_event_idx) {
	.features = PACKED | VG_F(VIRTIO_RING_F_EVENT_IDX), .num = 100,
};
FIXTURE_VARIANT_ADD(ring, packed_small_event_idx_indirect) {
	.features = PACKED | VG_F(VIRTIO_RING_F_EVENT_IDX) |
		    VG_F(VIRTIO_RING_F_INDIRECT_DESC),
	.add_flags = VG_ADD_INDIRECT, .num = 7,
};
FIXTURE_VARIANT_ADD(ring, packed_small_direct) {
	.features = PACKED, .num = 5,
};
FIXTURE_VARIANT_ADD(ring, in_order) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_F_IN_ORDER),
	.num = 256,
};
FIXTURE_VARIANT_ADD(ring, in_order_small_event_idx_indirect) {
	.features = VG_F(VIRTIO_F_VERSION_1) | VG_F(VIRTIO_RING_F_EVENT_IDX) |
		    VG_F(VIRTIO_RING_F_INDIRECT_DESC) | VG_F(VIRTIO_F_IN_ORDER),
	.add_flags = VG_ADD_INDIRECT, .num = 8,
};

FIXTURE_SETUP(ring)
{
	int r;

	vx_fixture_init(&self->d, &self->vq);
	VX_REQUIRE_DEV(VX_TEST_DEV);
	self->add_flags = variant->add_flags;
	r = vx_test_setup(&self->d, &self->vq, variant->features,
			  variant->num, 0);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s", strerror(-r));
}

FIXTURE_TEARDOWN(ring)
{
	vx_test_teardown(&self->d, &self->vq);
}

/* One out buffer of @out_len bytes, one in buffer of @in_len bytes. */
static int add_pair(struct vg_vq *vq, unsigned int flags, void *out,
		    uint32_t out_len, void *in, uint32_t in_len, void *cookie)
{
	struct iovec sg[2];
	unsigned int nout = 0, nin = 0;

	if (out_len) {
		sg[0] = (struct iovec){ out, out_len };
		nout = 1;
	}
	if (in_len) {
		sg[nout] = (struct iovec){ in, in_len };
		nin = 1;
	}
	return vg_vq_add(vq, sg, nout, nin, cookie, flags);
}

/* Wait for and reap exactly one entry; returns used len or -1. */
static int64_t reap_one(struct vg_vq *vq, int expect_head, void *expect_cookie)
{
	uint32_t len;
	void *c = NULL;

	if (!vg_vq_wait_used(vq, 1, VX_TIMEOUT_MS))
		return -1;
	if (vg_vq_get_used(vq, &len, &c) != expect_head || c != expect_cookie)
		return -2;
	return len;
}

VX_TEST_F(ring, single_echo)
{
	uint8_t *out, *in;
	int head, kicked;

	out = vg_alloc(&self->d, 64, 64);
	in = vg_alloc(&self->d, 64, 64);
	vg_fill(out, 64, 1);
	head = add_pair(&self->vq, self->add_flags, out, 64, in, 64, out);
	ASSERT_LE(0, head);
	/*
	 * An idle device wants kicks.  The worker's first run after start
	 * may still be going on and see the buffer: then no kick is
	 * needed (with EVENT_IDX avail_event is already past it), and the
	 * buffer is used all the same.
	 */
	kicked = vg_vq_kick(&self->vq);
	ASSERT_LE(0, kicked);
	if (!kicked && self->vq.event_idx)
		ASSERT_TRUE(vg_vq_device_wants_kick(&self->vq));
	ASSERT_EQ(64, reap_one(&self->vq, head, out));
	ASSERT_EQ(-1, vg_check(in, 64, 1, 0));
	/* The first used buffer after start is always signalled. */
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

/*
 * Guest memory in three regions, split at two pages: a buffer that
 * straddles a boundary translates into two pieces, and so does an
 * indirect table (its first entry half in each region:
 * vhostx_ring_read_indirect() reads it in two copies).  The echo is
 * byte-exact all the same, and again with one region.
 */
VX_TEST_F(ring, across_regions)
{
	struct vg_dev *d = &self->d;
	uint8_t *area = vg_alloc(d, 3 * 4096, 4096);
	uint64_t start = vg_gpa(d->arena), end = start + d->arena_size;
	uint64_t b1 = vg_gpa(area) + 4096, b2 = b1 + 4096;
	struct vhost_memory_region r[3] = {
		{ .guest_phys_addr = start, .memory_size = b1 - start,
		  .userspace_addr = start },
		{ .guest_phys_addr = b1, .memory_size = b2 - b1,
		  .userspace_addr = b1 },
		{ .guest_phys_addr = b2, .memory_size = end - b2,
		  .userspace_addr = b2 },
	};
	uint8_t *out = (uint8_t *)(uintptr_t)(b2 - 100);
	uint8_t *in = vg_alloc(d, 200, 64);
	unsigned int slot = self->vq.packed ? self->vq.free_id :
			    self->vq.free_head;
	int head;

	ASSERT_NE(NULL, area);
	ASSERT_NE(NULL, in);
	ASSERT_EQ(0, vg_set_mem_regions(d, r, 3));
	/* The table (two entries) from 8 bytes before the first boundary. */
	if (self->add_flags & VG_ADD_INDIRECT)
		self->vq.slots[slot].indir =
			(struct vring_desc *)(uintptr_t)(b1 - 8);
	vg_fill(out, 200, 9);
	head = add_pair(&self->vq, self->add_flags, out, 200, in, 200, out);
	ASSERT_LE(0, head);
	vg_vq_kick(&self->vq);
	ASSERT_EQ(200, reap_one(&self->vq, head, out));
	ASSERT_EQ(-1, vg_check(in, 200, 9, 0));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
	ASSERT_EQ(0, vg_set_mem_table(d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 300, 10));
}

/* Out-only chains complete with used len 0, as upstream vhost_test. */
VX_TEST_F(ring, out_only_len0)
{
	uint8_t *out;
	int head;

	out = vg_alloc(&self->d, 100, 64);
	head = add_pair(&self->vq, self->add_flags, out, 100, NULL, 0, out);
	ASSERT_LE(0, head);
	vg_vq_kick(&self->vq);
	ASSERT_EQ(0, reap_one(&self->vq, head, out));
}

/* Larger in space: len = out bytes, bytes past it untouched. */
VX_TEST_F(ring, in_larger_than_out)
{
	uint8_t *out, *in;
	int head, i;

	out = vg_alloc(&self->d, 40, 64);
	in = vg_alloc(&self->d, 200, 64);
	vg_fill(out, 40, 2);
	memset(in, 0xee, 200);
	head = add_pair(&self->vq, self->add_flags, out, 40, in, 200, out);
	ASSERT_LE(0, head);
	vg_vq_kick(&self->vq);
	ASSERT_EQ(40, reap_one(&self->vq, head, out));
	ASSERT_EQ(-1, vg_check(in, 40, 2, 0));
	for (i = 40; i < 200; i++)
		ASSERT_EQ(0xee, in[i]) TH_LOG("byte %d overwritten", i);
}

/* Smaller in space: the echo is truncated, len = in space. */
VX_TEST_F(ring, in_smaller_truncates)
{
	uint8_t *out, *in;
	int head;

	out = vg_alloc(&self->d, 300, 64);
	in = vg_alloc(&self->d, 64 + 16, 64);
	vg_fill(out, 300, 3);
	memset(in, 0xee, 80);
	head = add_pair(&self->vq, self->add_flags, out, 300, in, 64, out);
	ASSERT_LE(0, head);
	vg_vq_kick(&self->vq);
	ASSERT_EQ(64, reap_one(&self->vq, head, out));
	ASSERT_EQ(-1, vg_check(in, 64, 3, 0));
	ASSERT_EQ(0xee, in[64]);
	ASSERT_EQ(0xee, in[79]);
}

/* Many buffers in batches, several times round the ring. */
VX_TEST_F_TIMEOUT(ring, many_buffers, 120)
{
	const unsigned int total = 2000, len = 96;
	unsigned int sent = 0, done = 0, num = self->vq.num;
	unsigned int need = self->add_flags ? 1 : 2;
	uint8_t *out, *in;

	out = vg_alloc(&self->d, (size_t)num * len, 64);
	in = vg_alloc(&self->d, (size_t)num * len, 64);
	ASSERT_NE(NULL, in);
	while (done < total) {
		/* Fill whatever is free. */
		while (sent < total && self->vq.num_free >= need) {
			unsigned int slot = sent % num;
			uint8_t *o = out + slot * len, *i = in + slot * len;

			vg_fill(o, len, sent);
			memset(i, 0, len);
			ASSERT_LE(0, add_pair(&self->vq, self->add_flags, o, len,
					      i, len, (void *)(uintptr_t)(sent + 1)));
			sent++;
		}
		vg_vq_kick(&self->vq);
		ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS))
			TH_LOG("stalled at %u/%u", done, total);
		for (;;) {
			uint32_t ulen;
			void *c;
			unsigned int seq;

			if (vg_vq_get_used(&self->vq, &ulen, &c) < 0)
				break;
			seq = (unsigned int)(uintptr_t)c - 1;
			/* Chains complete in order for this device. */
			ASSERT_EQ(done, seq);
			ASSERT_EQ(len, ulen);
			ASSERT_EQ(-1, vg_check(in + (seq % num) * len, len, seq, 0));
			done++;
		}
	}
	ASSERT_EQ(num, self->vq.num_free);
	ASSERT_EQ((uint16_t)total, vg_vq_used_idx(&self->vq));
	/* Packed: round the ring several times, each lap flipping the wrap. */
	if (self->vq.packed)
		ASSERT_LT(2 * num, total * (self->add_flags ? 1 : 2));
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

/* Fill the ring completely, one kick; every slot completes. */
VX_TEST_F(ring, ring_full)
{
	unsigned int num = self->vq.num, k, need = self->add_flags ? 1 : 2;
	uint8_t *buf;

	buf = vg_alloc(&self->d, (size_t)num * 32 * 2, 64);
	ASSERT_NE(NULL, buf);
	for (k = 0; self->vq.num_free >= need; k++) {
		vg_fill(buf + k * 64, 32, k);
		ASSERT_LE(0, add_pair(&self->vq, self->add_flags, buf + k * 64,
				      32, buf + k * 64 + 32, 32,
				      (void *)(uintptr_t)(k + 1)));
	}
	ASSERT_EQ(num / need, k);
	/* The library refuses one more. */
	ASSERT_EQ(-ENOSPC, add_pair(&self->vq, self->add_flags, buf, 32,
				    buf + 32, 32, buf));
	vg_vq_kick(&self->vq);
	ASSERT_EQ(k, (unsigned int)vg_vq_wait_used(&self->vq, k, VX_TIMEOUT_MS));
	for (unsigned int i = 0; i < k; i++) {
		uint32_t len;

		ASSERT_LE(0, vg_vq_get_used(&self->vq, &len, NULL));
		ASSERT_EQ(32, len);
		ASSERT_EQ(-1, vg_check(buf + i * 64 + 32, 32, i, 0));
	}
	ASSERT_EQ(num, self->vq.num_free);
}

/* Scatter/gather: odd-sized out segments gathered, scattered into ins. */
VX_TEST_F(ring, many_segments)
{
	unsigned int nout, nin, i, total = 0, max;
	struct iovec sg[VG_INDIRECT_MAX];
	uint8_t *src, *dst;
	size_t off = 0;
	uint32_t len;
	int head;

	/* Direct chains are bounded by the ring; indirect by the table. */
	max = self->add_flags ? VG_INDIRECT_MAX : self->vq.num;
	nout = max * 3 / 4;
	nin = max - nout;
	src = vg_alloc(&self->d, 64 * nout, 64);
	dst = vg_alloc(&self->d, 64 * nin * 4, 64);
	ASSERT_NE(NULL, dst);
	for (i = 0; i < nout; i++) {
		size_t l = 1 + (i * 13) % 61;	/* 1..61 bytes */

		sg[i] = (struct iovec){ src + off, l };
		off += l;
	}
	total = (unsigned int)off;
	vg_fill(src, total, 9);
	/* In segments: varied sizes summing to >= total. */
	off = 0;
	for (i = 0; i < nin; i++) {
		size_t l = (total + nin - 1) / nin + (i % 3);

		sg[nout + i] = (struct iovec){ dst + off + i * 8, l };
		off += l;
	}
	head = vg_vq_add(&self->vq, sg, nout, nin, src, self->add_flags);
	ASSERT_LE(0, head);
	vg_vq_kick(&self->vq);
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
	ASSERT_EQ(head, vg_vq_get_used(&self->vq, &len, NULL));
	ASSERT_EQ(total, len);
	/* Walk the in segments and compare against the gathered stream. */
	off = 0;
	for (i = 0; i < nin && off < total; i++) {
		size_t l = sg[nout + i].iov_len;

		if (l > total - off)
			l = total - off;
		ASSERT_EQ(-1, vg_check(sg[nout + i].iov_base, l, 9, off))
			TH_LOG("in segment %u", i);
		off += l;
	}
}

/* Large buffers spanning many pages. */
VX_TEST_F(ring, large_buffer)
{
	const size_t len = 256 * 1024;
	uint8_t *out, *in;
	int head;

	out = vg_alloc(&self->d, len, 4096);
	in = vg_alloc(&self->d, len, 4096);
	ASSERT_NE(NULL, in);
	vg_fill(out, len, 11);
	head = add_pair(&self->vq, self->add_flags, out + 1, len - 1,
			in + 3, len - 3, out);
	ASSERT_LE(0, head);
	vg_vq_kick(&self->vq);
	ASSERT_EQ((int64_t)(len - 3), reap_one(&self->vq, head, out));
	ASSERT_EQ(-1, vg_check(in + 3, len - 3, 11, 1));
}

/*
 * Interrupt suppression.  EVENT_IDX: the device calls only when used idx
 * crosses used_event.  Otherwise: only while VRING_AVAIL_F_NO_INTERRUPT is
 * clear.  Either way the device must still complete everything.
 */
VX_TEST_F(ring, call_suppression)
{
	uint8_t *buf;
	unsigned int k;

	buf = vg_alloc(&self->d, 64 * 16, 64);
	/* Prime: the first completion after start is always signalled. */
	ASSERT_EQ(0, vx_echo_once(&self->vq, 16, 1));
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));

	vg_vq_disable_cb(&self->vq);
	for (k = 0; k < 4 && self->vq.num_free >= 2; k++)
		ASSERT_LE(0, add_pair(&self->vq, self->add_flags, buf + k * 64,
				      32, buf + k * 64 + 32, 32, buf + k * 64));
	vg_vq_kick(&self->vq);
	ASSERT_EQ(k, (unsigned int)vg_vq_wait_used(&self->vq, k, VX_TIMEOUT_MS));
	usleep(VX_QUIET_MS * 1000);
	ASSERT_EQ(0, vg_vq_calls(&self->vq, 0))
		TH_LOG("device called with calls suppressed");
	while (vg_vq_get_used(&self->vq, NULL, NULL) >= 0)
		;

	/* Re-enabled: the next completion calls. */
	ASSERT_FALSE(vg_vq_enable_cb(&self->vq));
	ASSERT_LE(0, add_pair(&self->vq, self->add_flags, buf, 32, buf + 32, 32,
			      buf));
	vg_vq_kick(&self->vq);
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));
	ASSERT_EQ(1, vg_vq_used_pending(&self->vq));
}

/*
 * EVENT_IDX with used_event set ahead: no call until used idx passes it.
 */
VX_TEST_F_IF(ring, used_event_threshold,
	     variant->features & VG_F(VIRTIO_RING_F_EVENT_IDX))
{
	uint8_t *buf;
	unsigned int k, n;

	n = self->vq.num >= 8 ? 6 : self->vq.num - 1;
	if (!self->add_flags && n > self->vq.num / 2)
		n = self->vq.num / 2;
	buf = vg_alloc(&self->d, 64 * n, 64);
	ASSERT_EQ(0, vx_echo_once(&self->vq, 16, 1));
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));

	/* Ask for a call only once the (n)th next buffer is used. */
	if (self->vq.packed)
		vg_vq_set_used_event_pos(&self->vq,
					 vg_pos_add(&self->vq, self->vq.used_pos,
						    (n - 1) *
						    (self->add_flags ? 1 : 2)));
	else
		vg_vq_set_used_event(&self->vq,
				     (uint16_t)(self->vq.last_used + n - 1));
	for (k = 0; k + 1 < n; k++) {
		ASSERT_LE(0, add_pair(&self->vq, self->add_flags, buf + k * 64,
				      32, buf + k * 64 + 32, 32, buf + k * 64));
		vg_vq_kick(&self->vq);
		ASSERT_EQ(k + 1, (unsigned int)vg_vq_wait_used(&self->vq, k + 1,
							       VX_TIMEOUT_MS));
	}
	usleep(VX_QUIET_MS * 1000);
	ASSERT_EQ(0, vg_vq_calls(&self->vq, 0))
		TH_LOG("called before used_event was crossed");
	ASSERT_LE(0, add_pair(&self->vq, self->add_flags, buf + k * 64, 32,
			      buf + k * 64 + 32, 32, buf + k * 64));
	vg_vq_kick(&self->vq);
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));
	ASSERT_EQ(n, vg_vq_used_pending(&self->vq));
}

/*
 * Kick suppression from the device side: once idle, the device asks for
 * kicks (used->flags without NO_NOTIFY, or avail_event == avail idx).
 */
VX_TEST_F(ring, device_wants_kick_when_idle)
{
	ASSERT_EQ(0, vx_echo_once(&self->vq, 16, 5));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 16, 6));
	usleep(50 * 1000);
	ASSERT_TRUE(vg_vq_device_wants_kick(&self->vq));
	if (self->vq.packed && self->vq.event_idx)
		ASSERT_EQ(VRING_PACKED_EVENT_FLAG_DESC, self->vq.pdevice->flags);
}

/*
 * A kick with nothing new: the handler runs and returns no buffer, so the
 * driver, though it asks for calls, must not get one (without EVENT_IDX
 * a signal check after an empty run used to call it).
 */
VX_TEST_F(ring, empty_kick_no_call)
{
	ASSERT_EQ(0, vx_echo_once(&self->vq, 16, 7));
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));
	ASSERT_FALSE(vg_vq_enable_cb(&self->vq));
	ASSERT_EQ(0, vg_vq_notify(&self->vq));
	usleep(VX_QUIET_MS * 1000);
	ASSERT_EQ(0, vg_vq_calls(&self->vq, 0))
		TH_LOG("device called after a run that used no buffer");
	/* The queue still works and calls for a real completion. */
	ASSERT_EQ(0, vx_echo_once(&self->vq, 16, 8));
	ASSERT_LE(1, vg_vq_calls(&self->vq, VX_TIMEOUT_MS));
}

/* Indices wrap past 65535: start at 65530 and push several hundred. */
VX_TEST_F_TIMEOUT(ring, wraparound, 120)
{
	const unsigned int total = 600;
	unsigned int i, base;
	uint8_t *buf;

	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_program(&self->vq, 65530));
	ASSERT_EQ(0, vg_test_start(&self->d));
	buf = vg_alloc(&self->d, 128, 64);
	for (i = 0; i < total; i++) {
		uint32_t len;
		int head;

		vg_fill(buf, 64, i);
		head = add_pair(&self->vq, self->add_flags, buf, 64, buf + 64,
				64, buf);
		ASSERT_LE(0, head);
		vg_vq_kick(&self->vq);
		ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS))
			TH_LOG("stalled at %u (idx %u)", i,
			       (uint16_t)(65530 + i));
		ASSERT_EQ(head, vg_vq_get_used(&self->vq, &len, NULL));
		ASSERT_EQ(64, len);
		ASSERT_EQ(-1, vg_check(buf + 64, 64, i, 0));
	}
	ASSERT_EQ((uint16_t)(65530 + total), vg_vq_used_idx(&self->vq));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
	if (!self->vq.packed)
		ASSERT_EQ((uint16_t)(65530 + total), base);
}

/* GET_VRING_BASE reports the next avail index the device will read. */
VX_TEST_F(ring, get_vring_base_after_consumption)
{
	unsigned int i, base;

	for (i = 0; i < 37; i++)
		ASSERT_EQ(0, vx_echo_once(&self->vq, 8, i));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
	if (!self->vq.packed)
		ASSERT_EQ(37, base);
}

/* Ring geometry is frozen while the backend runs. */
VX_TEST_F(ring, reconfigure_while_running_ebusy)
{
	ASSERT_EQ(-EBUSY, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE, 0));
	ASSERT_EQ(-EBUSY, vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM,
					  self->vq.num));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE, 0));
	ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM,
				     self->vq.num));
}

/* Stop, move the base, restart: traffic resumes from the new base. */
VX_TEST_F(ring, restart_at_new_base)
{
	unsigned int base;

	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 1));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_program(&self->vq, 1000));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 2));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 32, 3));
	ASSERT_EQ(1002, vg_vq_used_idx(&self->vq));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
	if (!self->vq.packed)
		ASSERT_EQ(1002, base);
}

/* A stopped backend consumes nothing; restarting picks the work up. */
VX_TEST_F(ring, stopped_backend_consumes_nothing)
{
	uint8_t *buf;
	int head;

	ASSERT_EQ(0, vg_test_stop(&self->d));
	buf = vg_alloc(&self->d, 64, 64);
	vg_fill(buf, 32, 4);
	head = add_pair(&self->vq, self->add_flags, buf, 32, buf + 32, 32, buf);
	ASSERT_LE(0, head);
	vg_vq_publish(&self->vq);
	vg_vq_notify(&self->vq);
	usleep(VX_QUIET_MS * 1000);
	ASSERT_EQ(0, vg_vq_used_pending(&self->vq));
	ASSERT_EQ(0, vg_test_start(&self->d));
	vg_vq_notify(&self->vq);
	ASSERT_EQ(32, reap_one(&self->vq, head, buf));
	ASSERT_EQ(-1, vg_check(buf + 32, 32, 4, 0));
}

/*
 * Stop mid-lap, read the base, restart from it: the device resumes at
 * the same descriptor with the same wrap counters (what a VMM does
 * around a migration), and GET_VRING_BASE encodes them.
 */
VX_TEST_F_TIMEOUT(ring, stop_restart_resumes, 120)
{
	unsigned int i, base;
	bool lap0 = false;

	for (i = 0; i < 3 * self->vq.num / 2 + 3; i++) {
		ASSERT_EQ(0, vx_echo_once(&self->vq, 24, i)) TH_LOG("echo %u", i);
		if (i % 3)
			continue;
		ASSERT_EQ(0, vg_test_stop(&self->d));
		ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
		ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
		if (self->vq.packed) {
			/* Both wrap counters are in bit 15 of their half. */
			ASSERT_EQ(self->vq.avail_pos < self->vq.num,
				  !!(base & 0x8000));
			ASSERT_EQ(self->vq.used_pos < self->vq.num,
				  !!(base & 0x80000000));
			lap0 |= !(base & 0x8000);
		}
		ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE,
					     base));
		ASSERT_EQ(0, vg_test_start(&self->d));
	}
	if (self->vq.packed)
		ASSERT_TRUE(lap0) TH_LOG("never stopped in a lap of wrap 0");
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

/* Ring sizes: powers of two up to 32768 (split); 1 to 32768 (packed). */
VX_TEST_F(ring, ring_sizes)
{
	static const unsigned int odd[] = { 3, 100, 1000, 32767 };
	unsigned int i;

	ASSERT_EQ(0, vg_test_stop(&self->d));
	for (i = 0; i < ARRAY_SIZE(odd); i++)
		ASSERT_EQ(self->vq.packed ? 0 : -EINVAL,
			  vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM,
					  odd[i])) TH_LOG("size %u", odd[i]);
	ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM, 32768));
	ASSERT_EQ(-EINVAL, vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM,
					   32769));
	ASSERT_EQ(-EINVAL, vg_vq_set_state(&self->vq, VHOST_SET_VRING_NUM, 0));
	/* Back to the fixture's ring: it still works. */
	ASSERT_EQ(0, vg_vq_program(&self->vq, 0));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 1));
}

/*
 * SET_VRING_BASE: a packed base names positions inside the ring (15 bits
 * each, below the ring size); a split one is a 16-bit index.
 */
VX_TEST_F(ring, base_out_of_range)
{
	unsigned int num = self->vq.num;

	ASSERT_EQ(0, vg_test_stop(&self->d));
	if (self->vq.packed) {
		ASSERT_EQ(-EINVAL, vg_vq_set_state(&self->vq,
						   VHOST_SET_VRING_BASE, num));
		ASSERT_EQ(-EINVAL, vg_vq_set_state(&self->vq,
						   VHOST_SET_VRING_BASE,
						   num << 16));
		ASSERT_EQ(-EINVAL, vg_vq_set_state(&self->vq,
						   VHOST_SET_VRING_BASE,
						   0x7fff | 0x8000));
		ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE,
					     (num - 1) | (num - 1) << 16));
	} else {
		ASSERT_EQ(-EINVAL, vg_vq_set_state(&self->vq,
						   VHOST_SET_VRING_BASE,
						   0x10000));
	}
	ASSERT_EQ(0, vg_vq_program(&self->vq, 0));
	ASSERT_EQ(0, vg_test_start(&self->d));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 1));
}

/*
 * A base with the low half only, as DPDK's virtio-user gives it (0x8000
 * for a new ring): the used position is the avail one, and GET_VRING_BASE
 * reports both.
 */
VX_TEST_F_IF(ring, packed_base_low_half_only,
	     variant->features & VG_F(VIRTIO_F_RING_PACKED))
{
	unsigned int i, base;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vx_echo_once(&self->vq, 16, i));
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
	ASSERT_EQ(base & 0xffff, base >> 16);
	ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE,
				     base & 0xffff));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
	/* A new ring, DPDK's way: both wrap counters 1. */
	vg_vq_reset(&self->vq, 0);
	ASSERT_EQ(0, vg_vq_set_state(&self->vq, VHOST_SET_VRING_BASE, 0x8000));
	ASSERT_EQ(0, vg_test_start(&self->d));
	for (i = 0; i < self->vq.num + 3; i++)
		ASSERT_EQ(0, vx_echo_once(&self->vq, 16, i)) TH_LOG("echo %u", i);
	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(0, vg_vq_get_base(&self->vq, &base));
	ASSERT_EQ(vg_vq_driver_base(&self->vq), base);
}

/*
 * The ring format is chosen when the features are set: it cannot change
 * under a running queue, and a stopped one takes the new one.
 */
VX_TEST_F(ring, format_fixed_while_running)
{
	uint64_t other = self->d.features ^ VG_F(VIRTIO_F_RING_PACKED);

	ASSERT_EQ(-EBUSY, vg_set_features(&self->d, other));
	/* The same features again (QEMU does, to toggle LOG_ALL): fine. */
	ASSERT_EQ(0, vg_set_features(&self->d, self->d.features));
	ASSERT_EQ(0, vx_echo_once(&self->vq, 64, 1));
}

/* Packed event areas are 4-byte structures: 4-byte aligned. */
VX_TEST_F_IF(ring, packed_event_area_alignment,
	     variant->features & VG_F(VIRTIO_F_RING_PACKED))
{
	struct vhost_vring_addr a = {
		.index = 0,
		.desc_user_addr = vg_gpa(self->vq.pdesc),
		.avail_user_addr = vg_gpa(self->vq.pdriver) + 2,
		.used_user_addr = vg_gpa(self->vq.pdevice),
	};

	ASSERT_EQ(0, vg_test_stop(&self->d));
	ASSERT_EQ(-1, ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(EINVAL, errno);
	a.avail_user_addr -= 2;
	a.used_user_addr += 2;
	ASSERT_EQ(-1, ioctl(self->d.fd, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(EINVAL, errno);
}

#define POISON	0xdeadbeefu

/* Mark the used ring's slots, to tell afterwards which were written. */
static void poison_used(struct vg_vq *vq)
{
	for (unsigned int i = 0; i < vq->num; i++)
		vq->used->ring[i].id = vq->used->ring[i].len = POISON;
}

static unsigned int used_written(struct vg_vq *vq)
{
	unsigned int i, n = 0;

	for (i = 0; i < vq->num; i++)
		n += vq->used->ring[i].id != POISON;
	return n;
}

/*
 * IN_ORDER: buffers the device used whole (@whole: in space = out bytes)
 * are returned by the used entry of a later one; a buffer it wrote only
 * in part gets its own entry, as does the batch's last.  used->idx moves
 * by the number of buffers, the driver reaps each one with the right
 * length and bytes.  Without IN_ORDER every buffer has its entry.
 */
VX_TEST_F_IF(ring, in_order_batched_used,
	     !(variant->features & VG_F(VIRTIO_F_RING_PACKED)))
{
	/* Buffer 5 gets 40 bytes in 64 of space: it ends a run. */
	const unsigned int n = 12, part = 5, len = 40;
	unsigned int k, need = self->add_flags ? 1 : 2, batch;
	uint16_t idx0 = vg_vq_used_idx(&self->vq);
	uint8_t *buf;

	batch = self->vq.num / need < n ? self->vq.num / need : n;
	buf = vg_alloc(&self->d, (size_t)n * 128, 64);
	ASSERT_NE(NULL, buf);
	poison_used(&self->vq);
	for (k = 0; k < batch; k++) {
		vg_fill(buf + k * 128, len, k);
		ASSERT_LE(0, add_pair(&self->vq, self->add_flags, buf + k * 128,
				      len, buf + k * 128 + 64,
				      k == part ? 64 : len,
				      (void *)(uintptr_t)(k + 1)));
	}
	vg_vq_kick(&self->vq);
	ASSERT_EQ(batch, (unsigned int)vg_vq_wait_used(&self->vq, batch,
							VX_TIMEOUT_MS));
	usleep(VX_QUIET_MS * 1000);
	/* The index moves by every buffer ... */
	ASSERT_EQ((uint16_t)(idx0 + batch), vg_vq_used_idx(&self->vq));
	/* ... the entries written are one per run (at most two here). */
	if (self->vq.in_order) {
		ASSERT_GE(2, used_written(&self->vq));
		ASSERT_GT(batch, used_written(&self->vq));
	} else {
		ASSERT_EQ(batch, used_written(&self->vq));
	}
	for (k = 0; k < batch; k++) {
		uint32_t ulen;
		void *c;

		ASSERT_LE(0, vg_vq_get_used(&self->vq, &ulen, &c));
		ASSERT_EQ(k + 1, (unsigned int)(uintptr_t)c);
		ASSERT_EQ(len, ulen);
		ASSERT_EQ(-1, vg_check(buf + k * 128 + 64, len, k, 0));
	}
	ASSERT_EQ(-EAGAIN, vg_vq_get_used(&self->vq, NULL, NULL));
	if (self->vq.in_order)
		ASSERT_GT(batch, self->vq.used_entries);
	ASSERT_EQ(self->vq.num, self->vq.num_free);
	ASSERT_EQ(0, vg_read_eventfd(self->vq.err_fd));
}

VX_HARNESS_MAIN
