// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net transmit: guest TX ring -> socket, copying (or, for large
 * packets while experimental_zcopytx is on, the default, from guest pages:
 * zerocopy.c).
 *
 * Each TX buffer is one packet: the virtio-net header (unless the socket
 * takes it, see vhostx_net_features_changed()) followed by the frame.  The
 * device never writes TX buffers, so used lengths are 0.
 */
#include <linux/if_tun.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/virtio_net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "net.h"

/*
 * TX batching (tun and tap): small packets are copied into page fragments
 * laid out the way tun/tap's TUN_MSG_PTR expects (the virtio-net header at
 * the start, in 6.1 inside a struct tun_xdp_hdr with the buffer length:
 * see net_compat.h; padding; then the frame) and handed over up to
 * VHOSTX_NET_BATCH at a time in one sendmsg(), instead of one sendmsg()
 * and one skb allocation path each.
 */
#ifdef VHOSTX_TUN_XDP_BATCH
/* Only tun/tap take TUN_MSG_PTR; like vhost-net, only with no sndbuf limit. */
static bool vhostx_net_tx_can_batch(struct socket *sock)
{
	return sock->sk->sk_family != AF_PACKET &&
	       READ_ONCE(sock->sk->sk_sndbuf) == INT_MAX;
}

/* Send the packets built so far; a failed batch counts as dropped. */
static void vhostx_net_tx_send_batch(struct vhostx_net_vq *nvq,
				     struct socket *sock)
{
	struct tun_msg_ctl ctl = {
		.type = TUN_MSG_PTR,
		.num = nvq->batched_xdp,
		.ptr = nvq->xdp,
	};
	struct msghdr msg = {
		.msg_control = &ctl,
		.msg_controllen = sizeof(ctl),
		.msg_flags = MSG_DONTWAIT,
	};
	unsigned int i;
	int r;

	if (!nvq->batched_xdp)
		return;
	r = sock->ops->sendmsg(sock, &msg, 0);
	if (unlikely(r < 0)) {
		/* Nothing was taken: free the buffers ourselves. */
		for (i = 0; i < nvq->batched_xdp; i++)
			page_frag_free(nvq->xdp[i].data_hard_start);
		nvq->stats.drops += nvq->batched_xdp;
	}
	nvq->batched_xdp = 0;
}

/*
 * Copy one packet (socket header + frame in @from) into the batch.
 * Return: 0, -ENOSPC if it does not fit a page (send it the normal way),
 * or another errno (nothing queued; @from partly consumed).
 */
static int vhostx_net_tx_build_xdp(struct vhostx_net_vq *nvq,
				   struct socket *sock, struct iov_iter *from)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct xdp_buff *xdp = &nvq->xdp[nvq->batched_xdp];
	size_t hlen = nvq->sock_hlen, len = iov_iter_count(from);
	int headroom = sock_flag(sock->sk, SOCK_XDP) ? XDP_PACKET_HEADROOM : 0;
	size_t pad, buflen;
	struct virtio_net_hdr *gso;
	u16 csum_end;
	void *buf, *hdr;

	if (unlikely(len < hlen))
		return -EINVAL;
	/* Header at the start of the headroom, frame at @pad. */
	pad = SKB_DATA_ALIGN(NET_SKB_PAD + NET_IP_ALIGN + headroom + hlen +
			     VHOSTX_TUN_XDP_HDR_ROOM);
	/* In size_t: a frame of nearly 4 GiB must not wrap to a small size. */
	buflen = SKB_DATA_ALIGN(len - hlen + pad) +
		 SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	if (buflen > PAGE_SIZE)
		return -ENOSPC;

	buf = page_frag_alloc(&nvq->frag, buflen, GFP_KERNEL);
	if (unlikely(!buf))
		return -ENOMEM;
	/* Zeroed: no header from the guest (VHOST_NET_F_VIRTIO_NET_HDR). */
	hdr = vhostx_tun_xdp_hdr_init(buf, pad);
	/*
	 * One copy from the guest, the header landing in the padding just
	 * before the frame: each copy of a run-time length pays the
	 * usercopy checks, more than a 12-byte header costs.  Then the
	 * header moves to where tun reads it (a 12-byte one runs 2 bytes
	 * into the padding, unused by tun).
	 */
	if (copy_from_iter((u8 *)buf + pad - hlen, len, from) != len)
		goto err_fault;
	memcpy(hdr, (u8 *)buf + pad - hlen, hlen);
	gso = hdr;

	/* The checksum must lie within the header tun copies (as tun does). */
	if (gso->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		csum_end = vhostx16_to_cpu(vq, gso->csum_start) +
			   vhostx16_to_cpu(vq, gso->csum_offset) + 2;
		if (csum_end > vhostx16_to_cpu(vq, gso->hdr_len))
			gso->hdr_len = cpu_to_vhostx16(vq, csum_end);
		if (vhostx16_to_cpu(vq, gso->hdr_len) > len)
			goto err_inval;
	}

	len -= hlen;
	xdp_init_buff(xdp, buflen, NULL);
	xdp_prepare_buff(xdp, buf, pad, len, true);
	vhostx_tun_xdp_set_len(buf, buflen);
	nvq->batched_xdp++;
	return 0;

err_inval:
	page_frag_free(buf);
	return -EINVAL;
err_fault:
	page_frag_free(buf);
	return -EFAULT;
}

/**
 * vhostx_net_tx_cleanup() - free the TX batch memory
 * @nvq: the TX queue, stopped
 */
void vhostx_net_tx_cleanup(struct vhostx_net_vq *nvq)
{
	vhostx_page_frag_cache_drain(&nvq->frag);
}
#else
static bool vhostx_net_tx_can_batch(struct socket *sock)
{
	return false;
}

static void vhostx_net_tx_send_batch(struct vhostx_net_vq *nvq,
				     struct socket *sock)
{
}

static int vhostx_net_tx_build_xdp(struct vhostx_net_vq *nvq,
				   struct socket *sock, struct iov_iter *from)
{
	return -ENOSPC;
}

void vhostx_net_tx_cleanup(struct vhostx_net_vq *nvq)
{
}
#endif

/*
 * More packets will follow soon (in this run: @total is below its byte
 * budget): let the socket defer its wakeups.
 */
static bool vhostx_net_tx_more(struct vhostx_vq *vq, size_t total,
			       int byte_weight)
{
	return total < (size_t)byte_weight && !vhostx_avail_empty(vq);
}

/* Send what is batched, then return completed buffers to the guest. */
static void vhostx_net_tx_flush(struct vhostx_net_vq *nvq, struct socket *sock)
{
	vhostx_net_tx_send_batch(nvq, sock);
	vhostx_net_flush(nvq);
}

/*
 * Send one packet alone (after what is batched, in guest order), without
 * copying if @zc.  Return: sendmsg()'s result; *@retry when the socket
 * is full and the buffer must be sent again later.
 */
static int vhostx_net_tx_send(struct vhostx_net_vq *nvq, struct socket *sock,
			      struct msghdr *msg, const struct vhostx_buf *buf,
			      size_t len, bool more, bool zc, bool *retry)
{
	struct tun_msg_ctl ctl;
	u16 slot = 0;
	int r;

	vhostx_net_tx_send_batch(nvq, sock);

	if (more)
		msg->msg_flags |= MSG_MORE;
	else
		msg->msg_flags &= ~MSG_MORE;

	msg->msg_control = NULL;
	msg->msg_controllen = 0;
	if (zc)
		slot = vhostx_net_zc_add(nvq, buf, msg, &ctl);

	r = sock->ops->sendmsg(sock, msg, len);
	/*
	 * A packet socket's ENOBUFS is its qdisc dropping the frame: gone,
	 * and the socket stays writable, so a retry would spin.
	 */
	*retry = r == -EAGAIN || r == -ENOMEM ||
		 (r == -ENOBUFS && sock->sk->sk_family != AF_PACKET);
	if (zc)
		vhostx_net_zc_sent(nvq, slot, r, *retry);
	return r;
}

static void vhostx_net_tx(struct vhostx_net_vq *nvq, struct socket *sock)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct msghdr msg = {
		.msg_flags = MSG_DONTWAIT,
	};
	struct vhostx_net_budget budget;
	struct vhostx_buf buf;
	size_t len, total = 0;
	bool batch = vhostx_net_tx_can_batch(sock);
	bool zc, retry;
	struct iov_iter saved;
	int pkts = 0;
	int r;

	vhostx_net_budget(&budget);
	do {
		/*
		 * Return finished buffers a batch at a time (one used index
		 * write and one signal check), not one by one; what they
		 * carried goes to the socket first.  In order, every batched
		 * packet holds a slot, so the batch never outgrows
		 * VHOSTX_NET_BATCH.
		 */
		if (vhostx_net_complete_due(nvq))
			vhostx_net_tx_flush(nvq, sock);
		/* In-order ring full: a completion requeues us. */
		if (!vhostx_net_complete_room(nvq))
			break;

		r = vhostx_get_buf(vq, &buf, nvq->iov, VHOSTX_NET_IOV_MAX,
				   NULL, 0);
		if (unlikely(r < 0))
			break;
		if (!r) {
			/*
			 * Ring empty: send what is batched and give the guest
			 * its buffers now, not after the spin or the re-arming
			 * (the latency of the last packet of a run).
			 */
			vhostx_net_tx_flush(nvq, sock);
			if (vq->busyloop_timeout &&
			    vhostx_net_busy_poll(nvq, false))
				continue;
			if (unlikely(vhostx_enable_notify(vq)))
				continue;
			break;
		}

		if (unlikely(buf.in)) {
			vhostx_vq_err(vq, "TX buffer %u has %u writable descriptors",
				      buf.id, buf.in);
			vhostx_unget(vq, 1);
			break;
		}
		if (unlikely(buf.out_len <= nvq->vhost_hlen)) {
			vhostx_vq_err(vq, "TX buffer %u too short: %u bytes, header %zu",
				      buf.id, buf.out_len, nvq->vhost_hlen);
			vhostx_unget(vq, 1);
			break;
		}

		iov_iter_init(&msg.msg_iter, ITER_SOURCE, nvq->iov, buf.out,
			      buf.out_len);
		/* A header the socket does not want is dropped here. */
		iov_iter_advance(&msg.msg_iter, nvq->vhost_hlen);
		len = iov_iter_count(&msg.msg_iter);
		if (unlikely(len > nvq->sock_hlen + VHOSTX_NET_TX_MAX_FRAME)) {
			/*
			 * No socket takes it (tun/tap: EMSGSIZE): dropped
			 * before any copy, as vhost-net drops what the socket
			 * refuses, and the buffer goes back to the guest.
			 */
			nvq->stats.drops++;
			goto done;
		}
		total += len;

		/*
		 * Copied packets are batched, zero-copy or not; short ones
		 * (most) are told apart without a call.
		 */
		zc = nvq->zcopy && len >= nvq->zc_min_len &&
		     vhostx_net_zc_room(nvq);
		if (zc && nvq->done) {
			/*
			 * Buffers completed directly came first: what they
			 * carried goes to the socket, then they go back before
			 * the in-order ring takes over (never both at once).
			 * If that stopped the queue, nothing more is sent.
			 */
			vhostx_net_tx_send_batch(nvq, sock);
			vhostx_net_flush(nvq);
			if (unlikely(vq->broken)) {
				vhostx_unget(vq, 1);
				break;
			}
		}
		if (batch && !zc) {
			saved = msg.msg_iter;
			r = vhostx_net_tx_build_xdp(nvq, sock, &msg.msg_iter);
			if (!r) {
				vq->stats.bytes += len - nvq->sock_hlen;
				nvq->stats.batched++;
				goto done;
			}
			msg.msg_iter = saved;
		}

		r = vhostx_net_tx_send(nvq, sock, &msg, &buf, len,
				       vhostx_net_tx_more(vq, total,
							  budget.bytes),
				       zc, &retry);
		if (unlikely(r < 0)) {
			if (retry) {
				/* Socket full: retry when it is writable. */
				vhostx_unget(vq, 1);
				vhostx_net_enable_poll(nvq);
				break;
			}
			/* Refused (bad header, too long, dropped...). */
			nvq->stats.drops++;
		} else {
			vq->stats.bytes += len > nvq->sock_hlen ?
					   len - nvq->sock_hlen : 0;
		}
		/* Its slot was committed when sendmsg() returned. */
		if (zc)
			continue;
done:
		vhostx_net_complete(nvq, &buf, 0);
	} while (likely(!vhostx_net_exceeds_weight(nvq, &budget, ++pkts,
						   total)));

	vhostx_net_tx_flush(nvq, sock);
}

static void vhostx_net_handle_tx(struct vhostx_net_vq *nvq)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct socket *sock;

	mutex_lock(&vq->mutex);
	sock = vhostx_vq_get_backend(vq);
	if (!sock) {
		/* Zero-copy completions after a detach still return buffers. */
		vhostx_net_flush(nvq);
		goto out;
	}

	vhostx_disable_notify(vq);
	/* Only wait for the socket to drain when it told us it is full. */
	vhostx_net_disable_poll(nvq);
	vhostx_net_tx(nvq, sock);
out:
	mutex_unlock(&vq->mutex);
}

/**
 * vhostx_net_handle_tx_kick() - the guest added TX buffers
 * @work: the TX vq's kick work
 */
void vhostx_net_handle_tx_kick(struct vhostx_work *work)
{
	struct vhostx_vq *vq = container_of(work, struct vhostx_vq, poll.work);

	vhostx_net_handle_tx(to_net_vq(vq));
}

/**
 * vhostx_net_handle_tx_sock() - the TX socket became writable
 * @work: the TX vq's socket poll work
 */
void vhostx_net_handle_tx_sock(struct vhostx_work *work)
{
	struct vhostx_net_vq *nvq = container_of(work, struct vhostx_net_vq,
						 poll.work);

	vhostx_net_handle_tx(nvq);
}
