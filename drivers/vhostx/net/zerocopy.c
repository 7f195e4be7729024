// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net zero-copy transmit.
 *
 * With the experimental_zcopytx parameter on (the default) when a tun/tap
 * or macvtap socket is attached, TX packets of zcopy_min_len bytes or more
 * are handed to the socket with a struct ubuf_info: the socket builds the
 * skb on the guest's pages (pinned) instead of copying them, and the stack
 * calls our completion when the last skb using them is freed, or when it
 * had to copy them after all.  Only then may the guest reuse the buffer.
 *
 * From a zero-copy packet's send until its slot and every later one went
 * back to the guest, every TX packet, copied or not, takes a slot in an
 * in-order completion ring (zc_used / zc_state, zc_done .. zc_upend).
 * Copied packets (sent alone or copied into a TX batch, tx.c) are done at
 * once: the completion sink (datapath.c) puts them there; zero-copy ones
 * are done when their completion runs.  The handler returns the done
 * prefix of the ring to the guest (vhostx_net_flush()), VHOSTX_NET_BATCH
 * slots at a time and whenever it stops, so used entries appear in the
 * order the guest queued the buffers, in batches.  While the ring is
 * empty, buffers are completed directly, zero-copy on or not (buffers
 * completed directly are published before a zero-copy packet takes the
 * first slot): short packets, which are always copied, cost the same
 * with zero-copy on as with it off.  With zero-copy off and the ring
 * empty, TX never calls into this file.
 *
 * Head-of-line blocking: a packet held by the stack (a slow qdisc, say)
 * holds back the used entries queued after it, but never the transmit
 * queue: once VHOSTX_NET_ZC_MAX_PEND (or a quarter of the ring) packets
 * are in flight, further packets are copied and sent at once.
 *
 * Lifetime: completions may run in any context, after the handler, the
 * backend or even the file went away.  What they write (the slots' states,
 * the in-flight count) and the ubufs the skbs point to live in a struct
 * vhostx_net_zc of their own, which each packet in flight holds a
 * reference on; the queue itself they only read, through zc->nvq under
 * rcu_read_lock(), to requeue the handler.  Every path that detaches the
 * TX socket or frees the device first waits until zc->pending is 0, then
 * returns the buffers to the guest.  That wait is killable: the stack may
 * hold a packet for good (7.2 queues zero-copy frames uncopied on a packet
 * socket bound to the tap, until that socket reads them).  A fatal signal
 * ends it, and then the queue gives the state up (vhostx_net_zc_give_up()):
 * zc->nvq is cleared, the queue starts a new, empty in-order ring, the
 * buffers still in flight are never returned (no used entry is written
 * after the give-up, so none into a ring the VMM set up since), and the
 * last completion frees the old state and drops the module reference it
 * took, so vhostx_net cannot be unloaded while the stack still holds one
 * of its ubufs.  Release waits for an RCU grace period before freeing the
 * queue.
 */
#include <linux/if_tun.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/refcount.h>
#include <linux/net.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "net.h"

enum {
	VHOSTX_NET_ZC_IN_PROGRESS = 1,	/* the stack holds the guest pages */
	VHOSTX_NET_ZC_DONE,		/* completed, pages never copied */
	VHOSTX_NET_ZC_COPIED,		/* completed, the stack copied them */
	VHOSTX_NET_ZC_NONE,		/* sent by copying, done at once */
};

#define ZC_NEXT(i)	(((i) + 1) & (VHOSTX_NET_ZC_SLOTS - 1))

bool vhostx_net_zcopytx = true;
module_param_named(experimental_zcopytx, vhostx_net_zcopytx, bool, 0644);
MODULE_PARM_DESC(experimental_zcopytx,
		 "Zero-copy transmit of large packets (see zcopy_min_len) to tap/macvtap, read when a TX backend is attached (default on)");

unsigned int vhostx_net_zcopy_min_len = VHOSTX_NET_ZC_MIN_LEN;
module_param_named(zcopy_min_len, vhostx_net_zcopy_min_len, uint, 0644);
MODULE_PARM_DESC(zcopy_min_len,
		 "With experimental_zcopytx, packets of at least this many bytes (socket header included) are sent from guest pages; read at attach (default 4096)");

/**
 * vhostx_net_zc_supported() - can zero-copy TX be used on @sock?
 * @sock: a socket being attached to the TX queue
 *
 * Only tun/tap and macvtap take a ubuf in msg_control (and set
 * SOCK_ZEROCOPY); a packet socket would parse it as control messages.
 * The module parameter is read here, at attach time.
 *
 * Return: true if zero-copy should be used.
 */
bool vhostx_net_zc_supported(struct socket *sock)
{
	return READ_ONCE(vhostx_net_zcopytx) && sock && sock->sk &&
	       sock->sk->sk_family != AF_PACKET &&
	       sock_flag(sock->sk, SOCK_ZEROCOPY);
}

/**
 * vhostx_net_zc_alloc() - new, empty zero-copy state for a TX queue
 * @nvq: the queue that owns it
 *
 * Charged to the caller (the VMM); about 40 KiB.
 *
 * Return: the state with the queue's reference, or NULL.
 */
struct vhostx_net_zc *vhostx_net_zc_alloc(struct vhostx_net_vq *nvq)
{
	struct vhostx_net_zc *zc;

	zc = kvzalloc(sizeof(*zc), GFP_KERNEL_ACCOUNT);
	if (!zc)
		return NULL;
	refcount_set(&zc->ref, 1);
	RCU_INIT_POINTER(zc->nvq, nvq);
	init_waitqueue_head(&zc->wait);
	return zc;
}

/*
 * Drop a reference; the last one frees the state after a grace period
 * (a completion may still read it), and, if the queue gave it up with
 * packets in flight, the module reference taken then.  Any context.
 */
static void vhostx_net_zc_put(struct vhostx_net_zc *zc)
{
	bool orphaned;

	if (!refcount_dec_and_test(&zc->ref))
		return;
	orphaned = zc->orphaned;
	kvfree_rcu(zc, rcu);
	/*
	 * Our text runs on for the return only: the caller is a completion
	 * inside rcu_read_lock(), and unloading a module waits for a grace
	 * period before freeing it.
	 */
	if (orphaned)
		module_put(THIS_MODULE);
}

/* Completions; any context, possibly long after the handler returned. */
static void vhostx_net_zc_complete(struct sk_buff *skb, struct ubuf_info *ubuf,
				   bool success)
{
	struct vhostx_net_ubuf *zu;
	struct vhostx_net_vq *nvq;
	struct vhostx_net_zc *zc;

	/* Clones share the ubuf; the last reference completes. */
	if (!refcount_dec_and_test(&ubuf->refcnt))
		return;

	zu = container_of(ubuf, struct vhostx_net_ubuf, ubuf);
	zc = zu->zc;

	rcu_read_lock();
	WRITE_ONCE(zc->state[zu->slot],
		   success ? VHOSTX_NET_ZC_DONE : VHOSTX_NET_ZC_COPIED);
	/* Pairs with the barriers in vhostx_net_zc_sent() and _publish(). */
	smp_mb();
	/*
	 * Only the oldest slot unblocks used entries; the handler looks at
	 * the ring itself right after sendmsg().  A queue that gave this
	 * state up is not touched (it may be gone, see release).
	 */
	nvq = rcu_dereference(zc->nvq);
	if (nvq && !READ_ONCE(nvq->zc_in_send) &&
	    zu->slot == READ_ONCE(nvq->zc_done))
		vhostx_poll_queue(&nvq->vq.poll);
	if (atomic_dec_and_test(&zc->pending))
		wake_up(&zc->wait);
	vhostx_net_zc_put(zc);
	rcu_read_unlock();
}

VHOSTX_UBUF_OPS(vhostx_net_zc_ops, vhostx_net_zc_complete);

/**
 * vhostx_net_zc_full() - no free slot in the in-order ring?
 * @nvq: the TX queue, vq mutex held
 *
 * When full, the oldest slot is in flight and its completion requeues the
 * handler.
 *
 * Return: true if the handler must stop.
 */
bool vhostx_net_zc_full(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	return ZC_NEXT(nvq->zc_upend) == nvq->zc_done;
}

/**
 * vhostx_net_zc_unreturned() - packets in the in-order ring
 * @nvq: the TX queue, vq mutex held
 *
 * Return: slots taken and not yet returned to the guest, done or not.
 */
unsigned int vhostx_net_zc_unreturned(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	return (nvq->zc_upend - nvq->zc_done) & (VHOSTX_NET_ZC_SLOTS - 1);
}

/**
 * vhostx_net_zc_room() - may one more packet be sent without copying?
 * @nvq: the TX queue, vq mutex held, zero-copy on
 *
 * The caller has decided that the packet is long enough (zc_min_len);
 * this is the in-flight limit.  A packet over it is copied and counted
 * in the fallback counter.
 *
 * Return: true for zero-copy, false to copy.
 */
bool vhostx_net_zc_room(struct vhostx_net_vq *nvq)
{
	unsigned int max = min_t(unsigned int, VHOSTX_NET_ZC_MAX_PEND,
				 nvq->vq.num >> 2);

	lockdep_assert_held(&nvq->vq.mutex);
	if (atomic_read(&nvq->zc->pending) >= max) {
		nvq->stats.fallback++;
		return false;
	}
	return true;
}

/* The used entry a slot returns, and its state. */
static void vhostx_net_zc_fill_slot(struct vhostx_net_vq *nvq, u16 slot,
				    const struct vhostx_buf *buf, u32 len,
				    u8 state)
{
	nvq->zc_used[slot].id = buf->id;
	nvq->zc_used[slot].len = len;
	nvq->zc_used[slot].ndesc = buf->ndesc;
	nvq->zc_used[slot].flags = vhostx_used_flags(buf, len);
	nvq->zc->state[slot] = state;
}

/**
 * vhostx_net_zc_add() - take the next slot for a zero-copy packet
 * @nvq: the TX queue, vq mutex held, ring not full
 * @buf: the packet's buffer
 * @msg: the message for sendmsg(), without control data; gets the ubuf
 * @ctl: storage for the tun/tap control block
 *
 * The slot is committed by vhostx_net_zc_sent().
 *
 * Return: the slot.
 */
u16 vhostx_net_zc_add(struct vhostx_net_vq *nvq, const struct vhostx_buf *buf,
		      struct msghdr *msg, struct tun_msg_ctl *ctl)
{
	u16 slot = nvq->zc_upend;
	struct vhostx_net_ubuf *zu = &nvq->zc->ubuf[slot];

	lockdep_assert_held(&nvq->vq.mutex);
	vhostx_net_zc_fill_slot(nvq, slot, buf, 0, VHOSTX_NET_ZC_IN_PROGRESS);
	zu->zc = nvq->zc;
	zu->slot = slot;
	vhostx_ubuf_set_ops(&zu->ubuf, vhostx_net_zc_ops);
	zu->ubuf.flags = SKBFL_ZEROCOPY_FRAG;
	refcount_set(&zu->ubuf.refcnt, 1);
	ctl->type = TUN_MSG_UBUF;
	ctl->num = 0;
	ctl->ptr = &zu->ubuf;
	msg->msg_control = ctl;
	msg->msg_controllen = sizeof(*ctl);
	/* The packet's reference, dropped by its completion. */
	refcount_inc(&nvq->zc->ref);
	atomic_inc(&nvq->zc->pending);
	nvq->zc_ever = true;
	WRITE_ONCE(nvq->zc_in_send, true);
	return slot;
}

/**
 * vhostx_net_zc_add_done() - a buffer is done: queue it in order
 * @nvq: the TX queue, vq mutex held, ring not full
 * @buf: the buffer, free for the guest again (a packet copied, batched
 *	or dropped)
 * @len: its used length
 *
 * Takes the next slot, done at once (vhostx_net_complete() in in-order
 * mode).  A batched packet's batch is sent before any later packet and
 * before the slot is returned (publish), so the socket sees packets in
 * guest order.
 */
void vhostx_net_zc_add_done(struct vhostx_net_vq *nvq,
			    const struct vhostx_buf *buf, u32 len)
{
	u16 slot = nvq->zc_upend;

	lockdep_assert_held(&nvq->vq.mutex);
	vhostx_net_zc_fill_slot(nvq, slot, buf, len, VHOSTX_NET_ZC_NONE);
	nvq->zc_upend = ZC_NEXT(slot);
}

/**
 * vhostx_net_zc_sent() - sendmsg() returned for the zero-copy packet in @slot
 * @nvq: the TX queue, vq mutex held
 * @slot: from vhostx_net_zc_add()
 * @err: sendmsg()'s result
 * @retry: the buffer goes back to the ring: free the slot, don't commit
 */
void vhostx_net_zc_sent(struct vhostx_net_vq *nvq, u16 slot, int err,
			bool retry)
{
	lockdep_assert_held(&nvq->vq.mutex);
	WRITE_ONCE(nvq->zc_in_send, false);
	/* Pairs with the barrier in vhostx_net_zc_complete(). */
	smp_mb();
	if (err >= 0)
		nvq->stats.sent++;
	/*
	 * A socket that failed before taking the ubuf never completes it:
	 * drop its reference ourselves.
	 */
	if (err < 0 &&
	    READ_ONCE(nvq->zc->state[slot]) == VHOSTX_NET_ZC_IN_PROGRESS) {
		nvq->zc->state[slot] = VHOSTX_NET_ZC_NONE;
		if (atomic_dec_and_test(&nvq->zc->pending))
			wake_up(&nvq->zc->wait);
		/* Not the last reference: the queue holds one. */
		refcount_dec(&nvq->zc->ref);
	}
	if (!retry)
		nvq->zc_upend = ZC_NEXT(slot);
}

/*
 * Return slots [from, to) (no wrap) to the guest and count them: 0, or the
 * error that kept them (an IOTLB miss on the used ring, a stopped queue).
 */
static int vhostx_net_zc_return(struct vhostx_net_vq *nvq, u16 from, u16 to)
{
	u16 i;
	int ret;

	if (to == from)
		return 0;
	ret = vhostx_add_used_n(&nvq->vq, nvq->zc_used + from, to - from);
	if (ret)
		return ret;
	for (i = from; i != to; i++) {
		u8 state = READ_ONCE(nvq->zc->state[i]);

		if (state == VHOSTX_NET_ZC_DONE)
			nvq->stats.completed++;
		else if (state == VHOSTX_NET_ZC_COPIED)
			nvq->stats.copied++;
	}
	return 0;
}

/**
 * vhostx_net_zc_publish() - return the done prefix of the ring to the guest
 * @nvq: the TX queue, vq mutex held
 *
 * Slots the used ring cannot take now (an IOTLB miss: the handler runs
 * again after the update; a stopped queue: after the restart) stay in the
 * ring, in order.
 */
void vhostx_net_zc_publish(struct vhostx_net_vq *nvq)
{
	u16 i, start;
	bool any = false;

	lockdep_assert_held(&nvq->vq.mutex);
again:
	start = nvq->zc_done;
	for (i = start; i != nvq->zc_upend; i = ZC_NEXT(i)) {
		if (READ_ONCE(nvq->zc->state[i]) == VHOSTX_NET_ZC_IN_PROGRESS)
			break;
		if (ZC_NEXT(i) == 0) {
			/* The ring wraps: return the tail part first. */
			if (vhostx_net_zc_return(nvq, start,
						 VHOSTX_NET_ZC_SLOTS))
				goto out;
			WRITE_ONCE(nvq->zc_done, 0);
			start = 0;
			any = true;
		}
	}
	if (i != start) {
		if (vhostx_net_zc_return(nvq, start, i))
			goto out;
		any = true;
	}
	WRITE_ONCE(nvq->zc_done, i);
	/*
	 * A completion of slot i that ran before it could see the new
	 * zc_done did not requeue us: look again.
	 */
	smp_mb();
	if (i != nvq->zc_upend &&
	    READ_ONCE(nvq->zc->state[i]) != VHOSTX_NET_ZC_IN_PROGRESS)
		goto again;
out:
	if (any)
		vhostx_signal(&nvq->vq);
}

/**
 * vhostx_net_zc_wait() - wait until the stack completed every packet
 * @nvq: the TX queue, with no socket attached (no new zero-copy packets);
 *	vq mutex NOT held, device mutex held (or releasing)
 *
 * Bounded by how long the stack holds the packets (a qdisc, a slow link,
 * a packet socket nobody reads); the handler never waits here, only
 * detach, reset and release.  Killable: a VMM stuck here dies on SIGKILL
 * (its caller then gives the state up, vhostx_net_zc_give_up()).
 *
 * Return: 0 when nothing is in flight, -EINTR on a fatal signal.
 */
int vhostx_net_zc_wait(struct vhostx_net_vq *nvq)
{
	struct vhostx_net_zc *zc = nvq->zc;

	lockdep_assert_not_held(&nvq->vq.mutex);
	if (!zc)
		return 0;
	return wait_event_killable(zc->wait, !atomic_read(&zc->pending)) ?
	       -EINTR : 0;
}

/**
 * vhostx_net_zc_give_up() - leave the packets in flight to their completions
 * @nvq: the TX queue, with no socket attached; vq mutex NOT held, device
 *	mutex held (or releasing)
 * @renew: give the queue new, empty state (detach, reset owner); false
 *	on release, where the queue goes away
 *
 * With @renew the done prefix of the in-order ring is returned to the
 * guest first; the slots from the oldest packet in flight on are dropped: their used
 * entries are never written (the VMM resets or frees the ring next).  The
 * state lives on until its last packet completes, with a module reference
 * if packets are still in flight.  After an RCU grace period no completion
 * looks at @nvq any more.  If new state cannot be allocated the queue runs
 * without zero-copy.
 */
void vhostx_net_zc_give_up(struct vhostx_net_vq *nvq, bool renew)
{
	struct vhostx_net_zc *old = nvq->zc, *zc = NULL;

	lockdep_assert_not_held(&nvq->vq.mutex);
	if (!old)
		return;
	if (renew)
		zc = vhostx_net_zc_alloc(nvq);
	vhostx_vq_lock(&nvq->vq);
	/* On release the rings may be gone already (device cleanup). */
	if (renew)
		vhostx_net_flush(nvq);
	rcu_assign_pointer(old->nvq, NULL);
	nvq->zc = zc;
	nvq->zcopy = false;
	nvq->zc_in_send = false;
	nvq->zc_done = 0;
	nvq->zc_upend = 0;
	mutex_unlock(&nvq->vq.mutex);
	/* No completion reads @nvq through @old from here on. */
	if (nvq->zc_ever)
		synchronize_rcu();
	if (!refcount_dec_if_one(&old->ref)) {
		/* Packets in flight: the last one frees it (any context). */
		old->orphaned = true;
		__module_get(THIS_MODULE);
		vhostx_net_zc_put(old);
		return;
	}
	kvfree(old);
}
