/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference vhostx.ko cares about, in one place.
 *
 * Prefer feature tests (#ifdef of a macro the kernel defines) over version
 * numbers; use a version number only where the kernel gives nothing to
 * test, and say which release changed what.
 */
#ifndef _VHOSTX_COMPAT_H
#define _VHOSTX_COMPAT_H

#include <linux/eventfd.h>
#include <linux/uio.h>
#include <linux/version.h>

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
 * works on every kernel from 6.1 on.  See worker.c.
 */

#endif /* _VHOSTX_COMPAT_H */
