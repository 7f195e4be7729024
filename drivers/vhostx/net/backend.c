// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net: attaching and detaching the socket behind each virtqueue
 * (VHOST_NET_SET_BACKEND), and stopping all I/O.
 */
#include <linux/file.h>
#include <linux/if_packet.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/net.h>
#include <net/sock.h>

#include "net.h"

/*
 * A raw AF_PACKET socket.  Both the family and the type are checked: a
 * socket of another family handed to us would otherwise be driven through
 * ops it does not implement the way we assume (CVE-2020-10942 class).
 */
static struct socket *vhostx_net_raw_socket(int fd)
{
	struct socket *sock;
	int r;

	sock = sockfd_lookup(fd, &r);
	if (!sock)
		return ERR_PTR(-ENOTSOCK);

	if (!sock->sk || sock->sk->sk_family != AF_PACKET) {
		r = -EPFNOSUPPORT;
		goto err_put;
	}
	if (sock->sk->sk_type != SOCK_RAW) {
		r = -ESOCKTNOSUPPORT;
		goto err_put;
	}
	return sock;

err_put:
	sockfd_put(sock);
	return ERR_PTR(r);
}

/* A tun/tap file or a macvtap/ipvtap file.  Holds a reference on the file. */
static struct socket *vhostx_net_tap_socket(int fd)
{
	struct socket *sock;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);

	sock = tun_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	sock = tap_get_socket(file);
	if (!IS_ERR(sock))
		return sock;

	fput(file);
	return ERR_PTR(-ENOTSOCK);
}

/*
 * The socket behind @fd with a reference on its file (dropped with
 * sockfd_put()), NULL for fd -1, or ERR_PTR(-ENOTSOCK) for anything that
 * is neither tun/tap, macvtap nor a raw packet socket.
 */
static struct socket *vhostx_net_get_socket(int fd)
{
	struct socket *sock;

	if (fd == -1)
		return NULL;

	sock = vhostx_net_raw_socket(fd);
	if (!IS_ERR(sock))
		return sock;

	sock = vhostx_net_tap_socket(fd);
	if (!IS_ERR(sock))
		return sock;
	/* Like vhost-net: one errno for every unusable descriptor. */
	return ERR_PTR(-ENOTSOCK);
}

/* Detach the socket of one vq; returns it (or NULL) for the caller to put. */
static struct socket *vhostx_net_stop_vq(struct vhostx_net_vq *nvq)
{
	struct socket *sock;

	vhostx_vq_lock(&nvq->vq);
	sock = vhostx_vq_get_backend(&nvq->vq);
	vhostx_net_disable_poll(nvq);
	if (sock)
		vhostx_vq_stop(&nvq->vq);
	nvq->done = 0;
	nvq->zcopy = false;
	vhostx_net_rx_unproduce(nvq);
	nvq->rx_ring = NULL;
	mutex_unlock(&nvq->vq.mutex);
	return sock;
}

/*
 * Wait for the zero-copy packets of a TX queue that has no socket any
 * more, then return their buffers to the guest (in order), so that the
 * used ring is complete when the detach returns (a VMM reads the ring
 * state next).  Without @wait, or when a fatal signal ends the wait, the
 * packets still in flight are left to their completions and their buffers
 * are not returned (vhostx_net_zc_give_up(), the queue gets new state if
 * @renew): -EINTR.
 */
static int vhostx_net_zc_drain(struct vhostx_net_vq *nvq, bool wait,
			       bool renew)
{
	if (!wait || vhostx_net_zc_wait(nvq)) {
		vhostx_net_zc_give_up(nvq, renew);
		return -EINTR;
	}
	vhostx_vq_lock(&nvq->vq);
	vhostx_net_flush(nvq);
	mutex_unlock(&nvq->vq.mutex);
	return 0;
}

/**
 * vhostx_net_stop() - detach both sockets and wait for running I/O
 * @n: the device; called with no lock held but the device mutex (reset
 *	owner) or on release
 * @releasing: the file is being released: the queues go away after this
 *
 * After this no handler touches a socket, the socket references are
 * dropped and no zero-copy packet is in flight on the TX queue's current
 * state: the wait for them is killable, and is skipped on a release by an
 * exiting task (a killed VMM, whose SIGKILL is no longer pending there) or
 * a kernel thread (the file's last reference dropped elsewhere): the
 * packets are then left to their completions (vhostx_net_zc_give_up()).
 */
void vhostx_net_stop(struct vhostx_net *n, bool releasing)
{
	struct socket *sock[VHOSTX_NET_VQ_MAX];
	bool wait = !releasing ||
		    !(current->flags & (PF_EXITING | PF_KTHREAD));
	int i;

	for (i = 0; i < VHOSTX_NET_VQ_MAX; i++)
		sock[i] = vhostx_net_stop_vq(&n->vqs[i]);

	/* Before the flush: a completion may still queue the handler. */
	vhostx_net_zc_drain(&n->vqs[VHOSTX_NET_VQ_TX], wait, !releasing);

	for (i = 0; i < VHOSTX_NET_VQ_MAX; i++) {
		vhostx_vq_flush(&n->vqs[i].vq);
		if (sock[i])
			sockfd_put(sock[i]);
	}
}

/**
 * vhostx_net_set_backend() - VHOST_NET_SET_BACKEND
 * @n: the device; dev->mutex held, caller is the owner
 * @index: virtqueue (0 RX, 1 TX)
 * @fd: tap/macvtap/AF_PACKET socket to attach, or -1 to detach
 *
 * Replacing a socket while packets flow is safe: the handler sees either
 * the old or the new socket under the vq mutex, and the old one is only
 * released after the vq's worker has been flushed.
 *
 * Return: 0 or a negative errno (-EINTR: a fatal signal ended a TX
 * detach's wait for its zero-copy packets; detached all the same).
 */
long vhostx_net_set_backend(struct vhostx_net *n, unsigned int index, int fd)
{
	struct socket *sock, *oldsock;
	struct vhostx_net_vq *nvq;
	struct vhostx_vq *vq;
	bool detached;
	long r = 0;

	lockdep_assert_held(&n->dev.mutex);
	if (index >= VHOSTX_NET_VQ_MAX)
		return -ENOBUFS;
	nvq = &n->vqs[index];
	vq = &nvq->vq;

	sock = vhostx_net_get_socket(fd);
	if (IS_ERR(sock))
		return PTR_ERR(sock);

	vhostx_vq_lock(vq);
	oldsock = vhostx_vq_get_backend(vq);
	if (sock == oldsock) {
		/* Nothing changes; drop the extra reference below. */
		mutex_unlock(&vq->mutex);
		goto out_put_old;
	}

	if (sock && !vhostx_vq_access_ok(vq)) {
		r = -EFAULT;
		goto out_vq;
	}

	vhostx_net_disable_poll(nvq);
	nvq->done = 0;
	/* Batched packets go back to the socket they came from. */
	vhostx_net_rx_unproduce(nvq);
	nvq->rx_ring = NULL;
	if (sock) {
		r = vhostx_vq_start(vq, sock);
		if (r)
			goto out_restore;
		r = vhostx_net_enable_poll(nvq);
		if (r) {
			vhostx_vq_stop(vq);
			goto out_restore;
		}
		nvq->zcopy = index == VHOSTX_NET_VQ_TX && nvq->zc &&
			     vhostx_net_zc_supported(sock);
		nvq->zc_min_len = READ_ONCE(vhostx_net_zcopy_min_len);
		if (index == VHOSTX_NET_VQ_RX)
			nvq->rx_ring = vhostx_net_rx_ring(sock);
	} else {
		vhostx_vq_stop(vq);
		nvq->zcopy = false;
	}
	mutex_unlock(&vq->mutex);

	/*
	 * Detached: the guest gets every buffer back before we return, or,
	 * if a fatal signal ends the wait, the VMM dies with the packets
	 * still in flight (-EINTR, which it does not see).
	 */
	if (!sock && index == VHOSTX_NET_VQ_TX)
		r = vhostx_net_zc_drain(nvq, true, true);

	/* Packets may already be waiting on the new socket or in the ring. */
	if (sock)
		vhostx_poll_queue(&vq->poll);

out_put_old:
	if (oldsock) {
		vhostx_vq_flush(vq);
		sockfd_put(oldsock);
	}
	return r;

out_restore:
	/* Keep the old socket attached, as if the call never happened. */
	if (oldsock && !vhostx_vq_start(vq, oldsock)) {
		vhostx_net_enable_poll(nvq);
		nvq->zcopy = index == VHOSTX_NET_VQ_TX && nvq->zc &&
			     vhostx_net_zc_supported(oldsock);
		if (index == VHOSTX_NET_VQ_RX)
			nvq->rx_ring = vhostx_net_rx_ring(oldsock);
		oldsock = NULL;
	} else {
		vhostx_vq_stop(vq);
		nvq->zcopy = false;
	}
out_vq:
	detached = !vhostx_vq_get_backend(vq);
	mutex_unlock(&vq->mutex);
	/*
	 * Left without a socket (the old one could not restart, or there
	 * was none): as after a detach, nothing stays in flight.
	 */
	if (detached && index == VHOSTX_NET_VQ_TX)
		vhostx_net_zc_drain(nvq, true, true);
	if (sock)
		sockfd_put(sock);
	if (oldsock && detached) {
		/* Could not restart the old socket: it is detached now. */
		vhostx_vq_flush(vq);
		sockfd_put(oldsock);
	}
	return r;
}

/**
 * vhostx_net_set_base() - a queue without a socket got a new base
 * @vq: the RX or TX queue; vq->mutex held (VHOST_SET_VRING_BASE)
 *
 * The VMM resets the ring (VIRTIO_F_RING_RESET) or restores it: the TX
 * buffers whose used entries could not be written before (the queue was
 * stopped or broken when their packets completed) belong to the ring
 * before it; writing them into the new one would hand the driver ids it
 * never made available there.  Dropped.  No packet is in flight: every
 * path that leaves the TX queue without a socket waited for them.
 */
void vhostx_net_set_base(struct vhostx_vq *vq)
{
	struct vhostx_net_vq *nvq = to_net_vq(vq);

	lockdep_assert_held(&vq->mutex);
	nvq->done = 0;
	if (vhostx_vq_get_backend(vq) ||
	    (nvq->zc && atomic_read(&nvq->zc->pending)))
		return;
	WRITE_ONCE(nvq->zc_done, nvq->zc_upend);
}
