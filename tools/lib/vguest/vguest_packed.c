// SPDX-License-Identifier: GPL-2.0
/*
 * vguest: the packed ring (virtio 1.1+, 2.8) of the userspace driver.
 *
 * Buffer ids are the indices of vq->slots (a free list through
 * vq->id_next); a buffer takes consecutive descriptors from
 * vq->avail_pos on, its id in each.  As in the split ring, adding does
 * not publish: the head descriptor's flags are kept in vq->pend and
 * written by vgp_publish(), the first head last, so the device sees the
 * whole batch at once.  The used side reads the flags at vq->used_pos
 * and skips the buffer's descriptor count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vguest_packed.h"

#define F_AVAIL		(1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED		(1u << VRING_PACKED_DESC_F_USED)
#define EV_WRAP		(1u << VRING_PACKED_EVENT_F_WRAP_CTR)

#define vg_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

static unsigned int pos_slot(struct vg_vq *vq, vg_pos_t pos)
{
	return pos % vq->num;
}

static bool pos_wrap(struct vg_vq *vq, vg_pos_t pos)
{
	return pos < vq->num;
}

static uint32_t pos_dist(struct vg_vq *vq, vg_pos_t from, vg_pos_t to)
{
	return (to + 2 * vq->num - from) % (2 * vq->num);
}

/** vg_pos_add() - @pos moved @n descriptors on. */
vg_pos_t vg_pos_add(struct vg_vq *vq, vg_pos_t pos, unsigned int n)
{
	return (pos + n) % (2 * vq->num);
}

/** vg_pos_base() - @pos as 15 bits of slot and the wrap counter in bit 15. */
uint32_t vg_pos_base(struct vg_vq *vq, vg_pos_t pos)
{
	return pos_slot(vq, pos) | (pos_wrap(vq, pos) ? EV_WRAP : 0);
}

/** vg_pos_flags() - the AVAIL/USED bits of a descriptor available at @pos. */
uint16_t vg_pos_flags(struct vg_vq *vq, vg_pos_t pos)
{
	return pos_wrap(vq, pos) ? F_AVAIL : F_USED;
}

/* The position an event area's off_wrap names (the slot reduced). */
static vg_pos_t off_wrap_pos(struct vg_vq *vq, uint16_t off_wrap)
{
	return (off_wrap & ~EV_WRAP) % vq->num +
	       ((off_wrap & EV_WRAP) ? 0 : vq->num);
}

int vgp_init(struct vg_vq *vq)
{
	struct vg_dev *d = vq->dev;

	vq->pdesc = vg_alloc(d, 16UL * vq->num, 4096);
	vq->pdriver = vg_alloc(d, sizeof(*vq->pdriver), 4096);
	vq->pdevice = vg_alloc(d, sizeof(*vq->pdevice), 4096);
	vq->id_next = calloc(vq->num, sizeof(*vq->id_next));
	vq->pend = calloc(vq->num, sizeof(*vq->pend));
	if (!vq->pdesc || !vq->pdriver || !vq->pdevice || !vq->id_next ||
	    !vq->pend)
		return -ENOMEM;
	return 0;
}

void vgp_free(struct vg_vq *vq)
{
	free(vq->id_next);
	free(vq->pend);
	vq->id_next = NULL;
	vq->pend = NULL;
}

/*
 * Start both sides at position @base (modulo 2 * num).  The ring is
 * written as the previous lap left it: slots before the position used in
 * this lap, the others in the last one, so nothing looks available to the
 * device or used to us.
 */
void vgp_reset(struct vg_vq *vq, uint16_t base)
{
	vg_pos_t pos = base % (2 * vq->num);
	unsigned int i, cur = pos_slot(vq, pos);
	bool wrap = pos_wrap(vq, pos);

	memset(vq->pdesc, 0, 16UL * vq->num);
	memset(vq->pdriver, 0, sizeof(*vq->pdriver));
	memset(vq->pdevice, 0, sizeof(*vq->pdevice));
	for (i = 0; i < vq->num; i++) {
		bool w = i < cur ? wrap : !wrap;

		vq->pdesc[i].flags = w ? F_AVAIL | F_USED : 0;
		vq->id_next[i] = (uint16_t)(i + 1);
		vq->slots[i].cookie = NULL;
		vq->slots[i].ndesc = 0;
	}
	vq->free_id = 0;
	vq->num_free = vq->num;
	vq->avail_pos = vq->publish_pos = vq->kicked_pos = vq->used_pos = pos;
	vq->used_count = base;
	vq->npend = 0;
}

/* Write one descriptor at @pos; the head's flags go to vq->pend. */
static void put_desc(struct vg_vq *vq, vg_pos_t pos, bool head, uint64_t addr,
		     uint32_t len, uint16_t id, uint16_t flags)
{
	struct vring_packed_desc *d = &vq->pdesc[pos_slot(vq, pos)];

	flags |= vg_pos_flags(vq, pos);
	d->addr = addr;
	d->len = len;
	d->id = id;
	if (head)
		vq->pend[vq->npend++] = (uint32_t)pos_slot(vq, pos) << 16 | flags;
	else
		d->flags = flags;
}

int vgp_add(struct vg_vq *vq, const struct iovec *sg, unsigned int nout,
	    unsigned int nin, void *cookie, unsigned int flags)
{
	unsigned int n = nout + nin, k, ndesc = flags & VG_ADD_INDIRECT ? 1 : n;
	uint16_t id = vq->free_id;
	struct vg_slot *s = &vq->slots[id];
	vg_pos_t pos = vq->avail_pos;

	if (ndesc > vq->num_free || !vq->num_free)
		return -ENOSPC;
	if (flags & VG_ADD_INDIRECT) {
		struct vring_packed_desc *t;

		if (n > VG_INDIRECT_MAX)
			return -E2BIG;
		if (!s->indir) {
			s->indir = vg_alloc(vq->dev, VG_INDIRECT_MAX * 16, 16);
			if (!s->indir)
				return -ENOMEM;
		}
		t = (struct vring_packed_desc *)s->indir;
		/* Inside a table only WRITE counts; entries follow in order. */
		for (k = 0; k < n; k++) {
			t[k].addr = vg_gpa(sg[k].iov_base);
			t[k].len = (uint32_t)sg[k].iov_len;
			t[k].id = 0;
			t[k].flags = k >= nout ? VRING_DESC_F_WRITE : 0;
		}
		put_desc(vq, pos, true, vg_gpa(t), n * 16, id,
			 VRING_DESC_F_INDIRECT);
	} else {
		for (k = 0; k < n; k++)
			put_desc(vq, vg_pos_add(vq, pos, k), k == 0,
				 vg_gpa(sg[k].iov_base),
				 (uint32_t)sg[k].iov_len, id,
				 (k >= nout ? VRING_DESC_F_WRITE : 0) |
				 (k + 1 < n ? VRING_DESC_F_NEXT : 0));
	}
	vq->avail_pos = vg_pos_add(vq, pos, ndesc);
	vq->free_id = vq->id_next[id];
	vq->num_free -= ndesc;
	s->ndesc = (uint16_t)ndesc;
	s->cookie = cookie;
	return id;
}

/* The heads' flags, the first one last: the batch appears at once. */
void vgp_publish(struct vg_vq *vq)
{
	unsigned int i;

	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = vq->npend; i-- > 0;)
		__atomic_store_n(&vq->pdesc[vq->pend[i] >> 16].flags,
				 (uint16_t)vq->pend[i], __ATOMIC_RELEASE);
	vq->npend = 0;
	vq->publish_pos = vq->avail_pos;
}

bool vgp_kick_needed(struct vg_vq *vq)
{
	vg_pos_t old = vq->kicked_pos, new = vq->publish_pos;
	uint16_t flags, off_wrap;
	bool need;

	vg_mb();	/* the flags published before the device's wish is read */
	flags = __atomic_load_n(&vq->pdevice->flags, __ATOMIC_RELAXED) & 3;
	off_wrap = __atomic_load_n(&vq->pdevice->off_wrap, __ATOMIC_RELAXED);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		need = false;
	else if (flags == VRING_PACKED_EVENT_FLAG_DESC && vq->event_idx)
		need = pos_dist(vq, off_wrap_pos(vq, off_wrap), new) - 1 <
		       pos_dist(vq, old, new);
	else
		need = true;
	vq->kicked_pos = new;
	return need;
}

/* Is the descriptor at @pos used (both flags equal to its lap)? */
static bool is_used(struct vg_vq *vq, vg_pos_t pos)
{
	uint16_t f = __atomic_load_n(&vq->pdesc[pos_slot(vq, pos)].flags,
				     __ATOMIC_ACQUIRE);
	bool w = pos_wrap(vq, pos);

	return !!(f & F_AVAIL) == w && !!(f & F_USED) == w;
}

unsigned int vgp_used_pending(struct vg_vq *vq)
{
	vg_pos_t pos = vq->used_pos;
	unsigned int n = 0;

	while (n < vq->num && pos != vq->avail_pos && is_used(vq, pos)) {
		uint16_t id = vq->pdesc[pos_slot(vq, pos)].id;

		n++;
		if (id >= vq->num || !vq->slots[id].cookie)
			break;	/* vgp_get_used() reports it */
		pos = vg_pos_add(vq, pos, vq->slots[id].ndesc);
	}
	return n;
}

int vgp_get_used(struct vg_vq *vq, uint32_t *len, void **cookie)
{
	struct vring_packed_desc *d = &vq->pdesc[pos_slot(vq, vq->used_pos)];
	struct vg_slot *s;
	uint16_t id;

	if (vq->used_pos == vq->avail_pos || !is_used(vq, vq->used_pos))
		return -EAGAIN;
	id = d->id;
	if (len)
		*len = d->len;
	vq->used_count++;
	if (id >= vq->num || !vq->slots[id].cookie) {
		vq->used_pos = vg_pos_add(vq, vq->used_pos, 1);
		return -EPROTO;
	}
	s = &vq->slots[id];
	vq->used_pos = vg_pos_add(vq, vq->used_pos, s->ndesc);
	if (vq->event_idx &&
	    __atomic_load_n(&vq->pdriver->flags, __ATOMIC_RELAXED) ==
	    VRING_PACKED_EVENT_FLAG_DESC)
		vg_vq_set_used_event_pos(vq, vq->used_pos);
	if (cookie)
		*cookie = s->cookie;
	vq->num_free += s->ndesc;
	s->ndesc = 0;
	s->cookie = NULL;
	vq->id_next[id] = vq->free_id;
	vq->free_id = id;
	return id;
}

/** vg_vq_set_used_event_pos() - ask for a call when @pos gets used. */
void vg_vq_set_used_event_pos(struct vg_vq *vq, vg_pos_t pos)
{
	__atomic_store_n(&vq->pdriver->off_wrap,
			 (uint16_t)vg_pos_base(vq, pos), __ATOMIC_RELAXED);
	__atomic_store_n(&vq->pdriver->flags, VRING_PACKED_EVENT_FLAG_DESC,
			 __ATOMIC_RELEASE);
}

bool vgp_enable_cb(struct vg_vq *vq)
{
	if (vq->event_idx)
		vg_vq_set_used_event_pos(vq, vq->used_pos);
	else
		__atomic_store_n(&vq->pdriver->flags,
				 VRING_PACKED_EVENT_FLAG_ENABLE,
				 __ATOMIC_RELEASE);
	vg_mb();
	return vgp_used_pending(vq) != 0;
}

void vgp_disable_cb(struct vg_vq *vq)
{
	__atomic_store_n(&vq->pdriver->flags, VRING_PACKED_EVENT_FLAG_DISABLE,
			 __ATOMIC_RELEASE);
	vg_mb();
}

/* Would the device want a kick for the next buffer published? */
bool vgp_device_wants_kick(struct vg_vq *vq)
{
	uint16_t flags = __atomic_load_n(&vq->pdevice->flags,
					 __ATOMIC_ACQUIRE) & 3;

	if (flags == VRING_PACKED_EVENT_FLAG_ENABLE)
		return true;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		return false;
	return __atomic_load_n(&vq->pdevice->off_wrap, __ATOMIC_RELAXED) ==
	       vg_pos_base(vq, vq->publish_pos);
}

/* Descriptor @pos's address, length and id, verbatim. */
static struct vring_packed_desc *raw_fill(struct vg_vq *vq, vg_pos_t pos,
					  uint64_t addr, uint32_t len,
					  uint16_t id)
{
	struct vring_packed_desc *d = &vq->pdesc[pos_slot(vq, pos)];

	d->addr = addr;
	d->len = len;
	d->id = id;
	return d;
}

/** vg_vq_raw_pdesc() - write the descriptor at @pos verbatim, flags last. */
void vg_vq_raw_pdesc(struct vg_vq *vq, vg_pos_t pos, uint64_t addr,
		     uint32_t len, uint16_t id, uint16_t flags)
{
	__atomic_store_n(&raw_fill(vq, pos, addr, len, id)->flags, flags,
			 __ATOMIC_RELEASE);
}

/**
 * vg_vq_raw_pdesc_head() - the same for a buffer's head: everything but
 * the flags now, the flags (verbatim) at the next vg_vq_publish().
 */
void vg_vq_raw_pdesc_head(struct vg_vq *vq, vg_pos_t pos, uint64_t addr,
			  uint32_t len, uint16_t id, uint16_t flags)
{
	raw_fill(vq, pos, addr, len, id);
	vq->pend[vq->npend++] = (uint32_t)pos_slot(vq, pos) << 16 | flags;
}
