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
#include <linux/types.h>
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
 * Workers (worker.c) are tasks of the owner where the kernel has
 * vhost_task (6.4+, from the top-level Kbuild's probe of
 * <linux/sched/vhost_task.h> and CONFIG_VHOST_TASK), kthreads otherwise
 * and on request (VHOST_SET_FORK_FROM_OWNER).  VHOSTX_HAVE_TASK_WORKERS
 * says which kernel this is.  vhost_task_create() failed with NULL in its
 * first releases and with an ERR_PTR() in later ones: the shim gives NULL
 * for either.  Without vhost_task the shims are never called (the mode
 * cannot be chosen there) and only keep worker.c free of #ifdefs.
 */
#if defined(VHOSTX_HAVE_VHOST_TASK)
#include <linux/err.h>
#include <linux/sched/vhost_task.h>

#define VHOSTX_HAVE_TASK_WORKERS	1

static inline struct vhost_task *
vhostx_vhost_task_create(bool (*fn)(void *), void (*killed)(void *),
			 void *arg, const char *name)
{
	struct vhost_task *vtsk = vhost_task_create(fn, killed, arg, name);

	return IS_ERR_OR_NULL(vtsk) ? NULL : vtsk;
}
#else	/* no vhost_task, or 6.4-6.10's without a SIGKILL callback */
#define VHOSTX_HAVE_TASK_WORKERS	0

struct vhost_task;

static inline struct vhost_task *
vhostx_vhost_task_create(bool (*fn)(void *), void (*killed)(void *),
			 void *arg, const char *name)
{
	return NULL;
}

static inline void vhost_task_start(struct vhost_task *vtsk) { }
static inline void vhost_task_stop(struct vhost_task *vtsk) { }
static inline void vhost_task_wake(struct vhost_task *vtsk) { }
#endif

#endif /* _VHOSTX_COMPAT_H */
