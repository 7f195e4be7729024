/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vguest: a small userspace virtio "guest driver" for split and packed
 * rings (packed when VIRTIO_F_RING_PACKED is among the features set with
 * vg_set_features() before the vq is created), used to drive vhost
 * devices (/dev/vhost-net, /dev/vhostx-net, /dev/vhostx-test) from
 * selftests, demos and benchmarks.
 *
 * Memory model: the library mmaps one "arena" per device and hands the
 * device an identity memory table (guest physical address == process
 * virtual address, one region covering the arena).  Rings, indirect tables
 * and every buffer a test wants the device to see are carved out of the
 * arena with vg_alloc().  Addresses given to the ring are therefore plain
 * pointers cast to uint64_t.
 *
 * The fast path (vg_vq_add / vg_vq_kick / vg_vq_get_used) makes no system
 * call except the kick eventfd write when the device asks for one.
 *
 * Tests that need hostile rings may write the desc/avail/used rings
 * directly (struct vg_vq fields are public) or use the vg_vq_raw_*()
 * helpers, which bypass the free-list bookkeeping.
 *
 * All functions returning int return 0 (or a non-negative value) on
 * success and -errno on failure; errno is left as the syscall set it.
 */
#ifndef VGUEST_H
#define VGUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/types.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

/* The test device's and the worker ioctls, as the modules define them. */
#include "../../../include/uapi/linux/vhostx.h"

/* The devices. */
#define VG_VHOSTX_TEST		"/dev/vhostx-test"
#define VG_VHOSTX_NET		"/dev/vhostx-net"
#define VG_VHOST_NET		"/dev/vhost-net"

#define VG_MAX_VQS		8
#define VG_DEFAULT_ARENA	(16UL << 20)
/* Capacity of the per-head indirect table vg_vq_add() uses. */
#define VG_INDIRECT_MAX		256

/* A feature bit as a mask: VG_F(VIRTIO_F_VERSION_1). */
#define VG_F(bit)		(1ULL << (bit))

/* vg_vq_add() flags */
#define VG_ADD_INDIRECT		(1u << 0)	/* use an indirect table */

struct vg_dev {
	int fd;			/* the vhost device */
	uint8_t *arena;		/* guest memory, gpa == hva */
	size_t arena_size;
	size_t arena_off;	/* bump allocator cursor */
	uint64_t features;	/* last value given to vg_set_features() */

	/* Dirty log (vg_log_setup) */
	uint8_t *log;		/* bitmap; bit 0 of byte 0 = first arena page */
	size_t log_size;
	uint64_t log_base;	/* value given to VHOST_SET_LOG_BASE */
	int log_fd;		/* eventfd given to VHOST_SET_LOG_FD, or -1 */
};

struct vg_slot {
	void *cookie;		/* caller's token, NULL when slot free */
	uint16_t ndesc;		/* descriptors taken from the main table */
	uint32_t in_len;	/* bytes of its writable segments */
	struct vring_desc *indir; /* lazily allocated indirect table */
};

/*
 * A packed ring position: the slot, plus num in the laps whose wrap
 * counter is 0, so positions run over [0, 2 * num) and distances are
 * differences modulo 2 * num (vguest_packed.c).
 */
typedef uint32_t vg_pos_t;

struct vg_vq {
	struct vg_dev *dev;
	unsigned int index;
	unsigned int num;
	/* Split ring (NULL when packed) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	/* Packed ring (NULL when split) */
	bool packed;
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *pdriver; /* driver area ("avail") */
	struct vring_packed_desc_event *pdevice; /* device area ("used") */
	vg_pos_t avail_pos;	/* next descriptor to fill */
	vg_pos_t publish_pos;	/* first descriptor not published */
	vg_pos_t kicked_pos;	/* published position at the last kick decision */
	vg_pos_t used_pos;	/* next used descriptor to reap */
	uint16_t used_count;	/* buffers reaped, from the base (vg_vq_used_idx) */
	uint16_t free_id;	/* free buffer ids, linked through id_next */
	uint16_t *id_next;
	unsigned int npend;	/* heads added, flags not written yet */
	uint32_t *pend;		/* slot << 16 | flags of each */
	int kick_fd, call_fd, err_fd;	/* eventfds, non-blocking */
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX in dev->features */
	/*
	 * VIRTIO_F_IN_ORDER in dev->features: chains take the table's
	 * descriptors in order (free_head only moves forward), and one used
	 * entry may stand for several buffers: those before its id, in the
	 * order they were added, used whole (len = their in_len).
	 */
	bool in_order;
	uint16_t inflight_head;	/* in order: oldest buffer not reaped */
	int32_t batch_id;	/* in order: id of the used entry being reaped, or -1 */
	uint32_t batch_len;	/* its len */
	uint64_t used_entries;	/* used ring entries read (<= buffers reaped) */

	uint16_t avail_idx;	/* shadow avail->idx (next to publish) */
	uint16_t kicked_idx;	/* avail idx at the last kick decision */
	uint16_t last_used;	/* next used ring entry to reap */
	uint16_t free_head;
	unsigned int num_free;
	struct vg_slot *slots;	/* num entries, indexed by head */
	uint64_t calls;		/* call signals consumed by vg_vq_wait_used */
};

/* ---- data patterns and descriptors ---- */
void vg_fill(void *buf, size_t len, unsigned int seed);
long vg_check(const void *buf, size_t len, unsigned int seed, size_t pat_off);
int vg_closed_fd(void);
int64_t vg_now_us(void);

/* ---- device ---- */
int vg_open(struct vg_dev *d, const char *path, size_t arena_size);
void vg_close(struct vg_dev *d);
void *vg_alloc(struct vg_dev *d, size_t size, size_t align);
static inline uint64_t vg_gpa(const void *p) { return (uint64_t)(uintptr_t)p; }

int vg_set_owner(struct vg_dev *d);
int vg_reset_owner(struct vg_dev *d);
int vg_get_features(struct vg_dev *d, uint64_t *features);
int vg_set_features(struct vg_dev *d, uint64_t features);
int vg_get_backend_features(struct vg_dev *d, uint64_t *features);
int vg_set_backend_features(struct vg_dev *d, uint64_t features);
int vg_set_mem_table(struct vg_dev *d);
int vg_set_mem_regions(struct vg_dev *d,
		       const struct vhost_memory_region *r, unsigned int n);
int vg_dev_init(struct vg_dev *d, const char *path, size_t arena_size,
		uint64_t want);

/* ---- device-specific backends ---- */
int vg_test_run(struct vg_dev *d, int run);
int vg_test_set_backend(struct vg_dev *d, unsigned int index, int fd);
int vg_test_start(struct vg_dev *d);	/* SET_BACKEND(0, d->fd) + RUN(1) */
int vg_test_stop(struct vg_dev *d);	/* RUN(0) */
int vg_net_set_backend(struct vg_dev *d, unsigned int index, int fd);

/* ---- virtqueue set-up ---- */
int vg_vq_init(struct vg_dev *d, struct vg_vq *vq, unsigned int index,
	       unsigned int num);
void vg_vq_reset(struct vg_vq *vq, uint16_t base);
int vg_vq_program(struct vg_vq *vq, uint16_t base);
int vg_vq_setup(struct vg_dev *d, struct vg_vq *vq, unsigned int index,
		unsigned int num, uint16_t base);
int vg_vq_set_addr(struct vg_vq *vq, unsigned int flags,
		   uint64_t log_guest_addr);
int vg_vq_set_file(struct vg_vq *vq, unsigned long ioctl_nr, int fd);
int vg_vq_set_state(struct vg_vq *vq, unsigned long ioctl_nr, unsigned int num);
int vg_vq_get_base(struct vg_vq *vq, unsigned int *base);
void vg_vq_free(struct vg_vq *vq);

/* ---- driver fast path ---- */
int vg_vq_add(struct vg_vq *vq, const struct iovec *sg, unsigned int nout,
	      unsigned int nin, void *cookie, unsigned int flags);
int vg_vq_add_buf(struct vg_vq *vq, void *out, uint32_t out_len,
		  void *in, uint32_t in_len, void *cookie);
void vg_vq_publish(struct vg_vq *vq);
bool vg_vq_kick_needed(struct vg_vq *vq);
int vg_vq_notify(struct vg_vq *vq);
int vg_vq_kick(struct vg_vq *vq);
unsigned int vg_vq_used_pending(struct vg_vq *vq);
int vg_vq_get_used(struct vg_vq *vq, uint32_t *len, void **cookie);
bool vg_vq_enable_cb(struct vg_vq *vq);
void vg_vq_disable_cb(struct vg_vq *vq);
int vg_vq_wait_used(struct vg_vq *vq, unsigned int count, int timeout_ms);
uint64_t vg_vq_calls(struct vg_vq *vq, int timeout_ms);

/* ---- raw ring access for hostile tests ---- */
void vg_vq_raw_desc(struct vg_vq *vq, unsigned int i, uint64_t addr,
		    uint32_t len, uint16_t flags, uint16_t next);
void vg_vq_raw_push(struct vg_vq *vq, uint16_t head);
void vg_vq_raw_set_avail_idx(struct vg_vq *vq, uint16_t idx);
uint16_t vg_vq_used_idx(struct vg_vq *vq);
uint16_t vg_vq_avail_event(struct vg_vq *vq);
void vg_vq_set_used_event(struct vg_vq *vq, uint16_t ev);
bool vg_vq_device_wants_kick(struct vg_vq *vq);
uint32_t vg_vq_driver_base(struct vg_vq *vq);

/* ---- packed rings (vguest_packed.c; vq->packed) ---- */
uint32_t vg_pos_base(struct vg_vq *vq, vg_pos_t pos);
uint16_t vg_pos_flags(struct vg_vq *vq, vg_pos_t pos);
vg_pos_t vg_pos_add(struct vg_vq *vq, vg_pos_t pos, unsigned int n);
void vg_vq_raw_pdesc(struct vg_vq *vq, vg_pos_t pos, uint64_t addr,
		     uint32_t len, uint16_t id, uint16_t flags);
void vg_vq_raw_pdesc_head(struct vg_vq *vq, vg_pos_t pos, uint64_t addr,
			  uint32_t len, uint16_t id, uint16_t flags);
void vg_vq_set_used_event_pos(struct vg_vq *vq, vg_pos_t pos);

/* ---- eventfds ---- */
int vg_wait_readable(int fd, int timeout_ms);
int vg_eventfd(void);
int64_t vg_wait_eventfd(int fd, int timeout_ms);
int64_t vg_read_eventfd(int fd);

/* ---- dirty log ---- */
int vg_log_setup(struct vg_dev *d);
void vg_log_clear(struct vg_dev *d);
bool vg_log_test(struct vg_dev *d, uint64_t gpa);
unsigned long vg_log_count(struct vg_dev *d);

/* ---- IOTLB (message v2 over read/write on the device fd) ---- */
int vg_iotlb_update(struct vg_dev *d, uint64_t iova, uint64_t size,
		    uint64_t uaddr, uint8_t perm);
int vg_iotlb_invalidate(struct vg_dev *d, uint64_t iova, uint64_t size);
int vg_iotlb_read(struct vg_dev *d, struct vhost_msg_v2 *msg, int timeout_ms);

#endif /* VGUEST_H */
