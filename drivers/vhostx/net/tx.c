// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net transmit: guest TX ring -> socket, copying (or, for large
 * packets with experimental_zcopytx, from guest pages: zerocopy.c).
 *
 * Each TX buffer is one packet: the virtio-net header (unless the socket
 * takes it, see vhostx_net_features_changed()) followed by the frame.  The
 * device never writes TX buffers, so used lengths are 0.
 */
#include <linux/if_tun.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "net.h"

static void vhostx_net_tx_flush_used(struct vhostx_net_vq *nvq)
{
	if (!nvq->done)
		return;
	vhostx_add_used_and_signal_n(&nvq->vq, nvq->used, nvq->done);
	nvq->done = 0;
}

/* More packets will follow soon: let the socket defer its wakeups. */
static bool vhostx_net_tx_more(struct vhostx_vq *vq, size_t total)
{
	return total < VHOSTX_NET_BYTE_WEIGHT && !vhostx_avail_empty(vq);
}

/* Return completed buffers: in order through the zero-copy ring, if used. */
static void vhostx_net_tx_complete(struct vhostx_net_vq *nvq)
{
	if (vhostx_net_zc_active(nvq))
		vhostx_net_zc_publish(nvq);
	vhostx_net_tx_flush_used(nvq);
}

static void vhostx_net_tx(struct vhostx_net_vq *nvq, struct socket *sock)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct msghdr msg = {
		.msg_flags = MSG_DONTWAIT,
	};
	struct tun_msg_ctl ctl;
	struct vhostx_buf buf;
	size_t len, total = 0;
	bool ordered, zc, retry;
	int pkts = 0;
	u16 slot = 0;
	int r;

	do {
		/* Zero-copy on, or its packets still out: keep guest order. */
		ordered = vhostx_net_zc_active(nvq);
		if (ordered) {
			vhostx_net_tx_flush_used(nvq);
			vhostx_net_zc_publish(nvq);
			/* A completion requeues us when a slot frees up. */
			if (vhostx_net_zc_full(nvq))
				break;
		} else if (nvq->done == VHOSTX_NET_BATCH) {
			vhostx_net_tx_flush_used(nvq);
		}

		r = vhostx_get_buf(vq, &buf, nvq->iov, VHOSTX_NET_IOV_MAX,
				   NULL, 0);
		if (unlikely(r < 0))
			break;
		if (!r) {
			/* Give the guest its buffers before spinning. */
			if (vq->busyloop_timeout) {
				vhostx_net_tx_complete(nvq);
				if (vhostx_net_busy_poll(nvq, false))
					continue;
			}
			if (unlikely(vhostx_enable_notify(vq))) {
				vhostx_disable_notify(vq);
				continue;
			}
			break;
		}

		if (unlikely(buf.in)) {
			vhostx_vq_err(vq, "TX buffer %u has %u writable descriptors\n",
				      buf.id, buf.in);
			vhostx_unget(vq, 1);
			break;
		}
		if (unlikely(buf.out_len <= nvq->vhost_hlen)) {
			vhostx_vq_err(vq, "TX buffer %u too short: %u bytes, header %zu\n",
				      buf.id, buf.out_len, nvq->vhost_hlen);
			vhostx_unget(vq, 1);
			break;
		}

		iov_iter_init(&msg.msg_iter, ITER_SOURCE, nvq->iov, buf.out,
			      buf.out_len);
		/* A header the socket does not want is dropped here. */
		iov_iter_advance(&msg.msg_iter, nvq->vhost_hlen);
		len = iov_iter_count(&msg.msg_iter);
		total += len;

		if (vhostx_net_tx_more(vq, total))
			msg.msg_flags |= MSG_MORE;
		else
			msg.msg_flags &= ~MSG_MORE;

		zc = false;
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		if (ordered) {
			zc = vhostx_net_zc_select(nvq, len);
			slot = vhostx_net_zc_add(nvq, &buf, zc, &msg, &ctl);
		}

		r = sock->ops->sendmsg(sock, &msg, len);
		retry = r == -EAGAIN || r == -ENOMEM || r == -ENOBUFS;
		if (ordered)
			vhostx_net_zc_sent(nvq, slot, zc, r, retry);
		if (unlikely(r < 0)) {
			if (retry) {
				/* Socket full: retry when it is writable. */
				vhostx_unget(vq, 1);
				vhostx_net_enable_poll(nvq);
				break;
			}
			/* Malformed for the socket (bad header, too long...). */
			vq->stats.drops++;
		} else {
			vq->stats.bytes += len > nvq->sock_hlen ?
					   len - nvq->sock_hlen : 0;
		}

		if (!ordered) {
			nvq->used[nvq->done].id = buf.id;
			nvq->used[nvq->done].len = 0;
			nvq->used[nvq->done].ndesc = buf.ndesc;
			nvq->done++;
		}
	} while (likely(!vhostx_exceeds_weight(vq, ++pkts, total)));

	vhostx_net_tx_complete(nvq);
}

static void vhostx_net_handle_tx(struct vhostx_net_vq *nvq)
{
	struct vhostx_vq *vq = &nvq->vq;
	struct socket *sock;

	mutex_lock(&vq->mutex);
	sock = vhostx_vq_get_backend(vq);
	if (!sock) {
		/* Zero-copy completions after a detach still return buffers. */
		if (vhostx_net_zc_active(nvq))
			vhostx_net_zc_publish(nvq);
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
