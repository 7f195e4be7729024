// SPDX-License-Identifier: GPL-2.0
/*
 * The packed virtqueue format (virtio 1.1+, 2.8).
 *
 * One ring of 16-byte descriptors that both sides write: the driver makes
 * a descriptor available by setting its AVAIL flag to its wrap counter and
 * USED to the opposite; the device marks it used by writing the buffer id,
 * the length and both flags equal to its own wrap counter.  A buffer is a
 * run of consecutive descriptors joined by NEXT (wrapping at the ring's
 * end flips the wrap counter); its id is in the last one.  Two 4-byte
 * event areas beside the ring suppress notifications: the driver's (the
 * vq's "avail" address) says when it wants a call, the device's (the
 * "used" address) when we want a kick.
 *
 * Everything read from the ring is hostile: flags that disagree with the
 * wrap counter, chains longer than the ring, ids past it or still in use
 * (made available again before the device used them), indirect tables
 * of odd sizes, nested or too big, event offsets past the ring.  Each is a
 * guest error (vhostx_vq_err()), never an out-of-bounds access or an
 * endless walk: a chain is at most vq->num descriptors, every index is
 * reduced below vq->num before use.
 *
 * Ordering: read a descriptor's flags, then (rmb) the buffer they
 * publish; write the used ids and lengths, then (wmb) the flags that
 * publish them, the first buffer's last so a batch appears at once; then
 * (mb) read the driver's event area.
 *
 * The three areas passed access_ok() when they were (re)validated, as for
 * the split ring, so per-buffer accesses use the unchecked accessors.
 */
#include <linux/uaccess.h>
#include "internal.h"

#define PACKED_F_AVAIL	BIT(VRING_PACKED_DESC_F_AVAIL)
#define PACKED_F_USED	BIT(VRING_PACKED_DESC_F_USED)
#define PACKED_WRAP	BIT(VRING_PACKED_EVENT_F_WRAP_CTR)

static inline struct vhostx_packed_state *packed_st(struct vhostx_vq *vq)
{
	return &vq->rs.packed;
}

static struct vring_packed_desc __user *packed_ring(struct vhostx_vq *vq)
{
	return vq->area_uaddr[VHOSTX_AREA_DESC];
}

/* The driver's event area: when it wants calls. */
static struct vring_packed_desc_event __user *
packed_driver_event(struct vhostx_vq *vq)
{
	return vq->area_uaddr[VHOSTX_AREA_AVAIL];
}

/* The device's event area: when we want kicks. */
static struct vring_packed_desc_event __user *
packed_device_event(struct vhostx_vq *vq)
{
	return vq->area_uaddr[VHOSTX_AREA_USED];
}

static u64 packed_area_size(struct vhostx_vq *vq, int area)
{
	if (area == VHOSTX_AREA_DESC)
		return (u64)sizeof(struct vring_packed_desc) * vq->num;
	return sizeof(struct vring_packed_desc_event);
}

/* Is a descriptor with @flags available in the driver's lap @wrap? */
static inline bool packed_avail(u16 flags, bool wrap)
{
	return !!(flags & PACKED_F_AVAIL) == wrap &&
	       !!(flags & PACKED_F_USED) != wrap;
}

/*
 * A ring position as one number in [0, 2 * num): the slot, plus num in
 * the laps whose wrap counter is 0.  Distances between positions are
 * then differences modulo 2 * num.
 */
static inline u32 packed_pos(struct vhostx_vq *vq, u16 idx, bool wrap)
{
	return idx + (wrap ? 0 : vq->num);
}

static inline u32 packed_dist(struct vhostx_vq *vq, u32 from, u32 to)
{
	u32 laps = 2 * vq->num;

	return (to + laps - from) % laps;
}

/* Move @idx (and its lap @wrap) @n slots on, @n <= num. */
static inline void packed_advance(struct vhostx_vq *vq, u16 *idx, bool *wrap,
				  unsigned int n)
{
	u32 next = *idx + n;

	if (next >= vq->num) {
		next -= vq->num;
		*wrap = !*wrap;
	}
	*idx = next;
}

static int packed_log_device_event(struct vhostx_vq *vq)
{
	if (likely(!vq->log_used))
		return 0;
	return vhostx_log_used(vq, 0, sizeof(struct vring_packed_desc_event));
}

/* Write the device event area: @flags, and @off_wrap with DESC. */
static int packed_write_event(struct vhostx_vq *vq, u16 flags, u16 off_wrap)
{
	struct vring_packed_desc_event __user *ev = packed_device_event(vq);

	if (flags == VRING_PACKED_EVENT_FLAG_DESC &&
	    __put_user(cpu_to_le16(off_wrap), &ev->off_wrap))
		return -EFAULT;
	if (__put_user(cpu_to_le16(flags), &ev->flags))
		return -EFAULT;
	packed_st(vq)->event_flags = flags;
	return packed_log_device_event(vq);
}

/*
 * First use after vhostx_vq_start(): the base must fit the ring (its size
 * may have changed since VHOST_SET_VRING_BASE), and kicks are wanted: with
 * EVENT_IDX one, for the descriptor at the position the device reads next
 * (as a split ring's avail event starts where the driver starts), so that
 * a queue whose handler never runs dry (RX with buffers to spare) is not
 * kicked for every buffer the driver adds, as ENABLE would have it.
 */
static int packed_activate(struct vhostx_vq *vq, bool first)
{
	struct vhostx_packed_state *st = packed_st(vq);

	if (!first)
		return 0;
	if (vq->last_avail_idx >= vq->num || vq->last_used_idx >= vq->num)
		return -EINVAL;
	st->signalled_used_valid = false;
	st->hist_n = 0;
	/* Whatever was in flight before the start is not checked. */
	bitmap_zero(st->inflight, VHOSTX_RING_MAX);
	st->kicks_off = false;
	if (vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return packed_write_event(vq, VRING_PACKED_EVENT_FLAG_DESC,
					  vq->last_avail_idx |
					  (st->avail_wrap ? PACKED_WRAP : 0));
	return packed_write_event(vq, VRING_PACKED_EVENT_FLAG_ENABLE, 0);
}

static int packed_read_flags(struct vhostx_vq *vq, unsigned int i, u16 *flags)
{
	__le16 f;

	if (__get_user(f, &packed_ring(vq)[i].flags))
		return -EFAULT;
	*flags = le16_to_cpu(f);
	return 0;
}

static int packed_read_desc(struct vhostx_vq *vq, unsigned int i,
			    struct vring_packed_desc *desc)
{
	struct vring_packed_desc __user *d = packed_ring(vq) + i;

	if (!user_access_begin(d, sizeof(*d)))
		return -EFAULT;
	unsafe_get_user(desc->addr, &d->addr, efault);
	unsafe_get_user(desc->len, &d->len, efault);
	unsafe_get_user(desc->id, &d->id, efault);
	unsafe_get_user(desc->flags, &d->flags, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * An indirect table: its entries in order, as many as its length says.
 * Only WRITE means something inside it (2.8.19); NEXT and the id are
 * ignored, another INDIRECT is an error.
 */
static int packed_walk_indirect(struct vhostx_vq *vq,
				const struct vring_packed_desc *ind,
				struct vhostx_buf *buf, struct iovec *iov,
				unsigned int iov_max, struct vhostx_log *log,
				unsigned int log_max)
{
	struct vring_packed_desc desc;
	unsigned int count, i;
	int niov, ret;
	u16 flags;

	niov = vhostx_ring_map_indirect(vq, le64_to_cpu(ind->addr),
					le32_to_cpu(ind->len), &count);
	if (niov < 0)
		return niov;
	for (i = 0; i < count; i++) {
		if (vhostx_ring_read_indirect(vq->indirect_iov, niov, i,
					      &desc)) {
			vhostx_vq_err(vq, "indirect table unreadable");
			return -EFAULT;
		}
		flags = le16_to_cpu(desc.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			vhostx_vq_err(vq, "nested indirect table");
			return -EINVAL;
		}
		ret = vhostx_ring_add_segment(vq, le64_to_cpu(desc.addr),
					      le32_to_cpu(desc.len),
					      flags & VRING_DESC_F_WRITE, buf,
					      iov, iov_max, log, log_max);
		if (ret)
			return ret;
	}
	return 0;
}

/* Remember a taken buffer's descriptor count for packed_unget(). */
static void packed_hist_push(struct vhostx_packed_state *st, u16 ndesc,
			     u16 id)
{
	st->hist[st->hist_pos] = ndesc;
	st->hist_id[st->hist_pos] = id;
	st->hist_pos = (st->hist_pos + 1) % ARRAY_SIZE(st->hist);
	if (st->hist_n < ARRAY_SIZE(st->hist))
		st->hist_n++;
}

static int packed_get_buf(struct vhostx_vq *vq, struct vhostx_buf *buf,
			  struct iovec *iov, unsigned int iov_max,
			  struct vhostx_log *log, unsigned int log_max)
{
	struct vhostx_packed_state *st = packed_st(vq);
	u16 idx = vq->last_avail_idx, flags, id;
	bool wrap = st->avail_wrap;
	struct vring_packed_desc desc;
	unsigned int seen = 0;
	int ret;

	if (packed_read_flags(vq, idx, &flags)) {
		vhostx_vq_err(vq, "descriptor %u unreadable", idx);
		return -EFAULT;
	}
	if (!packed_avail(flags, wrap)) {
		/*
		 * Nothing new.  A driver with few buffers in flight waits
		 * for the batched used descriptors before it adds more:
		 * publish them, then look once more (after the time the
		 * signal took) before the caller re-arms kicks and sleeps.
		 */
		if (!vq->batch_n)
			return 0;
		vhostx_flush_used(vq);
		if (unlikely(vq->broken))
			return -EIO;
		if (packed_read_flags(vq, idx, &flags)) {
			vhostx_vq_err(vq, "descriptor %u unreadable", idx);
			return -EFAULT;
		}
		if (!packed_avail(flags, wrap))
			return 0;
	}
	/* Read the buffer only after the flags that publish it. */
	smp_rmb();
	memset(buf, 0, sizeof(*buf));

	for (;;) {
		if (++seen > vq->num) {
			vhostx_vq_err(vq, "descriptor chain from %u longer than the ring (%u)",
				      vq->last_avail_idx, vq->num);
			return -ELOOP;
		}
		if (packed_read_desc(vq, idx, &desc)) {
			vhostx_vq_err(vq, "descriptor %u unreadable", idx);
			return -EFAULT;
		}
		flags = le16_to_cpu(desc.flags);
		/* Every descriptor of a chain is in the lap of its slot. */
		if (!packed_avail(flags, wrap)) {
			vhostx_vq_err(vq, "descriptor %u of a chain not available (flags 0x%x, wrap %u)",
				      idx, flags, wrap);
			return -EINVAL;
		}
		if (flags & VRING_DESC_F_INDIRECT) {
			if (flags & VRING_DESC_F_NEXT) {
				vhostx_vq_err(vq, "indirect descriptor %u has NEXT",
					      idx);
				return -EINVAL;
			}
			ret = packed_walk_indirect(vq, &desc, buf, iov, iov_max,
						   log, log_max);
		} else {
			ret = vhostx_ring_add_segment(vq,
						      le64_to_cpu(desc.addr),
						      le32_to_cpu(desc.len),
						      flags & VRING_DESC_F_WRITE,
						      buf, iov, iov_max, log,
						      log_max);
		}
		if (ret)
			return ret;
		packed_advance(vq, &idx, &wrap, 1);
		if (!(flags & VRING_DESC_F_NEXT))
			break;
	}

	/* The buffer id is in the chain's last descriptor. */
	id = le16_to_cpu(desc.id);
	if (id >= vq->num) {
		vhostx_vq_err(vq, "buffer id %u out of range (ring of %u)", id,
			      vq->num);
		return -EINVAL;
	}
	/* Not while the device still holds a buffer with that id. */
	if (__test_and_set_bit(id, st->inflight)) {
		vhostx_vq_err(vq, "buffer id %u made available while in use",
			      id);
		return -EINVAL;
	}
	buf->id = id;
	buf->ndesc = seen;
	vq->last_avail_idx = idx;
	st->avail_wrap = wrap;
	packed_hist_push(st, seen, id);
	return 1;
}

static void packed_unget(struct vhostx_vq *vq, unsigned int nbufs)
{
	struct vhostx_packed_state *st = packed_st(vq);
	unsigned int n;

	while (nbufs--) {
		if (!st->hist_n) {
			vhostx_vq_err(vq, "more buffers given back than taken");
			return;
		}
		st->hist_pos = (st->hist_pos + ARRAY_SIZE(st->hist) - 1) %
			       ARRAY_SIZE(st->hist);
		st->hist_n--;
		n = st->hist[st->hist_pos];
		__clear_bit(st->hist_id[st->hist_pos], st->inflight);
		if (vq->last_avail_idx >= n) {
			vq->last_avail_idx -= n;
		} else {
			vq->last_avail_idx += vq->num - n;
			st->avail_wrap = !st->avail_wrap;
		}
	}
}

/* Dirty-log @slots descriptors of the ring from @idx on (wrapping). */
static int packed_log_ring(struct vhostx_vq *vq, u16 idx, u32 slots)
{
	const u64 size = sizeof(struct vring_packed_desc);
	u32 n1 = min_t(u32, slots, vq->num - idx);
	int ret;

	ret = vhostx_log_area(vq, VHOSTX_AREA_DESC, idx * size, n1 * size);
	if (!ret && slots > n1)
		ret = vhostx_log_area(vq, VHOSTX_AREA_DESC, 0,
				      (u64)(slots - n1) * size);
	return ret;
}

static int packed_add_used_n(struct vhostx_vq *vq,
			     const struct vhostx_used *used,
			     unsigned int count)
{
	struct vhostx_packed_state *st = packed_st(vq);
	struct vring_packed_desc __user *ring = packed_ring(vq);
	u16 start = vq->last_used_idx, idx = start;
	bool wrap = st->used_wrap, start_wrap = wrap;
	u32 old, new, slots = 0;
	u16 flags, first_flags = 0;
	unsigned int i;
	int ret;

	/*
	 * Descriptor counts come from get_buf(); checked all the same.  The
	 * ids are the driver's again (on any error the queue stops, and
	 * only a new start or base clears the rest).
	 */
	for (i = 0; i < count; i++) {
		if (unlikely(!used[i].ndesc || used[i].ndesc > vq->num ||
			     used[i].id >= vq->num))
			return -EINVAL;
		__clear_bit(used[i].id, st->inflight);
	}

	if (!user_access_begin(ring, sizeof(*ring) * vq->num))
		return -EFAULT;
	for (i = 0; i < count; i++) {
		flags = wrap ? PACKED_F_AVAIL | PACKED_F_USED : 0;
		unsafe_put_user(cpu_to_le16(used[i].id), &ring[idx].id, efault);
		unsafe_put_user(cpu_to_le32(used[i].len), &ring[idx].len,
				efault);
		/*
		 * The driver reads on from the first descriptor only: the
		 * later ones may be published in any order before it.
		 */
		if (i)
			unsafe_put_user(cpu_to_le16(flags), &ring[idx].flags,
					efault);
		else
			first_flags = flags;
		packed_advance(vq, &idx, &wrap, used[i].ndesc);
		slots += used[i].ndesc;
	}
	user_access_end();
	/* Ids and lengths before the flags that publish them. */
	smp_wmb();
	if (__put_user(cpu_to_le16(first_flags), &ring[start].flags))
		return -EFAULT;
	if (unlikely(vq->log_used)) {
		ret = packed_log_ring(vq, start, min(slots, vq->num));
		if (ret)
			return ret;
	}

	vq->last_used_idx = idx;
	st->used_wrap = wrap;
	/* If we went past the position we last signalled at, re-arm. */
	old = packed_pos(vq, st->signalled_used, st->signalled_wrap);
	new = packed_pos(vq, idx, wrap);
	if (unlikely(packed_dist(vq, old, new) <
		     packed_dist(vq, packed_pos(vq, start, start_wrap), new)))
		st->signalled_used_valid = false;
	return 0;

efault:
	user_access_end();
	return -EFAULT;
}

static bool packed_need_signal(struct vhostx_vq *vq)
{
	struct vring_packed_desc_event __user *ev = packed_driver_event(vq);
	struct vhostx_packed_state *st = packed_st(vq);
	u32 old, new, event;
	u16 flags, off;
	__le16 v16;
	bool valid;

	/* Publish the used descriptors before reading the driver's wish. */
	smp_mb();
	if (__get_user(v16, &ev->flags))
		return true;
	flags = le16_to_cpu(v16) & 0x3;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	/* ENABLE, a reserved value, or DESC the driver may not use. */
	if (flags != VRING_PACKED_EVENT_FLAG_DESC ||
	    !vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return true;

	old = packed_pos(vq, st->signalled_used, st->signalled_wrap);
	valid = st->signalled_used_valid;
	st->signalled_used = vq->last_used_idx;
	st->signalled_wrap = st->used_wrap;
	st->signalled_used_valid = true;
	new = packed_pos(vq, vq->last_used_idx, st->used_wrap);
	if (unlikely(!valid))
		return true;
	if (__get_user(v16, &ev->off_wrap))
		return true;
	off = le16_to_cpu(v16) & ~PACKED_WRAP;
	/* An offset past the ring: it cannot be waited for, so call. */
	if (off >= vq->num)
		return true;
	event = packed_pos(vq, off, le16_to_cpu(v16) & PACKED_WRAP);
	/* Did the used descriptors written since @old pass @event? */
	return packed_dist(vq, event, new) - 1 < packed_dist(vq, old, new);
}

static bool packed_avail_empty(struct vhostx_vq *vq)
{
	u16 flags;

	/* A fault is "not empty": the handler will run and report it. */
	if (packed_read_flags(vq, vq->last_avail_idx, &flags))
		return false;
	return !packed_avail(flags, packed_st(vq)->avail_wrap);
}

static bool packed_enable_notify(struct vhostx_vq *vq)
{
	struct vhostx_packed_state *st = packed_st(vq);
	int ret;

	if (!st->kicks_off)
		return false;
	st->kicks_off = false;
	if (vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		ret = packed_write_event(vq, VRING_PACKED_EVENT_FLAG_DESC,
					 vq->last_avail_idx |
					 (st->avail_wrap ? PACKED_WRAP : 0));
	else
		ret = packed_write_event(vq, VRING_PACKED_EVENT_FLAG_ENABLE,
					 0);
	if (ret)
		return false;
	/* The driver must see the change before we look for buffers. */
	smp_mb();
	return !packed_avail_empty(vq);
}

/*
 * With EVENT_IDX nothing is written, as for the split ring: the event
 * offset stays where the last enable put it, which a driver that kicked
 * has passed.
 */
static void packed_disable_notify(struct vhostx_vq *vq)
{
	struct vhostx_packed_state *st = packed_st(vq);

	if (st->kicks_off)
		return;
	st->kicks_off = true;
	if (!vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX) &&
	    st->event_flags != VRING_PACKED_EVENT_FLAG_DISABLE)
		packed_write_event(vq, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
}

/* No kick at all until packed_enable_notify(), whatever the features. */
static void packed_mute_notify(struct vhostx_vq *vq)
{
	struct vhostx_packed_state *st = packed_st(vq);

	st->kicks_off = true;
	if (st->event_flags != VRING_PACKED_EVENT_FLAG_DISABLE)
		packed_write_event(vq, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
}

/* Any size up to VHOSTX_RING_MAX, powers of two or not (2.8: Queue Size). */
static bool packed_check_num(unsigned int num)
{
	return num && num <= VHOSTX_RING_MAX;
}

/* Both wrap counters start at 1 (2.8.1). */
static void packed_reset(struct vhostx_vq *vq)
{
	struct vhostx_packed_state *st = packed_st(vq);

	memset(st, 0, sizeof(*st));
	st->avail_wrap = true;
	st->used_wrap = true;
	vq->last_avail_idx = 0;
	vq->last_used_idx = 0;
}

/*
 * The base as QEMU and the kernel's vhost (6.4+) encode it: bits 0-14
 * the next descriptor to take, bit 15 the driver's wrap counter there;
 * bits 16-30 the next descriptor to mark used, bit 31 its wrap counter.
 * DPDK's virtio-user gives the low half only (0x8000 for a new ring), as
 * vhost-user backends read it: with the high half 0, the used position is
 * the avail one.  (What that cannot say: used at slot 0 with counter 0
 * while the avail position is elsewhere, buffers in flight at that very
 * point.)
 */
static int packed_set_base(struct vhostx_vq *vq, u32 num)
{
	struct vhostx_packed_state *st = packed_st(vq);
	u16 avail = num & 0x7fff, used;

	if (!(num >> 16))
		num |= (num & 0xffff) << 16;
	used = (num >> 16) & 0x7fff;

	if (avail >= vq->num || used >= vq->num)
		return -EINVAL;
	vq->last_avail_idx = avail;
	st->avail_wrap = num & BIT(15);
	vq->last_used_idx = used;
	st->used_wrap = num & BIT(31);
	st->hist_n = 0;
	bitmap_zero(st->inflight, VHOSTX_RING_MAX);
	st->signalled_used_valid = false;
	return 0;
}

static u32 packed_get_base(struct vhostx_vq *vq)
{
	struct vhostx_packed_state *st = packed_st(vq);

	return vq->last_avail_idx | (st->avail_wrap ? BIT(15) : 0) |
	       (u32)vq->last_used_idx << 16 | (st->used_wrap ? BIT(31) : 0);
}

const struct vhostx_ring_ops vhostx_packed_ring_ops = {
	.name		= "packed",
	.area_size	= packed_area_size,
	.activate	= packed_activate,
	.get_buf	= packed_get_buf,
	.unget		= packed_unget,
	.add_used_n	= packed_add_used_n,
	.need_signal	= packed_need_signal,
	.enable_notify	= packed_enable_notify,
	.disable_notify	= packed_disable_notify,
	.mute_notify	= packed_mute_notify,
	.avail_empty	= packed_avail_empty,
	.check_num	= packed_check_num,
	.reset		= packed_reset,
	.set_base	= packed_set_base,
	.get_base	= packed_get_base,
	/* The device writes used descriptors into the ring itself. */
	.area_perm	= { VHOST_MAP_RW, VHOST_MAP_RO, VHOST_MAP_WO },
};
