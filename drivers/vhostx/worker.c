// SPDX-License-Identifier: GPL-2.0
/*
 * vhostx workers: kernel threads that run a device's work.
 *
 * Each device gets a default worker at VHOST_SET_OWNER; VHOST_NEW_WORKER
 * adds more and VHOST_ATTACH_VRING_WORKER moves a virtqueue onto one.  A
 * worker is a kthread that adopts the owner's mm (so it can copy to and
 * from guest memory, which is mapped in the VMM) and joins the owner's
 * cgroups (so its CPU time is charged to the VM).
 *
 * Work is queued on a lock-free llist: queueing may happen from wakeup
 * callbacks in atomic context.  A vq's worker pointer is RCU-protected so
 * that a kick racing with VHOST_ATTACH_VRING_WORKER lands on either the old
 * or the new worker, never on a freed one.
 */
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/kcov.h>
#include <linux/kthread.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
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

static bool vhostx_worker_queue(struct vhostx_worker *worker,
				struct vhostx_work *work)
{
	if (test_and_set_bit(VHOSTX_WORK_QUEUED, &work->flags))
		return false;
	/* llist_add() is a full barrier: the worker sees the work's state. */
	llist_add(&work->node, &worker->work_list);
	wake_up_process(worker->task);
	return true;
}

static int vhostx_worker_fn(void *data)
{
	struct vhostx_worker *worker = data;
	struct vhostx_work *work, *next;
	struct llist_node *node;

	kthread_use_mm(worker->dev->mm);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		node = llist_del_all(&worker->work_list);
		if (!node) {
			if (kthread_should_stop()) {
				__set_current_state(TASK_RUNNING);
				break;
			}
			schedule();
			continue;
		}
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
	}
	kthread_unuse_mm(worker->dev->mm);
	return 0;
}

/**
 * vhostx_worker_create() - start a worker for a device
 * @dev: device, with an owner; called in the owner's context with
 *	dev->mutex held
 *
 * Return: the worker, or an ERR_PTR().
 */
struct vhostx_worker *vhostx_worker_create(struct vhostx_dev *dev)
{
	struct vhostx_worker *worker;
	struct task_struct *task;
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

	task = kthread_create(vhostx_worker_fn, worker, "vhostx-%d",
			     current->pid);
	if (IS_ERR(task)) {
		ret = PTR_ERR(task);
		goto err_erase;
	}
	worker->task = task;

	ret = cgroup_attach_task_all(current, task);
	if (ret)
		goto err_stop;

	wake_up_process(task);
	return worker;

err_stop:
	kthread_stop(task);
err_erase:
	xa_erase(&dev->worker_xa, id);
err_free:
	kfree(worker);
	return ERR_PTR(ret);
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

	init_completion(&flush.done);
	vhostx_work_init(&flush.work, vhostx_flush_fn);
	vhostx_worker_queue(worker, &flush.work);
	wait_for_completion(&flush.done);
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
	struct vhostx_worker *worker;
	bool queued = false;

	rcu_read_lock();
	worker = rcu_dereference(vq->worker);
	if (worker)
		queued = vhostx_worker_queue(worker, work);
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
		wait_for_completion(&flush.done);
}
EXPORT_SYMBOL_GPL(vhostx_vq_flush);

static void vhostx_poll_func(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct vhostx_poll *poll = container_of(pt, struct vhostx_poll, table);

	poll->wqh = wqh;
	add_wait_queue(wqh, &poll->wait);
}

static int vhostx_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct vhostx_poll *poll = container_of(wait, struct vhostx_poll, wait);

	if (!(key_to_poll(key) & poll->mask))
		return 0;
	if (poll == &poll->vq->poll)
		atomic64_inc(&poll->vq->stats.kicks);
	vhostx_poll_queue(poll);
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
	if (mask)
		vhostx_poll_wakeup(&poll->wait, 0, 0, poll_to_key(mask));
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
 * that every queue can run on a worker of its own.  Each worker is a
 * kthread, which the owner's RLIMIT_NPROC and pids cgroup do not count:
 * without a bound, VHOST_NEW_WORKER in a loop would fill the host's task
 * table.
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
 * worker and one per virtqueue.
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
