// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of a process's POSIX timers (timer_create()): id,
 * clock, what an expiry sends, period, time left and overrun count, as
 * timer_gettime() and timer_getoverrun() tell them.
 *
 * Timers on a CPU-time clock and timers that signal another thread are
 * refused (EOPNOTSUPP): restart could not give them back exactly.
 */
#include <linux/hrtimer.h>
#include <linux/pid.h>
#include <linux/posix-timers.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/time64.h>

#include "kcr.h"
#include "siglock.h"
#include "ksyms.h"

struct kcr_timers {
	u32 nr;
	struct k_itimer **timers;
	struct ckpt_hdr_posix_timer *recs;
};

static bool kcr_timer_clock_ok(clockid_t clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		return true;
	}
	return false;
}

/*
 * One timer, under its it_lock (no sleeping, no messages: why it is
 * refused goes back in *why).
 */
static void kcr_timer_snapshot(struct task_struct *t, struct k_itimer *timr,
			       struct ckpt_hdr_posix_timer *r,
			       const char **why)
{
	struct itimerspec64 cur = { };
	int notify = timr->it_sigev_notify;

	r->id = timr->it_id;
	r->clock = timr->it_clock;
	r->notify = notify;
	if (!kcr_timer_clock_ok(timr->it_clock)) {
		*why = "a POSIX timer on a CPU-time or unknown clock";
		return;
	}
	switch (notify) {
	case SIGEV_NONE:
	case SIGEV_SIGNAL:
		break;
	case SIGEV_SIGNAL | SIGEV_THREAD_ID:
		if (pid_task(timr->it_pid, PIDTYPE_PID) != t) {
			*why = "a POSIX timer that signals another thread (SIGEV_THREAD_ID)";
			return;
		}
		break;
	default:
		*why = "a POSIX timer of an unknown notification kind";
		return;
	}
	r->signo = timr->sigq->info.si_signo;
	r->value = (unsigned long)timr->sigq->info.si_value.sival_ptr;
	r->overrun = timr->it_overrun_last;
	kcr_common_timer_get(timr, &cur);
	r->interval_ns = timespec64_to_ns(&cur.it_interval);
	r->value_ns = timespec64_to_ns(&cur.it_value);
}

/* The timers of t's process, under RCU (k_itimers are freed after it). */
static int kcr_timers_collect(struct ckpt_ctx *ctx, struct task_struct *t,
			      struct kcr_timers *tm, u32 *next_id)
{
	struct signal_struct *sig = t->signal;
	const char *why = NULL;
	struct k_itimer *timr;
	struct sighand_struct *sh;
	unsigned long flags;
	u32 n = 0, i;
	int ret = 0;

	sh = kcr_task_lock_sighand(t, &flags);
	if (!sh)
		return ckpt_err(ctx, -ESRCH, "task exited");
	kcr_for_each_posix_timer(timr, sig)
		n++;
	kcr_task_unlock_sighand(sh, &flags);
	if (n > CKPT_POSIX_TIMERS_MAX)
		return ckpt_err(ctx, -EOPNOTSUPP, "%u POSIX timers: at most %u",
				n, CKPT_POSIX_TIMERS_MAX);
	tm->timers = kvcalloc(n ?: 1, sizeof(*tm->timers), GFP_KERNEL);
	tm->recs = kvcalloc(n ?: 1, sizeof(*tm->recs), GFP_KERNEL);
	if (!tm->timers || !tm->recs)
		return -ENOMEM;

	rcu_read_lock();
	sh = kcr_task_lock_sighand(t, &flags);
	if (!sh) {
		rcu_read_unlock();
		return ckpt_err(ctx, -ESRCH, "task exited");
	}
	i = 0;
	kcr_for_each_posix_timer(timr, sig) {
		if (i == n) {
			why = "POSIX timers created during checkpoint";
			break;
		}
		tm->timers[i++] = timr;
	}
	*next_id = READ_ONCE(sig->next_posix_timer_id);
	kcr_task_unlock_sighand(sh, &flags);

	tm->nr = 0;
	for (n = i, i = 0; !why && i < n; i++) {
		struct ckpt_hdr_posix_timer *r = &tm->recs[tm->nr];

		timr = tm->timers[i];
		spin_lock_irqsave(&timr->it_lock, flags);
		/* Deleted meanwhile: as timer_delete() leaves it. */
		if (timr->it_signal == sig) {
			kcr_timer_snapshot(t, timr, r, &why);
			tm->nr++;
		}
		spin_unlock_irqrestore(&timr->it_lock, flags);
	}
	rcu_read_unlock();
	if (why)
		ret = ckpt_err(ctx, -EOPNOTSUPP, "%s", why);
	return ret;
}

static int kcr_timer_cmp(const void *a, const void *b)
{
	const struct ckpt_hdr_posix_timer *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* POSIX_TIMERS and its POSIX_TIMER records: written after the CPU record. */
int checkpoint_posix_timers(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct kcr_timers tm = { };
	struct ckpt_hdr_posix_timers *h;
	u32 next_id = 0, i;
	int ret;

	ret = kcr_timers_collect(ctx, t, &tm, &next_id);
	if (ret)
		goto out;
	sort(tm.recs, tm.nr, sizeof(*tm.recs), kcr_timer_cmp, NULL);
	ret = -ENOMEM;
	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_POSIX_TIMERS);
	if (!h)
		goto out;
	h->nr_timers = tm.nr;
	h->next_id = next_id;
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	for (i = 0; !ret && i < tm.nr; i++) {
		struct ckpt_hdr_posix_timer *r = &tm.recs[i];

		r->h.type = CKPT_HDR_POSIX_TIMER;
		r->h.len = sizeof(*r);
		ret = ckpt_write_obj(ctx, &r->h);
	}
out:
	kvfree(tm.timers);
	kvfree(tm.recs);
	return ret;
}
