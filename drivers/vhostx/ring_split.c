// SPDX-License-Identifier: GPL-2.0
/*
 * The split virtqueue format (virtio 1.x, 2.7).
 *
 * Everything read here comes from guest memory and is hostile: the avail
 * index may jump anywhere, heads and next fields may point past the table
 * or loop, indirect tables may be nested, oddly sized or huge, and
 * addresses may be unmapped or wrap.  Each check below turns such input
 * into an error that stops the queue (vhostx_vq_err()), never into an
 * out-of-bounds access or an endless walk.
 *
 * Ordering follows the virtio memory model: read avail->idx, then (rmb)
 * the ring entries and descriptors it covers; write used entries, then
 * (wmb) used->idx; then (mb) read the driver's notification suppression.
 *
 * The three areas passed access_ok() over their whole size when they were
 * (re)validated (vhostx_meta_prefetch(), redone after any change of
 * address, size, features or memory map), so the per-packet accesses use
 * the unchecked __get_user()/__put_user() and user_access_begin() forms.
 */
#include <linux/uaccess.h>
#include "internal.h"

/* The split ring's private state. */
static inline struct vhostx_split_state *split_st(struct vhostx_vq *vq)
{
	return &vq->rs.split;
}

static struct vring_desc __user *split_desc(struct vhostx_vq *vq)
{
	return vq->area_uaddr[VHOSTX_AREA_DESC];
}

static struct vring_avail __user *split_avail(struct vhostx_vq *vq)
{
	return vq->area_uaddr[VHOSTX_AREA_AVAIL];
}

static struct vring_used __user *split_used(struct vhostx_vq *vq)
{
	return vq->area_uaddr[VHOSTX_AREA_USED];
}

static u64 split_area_size(struct vhostx_vq *vq, int area)
{
	u64 event = vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX) ? 2 : 0;

	switch (area) {
	case VHOSTX_AREA_DESC:
		return (u64)sizeof(struct vring_desc) * vq->num;
	case VHOSTX_AREA_AVAIL:
		return sizeof(struct vring_avail) +
		       (u64)sizeof(__virtio16) * vq->num + event;
	default:
		return sizeof(struct vring_used) +
		       (u64)sizeof(struct vring_used_elem) * vq->num + event;
	}
}

/* Where the driver says which used index it wants an interrupt at. */
static __virtio16 __user *split_used_event(struct vhostx_vq *vq)
{
	return &split_avail(vq)->ring[vq->num];
}

/* Where we say which avail index we want a kick at. */
static __virtio16 __user *split_avail_event(struct vhostx_vq *vq)
{
	return (__virtio16 __user *)&split_used(vq)->ring[vq->num];
}

/* Dirty-log a write to the used area; without logging, no call at all. */
static inline int split_log_used(struct vhostx_vq *vq, u64 offset, u64 len)
{
	return unlikely(vq->log_used) ? vhostx_log_used(vq, offset, len) : 0;
}

static inline int split_write_used_flags(struct vhostx_vq *vq)
{
	if (__put_user(cpu_to_vhostx16(vq, split_st(vq)->used_flags),
		       &split_used(vq)->flags))
		return -EFAULT;
	return split_log_used(vq, offsetof(struct vring_used, flags),
			      sizeof(__virtio16));
}

static inline int split_write_avail_event(struct vhostx_vq *vq, u16 idx)
{
	if (__put_user(cpu_to_vhostx16(vq, idx), split_avail_event(vq)))
		return -EFAULT;
	return split_log_used(vq, sizeof(struct vring_used) +
			      (u64)sizeof(struct vring_used_elem) * vq->num,
			      sizeof(__virtio16));
}

/* First use after vhostx_vq_start(): sync with the ring in guest memory. */
static int split_sync_used(struct vhostx_vq *vq)
{
	__virtio16 idx;
	int ret;

	split_st(vq)->used_flags = 0;
	ret = split_write_used_flags(vq);
	if (ret)
		return ret;
	if (get_user(idx, &split_used(vq)->idx))
		return -EFAULT;
	vq->last_used_idx = vhostx16_to_cpu(vq, idx);
	return 0;
}

/*
 * The areas were (re)translated: the ring may have moved, so nothing read
 * ahead is valid, nor the in-order head expected next (the features may
 * have changed too).  On first use, sync with the used ring.
 */
static int split_activate(struct vhostx_vq *vq, bool first)
{
	struct vhostx_split_state *st = split_st(vq);

	st->ahead_end = st->ahead_start;
	st->next_head_known = false;
	if (!first)
		return 0;
	st->avail_idx = vq->last_avail_idx;
	st->signalled_used_valid = false;
	return split_sync_used(vq);
}

/* Read descriptor @i of the table (inside the checked area). */
static int split_read_desc(struct vhostx_vq *vq, unsigned int i,
			   struct vring_desc *desc)
{
	struct vring_desc __user *d = split_desc(vq) + i;

	if (!user_access_begin(d, sizeof(*d)))
		return -EFAULT;
	unsafe_get_user(desc->addr, &d->addr, efault);
	unsafe_get_user(desc->len, &d->len, efault);
	unsafe_get_user(desc->flags, &d->flags, efault);
	unsafe_get_user(desc->next, &d->next, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Read the published avail entries from @last on (at most
 * VHOSTX_AVAIL_AHEAD) in one user-access section, instead of one checked
 * access per buffer.  The driver may not change them until they are used
 * (2.7.13), and a guest that does gets the value read here, range-checked
 * like any other.  unget() only moves back within what was taken, which
 * is still published.
 */
static int split_read_ahead(struct vhostx_vq *vq, u16 last)
{
	struct vhostx_split_state *st = split_st(vq);
	__virtio16 __user *ring = split_avail(vq)->ring;
	/*
	 * Through a pointer: an array index would be bounds-checked by
	 * UBSAN, a call with user access enabled.  i < n <= the array's size.
	 */
	__virtio16 *ahead = st->ahead;
	unsigned int i, n = min_t(unsigned int, (u16)(st->avail_idx - last),
				  VHOSTX_AVAIL_AHEAD);

	st->ahead_end = st->ahead_start;
	if (!user_access_begin(ring, sizeof(*ring) * vq->num))
		return -EFAULT;
	for (i = 0; i < n; i++)
		unsafe_get_user(ahead[i],
				&ring[(u16)(last + i) & (vq->num - 1)], efault);
	user_access_end();
	st->ahead_start = last;
	st->ahead_end = last + n;
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Append the iovecs of one (direct) descriptor to @buf. */
static int split_add_segment(struct vhostx_vq *vq,
			     const struct vring_desc *desc,
			     struct vhostx_buf *buf,
			     struct iovec *iov, unsigned int iov_max,
			     struct vhostx_log *log, unsigned int log_max)
{
	return vhostx_ring_add_segment(vq, vhostx64_to_cpu(vq, desc->addr),
				       vhostx32_to_cpu(vq, desc->len),
				       vhostx16_to_cpu(vq, desc->flags) &
				       VRING_DESC_F_WRITE,
				       buf, iov, iov_max, log, log_max);
}

static int split_walk_indirect(struct vhostx_vq *vq,
			       const struct vring_desc *ind,
			       struct vhostx_buf *buf, struct iovec *iov,
			       unsigned int iov_max, struct vhostx_log *log,
			       unsigned int log_max)
{
	u64 addr = vhostx64_to_cpu(vq, ind->addr);
	u32 len = vhostx32_to_cpu(vq, ind->len);
	unsigned int count, i = 0, seen = 0;
	struct vring_desc desc;
	int niov, ret;
	u16 flags;

	niov = vhostx_ring_map_indirect(vq, addr, len, &count);
	if (niov < 0)
		return niov;

	for (;;) {
		if (i >= count) {
			vhostx_vq_err(vq, "indirect next %u past table of %u",
				      i, count);
			return -EINVAL;
		}
		if (++seen > count) {
			vhostx_vq_err(vq, "indirect chain loops");
			return -ELOOP;
		}
		if (vhostx_ring_read_indirect(vq->indirect_iov, niov, i, &desc)) {
			vhostx_vq_err(vq, "indirect table unreadable");
			return -EFAULT;
		}
		flags = vhostx16_to_cpu(vq, desc.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			vhostx_vq_err(vq, "nested indirect table");
			return -EINVAL;
		}
		ret = split_add_segment(vq, &desc, buf, iov, iov_max, log,
					log_max);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = vhostx16_to_cpu(vq, desc.next);
	}
}

int vhostx_split_get_buf(struct vhostx_vq *vq, struct vhostx_buf *buf,
			 struct iovec *iov, unsigned int iov_max,
			 struct vhostx_log *log, unsigned int log_max)
{
	struct vhostx_split_state *st = split_st(vq);
	u16 last = vq->last_avail_idx;
	unsigned int i, seen = 0;
	struct vring_desc desc;
	__virtio16 v16;
	u16 head, flags;
	int ret;

	if (st->avail_idx == last) {
		/*
		 * Every buffer seen so far is taken.  A driver with few in
		 * flight waits for the batched used entries before it adds
		 * more: publish them before looking at its index.
		 */
		if (vq->batch_n) {
			vhostx_flush_used(vq);
			if (unlikely(vq->broken))
				return -EIO;
		}
		if (__get_user(v16, &split_avail(vq)->idx)) {
			vhostx_vq_err(vq, "avail index unreadable");
			return -EFAULT;
		}
		st->avail_idx = vhostx16_to_cpu(vq, v16);
		if ((u16)(st->avail_idx - last) > vq->num) {
			vhostx_vq_err(vq, "avail index %u is %u past %u, ring of %u",
				      st->avail_idx, (u16)(st->avail_idx - last),
				      last, vq->num);
			return -EINVAL;
		}
		if (st->avail_idx == last)
			return 0;
		/* Read entries only after the index that publishes them. */
		smp_rmb();
	}
	memset(buf, 0, sizeof(*buf));

	if ((u16)(last - st->ahead_start) >=
	    (u16)(st->ahead_end - st->ahead_start) &&
	    split_read_ahead(vq, last)) {
		vhostx_vq_err(vq, "avail ring entry %u unreadable", last);
		return -EFAULT;
	}
	head = vhostx16_to_cpu(vq, st->ahead[(u16)(last - st->ahead_start)]);
	if (head >= vq->num) {
		vhostx_vq_err(vq, "head %u out of range (ring of %u)", head,
			      vq->num);
		return -EINVAL;
	}
	/*
	 * IN_ORDER (2.7.9): the driver uses descriptors in table order, so
	 * each head follows the previous buffer's descriptors.  It counts
	 * the buffers a batched used entry stands for on that; a driver
	 * that skips or reorders heads broke the contract it negotiated.
	 */
	if (vhostx_has_feature(vq, VIRTIO_F_IN_ORDER) &&
	    st->next_head_known && head != st->next_head) {
		vhostx_vq_err(vq, "in order: head %u made available, %u expected",
			      head, st->next_head);
		return -EINVAL;
	}

	i = head;
	for (;;) {
		if (i >= vq->num) {
			vhostx_vq_err(vq, "next %u out of range (ring of %u)",
				      i, vq->num);
			return -EINVAL;
		}
		if (++seen > vq->num) {
			vhostx_vq_err(vq, "descriptor chain from %u loops", head);
			return -ELOOP;
		}
		if (split_read_desc(vq, i, &desc)) {
			vhostx_vq_err(vq, "descriptor %u unreadable", i);
			return -EFAULT;
		}
		flags = vhostx16_to_cpu(vq, desc.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			/* An indirect descriptor ends the chain (2.7.5.3.1). */
			if (flags & VRING_DESC_F_NEXT) {
				vhostx_vq_err(vq, "indirect descriptor %u has NEXT", i);
				return -EINVAL;
			}
			ret = split_walk_indirect(vq, &desc, buf, iov, iov_max,
						  log, log_max);
			if (ret)
				return ret;
			break;
		}
		ret = split_add_segment(vq, &desc, buf, iov, iov_max, log,
					log_max);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = vhostx16_to_cpu(vq, desc.next);
	}

	buf->id = head;
	buf->ndesc = seen;
	vq->last_avail_idx = last + 1;
	/* An indirect chain takes one descriptor of the table. */
	st->next_head = (head + seen) & (vq->num - 1);
	st->next_head_known = true;
	return 1;
}

/*
 * The buffers given back are taken again from their avail entries, whose
 * heads were checked: the next one is checked from there on.
 */
void vhostx_split_unget(struct vhostx_vq *vq, unsigned int nbufs)
{
	vq->last_avail_idx -= nbufs;
	split_st(vq)->next_head_known = false;
}

/*
 * Write @used at @start on.  With IN_ORDER (2.7.9) a run of entries the
 * driver can infer (%VHOSTX_USED_F_IMPLIED) is left out: the entry that
 * ends the run (not implied, or the last one) is written in the run's
 * first slot, and the driver skips as many slots as the entry's id says
 * buffers were used.  Return: 0 or -EFAULT.
 */
static int split_put_used(struct vhostx_vq *vq, struct vring_used __user *u,
			  const struct vhostx_used *used, unsigned int count,
			  u16 start)
{
	bool in_order = vhostx_has_feature(vq, VIRTIO_F_IN_ORDER);
	unsigned int i, slot = 0, idx;

	if (!user_access_begin(u->ring, sizeof(u->ring[0]) * vq->num))
		return -EFAULT;
	for (i = 0; i < count; i++) {
		if (in_order && i + 1 < count &&
		    (used[i].flags & VHOSTX_USED_F_IMPLIED))
			continue;
		idx = (u16)(start + slot) & (vq->num - 1);
		unsafe_put_user(cpu_to_vhostx32(vq, used[i].id),
				&u->ring[idx].id, efault);
		unsafe_put_user(cpu_to_vhostx32(vq, used[i].len),
				&u->ring[idx].len, efault);
		slot = i + 1;
	}
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

int vhostx_split_add_used_n(struct vhostx_vq *vq,
			    const struct vhostx_used *used, unsigned int count)
{
	struct vhostx_split_state *st = split_st(vq);
	struct vring_used __user *u = split_used(vq);
	u16 start = vq->last_used_idx, new = start + count;
	int ret;

	if (split_put_used(vq, u, used, count, start))
		return -EFAULT;
	/* In order, the range may hold slots not written: logged all the same. */
	if (unlikely(vq->log_used)) {
		u64 first = start & (vq->num - 1), elem = sizeof(u->ring[0]);
		u64 n1 = min_t(u64, count, vq->num - first);

		ret = vhostx_log_used(vq, sizeof(*u) + first * elem, n1 * elem);
		if (!ret && count > n1)
			ret = vhostx_log_used(vq, sizeof(*u),
					      (count - n1) * elem);
		if (ret)
			return ret;
	}
	/* Entries before the index that publishes them. */
	smp_wmb();
	if (__put_user(cpu_to_vhostx16(vq, new), &u->idx))
		return -EFAULT;
	ret = split_log_used(vq, offsetof(struct vring_used, idx),
			     sizeof(u->idx));
	if (ret)
		return ret;

	vq->last_used_idx = new;
	/* If the index wrapped past what we last signalled, re-arm. */
	if (unlikely((u16)(new - st->signalled_used) < (u16)(new - start)))
		st->signalled_used_valid = false;
	return 0;
}

bool vhostx_split_need_signal(struct vhostx_vq *vq)
{
	struct vhostx_split_state *st = split_st(vq);
	__virtio16 v16;
	u16 old, new;
	bool valid;

	/* Publish used->idx before reading the driver's suppression. */
	smp_mb();
	if (vhostx_has_feature(vq, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    unlikely(st->avail_idx == vq->last_avail_idx))
		return true;

	if (!vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (__get_user(v16, &split_avail(vq)->flags))
			return true;
		return !(vhostx16_to_cpu(vq, v16) & VRING_AVAIL_F_NO_INTERRUPT);
	}

	old = st->signalled_used;
	valid = st->signalled_used_valid;
	new = st->signalled_used = vq->last_used_idx;
	st->signalled_used_valid = true;
	if (unlikely(!valid))
		return true;
	if (__get_user(v16, split_used_event(vq)))
		return true;
	return vring_need_event(vhostx16_to_cpu(vq, v16), new, old);
}

bool vhostx_split_enable_notify(struct vhostx_vq *vq)
{
	__virtio16 v16;

	if (!(split_st(vq)->used_flags & VRING_USED_F_NO_NOTIFY))
		return false;
	split_st(vq)->used_flags &= ~VRING_USED_F_NO_NOTIFY;
	if (!vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (split_write_used_flags(vq))
			return false;
	} else if (split_write_avail_event(vq, split_st(vq)->avail_idx)) {
		return false;
	}
	/* The driver must see the change before we look for new buffers. */
	smp_mb();
	if (__get_user(v16, &split_avail(vq)->idx))
		return false;
	return vhostx16_to_cpu(vq, v16) != split_st(vq)->avail_idx;
}

/*
 * With EVENT_IDX nothing is written: avail_event stays where the last
 * enable put it.  After a kick the driver is past it and does not kick
 * again until it is rewritten; a run that no kick started may get one
 * more kick, which only queues another run.
 */
void vhostx_split_disable_notify(struct vhostx_vq *vq)
{
	if (split_st(vq)->used_flags & VRING_USED_F_NO_NOTIFY)
		return;
	split_st(vq)->used_flags |= VRING_USED_F_NO_NOTIFY;
	if (!vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		split_write_used_flags(vq);
}

/*
 * For a queue nothing kicked (busy polling watches it): with EVENT_IDX,
 * avail_event goes half the index space past what we have seen.  A
 * driver never gets there (it adds at most a ring's worth), so it does
 * not kick until vhostx_split_enable_notify() writes the real index back.
 */
void vhostx_split_mute_notify(struct vhostx_vq *vq)
{
	if (split_st(vq)->used_flags & VRING_USED_F_NO_NOTIFY)
		return;
	vhostx_split_disable_notify(vq);
	if (vhostx_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		split_write_avail_event(vq, split_st(vq)->avail_idx + 0x8000);
}

bool vhostx_split_avail_empty(struct vhostx_vq *vq)
{
	__virtio16 v16;

	if (split_st(vq)->avail_idx != vq->last_avail_idx)
		return false;
	/* A fault is "not empty": the handler will run and report it. */
	if (__get_user(v16, &split_avail(vq)->idx))
		return false;
	return vhostx16_to_cpu(vq, v16) == split_st(vq)->avail_idx;
}

/* Power-of-two sizes up to VHOSTX_RING_MAX (2.7: Queue Size). */
static bool split_check_num(unsigned int num)
{
	return num && num <= VHOSTX_RING_MAX && !(num & (num - 1));
}

static void split_reset(struct vhostx_vq *vq)
{
	memset(split_st(vq), 0, sizeof(*split_st(vq)));
	vq->last_avail_idx = 0;
	vq->last_used_idx = 0;
}

/* The base is the 16-bit avail index, as with the kernel's vhost. */
static int split_set_base(struct vhostx_vq *vq, u32 num)
{
	if (num > 0xffff)
		return -EINVAL;
	vq->last_avail_idx = num;
	split_st(vq)->avail_idx = num;
	return 0;
}

static u32 split_get_base(struct vhostx_vq *vq)
{
	return vq->last_avail_idx;
}

const struct vhostx_ring_ops vhostx_split_ring_ops = {
	.name		= "split",
	.area_size	= split_area_size,
	.activate	= split_activate,
	.get_buf	= vhostx_split_get_buf,
	.unget		= vhostx_split_unget,
	.add_used_n	= vhostx_split_add_used_n,
	.need_signal	= vhostx_split_need_signal,
	.enable_notify	= vhostx_split_enable_notify,
	.disable_notify	= vhostx_split_disable_notify,
	.mute_notify	= vhostx_split_mute_notify,
	.avail_empty	= vhostx_split_avail_empty,
	.check_num	= split_check_num,
	.reset		= split_reset,
	.set_base	= split_set_base,
	.get_base	= split_get_base,
	/* The device only reads the descriptors and the avail ring. */
	.area_perm	= { VHOST_MAP_RO, VHOST_MAP_RO, VHOST_MAP_WO },
};
