// SPDX-License-Identifier: GPL-2.0
/*
 * Virtqueues: the vring ioctls, starting and stopping a queue, errors,
 * and the ring-format-independent calls backends make.
 */
#include <linux/file.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>
#include "internal.h"

/**
 * vhostx_vq_err() - a guest error: stop the queue and tell userspace
 * @vq: the virtqueue; vq->mutex held
 * @fmt: what went wrong
 *
 * The queue stays stopped (vhostx_get_buf() fails) until the backend
 * restarts it or VHOST_SET_VRING_BASE resets it.  The vring's err
 * eventfd is signalled.  The message is rate-limited: a guest controls it.
 */
void vhostx_vq_err(struct vhostx_vq *vq, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	lockdep_assert_held(&vq->mutex);
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info_ratelimited("vhostx: %s.%u vq %u stopped: %pV\n",
			    vq->dev->ops->name, vq->dev->index, vq->index, &vaf);
	va_end(args);
	vq->broken = true;
	vq->stats.errors++;
	if (vq->error_ctx)
		vhostx_eventfd_signal(vq->error_ctx);
}
EXPORT_SYMBOL_GPL(vhostx_vq_err);

/**
 * vhostx_vq_init() - one-time set-up of a vq at open
 * @vq: the virtqueue
 * @dev: its device
 */
void vhostx_vq_init(struct vhostx_vq *vq, struct vhostx_dev *dev)
{
	mutex_init(&vq->mutex);
	vq->dev = dev;
	vhostx_poll_init(&vq->poll, vq->handle_kick, EPOLLIN, vq);
	vhostx_vq_reset(vq);
}

/**
 * vhostx_ring_for() - the ring format a feature set selects
 * @features: virtio features
 *
 * Return: the packed ring's operations with %VIRTIO_F_RING_PACKED, else
 * the split ring's.
 */
const struct vhostx_ring_ops *vhostx_ring_for(u64 features)
{
	if (features & BIT_ULL(VIRTIO_F_RING_PACKED))
		return &vhostx_packed_ring_ops;
	return &vhostx_split_ring_ops;
}

/**
 * vhostx_vq_set_features() - accept features; the one place the ring
 *	format of a vq is chosen
 * @vq: the virtqueue; vq->mutex held.  If it is started, the caller
 *	checked that @features keep its format (vhostx_ring_for())
 * @features: the accepted virtio features
 *
 * A new format starts from its initial state (base 0); the ring is
 * revalidated on next use either way.
 */
void vhostx_vq_set_features(struct vhostx_vq *vq, u64 features)
{
	const struct vhostx_ring_ops *ring = vhostx_ring_for(features);

	lockdep_assert_held(&vq->mutex);
	if (ring != vq->ring && !vq->private_data) {
		vq->ring = ring;
		ring->reset(vq);
		vq->ring_started = false;
	}
	vq->acked_features = features;
	vq->is_le = vhostx_has_feature(vq, VIRTIO_F_VERSION_1) ||
		    virtio_legacy_is_little_endian();
	vq->meta_ready = false;
}

/**
 * vhostx_vq_reset() - drop a vq's files and return it to its open state
 * @vq: the virtqueue; kick poll stopped, no worker attached
 */
void vhostx_vq_reset(struct vhostx_vq *vq)
{
	if (vq->kick)
		fput(vq->kick);
	if (vq->call_ctx)
		eventfd_ctx_put(vq->call_ctx);
	if (vq->error_ctx)
		eventfd_ctx_put(vq->error_ctx);
	vq->kick = NULL;
	vq->call_ctx = NULL;
	vq->error_ctx = NULL;
	vq->log_ctx = NULL;
	vq->num = 1;
	memset(vq->area_addr, 0, sizeof(vq->area_addr));
	memset(vq->area_uaddr, 0, sizeof(vq->area_uaddr));
	vq->meta_ready = false;
	vq->ring_started = false;
	vq->ring = &vhostx_split_ring_ops;
	vq->ring->reset(vq);
	vq->broken = false;
	vq->stopped = false;
	vq->is_le = virtio_legacy_is_little_endian();
	vq->log_used = false;
	vq->log_addr = -1ULL;
	vq->log_base = NULL;
	vq->umem = NULL;
	vq->xlate_hit = NULL;
	vq->xlate_cache = false;
	vq->iotlb = NULL;
	vq->acked_features = 0;
	vq->acked_backend_features = 0;
	vq->busyloop_timeout = 0;
	vq->private_data = NULL;
	vq->batch_n = 0;
	memset(&vq->stats, 0, sizeof(vq->stats));
}

/* Do the ring areas and the used-ring log fit in user memory? */
static bool vhostx_vq_areas_ok(struct vhostx_vq *vq, const u64 *addr,
			       bool log_used, u64 log_addr)
{
	int a;

	if (log_used &&
	    !vhostx_log_access_ok(vq->log_base, log_addr,
				  vq->ring->area_size(vq, VHOSTX_AREA_USED)))
		return false;
	/* With an IOTLB, areas are IOVAs: checked when translated. */
	if (vq->iotlb)
		return true;
	for (a = 0; a < VHOSTX_NR_AREAS; a++)
		if (!access_ok((void __user *)(uintptr_t)addr[a],
			       vq->ring->area_size(vq, a)))
			return false;
	return true;
}

/**
 * vhostx_vq_access_ok() - may a backend start this vq?
 * @vq: the virtqueue; vq->mutex held
 *
 * Checks, as the kernel's vhost does, the memory table (there must be
 * one), with VHOST_F_LOG_ALL that the vq's dirty log covers it, the used
 * ring's log, and (without an IOTLB) the ring areas, against the owner's
 * address space.
 *
 * Return: true if the rings, memory and log are in user memory.
 */
bool vhostx_vq_access_ok(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (!vhostx_mem_log_ok(vq->umem, vq->log_base, vhostx_logging(vq)))
		return false;
	return vhostx_vq_areas_ok(vq, vq->area_addr, vq->log_used,
				  vq->log_addr);
}
EXPORT_SYMBOL_GPL(vhostx_vq_access_ok);

/*
 * Make the ring usable after vhostx_vq_start() or a change of its
 * addresses, size or mappings (which clear meta_ready): translate and
 * check its areas (mem.c), then let the ring format take them
 * (activate(): drop what it read from the old ones and, on first use
 * since the start, sync with the ring in guest memory).
 */
static int vhostx_vq_activate(struct vhostx_vq *vq)
{
	u64 sizes[VHOSTX_NR_AREAS];
	int a, ret;

	if (likely(vq->meta_ready))
		return 0;
	/* The size was checked for the format in force when it was set. */
	if (!vq->ring->check_num(vq->num))
		return -EINVAL;
	for (a = 0; a < VHOSTX_NR_AREAS; a++)
		sizes[a] = vq->ring->area_size(vq, a);
	ret = vhostx_meta_prefetch(vq, sizes);
	if (ret)
		return ret;
	ret = vq->ring->activate(vq, !vq->ring_started);
	if (ret)
		return ret;
	vq->ring_started = true;
	vq->meta_ready = true;
	return 0;
}

/**
 * vhostx_vq_start() - attach a backend and (re)start the ring
 * @vq: the virtqueue; vq->mutex held
 * @private_data: backend state, returned by vhostx_vq_get_backend()
 *
 * Clears a stopped or broken state and syncs with the used ring in guest
 * memory (with an IOTLB, on first use after the needed mappings arrive;
 * but, as with the kernel's vhost, the used flags and index must be
 * mapped now).
 *
 * Return: 0, or -EFAULT if the rings are not accessible.
 */
int vhostx_vq_start(struct vhostx_vq *vq, void *private_data)
{
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (vq->iotlb && !vhostx_iotlb_used_ok(vq))
		return -EFAULT;
	vq->is_le = vhostx_has_feature(vq, VIRTIO_F_VERSION_1) ||
		    virtio_legacy_is_little_endian();
	vq->meta_ready = false;
	vq->ring_started = false;
	vq->broken = false;
	vq->stopped = false;
	vq->batch_n = 0;
	vq->private_data = private_data;
	/* A miss userspace left unanswered is reported again. */
	vhostx_iotlb_forget(vq);

	ret = vhostx_vq_activate(vq);
	if (ret && ret != -EAGAIN) {
		vq->private_data = NULL;
		return -EFAULT;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vhostx_vq_start);

/**
 * vhostx_vq_stop() - detach the backend; the ring state is kept
 * @vq: the virtqueue; vq->mutex held
 */
void vhostx_vq_stop(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	vq->private_data = NULL;
}
EXPORT_SYMBOL_GPL(vhostx_vq_stop);

/* Ring metadata ready?  Reports a bad ring as a guest error. */
static int vhostx_vq_ready(struct vhostx_vq *vq)
{
	int ret;

	if (unlikely(vq->broken || vq->stopped))
		return -EIO;
	if (likely(vq->meta_ready))
		return 0;
	ret = vhostx_vq_activate(vq);
	if (unlikely(ret) && ret != -EAGAIN)
		vhostx_vq_err(vq, "ring not accessible (%d)", ret);
	return ret;
}

/**
 * vhostx_get_buf() - take the next available buffer
 * @vq: the virtqueue; vq->mutex held
 * @buf: filled with the buffer's id and iovec counts
 * @iov: iovecs, readable (out) ones first, then writable (in) ones
 * @iov_max: room in @iov
 * @log: when not NULL, filled with the writable ranges for dirty logging
 * @log_max: room in @log
 *
 * Used entries batched with vhostx_add_used_batched() are published
 * before the ring is read from guest memory for new buffers: the driver
 * may be waiting for them before it adds more (each ring format does
 * that in its get_buf, &struct vhostx_ring_ops).
 *
 * Return: 1 with a buffer, 0 if the ring is empty, -EAGAIN if an IOTLB
 * miss is pending (the vq's kick work is requeued after the update),
 * another errno if the queue is stopped (a guest error was reported).
 */
int vhostx_get_buf(struct vhostx_vq *vq, struct vhostx_buf *buf,
		   struct iovec *iov, unsigned int iov_max,
		   struct vhostx_log *log, unsigned int log_max)
{
	int ret;

	lockdep_assert_held(&vq->mutex);
	ret = vhostx_vq_ready(vq);
	if (ret)
		return ret;
	return INDIRECT_CALL_1(vq->ring->get_buf, vhostx_split_get_buf,
			       vq, buf, iov, iov_max, log, log_max);
}
EXPORT_SYMBOL_GPL(vhostx_get_buf);

/**
 * vhostx_unget() - give back buffers taken but not used
 * @vq: the virtqueue; vq->mutex held
 * @nbufs: how many of the last vhostx_get_buf() buffers to give back
 */
void vhostx_unget(struct vhostx_vq *vq, unsigned int nbufs)
{
	lockdep_assert_held(&vq->mutex);
	INDIRECT_CALL_1(vq->ring->unget, vhostx_split_unget, vq, nbufs);
}
EXPORT_SYMBOL_GPL(vhostx_unget);

/**
 * vhostx_add_used_n() - return buffers to the driver
 * @vq: the virtqueue; vq->mutex held
 * @used: the buffers, in completion order
 * @count: number of buffers
 *
 * Return: 0, or an errno (the queue is then stopped).
 */
int vhostx_add_used_n(struct vhostx_vq *vq, const struct vhostx_used *used,
		      unsigned int count)
{
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!count)
		return 0;
	ret = vhostx_vq_ready(vq);
	if (ret)
		return ret;
	ret = INDIRECT_CALL_1(vq->ring->add_used_n, vhostx_split_add_used_n,
			      vq, used, count);
	if (ret) {
		vhostx_vq_err(vq, "cannot write the used ring (%d)", ret);
		return ret;
	}
	vq->stats.bufs += count;
	vq->stats.batches++;
	return 0;
}
EXPORT_SYMBOL_GPL(vhostx_add_used_n);

/**
 * vhostx_add_used() - return one buffer to the driver
 * @vq: the virtqueue; vq->mutex held
 * @id: buffer id from struct vhostx_buf
 * @len: bytes written into the buffer
 * @ndesc: descriptors of the buffer (from struct vhostx_buf)
 *
 * Return: 0, or an errno (the queue is then stopped).
 */
int vhostx_add_used(struct vhostx_vq *vq, u32 id, u32 len, u16 ndesc)
{
	struct vhostx_used used = { .id = id, .len = len, .ndesc = ndesc };

	lockdep_assert_held(&vq->mutex);
	return vhostx_add_used_n(vq, &used, 1);
}
EXPORT_SYMBOL_GPL(vhostx_add_used);

/**
 * vhostx_signal() - signal the call eventfd if the driver wants it
 * @vq: the virtqueue; vq->mutex held, after vhostx_add_used_n()
 */
void vhostx_signal(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (!vq->call_ctx || !vq->meta_ready)
		return;
	if (INDIRECT_CALL_1(vq->ring->need_signal, vhostx_split_need_signal,
			    vq)) {
		vhostx_eventfd_signal(vq->call_ctx);
		vq->stats.calls++;
	} else {
		vq->stats.calls_suppressed++;
	}
}
EXPORT_SYMBOL_GPL(vhostx_signal);

/**
 * vhostx_add_used_and_signal_n() - vhostx_add_used_n() + vhostx_signal()
 * @vq: the virtqueue; vq->mutex held
 * @used: the buffers
 * @count: number of buffers
 */
void vhostx_add_used_and_signal_n(struct vhostx_vq *vq,
				  const struct vhostx_used *used,
				  unsigned int count)
{
	lockdep_assert_held(&vq->mutex);
	/* Nothing new: the driver has nothing to be told about. */
	if (count && !vhostx_add_used_n(vq, used, count))
		vhostx_signal(vq);
}
EXPORT_SYMBOL_GPL(vhostx_add_used_and_signal_n);

/**
 * vhostx_log_write() - mark the pages a backend wrote into buffers
 * @vq: the virtqueue; vq->mutex held
 * @log: ranges from vhostx_get_buf(), in buffer order
 * @nlog: number of ranges
 * @len: bytes written, from the start of the first range
 *
 * Signals the log eventfd.  A failure stops the queue.
 *
 * Return: 0 or an errno.
 */
int vhostx_log_write(struct vhostx_vq *vq, const struct vhostx_log *log,
		     unsigned int nlog, u64 len)
{
	unsigned int i;
	int ret;

	lockdep_assert_held(&vq->mutex);
	/* Buffer contents must be visible before the log says so. */
	smp_wmb();
	for (i = 0; i < nlog && len; i++) {
		u64 l = min(log[i].len, len);

		ret = vhostx_log_range(vq, log[i].addr, l);
		if (ret) {
			vhostx_vq_err(vq, "cannot log a write at 0x%llx: %d",
				      log[i].addr, ret);
			return ret;
		}
		len -= l;
	}
	if (vq->log_ctx)
		vhostx_eventfd_signal(vq->log_ctx);
	return 0;
}
EXPORT_SYMBOL_GPL(vhostx_log_write);

/**
 * vhostx_vq_set_used_batch() - give a vq an array for batched used entries
 * @vq: the virtqueue, not started
 * @used: the array; the backend owns it and keeps it as long as the vq
 * @max: its size
 *
 * Backends that return buffers with vhostx_add_used_batched() call it once,
 * before the vq is started.
 */
void vhostx_vq_set_used_batch(struct vhostx_vq *vq, struct vhostx_used *used,
			      unsigned int max)
{
	vq->batch = used;
	vq->batch_max = min_t(unsigned int, max, U16_MAX);
	vq->batch_n = 0;
}
EXPORT_SYMBOL_GPL(vhostx_vq_set_used_batch);

/**
 * vhostx_publish_used() - publish the batched used entries and signal
 * @vq: the virtqueue; vq->mutex held
 *
 * The call behind vhostx_flush_used() when entries are pending.
 */
void vhostx_publish_used(struct vhostx_vq *vq)
{
	unsigned int n;

	lockdep_assert_held(&vq->mutex);
	n = vq->batch_n;
	vq->batch_n = 0;
	vhostx_add_used_and_signal_n(vq, vq->batch, n);
}
EXPORT_SYMBOL_GPL(vhostx_publish_used);

/**
 * vhostx_add_used_batch_end() - vhostx_add_used_batched()'s publishing case
 * @vq: the virtqueue; vq->mutex held
 * @buf: the buffer, as vhostx_get_buf() returned it
 * @len: bytes written into the buffer
 *
 * For a vq without a batch array, the entry is published at once; else
 * it fills the batch, which is published.
 *
 * Return: 0, or the errno of publishing (the queue is then stopped).
 */
int vhostx_add_used_batch_end(struct vhostx_vq *vq,
			      const struct vhostx_buf *buf, u32 len)
{
	struct vhostx_used *u;
	unsigned int n;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!vq->batch_max) {
		ret = vhostx_add_used(vq, buf->id, len, buf->ndesc);
		if (!ret)
			vhostx_signal(vq);
		return ret;
	}
	u = &vq->batch[vq->batch_n++];
	u->id = buf->id;
	u->len = len;
	u->ndesc = buf->ndesc;
	u->flags = vhostx_used_flags(buf, len);
	n = vq->batch_n;
	vq->batch_n = 0;
	ret = vhostx_add_used_n(vq, vq->batch, n);
	if (!ret)
		vhostx_signal(vq);
	return ret;
}
EXPORT_SYMBOL_GPL(vhostx_add_used_batch_end);

/**
 * vhostx_enable_notify() - ask the driver to kick again
 * @vq: the virtqueue; vq->mutex held
 *
 * Batched used entries are published first.
 *
 * Return: true if buffers arrived meanwhile; kicks are then off again
 * (not counted as a new run), so the caller just goes on processing.
 */
bool vhostx_enable_notify(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->batch_n)
		vhostx_flush_used(vq);
	if (vhostx_vq_ready(vq))
		return false;
	if (!INDIRECT_CALL_1(vq->ring->enable_notify,
			     vhostx_split_enable_notify, vq))
		return false;
	INDIRECT_CALL_1(vq->ring->disable_notify,
			vhostx_split_disable_notify, vq);
	return true;
}
EXPORT_SYMBOL_GPL(vhostx_enable_notify);

/**
 * vhostx_disable_notify() - tell the driver kicks are not needed
 * @vq: the virtqueue; vq->mutex held
 *
 * Handlers call it once at the start of each run (it counts the runs).
 */
void vhostx_disable_notify(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	/* Every handler run starts here: count runs in one place. */
	vq->stats.runs++;
	if (!vhostx_vq_ready(vq))
		INDIRECT_CALL_1(vq->ring->disable_notify,
				vhostx_split_disable_notify, vq);
}
EXPORT_SYMBOL_GPL(vhostx_disable_notify);

/**
 * vhostx_mute_notify() - tell the driver kicks are not needed, no run
 * @vq: the virtqueue; vq->mutex held
 *
 * For a handler that polls another queue's ring for a while (busy
 * polling): not counted as a run of @vq, and stronger than
 * vhostx_disable_notify(), which lets the driver kick once more with
 * %VIRTIO_RING_F_EVENT_IDX (the kick that starts a run).  Undo with
 * vhostx_enable_notify().
 */
void vhostx_mute_notify(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (!vhostx_vq_ready(vq))
		INDIRECT_CALL_1(vq->ring->mute_notify,
				vhostx_split_mute_notify, vq);
}
EXPORT_SYMBOL_GPL(vhostx_mute_notify);

/**
 * vhostx_avail_empty() - is the avail ring empty?
 * @vq: the virtqueue; vq->mutex held
 *
 * Return: true if no buffer is available (or the queue is stopped).
 */
bool vhostx_avail_empty(struct vhostx_vq *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vhostx_vq_ready(vq))
		return true;
	return INDIRECT_CALL_1(vq->ring->avail_empty,
			       vhostx_split_avail_empty, vq);
}
EXPORT_SYMBOL_GPL(vhostx_avail_empty);

/**
 * vhostx_exceeds_budget() - has a handler run used up the given budget?
 * @vq: the virtqueue; vq->mutex held (a handler's run)
 * @bufs: buffers handled in this run
 * @bytes: bytes moved in this run
 * @weight: most buffers a run may handle, 0 for no limit
 * @byte_weight: most bytes a run may move, 0 for no limit
 *
 * For a backend whose budget can change at run time (a module
 * parameter): it reads the budget once per run and passes it here.  When
 * the run has used it up, the vq's kick work is requeued so other work
 * runs first, and the run is counted in ``yields``.
 *
 * Return: true if the handler must return now.
 */
bool vhostx_exceeds_budget(struct vhostx_vq *vq, int bufs, size_t bytes,
			   int weight, int byte_weight)
{
	lockdep_assert_held(&vq->mutex);
	if ((weight > 0 && bufs >= weight) ||
	    (byte_weight > 0 && bytes >= (size_t)byte_weight)) {
		vhostx_poll_queue(&vq->poll);
		vq->stats.yields++;
		return true;
	}
	return false;
}
EXPORT_SYMBOL_GPL(vhostx_exceeds_budget);

static long vhostx_set_vring_addr(struct vhostx_vq *vq, void __user *argp)
{
	struct vhost_vring_addr a;
	bool log_used;
	u64 addr[VHOSTX_NR_AREAS];

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(1U << VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	/*
	 * The alignments the kernel's vhost checks.  Like it, we accept a
	 * descriptor table that is not 16-byte aligned: descriptors are
	 * copied, never accessed in place, so it is safe.
	 */
	if ((a.avail_user_addr & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (a.used_user_addr & (VRING_USED_ALIGN_SIZE - 1)) ||
	    (a.log_guest_addr & (VRING_USED_ALIGN_SIZE - 1)))
		return -EINVAL;
	/* Packed: both event areas are 4-byte structures (2.8.10). */
	if (vq->ring == &vhostx_packed_ring_ops &&
	    (a.avail_user_addr & (sizeof(struct vring_packed_desc_event) - 1)))
		return -EINVAL;

	addr[VHOSTX_AREA_DESC] = a.desc_user_addr;
	addr[VHOSTX_AREA_AVAIL] = a.avail_user_addr;
	addr[VHOSTX_AREA_USED] = a.used_user_addr;
	log_used = a.flags & (1U << VHOST_VRING_F_LOG);
	/* A running ring is checked now; a stopped one when it starts. */
	if (vq->private_data &&
	    !vhostx_vq_areas_ok(vq, addr, log_used, a.log_guest_addr))
		return -EINVAL;

	memcpy(vq->area_addr, addr, sizeof(addr));
	vq->log_used = log_used;
	vq->log_addr = a.log_guest_addr;
	vq->meta_ready = false;
	return 0;
}

/* An eventfd (or -1) from a struct vhost_vring_file. */
static struct eventfd_ctx *vhostx_ctx_from_fd(int fd)
{
	if (fd == VHOST_FILE_UNBIND)
		return NULL;
	return eventfd_ctx_fdget(fd);
}

static long vhostx_set_vring_kick(struct vhostx_vq *vq, int fd,
				  struct file **old)
{
	struct eventfd_ctx *ctx;
	struct file *file = NULL;

	if (fd != VHOST_FILE_UNBIND) {
		file = fget(fd);
		if (!file)
			return -EBADF;
		ctx = eventfd_ctx_fileget(file);
		if (IS_ERR(ctx)) {
			fput(file);
			return PTR_ERR(ctx);
		}
		eventfd_ctx_put(ctx);
	}
	vhostx_poll_stop(&vq->poll);
	*old = vq->kick;
	vq->kick = file;
	if (file && vq->handle_kick)
		return vhostx_poll_start(&vq->poll, file);
	return 0;
}

static long vhostx_set_vring_ctx(struct eventfd_ctx **slot, int fd)
{
	struct eventfd_ctx *ctx = vhostx_ctx_from_fd(fd);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	swap(ctx, *slot);
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

static long vhostx_vq_ioctl(struct vhostx_vq *vq, unsigned int cmd,
			    void __user *argp, struct file **old_kick)
{
	struct vhost_vring_state s;
	struct vhost_vring_file f;
	int ret;

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		if (vq->private_data)
			return -EBUSY;
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (!vq->ring->check_num(s.num))
			return -EINVAL;
		vq->num = s.num;
		vq->meta_ready = false;
		return 0;
	case VHOST_SET_VRING_ADDR:
		return vhostx_set_vring_addr(vq, argp);
	case VHOST_SET_VRING_BASE:
		if (vq->private_data)
			return -EBUSY;
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		ret = vq->ring->set_base(vq, s.num);
		if (ret)
			return ret;
		vq->batch_n = 0;
		vq->broken = false;
		vq->stopped = false;
		if (vq->dev->ops->set_base)
			vq->dev->ops->set_base(vq);
		return 0;
	case VHOST_GET_VRING_BASE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		s.num = vq->ring->get_base(vq);
		/* Like vhost-user: the ring takes no more buffers. */
		vq->stopped = true;
		if (copy_to_user(argp, &s, sizeof(s)))
			return -EFAULT;
		return 0;
	case VHOST_SET_VRING_KICK:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return vhostx_set_vring_kick(vq, f.fd, old_kick);
	case VHOST_SET_VRING_CALL:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return vhostx_set_vring_ctx(&vq->call_ctx, f.fd);
	case VHOST_SET_VRING_ERR:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return vhostx_set_vring_ctx(&vq->error_ctx, f.fd);
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		vq->busyloop_timeout = s.num;
		return 0;
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		s.num = vq->busyloop_timeout;
		if (copy_to_user(argp, &s, sizeof(s)))
			return -EFAULT;
		return 0;
	default:
		/* Includes VHOST_SET/GET_VRING_ENDIAN: no cross-endian. */
		return -ENOIOCTLCMD;
	}
}

/**
 * vhostx_vring_ioctl() - the per-virtqueue ioctls
 * @dev: the device; dev->mutex held, caller is the owner
 * @cmd: ioctl number
 * @argp: user argument, starting with the vq index
 *
 * Takes the vq's mutex for the ioctl; a replaced kick file is put after
 * the vq's worker was flushed, outside it.
 *
 * Return: 0 or an errno; -ENOBUFS for an index out of range;
 * -ENOIOCTLCMD for an unknown ioctl.
 */
long vhostx_vring_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			void __user *argp)
{
	struct file *old_kick = NULL;
	struct vhostx_vq *vq;
	u32 idx;
	long ret;

	lockdep_assert_held(&dev->mutex);
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	vq = dev->vqs[array_index_nospec(idx, dev->nvqs)];

	vhostx_vq_lock(vq);
	ret = vhostx_vq_ioctl(vq, cmd, argp, &old_kick);
	mutex_unlock(&vq->mutex);

	if (old_kick) {
		/* Work from the old kick file may still be queued. */
		vhostx_vq_flush(vq);
		fput(old_kick);
	}
	return ret;
}
