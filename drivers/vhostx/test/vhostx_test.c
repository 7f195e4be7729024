// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vhostx-test: a ring backend with no device behind it.
 *
 * Same ioctls as the kernel's vhost_test (VHOST_TEST_RUN,
 * VHOST_TEST_SET_BACKEND) on one virtqueue, so ring handling can be
 * tested and benchmarked without networking.  Each available buffer is
 * consumed and returned used.  Unlike vhost_test, which only accepts
 * read-only buffers, a buffer with writable descriptors gets its readable
 * bytes copied into them (a loopback), and the used length says how many;
 * that lets tests check data, and dirty logging, byte for byte.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <vhostx/vhostx.h>
#include "../compat.h"

#define VHOSTX_TEST_BATCH	64

struct vhostx_test {
	struct vhostx_dev dev;
	struct vhostx_vq vq;
	struct vhostx_vq *vqs[1];
	struct iovec iov[VHOSTX_IOV_MAX];
	struct vhostx_log log[VHOSTX_IOV_MAX];
	struct vhostx_used used[VHOSTX_TEST_BATCH];
	u8 bounce[PAGE_SIZE];
};

/* Copy the readable bytes of @buf into its writable part. */
static ssize_t vhostx_test_echo(struct vhostx_test *t,
				const struct vhostx_buf *buf)
{
	size_t left = min(buf->out_len, buf->in_len), done = 0;
	struct iov_iter from, to;

	iov_iter_init(&from, ITER_SOURCE, t->iov, buf->out, buf->out_len);
	iov_iter_init(&to, ITER_DEST, t->iov + buf->out, buf->in,
		      buf->in_len);
	while (left) {
		size_t chunk = min_t(size_t, left, sizeof(t->bounce));

		if (copy_from_iter(t->bounce, chunk, &from) != chunk ||
		    copy_to_iter(t->bounce, chunk, &to) != chunk)
			return -EFAULT;
		left -= chunk;
		done += chunk;
	}
	return done;
}

static void vhostx_test_handle_kick(struct vhostx_work *work)
{
	struct vhostx_vq *vq = container_of(work, struct vhostx_vq, poll.work);
	struct vhostx_test *t = container_of(vq, struct vhostx_test, vq);
	struct vhostx_log *log;
	int bufs = 0;
	size_t bytes = 0;
	struct vhostx_buf buf;
	ssize_t len;
	int ret;

	mutex_lock(&vq->mutex);
	if (!vhostx_vq_get_backend(vq))
		goto out;
	/* Features change only under vq->mutex: fixed for this run. */
	log = vhostx_logging(vq) ? t->log : NULL;
	vhostx_disable_notify(vq);
	for (;;) {
		ret = vhostx_get_buf(vq, &buf, t->iov, ARRAY_SIZE(t->iov),
				     log, ARRAY_SIZE(t->log));
		if (ret < 0)
			break;
		if (!ret) {
			if (unlikely(vhostx_enable_notify(vq)))
				continue;
			break;
		}
		len = buf.in ? vhostx_test_echo(t, &buf) : 0;
		if (len < 0) {
			vhostx_vq_err(vq, "buffer %u: guest memory fault", buf.id);
			break;
		}
		if (len && log && vhostx_log_write(vq, log, buf.nlog, len))
			break;
		/* Published when the batch fills or the ring runs dry. */
		if (vhostx_add_used_batched(vq, &buf, len))
			break;
		vq->stats.bytes += buf.out_len;
		bytes += buf.out_len;
		if (vhostx_exceeds_weight(vq, ++bufs, bytes))
			break;
	}
	vhostx_flush_used(vq);
out:
	mutex_unlock(&vq->mutex);
}

/*
 * Start or stop the ring; like vhost_test, both need valid rings.
 * dev->mutex held (the handler never takes it, so the flush may wait).
 */
static long vhostx_test_run(struct vhostx_test *t, bool run)
{
	struct vhostx_vq *vq = &t->vq;
	long ret = 0;

	lockdep_assert_held(&t->dev.mutex);
	vhostx_vq_lock(vq);
	if (!vhostx_vq_access_ok(vq))
		ret = -EFAULT;
	else if (!run)
		vhostx_vq_stop(vq);
	else
		ret = vhostx_vq_start(vq, t);
	mutex_unlock(&vq->mutex);
	if (!ret && run)
		vhostx_poll_queue(&vq->poll);	/* buffers already there */
	if (!run)
		vhostx_vq_flush(vq);
	return ret;
}

static long vhostx_test_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			      void __user *argp)
{
	struct vhostx_test *t = container_of(dev, struct vhostx_test, dev);
	struct vhost_vring_file backend;
	int val;

	lockdep_assert_held(&dev->mutex);
	switch (cmd) {
	case VHOST_TEST_RUN:
		if (get_user(val, (int __user *)argp))
			return -EFAULT;
		if (val != 0 && val != 1)
			return -EINVAL;
		return vhostx_test_run(t, val);
	case VHOST_TEST_SET_BACKEND:
		/* The number says int; vhost_test reads a vring file. */
		if (copy_from_user(&backend, argp, sizeof(backend)))
			return -EFAULT;
		if (backend.index >= 1)
			return -ENOBUFS;
		return vhostx_test_run(t, backend.fd != -1);
	default:
		return -ENOIOCTLCMD;
	}
}

static void vhostx_test_stop(struct vhostx_dev *dev)
{
	struct vhostx_test *t = container_of(dev, struct vhostx_test, dev);

	vhostx_vq_lock(&t->vq);
	vhostx_vq_stop(&t->vq);
	mutex_unlock(&t->vq.mutex);
	vhostx_vq_flush(&t->vq);
}

static const struct vhostx_backend_ops vhostx_test_ops = {
	.name			= "test",
	.features		= VHOSTX_CORE_FEATURES |
				  BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
				  BIT_ULL(VIRTIO_F_RING_PACKED),
	.backend_features	= BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2),
	.weight			= 256,
	.byte_weight		= 0x80000,
	.ioctl			= vhostx_test_ioctl,
	.stop			= vhostx_test_stop,
};

static int vhostx_test_open(struct inode *inode, struct file *f)
{
	struct vhostx_test *t;

	t = kvzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->vqs[0] = &t->vq;
	t->vq.handle_kick = vhostx_test_handle_kick;
	vhostx_dev_init(&t->dev, t->vqs, 1, &vhostx_test_ops);
	vhostx_vq_set_used_batch(&t->vq, t->used, ARRAY_SIZE(t->used));
	f->private_data = &t->dev;
	return 0;
}

static int vhostx_test_release(struct inode *inode, struct file *f)
{
	struct vhostx_test *t = container_of(f->private_data,
					     struct vhostx_test, dev);

	vhostx_test_stop(&t->dev);
	vhostx_dev_cleanup(&t->dev);
	kvfree(t);
	return 0;
}

static const struct file_operations vhostx_test_fops =
	VHOSTX_FILE_OPERATIONS(vhostx_test_open, vhostx_test_release);

static struct miscdevice vhostx_test_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vhostx-test",
	.fops	= &vhostx_test_fops,
};
module_misc_device(vhostx_test_misc);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vhostx developers");
MODULE_DESCRIPTION("vhostx ring test backend (/dev/vhostx-test)");
MODULE_VERSION(VHOSTX_VERSION);
