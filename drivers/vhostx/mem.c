// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: the memory table and address translation.
 *
 * Both the memory table (VHOST_SET_MEM_TABLE: guest-physical ranges to
 * VMM virtual addresses) and the device IOTLB (VHOST_IOTLB_UPDATE
 * messages, iotlb.c: IOVA ranges to VMM virtual addresses, with
 * permissions) are interval trees from the kernel's vhost_iotlb library.
 * Translation walks the tree, splitting a guest range wherever it crosses
 * a mapping, and refuses anything unmapped, overflowing or without
 * permission; an IOTLB miss is handed to iotlb.c for userspace.
 *
 * Ring metadata (descriptor table, avail and used rings) is translated
 * once per ring activation or IOTLB invalidation and cached in
 * vq->area_uaddr[], so the per-buffer path only translates buffers.
 * This file depends on iotlb.c only; vq.c, log.c and the ring formats
 * call into it, never the other way.
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

	lockdep_assert_held(&dev->mutex);
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
		/* Only an allocation can fail here: the range was checked. */
		ret = vhost_iotlb_add_range(umem, r->guest_phys_addr,
					    r->guest_phys_addr + r->memory_size - 1,
					    r->userspace_addr, VHOST_MAP_RW);
		if (ret)
			goto out_umem;
	}
	ret = -EFAULT;
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

	lockdep_assert_held(&vq->mutex);
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
 * @sizes: each area's size in bytes (the ring format's, by
 *	&enum vhostx_ring_area)
 *
 * Fills vq->area_uaddr[] from vq->area_addr[].  Only translation: what
 * the ring format does with the new addresses is up to the caller
 * (vq.c's activation, then the ring's activate()).
 *
 * Return: 0 when vq->area_uaddr[] is usable; -EAGAIN on an IOTLB miss;
 * -EFAULT when an area is unmapped, not contiguous or inaccessible.
 */
int vhostx_meta_prefetch(struct vhostx_vq *vq, const u64 *sizes)
{
	struct iovec iov[8];
	int a, n, i;
	u64 size;

	lockdep_assert_held(&vq->mutex);
	for (a = 0; a < VHOSTX_NR_AREAS; a++) {
		size = sizes[a];
		if (!vq->iotlb) {
			vq->area_uaddr[a] = (void __user *)(uintptr_t)
					    vq->area_addr[a];
		} else {
			/*
			 * Permissions as the device uses the areas, which
			 * the ring format says (split: it writes the used
			 * ring; packed: the descriptors and device area too).
			 */
			n = vhostx_translate(vq, vq->area_addr[a], size, iov,
					     ARRAY_SIZE(iov),
					     vq->ring->area_perm[a]);
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
	return 0;

bad:
	return -EFAULT;
}
