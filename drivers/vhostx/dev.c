// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx devices: lifecycle, ownership, features and the device ioctls.
 *
 * Ioctl rules follow the kernel's vhost: VHOST_SET_OWNER binds the device
 * to the caller's address space once (-EBUSY after); GET/SET_FEATURES,
 * their _ARRAY forms, GET/SET_BACKEND_FEATURES and GET/SET_FORK_FROM_OWNER
 * (where the kernel has vhost_task) need no owner; everything else needs
 * the caller to be the owner (-EPERM otherwise).  Every ioctl runs under dev->mutex,
 * taken once in vhostx_fops_ioctl(), which routes it to the device, vring,
 * worker or backend ioctls.
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include "internal.h"

static atomic_t vhostx_dev_count = ATOMIC_INIT(0);

/*
 * The worker mode a device starts in (and returns to at RESET_OWNER), as
 * the parameter of the same name of the kernel's vhost (6.17): tasks of
 * the owner unless the administrator says kthreads.  Only on a kernel
 * with vhost_task; elsewhere workers are kthreads.
 */
static bool fork_from_owner_default = true;
#if VHOSTX_HAVE_TASK_WORKERS
module_param(fork_from_owner_default, bool, 0444);
MODULE_PARM_DESC(fork_from_owner_default,
		 "Workers are tasks of the owner (Y, default) or kthreads (N)");
#endif

static u8 vhostx_fork_owner_default(void)
{
	return VHOSTX_HAVE_TASK_WORKERS && fork_from_owner_default ?
	       VHOST_FORK_OWNER_TASK : VHOST_FORK_OWNER_KTHREAD;
}

/**
 * vhostx_dev_init() - set up a device at open
 * @dev: the device, embedded in the backend's state
 * @vqs: array of pointers to its virtqueues, with handle_kick set; the
 *	array itself must live as long as @dev (put it in the backend's state)
 * @nvqs: number of virtqueues
 * @ops: the backend's operations
 *
 * Return: 0.
 */
int vhostx_dev_init(struct vhostx_dev *dev, struct vhostx_vq **vqs,
		    int nvqs, const struct vhostx_backend_ops *ops)
{
	int i;

	mutex_init(&dev->mutex);
	dev->ops = ops;
	dev->mm = NULL;
	dev->vqs = vqs;
	dev->nvqs = nvqs;
	dev->umem = NULL;
	dev->iotlb = NULL;
	dev->log_ctx = NULL;
	spin_lock_init(&dev->iotlb_lock);
	INIT_LIST_HEAD(&dev->read_list);
	INIT_LIST_HEAD(&dev->pending_list);
	init_waitqueue_head(&dev->wait);
	xa_init_flags(&dev->worker_xa, XA_FLAGS_ALLOC);
	dev->fork_owner = vhostx_fork_owner_default();
	dev->index = atomic_inc_return(&vhostx_dev_count);

	for (i = 0; i < nvqs; i++) {
		vqs[i]->index = i;
		vhostx_vq_init(vqs[i], dev);
	}
	vhostx_debugfs_add_dev(dev);
	return 0;
}
EXPORT_SYMBOL_GPL(vhostx_dev_init);

/* Has VHOST_SET_OWNER been called? */
static bool vhostx_dev_has_owner(struct vhostx_dev *dev)
{
	return dev->mm;
}

/* 0 if the current process owns the device, else -EPERM. */
static int vhostx_dev_check_owner(struct vhostx_dev *dev)
{
	return dev->mm && dev->mm == current->mm ? 0 : -EPERM;
}

static long vhostx_set_owner(struct vhostx_dev *dev)
{
	struct vhostx_worker *worker;
	int i;

	lockdep_assert_held(&dev->mutex);
	if (dev->mm)
		return -EBUSY;
	dev->mm = get_task_mm(current);
	if (!dev->mm)
		return -EINVAL;
	worker = vhostx_worker_create(dev);
	if (IS_ERR(worker)) {
		mmput(dev->mm);
		dev->mm = NULL;
		return PTR_ERR(worker);
	}
	for (i = 0; i < dev->nvqs; i++)
		vhostx_vq_attach_worker(dev->vqs[i], worker);
	return 0;
}

/* Back to the state of a freshly opened device; dev->mutex held. */
static void vhostx_dev_reset(struct vhostx_dev *dev)
{
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++)
		vhostx_poll_stop(&dev->vqs[i]->poll);
	vhostx_workers_free(dev);
	for (i = 0; i < dev->nvqs; i++) {
		vhostx_vq_lock(dev->vqs[i]);
		vhostx_vq_reset(dev->vqs[i]);
		mutex_unlock(&dev->vqs[i]->mutex);
	}
	if (dev->log_ctx)
		eventfd_ctx_put(dev->log_ctx);
	dev->log_ctx = NULL;
	vhostx_iotlb_free(dev);
	/* A read() sleeping for IOTLB messages sees dev->iotlb gone. */
	wake_up_interruptible_poll(&dev->wait, EPOLLIN | EPOLLRDNORM);
	if (dev->umem)
		vhost_iotlb_free(dev->umem);
	dev->umem = NULL;
	if (dev->mm)
		mmput(dev->mm);
	dev->mm = NULL;
}

/**
 * vhostx_dev_cleanup() - release everything at close
 * @dev: the device; its backend already stopped every vq
 */
void vhostx_dev_cleanup(struct vhostx_dev *dev)
{
	vhostx_debugfs_remove_dev(dev);
	mutex_lock(&dev->mutex);
	vhostx_dev_reset(dev);
	mutex_unlock(&dev->mutex);
	xa_destroy(&dev->worker_xa);
}
EXPORT_SYMBOL_GPL(vhostx_dev_cleanup);

/*
 * VHOST_RESET_OWNER; dev->mutex held, caller is the owner.  Stopping the
 * backend and resetting is one critical section: no SET_BACKEND may slip
 * in between.  The worker mode goes back to the default, as in 7.x.
 */
static long vhostx_reset_owner(struct vhostx_dev *dev)
{
	lockdep_assert_held(&dev->mutex);
	if (dev->ops->stop)
		dev->ops->stop(dev);
	vhostx_dev_reset(dev);
	dev->fork_owner = vhostx_fork_owner_default();
	return 0;
}

/*
 * Are every started vq's rings and log usable with @log_base?  dev->mutex
 * held: the vq fields read here change only in ioctls, which hold it.
 */
static bool vhostx_log_base_ok(struct vhostx_dev *dev, void __user *log_base,
			       bool log_all)
{
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++) {
		struct vhostx_vq *vq = dev->vqs[i];

		if (!vq->private_data)
			continue;
		if (log_all && !vhostx_mem_log_ok(vq->umem, vq->log_base, true))
			return false;
		if (vq->log_used &&
		    !vhostx_log_access_ok(log_base, vq->log_addr,
					  vq->ring->area_size(vq, VHOSTX_AREA_USED)))
			return false;
	}
	return true;
}

/*
 * Ack @features: VHOST_SET_FEATURES, and the first word of
 * VHOST_SET_FEATURES_ARRAY (whose other words are all zero by then: vhostx
 * offers no bit beyond 63).  dev->mutex held, any caller.
 */
static long vhostx_ack_features(struct vhostx_dev *dev, u64 features)
{
	int i, ret;

	lockdep_assert_held(&dev->mutex);
	if (features & ~dev->ops->features)
		return -EOPNOTSUPP;
	if ((features & BIT_ULL(VHOST_F_LOG_ALL)) && dev->nvqs &&
	    !vhostx_log_base_ok(dev, dev->vqs[0]->log_base, true))
		return -EFAULT;
	/*
	 * A started ring keeps its format (private_data changes only in
	 * ioctls, which hold dev->mutex).
	 */
	for (i = 0; i < dev->nvqs; i++)
		if (dev->vqs[i]->private_data &&
		    vhostx_ring_for(features) != dev->vqs[i]->ring)
			return -EBUSY;
	if (features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)) {
		ret = vhostx_iotlb_enable(dev);
		if (ret)
			return ret;
	}
	for (i = 0; i < dev->nvqs; i++) {
		struct vhostx_vq *vq = dev->vqs[i];

		vhostx_vq_lock(vq);
		vhostx_vq_set_features(vq, features);
		mutex_unlock(&vq->mutex);
	}
	if (dev->ops->features_changed)
		return dev->ops->features_changed(dev, features);
	return 0;
}

/* VHOST_SET_FEATURES; dev->mutex held, any caller. */
static long vhostx_set_features(struct vhostx_dev *dev, void __user *argp)
{
	u64 features;

	lockdep_assert_held(&dev->mutex);
	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	return vhostx_ack_features(dev, features);
}

/*
 * The feature array ioctls (6.17) carry VHOSTX_FEATURE_WORDS words, as
 * many as upstream's (VIRTIO_FEATURES_U64S in 7.x), so that a count
 * between ours and upstream's is answered alike.
 */
#define VHOSTX_FEATURE_WORDS	2

/* Words of user memory read or zeroed between two cond_resched(). */
#define VHOSTX_FEATURE_WORDS_BATCH	512

/*
 * Zero @n words at @p, as one clear_user() would answer: -EFAULT without
 * writing anything if the range is not user memory, else after zeroing up
 * to the first page that cannot be written.  In batches: @n is the
 * caller's and may be huge.
 */
static long vhostx_clear_user_words(u64 __user *p, u64 n)
{
	void __user *at = p;
	u64 left;

	if (n > U64_MAX / sizeof(u64))
		return -EFAULT;
	left = n * sizeof(u64);
	if (!access_ok(at, left))
		return -EFAULT;
	while (left) {
		unsigned long chunk = min_t(u64, left,
					    VHOSTX_FEATURE_WORDS_BATCH * sizeof(u64));

		if (clear_user(at, chunk))
			return -EFAULT;
		at += chunk;
		left -= chunk;
		cond_resched();
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/*
 * VHOST_GET_FEATURES_ARRAY; dev->mutex held, any caller.  As 7.x: the
 * first min(count, VHOSTX_FEATURE_WORDS) words get the offered bits, the
 * rest of the caller's @count words are zeroed.
 */
static long vhostx_get_features_array(struct vhostx_dev *dev,
				      u64 __user *argp)
{
	u64 features[VHOSTX_FEATURE_WORDS] = { dev->ops->features };
	u64 count, copied;

	lockdep_assert_held(&dev->mutex);
	if (get_user(count, argp))
		return -EFAULT;
	copied = min_t(u64, count, VHOSTX_FEATURE_WORDS);
	if (copy_to_user(argp + 1, features, copied * sizeof(u64)))
		return -EFAULT;
	return vhostx_clear_user_words(argp + 1 + copied, count - copied);
}

/*
 * VHOST_SET_FEATURES_ARRAY; dev->mutex held, any caller.  As 7.x: every
 * word past VHOSTX_FEATURE_WORDS is read in order and must be zero (the
 * first that cannot be read is -EFAULT, the first that is not zero
 * -EOPNOTSUPP), and only then are the bits checked against the offer.
 */
static long vhostx_set_features_array(struct vhostx_dev *dev,
				      u64 __user *argp)
{
	u64 features[VHOSTX_FEATURE_WORDS] = { 0 };
	u64 count, copied, i, word;

	lockdep_assert_held(&dev->mutex);
	if (get_user(count, argp))
		return -EFAULT;
	copied = min_t(u64, count, VHOSTX_FEATURE_WORDS);
	if (copy_from_user(features, argp + 1, copied * sizeof(u64)))
		return -EFAULT;
	for (i = copied; i < count; i++) {
		/*
		 * In order: the words reach unmapped memory or the end of
		 * user space (a fault) long before the offset could wrap.
		 */
		u64 __user *at = (u64 __user *)((unsigned long)argp +
						(1 + i) * sizeof(u64));

		if (get_user(word, at))
			return -EFAULT;
		if (word)
			return -EOPNOTSUPP;
		if (!((i + 1) % VHOSTX_FEATURE_WORDS_BATCH)) {
			cond_resched();
			if (fatal_signal_pending(current))
				return -EINTR;
		}
	}
	for (i = 1; i < VHOSTX_FEATURE_WORDS; i++)
		if (features[i])
			return -EOPNOTSUPP;
	return vhostx_ack_features(dev, features[0]);
}

/* VHOST_SET_BACKEND_FEATURES; dev->mutex held, any caller. */
static long vhostx_set_backend_features(struct vhostx_dev *dev,
					void __user *argp)
{
	u64 features;
	int i;

	lockdep_assert_held(&dev->mutex);
	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~dev->ops->backend_features)
		return -EOPNOTSUPP;
	for (i = 0; i < dev->nvqs; i++) {
		vhostx_vq_lock(dev->vqs[i]);
		dev->vqs[i]->acked_backend_features = features;
		mutex_unlock(&dev->vqs[i]->mutex);
	}
	return 0;
}

/* VHOST_SET_LOG_BASE; dev->mutex held, caller is the owner. */
static long vhostx_set_log_base(struct vhostx_dev *dev, void __user *argp)
{
	void __user *base;
	long ret = 0;
	u64 p;
	int i;

	lockdep_assert_held(&dev->mutex);
	if (copy_from_user(&p, argp, sizeof(p)))
		return -EFAULT;
	if ((u64)(uintptr_t)p != p)
		return -EFAULT;
	base = (void __user *)(uintptr_t)p;
	for (i = 0; i < dev->nvqs; i++) {
		struct vhostx_vq *vq = dev->vqs[i];

		vhostx_vq_lock(vq);
		/*
		 * As the kernel's vhost: the new bitmap must cover every
		 * region (with LOG_ALL) and the used ring (with its log
		 * flag).  A stopped ring is checked when it starts.
		 */
		if (vq->private_data &&
		    (!vhostx_mem_log_ok(vq->umem, base, vhostx_logging(vq)) ||
		     (vq->log_used &&
		      !vhostx_log_access_ok(base, vq->log_addr,
				vq->ring->area_size(vq, VHOSTX_AREA_USED)))))
			ret = -EFAULT;
		else
			vq->log_base = base;
		mutex_unlock(&vq->mutex);
	}
	return ret;
}

/* VHOST_SET_LOG_FD; dev->mutex held, caller is the owner. */
static long vhostx_set_log_fd(struct vhostx_dev *dev, void __user *argp)
{
	struct eventfd_ctx *ctx = NULL;
	int fd, i;

	lockdep_assert_held(&dev->mutex);
	if (get_user(fd, (int __user *)argp))
		return -EFAULT;
	if (fd != -1) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	swap(ctx, dev->log_ctx);
	for (i = 0; i < dev->nvqs; i++) {
		vhostx_vq_lock(dev->vqs[i]);
		dev->vqs[i]->log_ctx = dev->log_ctx;
		mutex_unlock(&dev->vqs[i]->mutex);
	}
	if (ctx)
		eventfd_ctx_put(ctx);
	return 0;
}

/*
 * VHOST_SET/GET_FORK_FROM_OWNER (6.17); dev->mutex held, any caller.  As
 * 7.x: the mode (VHOST_FORK_OWNER_TASK, the default, or _KTHREAD) may
 * change until there is an owner (-EBUSY after, checked before the
 * argument is read), -EINVAL for a value that is no mode.  On a kernel
 * without vhost_task workers are kthreads and nothing can change that:
 * the ioctls are unknown there, as in a 7.x built without
 * CONFIG_VHOST_ENABLE_FORK_OWNER_CONTROL (and in vhost-net before 6.17).
 */
static long vhostx_fork_owner_ioctl(struct vhostx_dev *dev, unsigned int cmd,
				    u8 __user *argp)
{
	u8 mode;

	lockdep_assert_held(&dev->mutex);
	if (!VHOSTX_HAVE_TASK_WORKERS)
		return -ENOIOCTLCMD;
	if (cmd == VHOST_GET_FORK_FROM_OWNER)
		return put_user(dev->fork_owner, argp);
	if (vhostx_dev_has_owner(dev))
		return -EBUSY;
	if (get_user(mode, argp))
		return -EFAULT;
	if (mode != VHOST_FORK_OWNER_TASK && mode != VHOST_FORK_OWNER_KTHREAD)
		return -EINVAL;
	dev->fork_owner = mode;
	return 0;
}

/*
 * VHOST_SET_OWNER and the ioctls any process may make, as with the
 * kernel's vhost-net; dev->mutex held.  -ENOIOCTLCMD for the others.
 */
static long vhostx_ownerless_ioctl(struct vhostx_dev *dev, unsigned int cmd,
				   void __user *argp)
{
	switch (cmd) {
	case VHOST_SET_OWNER:
		return vhostx_set_owner(dev);
	case VHOST_GET_FEATURES:
		return put_user(dev->ops->features, (u64 __user *)argp);
	case VHOST_SET_FEATURES:
		return vhostx_set_features(dev, argp);
	case VHOST_GET_BACKEND_FEATURES:
		return put_user(dev->ops->backend_features, (u64 __user *)argp);
	case VHOST_SET_BACKEND_FEATURES:
		return vhostx_set_backend_features(dev, argp);
	case VHOST_GET_FEATURES_ARRAY:
		return vhostx_get_features_array(dev, argp);
	case VHOST_SET_FEATURES_ARRAY:
		return vhostx_set_features_array(dev, argp);
	case VHOST_SET_FORK_FROM_OWNER:
	case VHOST_GET_FORK_FROM_OWNER:
		return vhostx_fork_owner_ioctl(dev, cmd, argp);
	default:
		return -ENOIOCTLCMD;
	}
}

/*
 * An ioctl nobody handles.  The kernel's vhost hands those to its vring
 * ioctl, which reads the vq index first: the same errno here.
 */
static long vhostx_unknown_ioctl(struct vhostx_dev *dev, void __user *argp)
{
	u32 idx;

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	return idx >= dev->nvqs ? -ENOBUFS : -ENOIOCTLCMD;
}

/* Every ioctl that needs the owner; dev->mutex held, caller is the owner. */
static long vhostx_owned_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			       void __user *argp)
{
	long ret;

	switch (cmd) {
	/* The device's own. */
	case VHOST_RESET_OWNER:
		return vhostx_reset_owner(dev);
	case VHOST_SET_MEM_TABLE:
		return vhostx_set_mem_table(dev, argp);
	case VHOST_SET_LOG_BASE:
		return vhostx_set_log_base(dev, argp);
	case VHOST_SET_LOG_FD:
		return vhostx_set_log_fd(dev, argp);
	/* A virtqueue's (the ENDIAN pair is refused there). */
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
	case VHOST_SET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_GET_VRING_BUSYLOOP_TIMEOUT:
	case VHOST_SET_VRING_ENDIAN:
	case VHOST_GET_VRING_ENDIAN:
		return vhostx_vring_ioctl(dev, cmd, argp);
	/* The workers'. */
	case VHOST_NEW_WORKER:
	case VHOST_FREE_WORKER:
	case VHOST_ATTACH_VRING_WORKER:
	case VHOST_GET_VRING_WORKER:
		return vhostx_worker_ioctl(dev, cmd, argp);
	/* The backend's, then none. */
	default:
		ret = dev->ops->ioctl ? dev->ops->ioctl(dev, cmd, argp) :
					-ENOIOCTLCMD;
		if (ret == -ENOIOCTLCMD)
			ret = vhostx_unknown_ioctl(dev, argp);
		return ret;
	}
}

/**
 * vhostx_fops_ioctl() - the device file's ioctl entry point
 * @f: the device file; f->private_data is the struct vhostx_dev
 * @cmd: ioctl number, from <linux/vhost.h>
 * @arg: user argument
 *
 * Takes dev->mutex once and holds it for the whole ioctl; checks the
 * owner once, after the ioctls that need none; then routes: device,
 * vring, worker, and only the rest to the backend's ioctl (see
 * Documentation/vhostx/design.rst, "The ioctl route").
 *
 * Return: 0 or an errno, as the kernel's vhost-net returns them.
 */
long vhostx_fops_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct vhostx_dev *dev = f->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	mutex_lock(&dev->mutex);
	ret = vhostx_ownerless_ioctl(dev, cmd, argp);
	if (ret == -ENOIOCTLCMD) {
		ret = vhostx_dev_check_owner(dev);
		if (!ret)
			ret = vhostx_owned_ioctl(dev, cmd, argp);
	}
	mutex_unlock(&dev->mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(vhostx_fops_ioctl);

static int __init vhostx_init(void)
{
	vhostx_debugfs_init();
	return 0;
}

static void __exit vhostx_exit(void)
{
	vhostx_debugfs_exit();
}

module_init(vhostx_init);
module_exit(vhostx_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("vhostx developers");
MODULE_DESCRIPTION("vhostx core: virtio backend rings, memory and workers");
MODULE_VERSION(VHOSTX_VERSION);
