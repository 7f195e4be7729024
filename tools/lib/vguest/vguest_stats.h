/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vguest_stats: a vhostx device's counters, by name.
 *
 * A vhostx device publishes its counters in /proc/<pid>/fdinfo/<fd> of the
 * descriptor that opened it, on lines prefixed "vhostx-", and in the
 * debugfs file /sys/kernel/debug/vhostx/<dev>/stats without the prefix:
 *
 *   vhostx-dev:	net-3			the device (debugfs directory)
 *   vhostx-vq num last_avail ... drops	header: the columns' names
 *   vhostx-0 256 12 12 ... 0		one row per virtqueue
 *
 * The columns are the core's, then the backend's (net: drops, spins, the
 * TX counters sent ... batched, net-zcopy, pending, min_len), one table
 * each in the kernel.  Other labelled lines ("label:\tV name V ...":
 * the label's own value, then "name value" pairs) are read as well.
 *
 * A counter is looked up by name: first among the columns of the queue's
 * row, then among the name/value pairs of the labelled lines (a label's
 * own value goes by the label).  Nothing depends on the order of the
 * columns.
 */
#ifndef VGUEST_STATS_H
#define VGUEST_STATS_H

#include <stdint.h>

#define VG_STATS_NAME	32
#define VG_STATS_COLS	48
#define VG_STATS_ROWS	16
#define VG_STATS_PAIRS	48

struct vg_stats {
	char dev[VG_STATS_NAME];	/* "net-3", or "" */
	unsigned int ncols;		/* columns after "vq" */
	char col[VG_STATS_COLS][VG_STATS_NAME];
	unsigned int nrows;
	unsigned int row_vq[VG_STATS_ROWS];
	uint64_t row[VG_STATS_ROWS][VG_STATS_COLS];
	unsigned int npairs;		/* from the labelled lines */
	char pair_name[VG_STATS_PAIRS][VG_STATS_NAME];
	uint64_t pair[VG_STATS_PAIRS];
};

int vg_stats_read(struct vg_stats *s, int fd);
int vg_stats_read_file(struct vg_stats *s, const char *path);
int vg_stats_get(const struct vg_stats *s, unsigned int vq, const char *name,
		 uint64_t *val);
int vg_counter(int fd, unsigned int vq, const char *name, uint64_t *val);
int vg_stats_debugfs(int fd, char *path, size_t size);

#endif /* VGUEST_STATS_H */
