// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net: what the TX and RX handlers share.
 *
 * The completion sink: a handler gives each buffer it is done with to
 * vhostx_net_complete() and returns them to the guest with
 * vhostx_net_flush(), without knowing how they go back.  Normally they
 * are collected in nvq->used and published in one used-ring update
 * (direct completion).  On a TX queue while zero-copy packets sent
 * earlier (or buffers queued after one) are not all returned, they go
 * through the in-order ring of zerocopy.c instead, so the guest gets them
 * back in the order it queued them and never while the stack may still
 * read them.  Only then is zerocopy.c called: TX with zero-copy off never
 * enters it, nor does TX with zero-copy on between zero-copy packets.
 *
 * The budget: a handler run yields after the weight packets or
 * byte_weight bytes of these module parameters (vhostx_net_exceeds_weight()).
 *
 * The socket poll: a handler watches its socket only when it must wait
 * for it (RX drained it, TX found it full).
 */
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/net.h>

#include "net.h"

/* Only positive values are taken; a write applies to the next runs. */
static int vhostx_net_set_weight(const char *val, const struct kernel_param *kp)
{
	int n, r;

	r = kstrtoint(val, 0, &n);
	if (r)
		return r;
	if (n <= 0)
		return -EINVAL;
	WRITE_ONCE(*(int *)kp->arg, n);
	return 0;
}

static const struct kernel_param_ops vhostx_net_weight_ops = {
	.set = vhostx_net_set_weight,
	.get = param_get_int,
};

static int vhostx_net_weight = VHOSTX_NET_PKT_WEIGHT;
module_param_cb(weight, &vhostx_net_weight_ops, &vhostx_net_weight, 0644);
__MODULE_PARM_TYPE(weight, "int");
MODULE_PARM_DESC(weight,
		 "Packets one handler run may move before yielding (default 256)");

static int vhostx_net_byte_weight = VHOSTX_NET_BYTE_WEIGHT;
module_param_cb(byte_weight, &vhostx_net_weight_ops, &vhostx_net_byte_weight,
		0644);
__MODULE_PARM_TYPE(byte_weight, "int");
MODULE_PARM_DESC(byte_weight,
		 "Bytes one handler run may move before yielding (default 524288)");

/**
 * vhostx_net_budget() - the budget of the handler run starting now
 * @budget: filled with the weight and byte_weight parameters
 *
 * Read once per run, so a run sees one budget whatever is written
 * meanwhile.
 */
void vhostx_net_budget(struct vhostx_net_budget *budget)
{
	budget->pkts = READ_ONCE(vhostx_net_weight);
	budget->bytes = READ_ONCE(vhostx_net_byte_weight);
}

/**
 * vhostx_net_exceeds_weight() - has this handler run used up its budget?
 * @nvq: the queue, vq mutex held
 * @budget: from vhostx_net_budget() at the start of the run
 * @pkts: packets (or buffers) handled in this run
 * @bytes: bytes moved in this run
 *
 * When it has, the queue's kick work is requeued behind other work and
 * the run counted in ``yields``.
 *
 * Return: true if the handler must return now.
 */
bool vhostx_net_exceeds_weight(struct vhostx_net_vq *nvq,
			       const struct vhostx_net_budget *budget,
			       int pkts, size_t bytes)
{
	lockdep_assert_held(&nvq->vq.mutex);
	return vhostx_exceeds_budget(&nvq->vq, pkts, bytes, budget->pkts,
				     budget->bytes);
}

/**
 * vhostx_net_complete() - the handler is done with a buffer
 * @nvq: the queue, vq mutex held; vhostx_net_complete_room() true
 * @buf: the buffer, as vhostx_get_buf() returned it
 * @len: bytes written to it (0 for TX)
 *
 * The buffer goes back to the guest at the next vhostx_net_flush(), after
 * every buffer completed before it.
 */
void vhostx_net_complete(struct vhostx_net_vq *nvq,
			 const struct vhostx_buf *buf, u32 len)
{
	struct vhostx_used *used;

	lockdep_assert_held(&nvq->vq.mutex);
	if (vhostx_net_in_order(nvq)) {
		vhostx_net_zc_add_done(nvq, buf, len);
		return;
	}
	used = &nvq->used[nvq->done++];
	used->id = buf->id;
	used->len = len;
	used->ndesc = buf->ndesc;
	used->flags = vhostx_used_flags(buf, len);
}

/**
 * vhostx_net_complete_due() - is a batch of completed buffers waiting?
 * @nvq: the queue, vq mutex held
 *
 * Return: true when the handler should flush before it goes on (a used
 * ring update per VHOSTX_NET_BATCH buffers, not one per buffer).
 */
bool vhostx_net_complete_due(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	if (vhostx_net_in_order(nvq))
		return vhostx_net_zc_unreturned(nvq) >= VHOSTX_NET_BATCH ||
		       vhostx_net_zc_full(nvq);
	return nvq->done >= VHOSTX_NET_BATCH;
}

/**
 * vhostx_net_complete_room() - can the handler take another buffer?
 * @nvq: the queue, vq mutex held, flushed if vhostx_net_complete_due()
 *
 * False only when the in-order ring is full: its oldest packet is in
 * flight, and that packet's completion requeues the handler.
 *
 * Return: true if vhostx_net_complete() may be called once more.
 */
bool vhostx_net_complete_room(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	return !vhostx_net_in_order(nvq) || !vhostx_net_zc_full(nvq);
}

/**
 * vhostx_net_flush() - return completed buffers to the guest
 * @nvq: the queue, vq mutex held
 *
 * In order: the done prefix of the in-order ring (buffers still in flight
 * and those after them stay); direct: everything collected, in one used
 * ring update.  The guest is signalled if it asked to be.
 */
void vhostx_net_flush(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	if (vhostx_net_in_order(nvq))
		vhostx_net_zc_publish(nvq);
	if (!nvq->done)
		return;
	vhostx_add_used_and_signal_n(&nvq->vq, nvq->used, nvq->done);
	nvq->done = 0;
}

/**
 * vhostx_net_enable_poll() - watch the attached socket for readiness
 * @nvq: network virtqueue, with its vq mutex held
 *
 * Return: 0, or the error vfs_poll() reported for the socket's file.
 */
int vhostx_net_enable_poll(struct vhostx_net_vq *nvq)
{
	struct socket *sock;

	lockdep_assert_held(&nvq->vq.mutex);
	sock = vhostx_vq_get_backend(&nvq->vq);
	if (!sock)
		return 0;
	return vhostx_poll_start(&nvq->poll, sock->file);
}

/**
 * vhostx_net_disable_poll() - stop watching the attached socket
 * @nvq: network virtqueue, with its vq mutex held
 */
void vhostx_net_disable_poll(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	if (!vhostx_vq_get_backend(&nvq->vq))
		return;
	vhostx_poll_stop(&nvq->poll);
}
