/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference of vhostx.ko, in one place; the test
 * backend uses it as is, and the net backend's net/net_compat.h includes
 * it and adds only what networking needs.
 *
 * Feature tests only (#ifdef of a macro the kernel defines, or of a
 * VHOSTX_HAVE_* answer from the top-level Kbuild's header probes), never
 * version numbers; say which release changed what.  A probe whose miss
 * would quietly build less on a kernel that has the feature must make
 * the build fail instead (see the TX batching probe in net_compat.h).
 */
#ifndef _VHOSTX_COMPAT_H
#define _VHOSTX_COMPAT_H

#include <linux/eventfd.h>
#include <linux/uio.h>

/*
 * 6.8 dropped the count argument of eventfd_signal().  The top-level
 * Kbuild probes <linux/eventfd.h> and defines the macro below.
 */
static inline void vhostx_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef VHOSTX_HAVE_EVENTFD_SIGNAL_COUNT
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/* ITER_SOURCE/ITER_DEST came in 6.2 (backported to 6.1.11+). */
#ifndef ITER_SOURCE
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
#endif

/*
 * Workers: vhost_task (6.4+) would make the worker a child of the owner;
 * vhostx uses a kthread that adopts the owner's mm and cgroups, which
 * works on every kernel from 6.1 on.  See worker.c.  So the worker mode
 * ioctls of 6.17 (VHOST_SET/GET_FORK_FROM_OWNER) answer for kthread mode
 * on every kernel (dev.c).
 */

#endif /* _VHOSTX_COMPAT_H */
