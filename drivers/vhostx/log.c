// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page logging for live migration (VHOST_F_LOG_ALL).
 *
 * The VMM gives a bitmap in its own memory (VHOST_SET_LOG_BASE) with one
 * bit per VHOST_PAGE_SIZE page of guest-physical memory.  Every byte the
 * device writes into guest memory, buffers and used ring alike, marks its
 * page.  The VMM clears words while the device sets bits, so bits are set
 * atomically on the pinned bitmap page, never by read-modify-write through
 * user accessors.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include "internal.h"

#define VHOSTX_LOG_BITS_PER_PAGE	(PAGE_SIZE * BITS_PER_BYTE)

/* Set bits [first, last] of the bitmap at @base, one pinned page at a time. */
static int vhostx_log_bits(void __user *base, u64 first, u64 last)
{
	while (first <= last) {
		uintptr_t uaddr = (uintptr_t)base + first / BITS_PER_BYTE;
		u64 bit = (uaddr & ~PAGE_MASK) * BITS_PER_BYTE +
			  first % BITS_PER_BYTE;
		u64 n = min_t(u64, last - first + 1,
			      VHOSTX_LOG_BITS_PER_PAGE - bit);
		struct page *page;
		void *kaddr;
		int ret;

		ret = pin_user_pages_fast(uaddr & PAGE_MASK, 1, FOLL_WRITE,
					  &page);
		if (ret != 1)
			return ret < 0 ? ret : -EFAULT;
		kaddr = kmap_local_page(page);
		if (n == 1)
			set_bit(bit, kaddr);
		else
			bitmap_set(kaddr, bit, n);
		kunmap_local(kaddr);
		unpin_user_pages_dirty_lock(&page, 1, true);
		first += n;
	}
	return 0;
}

static int vhostx_log_gpa(struct vhostx_vq *vq, u64 gpa, u64 len)
{
	u64 first = gpa / VHOST_PAGE_SIZE, last;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!len)
		return 0;
	if (!vq->log_base || gpa + len - 1 < gpa)
		return -EFAULT;
	last = (gpa + len - 1) / VHOST_PAGE_SIZE;
	ret = vhostx_log_bits(vq->log_base, first, last);
	if (!ret)
		vq->stats.log_pages += last - first + 1;
	return ret;
}

/* With an IOTLB the log is still guest-physical: map VMM addresses back. */
static int vhostx_log_uaddr(struct vhostx_vq *vq, u64 uaddr, u64 len)
{
	struct vhost_iotlb_map *map;
	u64 start, end, last = uaddr + len - 1;
	int ret;

	if (!vq->umem)
		return -EFAULT;
	for (map = vhost_iotlb_itree_first(vq->umem, 0, U64_MAX); map;
	     map = vhost_iotlb_itree_next(map, 0, U64_MAX)) {
		if (map->addr > last || map->addr + map->size - 1 < uaddr)
			continue;
		start = max(map->addr, uaddr);
		end = min(map->addr + map->size - 1, last);
		ret = vhostx_log_gpa(vq, map->start + (start - map->addr),
				     end - start + 1);
		if (ret)
			return ret;
	}
	return 0;
}

static int vhostx_log_iova(struct vhostx_vq *vq, u64 iova, u64 len)
{
	struct iovec iov[16];
	int i, n, ret;

	n = vhostx_translate(vq, iova, len, iov, ARRAY_SIZE(iov),
			     VHOST_MAP_WO);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		ret = vhostx_log_uaddr(vq, (uintptr_t)iov[i].iov_base,
				       iov[i].iov_len);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * vhostx_log_range() - mark the pages of one guest range the device wrote
 * @vq: the virtqueue; vq->mutex held
 * @addr: guest address (guest-physical, or IOVA with an IOTLB)
 * @len: length in bytes
 *
 * Return: 0 or an errno (-EAGAIN on an IOTLB miss).
 */
int vhostx_log_range(struct vhostx_vq *vq, u64 addr, u64 len)
{
	return vq->iotlb ? vhostx_log_iova(vq, addr, len) :
			   vhostx_log_gpa(vq, addr, len);
}

/**
 * vhostx_log_used() - mark a used-ring write
 * @vq: the virtqueue; vq->mutex held
 * @offset: offset in the used ring
 * @len: bytes written
 *
 * Return: 0 or an errno.
 */
int vhostx_log_used(struct vhostx_vq *vq, u64 offset, u64 len)
{
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!vq->log_used)
		return 0;
	smp_wmb();
	if (vq->iotlb)
		ret = vhostx_log_iova(vq, vq->area_addr[VHOSTX_AREA_USED] +
				      offset, len);
	else
		ret = vhostx_log_gpa(vq, vq->log_addr + offset, len);
	if (!ret && vq->log_ctx)
		vhostx_eventfd_signal(vq->log_ctx);
	return ret;
}

/**
 * vhostx_log_area() - mark a write into one of the ring's areas
 * @vq: the virtqueue; vq->mutex held
 * @area: the area (&enum vhostx_ring_area)
 * @offset: offset in it
 * @len: bytes written
 *
 * The used area is logged at the guest address the VMM gave
 * (vhostx_log_used()).  Another area (the packed ring writes used
 * descriptors into its descriptor ring) has only the address the ring was
 * set up with: an IOVA with an IOTLB, else a VMM address mapped back to
 * guest-physical through the memory table.  Nothing without
 * VHOST_VRING_F_LOG.
 *
 * Return: 0 or an errno.
 */
int vhostx_log_area(struct vhostx_vq *vq, int area, u64 offset, u64 len)
{
	u64 addr = vq->area_addr[area] + offset;
	int ret;

	if (area == VHOSTX_AREA_USED)
		return vhostx_log_used(vq, offset, len);
	lockdep_assert_held(&vq->mutex);
	if (!vq->log_used)
		return 0;
	/* The ring write must be visible before the log says so. */
	smp_wmb();
	ret = vq->iotlb ? vhostx_log_iova(vq, addr, len) :
			  vhostx_log_uaddr(vq, addr, len);
	if (!ret && vq->log_ctx)
		vhostx_eventfd_signal(vq->log_ctx);
	return ret;
}
