/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version shims private to vhostx_net, waiting to move into
 * drivers/vhostx/compat.h.
 */
#ifndef _VHOSTX_NET_COMPAT_H
#define _VHOSTX_NET_COMPAT_H

#include <linux/uio.h>

/* ITER_SOURCE/ITER_DEST arrived in 6.2 and were backported to 6.1.11. */
#ifndef ITER_SOURCE
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
#endif

#endif /* _VHOSTX_NET_COMPAT_H */
