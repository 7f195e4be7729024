// SPDX-License-Identifier: GPL-2.0
/*
 * iotlb_test: device IOTLB (VIRTIO_F_ACCESS_PLATFORM) with v2 messages.
 *
 * With ACCESS_PLATFORM negotiated the device translates every ring and
 * buffer address through an IOTLB that userspace fills on demand: a kick
 * with nothing mapped makes a VHOST_IOTLB_MISS readable on the device fd;
 * a VHOST_IOTLB_UPDATE written back lets the queue proceed; after an
 * INVALIDATE the next kick misses again.  Messages read back must be fully
 * initialised (CVE-2018-1118 class): the read buffer is pre-filled with
 * 0xAA and every byte outside the meaningful fields must come back zero.
 *
 * Variants: vhostx_test (echo, vq 0), vhostx_net and the kernel's own
 * vhost_net (TX vq 1 into a tap; the latter validates this test).
 */
#include <poll.h>

#include "kselftest_harness.h"
#include "vx_common.h"

#define HDR_LEN		12

FIXTURE(iotlb) {
	struct vg_dev d;
	struct vg_vq vq;
	int tap;
	bool net;
	bool ref;		/* the kernel's own vhost-net */
	uint8_t *last_buf;	/* buffer queued last by queue_one() */
};

FIXTURE_VARIANT(iotlb) {
	const char *path;
	bool net;
	bool packed;		/* VIRTIO_F_RING_PACKED */
};

FIXTURE_VARIANT_ADD(iotlb, vhostx_test) { .path = VX_TEST_DEV };
FIXTURE_VARIANT_ADD(iotlb, vhostx_net) { .path = VX_NET_DEV, .net = true };
FIXTURE_VARIANT_ADD(iotlb, vhost_net) { .path = VHOST_NET_DEV, .net = true };
FIXTURE_VARIANT_ADD(iotlb, vhostx_test_packed) {
	.path = VX_TEST_DEV, .packed = true };
FIXTURE_VARIANT_ADD(iotlb, vhostx_net_packed) {
	.path = VX_NET_DEV, .net = true, .packed = true };

/* Open, own, negotiate; @platform: ask for ACCESS_PLATFORM. */
static int open_dev(FIXTURE_DATA(iotlb) *self, const char *path,
		    bool platform, bool packed, uint64_t *offered)
{
	uint64_t want = VG_F(VIRTIO_F_VERSION_1) |
			(packed ? VG_F(VIRTIO_F_RING_PACKED) : 0);
	int r;

	r = vg_open(&self->d, path, 0);
	if (!r)
		r = vg_set_owner(&self->d);
	if (!r)
		r = vg_get_features(&self->d, offered);
	if (r)
		return r;
	if (platform)
		want |= VG_F(VIRTIO_F_ACCESS_PLATFORM);
	if (want & ~*offered)
		return -EOPNOTSUPP;
	r = vg_set_backend_features(&self->d,
				    1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2);
	if (!r)
		r = vg_set_features(&self->d, want);
	if (!r)
		r = vg_set_mem_table(&self->d);
	return r;
}

/* Each ring sits on its own page (vg_vq_init): map those pages 1:1. */
static int map_rings(FIXTURE_DATA(iotlb) *self)
{
	void *ring[3] = { self->vq.desc, self->vq.avail, self->vq.used };
	int i, r = 0;

	if (self->vq.packed) {
		ring[0] = self->vq.pdesc;
		ring[1] = self->vq.pdriver;
		ring[2] = self->vq.pdevice;
	}
	for (i = 0; i < 3 && !r; i++)
		r = vg_iotlb_update(&self->d, vg_gpa(ring[i]), 4096,
				    vg_gpa(ring[i]), VHOST_ACCESS_RW);
	return r;
}

FIXTURE_SETUP(iotlb)
{
	unsigned int idx = variant->net ? 1 : 0;
	uint64_t offered = 0;
	int r;

	vx_fixture_init(&self->d, &self->vq);
	self->tap = -1;
	self->net = variant->net;
	self->ref = !strcmp(variant->path, VHOST_NET_DEV);
	VX_REQUIRE_DEV(variant->path);
	if (variant->net && access("/dev/net/tun", F_OK))
		SKIP(return, "/dev/net/tun not present");

	r = open_dev(self, variant->path, true, variant->packed, &offered);
	/* vhostx always offers it: only the kernel's vhost-net may not. */
	if (r == -EOPNOTSUPP && self->ref)
		SKIP(return, "%s does not offer ACCESS_PLATFORM (features %#llx)",
		     variant->path, (unsigned long long)offered);
	ASSERT_EQ(0, r) TH_LOG("set-up: %s (features %#llx)", strerror(-r),
			       (unsigned long long)offered);
	ASSERT_EQ(0, vg_vq_setup(&self->d, &self->vq, idx, 64, 0));
	/* As QEMU does before starting: map the rings, so that starting the
	 * queue (which writes used->flags) succeeds; buffers stay unmapped. */
	ASSERT_EQ(0, map_rings(self));
	if (variant->net) {
		char name[IFNAMSIZ] = "";

		self->tap = vg_tap_open(name, HDR_LEN, 0);
		ASSERT_LE(0, self->tap);
		ASSERT_EQ(0, vg_net_set_backend(&self->d, idx, self->tap));
	} else {
		ASSERT_EQ(0, vg_test_start(&self->d));
	}
}

FIXTURE_TEARDOWN(iotlb)
{
	if (self->d.fd >= 0) {
		if (self->net)
			vg_net_set_backend(&self->d, self->vq.index, -1);
		else
			vg_test_stop(&self->d);
	}
	vg_vq_free(&self->vq);
	vg_close(&self->d);
	if (self->tap >= 0)
		close(self->tap);
}

/* Queue one buffer the device will complete once it can translate. */
static int queue_one(FIXTURE_DATA(iotlb) *self, unsigned int seed)
{
	/* Page aligned: never on a (mapped) ring page. */
	uint8_t *b = vg_alloc(&self->d, 256, 4096);
	int r;

	self->last_buf = b;
	if (!b)
		return -ENOMEM;
	if (self->net) {
		memset(b, 0, HDR_LEN);
		vg_frame_make(b + HDR_LEN, 74, seed);
		r = vg_vq_add_buf(&self->vq, b, HDR_LEN + 74, NULL, 0, b);
	} else {
		vg_fill(b, 100, seed);
		r = vg_vq_add_buf(&self->vq, b, 100, b + 128, 100, b);
	}
	if (r >= 0)
		vg_vq_kick(&self->vq);
	return r;
}

static bool in_ring(FIXTURE_DATA(iotlb) *self, uint64_t iova)
{
	uint64_t d = vg_gpa(self->vq.desc), a = vg_gpa(self->vq.avail),
		 u = vg_gpa(self->vq.used);

	if (self->vq.packed) {
		d = vg_gpa(self->vq.pdesc);
		a = vg_gpa(self->vq.pdriver);
		u = vg_gpa(self->vq.pdevice);
	}
	return (iova >= d && iova < d + 16 * 64) ||
	       (iova >= a && iova < a + 6 + 2 * 64) ||
	       (iova >= u && iova < u + 6 + 8 * 64);
}

/* Read one message and check it is a fully initialised v2 MISS. */
static void expect_miss(struct __test_metadata *_metadata,
			FIXTURE_DATA(iotlb) *self, struct vhost_msg_v2 *msg)
{
	const uint8_t *p = (const uint8_t *)msg;
	size_t i, fields_end;
	int n;

	memset(msg, 0xaa, sizeof(*msg));
	n = vg_iotlb_read(&self->d, msg, VX_TIMEOUT_MS);
	ASSERT_EQ((int)sizeof(*msg), n) TH_LOG("no IOTLB miss message");
	ASSERT_EQ(VHOST_IOTLB_MSG_V2, msg->type);
	ASSERT_EQ(0, msg->asid);
	ASSERT_EQ(VHOST_IOTLB_MISS, msg->iotlb.type);
	ASSERT_NE(0, msg->iotlb.perm & VHOST_ACCESS_RW);
	ASSERT_EQ(0, msg->iotlb.size);
	ASSERT_EQ(0, msg->iotlb.uaddr);
	/* The miss is on the buffer just queued (or on a ring, for a device
	 * that does not keep ring translations across an invalidate). */
	/*
	 * vhostx misses exactly there.  The kernel's vhost-net is only held
	 * to missing somewhere in guest memory: it also looks up pages we
	 * do not predict (seen: a page outside the rings and the buffer).
	 */
	if (self->ref) {
		ASSERT_TRUE(msg->iotlb.iova >= vg_gpa(self->d.arena) &&
			    msg->iotlb.iova < vg_gpa(self->d.arena) +
					      self->d.arena_size)
			TH_LOG("miss at %#llx", (unsigned long long)msg->iotlb.iova);
	} else {
		ASSERT_TRUE(in_ring(self, msg->iotlb.iova) ||
			    (msg->iotlb.iova >= vg_gpa(self->last_buf) &&
			     msg->iotlb.iova < vg_gpa(self->last_buf) + 256))
			TH_LOG("miss at %#llx", (unsigned long long)msg->iotlb.iova);
	}
	/* Struct padding after iotlb.type and the union tail: zero. */
	fields_end = offsetof(struct vhost_msg_v2, iotlb) +
		     offsetof(struct vhost_iotlb_msg, type) + 1;
	for (i = fields_end; i < sizeof(*msg); i++)
		ASSERT_EQ(0, p[i]) TH_LOG("byte %zu of the message is %#x", i, p[i]);
}

VX_TEST_F(iotlb, miss_update_invalidate)
{
	struct vhost_msg_v2 msg;
	uint32_t len;

	ASSERT_LE(0, queue_one(self, 1));
	expect_miss(_metadata, self, &msg);
	ASSERT_EQ(0, vg_vq_used_pending(&self->vq));

	/* Map all of guest memory 1:1; the queue must now proceed. */
	ASSERT_EQ(0, vg_iotlb_update(&self->d, vg_gpa(self->d.arena),
				     self->d.arena_size, vg_gpa(self->d.arena),
				     VHOST_ACCESS_RW));
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS))
		TH_LOG("no progress after IOTLB update");
	ASSERT_LE(0, vg_vq_get_used(&self->vq, &len, NULL));
	ASSERT_EQ(self->net ? 0u : 100u, len);

	/* Mapped: a second buffer needs no further message. */
	ASSERT_LE(0, queue_one(self, 2));
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
	ASSERT_LE(0, vg_vq_get_used(&self->vq, NULL, NULL));

	/* Invalidate the buffers (not the rings): the next kick misses. */
	ASSERT_EQ(0, vg_iotlb_invalidate(&self->d, vg_gpa(self->d.arena),
					 self->d.arena_size));
	ASSERT_EQ(0, map_rings(self));
	ASSERT_LE(0, queue_one(self, 3));
	expect_miss(_metadata, self, &msg);
	ASSERT_EQ(0, vg_vq_used_pending(&self->vq));
	ASSERT_EQ(0, vg_iotlb_update(&self->d, vg_gpa(self->d.arena),
				     self->d.arena_size, vg_gpa(self->d.arena),
				     VHOST_ACCESS_RW));
	ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
}

/* Malformed messages written to the device fd. */
VX_TEST_F(iotlb, bad_messages)
{
	struct vhost_msg_v2 msg;

	ASSERT_EQ(-EINVAL, vg_iotlb_update(&self->d, vg_gpa(self->d.arena), 0,
					   vg_gpa(self->d.arena),
					   VHOST_ACCESS_RW));
	/* Kernel address as the user address of a mapping. */
	ASSERT_EQ(-EFAULT, vg_iotlb_update(&self->d, 0x1000, 4096,
					   0xffff888000000000ULL,
					   VHOST_ACCESS_RW));
	/* Unknown outer message type. */
	memset(&msg, 0, sizeof(msg));
	msg.type = 99;
	ASSERT_EQ(-1, write(self->d.fd, &msg, sizeof(msg)));
	ASSERT_EQ(EINVAL, errno);
	/* Unknown IOTLB message type. */
	msg.type = VHOST_IOTLB_MSG_V2;
	msg.iotlb.type = 77;
	ASSERT_EQ(-1, write(self->d.fd, &msg, sizeof(msg)));
	ASSERT_EQ(EFAULT, errno);
	/* Short write. */
	ASSERT_EQ(-1, write(self->d.fd, &msg, 8));
	ASSERT_EQ(EINVAL, errno);
	/* Shorter than the message type. */
	ASSERT_EQ(-1, write(self->d.fd, &msg, 2));
	ASSERT_EQ(EINVAL, errno);
	/* A version 1 message cut short. */
	msg.type = VHOST_IOTLB_MSG;
	ASSERT_EQ(-1, write(self->d.fd, &msg, 16));
	ASSERT_EQ(EINVAL, errno);
	/* A mapping whose IOVA range wraps. */
	EXPECT_EQ(-EFAULT, vg_iotlb_update(&self->d, ~0ULL - 4095, 8192,
					   vg_gpa(self->d.arena),
					   VHOST_ACCESS_RW));
	/*
	 * An empty invalidation, and one whose range wraps: not malformed,
	 * as with the kernel's vhost-net (6.1 and mainline); the range is
	 * counted modulo 2^64 (invalidate_modulo).
	 */
	EXPECT_EQ(0, vg_iotlb_invalidate(&self->d, 0x1000, 0));
	EXPECT_EQ(0, vg_iotlb_invalidate(&self->d, ~0ULL - 4095, 8192));
}

/*
 * What an invalidation counted modulo 2^64 drops.  Iova 0, size 0 is
 * everything (how QEMU's virtual SMMU says so): the next buffer misses,
 * on every device.  On vhostx, so does the next buffer after a range
 * from the top page wrapping onto all of guest memory (the kernel's
 * vhost-net drops only the mappings that hold the range's whole gap,
 * which the guest memory's does not).
 */
VX_TEST_F(iotlb, invalidate_modulo)
{
	uint64_t base = vg_gpa(self->d.arena), size = self->d.arena_size;
	const uint64_t iova[] = { 0, ~0ULL - 4095 };
	const uint64_t len[] = { 0, 4096 + base + size };
	struct vhost_msg_v2 msg;
	unsigned int i;

	ASSERT_EQ(0, vg_iotlb_update(&self->d, base, size, base,
				     VHOST_ACCESS_RW));
	for (i = 0; i < (self->ref ? 1 : 2); i++) {
		/* Mapped: a buffer needs no message. */
		ASSERT_LE(0, queue_one(self, 2 * i + 1));
		ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
		ASSERT_LE(0, vg_vq_get_used(&self->vq, NULL, NULL));

		ASSERT_EQ(0, vg_iotlb_invalidate(&self->d, iova[i], len[i]));
		ASSERT_EQ(0, map_rings(self));
		ASSERT_LE(0, queue_one(self, 2 * i + 2));
		expect_miss(_metadata, self, &msg);
		ASSERT_EQ(0, vg_vq_used_pending(&self->vq))
			TH_LOG("invalidation %u left the buffer mapped", i);
		ASSERT_EQ(0, vg_iotlb_update(&self->d, base, size, base,
					     VHOST_ACCESS_RW));
		ASSERT_LT(0, vg_vq_wait_used(&self->vq, 1, VX_TIMEOUT_MS));
		ASSERT_LE(0, vg_vq_get_used(&self->vq, NULL, NULL));
	}
}

/*
 * Reads: nothing queued and O_NONBLOCK -> EAGAIN; a buffer shorter than a
 * message -> 0.  Uses a second open with no queue started, since a running
 * queue may already have produced a miss.
 */
VX_TEST_F(iotlb, read_semantics)
{
	struct vg_dev keep = self->d;
	struct vhost_msg_v2 msg;
	struct pollfd p;
	uint64_t offered;
	int fl;

	ASSERT_EQ(0, open_dev(self, variant->path, true, variant->packed,
			       &offered));
	p = (struct pollfd){ .fd = self->d.fd, .events = POLLIN };
	ASSERT_EQ(0, poll(&p, 1, 0));
	fl = fcntl(self->d.fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->d.fd, F_SETFL, fl | O_NONBLOCK));
	ASSERT_EQ(-1, read(self->d.fd, &msg, sizeof(msg)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, read(self->d.fd, &msg, 16));
	vg_close(&self->d);
	self->d = keep;
}

/* Without ACCESS_PLATFORM there is no IOTLB to update. */
VX_TEST_F(iotlb, update_without_access_platform)
{
	struct vg_dev keep = self->d;
	uint64_t offered;

	ASSERT_EQ(0, open_dev(self, variant->path, false, variant->packed,
			       &offered));
	ASSERT_EQ(-EFAULT, vg_iotlb_update(&self->d, vg_gpa(self->d.arena),
					   4096, vg_gpa(self->d.arena),
					   VHOST_ACCESS_RW));
	vg_close(&self->d);
	self->d = keep;
}

VX_HARNESS_MAIN
