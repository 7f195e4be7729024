/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version shims private to vhostx_net, waiting to move into
 * drivers/vhostx/compat.h.
 */
#ifndef _VHOSTX_NET_COMPAT_H
#define _VHOSTX_NET_COMPAT_H

#include <linux/skbuff.h>
#include <linux/uio.h>

/* ITER_SOURCE/ITER_DEST arrived in 6.2 and were backported to 6.1.11. */
#ifndef ITER_SOURCE
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
#endif

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

#endif /* _VHOSTX_NET_COMPAT_H */
