/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel-version differences only vhostx_net has (zero-copy
 * completion, TX batching into tun, page fragments), on top of the core's
 * drivers/vhostx/compat.h, which it includes for the rest (eventfd,
 * ITER_SOURCE/ITER_DEST).
 */
#ifndef _VHOSTX_NET_COMPAT_H
#define _VHOSTX_NET_COMPAT_H

#include <linux/skbuff.h>
#include <linux/virtio_net.h>
#include "../compat.h"

/*
 * Zero-copy completion: a callback in struct ubuf_info until 6.9, a
 * const struct ubuf_info_ops from 6.10 (probed in Kbuild).  Define the
 * completion function, then VHOSTX_UBUF_OPS(name, fn) once and
 * vhostx_ubuf_set_ops(ubuf, name) for each ubuf.
 */
#ifdef VHOSTX_HAVE_UBUF_INFO_OPS
#define VHOSTX_UBUF_OPS(name, fn)					\
	static const struct ubuf_info_ops name = { .complete = fn }
#define vhostx_ubuf_set_ops(ubuf, name)	((ubuf)->ops = &(name))
#else
#define VHOSTX_UBUF_OPS(name, fn)					\
	static void (*const name)(struct sk_buff *, struct ubuf_info *,	\
				  bool) = fn
#define vhostx_ubuf_set_ops(ubuf, name)	((ubuf)->callback = (name))
#endif

/* Free what is left in a page fragment cache (probed in Kbuild). */
#ifdef VHOSTX_HAVE_PAGE_FRAG_CACHE_DRAIN
static inline void vhostx_page_frag_cache_drain(struct page_frag_cache *nc)
{
	page_frag_cache_drain(nc);
}
#else
static inline void vhostx_page_frag_cache_drain(struct page_frag_cache *nc)
{
	if (nc->va) {
		__page_frag_cache_drain(virt_to_head_page(nc->va),
					nc->pagecnt_bias);
		nc->va = NULL;
	}
}
#endif

/*
 * TX batching (TUN_MSG_PTR): what tun and tap read at the start of each
 * buffer of the batch, probed in Kbuild.  VHOSTX_TUN_XDP_HDR_ROOM bytes
 * there hold the virtio-net header; vhostx_tun_xdp_hdr_init() zeroes it
 * and returns where it goes; vhostx_tun_xdp_set_len() records the buffer
 * length where tun looks for it.  A kernel without TUN_MSG_PTR has no
 * batching to use; one with TUN_MSG_PTR and a layout not known here fails
 * the build, rather than silently sending one packet per call.
 */
#if defined(VHOSTX_HAVE_TUN_XDP_HDR_GSO)
/* 6.1 .. 6.12 at least: struct tun_xdp_hdr, the length then the header. */
#include <linux/if_tun.h>
#define VHOSTX_TUN_XDP_BATCH	1
#define VHOSTX_TUN_XDP_HDR_ROOM	sizeof(struct tun_xdp_hdr)

static inline void *vhostx_tun_xdp_hdr_init(void *buf, unsigned int pad)
{
	void *gso = (u8 *)buf + offsetof(struct tun_xdp_hdr, gso);

	memset(gso, 0, sizeof(struct virtio_net_hdr));
	return gso;
}

static inline void vhostx_tun_xdp_set_len(void *buf, unsigned int buflen)
{
	((struct tun_xdp_hdr *)buf)->buflen = buflen;
}
#elif defined(VHOSTX_HAVE_TUN_XDP_PLAIN_HDR)
/*
 * 7.2: the header alone at the start (it may be longer than struct
 * virtio_net_hdr: zero the whole headroom); tun takes the length from
 * the xdp_buff's frame_sz.
 */
#define VHOSTX_TUN_XDP_BATCH	1
#define VHOSTX_TUN_XDP_HDR_ROOM	sizeof(struct virtio_net_hdr)

static inline void *vhostx_tun_xdp_hdr_init(void *buf, unsigned int pad)
{
	memset(buf, 0, pad);
	return buf;
}

static inline void vhostx_tun_xdp_set_len(void *buf, unsigned int buflen)
{
}
#elif defined(VHOSTX_HAVE_TUN_MSG_PTR)
/* tun takes TUN_MSG_PTR batches, in a buffer layout not known here. */
#error "unknown tun_xdp layout in <linux/if_tun.h>: add its probe and shim"
#endif

#endif /* _VHOSTX_NET_COMPAT_H */
