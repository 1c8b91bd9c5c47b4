// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of a process's POSIX timers, near the end of its restore
 * (after its credentials are committed, before its seccomp filters).
 *
 * Each timer is made by timer_create() and armed by timer_settime(),
 * the system calls' own code run by the restored task for itself
 * (usercall.c): the kernel's checks apply (CAP_WAKE_ALARM for alarm
 * clocks, valid signals and times). The id is the image's: timer_create()
 * takes the process's next id (signal->next_posix_timer_id), which is
 * set to the wanted id first, and afterwards to the image's next id.
 * Timers are armed relative, with the time they had left.
 *
 * What the restarter had is not kept: a RESTART_TASKSELF caller's own
 * timers are deleted and its SysV semaphore undo list is dropped (its
 * adjustments applied, as at its exit); a task made by kernel_clone()
 * starts with neither.
 */
#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/posix-timers.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/time64.h>
#include <linux/uaccess.h>

#include "kcr.h"
#include "usercall.h"

/* Where the arguments go in the scratch mapping. */
struct kcr_timer_args {
	sigevent_t sev;
	struct __kernel_itimerspec its;
	__kernel_timer_t id;
};

static int kcr_timer_check(struct ckpt_ctx *ctx,
			   const struct ckpt_hdr_posix_timer *r, s32 prev)
{
	switch (r->clock) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		break;
	default:
		return ckpt_err(ctx, -EINVAL, "POSIX timer %d: clock %d",
				r->id, r->clock);
	}
	if (r->id < 0 || r->id <= prev)
		return ckpt_err(ctx, -EINVAL,
				"POSIX timer id %d after %d: ids must increase",
				r->id, prev);
	if (r->notify != SIGEV_NONE && r->notify != SIGEV_SIGNAL &&
	    r->notify != (SIGEV_SIGNAL | SIGEV_THREAD_ID))
		return ckpt_err(ctx, -EINVAL, "POSIX timer %d: notify %#x",
				r->id, r->notify);
	if (r->notify != SIGEV_NONE &&
	    (r->signo <= 0 || !valid_signal(r->signo)))
		return ckpt_err(ctx, -EINVAL, "POSIX timer %d: signal %d",
				r->id, r->signo);
	if (r->overrun < 0 || r->overrun > INT_MAX ||
	    r->interval_ns > KTIME_MAX || r->value_ns > KTIME_MAX)
		return ckpt_err(ctx, -EINVAL,
				"POSIX timer %d: overrun %lld, interval %llu ns, value %llu ns",
				r->id, r->overrun, r->interval_ns, r->value_ns);
	return 0;
}

/*
 * Ids of current's timers, and the restarter's SysV undo list: neither
 * may stay with the restored task.
 */
static int kcr_drop_restarter_timers(struct ckpt_ctx *ctx)
{
	struct k_itimer *timr;
	timer_t *ids = NULL;
	u32 n = 0, i;
	int ret = 0;

#ifdef CONFIG_SYSVIPC
	if (current->sysvsem.undo_list)
		kcr_exit_sem(current);
#endif

	spin_lock_irq(&current->sighand->siglock);
	kcr_for_each_posix_timer(timr, current->signal)
		n++;
	spin_unlock_irq(&current->sighand->siglock);
	if (!n)
		return 0;
	/* We are the only thread: the list stays as counted. */
	ids = kcalloc(n, sizeof(*ids), GFP_KERNEL);
	if (!ids)
		return -ENOMEM;
	i = 0;
	spin_lock_irq(&current->sighand->siglock);
	kcr_for_each_posix_timer(timr, current->signal)
		if (i < n)
			ids[i++] = timr->it_id;
	spin_unlock_irq(&current->sighand->siglock);
	for (n = i, i = 0; i < n && !ret; i++) {
		long err = kcr_syscall(kcr_sys_timer_delete, ids[i], 0, 0, 0);

		if (err)
			ret = ckpt_err(ctx, (int)err,
				       "deleting the restarter's POSIX timer %d",
				       ids[i]);
	}
	kfree(ids);
	return ret;
}

/* timer_getoverrun()'s value, which timer_settime() cannot set. */
static void kcr_timer_set_overrun(timer_t id, s64 overrun)
{
	struct k_itimer *timr;

	spin_lock_irq(&current->sighand->siglock);
	kcr_for_each_posix_timer(timr, current->signal)
		if (timr->it_id == id)
			timr->it_overrun_last = overrun;
	spin_unlock_irq(&current->sighand->siglock);
}

static int kcr_timer_create(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_posix_timer *r,
			    struct kcr_timer_args __user *args)
{
	struct kcr_timer_args a;
	__kernel_timer_t got = -1;
	long err;

	memset(&a, 0, sizeof(a));
	a.sev.sigev_value.sival_ptr = (void __user *)(unsigned long)r->value;
	a.sev.sigev_signo = r->signo;
	a.sev.sigev_notify = r->notify;
	if (r->notify & SIGEV_THREAD_ID)
		a.sev.sigev_notify_thread_id = task_pid_vnr(current);
	if (copy_to_user(args, &a, sizeof(a)))
		return ckpt_err(ctx, -EFAULT, "POSIX timers: scratch memory");

	/* timer_create() takes this id if it is free (it is: see above). */
	WRITE_ONCE(current->signal->next_posix_timer_id, r->id);
	err = kcr_syscall(kcr_sys_timer_create, r->clock,
			  (unsigned long)&args->sev, (unsigned long)&args->id,
			  0);
	if (err)
		return ckpt_err(ctx, (int)err, "POSIX timer %d: timer_create",
				r->id);
	if (get_user(got, &args->id) || got != r->id)
		return ckpt_err(ctx, -EBUSY,
				"POSIX timer %d: timer_create gave id %d",
				r->id, got);
	kcr_timer_set_overrun(r->id, r->overrun);
	return 0;
}

static int kcr_timer_arm(struct ckpt_ctx *ctx,
			 const struct ckpt_hdr_posix_timer *r,
			 struct kcr_timer_args __user *args)
{
	struct __kernel_itimerspec its;
	struct timespec64 ts;
	long err;

	if (!r->value_ns && !r->interval_ns)
		return 0;
	ts = ns_to_timespec64(r->interval_ns);
	its.it_interval.tv_sec = ts.tv_sec;
	its.it_interval.tv_nsec = ts.tv_nsec;
	ts = ns_to_timespec64(r->value_ns);
	its.it_value.tv_sec = ts.tv_sec;
	its.it_value.tv_nsec = ts.tv_nsec;
	if (copy_to_user(&args->its, &its, sizeof(its)))
		return ckpt_err(ctx, -EFAULT, "POSIX timers: scratch memory");
	err = kcr_syscall(kcr_sys_timer_settime, r->id, 0,
			  (unsigned long)&args->its, 0);
	if (err)
		return ckpt_err(ctx, (int)err, "POSIX timer %d: timer_settime",
				r->id);
	return 0;
}

int restore_posix_timers(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_posix_timer *recs = NULL;
	struct ckpt_hdr_posix_timers *h;
	unsigned long addr = 0;
	size_t maplen = 0;
	s32 prev = -1;
	u32 i;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_POSIX_TIMERS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->nr_timers > CKPT_POSIX_TIMERS_MAX || h->next_id > INT_MAX) {
		ret = ckpt_err(ctx, -EINVAL,
			       "POSIX timers record: %u timers, next id %u",
			       h->nr_timers, h->next_id);
		goto out;
	}
	recs = kvcalloc(h->nr_timers ?: 1, sizeof(*recs), GFP_KERNEL_ACCOUNT);
	if (!recs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < h->nr_timers; i++) {
		struct ckpt_hdr_posix_timer *r;

		r = ckpt_read_obj_type(ctx, sizeof(*r), CKPT_HDR_POSIX_TIMER);
		if (IS_ERR(r)) {
			ret = PTR_ERR(r);
			goto out;
		}
		recs[i] = *r;
		ckpt_hdr_put(ctx, r);
		ret = kcr_timer_check(ctx, &recs[i], prev);
		if (ret)
			goto out;
		prev = recs[i].id;
	}

	ret = kcr_drop_restarter_timers(ctx);
	if (ret || !h->nr_timers)
		goto next_id;
	ret = kcr_scratch_map(sizeof(struct kcr_timer_args), &addr, &maplen);
	if (ret) {
		ret = ckpt_err(ctx, ret, "POSIX timers: no room for arguments");
		goto out;
	}
	/* All made first, then all armed: none fires before the last. */
	for (i = 0; i < h->nr_timers && !ret; i++)
		ret = kcr_timer_create(ctx, &recs[i], (void __user *)addr);
	for (i = 0; i < h->nr_timers && !ret; i++)
		ret = kcr_timer_arm(ctx, &recs[i], (void __user *)addr);
	kcr_scratch_unmap(addr, maplen);
next_id:
	if (!ret)
		WRITE_ONCE(current->signal->next_posix_timer_id, h->next_id);
out:
	kvfree(recs);
	ckpt_hdr_put(ctx, h);
	return ret;
}
