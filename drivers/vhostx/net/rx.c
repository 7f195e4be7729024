// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net receive: socket -> guest RX ring, copying.
 *
 * For each packet waiting on the socket we first learn its length without
 * consuming it, then take enough RX buffers to hold it (several with
 * VIRTIO_NET_F_MRG_RXBUF, one otherwise), and only then let the socket
 * copy it in.  A packet that can never fit is dropped and the buffers go
 * back to the ring untouched; a packet that does not fit yet waits for the
 * guest to add buffers.
 */
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/lockdep.h>
#include <linux/ptr_ring.h>
#include <linux/skb_array.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <net/sock.h>

#include "net.h"

/*
 * Batching: tun/tap and macvtap queue packets for us in a ptr_ring.  We
 * take up to VHOSTX_NET_BATCH of them at once (one lock round trip), keep
 * them in nvq->rxq and hand each to recvmsg() in msg_control, which makes
 * the socket receive exactly that packet.  Packets still in rxq when the
 * socket is detached go back to the front of its ring, in order.
 */

/**
 * vhostx_net_rx_ring() - the packet ring behind a tun/tap or macvtap socket
 * @sock: the socket being attached to the RX queue
 *
 * Return: the ring, or NULL (packet sockets) to receive without batching.
 */
struct ptr_ring *vhostx_net_rx_ring(struct socket *sock)
{
	struct ptr_ring *ring;

	if (!sock || !sock->file)
		return NULL;
	ring = tun_get_tx_ring(sock->file);
	if (!IS_ERR(ring))
		return ring;
	ring = tap_get_ptr_ring(sock->file);
	if (!IS_ERR(ring))
		return ring;
	return NULL;
}

/**
 * vhostx_net_rx_unproduce() - give batched packets back to the socket
 * @nvq: the RX queue, vq mutex held, its socket still referenced
 */
void vhostx_net_rx_unproduce(struct vhostx_net_vq *nvq)
{
	lockdep_assert_held(&nvq->vq.mutex);
	if (nvq->rx_ring && nvq->rxq_head != nvq->rxq_tail)
		ptr_ring_unconsume(nvq->rx_ring, nvq->rxq + nvq->rxq_head,
				   nvq->rxq_tail - nvq->rxq_head, tun_ptr_free);
	nvq->rxq_head = 0;
	nvq->rxq_tail = 0;
}

/* Length of a packet from the ring (an skb or, from tun, an XDP frame). */
static int vhostx_net_rxq_len(void *ptr)
{
	if (tun_is_xdp_frame(ptr))
		return tun_ptr_to_xdp(ptr)->len;
	return __skb_array_len_with_tag(ptr);
}

/* The batched packet recvmsg() must take next, or NULL without batching. */
static void *vhostx_net_rxq_take(struct vhostx_net_vq *nvq)
{
	if (!nvq->rx_ring)
		return NULL;
	return nvq->rxq[nvq->rxq_head++];
}

/*
 * Length of the next packet (0 if none), without its vnet header; with a
 * ring, refills the batch when it is empty.
 */
static int vhostx_net_rx_peek_len(struct vhostx_net_vq *nvq,
				  struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct sk_buff *skb;
	unsigned long flags;
	int len = 0;

	if (nvq->rx_ring) {
		if (nvq->rxq_head == nvq->rxq_tail) {
			nvq->rxq_head = 0;
			nvq->rxq_tail = ptr_ring_consume_batched(nvq->rx_ring,
								 nvq->rxq,
								 VHOSTX_NET_BATCH);
			if (!nvq->rxq_tail)
				return 0;
		}
		return vhostx_net_rxq_len(nvq->rxq[nvq->rxq_head]);
	}

	if (sock->ops->peek_len)
		return sock->ops->peek_len(sock);

	spin_lock_irqsave(&sk->sk_receive_queue.lock, flags);
	skb = skb_peek(&sk->sk_receive_queue);
	if (skb) {
		len = skb->len;
		if (skb_vlan_tag_present(skb))
			len += VLAN_HLEN;
	}
	spin_unlock_irqrestore(&sk->sk_receive_queue.lock, flags);
	return len;
}

/*
 * Throw away the next packet on the socket without writing guest memory.
 * The kernel buffer must not be empty: tun and tap return early, without
 * dequeuing anything, for a zero-length read.
 */
static void vhostx_net_rx_discard(struct vhostx_net_vq *nvq,
				  struct socket *sock)
{
	struct msghdr msg = {
		.msg_flags = MSG_DONTWAIT,
		.msg_control = vhostx_net_rxq_take(nvq),
	};
	u8 byte;
	struct kvec kv = { .iov_base = &byte, .iov_len = sizeof(byte) };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, sizeof(byte));
	sock->ops->recvmsg(sock, &msg, sizeof(byte), MSG_DONTWAIT | MSG_TRUNC);
}

/*
 * Take RX buffers for @len bytes into nvq->iov/used (and nvq->log when
 * logging).  Returns the number of buffers taken (> 0), 0 when the ring
 * ran out first (nothing taken), -ENOSPC when the packet can never fit
 * (nothing taken), or another negative errno on a ring error.  *@walked
 * counts every buffer taken, even those given back.
 */
static int vhostx_net_rx_get_bufs(struct vhostx_net_vq *nvq, size_t len,
				  bool mergeable, unsigned int *niov,
				  unsigned int *nlog, unsigned int *walked)
{
	struct vhostx_vq *vq = &nvq->vq;
	bool logging = vhostx_logging(vq);
	unsigned int seg = 0, logged = 0;
	struct vhostx_used *used = nvq->used + nvq->done;
	struct vhostx_buf buf;
	int heads = 0;
	size_t left = len;
	int r;

	while (left > 0) {
		if (heads && !mergeable) {
			r = -ENOSPC;
			goto err;
		}
		if (seg >= VHOSTX_NET_IOV_MAX ||
		    nvq->done + heads >= VHOSTX_NET_IOV_MAX) {
			r = -ENOSPC;
			goto err;
		}
		/* Each buffer may be a chain through the whole table. */
		cond_resched();
		r = vhostx_get_buf(vq, &buf, nvq->iov + seg,
				   VHOSTX_NET_IOV_MAX - seg,
				   logging ? nvq->log + logged : NULL,
				   logging ? VHOSTX_NET_IOV_MAX - logged : 0);
		if (!r && heads >= vq->num)
			r = -ENOSPC;	/* even a full ring is too small */
		if (r <= 0)
			goto err;
		heads++;
		(*walked)++;
		if (unlikely(buf.out || !buf.in)) {
			vhostx_vq_err(vq, "RX buffer %u: %u readable, %u writable descriptors",
				      buf.id, buf.out, buf.in);
			r = -EINVAL;
			goto err;
		}
		used[heads - 1].id = buf.id;
		used[heads - 1].ndesc = buf.ndesc;
		used[heads - 1].len = min_t(size_t, buf.in_len, left);
		/*
		 * Every RX entry is written, in order or not: DPDK's in-order
		 * receive reads each slot's length (a skipped one would be
		 * stale), where vhost-net 6.17 writes one per packet.
		 */
		used[heads - 1].flags = 0;
		left -= used[heads - 1].len;
		seg += buf.in;
		if (logging)
			logged += buf.nlog;
	}
	*niov = seg;
	*nlog = logged;
	return heads;

err:
	if (heads)
		vhostx_unget(vq, heads);
	return r;
}

/*
 * Write the header parts the device owns: all of it, or just num_buffers,
 * through the packet's @niov iovecs (unchanged by the receive).
 */
static int vhostx_net_rx_fix_header(struct vhostx_net_vq *nvq,
				    unsigned int niov, size_t len, int heads)
{
	struct vhostx_vq *vq = &nvq->vq;
	size_t hlen = nvq->vhost_hlen ? nvq->vhost_hlen : nvq->sock_hlen;
	struct virtio_net_hdr_mrg_rxbuf hdr = {
		.hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};
	struct iov_iter it;

	iov_iter_init(&it, ITER_DEST, nvq->iov, niov, len);

	if (nvq->vhost_hlen) {
		hdr.num_buffers = cpu_to_vhostx16(vq, heads);
		if (copy_to_iter(&hdr, hlen, &it) != hlen)
			return -EFAULT;
		return 0;
	}
	/* The socket wrote the header; a 12-byte one also has num_buffers. */
	if (hlen == sizeof(hdr)) {
		__virtio16 num = cpu_to_vhostx16(vq, heads);

		iov_iter_advance(&it, sizeof(struct virtio_net_hdr));
		if (copy_to_iter(&num, sizeof(num), &it) != sizeof(num))
			return -EFAULT;
	}
	return 0;
}

/*
 * The common case of vhostx_net_rx_fix_header(): the socket wrote a
 * 12-byte header into a first iovec that holds all of it, so num_buffers
 * is one store (put_user() checks the address like copy_to_iter() would),
 * not an iov_iter walk and a copy.  Return: 0, -EFAULT, or 1 when the
 * general path must do it.
 */
static int vhostx_net_rx_put_num_buffers(struct vhostx_net_vq *nvq,
					 int heads)
{
	struct virtio_net_hdr_mrg_rxbuf __user *h = nvq->iov[0].iov_base;

	if (nvq->vhost_hlen || nvq->sock_hlen != sizeof(*h) ||
	    nvq->iov[0].iov_len < sizeof(*h))
		return 1;
	if (put_user(cpu_to_vhostx16(&nvq->vq, heads), &h->num_buffers))
		return -EFAULT;
	return 0;
}

static void vhostx_net_rx(struct vhostx_net_vq *nvq, struct socket *sock)
{
	struct vhostx_vq *vq = &nvq->vq;
	bool mergeable = vhostx_has_feature(vq, VIRTIO_NET_F_MRG_RXBUF);
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct vhostx_net_budget budget;
	unsigned int niov, nlog, walked = 0;
	size_t sock_len, vhost_len, total = 0;
	int pkts = 0;
	int heads, r;

	vhostx_net_budget(&budget);
	do {
		r = vhostx_net_rx_peek_len(nvq, sock);
		if (r <= 0 && vq->busyloop_timeout) {
			/* Hand over what we have, then wait a little. */
			vhostx_net_flush(nvq);
			if (vhostx_net_busy_poll(nvq, true))
				r = vhostx_net_rx_peek_len(nvq, sock);
		}
		if (r <= 0) {
			/*
			 * Drained: signal the guest before re-arming the
			 * socket poll (the latency of the last packet), then
			 * sleep until the socket has more.
			 */
			vhostx_net_flush(nvq);
			vhostx_net_enable_poll(nvq);
			break;
		}
		sock_len = r + nvq->sock_hlen;
		vhost_len = sock_len + nvq->vhost_hlen;

		/* A jumbo mergeable packet may need the whole used array. */
		if (vhostx_net_complete_due(nvq))
			vhostx_net_flush(nvq);
		heads = vhostx_net_rx_get_bufs(nvq, vhost_len, mergeable,
					       &niov, &nlog, &walked);
		if (heads == -ENOSPC && nvq->done) {
			/* Maybe only our batch was in the way: retry empty. */
			vhostx_net_flush(nvq);
			heads = vhostx_net_rx_get_bufs(nvq, vhost_len,
						       mergeable, &niov, &nlog,
						       &walked);
		}
		if (heads == -ENOSPC) {
			/* Larger than any buffer chain the guest gave us. */
			vhostx_net_rx_discard(nvq, sock);
			nvq->stats.drops++;
			continue;
		}
		if (unlikely(heads < 0))
			break;
		if (!heads) {
			/* Out of buffers: wait for the guest to add some. */
			if (unlikely(vhostx_enable_notify(vq)))
				continue;
			break;
		}

		iov_iter_init(&msg.msg_iter, ITER_DEST, nvq->iov, niov,
			      vhost_len);
		if (nvq->vhost_hlen)
			iov_iter_advance(&msg.msg_iter, nvq->vhost_hlen);

		/* With a ring: this very packet (the socket frees it). */
		msg.msg_control = vhostx_net_rxq_take(nvq);
		r = sock->ops->recvmsg(sock, &msg, sock_len,
				       MSG_DONTWAIT | MSG_TRUNC);
		if (unlikely(r != sock_len)) {
			/*
			 * Someone else read the socket between peek and
			 * receive; the buffers may hold part of another
			 * packet, so hand them back unused.
			 */
			vhostx_unget(vq, heads);
			if (r > 0)
				nvq->stats.drops++;
			continue;
		}

		r = vhostx_net_rx_put_num_buffers(nvq, heads);
		if (r > 0)
			r = vhostx_net_rx_fix_header(nvq, niov, vhost_len,
						     heads);
		if (unlikely(r)) {
			vhostx_vq_err(vq, "RX header write failed");
			vhostx_unget(vq, heads);
			break;
		}

		if (unlikely(vhostx_logging(vq)))
			vhostx_log_write(vq, nvq->log, nlog, vhost_len);
		/*
		 * Completed: vhostx_net_rx_get_bufs() wrote the used entries
		 * in place (RX never takes the zero-copy in-order ring).
		 */
		nvq->done += heads;

		vq->stats.bytes += sock_len - nvq->sock_hlen;
		total += vhost_len;
		/*
		 * The budget: the packet weight, or four times as many
		 * buffers taken (given back or not).  A packet may take
		 * VHOSTX_NET_IOV_MAX one-byte buffers, each a chain through
		 * the whole table, even to be dropped.
		 */
	} while (likely(!vhostx_net_exceeds_weight(nvq, &budget,
						   max_t(int, ++pkts,
							 walked / 4),
						   total)));

	vhostx_net_flush(nvq);
}

static void vhostx_net_handle_rx(struct vhostx_net_vq *nvq)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct socket *sock;

	mutex_lock(&vq->mutex);
	sock = vhostx_vq_get_backend(vq);
	if (!sock)
		goto out;

	vhostx_disable_notify(vq);
	vhostx_net_disable_poll(nvq);
	vhostx_net_rx(nvq, sock);
out:
	mutex_unlock(&vq->mutex);
}

/**
 * vhostx_net_handle_rx_kick() - the guest added RX buffers
 * @work: the RX vq's kick work
 */
void vhostx_net_handle_rx_kick(struct vhostx_work *work)
{
	struct vhostx_vq *vq = container_of(work, struct vhostx_vq, poll.work);

	vhostx_net_handle_rx(to_net_vq(vq));
}

/**
 * vhostx_net_handle_rx_sock() - the RX socket has packets
 * @work: the RX vq's socket poll work
 */
void vhostx_net_handle_rx_sock(struct vhostx_work *work)
{
	struct vhostx_net_vq *nvq = container_of(work, struct vhostx_net_vq,
						 poll.work);

	vhostx_net_handle_rx(nvq);
}
