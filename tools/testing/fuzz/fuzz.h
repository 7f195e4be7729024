/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostx_fuzz's shared state: one slot (a device under attack and the
 * guest memory around it) and the value pickers every operation uses.
 * vhostx_fuzz.c holds the rounds and the split ring's operations,
 * packed.c those of the packed ring and of VIRTIO_F_IN_ORDER.
 */
#ifndef VHOSTX_FUZZ_H
#define VHOSTX_FUZZ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "vguest.h"
#include "corpus.h"
#include "fuzz_rng.h"

#define ARENA		(8UL << 20)
#define DATA_OFF	0			/* offsets in the scratch area */
#define DATA_LEN	(512UL << 10)
#define TABLE_OFF	DATA_LEN
#define TABLE_LEN	((65537UL * 16 + 4095) & ~4095UL)
#define GOOD_OFF	(TABLE_OFF + TABLE_LEN)
#define GOOD_LEN	(64UL << 10)
#define SCRATCH_LEN	(GOOD_OFF + GOOD_LEN)
#define KERNEL_ADDR	0xffff888000000000ULL
#define UNMAPPED_BASE	0x100000000000ULL	/* 16 TiB: nothing maps there */

/* ---- one device under attack ---- */
struct slot {
	unsigned int id;
	long round;
	bool net;
	struct rng r, cr;	/* driver and chaos thread generators */
	struct vg_dev d;
	struct vg_vq vq[2];
	unsigned int nvq;
	uint64_t features;	/* negotiated at round start */
	bool iotlb, logging;
	/*
	 * The round draws its ring format (split or packed), packed queue
	 * sizes and the packed/in-order operations: every round but those
	 * of version 1 tapes, which replay as they were recorded.
	 */
	bool rings;
	uint16_t io_next[2];	/* in order: the next head (split) or id (packed) */
	uint16_t io_last[2];	/* the last one made available */
	uint64_t err_signals;	/* err eventfd signals read this round */
	uint8_t *scratch;	/* SCRATCH_LEN bytes in the arena */
	uint8_t *guard;		/* PROT_NONE page */
	int tap, pkt;
	char ifname[IFNAMSIZ];
	size_t hlen;		/* virtio-net header bytes in guest buffers */
	atomic_bool chaos_stop;
	unsigned long ops;
	struct tape in;		/* this round's input (guided, replays) */
	unsigned long chaos_new;	/* new edges of the chaos thread */
	bool taped;		/* the generators run on s->in's tapes */
};

static inline uint64_t arena_lo(struct slot *s) { return vg_gpa(s->d.arena); }
static inline uint64_t arena_hi(struct slot *s) { return arena_lo(s) + s->d.arena_size; }

/* vhostx_fuzz.c */
uint64_t pick_gpa(struct slot *s, struct rng *r, uint32_t len);
uint32_t pick_len(struct rng *r);
uint64_t pick_uaddr(struct slot *s, struct rng *r);
uint16_t pick_idx(struct rng *r, unsigned int num);
uint16_t pick_flags(struct rng *r);
struct vg_vq *pick_vq(struct slot *s, struct rng *r);
int ring_ioctl(struct slot *s, unsigned long nr, unsigned int index,
	       unsigned int num);
int start_backend(struct slot *s);
void stop_backend(struct slot *s);

/* packed.c: the packed ring's operations (vq->packed) */
unsigned int pick_num_packed(struct rng *r);
void op_pdesc(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_pchain(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_pindirect(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_pavail(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_ptraffic(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_pscribble(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_preap(struct slot *s, struct rng *r, struct vg_vq *vq);
/* packed.c: either format */
void op_inorder_vq(struct slot *s, struct rng *r, struct vg_vq *vq);
void op_inorder(struct slot *s, struct rng *r);
void op_vring_base(struct slot *s, struct rng *r);
void op_reprogram(struct slot *s, struct rng *r);
void op_event(struct slot *s, struct rng *r);

#endif
