// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx polling mode: shared pollers.
 *
 * With the module parameter poll_cpus (a cpulist, empty by default) each
 * listed CPU runs one poller, a kthread bound to it.  A worker made while
 * polling is on (a device's default worker at VHOST_SET_OWNER, or one
 * from VHOST_NEW_WORKER) gets no thread of its own: it joins the poller
 * serving the fewest workers, and its work (kicks, socket wakeups,
 * flushes) is queued and run as before, by that poller.
 *
 * A kick on a queue of such a worker puts the queue in the poller's set:
 * the guest is told not to kick (the ring format's mute_notify, both
 * formats), and the poller runs the queue's handler every round, with
 * the handler's own packet and byte budgets, until the queue has moved
 * nothing for poll_idle_us.  It then asks for kicks again (re-checking
 * the ring after, as every handler does) and leaves the set; its next
 * kick brings it back.  A poller with nothing queued and no queue in its
 * set sleeps.
 *
 * The poller gives its workers turns in round robin.  A turn switches to
 * the worker's owner's mm, runs the work queued on the worker, runs the
 * handler of each of its queues in the set once, and switches back: an
 * owner's memory is only touched under its own mm.  The time of each
 * turn is added to the device's poll_ns (its statistics), since a poller
 * is charged to no owner's cgroup.
 *
 * Locking: vhostx_pollers_lock (a mutex) guards the list of pollers and
 * the parameter; each poller's spinlock guards its list of workers and
 * which one it runs.  A worker leaves its poller only in
 * vhostx_worker_destroy() (dev->mutex held, no vq attached, flushed):
 * vhostx_poller_detach() takes it off the list, waits until the poller
 * is not in its turn, and then takes its queues out of the set.  A
 * poller lives while it is listed in poll_cpus or serves a worker.
 */
#include <linux/cpumask.h>
#include <linux/kcov.h>
#include <linux/kthread.h>
#include <linux/moduleparam.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "internal.h"

/**
 * struct vhostx_poller - one shared poller
 * @task: its kthread, bound to @cpu
 * @cpu: the CPU
 * @node: link in vhostx_pollers (vhostx_pollers_lock)
 * @lock: guards @workers, @running and @nr
 * @workers: the workers it serves, next turn first
 * @running: the worker whose turn it is, else NULL
 * @nr: how many workers it serves
 * @retired: its CPU left poll_cpus: it polls no queue and takes no new
 *	worker, but serves the ones it has until they leave (vhostx_pollers_lock
 *	to change, read without)
 * @wq: vhostx_poller_detach() waits here for a turn to end
 */
struct vhostx_poller {
	struct task_struct *task;
	unsigned int cpu;
	struct list_head node;
	spinlock_t lock;	/* @workers, @running, @nr */
	struct list_head workers;
	struct vhostx_worker *running;
	unsigned int nr;
	bool retired;
	wait_queue_head_t wq;
};

static DEFINE_MUTEX(vhostx_pollers_lock);
static LIST_HEAD(vhostx_pollers);
/* poll_cpus as set; applied at module init if set at load. */
static struct cpumask vhostx_poll_mask;
static bool vhostx_poll_ready;

/*
 * 50 us: longer than the gap between two packets of a busy queue and
 * than a request/response round trip in a guest, so a queue in use stays
 * polled; short enough that a queue going quiet costs at most that much
 * spinning before kicks are back.
 */
static unsigned int poll_idle_us = 50;
module_param(poll_idle_us, uint, 0644);
MODULE_PARM_DESC(poll_idle_us,
		 "A polled queue idle this long (us, at most 1000000) gets its kicks back (default 50)");

#define VHOSTX_POLL_IDLE_MAX_US	1000000U

/* Is @vq's worker @w?  Only compared, never dereferenced. */
static bool vhostx_poll_vq_on(struct vhostx_vq *vq, struct vhostx_worker *w)
{
	return rcu_access_pointer(vq->worker) == w;
}

/* Put @vq in @w's set: the guest stops kicking.  In @w's turn. */
static void vhostx_poll_enter(struct vhostx_worker *w, struct vhostx_vq *vq,
			      u64 now)
{
	mutex_lock(&vq->mutex);
	if (!vq->polling.on && vq->private_data && !vq->broken) {
		vq->polling.on = true;
		vq->polling.by = w;
		vq->polling.seen = vq->stats.bufs;
		vq->polling.active = now;
		w->npolled++;
		vhostx_mute_notify(vq);
	}
	mutex_unlock(&vq->mutex);
}

/*
 * Take @vq out of @w's set; vq->mutex held.  With @in_mm (the poller, in
 * @w's turn) kicks are enabled here on a ring in use, even one whose
 * backend was just detached (a backend attached later must get kicks),
 * and if buffers came meanwhile the handler is queued; otherwise the
 * handler is queued on the vq's worker (if any), whose run ends by
 * enabling kicks.
 */
static void vhostx_poll_leave(struct vhostx_worker *w, struct vhostx_vq *vq,
			      bool in_mm)
{
	lockdep_assert_held(&vq->mutex);
	vq->polling.on = false;
	vq->polling.by = NULL;
	w->npolled--;
	if (!in_mm)
		vhostx_poll_queue(&vq->poll);
	else if (vq->meta_ready && vhostx_enable_notify(vq) &&
		 vq->private_data)
		vhostx_poll_queue(&vq->poll);
}

/* One round of @vq in @w's set: run its handler, leave when idle. */
static void vhostx_poll_vq(struct vhostx_poller *p, struct vhostx_worker *w,
			   struct vhostx_vq *vq)
{
	u64 idle_ns = (u64)min(READ_ONCE(poll_idle_us),
			       VHOSTX_POLL_IDLE_MAX_US) * NSEC_PER_USEC;
	u64 bufs, now;

	/* Moved to another worker, or the poller retired: let it go. */
	if (!vhostx_poll_vq_on(vq, w) || READ_ONCE(p->retired)) {
		mutex_lock(&vq->mutex);
		vhostx_poll_leave(w, vq, true);
		mutex_unlock(&vq->mutex);
		return;
	}
	atomic64_inc(&vq->stats.polls);
	kcov_remote_start_common(w->kcov_handle);
	vq->handle_kick(&vq->poll.work);
	kcov_remote_stop();

	now = local_clock();
	bufs = READ_ONCE(vq->stats.bufs);
	if (bufs != vq->polling.seen) {
		vq->polling.seen = bufs;
		vq->polling.active = now;
		return;
	}
	if (now - vq->polling.active < idle_ns)
		return;
	mutex_lock(&vq->mutex);
	vhostx_poll_leave(w, vq, true);
	mutex_unlock(&vq->mutex);
}

/* Put @w's queues kicked since the last look in the set. */
static void vhostx_poller_take_kicked(struct vhostx_poller *p,
				      struct vhostx_worker *w)
{
	struct vhostx_dev *dev = w->dev;
	int i;

	for (i = 0; i < dev->nvqs; i++) {
		struct vhostx_vq *vq = dev->vqs[i];

		if (test_bit(0, &vq->polling.kicked) &&
		    test_and_clear_bit(0, &vq->polling.kicked) &&
		    !READ_ONCE(p->retired) && vhostx_poll_vq_on(vq, w))
			vhostx_poll_enter(w, vq, local_clock());
	}
}

/*
 * @w's turn on @p: its queued work, then its queues in the set.  Kicked
 * queues are taken before the work and again after it: a kick sets its
 * bit before it queues its work, so one whose work this turn ran is seen.
 */
static void vhostx_poller_turn(struct vhostx_poller *p,
			       struct vhostx_worker *w)
{
	struct vhostx_dev *dev = w->dev;
	u64 start = local_clock();
	int i;

	kthread_use_mm(dev->mm);
	vhostx_poller_take_kicked(p, w);
	vhostx_worker_run(w);
	vhostx_poller_take_kicked(p, w);
	for (i = 0; i < dev->nvqs; i++)
		if (dev->vqs[i]->polling.by == w)
			vhostx_poll_vq(p, w, dev->vqs[i]);
	kthread_unuse_mm(dev->mm);
	atomic64_add(local_clock() - start, &dev->poll_ns);
	atomic64_inc(&dev->poll_turns);
}

/* The next worker with something to do, moved to the end; or NULL. */
static struct vhostx_worker *vhostx_poller_next(struct vhostx_poller *p)
{
	struct vhostx_worker *w;

	spin_lock(&p->lock);
	list_for_each_entry(w, &p->workers, poll_node) {
		if (llist_empty(&w->work_list) && !READ_ONCE(w->npolled))
			continue;
		list_move_tail(&w->poll_node, &p->workers);
		p->running = w;
		spin_unlock(&p->lock);
		return w;
	}
	spin_unlock(&p->lock);
	return NULL;
}

static int vhostx_poller_fn(void *data)
{
	struct vhostx_poller *p = data;
	struct vhostx_worker *w;

	/* vhostx_poller_interrupt(): no handler, only pending and dropped. */
	allow_signal(SIGKILL);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		w = vhostx_poller_next(p);
		if (!w) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		vhostx_poller_turn(p, w);
		spin_lock(&p->lock);
		p->running = NULL;
		spin_unlock(&p->lock);
		/* Sent during that turn: it must not fail the next one. */
		if (signal_pending(current))
			flush_signals(current);
		if (wq_has_sleeper(&p->wq))
			wake_up_all(&p->wq);
		cond_resched();
	}
	return 0;
}

/**
 * vhostx_poller_wake() - work was queued on a poller's worker
 * @worker: the worker (alive: its poller too)
 */
void vhostx_poller_wake(struct vhostx_worker *worker)
{
	wake_up_process(worker->poller->task);
}

/**
 * vhostx_poller_attach() - give a new worker to a poller, if polling is on
 * @worker: the worker, not yet used by any vq; dev->mutex held
 *
 * The poller serving the fewest workers takes it.
 *
 * Return: true if a poller took it (the worker needs no thread).
 */
bool vhostx_poller_attach(struct vhostx_worker *worker)
{
	struct vhostx_poller *p, *best = NULL;

	lockdep_assert_held(&worker->dev->mutex);
	mutex_lock(&vhostx_pollers_lock);
	list_for_each_entry(p, &vhostx_pollers, node)
		if (!p->retired && (!best || p->nr < best->nr))
			best = p;
	if (best) {
		worker->poller = best;
		worker->npolled = 0;
		spin_lock(&best->lock);
		list_add_tail(&worker->poll_node, &best->workers);
		best->nr++;
		spin_unlock(&best->lock);
	}
	mutex_unlock(&vhostx_pollers_lock);
	return best;
}

/**
 * vhostx_poller_interrupt() - end a turn's wait for the owner's memory
 * @worker: the worker (alive), whose owner is dying or killed
 *
 * As vhostx_worker_interrupt() does for a kthread: a handler waiting in
 * this worker's turn for a page the dying VMM will never fill
 * (userfaultfd) gets a fatal signal, its access fails and its queue
 * stops.  Only while the poller runs @worker: the signal is sent under
 * the poller's lock with @worker's turn on, and the poller drops it when
 * the turn ends, so no other device's turn sees it.
 */
void vhostx_poller_interrupt(struct vhostx_worker *worker)
{
	struct vhostx_poller *p = worker->poller;

	spin_lock(&p->lock);
	if (p->running == worker)
		send_sig(SIGKILL, p->task, 1);
	spin_unlock(&p->lock);
}

static bool vhostx_poller_runs(struct vhostx_poller *p,
			       struct vhostx_worker *w)
{
	bool ret;

	spin_lock(&p->lock);
	ret = p->running == w;
	spin_unlock(&p->lock);
	return ret;
}

static void vhostx_poller_free(struct vhostx_poller *p)
{
	kthread_stop(p->task);
	put_task_struct(p->task);
	kfree(p);
}

/**
 * vhostx_poller_detach() - take a worker from its poller
 * @worker: the worker; dev->mutex held, no vq attached, flushed
 *
 * Waits until the poller is not in the worker's turn, then takes the
 * worker's queues out of the set (kicks come back at their next run).
 * A retired poller left with no worker stops.
 */
void vhostx_poller_detach(struct vhostx_worker *worker)
{
	struct vhostx_poller *p = worker->poller;
	struct vhostx_dev *dev = worker->dev;
	bool last;
	int i;

	lockdep_assert_held(&dev->mutex);
	mutex_lock(&vhostx_pollers_lock);
	spin_lock(&p->lock);
	list_del_init(&worker->poll_node);
	last = !--p->nr && p->retired;
	spin_unlock(&p->lock);
	wait_event(p->wq, !vhostx_poller_runs(p, worker));
	if (last)
		list_del(&p->node);
	mutex_unlock(&vhostx_pollers_lock);

	for (i = 0; i < dev->nvqs && worker->npolled; i++) {
		struct vhostx_vq *vq = dev->vqs[i];

		vhostx_vq_lock(vq);
		if (vq->polling.by == worker)
			vhostx_poll_leave(worker, vq, false);
		mutex_unlock(&vq->mutex);
	}
	worker->poller = NULL;
	if (last)
		vhostx_poller_free(p);
}

static struct vhostx_poller *vhostx_poller_create(unsigned int cpu)
{
	struct vhostx_poller *p;
	struct task_struct *task;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->cpu = cpu;
	spin_lock_init(&p->lock);
	INIT_LIST_HEAD(&p->workers);
	init_waitqueue_head(&p->wq);
	task = kthread_create_on_node(vhostx_poller_fn, p, cpu_to_node(cpu),
				      "vhostx-poll/%u", cpu);
	if (IS_ERR(task)) {
		kfree(p);
		return ERR_CAST(task);
	}
	kthread_bind(task, cpu);
	get_task_struct(task);
	p->task = task;
	wake_up_process(task);
	return p;
}

/*
 * Make the pollers match @mask: one per CPU in it; a poller whose CPU
 * left it retires, and stops now if it serves nobody.
 */
static int vhostx_poll_apply(const struct cpumask *mask)
{
	struct vhostx_poller *p, *tmp;
	LIST_HEAD(stopped);
	unsigned int cpu;
	int ret = 0;

	lockdep_assert_held(&vhostx_pollers_lock);
	list_for_each_entry_safe(p, tmp, &vhostx_pollers, node) {
		bool keep = cpumask_test_cpu(p->cpu, mask);

		WRITE_ONCE(p->retired, !keep);
		if (keep)
			continue;
		/* Its polled queues go back to kicks in its next turns. */
		wake_up_process(p->task);
		spin_lock(&p->lock);
		if (!p->nr)
			list_move(&p->node, &stopped);
		spin_unlock(&p->lock);
	}
	for_each_cpu(cpu, mask) {
		bool have = false;

		list_for_each_entry(p, &vhostx_pollers, node)
			have |= p->cpu == cpu && !p->retired;
		if (have)
			continue;
		p = vhostx_poller_create(cpu);
		if (IS_ERR(p)) {
			ret = PTR_ERR(p);
			break;
		}
		list_add_tail(&p->node, &vhostx_pollers);
	}
	list_for_each_entry_safe(p, tmp, &stopped, node)
		vhostx_poller_free(p);
	return ret;
}

static int vhostx_poll_cpus_set(const char *val, const struct kernel_param *kp)
{
	cpumask_var_t mask;
	char *buf;
	int ret;

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	buf = kstrdup(val, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out_mask;
	}
	strim(buf);
	ret = *buf ? cpulist_parse(buf, mask) : 0;
	if (ret)
		goto out_buf;
	if (!cpumask_subset(mask, cpu_online_mask)) {
		ret = -EINVAL;
		goto out_buf;
	}
	mutex_lock(&vhostx_pollers_lock);
	cpumask_copy(&vhostx_poll_mask, mask);
	if (vhostx_poll_ready)
		ret = vhostx_poll_apply(mask);
	mutex_unlock(&vhostx_pollers_lock);
out_buf:
	kfree(buf);
out_mask:
	free_cpumask_var(mask);
	return ret;
}

static int vhostx_poll_cpus_get(char *buffer, const struct kernel_param *kp)
{
	int ret;

	mutex_lock(&vhostx_pollers_lock);
	ret = sysfs_emit(buffer, "%*pbl\n", cpumask_pr_args(&vhostx_poll_mask));
	mutex_unlock(&vhostx_pollers_lock);
	return ret;
}

static const struct kernel_param_ops vhostx_poll_cpus_ops = {
	.set = vhostx_poll_cpus_set,
	.get = vhostx_poll_cpus_get,
};
module_param_cb(poll_cpus, &vhostx_poll_cpus_ops, NULL, 0644);
MODULE_PARM_DESC(poll_cpus,
		 "CPUs running a shared poller (cpulist; empty: polling off, the default)");

/**
 * vhostx_pollers_init() - start the pollers poll_cpus named at load
 *
 * Return: 0 or an errno.
 */
int vhostx_pollers_init(void)
{
	int ret;

	mutex_lock(&vhostx_pollers_lock);
	vhostx_poll_ready = true;
	ret = vhostx_poll_apply(&vhostx_poll_mask);
	if (ret) {
		cpumask_clear(&vhostx_poll_mask);
		vhostx_poll_apply(&vhostx_poll_mask);
		vhostx_poll_ready = false;
	}
	mutex_unlock(&vhostx_pollers_lock);
	return ret;
}

/**
 * vhostx_pollers_exit() - stop every poller (no device is left)
 */
void vhostx_pollers_exit(void)
{
	mutex_lock(&vhostx_pollers_lock);
	cpumask_clear(&vhostx_poll_mask);
	vhostx_poll_apply(&vhostx_poll_mask);
	vhostx_poll_ready = false;
	WARN_ON_ONCE(!list_empty(&vhostx_pollers));
	mutex_unlock(&vhostx_pollers_lock);
}
