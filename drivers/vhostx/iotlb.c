// SPDX-License-Identifier: GPL-2.0
/*
 * The device IOTLB (VIRTIO_F_ACCESS_PLATFORM): its mappings as userspace
 * updates them, and its messages with userspace.
 *
 * Userspace writes VHOST_IOTLB_UPDATE and VHOST_IOTLB_INVALIDATE messages
 * to the device file (vhostx_fops_write_iter()); they change the device's
 * IOTLB tree, which mem.c translates through.  A translation that misses
 * calls vhostx_iotlb_miss(), which queues one VHOST_IOTLB_MISS message per
 * virtqueue on dev->read_list for userspace to read
 * (vhostx_fops_read_iter(), vhostx_fops_poll()).  A message read moves to
 * dev->pending_list until an update covers it, which requeues the
 * virtqueue's kick work.
 */
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

static unsigned int vhostx_max_iotlb_entries = 2048;
module_param_named(max_iotlb_entries, vhostx_max_iotlb_entries, uint, 0444);
MODULE_PARM_DESC(max_iotlb_entries,
		 "Most cached IOTLB entries per device; the oldest is evicted (default 2048)");

/* A message for userspace (IOTLB miss), kept until an update covers it. */
struct vhostx_msg_node {
	struct list_head node;
	struct vhostx_vq *vq;
	struct vhost_iotlb_msg msg;
};

/* The message of @vq on either list, if any; dev->iotlb_lock held. */
static struct vhostx_msg_node *vhostx_msg_find(struct vhostx_dev *dev,
						struct vhostx_vq *vq)
{
	struct vhostx_msg_node *n;

	lockdep_assert_held(&dev->iotlb_lock);
	list_for_each_entry(n, &dev->read_list, node)
		if (n->vq == vq)
			return n;
	list_for_each_entry(n, &dev->pending_list, node)
		if (n->vq == vq)
			return n;
	return NULL;
}

/**
 * vhostx_iotlb_miss() - tell userspace a translation missed
 * @vq: the virtqueue that missed; vq->mutex held
 * @iova: the address it missed
 * @perm: the access it wanted (VHOST_MAP_RO, _WO or _RW)
 *
 * A vq has at most one message, so a guest cannot flood userspace: a miss
 * already reported (read or not) is not sent again, but a miss at another
 * address or for another access replaces it and goes to the back of the
 * read list.  Otherwise a guest that once posted an address the VMM
 * cannot resolve would leave the queue deaf to every later miss.  Without
 * memory for the message nothing is sent; the caller's -EAGAIN stands and
 * the next translation tries again.
 */
void vhostx_iotlb_miss(struct vhostx_vq *vq, u64 iova, u32 perm)
{
	struct vhostx_dev *dev = vq->dev;
	struct vhostx_msg_node *node, *new = NULL;

	lockdep_assert_held(&vq->mutex);
	for (;;) {
		spin_lock(&dev->iotlb_lock);
		node = vhostx_msg_find(dev, vq);
		if (node || new)
			break;
		spin_unlock(&dev->iotlb_lock);
		/* Only this vq (its mutex is held) adds its message. */
		new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
		if (!new)
			return;
		INIT_LIST_HEAD(&new->node);
		new->vq = vq;
		new->msg.type = VHOST_IOTLB_MISS;
	}
	if (!node) {
		node = new;
		new = NULL;
	} else if (node->msg.iova == iova && node->msg.perm == perm) {
		spin_unlock(&dev->iotlb_lock);
		kfree(new);
		return;
	}
	node->msg.iova = iova;
	node->msg.perm = perm;
	list_move_tail(&node->node, &dev->read_list);
	spin_unlock(&dev->iotlb_lock);
	kfree(new);
	vq->stats.iotlb_misses++;
	wake_up_interruptible_poll(&dev->wait, EPOLLIN | EPOLLRDNORM);
}

/**
 * vhostx_iotlb_forget() - drop a vq's IOTLB message
 * @vq: the virtqueue, (re)starting; vq->mutex held
 *
 * The next miss of a restarted ring is reported even if it is the same
 * as one userspace read and never answered.
 */
void vhostx_iotlb_forget(struct vhostx_vq *vq)
{
	struct vhostx_dev *dev = vq->dev;
	struct vhostx_msg_node *node;

	lockdep_assert_held(&vq->mutex);
	spin_lock(&dev->iotlb_lock);
	node = vhostx_msg_find(dev, vq);
	if (node)
		list_del(&node->node);
	spin_unlock(&dev->iotlb_lock);
	kfree(node);
}

/**
 * vhostx_iotlb_enable() - give the device an IOTLB (ACCESS_PLATFORM)
 * @dev: the device; dev->mutex held
 *
 * Return: 0 or -ENOMEM.
 */
int vhostx_iotlb_enable(struct vhostx_dev *dev)
{
	struct vhost_iotlb *iotlb;
	int i;

	lockdep_assert_held(&dev->mutex);
	if (dev->iotlb)
		return 0;
	iotlb = vhost_iotlb_alloc(vhostx_max_iotlb_entries,
				  VHOST_IOTLB_FLAG_RETIRE);
	if (!iotlb)
		return -ENOMEM;
	vhostx_vqs_lock(dev);
	dev->iotlb = iotlb;
	for (i = 0; i < dev->nvqs; i++) {
		dev->vqs[i]->iotlb = iotlb;
		dev->vqs[i]->meta_ready = false;
	}
	vhostx_vqs_unlock(dev);
	return 0;
}

static void vhostx_free_msgs(struct list_head *list)
{
	struct vhostx_msg_node *node, *n;

	list_for_each_entry_safe(node, n, list, node) {
		list_del(&node->node);
		kfree(node);
	}
}

/**
 * vhostx_iotlb_free() - drop the IOTLB and every queued message
 * @dev: the device; dev->mutex held, workers stopped
 */
void vhostx_iotlb_free(struct vhostx_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	spin_lock(&dev->iotlb_lock);
	vhostx_free_msgs(&dev->read_list);
	vhostx_free_msgs(&dev->pending_list);
	spin_unlock(&dev->iotlb_lock);
	if (dev->iotlb)
		vhost_iotlb_free(dev->iotlb);
	dev->iotlb = NULL;
}

/* Wake the vqs whose pending miss @msg covers. */
static void vhostx_iotlb_resolve(struct vhostx_dev *dev,
				 const struct vhost_iotlb_msg *msg)
{
	u64 last = msg->iova + msg->size - 1;
	struct vhostx_msg_node *node, *n;
	LIST_HEAD(done);

	spin_lock(&dev->iotlb_lock);
	list_for_each_entry_safe(node, n, &dev->pending_list, node)
		if (node->msg.iova >= msg->iova && node->msg.iova <= last)
			list_move(&node->node, &done);
	spin_unlock(&dev->iotlb_lock);

	list_for_each_entry_safe(node, n, &done, node) {
		vhostx_poll_queue(&node->vq->poll);
		list_del(&node->node);
		kfree(node);
	}
}

/*
 * Drop the translations of [@iova, @iova + @size), counted modulo 2^64:
 * any range is accepted, as by the kernel's vhost.  An empty one (@size
 * 0) stands for all 2^64 bytes (how userspace says "everything": QEMU's
 * virtual SMMU sends iova 0, size 0); one that wraps past the top goes on
 * from address 0.  That is never less than the kernel's vhost drops for
 * the same message (for a wrapping range only the mappings that hold its
 * whole gap), so no translation userspace took back is left behind.
 */
static void vhostx_iotlb_invalidate(struct vhost_iotlb *iotlb, u64 iova,
				    u64 size)
{
	u64 last = iova + size - 1;

	if (last < iova) {
		vhost_iotlb_del_range(iotlb, 0, last);
		last = U64_MAX;
	}
	vhost_iotlb_del_range(iotlb, iova, last);
}

static int vhostx_iotlb_process(struct vhostx_dev *dev,
				const struct vhost_iotlb_msg *msg)
{
	int i, ret = 0;

	mutex_lock(&dev->mutex);
	if (!dev->iotlb) {
		ret = -EFAULT;
		goto out;
	}
	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
		if (vhostx_range_bad(msg->iova, msg->size) ||
		    vhostx_range_bad(msg->uaddr, msg->size) ||
		    !msg->perm || msg->perm > VHOST_ACCESS_RW) {
			ret = -EINVAL;
			break;
		}
		if (!access_ok((void __user *)(uintptr_t)msg->uaddr,
			       msg->size)) {
			ret = -EFAULT;
			break;
		}
		vhostx_vqs_lock(dev);
		ret = vhost_iotlb_add_range(dev->iotlb, msg->iova,
					    msg->iova + msg->size - 1,
					    msg->uaddr, msg->perm);
		vhostx_vqs_unlock(dev);
		if (!ret)
			vhostx_iotlb_resolve(dev, msg);
		break;
	case VHOST_IOTLB_INVALIDATE:
		vhostx_vqs_lock(dev);
		for (i = 0; i < dev->nvqs; i++)
			dev->vqs[i]->meta_ready = false;
		vhostx_iotlb_invalidate(dev->iotlb, msg->iova, msg->size);
		vhostx_vqs_unlock(dev);
		break;
	default:
		ret = -EINVAL;
		break;
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

/**
 * vhostx_fops_write_iter() - userspace writes IOTLB messages (v1 or v2)
 * @iocb: the write
 * @from: the message
 *
 * Return: bytes consumed (the whole write) or an errno.
 */
ssize_t vhostx_fops_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct vhostx_dev *dev = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	struct vhost_iotlb_msg msg;
	u32 type, asid;
	size_t skip;
	int ret;

	if (!copy_from_iter_full(&type, sizeof(type), from))
		return -EINVAL;
	switch (type) {
	case VHOST_IOTLB_MSG:
		/* struct vhost_msg: an int, then the union at its alignment */
		skip = offsetof(struct vhost_msg, iotlb) - sizeof(type);
		break;
	case VHOST_IOTLB_MSG_V2:
		if (!copy_from_iter_full(&asid, sizeof(asid), from))
			return -EINVAL;
		if (asid)
			return -EINVAL;
		skip = 0;
		break;
	default:
		return -EINVAL;
	}
	iov_iter_advance(from, skip);
	if (!copy_from_iter_full(&msg, sizeof(msg), from))
		return -EINVAL;

	/* As with the kernel's vhost: an empty update is malformed ... */
	if (msg.type == VHOST_IOTLB_UPDATE && !msg.size)
		return -EINVAL;
	/*
	 * ... and any message the handler rejects is -EFAULT; but a mapping
	 * the kernel had no memory for is -ENOMEM (the kernel's vhost says
	 * -EFAULT there too, which sends an operator looking for a bad
	 * address).
	 */
	ret = vhostx_iotlb_process(dev, &msg);
	if (ret == -ENOMEM)
		return ret;
	return ret ? -EFAULT : len;
}
EXPORT_SYMBOL_GPL(vhostx_fops_write_iter);

/**
 * vhostx_fops_read_iter() - userspace reads IOTLB miss messages
 * @iocb: the read; blocks unless O_NONBLOCK
 * @to: room for one struct vhost_msg or vhost_msg_v2
 *
 * The message format follows VHOST_BACKEND_F_IOTLB_MSG_V2.  Every byte
 * returned is initialised.  A message that cannot be copied out (-EFAULT)
 * stays queued for the next read.
 *
 * Return: bytes read; 0 if the buffer cannot hold a message (as the
 * kernel's vhost does); -EAGAIN, -EBADFD (no IOTLB), -ERESTARTSYS.
 */
ssize_t vhostx_fops_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct vhostx_dev *dev = iocb->ki_filp->private_data;
	bool nonblock = iocb->ki_filp->f_flags & O_NONBLOCK;
	struct vhostx_msg_node *node = NULL, *n;
	struct vhostx_vq *vq = NULL;
	struct vhost_iotlb_msg msg;
	union {
		struct vhost_msg v1;
		struct vhost_msg_v2 v2;
	} out;
	DEFINE_WAIT(wait);
	ssize_t ret = 0;
	size_t size;
	bool v2;

	v2 = dev->nvqs && vhostx_has_backend_feature(dev->vqs[0],
					VHOST_BACKEND_F_IOTLB_MSG_V2);
	size = v2 ? sizeof(out.v2) : sizeof(out.v1);
	if (iov_iter_count(to) < size)
		return 0;

	for (;;) {
		if (!nonblock)
			prepare_to_wait(&dev->wait, &wait, TASK_INTERRUPTIBLE);
		spin_lock(&dev->iotlb_lock);
		node = list_first_entry_or_null(&dev->read_list,
						struct vhostx_msg_node, node);
		if (node) {
			/*
			 * Copied now: once the lock is dropped an update (or
			 * a reset) may free the node.
			 */
			msg = node->msg;
			vq = node->vq;
			list_move_tail(&node->node, &dev->pending_list);
		}
		spin_unlock(&dev->iotlb_lock);
		if (node)
			break;
		if (nonblock) {
			ret = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (!READ_ONCE(dev->iotlb)) {
			ret = -EBADFD;
			break;
		}
		schedule();
	}
	if (!nonblock)
		finish_wait(&dev->wait, &wait);
	if (!node)
		return ret;

	memset(&out, 0, sizeof(out));
	if (v2) {
		out.v2.type = VHOST_IOTLB_MSG_V2;
		out.v2.iotlb = msg;
	} else {
		out.v1.type = VHOST_IOTLB_MSG;
		out.v1.iotlb = msg;
	}
	if (copy_to_iter(&out, size, to) == size)
		return size;

	/*
	 * Not delivered: back to the head of the read list, unless an
	 * update resolved it or a newer miss replaced it meanwhile.
	 */
	spin_lock(&dev->iotlb_lock);
	list_for_each_entry(n, &dev->pending_list, node) {
		if (n->vq == vq && n->msg.iova == msg.iova &&
		    n->msg.perm == msg.perm) {
			list_move(&n->node, &dev->read_list);
			break;
		}
	}
	spin_unlock(&dev->iotlb_lock);
	wake_up_interruptible_poll(&dev->wait, EPOLLIN | EPOLLRDNORM);
	return -EFAULT;
}
EXPORT_SYMBOL_GPL(vhostx_fops_read_iter);

/**
 * vhostx_fops_poll() - readable when an IOTLB message waits
 * @f: the device file
 * @wait: poll table
 *
 * Return: EPOLLOUT always, EPOLLIN when a message is queued.
 */
__poll_t vhostx_fops_poll(struct file *f, poll_table *wait)
{
	struct vhostx_dev *dev = f->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(f, &dev->wait, wait);
	spin_lock(&dev->iotlb_lock);
	if (!list_empty(&dev->read_list))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&dev->iotlb_lock);
	return mask;
}
EXPORT_SYMBOL_GPL(vhostx_fops_poll);
