/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhostx userspace ABI additions.
 *
 * vhostx speaks <linux/vhost.h> number for number.  This header only adds
 * what older kernels' headers lack (the worker ioctls appeared in 6.5, the
 * feature array and worker mode ioctls in 6.17) and the ioctls of the ring
 * test device, which upstream keeps in a private header
 * (drivers/vhost/test.h).
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

#ifndef VHOST_GET_FEATURES_ARRAY
/**
 * struct vhost_features_array - feature bits beyond 64
 * @count: number of 64-bit words in @features
 * @features: feature words, bit n of the device in word n / 64
 */
struct vhost_features_array {
	__u64 count;
	__u64 features[];
};

/* All offered feature bits, @count words of them (0 past the device's). */
#define VHOST_GET_FEATURES_ARRAY _IOR(VHOST_VIRTIO, 0x83,		\
				      struct vhost_features_array)
/* Ack feature bits, @count words of them (VHOST_SET_FEATURES for all). */
#define VHOST_SET_FEATURES_ARRAY _IOW(VHOST_VIRTIO, 0x83,		\
				      struct vhost_features_array)
#endif

#ifndef VHOST_FORK_OWNER_KTHREAD
/* Worker modes of VHOST_SET/GET_FORK_FROM_OWNER. */
#define VHOST_FORK_OWNER_KTHREAD 0
#define VHOST_FORK_OWNER_TASK 1
#endif

#ifndef VHOST_SET_FORK_FROM_OWNER
/* Choose the worker mode (a __u8) before VHOST_SET_OWNER. */
#define VHOST_SET_FORK_FROM_OWNER _IOW(VHOST_VIRTIO, 0x84, __u8)
/* Read the worker mode (a __u8). */
#define VHOST_GET_FORK_FROM_OWNER _IOR(VHOST_VIRTIO, 0x85, __u8)
#endif

/* Ring test device (/dev/vhostx-test), numbers as upstream's vhost_test. */
#ifndef VHOST_TEST_RUN
#define VHOST_TEST_RUN _IOW(VHOST_VIRTIO, 0x31, int)
#endif
#ifndef VHOST_TEST_SET_BACKEND
#define VHOST_TEST_SET_BACKEND _IOW(VHOST_VIRTIO, 0x32, int)
#endif

#endif /* _UAPI_LINUX_VHOSTX_H */
