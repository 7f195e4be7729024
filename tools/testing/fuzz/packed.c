// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_fuzz: the packed ring (VIRTIO_F_RING_PACKED) and VIRTIO_F_IN_ORDER
 * as a hostile guest writes them and a careless VMM programs them.
 *
 * A packed descriptor is available when its AVAIL flag equals the lap's
 * wrap counter and USED does not.  The operations here write the flags
 * right for the slot's lap most of the time and otherwise neither, both or
 * the other lap's; chains that run over the ring's end (and past its
 * length); buffer ids past the ring, used twice or any value; indirect
 * tables with NEXT or INDIRECT inside and lengths that are no multiple of
 * 16; event suppression areas with any flags and any off_wrap.  The VMM
 * side sets bases with any wrap bits (high half or not), sizes that are no
 * power of two up to 32768 and past it, switches the format of a stopped
 * device, and restarts rings at positions next to the end of either lap.
 *
 * In-order rounds (VIRTIO_F_IN_ORDER negotiated) make buffers available in
 * order, the split ring's heads following the previous chain's
 * descriptors and the packed ring's ids counting up, with a head or id
 * skipped, repeated or two swapped now and then.
 *
 * The driver's position is vguest's vq->avail_pos; descriptors are
 * written with vguest's raw helpers (vg_vq_raw_pdesc(), and for a
 * buffer's head vg_vq_raw_pdesc_head(), whose flags vg_vq_publish()
 * writes last).  Everything random comes from the round's generator.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fuzz.h"
#include "vguest_net.h"

#define F_AVAIL		(1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED		(1u << VRING_PACKED_DESC_F_USED)
#define EV_WRAP		(1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/* A packed ring's size: any, powers of two or not, up to the largest. */
unsigned int pick_num_packed(struct rng *r)
{
	switch (below(r, 8)) {
	case 0: return 1 + below(r, 8);
	case 1: return 32768 - below(r, 2);
	case 2: return 1u << below(r, 16);
	case 3: return (2u << below(r, 14)) + (one_in(r, 2) ? 1 : -1);
	default: return 2 + below(r, 511);
	}
}

static vg_pos_t rand_pos(struct rng *r, struct vg_vq *vq)
{
	return below(r, 2 * vq->num);
}

/* AVAIL/USED of a descriptor at @pos: right for its lap, mostly. */
static uint16_t lap_flags(struct rng *r, struct vg_vq *vq, vg_pos_t pos)
{
	uint16_t f = vg_pos_flags(vq, pos);

	switch (below(r, 12)) {
	case 0: return 0;
	case 1: return F_AVAIL | F_USED;
	case 2: return f ^ (F_AVAIL | F_USED);	/* the other lap */
	default: return f;
	}
}

/* WRITE as the queue wants it: net RX all, TX none, test out then in. */
static uint16_t dir_flag(struct slot *s, struct vg_vq *vq, bool in)
{
	if (s->net)
		return vq->index == 0 ? VRING_DESC_F_WRITE : 0;
	return in ? VRING_DESC_F_WRITE : 0;
}

/* A segment: mostly a good buffer, sometimes any address and length. */
static void pick_seg(struct slot *s, struct rng *r, uint64_t *addr,
		     uint32_t *len)
{
	*len = one_in(r, 8) ? pick_len(r) : 1 + below(r, 2048);
	*addr = one_in(r, 8) ? pick_gpa(s, r, *len) :
		vg_gpa(s->scratch) + below(r, DATA_LEN - 4096);
}

/* The next buffer id (packed) or head (split) in order. */
static uint16_t next_in_order(struct slot *s, struct vg_vq *vq)
{
	unsigned int q = vq->index & 1;
	uint16_t id = (uint16_t)(s->io_next[q] % vq->num);

	s->io_next[q] = (uint16_t)((id + 1) % vq->num);
	s->io_last[q] = id;
	return id;
}

/* A buffer id: the next in order mostly; past the ring, again, any. */
static uint16_t pick_id(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int q = vq->index & 1;

	switch (below(r, 10)) {
	case 0: return (uint16_t)(vq->num + below(r, 4));
	case 1: return one_in(r, 2) ? 0xffff : (uint16_t)rnd(r);
	case 2: return s->io_last[q];
	default: return next_in_order(s, vq);
	}
}

/* An event area's off_wrap: a position with either counter, or past it. */
static uint16_t pick_off_wrap(struct rng *r, struct vg_vq *vq)
{
	uint16_t wrap = one_in(r, 2) ? EV_WRAP : 0;

	switch (below(r, 4)) {
	case 0: return (uint16_t)rnd(r);
	case 1: return (uint16_t)(((vq->num + below(r, 4)) & 0x7fff) | wrap);
	default: return (uint16_t)(below(r, vq->num) | wrap);
	}
}

/* A base half: a slot and a wrap counter, or past the ring, or any. */
static uint32_t pick_base16(struct rng *r, unsigned int num)
{
	uint32_t wrap = one_in(r, 2) ? 0x8000 : 0;

	switch (below(r, 4)) {
	case 0: return (uint16_t)rnd(r);
	case 1: return ((num + below(r, 4)) & 0x7fff) | wrap;
	default: return below(r, num) | wrap;
	}
}

/* One descriptor anywhere, any content. */
void op_pdesc(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	vg_pos_t pos = one_in(r, 2) ? vq->avail_pos : rand_pos(r, vq);
	uint32_t len = pick_len(r);

	vg_vq_raw_pdesc(vq, pos, pick_gpa(s, r, len), len,
			pick_idx(r, vq->num),
			(pick_flags(r) & ~(F_AVAIL | F_USED)) |
			lap_flags(r, vq, pos));
}

/*
 * A chain, mostly at the driver's position: short or longer than the
 * ring, wrapping its end, the id in the last descriptor (noise in the
 * others), NEXT on the last now and then, INDIRECT inside.
 */
void op_pchain(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int n = 1 + below(r, one_in(r, 8) ? vq->num + 2 :
				   vq->num < 8 ? vq->num : 8);
	unsigned int i, wr_from = below(r, n + 1);
	bool at_driver = !one_in(r, 4);
	vg_pos_t start = at_driver ? vq->avail_pos : rand_pos(r, vq);
	uint16_t id = pick_id(s, r, vq);

	for (i = 0; i < n; i++) {
		vg_pos_t pos = vg_pos_add(vq, start, i);
		uint16_t fl = (i + 1 < n || one_in(r, 8)) ? VRING_DESC_F_NEXT : 0;
		uint16_t did = i + 1 == n ? id : pick_idx(r, vq->num);
		uint64_t addr;
		uint32_t len;

		pick_seg(s, r, &addr, &len);
		fl |= dir_flag(s, vq, i >= wr_from);
		if (one_in(r, 16))
			fl ^= VRING_DESC_F_WRITE;
		if (one_in(r, 24))
			fl |= VRING_DESC_F_INDIRECT;
		fl |= lap_flags(r, vq, pos);
		if (i == 0)
			vg_vq_raw_pdesc_head(vq, pos, addr, len, did, fl);
		else
			vg_vq_raw_pdesc(vq, pos, addr, len, did, fl);
	}
	if (at_driver && !one_in(r, 8))
		vq->avail_pos = vg_pos_add(vq, start, n);
	vg_vq_publish(vq);
}

/*
 * An indirect buffer: a table (struct vring_packed_desc entries) of odd
 * sizes, NEXT (ignored there) or INDIRECT (an error) inside, a length
 * that is no multiple of 16; the head with NEXT or WRITE now and then.
 */
void op_pindirect(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	static const uint32_t sizes[] = { 1, 2, 3, 16, 64, 1024, 1025, 65536, 65537 };
	struct vring_packed_desc *t = (void *)(s->scratch + TABLE_OFF);
	uint32_t n = one_in(r, 2) ? 1 + below(r, 8) : sizes[below(r, 9)];
	vg_pos_t pos = vq->avail_pos;
	uint32_t i, tlen;
	uint16_t fl;

	for (i = 0; i < n; i++) {
		uint64_t addr;
		uint32_t len;

		pick_seg(s, r, &addr, &len);
		fl = dir_flag(s, vq, i >= (n + 1) / 2);
		if (one_in(r, 4))
			fl |= VRING_DESC_F_NEXT;
		if (one_in(r, 16))
			fl |= VRING_DESC_F_INDIRECT;
		if (one_in(r, 16))
			fl = (uint16_t)rnd(r);
		t[i].addr = addr;
		t[i].len = len;
		t[i].id = one_in(r, 4) ? (uint16_t)rnd(r) : 0;
		t[i].flags = fl;
	}
	tlen = n * 16;
	switch (below(r, 8)) {
	case 0: tlen += 1 + below(r, 15); break;
	case 1: tlen = 0; break;
	case 2: tlen = pick_len(r); break;
	}
	fl = VRING_DESC_F_INDIRECT | lap_flags(r, vq, pos) |
	     (one_in(r, 10) ? VRING_DESC_F_NEXT : 0) |
	     (one_in(r, 10) ? VRING_DESC_F_WRITE : 0);
	vg_vq_raw_pdesc_head(vq, pos, one_in(r, 10) ? pick_gpa(s, r, tlen) :
			     vg_gpa(t), tlen, pick_id(s, r, vq), fl);
	vq->avail_pos = vg_pos_add(vq, pos, 1);
	vg_vq_publish(vq);
}

/* One well-formed buffer at the driver's position; its descriptors. */
static unsigned int put_buf(struct slot *s, struct rng *r, struct vg_vq *vq,
			    uint16_t id)
{
	uint8_t *b = s->scratch + below(r, 64) * 4096;
	uint32_t len = 60 + below(r, 1500);
	vg_pos_t pos = vq->avail_pos;
	unsigned int nd = 1;

	if (s->net && vq->index == 1) {		/* TX frame */
		memset(b, 0, s->hlen);
		vg_frame_make(b + s->hlen, len, id);
		vg_vq_raw_pdesc_head(vq, pos, vg_gpa(b), (uint32_t)s->hlen + len,
				     id, vg_pos_flags(vq, pos));
	} else if (s->net) {			/* RX buffer */
		vg_vq_raw_pdesc_head(vq, pos, vg_gpa(b), 4096, id,
				     VRING_DESC_F_WRITE | vg_pos_flags(vq, pos));
	} else if (vq->num > 1) {		/* echo out + in */
		vg_pos_t in = vg_pos_add(vq, pos, 1);

		vg_vq_raw_pdesc(vq, in, vg_gpa(b) + 2048, len, id,
				VRING_DESC_F_WRITE | vg_pos_flags(vq, in));
		vg_vq_raw_pdesc_head(vq, pos, vg_gpa(b), len, id,
				     VRING_DESC_F_NEXT | vg_pos_flags(vq, pos));
		nd = 2;
	} else {
		vg_vq_raw_pdesc_head(vq, pos, vg_gpa(b), len, id,
				     vg_pos_flags(vq, pos));
	}
	vq->avail_pos = vg_pos_add(vq, pos, nd);
	return nd;
}

/* Buffers one batch may add: the heads' flags wait in vq->pend[num]. */
static unsigned int max_bufs(struct slot *s, struct vg_vq *vq)
{
	unsigned int n = !s->net && vq->num > 1 ? vq->num / 2 : vq->num;

	return n < 256 ? n : 256;
}

/* Well-formed traffic, ids in order (now and then another one). */
void op_ptraffic(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int n = 1 + below(r, max_bufs(s, vq)), i;

	for (i = 0; i < n; i++)
		put_buf(s, r, vq, one_in(r, 16) ? pick_id(s, r, vq) :
			next_in_order(s, vq));
	vg_vq_publish(vq);
	vg_vq_notify(vq);
}

/* The driver's position jumps, or the descriptor there changes lap. */
void op_pavail(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int two = 2 * vq->num, k;
	struct vring_packed_desc *d;

	switch (below(r, 6)) {
	case 0:		/* more than a lap on */
		vq->avail_pos = vg_pos_add(vq, vq->avail_pos,
					   vq->num + 1 + below(r, vq->num));
		break;
	case 1:		/* back */
		k = (1 + below(r, 3)) % two;
		vq->avail_pos = vg_pos_add(vq, vq->avail_pos, two - k);
		break;
	case 2:
		vq->avail_pos = rand_pos(r, vq);
		break;
	case 3:
		d = &vq->pdesc[vq->avail_pos % vq->num];
		__atomic_store_n(&d->flags, (uint16_t)((d->flags & ~(F_AVAIL | F_USED)) |
				 lap_flags(r, vq, vq->avail_pos)), __ATOMIC_RELEASE);
		break;
	default:	/* one buffer with an odd id */
		put_buf(s, r, vq, pick_id(s, r, vq));
	}
	vg_vq_publish(vq);
}

/* Random bytes over the ring and both event areas (guest memory). */
void op_pscribble(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int n = 1 + below(r, 8), i;
	vg_pos_t pos;

	(void)s;
	for (i = 0; i < n; i++) {
		switch (below(r, 6)) {
		case 0:
			((uint8_t *)vq->pdesc)[below(r, 16 * vq->num)] = (uint8_t)rnd(r);
			break;
		case 1:
			pos = rand_pos(r, vq);
			vq->pdesc[pos % vq->num].flags = (uint16_t)
				((vq->pdesc[pos % vq->num].flags & ~(F_AVAIL | F_USED)) |
				 lap_flags(r, vq, pos));
			break;
		case 2:
			vq->pdriver->off_wrap = pick_off_wrap(r, vq);
			vq->pdriver->flags = one_in(r, 4) ? (uint16_t)rnd(r) :
					     (uint16_t)below(r, 4);
			break;
		case 3:
			((uint8_t *)vq->pdevice)[below(r, 4)] = (uint8_t)rnd(r);
			break;
		case 4:		/* the next slot looks available now */
			pos = vq->avail_pos;
			vq->pdesc[pos % vq->num].flags |= vg_pos_flags(vq, pos);
			break;
		case 5:
			vq->pdesc[below(r, vq->num)].id = pick_idx(r, vq->num);
			break;
		}
	}
}

/* Reap what looks used (vguest skips ids it did not add), or forget it. */
void op_preap(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int i;

	(void)s;
	for (i = 0; i <= vq->num && vg_vq_get_used(vq, NULL, NULL) != -EAGAIN; i++)
		;
	if (one_in(r, 4))
		vq->used_pos = vq->avail_pos;
}

/* A chain of @n from @head on in table order, or one indirect entry. */
static unsigned int split_chain(struct slot *s, struct rng *r,
				struct vg_vq *vq, uint16_t head, unsigned int n)
{
	struct vring_desc *t = (struct vring_desc *)(s->scratch + TABLE_OFF);
	uint8_t *b = s->scratch + below(r, 64) * 4096;
	unsigned int i;

	if (one_in(r, 8)) {
		for (i = 0; i < n; i++) {
			t[i].addr = vg_gpa(b) + 1024 * i;
			t[i].len = 1 + below(r, 1024);
			t[i].flags = dir_flag(s, vq, i > 0) |
				     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			t[i].next = (uint16_t)(i + 1);
		}
		vg_vq_raw_desc(vq, head, vg_gpa(t), n * 16,
			       VRING_DESC_F_INDIRECT, 0);
		return 1;
	}
	for (i = 0; i < n; i++) {
		unsigned int idx = (head + i) % vq->num;

		vg_vq_raw_desc(vq, idx, vg_gpa(b) + 1024 * i, 1 + below(r, 1024),
			       dir_flag(s, vq, i > 0) |
			       (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			       (uint16_t)((idx + 1) % vq->num));
	}
	return n;
}

/*
 * In order on a split ring: each head follows the previous chain's
 * descriptors, except a head skipped, made available again, or two
 * chains made available in the wrong order.
 */
static void inorder_split(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int q = vq->index & 1, lim = vq->num < 4 ? vq->num : 4;
	unsigned int n = 1 + below(r, lim), m;
	uint16_t head = (uint16_t)(s->io_next[q] % vq->num), second;

	switch (below(r, 8)) {
	case 0:
		head = (uint16_t)((head + 1 + below(r, 3)) % vq->num);
		break;
	case 1:
		head = (uint16_t)(s->io_last[q] % vq->num);
		break;
	case 2:
		n = split_chain(s, r, vq, head, n);
		second = (uint16_t)((head + n) % vq->num);
		m = split_chain(s, r, vq, second, 1 + below(r, lim));
		vg_vq_raw_push(vq, second);
		vg_vq_raw_push(vq, head);
		s->io_last[q] = head;
		s->io_next[q] = (uint16_t)((second + m) % vq->num);
		goto publish;
	}
	n = split_chain(s, r, vq, head, n);
	vg_vq_raw_push(vq, head);
	s->io_last[q] = head;
	s->io_next[q] = (uint16_t)((head + n) % vq->num);
publish:
	vg_vq_publish(vq);
	vg_vq_notify(vq);
}

/* In order on a packed ring: ids count up, but one skips, repeats, swaps. */
static void inorder_packed(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	unsigned int q = vq->index & 1, lim = max_bufs(s, vq);
	unsigned int n = 1 + below(r, lim < 4 ? lim : 4), i, k;
	uint16_t ids[4], t;

	for (i = 0; i < n; i++)
		ids[i] = next_in_order(s, vq);
	k = below(r, n);
	switch (below(r, 6)) {
	case 0:
		ids[k] = (uint16_t)((ids[k] + 1 + below(r, 3)) % vq->num);
		break;
	case 1:
		ids[k] = k ? ids[k - 1] : s->io_last[q];
		break;
	case 2:
		t = ids[0];
		ids[0] = ids[n - 1];
		ids[n - 1] = t;
		break;
	}
	for (i = 0; i < n; i++)
		put_buf(s, r, vq, ids[i]);
	vg_vq_publish(vq);
	vg_vq_notify(vq);
}

/** op_inorder_vq() - in-order traffic, with mistakes, on @vq. */
void op_inorder_vq(struct slot *s, struct rng *r, struct vg_vq *vq)
{
	if (vq->packed)
		inorder_packed(s, r, vq);
	else
		inorder_split(s, r, vq);
}

void op_inorder(struct slot *s, struct rng *r)
{
	op_inorder_vq(s, r, pick_vq(s, r));
}

/* The driver's event suppression: any flags, any event position. */
void op_event(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	uint16_t v;

	switch (below(r, 4)) {
	case 0:		/* a position, either lap (split: near the used index) */
		if (vq->packed)
			vg_vq_set_used_event_pos(vq, rand_pos(r, vq));
		else
			vg_vq_set_used_event(vq, (uint16_t)(vq->last_used +
						below(r, 2 * vq->num)));
		break;
	case 1:		/* any off_wrap, or any used_event */
		if (vq->packed) {
			vq->pdriver->off_wrap = pick_off_wrap(r, vq);
			vq->pdriver->flags = VRING_PACKED_EVENT_FLAG_DESC;
		} else {
			vg_vq_set_used_event(vq, (uint16_t)rnd(r));
		}
		break;
	case 2:		/* packed: ENABLE, DISABLE, DESC or the reserved 3 */
		v = (uint16_t)below(r, 4);
		if (vq->packed)
			vq->pdriver->flags = v;
		else
			vq->avail->flags = v;
		break;
	default:
		if (one_in(r, 2))
			vg_vq_enable_cb(vq);
		else
			vg_vq_disable_cb(vq);
	}
	if (one_in(r, 2))
		vg_vq_notify(vq);
}

/* VMM: bases with any wrap bits, sizes of any kind (no vguest state). */
void op_vring_base(struct slot *s, struct rng *r)
{
	static const unsigned int nums[] = {
		0, 3, 5, 255, 257, 1000, 32767, 32768, 32769, 65535, 65536,
		1u << 31,
	};
	struct vg_vq *vq = pick_vq(s, r);
	unsigned int idx = one_in(r, 8) ? below(r, 4) : vq->index;
	uint32_t a, u;

	switch (below(r, 4)) {
	case 0:
		a = pick_base16(r, vq->num);
		u = pick_base16(r, vq->num);
		ring_ioctl(s, VHOST_SET_VRING_BASE, idx, one_in(r, 4) ? a : a | u << 16);
		break;
	case 1:
		ring_ioctl(s, VHOST_GET_VRING_BASE, idx, 0);
		break;
	case 2:
		ring_ioctl(s, VHOST_SET_VRING_NUM, idx, nums[below(r, 12)]);
		break;
	default:
		ring_ioctl(s, VHOST_SET_VRING_NUM, idx, pick_num_packed(r));
	}
}

/*
 * VMM: stop the backend, then restart a ring at a position next to the
 * end of either lap, give it an odd size and base, switch the stopped
 * device's format (the rings stay as they are), or take the base and put
 * it back; start again.
 */
void op_reprogram(struct slot *s, struct rng *r)
{
	struct vg_vq *vq = pick_vq(s, r);
	unsigned int q = vq->index & 1, b, k;
	uint64_t f;

	stop_backend(s);
	switch (below(r, 4)) {
	case 0:
		k = vq->num < 4 ? vq->num : 4;
		b = vq->packed ? vq->num - 1 - below(r, k) +
				 (one_in(r, 2) ? vq->num : 0) :
				 0x10000 - 1 - below(r, 4 * k);
		vg_vq_program(vq, (uint16_t)b);
		s->io_next[q] = s->io_last[q] = 0;
		break;
	case 1:
		ring_ioctl(s, VHOST_SET_VRING_NUM, vq->index,
			   vq->packed ? pick_num_packed(r) : 1u << below(r, 16));
		ring_ioctl(s, VHOST_SET_VRING_BASE, vq->index,
			   pick_base16(r, vq->num) | pick_base16(r, vq->num) << 16);
		break;
	case 2:
		f = s->features ^ VG_F(VIRTIO_F_RING_PACKED) ^
		    (one_in(r, 2) ? VG_F(VIRTIO_F_IN_ORDER) : 0);
		ioctl(s->d.fd, VHOST_SET_FEATURES, &f);
		break;
	default:
		if (!vg_vq_get_base(vq, &b))
			ring_ioctl(s, VHOST_SET_VRING_BASE, vq->index, b);
	}
	start_backend(s);
}
