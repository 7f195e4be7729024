// SPDX-License-Identifier: GPL-2.0
/*
 * Per-device, per-queue statistics in debugfs:
 * /sys/kernel/debug/vhostx/<backend>-<n>/stats, one line per virtqueue,
 * after a header line naming the columns; the same lines, prefixed, in
 * the device's fdinfo.  The columns come from the tables in
 * <vhostx/vhostx.h> (the core's) and the backend's
 * &vhostx_backend_ops.vq_stats.
 *
 * Counters are read here without the vq mutex: a reader may see a
 * counter a few events old, never a torn or stale pointer (only plain
 * integers are read).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "internal.h"

static struct dentry *vhostx_debugfs_root;

static const char *const vhostx_vq_stat_names[] = {
	VHOSTX_VQ_STATE(VHOSTX_STATE_NAME)
	VHOSTX_VQ_STATS(VHOSTX_STAT_NAME, VHOSTX_STAT_NAME)
};

#define VHOSTX_VQ_NSTATS	ARRAY_SIZE(vhostx_vq_stat_names)

/* The core's columns of @vq, in vhostx_vq_stat_names[] order. */
static void vhostx_vq_stats_get(struct vhostx_vq *vq, u64 *v)
{
	const struct vhostx_vq_stats *s = &vq->stats;

	VHOSTX_VQ_STATE(VHOSTX_STATE_GET)
	VHOSTX_VQ_STATS(VHOSTX_STAT_GET_U64, VHOSTX_STAT_GET_ATOMIC)
}

static void vhostx_stats_print(struct seq_file *m, struct vhostx_dev *dev,
			       const char *prefix)
{
	const struct vhostx_stats_table *bt = dev->ops->vq_stats;
	/* A table too long for @v is not printed (a backend's bug). */
	unsigned int nb = bt && bt->n <= VHOSTX_BACKEND_STATS_MAX ? bt->n : 0;
	u64 v[VHOSTX_VQ_NSTATS + VHOSTX_BACKEND_STATS_MAX];
	unsigned int c;
	int i;

	seq_printf(m, "%svq", prefix);
	for (c = 0; c < VHOSTX_VQ_NSTATS; c++)
		seq_printf(m, " %s", vhostx_vq_stat_names[c]);
	for (c = 0; c < nb; c++)
		seq_printf(m, " %s", bt->names[c]);
	seq_putc(m, '\n');
	for (i = 0; i < dev->nvqs; i++) {
		vhostx_vq_stats_get(dev->vqs[i], v);
		if (nb)
			bt->get(dev->vqs[i], v + VHOSTX_VQ_NSTATS);
		seq_printf(m, "%s%d", prefix, i);
		for (c = 0; c < VHOSTX_VQ_NSTATS + nb; c++)
			seq_printf(m, " %llu", v[c]);
		seq_putc(m, '\n');
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
