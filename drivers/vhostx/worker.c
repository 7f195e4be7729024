// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx workers: the threads that run a device's work.
 *
 * Each device gets a default worker at VHOST_SET_OWNER; VHOST_NEW_WORKER
 * adds more and VHOST_ATTACH_VRING_WORKER moves a virtqueue onto one.  A
 * worker is, as in the kernel's vhost from 6.4 (and by default in 7.x):
 *
 * - a task of the owner (vhost_task, where the kernel has it: compat.h):
 *   a thread of the owner's process, sharing its mm, cgroups, limits and
 *   scheduling settings, counted against its RLIMIT_NPROC and pids cgroup,
 *   listed in /proc/<owner>/task, killed with it;
 * - or a kthread (the only kind on kernels without vhost_task, and on
 *   request elsewhere: VHOST_SET_FORK_FROM_OWNER) that adopts the owner's
 *   mm and joins its cgroups.
 *
 * Work is queued on a lock-free llist: queueing may happen from wakeup
 * callbacks in atomic context.  A vq's worker pointer is RCU-protected so
 * that a kick racing with VHOST_ATTACH_VRING_WORKER lands on either the old
 * or the new worker, never on a freed one.  Every queueing is inside an RCU
 * read-side section, which is also what ends a killed task's work cleanly
 * (vhostx_worker_killed()): an rcu_read_lock() section, or, for a kick,
 * the wakeup's wait-queue spinlock, which synchronize_rcu() waits for as
 * well (vhostx_poll_wakeup()).
 */
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/kcov.h>
#include <linux/kthread.h>
#include <linux/nospec.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "internal.h"

/**
 * vhostx_work_init() - prepare a work item
 * @work: the work item
 * @fn: function the worker will call
 */
void vhostx_work_init(struct vhostx_work *work, vhostx_work_fn_t fn)
{
	clear_bit(VHOSTX_WORK_QUEUED, &work->flags);
	work->fn = fn;
}
EXPORT_SYMBOL_GPL(vhostx_work_init);

/*
 * Queue @work on @worker; the caller is in an RCU read-side section (or
 * holds a spinlock, which is one), so that vhostx_worker_killed() can
 * wait for it.  A killed worker takes nothing more: it would never run it.
 */
static bool vhostx_worker_queue(struct vhostx_worker *worker,
				struct vhostx_work *work)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_any_held(), "queueing outside RCU");
	if (READ_ONCE(worker->killed))
		return false;
	if (test_and_set_bit(VHOSTX_WORK_QUEUED, &work->flags))
		return false;
	/* llist_add() is a full barrier: the worker sees the work's state. */
	llist_add(&work->node, &worker->work_list);
	if (worker->vtsk)
		vhost_task_wake(worker->vtsk);
	else
		wake_up_process(worker->task);
	return true;
}

/*
 * Run the work queued so far, in queueing order.  Return: whether there
 * was any.  The caller set TASK_INTERRUPTIBLE (to sleep if there was
 * none); running work puts it back to TASK_RUNNING.  Inline: the kthread
 * loop runs it twice per wakeup (the work, then the check before it
 * sleeps, in __vhostx_worker_pass()), as vhost_task's function does in
 * task mode (vhostx_worker_pass()).
 */
static __always_inline bool __vhostx_worker_run(struct vhostx_worker *worker)
{
	struct vhostx_work *work, *next;
	struct llist_node *node;

	node = llist_del_all(&worker->work_list);
	if (!node)
		return false;
	__set_current_state(TASK_RUNNING);
	/* The list is newest first; run work in queueing order. */
	node = llist_reverse_order(node);
	llist_for_each_entry_safe(work, next, node, node) {
		/* Clear first, so the work may requeue itself. */
		clear_bit(VHOSTX_WORK_QUEUED, &work->flags);
		/* KCOV: the owner's coverage collector sees this work. */
		kcov_remote_start_common(worker->kcov_handle);
		work->fn(work);
		kcov_remote_stop();
		cond_resched();
	}
	return true;
}

/*
 * Lingering.  A worker that ran work and finds no more does not sleep at
 * once: while nothing else wants its CPU it spins for up to its window,
 * so that a kick in that time queues work on a running worker instead of
 * waking a sleeping thread (and, in a guest or on an idle host CPU, an
 * idle CPU).  The window adapts as KVM's halt polling does, on the whole
 * time the worker was idle (its linger and the sleep after it): idle for
 * no longer than worker_linger_ns, a window that long would have caught
 * the next work, so the window grows (to an eighth of the maximum, then
 * doubling); idle for longer, the spin was wasted, so the window halves,
 * and below an eighth of the maximum it shuts.  Steady traffic rarely
 * sleeps; traffic with gaps longer than the maximum shuts the window
 * within a few gaps (spinning about twice the maximum in all) and then
 * does not spin; an idle worker never spins (it lingers only after
 * work).  A worker that shares its CPU with a runnable task (one CPU, or
 * a busy host) neither spins nor grows its window.
 */
static unsigned int vhostx_worker_linger_max_ns = 20000;
module_param_named(worker_linger_ns, vhostx_worker_linger_max_ns, uint, 0644);
MODULE_PARM_DESC(worker_linger_ns,
		 "longest a worker spins for more work before it sleeps, while its CPU has nothing else to run, in ns (adaptive; 0: never, default 20000)");

#define VHOSTX_LINGER_MAX_NS	NSEC_PER_MSEC

static unsigned int vhostx_linger_max(void)
{
	return min_t(unsigned int, READ_ONCE(vhostx_worker_linger_max_ns),
		     VHOSTX_LINGER_MAX_NS);
}

/*
 * Going to sleep: note since when the worker has been idle (the start of
 * a linger that timed out, else now), if a window could have avoided the
 * sleep.
 */
static __always_inline void vhostx_worker_sleeps(struct vhostx_worker *worker)
{
	if (single_task_running() && READ_ONCE(vhostx_worker_linger_max_ns))
		worker->slept_at = worker->idle_at ?: local_clock();
	worker->idle_at = 0;
}

/* Woken after vhostx_worker_sleeps() noted a sleep: adapt the window. */
static void vhostx_worker_woke(struct vhostx_worker *worker)
{
	unsigned int max = vhostx_linger_max(), w = worker->linger_ns;
	u64 idle = local_clock() - worker->slept_at;

	worker->slept_at = 0;
	if (idle <= max)
		w = clamp(w * 2, max / 8, max);
	else if ((w /= 2) < max / 8)
		w = 0;
	worker->linger_ns = w;
}

/*
 * Spin for work for up to the window; on a timeout note when the worker
 * went idle.  Return: whether work arrived.
 */
static bool vhostx_worker_linger(struct vhostx_worker *worker)
{
	unsigned int ns = min(worker->linger_ns, vhostx_linger_max());
	u64 start, end;

	if (!ns) {
		/* worker_linger_ns was lowered to 0. */
		worker->linger_ns = 0;
		return false;
	}
	if (!single_task_running())
		return false;
	start = local_clock();
	end = start + ns;
	while (llist_empty(&worker->work_list)) {
		if (need_resched() || !single_task_running() ||
		    signal_pending(current) || local_clock() > end) {
			worker->idle_at = start;
			return false;
		}
		cpu_relax();
	}
	return true;
}

/*
 * One pass of a worker's loop, the kthread's and vhost_task's: run the
 * work queued so far and, if there was some, linger for more.  The caller
 * set TASK_INTERRUPTIBLE (or TASK_IDLE).  Return: whether work ran (false:
 * the caller sleeps).
 */
static __always_inline bool __vhostx_worker_pass(struct vhostx_worker *worker)
{
	if (unlikely(worker->slept_at))
		vhostx_worker_woke(worker);
	if (!__vhostx_worker_run(worker)) {
		vhostx_worker_sleeps(worker);
		return false;
	}
	/* In TASK_RUNNING: __vhostx_worker_run() set it. */
	worker->idle_at = 0;
	if (worker->linger_ns)
		vhostx_worker_linger(worker);
	return true;
}

static bool vhostx_worker_pass(void *data)
{
	return __vhostx_worker_pass(data);
}

/*
 * Task mode: the owner's process got SIGKILL (the owner was killed, or
 * exits or execs and takes its threads down), which vhost_task lets the
 * worker see between two runs of work.  The worker must end, but ioctls
 * may still wait on it: a flush queued by the owner's other threads, or
 * by a process the device file was passed to.  It stops taking work,
 * waits until every queueing that could not yet see that is over (all
 * are RCU read-side sections), and runs what they queued, so that every
 * flush returns.  Queues attached to it stop; anyone still holding the
 * device can only tear it down (or RESET_OWNER and set it up again),
 * which stops the exited task without flushing it.  Called once, with
 * vhost_task's exit lock held: vhostx_worker_destroy() (vhost_task_stop())
 * waits for it to return.  A kthread worker that got SIGKILL
 * (vhostx_worker_interrupt()) calls it too, from its own loop.  No device or vq mutex is taken here: an ioctl
 * holding one may be waiting for this very worker.
 */
static void vhostx_worker_killed(void *data)
{
	struct vhostx_worker *worker = data;

	WRITE_ONCE(worker->killed, true);
	synchronize_rcu();
	__vhostx_worker_run(worker);
}

/*
 * Kthread mode.  SIGKILL (vhostx_worker_interrupt()) ends the worker's
 * waits on the owner's memory and then the worker itself, as a killed
 * task worker ends: it stops taking work and sleeps, in a state no
 * pending signal wakes, until it is stopped.
 */
static int vhostx_kthread_fn(void *data)
{
	struct vhostx_worker *worker = data;

	allow_signal(SIGKILL);
	kthread_use_mm(worker->dev->mm);
	for (;;) {
		set_current_state(worker->killed ? TASK_IDLE :
				  TASK_INTERRUPTIBLE);
		if (__vhostx_worker_pass(worker))
			continue;
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!worker->killed && fatal_signal_pending(current)) {
			__set_current_state(TASK_RUNNING);
			vhostx_worker_killed(worker);
			continue;
		}
		schedule();
	}
	kthread_unuse_mm(worker->dev->mm);
	return 0;
}

/*
 * A thread waiting for @worker was killed, or exits.  A handler may hold
 * up the wait for as long as a page of guest memory takes to arrive: a
 * VMM doing post-copy migration registers guest memory with userfaultfd
 * and fills each page when something touches it, and if that VMM is
 * dying nothing will fill it any more.  A task worker is a thread of the
 * owner and got the owner's SIGKILL itself; a kthread worker gets one
 * here, if the caller is the owner (or exits: its files are being
 * released), so that its wait for the page fails, the queue stops with
 * an error, and the worker ends (vhostx_kthread_fn()).  Called with the
 * worker alive: under RCU from vq->worker, or with a flush queued on it.
 */
static void vhostx_worker_interrupt(struct vhostx_worker *worker)
{
	if (worker->task && ((current->flags & PF_EXITING) ||
			     current->mm == worker->dev->mm))
		send_sig(SIGKILL, worker->task, 1);
}

/* Wait for a flush queued on @worker; see vhostx_worker_interrupt(). */
static void vhostx_flush_wait(struct vhostx_worker *worker,
			      struct completion *done)
{
	if (!(current->flags & PF_EXITING) &&
	    !wait_for_completion_killable(done))
		return;
	if (try_wait_for_completion(done))
		return;
	vhostx_worker_interrupt(worker);
	wait_for_completion(done);
}

/* Kthread mode: a kthread in the caller's (the owner's) cgroups. */
static int vhostx_kthread_start(struct vhostx_worker *worker,
				const char *name)
{
	struct task_struct *task;
	int ret;

	task = kthread_create(vhostx_kthread_fn, worker, "%s", name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	ret = cgroup_attach_task_all(current, task);
	if (ret) {
		kthread_stop(task);
		return ret;
	}
	worker->task = task;
	wake_up_process(task);
	return 0;
}

/*
 * Task mode: a thread of the caller (the owner), which fails like
 * clone() would: RLIMIT_NPROC, the pids cgroup, a fatal signal pending.
 */
static int vhostx_task_start(struct vhostx_worker *worker, const char *name)
{
	struct vhost_task *vtsk;

	vtsk = vhostx_vhost_task_create(vhostx_worker_pass,
					vhostx_worker_killed, worker, name);
	if (!vtsk)
		return -ENOMEM;
	worker->vtsk = vtsk;
	vhost_task_start(vtsk);
	return 0;
}

/**
 * vhostx_worker_create() - start a worker for a device
 * @dev: device, with an owner; called in the owner's context with
 *	dev->mutex held
 *
 * The worker is a task of the caller or a kthread, as dev->fork_owner
 * says (always a kthread on a kernel without vhost_task).
 *
 * Return: the worker, or ERR_PTR(-ENOMEM) whatever stopped it, as the
 * kernel's vhost answers.
 */
struct vhostx_worker *vhostx_worker_create(struct vhostx_dev *dev)
{
	struct vhostx_worker *worker;
	char name[TASK_COMM_LEN];
	u32 id;
	int ret;

	lockdep_assert_held(&dev->mutex);
	worker = kzalloc(sizeof(*worker), GFP_KERNEL_ACCOUNT);
	if (!worker)
		return ERR_PTR(-ENOMEM);
	worker->dev = dev;
	worker->kcov_handle = kcov_common_handle();
	init_llist_head(&worker->work_list);

	ret = xa_alloc(&dev->worker_xa, &id, worker, xa_limit_32b,
		       GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_free;
	worker->id = id;

	snprintf(name, sizeof(name), "vhostx-%d", current->pid);
	if (VHOSTX_HAVE_TASK_WORKERS && dev->fork_owner == VHOST_FORK_OWNER_TASK)
		ret = vhostx_task_start(worker, name);
	else
		ret = vhostx_kthread_start(worker, name);
	if (ret)
		goto err_erase;
	return worker;

err_erase:
	xa_erase(&dev->worker_xa, id);
err_free:
	kfree(worker);
	return ERR_PTR(-ENOMEM);
}

struct vhostx_flush_work {
	struct vhostx_work work;
	struct completion done;
};

static void vhostx_flush_fn(struct vhostx_work *work)
{
	struct vhostx_flush_work *flush;

	flush = container_of(work, struct vhostx_flush_work, work);
	complete(&flush->done);
}

/**
 * vhostx_worker_flush() - wait until work queued so far has run
 * @worker: the worker
 */
void vhostx_worker_flush(struct vhostx_worker *worker)
{
	struct vhostx_flush_work flush;
	bool queued;

	init_completion(&flush.done);
	vhostx_work_init(&flush.work, vhostx_flush_fn);
	rcu_read_lock();
	queued = vhostx_worker_queue(worker, &flush.work);
	rcu_read_unlock();
	/* Not queued: the worker was killed and ran everything it had. */
	if (queued)
		vhostx_flush_wait(worker, &flush.done);
}

/**
 * vhostx_worker_destroy() - flush and stop a worker no vq uses
 * @worker: the worker; dev->mutex held
 */
void vhostx_worker_destroy(struct vhostx_worker *worker)
{
	lockdep_assert_held(&worker->dev->mutex);
	WARN_ON_ONCE(worker->attach_cnt);
	xa_erase(&worker->dev->worker_xa, worker->id);
	vhostx_worker_flush(worker);
	/* A killed task has ended (or is ending) already: this waits. */
	if (worker->vtsk)
		vhost_task_stop(worker->vtsk);
	else
		kthread_stop(worker->task);
	kfree(worker);
}

/**
 * vhostx_vq_attach_worker() - run a vq's work on @worker from now on
 * @vq: the virtqueue; dev->mutex held, vq->mutex NOT held (we flush)
 * @worker: the worker, or NULL to detach
 */
void vhostx_vq_attach_worker(struct vhostx_vq *vq,
			     struct vhostx_worker *worker)
{
	struct vhostx_worker *old;

	lockdep_assert_held(&vq->dev->mutex);
	lockdep_assert_not_held(&vq->mutex);
	old = rcu_dereference_protected(vq->worker,
					lockdep_is_held(&vq->dev->mutex));
	if (old == worker)
		return;
	if (worker)
		worker->attach_cnt++;
	rcu_assign_pointer(vq->worker, worker);
	if (!old)
		return;
	/* Nobody queues on @old after this; let what is queued finish. */
	synchronize_rcu();
	vhostx_worker_flush(old);
	old->attach_cnt--;
}

/**
 * vhostx_workers_free() - detach every vq and stop every worker
 * @dev: the device; dev->mutex held, backends stopped
 */
void vhostx_workers_free(struct vhostx_dev *dev)
{
	struct vhostx_worker *worker;
	unsigned long id;
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++)
		vhostx_vq_attach_worker(dev->vqs[i], NULL);
	xa_for_each(&dev->worker_xa, id, worker)
		vhostx_worker_destroy(worker);
}

/*
 * Queue @work on @vq's worker, for a caller already in an RCU read-side
 * section of any kind (rcu_read_lock(), or a spinlock held: see
 * vhostx_poll_wakeup()), which keeps the worker alive until it returns.
 */
static __always_inline bool __vhostx_vq_work_queue(struct vhostx_vq *vq,
						   struct vhostx_work *work)
{
	struct vhostx_worker *worker;

	worker = rcu_dereference_check(vq->worker, rcu_read_lock_any_held());
	return worker && vhostx_worker_queue(worker, work);
}

/**
 * vhostx_vq_work_queue() - queue work on a virtqueue's worker
 * @vq: the virtqueue
 * @work: the work; queued at most once until it runs
 *
 * Safe from atomic context.
 *
 * Return: true if queued, false if already queued or the vq has no worker.
 */
bool vhostx_vq_work_queue(struct vhostx_vq *vq, struct vhostx_work *work)
{
	bool queued;

	rcu_read_lock();
	queued = __vhostx_vq_work_queue(vq, work);
	rcu_read_unlock();
	return queued;
}
EXPORT_SYMBOL_GPL(vhostx_vq_work_queue);

/**
 * vhostx_vq_has_work() - is work waiting on a virtqueue's worker?
 * @vq: the virtqueue
 *
 * Busy-polling handlers use it to stop spinning when other work waits.
 *
 * Return: true if the worker's list is not empty.
 */
bool vhostx_vq_has_work(struct vhostx_vq *vq)
{
	struct vhostx_worker *worker;
	bool ret = false;

	rcu_read_lock();
	worker = rcu_dereference(vq->worker);
	if (worker)
		ret = !llist_empty(&worker->work_list);
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(vhostx_vq_has_work);

/**
 * vhostx_vq_flush() - wait until work queued on a vq's worker has run
 * @vq: the virtqueue; the caller must not hold vq->mutex
 */
void vhostx_vq_flush(struct vhostx_vq *vq)
{
	struct vhostx_flush_work flush;
	struct vhostx_worker *worker;
	bool queued = false;

	/* The work may need it: waiting with it held would never end. */
	lockdep_assert_not_held(&vq->mutex);
	init_completion(&flush.done);
	vhostx_work_init(&flush.work, vhostx_flush_fn);
	rcu_read_lock();
	worker = rcu_dereference(vq->worker);
	if (worker)
		queued = vhostx_worker_queue(worker, &flush.work);
	rcu_read_unlock();
	/* A worker is only freed after it ran everything queued on it. */
	if (queued)
		vhostx_flush_wait(worker, &flush.done);
}
EXPORT_SYMBOL_GPL(vhostx_vq_flush);

/**
 * vhostx_vq_lock() - take a virtqueue's mutex outside its worker
 * @vq: the virtqueue
 *
 * For ioctls, and for a device's release.  The vq's handler holds the
 * mutex while it touches guest memory, which may take as long as the VMM
 * takes to fill a missing page (userfaultfd, post-copy migration).  A
 * caller that is killed meanwhile, or a dying owner releasing its files,
 * does not wait for a page that will never come: the vq's kthread worker
 * is interrupted (a task worker got the owner's SIGKILL itself), its
 * access fails, and the mutex is taken once the handler lets it go.
 * Handlers take vq->mutex with mutex_lock().
 */
void vhostx_vq_lock(struct vhostx_vq *vq)
{
	struct vhostx_worker *worker;

	if (mutex_trylock(&vq->mutex))
		return;
	if (!(current->flags & PF_EXITING) &&
	    !mutex_lock_killable(&vq->mutex))
		return;
	rcu_read_lock();
	worker = rcu_dereference(vq->worker);
	if (worker)
		vhostx_worker_interrupt(worker);
	rcu_read_unlock();
	mutex_lock(&vq->mutex);
}
EXPORT_SYMBOL_GPL(vhostx_vq_lock);

static void vhostx_poll_func(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct vhostx_poll *poll = container_of(pt, struct vhostx_poll, table);

	poll->wqh = wqh;
	add_wait_queue(wqh, &poll->wait);
}

/*
 * A wakeup of the file @poll watches: queue its work.  Every kick runs
 * this, in the kicking thread (the VMM's or the guest's ioeventfd write),
 * so it queues directly.  The caller holds the wait queue's lock, a
 * spinlock, and that is an RCU read-side critical section for the
 * synchronize_rcu() of vhostx_vq_attach_worker() and vhostx_worker_killed()
 * (preemption is off; on PREEMPT_RT spin_lock() takes rcu_read_lock()
 * itself).  vhostx_poll_start() calls it under rcu_read_lock().
 */
static int vhostx_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct vhostx_poll *poll = container_of(wait, struct vhostx_poll, wait);
	struct vhostx_vq *vq = poll->vq;

	if (!(key_to_poll(key) & poll->mask))
		return 0;
	if (poll == &vq->poll)
		atomic64_inc(&vq->stats.kicks);
	__vhostx_vq_work_queue(vq, &poll->work);
	return 0;
}

/**
 * vhostx_poll_init() - prepare a poll that queues work on wakeups
 * @poll: the poll
 * @fn: work function
 * @mask: events (EPOLLIN, EPOLLOUT, ...) that queue the work
 * @vq: virtqueue whose worker runs the work
 */
void vhostx_poll_init(struct vhostx_poll *poll, vhostx_work_fn_t fn,
		      __poll_t mask, struct vhostx_vq *vq)
{
	init_waitqueue_func_entry(&poll->wait, vhostx_poll_wakeup);
	init_poll_funcptr(&poll->table, vhostx_poll_func);
	poll->mask = mask;
	poll->vq = vq;
	poll->wqh = NULL;
	vhostx_work_init(&poll->work, fn);
}
EXPORT_SYMBOL_GPL(vhostx_poll_init);

/**
 * vhostx_poll_start() - start watching a file
 * @poll: the poll, stopped
 * @file: file to watch; events already pending queue the work at once
 *
 * Return: 0, or -EINVAL if the file reports an error.
 */
int vhostx_poll_start(struct vhostx_poll *poll, struct file *file)
{
	__poll_t mask;

	if (poll->wqh)
		return 0;
	mask = vfs_poll(file, &poll->table);
	if (mask) {
		rcu_read_lock();
		vhostx_poll_wakeup(&poll->wait, 0, 0, poll_to_key(mask));
		rcu_read_unlock();
	}
	if (mask & EPOLLERR) {
		vhostx_poll_stop(poll);
		return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vhostx_poll_start);

/**
 * vhostx_poll_stop() - stop watching; work already queued may still run
 * @poll: the poll
 */
void vhostx_poll_stop(struct vhostx_poll *poll)
{
	if (poll->wqh) {
		remove_wait_queue(poll->wqh, &poll->wait);
		poll->wqh = NULL;
	}
}
EXPORT_SYMBOL_GPL(vhostx_poll_stop);

/**
 * vhostx_poll_queue() - queue a poll's work as if its event fired
 * @poll: the poll
 */
void vhostx_poll_queue(struct vhostx_poll *poll)
{
	vhostx_vq_work_queue(poll->vq, &poll->work);
}
EXPORT_SYMBOL_GPL(vhostx_poll_queue);

static long vhostx_vring_worker_ioctl(struct vhostx_dev *dev,
				      unsigned int cmd, void __user *argp)
{
	struct vhost_vring_worker ring_worker;
	struct vhostx_worker *worker;
	struct vhostx_vq *vq;
	u32 idx;

	if (copy_from_user(&ring_worker, argp, sizeof(ring_worker)))
		return -EFAULT;
	idx = ring_worker.index;
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	vq = dev->vqs[array_index_nospec(idx, dev->nvqs)];

	if (cmd == VHOST_GET_VRING_WORKER) {
		worker = rcu_dereference_protected(vq->worker,
					lockdep_is_held(&dev->mutex));
		if (!worker)
			return -EINVAL;
		ring_worker.worker_id = worker->id;
		if (copy_to_user(argp, &ring_worker, sizeof(ring_worker)))
			return -EFAULT;
		return 0;
	}

	worker = xa_load(&dev->worker_xa, ring_worker.worker_id);
	if (!worker)
		return -ENODEV;
	vhostx_vq_attach_worker(vq, worker);
	return 0;
}

/*
 * Workers a device may have: its default one and one per virtqueue, so
 * that every queue can run on a worker of its own.  A task-mode worker
 * counts against the owner's RLIMIT_NPROC and pids cgroup; a kthread
 * counts against nothing of the owner's: without a bound, VHOST_NEW_WORKER
 * in a loop would fill the host's task table.  The bound holds in both
 * modes.
 */
static bool vhostx_worker_room(struct vhostx_dev *dev)
{
	struct vhostx_worker *worker;
	unsigned long id;
	int n = 0;

	xa_for_each(&dev->worker_xa, id, worker)
		n++;
	return n < dev->nvqs + 1;
}

/**
 * vhostx_worker_ioctl() - the worker ioctls
 * @dev: the device; dev->mutex held, caller is the owner
 * @cmd: ioctl number
 * @argp: user argument
 *
 * VHOST_NEW_WORKER fails with -ENOMEM once the device has its default
 * worker and one per virtqueue, or when the worker cannot be made (task
 * mode: the owner's RLIMIT_NPROC, its pids cgroup).  In kthread mode on a
 * kernel with vhost_task it fails with -EFAULT, as in 7.x, which allows
 * more workers only where they are counted against the owner; on a
 * kernel without vhost_task kthreads are the only mode and the bound
 * above is what limits them.
 *
 * Return: 0 or an errno; -ENOIOCTLCMD if @cmd is not a worker ioctl.
 */
long vhostx_worker_ioctl(struct vhostx_dev *dev, unsigned int cmd,
			 void __user *argp)
{
	struct vhost_worker_state state;
	struct vhostx_worker *worker;

	lockdep_assert_held(&dev->mutex);
	switch (cmd) {
	case VHOST_NEW_WORKER:
		if (VHOSTX_HAVE_TASK_WORKERS &&
		    dev->fork_owner == VHOST_FORK_OWNER_KTHREAD)
			return -EFAULT;
		/* The kernel's vhost: ENOMEM whenever no worker is made. */
		if (!vhostx_worker_room(dev))
			return -ENOMEM;
		worker = vhostx_worker_create(dev);
		if (IS_ERR(worker))
			return PTR_ERR(worker);
		state.worker_id = worker->id;
		if (copy_to_user(argp, &state, sizeof(state))) {
			vhostx_worker_destroy(worker);
			return -EFAULT;
		}
		return 0;
	case VHOST_FREE_WORKER:
		if (copy_from_user(&state, argp, sizeof(state)))
			return -EFAULT;
		worker = xa_load(&dev->worker_xa, state.worker_id);
		if (!worker)
			return -ENODEV;
		if (worker->attach_cnt)
			return -EBUSY;
		vhostx_worker_destroy(worker);
		return 0;
	case VHOST_ATTACH_VRING_WORKER:
	case VHOST_GET_VRING_WORKER:
		return vhostx_vring_worker_ioctl(dev, cmd, argp);
	default:
		return -ENOIOCTLCMD;
	}
}
