/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of vhostx.ko and nobody else.
 */
#ifndef _VHOSTX_INTERNAL_H
#define _VHOSTX_INTERNAL_H

#include <linux/kcov.h>
#include <linux/uaccess.h>
#include <vhostx/vhostx.h>
#include "compat.h"

/**
 * struct vhostx_worker - a thread running a device's work
 * @task: the kthread (kthread mode), else NULL
 * @vtsk: the task of the owner (task mode), else NULL
 * @work_list: queued work, lock-free, newest first
 * @dev: owning device
 * @id: id in dev->worker_xa, as VHOST_NEW_WORKER returns it
 * @attach_cnt: virtqueues attached (dev->mutex)
 * @killed: task mode: the owner's process was killed, the task ended and
 *	takes no more work (set once, by the task itself)
 * @kcov_handle: the creating owner's KCOV common handle, of whatever type
 *	kcov_common_handle() returns (u64; a struct on newer kernels): its
 *	work runs as that task's remote coverage (0 without CONFIG_KCOV)
 * @linger_ns: how long the worker spins for more work after running some
 *	(worker.c, "Lingering"; only the worker touches it)
 * @slept_at: local_clock() when the worker went idle before a sleep taken
 *	with its CPU otherwise idle, 0 if none (only the worker touches it)
 * @idle_at: local_clock() when a linger that timed out began, 0 if none
 *	since the last work (only the worker touches it)
 */
struct vhostx_worker {
	struct task_struct *task;
	struct vhost_task *vtsk;
	struct llist_head work_list;
	struct vhostx_dev *dev;
	u32 id;
	int attach_cnt;
	bool killed;
	__typeof__(kcov_common_handle()) kcov_handle;
	unsigned int linger_ns;
	u64 slept_at;
	u64 idle_at;
};

extern unsigned int vhostx_max_mem_regions;

/* worker.c */
struct vhostx_worker *vhostx_worker_create(struct vhostx_dev *dev);
void vhostx_worker_destroy(struct vhostx_worker *worker);
void vhostx_worker_flush(struct vhostx_worker *worker);
void vhostx_vq_attach_worker(struct vhostx_vq *vq,
			     struct vhostx_worker *worker);
void vhostx_workers_free(struct vhostx_dev *dev);
long vhostx_worker_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			 void __user *argp);

/*
 * The core's files call each other top to bottom only: dev.c -> vq.c ->
 * ring_split.c, ring_packed.c -> ring_desc.c -> log.c -> mem.c -> iotlb.c
 * -> worker.c.  The one call
 * back up is vhostx_vq_err() (vq.c), the guest-error report of the API
 * that ring formats share with backends.  What two levels both need,
 * with no state of its own, is inline here.
 */

/* Does [addr, addr + size) wrap, or is it empty? */
static inline bool vhostx_range_bad(u64 addr, u64 size)
{
	return !size || addr + size - 1 < addr;
}

/* Take every vq mutex of @dev, in index order (dev->mutex held). */
static inline void vhostx_vqs_lock(struct vhostx_dev *dev)
{
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++)
		mutex_lock_nested(&dev->vqs[i]->mutex, i);
}

static inline void vhostx_vqs_unlock(struct vhostx_dev *dev)
{
	int i;

	for (i = dev->nvqs - 1; i >= 0; i--)
		mutex_unlock(&dev->vqs[i]->mutex);
}

/**
 * vhostx_log_access_ok() - does the bitmap at @log_base cover a range?
 * @log_base: user address of the dirty-log bitmap
 * @addr: guest-physical start
 * @len: length in bytes
 *
 * The bitmap's geometry (one bit per VHOST_PAGE_SIZE page), checked by
 * dev.c and vq.c when a log or ring address changes and by mem.c when the
 * memory table does; log.c writes the bits.
 *
 * Return: true if the bits for [addr, addr + len) are in user memory.
 */
static inline bool vhostx_log_access_ok(void __user *log_base, u64 addr,
					u64 len)
{
	u64 first = addr / VHOST_PAGE_SIZE / BITS_PER_BYTE;
	u64 bytes;

	if (!len)
		return true;
	if (addr + len - 1 < addr)
		return false;
	bytes = (addr + len - 1) / VHOST_PAGE_SIZE / BITS_PER_BYTE - first + 1;
	if (first > ULONG_MAX - (uintptr_t)log_base)
		return false;
	return access_ok(log_base + first, bytes);
}

/* mem.c: the memory table and translation */
long vhostx_set_mem_table(struct vhostx_dev *dev, void __user *argp);
int vhostx_translate(struct vhostx_vq *vq, u64 addr, u64 len,
		     struct iovec *iov, unsigned int iov_max, u32 perm);
int vhostx_meta_prefetch(struct vhostx_vq *vq, const u64 *sizes);
bool vhostx_iotlb_used_ok(struct vhostx_vq *vq);
bool vhostx_mem_access_ok(struct vhostx_dev *dev, struct vhost_iotlb *umem,
			  bool log_all);
bool vhostx_mem_log_ok(struct vhost_iotlb *umem, void __user *log_base,
		       bool log_all);

/* iotlb.c: the device IOTLB and its messages with userspace */
int vhostx_iotlb_enable(struct vhostx_dev *dev);
void vhostx_iotlb_free(struct vhostx_dev *dev);
void vhostx_iotlb_forget(struct vhostx_vq *vq);
void vhostx_iotlb_miss(struct vhostx_vq *vq, u64 iova, u32 perm);

/* log.c: the dirty log's bits (vhostx_log_write() is in vq.c) */
int vhostx_log_used(struct vhostx_vq *vq, u64 offset, u64 len);
int vhostx_log_range(struct vhostx_vq *vq, u64 addr, u64 len);
int vhostx_log_area(struct vhostx_vq *vq, int area, u64 offset, u64 len);

/* vq.c */
void vhostx_vq_init(struct vhostx_vq *vq, struct vhostx_dev *dev);
void vhostx_vq_reset(struct vhostx_vq *vq);
const struct vhostx_ring_ops *vhostx_ring_for(u64 features);
void vhostx_vq_set_features(struct vhostx_vq *vq, u64 features);
long vhostx_vring_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			void __user *argp);

/*
 * ring_split.c.  The hot ring operations are also callable directly:
 * vq.c calls them through INDIRECT_CALL_1(), which skips the indirect
 * (retpoline) call for the split ring and still goes through the ops for
 * any other format.
 */
extern const struct vhostx_ring_ops vhostx_split_ring_ops;
int vhostx_split_get_buf(struct vhostx_vq *vq, struct vhostx_buf *buf,
			 struct iovec *iov, unsigned int iov_max,
			 struct vhostx_log *log, unsigned int log_max);
void vhostx_split_unget(struct vhostx_vq *vq, unsigned int nbufs);
int vhostx_split_add_used_n(struct vhostx_vq *vq,
			    const struct vhostx_used *used, unsigned int count);
bool vhostx_split_need_signal(struct vhostx_vq *vq);
bool vhostx_split_enable_notify(struct vhostx_vq *vq);
void vhostx_split_disable_notify(struct vhostx_vq *vq);
void vhostx_split_mute_notify(struct vhostx_vq *vq);
bool vhostx_split_avail_empty(struct vhostx_vq *vq);

/* ring_packed.c: the packed format (only through its ops) */
extern const struct vhostx_ring_ops vhostx_packed_ring_ops;

/* What both formats do with a descriptor (ring_desc.c; this step inline) */
/**
 * vhostx_ring_add_segment() - append one descriptor's range to a buffer
 * @vq: the virtqueue; vq->mutex held
 * @addr: the descriptor's guest address
 * @len: its length
 * @write: device-writable (VRING_DESC_F_WRITE)
 * @buf: the buffer being built (out/in counts and lengths)
 * @iov: the buffer's iovecs
 * @iov_max: room in @iov
 * @log: dirty-log entries for writable ranges, or NULL
 * @log_max: room in @log
 *
 * Return: 0, -EAGAIN on an IOTLB miss, another errno after reporting a
 * guest error (readable after writable, a buffer over 4 GiB, a range that
 * does not translate or needs more iovecs or log entries than given).
 *
 * Inline: every descriptor of every buffer goes through it.
 */
static inline int vhostx_ring_add_segment(struct vhostx_vq *vq, u64 addr,
					  u32 len, bool write,
					  struct vhostx_buf *buf,
					  struct iovec *iov,
					  unsigned int iov_max,
					  struct vhostx_log *log,
					  unsigned int log_max)
{
	unsigned int used = buf->out + buf->in;
	u32 *total = write ? &buf->in_len : &buf->out_len;
	int n;

	if (!write && buf->in) {
		vhostx_vq_err(vq, "readable descriptor after a writable one");
		return -EINVAL;
	}
	if (check_add_overflow(*total, len, total)) {
		vhostx_vq_err(vq, "buffer longer than 4 GiB");
		return -EINVAL;
	}
	n = vhostx_translate(vq, addr, len, iov + used, iov_max - used,
			     write ? VHOST_MAP_WO : VHOST_MAP_RO);
	if (n == -EAGAIN)
		return n;
	if (n < 0) {
		vhostx_vq_err(vq, "descriptor 0x%llx+%u: translation failed (%d)",
			      addr, len, n);
		return n;
	}
	if (!write) {
		buf->out += n;
		return 0;
	}
	buf->in += n;
	if (log && len) {
		if (buf->nlog >= log_max) {
			vhostx_vq_err(vq, "more writable descriptors than log entries (%u)",
				      log_max);
			return -ENOBUFS;
		}
		log[buf->nlog].addr = addr;
		log[buf->nlog].len = len;
		buf->nlog++;
	}
	return 0;
}

int vhostx_ring_read_indirect(const struct iovec *iov, int niov,
			      unsigned int idx, void *desc);
int vhostx_ring_map_indirect(struct vhostx_vq *vq, u64 addr, u32 len,
			     unsigned int *count);

/* debugfs.c */
void vhostx_debugfs_init(void);
void vhostx_debugfs_exit(void);
void vhostx_debugfs_add_dev(struct vhostx_dev *dev);
void vhostx_debugfs_remove_dev(struct vhostx_dev *dev);

#endif /* _VHOSTX_INTERNAL_H */
