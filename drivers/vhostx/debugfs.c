// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device, per-queue statistics in debugfs:
 * /sys/kernel/debug/vhostx/<backend>-<n>/stats, one line per virtqueue.
 *
 * Counters are u64 written by the worker under the vq mutex and read here
 * without it: a reader may see a counter a few events old, never a torn
 * or stale pointer (only plain integers are read).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "internal.h"

static struct dentry *vhostx_debugfs_root;

static void vhostx_stats_print(struct seq_file *m, struct vhostx_dev *dev,
			       const char *prefix)
{
	int i;

	seq_printf(m, "%svq num last_avail last_used broken kicks runs bufs bytes calls calls_suppressed batches yields errors iotlb_misses drops spins spin_hits spin_timeouts\n",
		   prefix);
	for (i = 0; i < dev->nvqs; i++) {
		struct vhostx_vq *vq = dev->vqs[i];
		struct vhostx_vq_stats *s = &vq->stats;

		seq_printf(m, "%s%d %u %u %u %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
			   prefix, i, READ_ONCE(vq->num), READ_ONCE(vq->last_avail_idx),
			   READ_ONCE(vq->last_used_idx), READ_ONCE(vq->broken),
			   READ_ONCE(s->kicks), READ_ONCE(s->runs),
			   READ_ONCE(s->bufs), READ_ONCE(s->bytes),
			   READ_ONCE(s->calls), READ_ONCE(s->calls_suppressed),
			   READ_ONCE(s->batches), READ_ONCE(s->yields),
			   READ_ONCE(s->errors), READ_ONCE(s->iotlb_misses),
			   READ_ONCE(s->drops), READ_ONCE(s->spins),
			   READ_ONCE(s->spin_hits),
			   READ_ONCE(s->spin_timeouts));
	}
}

static int vhostx_stats_show(struct seq_file *m, void *unused)
{
	vhostx_stats_print(m, m->private, "");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vhostx_stats);

/**
 * vhostx_fops_show_fdinfo() - /proc/<pid>/fdinfo/<fd> of a vhostx device
 * @m: the fdinfo file
 * @f: the device file
 *
 * Names the device's debugfs directory and prints the same per-queue
 * statistics, each line prefixed with "vhostx-", so a VMM or a test can
 * read the counters of the descriptor it holds.
 */
void vhostx_fops_show_fdinfo(struct seq_file *m, struct file *f)
{
	struct vhostx_dev *dev = f->private_data;

	seq_printf(m, "vhostx-dev:\t%s-%u\n", dev->ops->name, dev->index);
	vhostx_stats_print(m, dev, "vhostx-");
}
EXPORT_SYMBOL_GPL(vhostx_fops_show_fdinfo);

/**
 * vhostx_debugfs_add_dev() - create a device's debugfs directory
 * @dev: the device
 */
void vhostx_debugfs_add_dev(struct vhostx_dev *dev)
{
	char name[32];

	dev->debugfs = NULL;
	if (IS_ERR_OR_NULL(vhostx_debugfs_root))
		return;
	snprintf(name, sizeof(name), "%s-%u", dev->ops->name, dev->index);
	dev->debugfs = debugfs_create_dir(name, vhostx_debugfs_root);
	debugfs_create_file("stats", 0400, dev->debugfs, dev,
			    &vhostx_stats_fops);
}

/**
 * vhostx_debugfs_remove_dev() - remove a device's debugfs directory
 * @dev: the device
 */
void vhostx_debugfs_remove_dev(struct vhostx_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}

void vhostx_debugfs_init(void)
{
	vhostx_debugfs_root = debugfs_create_dir("vhostx", NULL);
}

void vhostx_debugfs_exit(void)
{
	debugfs_remove_recursive(vhostx_debugfs_root);
}
