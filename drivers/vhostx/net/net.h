/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostx_net internals: the device and virtqueue structures shared by the
 * device glue (net.c), backend attach (backend.c) and the data paths
 * (tx.c, rx.c).
 */
#ifndef _VHOSTX_NET_H
#define _VHOSTX_NET_H

#include <linux/net.h>
#include <linux/types.h>
#include <vhostx/vhostx.h>

#include "net_compat.h"

enum {
	VHOSTX_NET_VQ_RX = 0,
	VHOSTX_NET_VQ_TX = 1,
	VHOSTX_NET_VQ_MAX = 2,
};

/* Used entries collected before they are published to the guest. */
#define VHOSTX_NET_BATCH	64
/* Upper bound of iovecs (and so of buffers) one packet may span. */
#define VHOSTX_NET_IOV_MAX	VHOSTX_IOV_MAX
/* Default budgets of one handler run (as vhost-net). */
#define VHOSTX_NET_PKT_WEIGHT	256
#define VHOSTX_NET_BYTE_WEIGHT	0x80000
/*
 * Longest busy-poll spin, whatever the VMM asked: the spin holds the vq
 * mutex, so it also bounds how long an ioctl or a detach waits for it.
 */
#define VHOSTX_NET_BUSYLOOP_MAX_US	10000

/**
 * struct vhostx_net_vq - a network virtqueue
 * @vq: the core's virtqueue; private_data is the attached struct socket
 * @poll: readiness of the attached socket (EPOLLIN for RX, EPOLLOUT for TX)
 * @vhost_hlen: virtio-net header bytes the device adds (RX) or strips (TX)
 * @sock_hlen: virtio-net header bytes the socket expects
 * @done: used entries collected in @used, not yet published
 * @iov: scratch iovecs for the descriptor chains of one packet
 * @used: scratch used entries
 * @log: scratch dirty-log entries (RX only)
 *
 * Everything but @vq and @poll is protected by @vq.mutex.
 */
struct vhostx_net_vq {
	struct vhostx_vq vq;
	struct vhostx_poll poll;
	size_t vhost_hlen;
	size_t sock_hlen;
	unsigned int done;
	struct iovec iov[VHOSTX_NET_IOV_MAX];
	struct vhostx_used used[VHOSTX_NET_IOV_MAX];
	struct vhostx_log log[VHOSTX_NET_IOV_MAX];
};

/**
 * struct vhostx_net - one open /dev/vhostx-net
 * @dev: the core device
 * @vqs: RX and TX virtqueues, indexed by VHOSTX_NET_VQ_*
 * @vq_ptrs: the core's view of @vqs (it keeps the array)
 */
struct vhostx_net {
	struct vhostx_dev dev;
	struct vhostx_net_vq vqs[VHOSTX_NET_VQ_MAX];
	struct vhostx_vq *vq_ptrs[VHOSTX_NET_VQ_MAX];
};

static inline struct vhostx_net_vq *to_net_vq(struct vhostx_vq *vq)
{
	return container_of(vq, struct vhostx_net_vq, vq);
}

static inline struct vhostx_net *to_net(struct vhostx_dev *dev)
{
	return container_of(dev, struct vhostx_net, dev);
}

/* backend.c */
long vhostx_net_set_backend(struct vhostx_net *n, unsigned int index, int fd);
void vhostx_net_stop(struct vhostx_net *n);
int vhostx_net_enable_poll(struct vhostx_net_vq *nvq);
void vhostx_net_disable_poll(struct vhostx_net_vq *nvq);

/* busypoll.c */
bool vhostx_net_sock_has_data(struct socket *sock);
bool vhostx_net_busy_poll(struct vhostx_net_vq *nvq, bool rx);

/* tx.c */
void vhostx_net_handle_tx_kick(struct vhostx_work *work);
void vhostx_net_handle_tx_sock(struct vhostx_work *work);

/* rx.c */
void vhostx_net_handle_rx_kick(struct vhostx_work *work);
void vhostx_net_handle_rx_sock(struct vhostx_work *work);

/* net.c: module parameters */
extern bool vhostx_net_zcopytx;

#endif /* _VHOSTX_NET_H */
