// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of signal state, restart blocks and the thread record
 * (linux-cr's restore_sighand, restore_signal, restore_task_signal).
 *
 * Everything goes through the code of the system calls that set the same
 * state, so that their checks apply to the restarter:
 *	SIGHAND		do_sigaction() per signal (sigaction());
 *	SIGNAL		do_prlimit() per limit (setrlimit(): a hard limit
 *			above the restarter's needs CAP_SYS_RESOURCE),
 *			do_setitimer() per interval timer (setitimer());
 *	SIGPENDING	send_signal_locked() per queued siginfo, as
 *			rt_sigqueueinfo() to oneself would queue it (the
 *			RLIMIT_SIGPENDING of the restarter's user applies);
 *	SIGNAL_TASK	sigprocmask(), and sigaltstack()'s checks.
 *
 * Signals during the restore. The task restores itself from the image,
 * and a pending unblocked signal would interrupt its reads (a pipe or a
 * socket) and could even end it (a fatal default action is taken when
 * the signal is queued) before it is whole. So every signal stays
 * blocked while records are read: both queues are filled then, and the
 * task's own mask and its interval timers, which would queue SIGALRM &
 * co. while later records are still to be read, are kept in ctx and set
 * by restore_signal_finish() after the task's last record.
 * TIF_SIGPENDING, which the mask may set, is cleared then, unless a
 * fatal signal is pending for real; restart.c sets it again on the way
 * out, where the restored signals get delivered.
 *
 * Restart blocks. The image holds the time an interrupted sleep had left
 * (checkpoint_restart_block()); it is added to this machine's clock now,
 * and the task's restart_block is set as the system call had set it, so
 * that the -ERESTART_RESTARTBLOCK in the restored registers (the CPU
 * record) becomes restart_syscall() on the way out, which sleeps the time
 * that was left.
 */
#include <linux/alarmtimer.h>
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/restart_block.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/string.h>
#include <linux/thread_info.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>

#include "kcr.h"
#include "ksyms.h"

/* Plenty: a queue longer than this is refused. */
#define KCR_MAX_PENDING	4096

/* kernel/futex/futex.h: the futex flags a restart block may hold. */
#define KCR_FUTEX_FLAGS_SHARED		0x01
#define KCR_FUTEX_FLAGS_CLOCKRT		0x02
#define KCR_FUTEX_FLAGS_HAS_TIMEOUT	0x04

#define KCR_SIG_UNBLOCKABLE	(sigmask(SIGKILL) | sigmask(SIGSTOP))

static bool kcr_user_addr(u64 addr)
{
	return addr < TASK_SIZE;
}

static int kcr_check_sigaction(struct ckpt_ctx *ctx, int sig,
			       const struct ckpt_sigaction *sa)
{
	if (sig_kernel_only(sig)) {
		if (sa->sa_handler || sa->sa_flags || sa->sa_restorer ||
		    sa->sa_mask)
			return ckpt_err(ctx, -EINVAL,
					"signal %d: its action cannot be changed (handler %#llx flags %#llx)",
					sig, sa->sa_handler, sa->sa_flags);
		return 0;
	}
	if (sa->sa_handler != (unsigned long)SIG_DFL &&
	    sa->sa_handler != (unsigned long)SIG_IGN &&
	    !kcr_user_addr(sa->sa_handler))
		return ckpt_err(ctx, -EINVAL, "signal %d: handler %#llx",
				sig, sa->sa_handler);
	if (sa->sa_flags & ~(u64)UAPI_SA_FLAGS)
		return ckpt_err(ctx, -EINVAL,
				"signal %d: handler flags %#llx (unknown %#llx)",
				sig, sa->sa_flags,
				sa->sa_flags & ~(u64)UAPI_SA_FLAGS);
#ifdef __ARCH_HAS_SA_RESTORER
	if (sa->sa_restorer && !kcr_user_addr(sa->sa_restorer))
#else
	if (sa->sa_restorer)
#endif
		return ckpt_err(ctx, -EINVAL, "signal %d: restorer %#llx",
				sig, sa->sa_restorer);
	if (sa->sa_mask & KCR_SIG_UNBLOCKABLE)
		return ckpt_err(ctx, -EINVAL,
				"signal %d: handler mask %#llx blocks SIGKILL or SIGSTOP",
				sig, sa->sa_mask);
	return 0;
}

/*
 * SIGHAND: every handler, through sigaction(). The task has its own
 * sighand_struct (restart.c: a new task without CLONE_SIGHAND, or a
 * TASKSELF caller that shares it with nobody).
 */
int restore_obj_sighand(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_sighand *h;
	struct ckpt_sigaction *sa;
	size_t payload;
	int i, ret = 0;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	BUILD_BUG_ON(_NSIG != CKPT_NSIG);
	BUILD_BUG_ON(_NSIG_WORDS != 1);

	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_SIGHAND,
				  _NSIG * sizeof(*sa), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->nr_sigactions != _NSIG || payload != _NSIG * sizeof(*sa)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "signal handlers: %u actions in %zu bytes, expected %d",
			       h->nr_sigactions, payload, _NSIG);
		goto out;
	}
	if (refcount_read(&current->sighand->count) != 1) {
		ret = ckpt_err(ctx, -EBUSY,
			       "signal handlers: the task shares them");
		goto out;
	}
	sa = (struct ckpt_sigaction *)(h + 1);
	for (i = 0; i < _NSIG && !ret; i++)
		ret = kcr_check_sigaction(ctx, i + 1, &sa[i]);
	/* From here on current changes (wherever the image defines us). */
	if (!ret)
		ctx->restore_changed = true;
	for (i = 0; i < _NSIG && !ret; i++) {
		struct k_sigaction ka;
		int sig = i + 1;

		if (sig_kernel_only(sig))
			continue;
		memset(&ka, 0, sizeof(ka));
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)
				   sa[i].sa_handler;
		ka.sa.sa_flags = sa[i].sa_flags;
#ifdef __ARCH_HAS_SA_RESTORER
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)
				    sa[i].sa_restorer;
#endif
		ka.sa.sa_mask.sig[0] = sa[i].sa_mask;
		ret = kcr_do_sigaction(sig, &ka, NULL);
		if (ret)
			ckpt_err(ctx, ret, "signal %d: sigaction", sig);
	}
	if (!ret)
		ret = ckpt_obj_insert(ctx, current->sighand, objref,
				      &kcr_sighand_ops);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * Queue the signals of a SIGPENDING record to current: shared (the
 * thread group's queue) or the task's own.
 */
static int kcr_restore_pending(struct ckpt_ctx *ctx, bool shared)
{
	enum pid_type type = shared ? PIDTYPE_TGID : PIDTYPE_PID;
	struct ckpt_hdr_sigpending *h;
	struct ckpt_siginfo *si;
	struct sigpending *pending;
	sigset_t queued;
	size_t payload;
	u32 i;
	int sig, bad = 0, ret = 0;

	BUILD_BUG_ON(sizeof(kernel_siginfo_t) > sizeof(si->raw));

	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_SIGPENDING,
				  KCR_MAX_PENDING * sizeof(*si), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->shared != shared) {
		ret = ckpt_err(ctx, -EINVAL,
			       "pending signals: shared %u, expected %d",
			       h->shared, shared);
		goto out;
	}
	if (h->nr_pending > KCR_MAX_PENDING ||
	    payload != (size_t)h->nr_pending * sizeof(*si)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "pending signals: %u in %zu bytes (at most %d)",
			       h->nr_pending, payload, KCR_MAX_PENDING);
		goto out;
	}
	/*
	 * A task with SIGKILL pending is dying, and is never checkpointed:
	 * queued here it would end the restore half way.
	 */
	if (h->signal & sigmask(SIGKILL)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "pending signals: SIGKILL in the set %#llx",
			       h->signal);
		goto out;
	}
	si = (struct ckpt_siginfo *)(h + 1);
	sigemptyset(&queued);
	for (i = 0; i < h->nr_pending; i++) {
		kernel_siginfo_t *info = (kernel_siginfo_t *)si[i].raw;

		sig = si[i].si_signo;
		if (sig < 1 || !valid_signal(sig)) {
			ret = ckpt_err(ctx, -EINVAL,
				       "pending signal %u: number %d out of range",
				       i, sig);
			goto out;
		}
		if (info->si_signo != sig || info->si_code != si[i].si_code ||
		    info->si_errno != si[i].si_errno ||
		    !(h->signal & sigmask(sig))) {
			ret = ckpt_err(ctx, -EINVAL,
				       "pending signal %u (%d): siginfo %d/%d/%d, pending set %#llx",
				       i, sig, info->si_signo, info->si_code,
				       info->si_errno, h->signal);
			goto out;
		}
		sigaddset(&queued, sig);
	}

	pending = shared ? &current->signal->shared_pending : &current->pending;
	spin_lock_irq(&current->sighand->siglock);
	for (i = 0; i < h->nr_pending && !ret; i++) {
		kernel_siginfo_t info;

		memcpy(&info, si[i].raw, sizeof(info));
		bad = si[i].si_signo;
		ret = kcr_send_signal_locked(bad, &info, current, type);
	}
	/*
	 * Signals of the set without a queue entry (one that could not be
	 * allocated): the bit alone, as the kernel had it. Not for signals
	 * that are ignored, which the kernel never keeps.
	 */
	for (sig = 1; sig <= _NSIG && !ret; sig++) {
		void __user *handler;

		if (!(h->signal & sigmask(sig)) || sigismember(&queued, sig))
			continue;
		handler = current->sighand->action[sig - 1].sa.sa_handler;
		if (handler == SIG_IGN ||
		    (handler == SIG_DFL && sig_kernel_ignore(sig)))
			continue;
		sigaddset(&pending->signal, sig);
	}
	spin_unlock_irq(&current->sighand->siglock);
	if (ret)
		ckpt_err(ctx, ret, "pending signals: cannot queue signal %d",
			 bad);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/* See "Signals during the restore" above. */
static void kcr_quiet_sigpending(void)
{
	spin_lock_irq(&current->sighand->siglock);
	if (!__fatal_signal_pending(current) &&
	    !(current->signal->flags & SIGNAL_GROUP_EXIT))
		clear_thread_flag(TIF_SIGPENDING);
	spin_unlock_irq(&current->sighand->siglock);
}

static int kcr_set_blocked(struct ckpt_ctx *ctx, u64 mask)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	set.sig[0] = mask & ~(u64)KCR_SIG_UNBLOCKABLE;
	ret = sigprocmask(SIG_SETMASK, &set, NULL);
	if (ret)
		ckpt_err(ctx, ret, "blocked signals %#llx", mask);
	return ret;
}

static int kcr_restore_rlimits(struct ckpt_ctx *ctx,
			       const struct ckpt_hdr_signal *h)
{
	int i, ret;

	BUILD_BUG_ON(RLIM_NLIMITS != CKPT_RLIM_NLIMITS);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		const struct ckpt_rlimit *r = &h->rlim[i];
		struct rlimit rl = {
			.rlim_cur = r->rlim_cur,
			.rlim_max = r->rlim_max,
		};

		if (r->rlim_cur > r->rlim_max)
			return ckpt_err(ctx, -EINVAL,
					"resource limit %d: soft %llu above hard %llu",
					i, r->rlim_cur, r->rlim_max);
		if (rl.rlim_cur != r->rlim_cur || rl.rlim_max != r->rlim_max)
			return ckpt_err(ctx, -EINVAL,
					"resource limit %d: %llu/%llu", i,
					r->rlim_cur, r->rlim_max);
		ret = kcr_do_prlimit(current, i, &rl, NULL);
		if (ret)
			return ckpt_err(ctx, ret,
					"resource limit %d: soft %llu hard %llu (a hard limit above the restarter's needs CAP_SYS_RESOURCE)",
					i, r->rlim_cur, r->rlim_max);
	}
	return 0;
}

static int kcr_check_itimer(struct ckpt_ctx *ctx, int which,
			    const struct ckpt_itimer *it)
{
	if (it->value > KTIME_MAX || it->interval > KTIME_MAX)
		return ckpt_err(ctx, -EINVAL,
				"interval timer %d: value %llu interval %llu ns",
				which, it->value, it->interval);
#ifndef CONFIG_POSIX_TIMERS
	if (it->value)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"interval timer %d: this kernel has no interval timers",
				which);
#endif
	return 0;
}

#ifdef CONFIG_POSIX_TIMERS
static int kcr_restore_itimer(struct ckpt_ctx *ctx, int which,
			      const struct ckpt_itimer *it)
{
	struct itimerspec64 v;
	int ret;

	v.it_value = ns_to_timespec64(it->value);
	v.it_interval = ns_to_timespec64(it->interval);
	ret = kcr_do_setitimer(which, &v, NULL);
	if (ret)
		ckpt_err(ctx, ret, "interval timer %d", which);
	return ret;
}
#endif

/*
 * SIGNAL and its SIGPENDING: limits, interval timers, the shared queue,
 * applied to current's own signal_struct.
 */
int restore_obj_signal(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_signal *h;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_SIGNAL);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = -EINVAL;
	if (h->nr_rlimits != RLIM_NLIMITS) {
		ckpt_err(ctx, ret, "signal: %u resource limits, expected %d",
			 h->nr_rlimits, RLIM_NLIMITS);
		goto out;
	}
	if (h->flags & ~(u32)CKPT_SIGNAL_LEADER) {
		ckpt_err(ctx, ret, "signal: flags %#x", h->flags);
		goto out;
	}
	if (h->tty_ref || h->tty_old_pgrp) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "signal: controlling terminal %d: terminals are not restored yet",
			       h->tty_ref);
		goto out;
	}
	if (get_nr_threads(current) != 1) {
		ret = ckpt_err(ctx, -EBUSY, "signal: the task has threads");
		goto out;
	}
	/*
	 * CKPT_SIGNAL_LEADER (a session leader) comes with sessions, and
	 * group_exit_code with exiting groups: process trees.
	 */
	ctx->restore_changed = true;

	ret = kcr_restore_rlimits(ctx, h);
	if (ret)
		goto out;
	ret = kcr_check_itimer(ctx, ITIMER_REAL, &h->it_real);
	if (!ret)
		ret = kcr_check_itimer(ctx, ITIMER_VIRTUAL, &h->it_virt);
	if (!ret)
		ret = kcr_check_itimer(ctx, ITIMER_PROF, &h->it_prof);
	if (ret)
		goto out;
	ctx->restore_itimers[ITIMER_REAL] = h->it_real;
	ctx->restore_itimers[ITIMER_VIRTUAL] = h->it_virt;
	ctx->restore_itimers[ITIMER_PROF] = h->it_prof;
	ctx->restore_itimers_set = true;

	/*
	 * Every signal blocked until SIGNAL_TASK gives the task's mask; a
	 * TASKSELF caller's own pending signals are not the image's.
	 */
	ret = kcr_set_blocked(ctx, ~0ULL);
	if (ret)
		goto out;
	if ((ctx->uflags & RESTART_TASKSELF) && !fatal_signal_pending(current))
		flush_signals(current);
	ret = kcr_restore_pending(ctx, true);
	if (!ret)
		ret = ckpt_obj_insert(ctx, current->signal, objref,
				      &kcr_signal_ops);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_restore_sigaltstack(struct ckpt_ctx *ctx,
				   const struct ckpt_hdr_signal_task *h)
{
	u32 mode = h->sas_ss_flags & ~SS_FLAG_BITS;

	if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK)
		return ckpt_err(ctx, -EINVAL, "sigaltstack: flags %#x",
				h->sas_ss_flags);
	if (!h->sas_ss_size) {
		if (h->sas_ss_sp)
			return ckpt_err(ctx, -EINVAL,
					"sigaltstack: at %#llx of size 0",
					h->sas_ss_sp);
	} else if (mode == SS_DISABLE || h->sas_ss_size < MINSIGSTKSZ ||
		   h->sas_ss_sp >= TASK_SIZE ||
		   h->sas_ss_size > TASK_SIZE - h->sas_ss_sp) {
		return ckpt_err(ctx, -EINVAL,
				"sigaltstack: %#llx size %llu flags %#x",
				h->sas_ss_sp, h->sas_ss_size, h->sas_ss_flags);
	}
	spin_lock_irq(&current->sighand->siglock);
	current->sas_ss_sp = h->sas_ss_sp;
	current->sas_ss_size = h->sas_ss_size;
	current->sas_ss_flags = h->sas_ss_flags;
	spin_unlock_irq(&current->sighand->siglock);
	return 0;
}

int restore_signal_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_signal_task *h;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_SIGNAL_TASK);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = -EINVAL;
	if (h->flags & ~(u32)CKPT_SIGNAL_TASK_SAVED_MASK) {
		ckpt_err(ctx, ret, "task signals: flags %#x", h->flags);
		goto out;
	}
	if ((h->blocked | h->saved_sigmask) & KCR_SIG_UNBLOCKABLE ||
	    (!(h->flags & CKPT_SIGNAL_TASK_SAVED_MASK) && h->saved_sigmask)) {
		ckpt_err(ctx, ret, "task signals: blocked %#llx saved %#llx",
			 h->blocked, h->saved_sigmask);
		goto out;
	}
	ctx->restore_changed = true;
	ret = kcr_restore_sigaltstack(ctx, h);
	if (ret)
		goto out;

	/*
	 * The task's queue while every signal is still blocked (see above):
	 * a signal whose default action ends the task is only queued, and
	 * does so on the way out like it would have. The mask waits for
	 * restore_signal_finish().
	 */
	ret = kcr_restore_pending(ctx, false);
	if (ret)
		goto out;
	ctx->restore_blocked = h->blocked;
	ctx->restore_blocked_set = true;
	/*
	 * Put back on the way out when restore_thread() finds
	 * TIF_RESTORE_SIGMASK; the blocked mask otherwise, so that a stray
	 * flag changes nothing.
	 */
	current->saved_sigmask.sig[0] = h->flags & CKPT_SIGNAL_TASK_SAVED_MASK ?
					h->saved_sigmask : h->blocked;
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/* The present time of clock clk, as the restart functions count it. */
static int kcr_clock_now(clockid_t clk, ktime_t *now)
{
	switch (clk) {
	case CLOCK_REALTIME:
		*now = ktime_get_real();
		break;
	case CLOCK_MONOTONIC:
		*now = ktime_get();
		break;
	case CLOCK_BOOTTIME:
		*now = ktime_get_boottime();
		break;
	case CLOCK_TAI:
		*now = ktime_get_clocktai();
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int kcr_time_left(struct ckpt_ctx *ctx, u64 left, const char *what)
{
	if (left > KTIME_MAX)
		return ckpt_err(ctx, -EINVAL, "restart block (%s): %llu ns left",
				what, left);
	return 0;
}

/* The fields of an hrtimer or alarm nanosleep: arg0..arg3. */
static int kcr_restore_nanosleep(struct ckpt_ctx *ctx,
				 const struct ckpt_hdr_restart_block *h,
				 struct restart_block *rb, bool alarm)
{
	clockid_t clk;
	ktime_t now;
	int ret;

	ret = kcr_time_left(ctx, h->arg3, "nanosleep");
	if (ret)
		return ret;
	if (h->arg2 == CKPT_RESTART_BLOCK_RMTP_NONE && !h->arg1) {
		rb->nanosleep.type = TT_NONE;
		rb->nanosleep.rmtp = NULL;
	} else if (h->arg2 == CKPT_RESTART_BLOCK_RMTP_NATIVE &&
		   kcr_user_addr(h->arg1)) {
		rb->nanosleep.type = TT_NATIVE;
		rb->nanosleep.rmtp = u64_to_user_ptr(h->arg1);
	} else {
		return ckpt_err(ctx, -EINVAL,
				"restart block (nanosleep): remaining time to %#llx (kind %llu)",
				h->arg1, h->arg2);
	}
	/*
	 * An alarm nanosleep keeps its alarm type where the others keep a
	 * clock id (alarm_timer_nsleep()).
	 */
	if (alarm) {
		if (h->arg0 == ALARM_REALTIME)
			clk = CLOCK_REALTIME;
		else if (h->arg0 == ALARM_BOOTTIME)
			clk = CLOCK_BOOTTIME;
		else
			clk = -1;
	} else {
		clk = h->arg0 <= INT_MAX ? (clockid_t)h->arg0 : -1;
	}
	if (clk < 0 || kcr_clock_now(clk, &now))
		return ckpt_err(ctx, -EINVAL,
				"restart block (nanosleep): clock %llu",
				h->arg0);
	if (alarm && !capable(CAP_WAKE_ALARM))
		return ckpt_err(ctx, -EPERM,
				"restart block: an alarm-clock nanosleep needs CAP_WAKE_ALARM");
	rb->nanosleep.clockid = h->arg0;
	rb->nanosleep.expires = ktime_add_safe(now, h->arg3);
	return 0;
}

static int kcr_restore_futex(struct ckpt_ctx *ctx,
			     const struct ckpt_hdr_restart_block *h,
			     struct restart_block *rb)
{
	u64 flags = KCR_FUTEX_FLAGS_SHARED | KCR_FUTEX_FLAGS_CLOCKRT |
		    KCR_FUTEX_FLAGS_HAS_TIMEOUT;
	ktime_t now;
	int ret;

	ret = kcr_time_left(ctx, h->arg4, "futex");
	if (ret)
		return ret;
	if (!kcr_user_addr(h->arg0) || !IS_ALIGNED(h->arg0, sizeof(u32)) ||
	    !kcr_user_addr(h->arg5) || h->arg1 > U32_MAX ||
	    (h->arg2 & ~flags) || !h->arg3 || h->arg3 > U32_MAX)
		return ckpt_err(ctx, -EINVAL,
				"restart block (futex): address %#llx value %llu flags %#llx bitset %#llx",
				h->arg0, h->arg1, h->arg2, h->arg3);
	kcr_clock_now(h->arg2 & KCR_FUTEX_FLAGS_CLOCKRT ? CLOCK_REALTIME :
		      CLOCK_MONOTONIC, &now);
	rb->futex.uaddr = u64_to_user_ptr(h->arg0);
	rb->futex.val = h->arg1;
	rb->futex.flags = h->arg2;
	rb->futex.bitset = h->arg3;
	rb->futex.time = ktime_add_safe(now, h->arg4);
	rb->futex.uaddr2 = u64_to_user_ptr(h->arg5);
	return 0;
}

static int kcr_restore_poll(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_restart_block *h,
			    struct restart_block *rb)
{
	struct timespec64 end;
	int ret;

	ret = kcr_time_left(ctx, h->arg3, "poll");
	if (ret)
		return ret;
	if (!kcr_user_addr(h->arg0) || h->arg1 > INT_MAX || h->arg2 > 1)
		return ckpt_err(ctx, -EINVAL,
				"restart block (poll): %llu fds at %#llx, timeout %llu",
				h->arg1, h->arg0, h->arg2);
	end = ktime_to_timespec64(ktime_add_safe(ktime_get(), h->arg3));
	rb->poll.ufds = u64_to_user_ptr(h->arg0);
	rb->poll.nfds = h->arg1;
	rb->poll.has_timeout = h->arg2;
	rb->poll.tv_sec = h->arg2 ? end.tv_sec : 0;
	rb->poll.tv_nsec = h->arg2 ? end.tv_nsec : 0;
	return 0;
}

/*
 * RESTART_BLOCK: what restart_syscall() runs if the task goes back to
 * user mode with -ERESTART_RESTARTBLOCK (restored registers of an
 * interrupted sleep).
 */
int restore_restart_block(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_restart_block *h;
	struct restart_block rb = { };
	kcr_restart_fn_t fn;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_RESTART_BLOCK);
	if (IS_ERR(h))
		return PTR_ERR(h);
	switch (h->function_type) {
	case CKPT_RESTART_BLOCK_NONE:
		fn = kcr_do_no_restart_syscall;
		ret = 0;
		break;
	case CKPT_RESTART_BLOCK_HRTIMER_NANOSLEEP:
		fn = kcr_hrtimer_nanosleep_restart;
		ret = kcr_restore_nanosleep(ctx, h, &rb, false);
		break;
	case CKPT_RESTART_BLOCK_ALARM_NANOSLEEP:
		fn = kcr_alarm_timer_nsleep_restart;
		ret = kcr_restore_nanosleep(ctx, h, &rb, true);
		break;
	case CKPT_RESTART_BLOCK_FUTEX:
		fn = kcr_futex_wait_restart;
		ret = kcr_restore_futex(ctx, h, &rb);
		break;
	case CKPT_RESTART_BLOCK_POLL:
		fn = kcr_do_restart_poll;
		ret = kcr_restore_poll(ctx, h, &rb);
		break;
	default:
		ret = ckpt_err(ctx, -EINVAL, "restart block: function type %u",
			       h->function_type);
		break;
	}
	if (ret)
		goto out;
	if (!fn) {
		/* Not on this kernel: the call fails with EINTR instead. */
		ckpt_msg(ctx, "restart block type %u: no such function in this kernel: an interrupted call will fail with EINTR",
			 h->function_type);
		fn = kcr_do_no_restart_syscall;
		memset(&rb, 0, sizeof(rb));
	}
	if (!fn) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "restart block: this kernel has no do_no_restart_syscall");
		goto out;
	}
	current->restart_block = rb;
	set_restart_fn(&current->restart_block, fn);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * The rseq() registration, checked as sys_rseq() checks a new one, or
 * none. Whatever current had is replaced: a RESTART_TASKSELF caller's
 * (its glibc registers one) points into the memory that was replaced.
 *
 * The user's struct rseq is in the restored memory as it was, rseq_cs
 * included: the task is rather migrated than newly registered (sys_rseq
 * clears a stale rseq_cs, which would let a task stopped inside a
 * critical section commit it on another CPU). So the preempt and migrate
 * events are set, as the scheduler sets them when a task moves: on the
 * way to user mode the kernel aborts a critical section that the
 * restored instruction pointer is in (to its abort_ip) or clears rseq_cs,
 * and writes the new cpu_id_start and cpu_id.
 */
static int kcr_restore_rseq(struct ckpt_ctx *ctx, struct ckpt_hdr_thread *h)
{
	if (!h->rseq) {
		if (h->rseq_len || h->rseq_sig)
			return ckpt_err(ctx, -EINVAL,
					"thread: rseq length %u signature %#x without an rseq area",
					h->rseq_len, h->rseq_sig);
#ifdef CONFIG_RSEQ
		current->rseq = NULL;
		current->rseq_sig = 0;
		kcr_set_rseq_len(current, 0);
		current->rseq_event_mask = 0;
#endif
		return 0;
	}
#ifdef CONFIG_RSEQ
	if (!IS_ALIGNED(h->rseq, __alignof__(struct rseq)) ||
	    h->rseq_len != sizeof(struct rseq) ||
	    h->rseq >= KCR_USER_END ||
	    KCR_USER_END - h->rseq < h->rseq_len)
		return ckpt_err(ctx, -EINVAL,
				"thread: rseq area %#llx length %u (must be %zu-aligned, %zu long, in user space)",
				h->rseq, h->rseq_len,
				__alignof__(struct rseq), sizeof(struct rseq));
	preempt_disable();
	current->rseq = u64_to_user_ptr(h->rseq);
	current->rseq_sig = h->rseq_sig;
	kcr_set_rseq_len(current, h->rseq_len);
	current->rseq_event_mask = RSEQ_EVENT_PREEMPT | RSEQ_EVENT_MIGRATE;
	rseq_set_notify_resume(current);
	preempt_enable();
	return 0;
#else
	return ckpt_err(ctx, -EOPNOTSUPP,
			"thread: an rseq registration, and this kernel has no rseq");
#endif
}

/*
 * THREAD: the system call the task was in is in its registers (the CPU
 * record), to be restarted on the way out as the arch's signal code
 * decides; what is left here is whether the mask saved by sigsuspend()
 * & co goes back then, and the rseq registration.
 */
int restore_thread(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_thread *h;
	int ret = 0;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_THREAD);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->flags & ~(u32)(CKPT_THREAD_IN_SYSCALL |
			      CKPT_THREAD_RESTORE_SIGMASK) ||
	    ((h->flags & CKPT_THREAD_IN_SYSCALL) ? h->syscall_nr < 0 :
	     h->syscall_nr != -1)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "thread: flags %#x system call %d", h->flags,
			       h->syscall_nr);
		goto out;
	}
	ret = kcr_restore_rseq(ctx, h);
	if (ret)
		goto out;
	if (h->flags & CKPT_THREAD_RESTORE_SIGMASK)
		set_restore_sigmask();
	else
		clear_restore_sigmask();
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_signal_finish(struct ckpt_ctx *ctx, struct task_struct *t)
{
	int ret = 0;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

#ifdef CONFIG_POSIX_TIMERS
	if (ctx->restore_itimers_set) {
		ret = kcr_restore_itimer(ctx, ITIMER_REAL,
					 &ctx->restore_itimers[ITIMER_REAL]);
		if (!ret)
			ret = kcr_restore_itimer(ctx, ITIMER_VIRTUAL,
						 &ctx->restore_itimers[ITIMER_VIRTUAL]);
		if (!ret)
			ret = kcr_restore_itimer(ctx, ITIMER_PROF,
						 &ctx->restore_itimers[ITIMER_PROF]);
		if (ret)
			return ret;
	}
#endif
	if (ctx->restore_blocked_set) {
		ret = kcr_set_blocked(ctx, ctx->restore_blocked);
		kcr_quiet_sigpending();
	}
	return ret;
}
