// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx_net: in-kernel virtio-net backend on the vhostx core.
 *
 * Each open of /dev/vhostx-net is one virtio-net queue pair (RX = vq 0,
 * TX = vq 1) whose packets go to and come from a tap, macvtap or raw
 * AF_PACKET socket given with VHOST_NET_SET_BACKEND.  The userspace ABI is
 * <linux/vhost.h>, the same as the kernel's vhost-net.
 *
 * This file: the misc device, open/release, fdinfo, the backend ops given
 * to the core.  The data path's module parameters live with their users:
 * the budget of a handler run in datapath.c, zero-copy in zerocopy.c.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio_net.h>

#include "net.h"

static long vhostx_net_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			     void __user *argp)
{
	struct vhost_vring_file backend;

	lockdep_assert_held(&dev->mutex);
	switch (cmd) {
	case VHOST_NET_SET_BACKEND:
		if (copy_from_user(&backend, argp, sizeof(backend)))
			return -EFAULT;
		return vhostx_net_set_backend(to_net(dev), backend.index,
					      backend.fd);
	default:
		return -ENOIOCTLCMD;
	}
}

/*
 * Who handles the virtio-net header: with VHOST_NET_F_VIRTIO_NET_HDR the
 * guest's buffers carry it but the socket does not (we strip it on TX and
 * write an empty one on RX); otherwise it passes through to the socket,
 * which must have been configured (TUNSETVNETHDRSZ) for the same size.
 * The core calls it with the device mutex held.
 */
static int vhostx_net_features_changed(struct vhostx_dev *dev, u64 features)
{
	struct vhostx_net *n = to_net(dev);
	size_t hdr_len, vhost_hlen, sock_hlen;
	int i;

	lockdep_assert_held(&dev->mutex);
	if (features & (BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			BIT_ULL(VIRTIO_F_VERSION_1)))
		hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	else
		hdr_len = sizeof(struct virtio_net_hdr);

	if (features & BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR)) {
		vhost_hlen = hdr_len;
		sock_hlen = 0;
	} else {
		vhost_hlen = 0;
		sock_hlen = hdr_len;
	}

	for (i = 0; i < VHOSTX_NET_VQ_MAX; i++) {
		struct vhostx_net_vq *nvq = &n->vqs[i];

		vhostx_vq_lock(&nvq->vq);
		nvq->vhost_hlen = vhost_hlen;
		nvq->sock_hlen = sock_hlen;
		mutex_unlock(&nvq->vq.mutex);
	}
	return 0;
}

/*
 * VHOST_RESET_OWNER: the backend's counters start again with the core's,
 * and, as after a new base, nothing of the rings before is kept.
 */
static void vhostx_net_ops_stop(struct vhostx_dev *dev)
{
	struct vhostx_net *n = to_net(dev);
	int i;

	vhostx_net_stop(n, false);
	for (i = 0; i < VHOSTX_NET_VQ_MAX; i++) {
		vhostx_vq_lock(&n->vqs[i].vq);
		vhostx_net_set_base(&n->vqs[i].vq);
		mutex_unlock(&n->vqs[i].vq.mutex);
		memset(&n->vqs[i].stats, 0, sizeof(n->vqs[i].stats));
	}
}

/* The backend's columns in debugfs and fdinfo, from net.h's tables. */
static const char *const vhostx_net_vq_stat_names[] = {
	VHOSTX_NET_VQ_STATS(VHOSTX_STAT_NAME, VHOSTX_STAT_NAME)
	VHOSTX_NET_VQ_STATE(VHOSTX_STATE_NAME)
};

static_assert(ARRAY_SIZE(vhostx_net_vq_stat_names) <=
	      VHOSTX_BACKEND_STATS_MAX);

static void vhostx_net_vq_stats_get(struct vhostx_vq *vq, u64 *v)
{
	struct vhostx_net_vq *nvq = to_net_vq(vq);
	const struct vhostx_net_vq_stats *s = &nvq->stats;

	VHOSTX_NET_VQ_STATS(VHOSTX_STAT_GET_U64, VHOSTX_STAT_GET_ATOMIC)
	VHOSTX_NET_VQ_STATE(VHOSTX_STATE_GET)
}

static const struct vhostx_stats_table vhostx_net_vq_stats = {
	.names = vhostx_net_vq_stat_names,
	.n = ARRAY_SIZE(vhostx_net_vq_stat_names),
	.get = vhostx_net_vq_stats_get,
};

/*
 * No .weight: the handlers' budget is the weight and byte_weight
 * parameters (datapath.c), writable at run time.
 */
static const struct vhostx_backend_ops vhostx_net_ops = {
	.name = "net",
	.features = VHOSTX_CORE_FEATURES |
		    BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR) |
		    BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
		    BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
		    BIT_ULL(VIRTIO_F_RING_PACKED) |
		    BIT_ULL(VIRTIO_F_RING_RESET),
	.backend_features = BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2),
	.ioctl = vhostx_net_ioctl,
	.features_changed = vhostx_net_features_changed,
	.set_base = vhostx_net_set_base,
	.stop = vhostx_net_ops_stop,
	.vq_stats = &vhostx_net_vq_stats,
};

static int vhostx_net_open(struct inode *inode, struct file *f)
{
	struct vhostx_vq **vqs;
	struct vhostx_net *n;
	int r;

	n = kvzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL);
	if (!n)
		return -ENOMEM;
	n->vqs[VHOSTX_NET_VQ_TX].zc =
		vhostx_net_zc_alloc(&n->vqs[VHOSTX_NET_VQ_TX]);
	if (!n->vqs[VHOSTX_NET_VQ_TX].zc) {
		r = -ENOMEM;
		goto err_free;
	}

	vqs = n->vq_ptrs;
	n->vqs[VHOSTX_NET_VQ_RX].vq.handle_kick = vhostx_net_handle_rx_kick;
	n->vqs[VHOSTX_NET_VQ_TX].vq.handle_kick = vhostx_net_handle_tx_kick;
	vqs[VHOSTX_NET_VQ_RX] = &n->vqs[VHOSTX_NET_VQ_RX].vq;
	vqs[VHOSTX_NET_VQ_TX] = &n->vqs[VHOSTX_NET_VQ_TX].vq;

	r = vhostx_dev_init(&n->dev, vqs, VHOSTX_NET_VQ_MAX, &vhostx_net_ops);
	if (r)
		goto err_free;

	vhostx_poll_init(&n->vqs[VHOSTX_NET_VQ_RX].poll,
			 vhostx_net_handle_rx_sock, EPOLLIN, vqs[VHOSTX_NET_VQ_RX]);
	vhostx_poll_init(&n->vqs[VHOSTX_NET_VQ_TX].poll,
			 vhostx_net_handle_tx_sock, EPOLLOUT, vqs[VHOSTX_NET_VQ_TX]);

	f->private_data = &n->dev;
	return 0;

err_free:
	kvfree(n->vqs[VHOSTX_NET_VQ_TX].zc);
	kvfree(n);
	return r;
}

static int vhostx_net_release(struct inode *inode, struct file *f)
{
	struct vhostx_dev *dev = f->private_data;
	struct vhostx_net *n = to_net(dev);

	vhostx_net_stop(n, true);
	vhostx_dev_cleanup(dev);
	vhostx_net_tx_cleanup(&n->vqs[VHOSTX_NET_VQ_TX]);
	/*
	 * Frees the zero-copy state, or leaves it to the packets still in
	 * flight; either way no completion reads the queue after it.
	 */
	vhostx_net_zc_give_up(&n->vqs[VHOSTX_NET_VQ_TX], false);
	kvfree(n);
	return 0;
}

static const struct file_operations vhostx_net_fops =
	VHOSTX_FILE_OPERATIONS(vhostx_net_open, vhostx_net_release);

static struct miscdevice vhostx_net_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vhostx-net",
	.fops = &vhostx_net_fops,
};

module_misc_device(vhostx_net_misc);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vhostx developers");
MODULE_DESCRIPTION("vhostx virtio-net backend (tap, macvtap, AF_PACKET)");
MODULE_VERSION(VHOSTX_VERSION);
