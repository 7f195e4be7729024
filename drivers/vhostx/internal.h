/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of vhostx.ko and nobody else.
 */
#ifndef _VHOSTX_INTERNAL_H
#define _VHOSTX_INTERNAL_H

#include <vhostx/vhostx.h>
#include "compat.h"

/**
 * struct vhostx_worker - a kernel thread running a device's work
 * @task: the thread
 * @work_list: queued work, lock-free, newest first
 * @dev: owning device
 * @id: id in dev->worker_xa, as VHOST_NEW_WORKER returns it
 * @attach_cnt: virtqueues attached (dev->mutex)
 * @kcov_handle: the creating owner's KCOV common handle: its work runs
 *	as that task's remote coverage (0 without CONFIG_KCOV)
 */
struct vhostx_worker {
	struct task_struct *task;
	struct llist_head work_list;
	struct vhostx_dev *dev;
	u32 id;
	int attach_cnt;
	u64 kcov_handle;
};

extern unsigned int vhostx_max_mem_regions;
extern unsigned int vhostx_max_iotlb_entries;

/* worker.c */
struct vhostx_worker *vhostx_worker_create(struct vhostx_dev *dev);
void vhostx_worker_destroy(struct vhostx_worker *worker);
void vhostx_worker_flush(struct vhostx_worker *worker);
void vhostx_vq_attach_worker(struct vhostx_vq *vq,
			     struct vhostx_worker *worker);
void vhostx_workers_free(struct vhostx_dev *dev);
long vhostx_worker_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			 void __user *argp);

/* mem.c */
long vhostx_set_mem_table(struct vhostx_dev *dev, void __user *argp);
int vhostx_translate(struct vhostx_vq *vq, u64 addr, u64 len,
		     struct iovec *iov, unsigned int iov_max, u32 perm);
int vhostx_meta_prefetch(struct vhostx_vq *vq);
bool vhostx_iotlb_used_ok(struct vhostx_vq *vq);
int vhostx_iotlb_enable(struct vhostx_dev *dev);
void vhostx_iotlb_free(struct vhostx_dev *dev);
void vhostx_iotlb_forget(struct vhostx_vq *vq);
bool vhostx_mem_access_ok(struct vhostx_dev *dev, struct vhost_iotlb *umem,
			  bool log_all);
bool vhostx_mem_log_ok(struct vhost_iotlb *umem, void __user *log_base,
		       bool log_all);

/* log.c */
int vhostx_log_used(struct vhostx_vq *vq, u64 offset, u64 len);
bool vhostx_log_access_ok(void __user *log_base, u64 addr, u64 len);

/* vq.c */
void vhostx_vq_init(struct vhostx_vq *vq, struct vhostx_dev *dev);
void vhostx_vq_reset(struct vhostx_vq *vq);
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

/* debugfs.c */
void vhostx_debugfs_init(void);
void vhostx_debugfs_exit(void);
void vhostx_debugfs_add_dev(struct vhostx_dev *dev);
void vhostx_debugfs_remove_dev(struct vhostx_dev *dev);

#endif /* _VHOSTX_INTERNAL_H */
