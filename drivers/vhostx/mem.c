// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: the memory table, address translation and the IOTLB.
 *
 * Both the memory table (VHOST_SET_MEM_TABLE: guest-physical ranges to
 * VMM virtual addresses) and the device IOTLB (VHOST_IOTLB_UPDATE
 * messages: IOVA ranges to VMM virtual addresses, with permissions) are
 * interval trees from the kernel's vhost_iotlb library.  Translation
 * walks the tree, splitting a guest range wherever it crosses a mapping,
 * and refuses anything unmapped, overflowing or without permission.
 *
 * Ring metadata (descriptor table, avail and used rings) is translated
 * once per ring activation or IOTLB invalidation and cached in
 * vq->area_uaddr[], so the per-buffer path only translates buffers.
 */
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "internal.h"

unsigned int vhostx_max_mem_regions = 64;
module_param_named(max_mem_regions, vhostx_max_mem_regions, uint, 0444);
MODULE_PARM_DESC(max_mem_regions,
		 "Most regions in one memory table (default 64)");

unsigned int vhostx_max_iotlb_entries = 2048;
module_param_named(max_iotlb_entries, vhostx_max_iotlb_entries, uint, 0444);
MODULE_PARM_DESC(max_iotlb_entries,
		 "Most cached IOTLB entries per device; the oldest is evicted (default 2048)");

/* A message for userspace (IOTLB miss), kept until an update covers it. */
struct vhostx_msg_node {
	struct list_head node;
	struct vhostx_vq *vq;
	struct vhost_iotlb_msg msg;
};

/* Does [addr, addr + size) wrap, or is it empty? */
static bool vhostx_range_bad(u64 addr, u64 size)
{
	return !size || addr + size - 1 < addr;
}

/**
 * vhostx_mem_log_ok() - are a table's regions user memory, and logged?
 * @umem: the memory table; none fails, as with the kernel's vhost
 * @log_base: user address of the dirty-log bitmap
 * @log_all: also check that the bitmap at @log_base covers every region
 *
 * The check the kernel's vhost makes for a queue that starts, and for
 * every started queue when the log base or the memory table changes.
 *
 * Return: true if every region is a valid user range (with its log).
 */
bool vhostx_mem_log_ok(struct vhost_iotlb *umem, void __user *log_base,
		       bool log_all)
{
	struct vhost_iotlb_map *map;

	if (!umem)
		return false;
	for (map = vhost_iotlb_itree_first(umem, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX)) {
		if (!access_ok((void __user *)(uintptr_t)map->addr, map->size))
			return false;
		if (log_all &&
		    !vhostx_log_access_ok(log_base, map->start, map->size))
			return false;
	}
	return true;
}

/**
 * vhostx_mem_access_ok() - may the owner access every region (and its log)?
 * @dev: the device
 * @umem: memory table to check
 * @log_all: also check the dirty log of every started queue covers every
 *	region (a queue that logs is checked anyway)
 *
 * Return: true if every region is a valid user range.
 */
bool vhostx_mem_access_ok(struct vhostx_dev *dev, struct vhost_iotlb *umem,
			  bool log_all)
{
	int i;

	if (!umem)
		return true;
	if (!vhostx_mem_log_ok(umem, NULL, false))
		return false;
	for (i = 0; i < dev->nvqs; i++) {
		struct vhostx_vq *vq = dev->vqs[i];

		/* A stopped queue is checked when it starts. */
		if (vq->private_data &&
		    !vhostx_mem_log_ok(umem, vq->log_base,
				       log_all || vhostx_logging(vq)))
			return false;
	}
	return true;
}

static void vhostx_vqs_lock(struct vhostx_dev *dev)
{
	int i;

	for (i = 0; i < dev->nvqs; i++)
		mutex_lock_nested(&dev->vqs[i]->mutex, i);
}

static void vhostx_vqs_unlock(struct vhostx_dev *dev)
{
	int i;

	for (i = dev->nvqs - 1; i >= 0; i--)
		mutex_unlock(&dev->vqs[i]->mutex);
}

/*
 * Do no two regions overlap?  Then the region holding an address is the
 * only answer a lookup can give, and vhostx_translate() may try the last
 * one it hit first.  (Overlaps are allowed, as upstream allows them; the
 * lookup then picks the lowest start, so every translation searches.)
 */
static bool vhostx_umem_disjoint(struct vhost_iotlb *umem)
{
	struct vhost_iotlb_map *map;

	list_for_each_entry(map, &umem->list, link)
		if (vhost_iotlb_itree_next(map, map->start, map->last) ||
		    vhost_iotlb_itree_first(umem, map->start, map->last) != map)
			return false;
	return true;
}

/**
 * vhostx_set_mem_table() - VHOST_SET_MEM_TABLE
 * @dev: the device; dev->mutex held, caller is the owner
 * @argp: struct vhost_memory in user memory
 *
 * Return: 0, -EFAULT (bad user memory, empty, overflowing or inaccessible
 * region), -EOPNOTSUPP (padding set), -E2BIG (too many regions), -ENOMEM.
 */
long vhostx_set_mem_table(struct vhostx_dev *dev, void __user *argp)
{
	struct vhost_memory_region *regions;
	struct vhost_iotlb *umem, *old;
	struct vhost_memory mem;
	bool log_all = false, disjoint;
	u32 i;
	int ret;

	if (copy_from_user(&mem, argp, sizeof(mem)))
		return -EFAULT;
	if (mem.padding)
		return -EOPNOTSUPP;
	if (mem.nregions > vhostx_max_mem_regions)
		return -E2BIG;

	regions = vmemdup_user(argp + sizeof(mem),
			       array_size(mem.nregions, sizeof(*regions)));
	if (IS_ERR(regions))
		return PTR_ERR(regions);

	umem = vhost_iotlb_alloc(vhostx_max_mem_regions, 0);
	if (!umem) {
		ret = -ENOMEM;
		goto out_free;
	}

	ret = -EFAULT;
	for (i = 0; i < mem.nregions; i++) {
		struct vhost_memory_region *r = &regions[i];

		if (vhostx_range_bad(r->guest_phys_addr, r->memory_size) ||
		    vhostx_range_bad(r->userspace_addr, r->memory_size))
			goto out_umem;
		if (vhost_iotlb_add_range(umem, r->guest_phys_addr,
					  r->guest_phys_addr + r->memory_size - 1,
					  r->userspace_addr, VHOST_MAP_RW))
			goto out_umem;
	}
	for (i = 0; i < dev->nvqs; i++)
		log_all |= vhostx_has_feature(dev->vqs[i], VHOST_F_LOG_ALL);
	if (!vhostx_mem_access_ok(dev, umem, log_all))
		goto out_umem;

	disjoint = vhostx_umem_disjoint(umem);
	old = dev->umem;
	dev->umem = umem;
	vhostx_vqs_lock(dev);
	for (i = 0; i < dev->nvqs; i++) {
		dev->vqs[i]->umem = umem;
		dev->vqs[i]->xlate_hit = NULL;
		dev->vqs[i]->xlate_cache = disjoint;
	}
	vhostx_vqs_unlock(dev);
	if (old)
		vhost_iotlb_free(old);
	kvfree(regions);
	return 0;

out_umem:
	vhost_iotlb_free(umem);
out_free:
	kvfree(regions);
	return ret;
}

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

/*
 * Tell userspace @vq misses @iova.  A vq has at most one message, so a
 * guest cannot flood userspace: a miss already reported (read or not) is
 * not sent again, but a miss at another address or for another access
 * replaces it and goes to the back of the read list.  Otherwise a guest
 * that once posted an address the VMM cannot resolve would leave the
 * queue deaf to every later miss.
 */
static void vhostx_iotlb_miss(struct vhostx_vq *vq, u64 iova, u32 perm)
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
 * vhostx_translate() - guest range to user iovecs
 * @vq: the virtqueue (its memory table, or IOTLB when one is enabled)
 * @addr: guest address (guest-physical, or IOVA)
 * @len: length in bytes; 0 gives no iovec
 * @iov: iovecs to fill
 * @iov_max: room in @iov
 * @perm: VHOST_MAP_RO to read, VHOST_MAP_WO to write, VHOST_MAP_RW both
 *
 * Called with vq->mutex held.
 *
 * Return: number of iovecs; -EFAULT if a byte is unmapped or the range
 * wraps; -EPERM if a mapping lacks any of the @perm bits; -ENOBUFS if
 * @iov is too small; -EAGAIN if an IOTLB miss was sent to userspace
 * (retry after update).
 */
int vhostx_translate(struct vhostx_vq *vq, u64 addr, u64 len,
		     struct iovec *iov, unsigned int iov_max, u32 perm)
{
	struct vhost_iotlb *tlb = vq->iotlb ? vq->iotlb : vq->umem;
	struct vhost_iotlb_map *map;
	unsigned int n = 0;
	u64 last, size;

	if (!len)
		return 0;
	last = addr + len - 1;
	if (last < addr || !tlb)
		return -EFAULT;

	for (;;) {
		map = vq->xlate_hit;
		if (map && !vq->iotlb && addr >= map->start &&
		    addr <= map->last)
			goto hit;
		map = vhost_iotlb_itree_first(tlb, addr, last);
		if (!map || map->start > addr) {
			if (!vq->iotlb)
				return -EFAULT;
			vhostx_iotlb_miss(vq, addr, perm);
			return -EAGAIN;
		}
		if (vq->xlate_cache && !vq->iotlb)
			vq->xlate_hit = map;
hit:
		if ((map->perm & perm) != perm)
			return -EPERM;
		if (n == iov_max)
			return -ENOBUFS;
		size = min(map->last, last) - addr + 1;
		iov[n].iov_base = (void __user *)(uintptr_t)
				  (map->addr + (addr - map->start));
		iov[n].iov_len = size;
		n++;
		if (min(map->last, last) == last)
			return n;
		addr += size;
	}
}

/**
 * vhostx_iotlb_used_ok() - may a backend be attached to a ring with an IOTLB?
 * @vq: the virtqueue, with an IOTLB; vq->mutex held
 *
 * The kernel's vhost writes the used ring's flags and reads its index
 * when a backend is attached, each through a read permission lookup in
 * the IOTLB (an unmapped one reports a miss), and fails the attach with
 * EFAULT if either fails.  vhostx syncs with the ring later
 * (vhostx_meta_prefetch(), which also needs the used ring writable) but
 * refuses the same attaches and reports the same miss.
 *
 * Return: true if the used flags and index are each mapped readable by
 * one mapping.
 */
bool vhostx_iotlb_used_ok(struct vhostx_vq *vq)
{
	u64 used = vq->area_addr[VHOSTX_AREA_USED];
	struct iovec iov[2];

	lockdep_assert_held(&vq->mutex);
	return vhostx_translate(vq, used + offsetof(struct vring_used, flags),
				sizeof(__virtio16), iov, ARRAY_SIZE(iov),
				VHOST_MAP_RO) == 1 &&
	       vhostx_translate(vq, used + offsetof(struct vring_used, idx),
				sizeof(__virtio16), iov, ARRAY_SIZE(iov),
				VHOST_MAP_RO) == 1;
}

/**
 * vhostx_meta_prefetch() - translate and check the ring areas
 * @vq: the virtqueue; vq->mutex held
 *
 * Return: 0 when vq->area_uaddr[] is usable; -EAGAIN on an IOTLB miss;
 * -EFAULT when an area is unmapped, not contiguous or inaccessible, or
 * the used ring cannot be initialised.
 */
int vhostx_meta_prefetch(struct vhostx_vq *vq)
{
	struct iovec iov[8];
	int a, n, i, ret;
	u64 size;

	if (likely(vq->meta_ready))
		return 0;

	for (a = 0; a < VHOSTX_NR_AREAS; a++) {
		size = vq->ring->area_size(vq, a);
		if (!vq->iotlb) {
			vq->area_uaddr[a] = (void __user *)(uintptr_t)
					    vq->area_addr[a];
		} else {
			/*
			 * Permissions as the device uses the areas: it writes
			 * the used ring and only reads the other two.
			 */
			n = vhostx_translate(vq, vq->area_addr[a], size, iov,
					     ARRAY_SIZE(iov),
					     a == VHOSTX_AREA_USED ?
					     VHOST_MAP_WO : VHOST_MAP_RO);
			if (n == -EAGAIN)
				return n;
			if (n <= 0)
				goto bad;
			/* The area must be contiguous in the VMM. */
			for (i = 1; i < n; i++)
				if (iov[i].iov_base !=
				    iov[i - 1].iov_base + iov[i - 1].iov_len)
					goto bad;
			vq->area_uaddr[a] = iov[0].iov_base;
		}
		if (!access_ok(vq->area_uaddr[a], size))
			goto bad;
	}
	/* The ring may have moved: nothing read ahead is valid. */
	vq->ahead_end = vq->ahead_start;
	if (vq->ring_started) {
		vq->meta_ready = true;
		return 0;
	}
	ret = vq->ring->start(vq);
	if (ret)
		return ret;
	vq->ring_started = true;
	vq->meta_ready = true;
	return 0;

bad:
	return -EFAULT;
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
		if (vhostx_range_bad(msg->iova, msg->size)) {
			ret = -EINVAL;
			break;
		}
		vhostx_vqs_lock(dev);
		for (i = 0; i < dev->nvqs; i++)
			dev->vqs[i]->meta_ready = false;
		vhost_iotlb_del_range(dev->iotlb, msg->iova,
				      msg->iova + msg->size - 1);
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
	/* ... and any message the handler rejects is -EFAULT. */
	ret = vhostx_iotlb_process(dev, &msg);
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
