/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhostx userspace ABI additions.
 *
 * vhostx speaks <linux/vhost.h> number for number.  This header only adds
 * what older kernels' headers lack (the worker ioctls appeared in 6.5) and
 * the ioctls of the ring test device, which upstream keeps in a private
 * header (drivers/vhost/test.h).
 */
#ifndef _UAPI_LINUX_VHOSTX_H
#define _UAPI_LINUX_VHOSTX_H

#include <linux/types.h>
#include <linux/vhost.h>

#ifndef VHOST_NEW_WORKER
/**
 * struct vhost_worker_state - worker id for VHOST_NEW_WORKER/FREE_WORKER
 * @worker_id: id returned by VHOST_NEW_WORKER, passed to VHOST_FREE_WORKER
 */
struct vhost_worker_state {
	unsigned int worker_id;
};

/**
 * struct vhost_vring_worker - binding of a virtqueue to a worker
 * @index: virtqueue index
 * @worker_id: worker id
 */
struct vhost_vring_worker {
	unsigned int index;
	unsigned int worker_id;
};

/* Create a worker thread; returns its id.  */
#define VHOST_NEW_WORKER _IOR(VHOST_VIRTIO, 0x8, struct vhost_worker_state)
/* Free a worker that no virtqueue is attached to. */
#define VHOST_FREE_WORKER _IOW(VHOST_VIRTIO, 0x9, struct vhost_worker_state)
/* Run a virtqueue's work on the given worker. */
#define VHOST_ATTACH_VRING_WORKER _IOW(VHOST_VIRTIO, 0x15,		\
				       struct vhost_vring_worker)
/* Which worker runs a virtqueue's work. */
#define VHOST_GET_VRING_WORKER _IOWR(VHOST_VIRTIO, 0x16,		\
				     struct vhost_vring_worker)
#endif

/* Ring test device (/dev/vhostx-test), numbers as upstream's vhost_test. */
#ifndef VHOST_TEST_RUN
#define VHOST_TEST_RUN _IOW(VHOST_VIRTIO, 0x31, int)
#endif
#ifndef VHOST_TEST_SET_BACKEND
#define VHOST_TEST_SET_BACKEND _IOW(VHOST_VIRTIO, 0x32, int)
#endif

#endif /* _UAPI_LINUX_VHOSTX_H */
