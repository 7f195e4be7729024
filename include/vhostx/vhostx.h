/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostx core API: what a backend (net, test, ...) uses.
 *
 * The core owns the device file's generic ioctls, the guest memory map and
 * IOTLB, the ring engines, the workers and the dirty log.  A backend embeds
 * a struct vhostx_dev in its own device structure, fills a
 * struct vhostx_backend_ops, and handles its virtqueues' kicks with
 * vhostx_get_buf() / vhostx_add_used() and friends.  It never touches ring
 * memory itself, so ring formats (split today, packed later) stay behind
 * struct vhostx_ring_ops.
 */
#ifndef _VHOSTX_VHOSTX_H
#define _VHOSTX_VHOSTX_H

#include <linux/atomic.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <uapi/linux/vhost.h>
#include <uapi/linux/vhostx.h>

struct vhostx_dev;
struct vhostx_vq;
struct vhostx_work;

typedef void (*vhostx_work_fn_t)(struct vhostx_work *work);

#define VHOSTX_WORK_QUEUED	0

/**
 * struct vhostx_work - a unit of work run by a device worker
 * @node: link in the worker's lock-free list
 * @fn: function to run
 * @flags: VHOSTX_WORK_QUEUED while on a list
 */
struct vhostx_work {
	struct llist_node node;
	vhostx_work_fn_t fn;
	unsigned long flags;
};

/**
 * struct vhostx_poll - turns wakeups on a file into work on a vq's worker
 * @table: poll table given to vfs_poll()
 * @wqh: wait queue we are on, NULL when stopped
 * @wait: our wait queue entry
 * @work: work queued on each matching wakeup
 * @mask: events that queue the work
 * @vq: virtqueue whose worker runs the work
 */
struct vhostx_poll {
	poll_table table;
	wait_queue_head_t *wqh;
	wait_queue_entry_t wait;
	struct vhostx_work work;
	__poll_t mask;
	struct vhostx_vq *vq;
};

/**
 * struct vhostx_buf - one buffer (descriptor chain) taken from a ring
 * @id: buffer id to hand back to vhostx_add_used()
 * @ndesc: descriptors the buffer used (for ring formats that need it)
 * @out: number of device-readable iovecs (they come first)
 * @in: number of device-writable iovecs (they follow the out ones)
 * @out_len: bytes in the out iovecs
 * @in_len: bytes in the in iovecs
 * @nlog: dirty-log entries filled (only when logging)
 */
struct vhostx_buf {
	u32 id;
	u16 ndesc;
	unsigned int out;
	unsigned int in;
	u32 out_len;
	u32 in_len;
	unsigned int nlog;
};

/**
 * struct vhostx_used - one completed buffer for vhostx_add_used_n()
 * @id: buffer id from struct vhostx_buf
 * @len: bytes the device wrote into the buffer
 * @ndesc: descriptors of the buffer (from struct vhostx_buf)
 * @flags: %VHOSTX_USED_F_IMPLIED or 0
 */
struct vhostx_used {
	u32 id;
	u32 len;
	u16 ndesc;
	u16 flags;
};

/*
 * With VIRTIO_F_IN_ORDER the driver can infer this entry: @len is the
 * buffer's whole writable length (0 for a buffer without one, as every
 * TX buffer), so a later entry of the same vhostx_add_used_n() call may
 * stand for it and the ring need not write it.  Without the flag the ring
 * writes the entry (RX: each buffer's length is news to the driver).
 */
#define VHOSTX_USED_F_IMPLIED	BIT(0)

/* The flags of @buf's used entry when @len bytes were written into it. */
static inline u16 vhostx_used_flags(const struct vhostx_buf *buf, u32 len)
{
	return len == buf->in_len ? VHOSTX_USED_F_IMPLIED : 0;
}

/**
 * struct vhostx_log - a guest range the device wrote, for dirty logging
 * @addr: guest address (guest-physical, or IOVA with an IOTLB)
 * @len: length in bytes
 */
struct vhostx_log {
	u64 addr;
	u64 len;
};

/*
 * Per-virtqueue statistics: every column of the debugfs stats file and
 * of the device's fdinfo is declared once, in a table (an X-macro), and
 * the structure, the header line and the values are generated from it.
 * A queue's line is "vq", then the core's state columns, the core's
 * counters, then the backend's columns (struct vhostx_stats_table).
 *
 * The core owns the columns below and nothing else: what any backend's
 * queue has.  A counter only one backend has (net: drops, busy-poll
 * spins, zero-copy and TX batching) goes in that backend's own table,
 * declared the same way, which it hands the core in
 * &vhostx_backend_ops.vq_stats.  Tests and tools read a column by its
 * name, never by its position.
 *
 * State columns: X(name, value) - read from the vq when printed.
 */
#define VHOSTX_VQ_STATE(X)						\
	X("num", READ_ONCE(vq->num))					\
	X("last_avail", READ_ONCE(vq->last_avail_idx))			\
	X("last_used", READ_ONCE(vq->last_used_idx))			\
	X("broken", READ_ONCE(vq->broken))

/*
 * Counters (monotonic): U64(name) is a u64 written only under the vq
 * mutex (by the handler, or an ioctl that holds it); ATOMIC(name) an
 * atomic64_t written without it.  Read without locks when printed.
 *
 * kicks     wakeups from the kick eventfd: counted in the wakeup callback
 *           (worker.c), which does not hold the vq mutex, hence atomic
 * runs      handler runs
 * bufs      buffers completed (used entries)
 * bytes     payload bytes moved (added by the backend's handler)
 * calls     call eventfd signalled
 * calls_suppressed  signals not needed (the driver said so)
 * batches   used-ring updates (one per batch)
 * yields    handler runs cut by the weight budget
 * errors    guest errors that stopped the queue
 * iotlb_misses  IOTLB misses sent to userspace
 * log_pages dirty-log bits the device set (VHOST_F_LOG_ALL): one per page
 *           marked, counted again each time the page is marked
 */
#define VHOSTX_VQ_STATS(U64, ATOMIC)					\
	ATOMIC(kicks)							\
	U64(runs)							\
	U64(bufs)							\
	U64(bytes)							\
	U64(calls)							\
	U64(calls_suppressed)						\
	U64(batches)							\
	U64(yields)							\
	U64(errors)							\
	U64(iotlb_misses)						\
	U64(log_pages)

/* Expanders for the tables, the core's and the backends'. */
#define VHOSTX_STAT_U64(name)		u64 name;
#define VHOSTX_STAT_ATOMIC(name)	atomic64_t name;
#define VHOSTX_STAT_NAME(name)		#name,
#define VHOSTX_STAT_GET_U64(name)	*(v++) = READ_ONCE(s->name);
#define VHOSTX_STAT_GET_ATOMIC(name)	*(v++) = atomic64_read(&s->name);
#define VHOSTX_STATE_NAME(name, value)	name,
#define VHOSTX_STATE_GET(name, value)	*(v++) = (value);

/* The core's counters of one virtqueue (zeroed with the vq). */
struct vhostx_vq_stats {
	VHOSTX_VQ_STATS(VHOSTX_STAT_U64, VHOSTX_STAT_ATOMIC)
};

/* Most columns a backend may add to each queue's line. */
#define VHOSTX_BACKEND_STATS_MAX	32

/**
 * struct vhostx_stats_table - a backend's own per-queue columns
 * @names: column names, generated from the backend's tables with
 *	VHOSTX_STATE_NAME / VHOSTX_STAT_NAME
 * @n: how many (at most %VHOSTX_BACKEND_STATS_MAX)
 * @get: fill @n values of @vq, in @names order, without taking locks
 *	(generated with VHOSTX_STAT_GET_U64 / _ATOMIC and VHOSTX_STATE_GET)
 */
struct vhostx_stats_table {
	const char *const *names;
	unsigned int n;
	void (*get)(struct vhostx_vq *vq, u64 *v);
};

/*
 * A ring's three areas, in ring order (packed: descriptors, driver and
 * device event areas).
 */
enum vhostx_ring_area {
	VHOSTX_AREA_DESC,
	VHOSTX_AREA_AVAIL,
	VHOSTX_AREA_USED,
	VHOSTX_NR_AREAS,
};

/**
 * struct vhostx_ring_ops - one ring format
 * @name: the format's name ("split", "packed")
 * @area_size: bytes of one &enum vhostx_ring_area for the vq's ring size
 * @activate: the core (re)translated the ring's areas (vq->area_uaddr[],
 *	after vhostx_vq_start(), an address or size change, or an IOTLB
 *	change): forget anything read through the old ones; with @first
 *	(the first time since vhostx_vq_start()) also sync with the ring in
 *	guest memory.  0 or an errno (the queue is then stopped).  The core
 *	calls it; nothing else tells a ring format its memory moved
 * @get_buf: take the next available buffer; see vhostx_get_buf().  Before
 *	it reads guest memory to learn whether new buffers arrived (split:
 *	the avail index; packed: the flags of the next descriptor, once
 *	they said "none"), it publishes the used entries batched with
 *	vhostx_add_used_batched() (vhostx_flush_used()): the driver may be
 *	waiting for them before it adds more
 * @unget: give back the last buffers taken; see vhostx_unget()
 * @add_used_n: publish completed buffers; see vhostx_add_used_n().  With
 *	VIRTIO_F_IN_ORDER the format may leave out the entries flagged
 *	%VHOSTX_USED_F_IMPLIED before the last one of the call (one used
 *	entry, or descriptor, for the batch), but the used index moves by
 *	@count
 * @need_signal: after @add_used_n, does the driver want its call eventfd
 *	signalled (flags or used event index)?
 * @enable_notify: ask for kicks again; true if buffers arrived meanwhile
 * @disable_notify: tell the driver kicks are not needed (a handler runs)
 * @mute_notify: the same for a queue nothing kicked, which is watched
 *	instead (busy polling): no kick at all until @enable_notify
 * @avail_empty: true if no buffer is available
 * @check_num: is @num a ring size this format allows (VHOST_SET_VRING_NUM)?
 * @reset: put the format's state (vq->last_avail_idx, vq->last_used_idx,
 *	&vq->rs) in its initial state: at open, reset and when the features
 *	choose this format
 * @set_base: VHOST_SET_VRING_BASE: take the ring position from @num (its
 *	encoding is the format's); 0 or -EINVAL
 * @get_base: VHOST_GET_VRING_BASE: the ring position, encoded the same way
 * @area_perm: how the device accesses each &enum vhostx_ring_area
 *	(VHOST_MAP_RO, _WO or _RW): the IOTLB permission it needs
 *
 * All are called with the vq mutex held, from the worker or an ioctl
 * (the vhostx_*() wrappers assert it); @area_size also from ioctls that
 * hold only dev->mutex (vq->num and the features change under both);
 * @check_num from anywhere.  Backends use the vhostx_*() wrappers; the
 * format of a vq is chosen by the core alone, when the features are set
 * (%VIRTIO_F_RING_PACKED: packed, else split).
 */
struct vhostx_ring_ops {
	const char *name;
	u64 (*area_size)(struct vhostx_vq *vq, int area);
	int (*activate)(struct vhostx_vq *vq, bool first);
	int (*get_buf)(struct vhostx_vq *vq, struct vhostx_buf *buf,
		       struct iovec *iov, unsigned int iov_max,
		       struct vhostx_log *log, unsigned int log_max);
	void (*unget)(struct vhostx_vq *vq, unsigned int nbufs);
	int (*add_used_n)(struct vhostx_vq *vq, const struct vhostx_used *used,
			  unsigned int count);
	bool (*need_signal)(struct vhostx_vq *vq);
	bool (*enable_notify)(struct vhostx_vq *vq);
	void (*disable_notify)(struct vhostx_vq *vq);
	void (*mute_notify)(struct vhostx_vq *vq);
	bool (*avail_empty)(struct vhostx_vq *vq);
	bool (*check_num)(unsigned int num);
	void (*reset)(struct vhostx_vq *vq);
	int (*set_base)(struct vhostx_vq *vq, u32 num);
	u32 (*get_base)(struct vhostx_vq *vq);
	u32 area_perm[VHOSTX_NR_AREAS];
};

#define VHOSTX_IOV_MAX		UIO_MAXIOV
#define VHOSTX_INDIRECT_MAX	1024	/* entries in one indirect table */
#define VHOSTX_RING_MAX		32768	/* largest ring size */
#define VHOSTX_AVAIL_AHEAD	64	/* avail entries the split ring reads at once */

/**
 * struct vhostx_split_state - the split ring's private state
 * @avail_idx: last avail index read from the guest
 * @used_flags: the used ring's flags as last written
 * @signalled_used: used index at the last signal (event index)
 * @signalled_used_valid: @signalled_used may be used
 * @ahead_start: read-ahead: first avail index held in @ahead
 * @ahead_end: one past the last; the range is emptied whenever the
 *	ring's addresses are (re)checked
 * @ahead: avail entries read ahead in one pass
 * @next_head: VIRTIO_F_IN_ORDER: the head the driver must make available
 *	next (descriptors are used in table order)
 * @next_head_known: @next_head may be checked; false until a buffer was
 *	taken since the ring was (re)activated or buffers were given back
 */
struct vhostx_split_state {
	u16 avail_idx;
	u16 used_flags;
	u16 signalled_used;
	bool signalled_used_valid;
	u16 ahead_start;
	u16 ahead_end;
	__virtio16 ahead[VHOSTX_AVAIL_AHEAD];
	u16 next_head;
	bool next_head_known;
};

/**
 * struct vhostx_packed_state - the packed ring's private state
 * @avail_wrap: the driver's wrap counter at vq->last_avail_idx
 * @used_wrap: the device's wrap counter at vq->last_used_idx
 * @event_flags: the device event area's flags as last written
 * @kicks_off: kicks are not wanted (a handler runs, or they are muted)
 * @signalled_used: vq->last_used_idx at the last signal (event index)
 * @signalled_wrap: @used_wrap then
 * @signalled_used_valid: @signalled_used may be used
 * @hist_pos: next slot of @hist
 * @hist_n: valid entries in @hist (buffers vhostx_unget() may give back)
 * @hist: descriptors each of the last buffers taken used, newest at
 *	@hist_pos - 1, for vhostx_unget()
 * @hist_id: their buffer ids
 * @inflight: buffer ids taken and not yet used or given back; a driver
 *	that makes one of them available again broke the ring (an id is
 *	the driver's to reuse only once the device has used its buffer)
 */
struct vhostx_packed_state {
	bool avail_wrap;
	bool used_wrap;
	u16 event_flags;
	bool kicks_off;
	u16 signalled_used;
	bool signalled_wrap;
	bool signalled_used_valid;
	u16 hist_pos;
	u16 hist_n;
	u16 hist[VHOSTX_IOV_MAX];
	u16 hist_id[VHOSTX_IOV_MAX];
	DECLARE_BITMAP(inflight, VHOSTX_RING_MAX);
};

/**
 * union vhostx_ring_state - a ring format's private state
 * @split: the split ring's (&vhostx_split_ring_ops)
 * @packed: the packed ring's (&vhostx_packed_ring_ops)
 *
 * Only the vq's format touches it; backends never do.
 */
union vhostx_ring_state {
	struct vhostx_split_state split;
	struct vhostx_packed_state packed;
};

/**
 * struct vhostx_vq - one virtqueue
 * @dev: the device it belongs to
 * @index: its index in the device's vq array
 * @mutex: protects every field below it
 * @handle_kick: the backend's kick handler, set before vhostx_dev_init()
 * @num: ring size (VHOST_SET_VRING_NUM)
 * @area_addr: the ring areas' addresses as given (user address or IOVA)
 * @area_uaddr: the same, translated and checked (valid with @meta_ready)
 * @meta_ready: @area_uaddr is valid
 * @ring_started: @ring's activate() synced with the ring since the vq
 *	was started
 * @ring: the ring format's operations
 * @kick: kick eventfd file (VHOST_SET_VRING_KICK)
 * @call_ctx: call eventfd (VHOST_SET_VRING_CALL)
 * @error_ctx: error eventfd (VHOST_SET_VRING_ERR)
 * @log_ctx: dirty-log eventfd (the device's, VHOST_SET_LOG_FD)
 * @poll: turns wakeups on @kick into @handle_kick runs
 * @last_avail_idx: next avail entry to take (split: the avail index;
 *	packed: the descriptor ring slot)
 * @last_used_idx: next used entry to write (split: the used index;
 *	packed: the descriptor ring slot)
 * @broken: a guest error stopped the queue until it is reset
 * @stopped: VHOST_GET_VRING_BASE was called
 * @is_le: the ring is little-endian (VERSION_1 or legacy LE)
 * @log_used: VHOST_VRING_F_LOG: log writes to the used ring
 * @log_addr: guest address of the used ring, for the dirty log
 * @log_base: the dirty-log bitmap (VHOST_SET_LOG_BASE)
 * @umem: the device's memory table
 * @iotlb: the device's IOTLB (ACCESS_PLATFORM), else NULL
 * @xlate_hit: memory-table mode with disjoint regions: the region the
 *	last translation hit, tried first (reset with @umem)
 * @xlate_cache: @xlate_hit may be used
 * @acked_features: virtio features the driver accepted
 * @acked_backend_features: VHOST_BACKEND_F_* bits accepted
 * @busyloop_timeout: busy-poll time in microseconds, 0 for none
 * @private_data: backend state; NULL when stopped
 * @worker: the worker thread running this vq's work; RCU-protected,
 *	changed under dev->mutex (not @mutex)
 * @stats: its counters
 * @batch: the backend's array for vhostx_add_used_batched(), or NULL
 * @batch_max: its size
 * @batch_n: entries in it not published yet (0 whenever @mutex is free)
 * @indirect_iov: scratch for the ring engine: an indirect table's pages
 * @rs: the ring format's private state
 *
 * Ioctls take @mutex to change state; the worker holds it while running
 * the backend's handler.
 */
struct vhostx_vq {
	struct vhostx_dev *dev;
	unsigned int index;
	struct mutex mutex;

	vhostx_work_fn_t handle_kick;

	unsigned int num;
	u64 area_addr[VHOSTX_NR_AREAS];
	void __user *area_uaddr[VHOSTX_NR_AREAS];
	bool meta_ready;
	bool ring_started;
	const struct vhostx_ring_ops *ring;

	struct file *kick;
	struct eventfd_ctx *call_ctx;
	struct eventfd_ctx *error_ctx;
	struct eventfd_ctx *log_ctx;
	struct vhostx_poll poll;

	u16 last_avail_idx;
	u16 last_used_idx;
	bool broken;
	bool stopped;
	bool is_le;

	bool log_used;
	u64 log_addr;
	void __user *log_base;

	struct vhost_iotlb *umem;
	struct vhost_iotlb *iotlb;
	struct vhost_iotlb_map *xlate_hit;
	bool xlate_cache;

	u64 acked_features;
	u64 acked_backend_features;
	u32 busyloop_timeout;

	void *private_data;
	struct vhostx_worker __rcu *worker;
	struct vhostx_vq_stats stats;

	struct vhostx_used *batch;
	u16 batch_max;
	u16 batch_n;

	struct iovec indirect_iov[8];
	union vhostx_ring_state rs;
};

/**
 * struct vhostx_backend_ops - what a backend tells the core
 * @name: short name, used for worker threads and debugfs ("net", "test")
 * @features: virtio feature bits the device offers
 * @backend_features: VHOST_BACKEND_F_* bits the device offers
 * @weight: most buffers one handler run may process before yielding
 *	(vhostx_exceeds_weight(); 0: no limit, or a backend with a budget
 *	that changes at run time passes it to vhostx_exceeds_budget())
 * @byte_weight: most bytes one handler run may move before yielding
 * @ioctl: backend-specific ioctls: those the core does not handle, called
 *	with dev->mutex HELD (taken once by vhostx_fops_ioctl() for the whole
 *	ioctl) and after the owner check; it may take vq mutexes and flush
 *	workers (no work takes dev->mutex), but must not take dev->mutex;
 *	return -ENOIOCTLCMD for unknown ones
 * @features_changed: called with the dev mutex held after a
 *	VHOST_SET_FEATURES was accepted and copied into every vq
 * @set_base: VHOST_SET_VRING_BASE gave a vq without a backend a new
 *	base (the VMM reset or restores the ring; vq->mutex held): drop
 *	anything still held for buffers of the ring before it (used entries
 *	that could not be returned), which now belong to nobody.  NULL if
 *	the backend holds nothing past a detach
 * @stop: detach every vq's backend and stop all I/O.  The core calls it
 *	for VHOST_RESET_OWNER with dev->mutex held (so it may take vq
 *	mutexes and flush, but not dev->mutex); backends call it themselves
 *	in release, before vhostx_dev_cleanup()
 * @vq_stats: the backend's own per-queue columns, printed after the
 *	core's in debugfs and fdinfo; NULL for none
 */
struct vhostx_backend_ops {
	const char *name;
	u64 features;
	u64 backend_features;
	int weight;
	int byte_weight;
	long (*ioctl)(struct vhostx_dev *dev, unsigned int cmd,
		      void __user *argp);
	int (*features_changed)(struct vhostx_dev *dev, u64 features);
	void (*set_base)(struct vhostx_vq *vq);
	void (*stop)(struct vhostx_dev *dev);
	const struct vhostx_stats_table *vq_stats;
};

/**
 * struct vhostx_dev - one open device file
 * @mutex: held for the whole of every ioctl (vhostx_fops_ioctl()), by
 *	IOTLB message writes and by vhostx_dev_cleanup(); never by work
 * @ops: the backend's operations
 * @mm: the owner's mm, NULL without an owner
 * @vqs: the backend's virtqueues
 * @nvqs: how many
 * @umem: the memory table (VHOST_SET_MEM_TABLE)
 * @iotlb: the device IOTLB (ACCESS_PLATFORM), else NULL
 * @iotlb_lock: protects @read_list and @pending_list
 * @read_list: IOTLB messages waiting for userspace to read them
 * @pending_list: misses read by userspace, waiting for an update
 * @wait: woken when @read_list gains a message or the device goes away
 * @log_ctx: dirty-log eventfd (VHOST_SET_LOG_FD)
 * @worker_xa: the device's workers by id
 * @fork_owner: VHOST_FORK_OWNER_TASK or VHOST_FORK_OWNER_KTHREAD, the kind
 *	of worker VHOST_SET_OWNER and VHOST_NEW_WORKER make (always
 *	KTHREAD on a kernel without vhost_task)
 * @index: unique per open, names the debugfs directory
 * @debugfs: that directory
 */
struct vhostx_dev {
	struct mutex mutex;
	const struct vhostx_backend_ops *ops;
	struct mm_struct *mm;
	struct vhostx_vq **vqs;
	int nvqs;

	struct vhost_iotlb *umem;
	struct vhost_iotlb *iotlb;
	spinlock_t iotlb_lock;
	struct list_head read_list;
	struct list_head pending_list;
	wait_queue_head_t wait;

	struct eventfd_ctx *log_ctx;
	struct xarray worker_xa;
	u8 fork_owner;
	u32 index;
	struct dentry *debugfs;
};

/* vhostx_dev_*: lifecycle, called by the backend's open/release. */
int vhostx_dev_init(struct vhostx_dev *dev, struct vhostx_vq **vqs,
		    int nvqs, const struct vhostx_backend_ops *ops);
void vhostx_dev_cleanup(struct vhostx_dev *dev);

/* File operations a backend plugs into its struct file_operations. */
long vhostx_fops_ioctl(struct file *f, unsigned int cmd, unsigned long arg);
ssize_t vhostx_fops_read_iter(struct kiocb *iocb, struct iov_iter *to);
ssize_t vhostx_fops_write_iter(struct kiocb *iocb, struct iov_iter *from);
__poll_t vhostx_fops_poll(struct file *f, poll_table *wait);
void vhostx_fops_show_fdinfo(struct seq_file *m, struct file *f);

/*
 * A backend's struct file_operations: its own open and release, the core's
 * everything else.  static const struct file_operations my_fops =
 * VHOSTX_FILE_OPERATIONS(my_open, my_release);
 */
#define VHOSTX_FILE_OPERATIONS(open_fn, release_fn) {			\
	.owner		= THIS_MODULE,					\
	.open		= (open_fn),					\
	.release	= (release_fn),					\
	.unlocked_ioctl	= vhostx_fops_ioctl,				\
	.compat_ioctl	= compat_ptr_ioctl,				\
	.read_iter	= vhostx_fops_read_iter,			\
	.write_iter	= vhostx_fops_write_iter,			\
	.poll		= vhostx_fops_poll,				\
	.show_fdinfo	= vhostx_fops_show_fdinfo,			\
	.llseek		= noop_llseek,					\
}

/* Virtqueue state. */
static inline bool vhostx_has_feature(struct vhostx_vq *vq, int bit)
{
	return vq->acked_features & BIT_ULL(bit);
}

static inline bool vhostx_has_backend_feature(struct vhostx_vq *vq, int bit)
{
	return vq->acked_backend_features & BIT_ULL(bit);
}

static inline void *vhostx_vq_get_backend(struct vhostx_vq *vq)
{
	return vq->private_data;
}

int vhostx_vq_start(struct vhostx_vq *vq, void *private_data);
void vhostx_vq_stop(struct vhostx_vq *vq);
bool vhostx_vq_access_ok(struct vhostx_vq *vq);
void vhostx_vq_err(struct vhostx_vq *vq, const char *fmt, ...) __printf(2, 3);

/* Rings: get buffers, return them, notifications. */
int vhostx_get_buf(struct vhostx_vq *vq, struct vhostx_buf *buf,
		   struct iovec *iov, unsigned int iov_max,
		   struct vhostx_log *log, unsigned int log_max);
void vhostx_unget(struct vhostx_vq *vq, unsigned int nbufs);
int vhostx_add_used(struct vhostx_vq *vq, u32 id, u32 len, u16 ndesc);
int vhostx_add_used_n(struct vhostx_vq *vq, const struct vhostx_used *used,
		      unsigned int count);
void vhostx_signal(struct vhostx_vq *vq);
void vhostx_vq_set_used_batch(struct vhostx_vq *vq, struct vhostx_used *used,
			      unsigned int max);
int vhostx_add_used_batch_end(struct vhostx_vq *vq,
			      const struct vhostx_buf *buf, u32 len);
void vhostx_publish_used(struct vhostx_vq *vq);
void vhostx_add_used_and_signal_n(struct vhostx_vq *vq,
				  const struct vhostx_used *used,
				  unsigned int count);
bool vhostx_enable_notify(struct vhostx_vq *vq);
void vhostx_disable_notify(struct vhostx_vq *vq);
void vhostx_mute_notify(struct vhostx_vq *vq);
bool vhostx_avail_empty(struct vhostx_vq *vq);
bool vhostx_exceeds_budget(struct vhostx_vq *vq, int bufs, size_t bytes,
			   int weight, int byte_weight);

/*
 * The per-buffer calls of a batching handler, inline: each buffer costs a
 * few stores and compares, and only the buffer that fills the batch, a
 * flush with entries pending or a run over its budget calls into the core.
 */

/**
 * vhostx_add_used_batched() - return one buffer, published with others
 * @vq: the virtqueue; vq->mutex held
 * @buf: the buffer, as vhostx_get_buf() returned it
 * @len: bytes written into the buffer
 *
 * The entry goes into the array given with vhostx_vq_set_used_batch().
 * The batch is published (one used index write, one signal check) when
 * it is full, when vhostx_get_buf() is about to read the ring from guest
 * memory again (it has taken every buffer it knew of), at
 * vhostx_enable_notify(), and at vhostx_flush_used(): never later than
 * the driver could notice.  Without an array the entry is published at
 * once.  A buffer written whole (@len is its writable length, 0 without
 * one) is %VHOSTX_USED_F_IMPLIED: with VIRTIO_F_IN_ORDER the batch's last
 * entry may stand for it.
 *
 * Return: 0, or the errno of publishing a full batch (the queue is then
 * stopped).
 */
static inline int vhostx_add_used_batched(struct vhostx_vq *vq,
					  const struct vhostx_buf *buf,
					  u32 len)
{
	struct vhostx_used *u;

	lockdep_assert_held(&vq->mutex);
	/* No array (batch_max 0), or this entry fills it. */
	if (unlikely(vq->batch_n + 1 >= vq->batch_max))
		return vhostx_add_used_batch_end(vq, buf, len);
	u = &vq->batch[vq->batch_n++];
	u->id = buf->id;
	u->len = len;
	u->ndesc = buf->ndesc;
	u->flags = vhostx_used_flags(buf, len);
	return 0;
}

/**
 * vhostx_flush_used() - publish the batched used entries and signal
 * @vq: the virtqueue; vq->mutex held
 *
 * A backend that batches calls it before it drops vq->mutex: entries
 * still in the batch are not visible to the driver.  Nothing to publish
 * costs no call.
 */
static inline void vhostx_flush_used(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->batch_n)
		vhostx_publish_used(vq);
}

/**
 * vhostx_exceeds_weight() - has a handler run used up its budget?
 * @vq: the virtqueue; vq->mutex held (a handler's run)
 * @bufs: buffers handled in this run
 * @bytes: bytes moved in this run
 *
 * vhostx_exceeds_budget() with the backend's fixed ops->weight and
 * ops->byte_weight; a run within them costs no call.
 *
 * Return: true if the handler must return now.
 */
static inline bool vhostx_exceeds_weight(struct vhostx_vq *vq, int bufs,
					 size_t bytes)
{
	const struct vhostx_backend_ops *ops = vq->dev->ops;

	if (likely((ops->weight <= 0 || bufs < ops->weight) &&
		   (ops->byte_weight <= 0 || bytes < (size_t)ops->byte_weight)))
		return false;
	return vhostx_exceeds_budget(vq, bufs, bytes, ops->weight,
				     ops->byte_weight);
}

/* Dirty logging. */
static inline bool vhostx_logging(struct vhostx_vq *vq)
{
	return vhostx_has_feature(vq, VHOST_F_LOG_ALL);
}

int vhostx_log_write(struct vhostx_vq *vq, const struct vhostx_log *log,
		     unsigned int nlog, u64 len);

/* Work and polling. */
void vhostx_work_init(struct vhostx_work *work, vhostx_work_fn_t fn);
bool vhostx_vq_work_queue(struct vhostx_vq *vq, struct vhostx_work *work);
bool vhostx_vq_has_work(struct vhostx_vq *vq);
void vhostx_vq_flush(struct vhostx_vq *vq);
void vhostx_vq_lock(struct vhostx_vq *vq);
void vhostx_poll_init(struct vhostx_poll *poll, vhostx_work_fn_t fn,
		      __poll_t mask, struct vhostx_vq *vq);
int vhostx_poll_start(struct vhostx_poll *poll, struct file *file);
void vhostx_poll_stop(struct vhostx_poll *poll);
void vhostx_poll_queue(struct vhostx_poll *poll);

/*
 * Endianness of the ring and headers (virtio 1.0 is little-endian, legacy
 * rings have the host's order: there are no cross-endian rings, as
 * VHOST_SET_VRING_ENDIAN is not offered).  On a little-endian host every
 * ring is little-endian, and the compiler drops the test on every access.
 */
static inline bool vhostx_is_le(const struct vhostx_vq *vq)
{
	return virtio_legacy_is_little_endian() || vq->is_le;
}

static inline u16 vhostx16_to_cpu(struct vhostx_vq *vq, __virtio16 val)
{
	return __virtio16_to_cpu(vhostx_is_le(vq), val);
}

static inline __virtio16 cpu_to_vhostx16(struct vhostx_vq *vq, u16 val)
{
	return __cpu_to_virtio16(vhostx_is_le(vq), val);
}

static inline u32 vhostx32_to_cpu(struct vhostx_vq *vq, __virtio32 val)
{
	return __virtio32_to_cpu(vhostx_is_le(vq), val);
}

static inline __virtio32 cpu_to_vhostx32(struct vhostx_vq *vq, u32 val)
{
	return __cpu_to_virtio32(vhostx_is_le(vq), val);
}

static inline u64 vhostx64_to_cpu(struct vhostx_vq *vq, __virtio64 val)
{
	return __virtio64_to_cpu(vhostx_is_le(vq), val);
}

/* Features every vhostx device offers, whatever the backend. */
#define VHOSTX_CORE_FEATURES (BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY) |	\
			      BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |	\
			      BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |	\
			      BIT_ULL(VHOST_F_LOG_ALL) |		\
			      BIT_ULL(VIRTIO_F_ANY_LAYOUT) |		\
			      BIT_ULL(VIRTIO_F_VERSION_1) |		\
			      BIT_ULL(VIRTIO_F_IN_ORDER))

#endif /* _VHOSTX_VHOSTX_H */
