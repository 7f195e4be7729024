// SPDX-License-Identifier: GPL-2.0
/*
 * What the ring formats share once a descriptor is read: mapping and
 * reading indirect tables.  Both formats' descriptors are 16 bytes; the
 * checks on lengths, permissions and limits are the same.  Turning a
 * descriptor's guest range into iovecs (and dirty-log entries),
 * vhostx_ring_add_segment(), is inline in internal.h: every descriptor of
 * every buffer goes through it.
 */
#include <linux/uaccess.h>
#include "internal.h"

/**
 * vhostx_ring_read_indirect() - read one 16-byte entry of an indirect table
 * @iov: the table, translated (it may span several iovecs)
 * @niov: number of iovecs
 * @idx: entry to read
 * @desc: where to copy its 16 bytes
 *
 * Return: 0, or -EFAULT if the entry is past the table or unreadable.
 */
int vhostx_ring_read_indirect(const struct iovec *iov, int niov,
			      unsigned int idx, void *desc)
{
	const size_t size = 16;
	size_t off = (size_t)idx * size, done = 0;
	u8 *dst = desc;
	int i;

	for (i = 0; i < niov && done < size; i++) {
		size_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		chunk = min(iov[i].iov_len - off, size - done);
		if (copy_from_user(dst + done, iov[i].iov_base + off, chunk))
			return -EFAULT;
		done += chunk;
		off = 0;
	}
	return done == size ? 0 : -EFAULT;
}

/**
 * vhostx_ring_map_indirect() - check and translate an indirect table
 * @vq: the virtqueue; vq->mutex held
 * @addr: the table's guest address
 * @len: its length in bytes
 * @count: set to its number of 16-byte entries
 *
 * The table's pages go to vq->indirect_iov.
 *
 * Return: the number of iovecs, -EAGAIN on an IOTLB miss, another errno
 * after reporting a guest error (length 0, not a multiple of 16, over
 * %VHOSTX_INDIRECT_MAX entries, or not translatable).
 */
int vhostx_ring_map_indirect(struct vhostx_vq *vq, u64 addr, u32 len,
			     unsigned int *count)
{
	int niov;

	BUILD_BUG_ON(sizeof(struct vring_desc) != 16 ||
		     sizeof(struct vring_packed_desc) != 16);
	if (len % 16 || !len) {
		vhostx_vq_err(vq, "indirect table length %u is not a multiple of 16",
			      len);
		return -EINVAL;
	}
	*count = len / 16;
	if (*count > VHOSTX_INDIRECT_MAX) {
		vhostx_vq_err(vq, "indirect table of %u entries (limit %u)",
			      *count, VHOSTX_INDIRECT_MAX);
		return -E2BIG;
	}
	niov = vhostx_translate(vq, addr, len, vq->indirect_iov,
				ARRAY_SIZE(vq->indirect_iov), VHOST_MAP_RO);
	if (niov < 0 && niov != -EAGAIN)
		vhostx_vq_err(vq, "indirect table 0x%llx+%u: translation failed (%d)",
			      addr, len, niov);
	return niov;
}
