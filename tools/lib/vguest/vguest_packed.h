/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vguest's packed ring, for vguest.c only: each vg_vq_*() call of the
 * driver's fast path goes here when vq->packed.
 */
#ifndef VGUEST_PACKED_H
#define VGUEST_PACKED_H

#include "vguest.h"

int vgp_init(struct vg_vq *vq);
void vgp_free(struct vg_vq *vq);
void vgp_reset(struct vg_vq *vq, uint16_t base);
int vgp_add(struct vg_vq *vq, const struct iovec *sg, unsigned int nout,
	    unsigned int nin, void *cookie, unsigned int flags);
void vgp_publish(struct vg_vq *vq);
bool vgp_kick_needed(struct vg_vq *vq);
unsigned int vgp_used_pending(struct vg_vq *vq);
int vgp_get_used(struct vg_vq *vq, uint32_t *len, void **cookie);
bool vgp_enable_cb(struct vg_vq *vq);
void vgp_disable_cb(struct vg_vq *vq);
bool vgp_device_wants_kick(struct vg_vq *vq);

#endif /* VGUEST_PACKED_H */
