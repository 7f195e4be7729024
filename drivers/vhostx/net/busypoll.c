// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net busy polling (VHOST_SET_VRING_BUSYLOOP_TIMEOUT).
 *
 * When a handler is about to go idle (TX: the avail ring is empty; RX: the
 * socket has nothing), it may spin for up to vq->busyloop_timeout
 * microseconds waiting for more, with guest notifications still disabled
 * and the socket poll still off.  A packet that arrives while it spins is
 * handled without a kick, a wakeup or a new handler run.  The spin stops
 * early when anything else needs the CPU or the worker.
 *
 * The RX spin also watches the TX ring (when it can take the TX vq mutex
 * without waiting), with TX notifications off: a guest that answers the
 * packet it just received gets its reply sent without having to kick.
 */
#include <linux/lockdep.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <net/sock.h>

#include "net.h"

/* Is there a packet waiting on @sock?  Safe to call in a tight loop. */
bool vhostx_net_sock_has_data(struct socket *sock)
{
	if (sock->ops->peek_len)
		return sock->ops->peek_len(sock) > 0;
	return !skb_queue_empty_lockless(&sock->sk->sk_receive_queue);
}

static bool vhostx_net_busy_ready(struct vhostx_net_vq *nvq, bool rx)
{
	struct vhostx_vq *vq = &nvq->vq;

	if (rx)
		return vhostx_net_sock_has_data(vhostx_vq_get_backend(vq));
	return !vhostx_avail_empty(vq);
}

/**
 * vhostx_net_busy_poll() - spin a while for more work before going idle
 * @nvq: network virtqueue, vq mutex held, a socket attached
 * @rx: true to wait for the socket to have a packet, false to wait for
 *	the guest to add TX buffers
 *
 * Does nothing when the queue's busyloop timeout is 0.  Stops at the
 * timeout (at most VHOSTX_NET_BUSYLOOP_MAX_US: the vq mutex is held, and
 * ioctls and detach wait for it), when the scheduler wants the CPU, or when other work is queued
 * on the vq's worker (a kick on another queue, a flush, a stop).
 *
 * Return: true if the awaited work arrived while spinning.
 */
bool vhostx_net_busy_poll(struct vhostx_net_vq *nvq, bool rx)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct vhostx_vq *tx = NULL;
	bool ready = false, tx_ready = false, timeout = false;
	u64 end;

	lockdep_assert_held(&vq->mutex);
	if (!vq->busyloop_timeout)
		return false;

	/* RX (its mutex held) may only try for TX's: no lock order. */
	if (rx) {
		tx = &to_net(vq->dev)->vqs[VHOSTX_NET_VQ_TX].vq;
		if (!mutex_trylock(&tx->mutex))
			tx = NULL;
		else if (!vhostx_vq_get_backend(tx) || tx->broken) {
			mutex_unlock(&tx->mutex);
			tx = NULL;
		} else {
			vhostx_mute_notify(tx);
		}
	}

	/* local_clock() is only monotonic on one CPU. */
	migrate_disable();
	end = local_clock() + (u64)min_t(u32, vq->busyloop_timeout,
					 VHOSTX_NET_BUSYLOOP_MAX_US) *
			      NSEC_PER_USEC;
	for (;;) {
		ready = vhostx_net_busy_ready(nvq, rx);
		if (ready || need_resched() || signal_pending(current) ||
		    vhostx_vq_has_work(vq))
			break;
		if (local_clock() >= end) {
			timeout = true;
			break;
		}
		if (tx && !vhostx_avail_empty(tx)) {
			tx_ready = true;
			break;
		}
		cpu_relax();
	}
	migrate_enable();
	nvq->stats.spins++;
	nvq->stats.spin_hits += ready || tx_ready;
	nvq->stats.spin_timeouts += timeout;

	if (tx) {
		/* TX buffers came (or came as we re-enable): send them. */
		if (tx_ready || vhostx_enable_notify(tx))
			vhostx_poll_queue(&tx->poll);
		mutex_unlock(&tx->mutex);
	}
	return ready;
}
