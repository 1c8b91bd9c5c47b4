// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of signal state, after linux-cr's signal checkpoint
 * code.
 *
 *	OBJREF(SIGHAND) SIGHAND		handlers; CLONE_SIGHAND tasks share it
 *	OBJREF(SIGNAL) SIGNAL SIGPENDING(shared = 1)
 *					the thread group's signal_struct
 *	SIGNAL_TASK SIGPENDING(shared = 0)
 *					each task's own mask and queue
 *
 * Locking. Handlers, masks, queues and interval timers change under
 * sighand->siglock, which is taken the way lock_task_sighand() takes it
 * (that one is not exported): everything a record needs is copied in one
 * hold, so that a pending set and its queue agree, into buffers allocated
 * beforehand; nothing sleeps under it and records are written after. A
 * signal can still be queued to a frozen task meanwhile (kill() works on
 * frozen tasks): if a queue outgrew its buffer, the buffer is enlarged and
 * the copy done again.
 *
 * Object lifetimes. The objhash holds no reference to a sighand_struct
 * or a signal_struct: the functions that release them are not exported,
 * and a bare refcount increment could never be dropped once the task had
 * exited. Their pointers are used as identities only, never dereferenced
 * from the objhash. A signal_struct lives as long as any task_struct of
 * its group (__put_task_struct() releases it), and checkpoint.c holds the
 * tasks it checkpoints. A sighand_struct can be freed under us only when
 * its last task is reaped; it is read under its siglock after checking
 * that it is still t's, as lock_task_sighand() does, and it is
 * SLAB_TYPESAFE_BY_RCU. An identity cannot be reused within one
 * checkpoint: the tasks are frozen (or current), so none of them can
 * clone or exec to come to own a new sighand or signal_struct.
 *
 * Queued signals (struct ckpt_siginfo): raw holds what
 * copy_siginfo_to_user() gives user space: the kernel_siginfo (the
 * header fields and the union, 48 bytes on 64-bit) as it is in memory,
 * then zeroes up to 128 bytes; si_signo, si_errno and si_code are also
 * decoded. Signals in a pending set without a queue entry (a second
 * instance of a legacy signal, or one whose sigqueue could not be
 * allocated) appear only in the set.
 *
 * Interval timers are saved as getitimer() reports them: the time left
 * and the period, in ns. For ITIMER_VIRTUAL/PROF the kernel keeps an
 * absolute expiry on the thread group's CPU clock; the time left is that
 * minus the group's CPU time as the itimer code itself samples it (the
 * thread group cputimer, which runs whenever such a timer is armed), so
 * that restart arms it relative to the new group's clock.
 */
#include <linux/build_bug.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/posix-timers.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "kcr.h"
#include "siglock.h"

/* Attempts at copying a pending queue that keeps growing meanwhile. */
#define KCR_PENDING_TRIES	8

/* Identity only: see "Object lifetimes" above. */
static void kcr_obj_no_ref(void *ptr)
{
}

const struct ckpt_obj_ops kcr_sighand_ops = {
	.objtype = CKPT_OBJ_SIGHAND,
	.grab = kcr_obj_no_ref,
	.drop = kcr_obj_no_ref,
};

const struct ckpt_obj_ops kcr_signal_ops = {
	.objtype = CKPT_OBJ_SIGNAL,
	.grab = kcr_obj_no_ref,
	.drop = kcr_obj_no_ref,
};


/* Queued signals copied under siglock. */
struct kcr_pending {
	struct ckpt_siginfo *info;	/* max entries */
	unsigned int max;
	unsigned int nr;		/* queued; more than max: copy again */
	u64 set;			/* the pending set */
};

static void kcr_siginfo(struct ckpt_siginfo *dst,
			const kernel_siginfo_t *info)
{
	BUILD_BUG_ON(sizeof(dst->raw) != SI_MAX_SIZE);
	BUILD_BUG_ON(sizeof(*info) > sizeof(dst->raw));

	memset(dst, 0, sizeof(*dst));
	dst->si_signo = info->si_signo;
	dst->si_errno = info->si_errno;
	dst->si_code = info->si_code;
	memcpy(dst->raw, info, sizeof(*info));
}

/* Under the siglock that protects pending. */
static void kcr_pending_copy(struct kcr_pending *kp,
			     const struct sigpending *pending)
{
	struct sigqueue *q;
	unsigned int n = 0;

	kp->set = pending->signal.sig[0];
	list_for_each_entry(q, &pending->list, list) {
		if (n < kp->max)
			kcr_siginfo(&kp->info[n], &q->info);
		n++;
	}
	kp->nr = n;
}

/* Make room for the kp->nr signals seen, and some more, before a retry. */
static int kcr_pending_grow(struct ckpt_ctx *ctx, struct kcr_pending *kp,
			    int tries)
{
	unsigned int max;

	if (tries >= KCR_PENDING_TRIES)
		return ckpt_err(ctx, -EAGAIN,
				"signals keep being queued (%u pending)",
				kp->nr);
	max = kp->nr + kp->nr / 4 + 8;
	kvfree(kp->info);
	kp->info = kvmalloc_array(max, sizeof(*kp->info), GFP_KERNEL);
	if (!kp->info) {
		kp->max = 0;
		return ckpt_err(ctx, -ENOMEM, "no memory for %u signals", max);
	}
	kp->max = max;
	return 0;
}

/* SIGPENDING: its payload is written from kp->info, not copied again. */
static int kcr_write_sigpending(struct ckpt_ctx *ctx,
				const struct kcr_pending *kp, bool shared)
{
	struct ckpt_hdr_sigpending h = { };
	size_t payload = (size_t)kp->nr * sizeof(*kp->info);
	int ret;

	if (payload > U32_MAX - sizeof(h))
		return ckpt_err(ctx, -E2BIG, "too many pending signals (%u)",
				kp->nr);
	h.nr_pending = kp->nr;
	h.shared = shared;
	h.signal = kp->set;
	ret = ckpt_write_hdr(ctx, CKPT_HDR_SIGPENDING, sizeof(h) + payload);
	if (!ret)
		ret = ckpt_write(ctx, (char *)&h + sizeof(h.h),
				 sizeof(h) - sizeof(h.h));
	if (!ret && payload)
		ret = ckpt_write(ctx, kp->info, payload);
	return ret;
}

static void kcr_sigaction(struct ckpt_sigaction *dst,
			  const struct sigaction *sa)
{
	dst->sa_handler = (unsigned long)sa->sa_handler;
	dst->sa_flags = sa->sa_flags;
#ifdef __ARCH_HAS_SA_RESTORER
	dst->sa_restorer = (unsigned long)sa->sa_restorer;
#endif
	dst->sa_mask = sa->sa_mask.sig[0];
}

/*
 * Checkpoint the signal handlers of t (frozen, or current): *ref gets
 * the objref of its sighand_struct, whose body is written the first time.
 */
int checkpoint_sighand(struct ckpt_ctx *ctx, struct task_struct *t, int *ref)
{
	struct sighand_struct *sighand;
	struct ckpt_hdr_sighand *h;
	struct ckpt_sigaction *sa;
	unsigned long flags;
	bool first = false;
	int i, objref, ret = 0;

	/* One 64-bit word per signal set, _NSIG signals: the image's. */
	BUILD_BUG_ON(_NSIG != CKPT_NSIG);
	BUILD_BUG_ON(_NSIG_WORDS != 1);

	h = ckpt_hdr_get_type(ctx, sizeof(*h) + _NSIG * sizeof(*sa),
			      CKPT_HDR_SIGHAND);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "no memory for the handlers");
	sa = (struct ckpt_sigaction *)(h + 1);
	h->nr_sigactions = _NSIG;

	/* Copied before the lookup: the lock tells which sighand is t's. */
	sighand = kcr_task_lock_sighand(t, &flags);
	if (!sighand) {
		ret = ckpt_err(ctx, -ESRCH,
			       "task has no signal handlers: it is exiting");
		goto out;
	}
	for (i = 0; i < _NSIG; i++)
		kcr_sigaction(&sa[i], &sighand->action[i].sa);
	spin_unlock_irqrestore(&sighand->siglock, flags);

	objref = ckpt_obj_lookup_add(ctx, sighand, &kcr_sighand_ops, &first);
	if (objref < 0) {
		ret = objref;
		goto out;
	}
	if (first) {
		ret = ckpt_write_objref(ctx, CKPT_OBJ_SIGHAND, objref);
		if (!ret)
			ret = ckpt_write_obj(ctx, &h->h);
	}
	if (!ret)
		*ref = objref;
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

#ifdef CONFIG_POSIX_TIMERS
/* ITIMER_REAL as getitimer() reports it (itimer_get_remtime()), armed. */
static void kcr_real_itimer(struct signal_struct *sig, struct ckpt_itimer *it)
{
	ktime_t rem = __hrtimer_get_remaining(&sig->real_timer, true);

	if (hrtimer_active(&sig->real_timer)) {
		/* Expired, its signal not sent yet: about to fire. */
		if (rem <= 0)
			rem = NSEC_PER_USEC;
	} else if (sig->it_real_incr) {
		/*
		 * A periodic timer that fired and waits for its SIGALRM to
		 * be dequeued, which rearms it (dequeue_signal()): getitimer()
		 * says 0 left, but setitimer() with 0 would disarm it. It
		 * fires again one interval after that dequeue.
		 */
		rem = sig->it_real_incr;
	} else {
		rem = 0;
	}
	it->value = ktime_to_ns(rem);
	it->interval = ktime_to_ns(sig->it_real_incr);
}

/*
 * ITIMER_VIRTUAL or ITIMER_PROF as getitimer() reports it
 * (get_cpu_itimer()), with thread_group_sample_cputime() open-coded: it
 * is not exported.
 */
static void kcr_cpu_itimer(struct signal_struct *sig, unsigned int clock,
			   struct ckpt_itimer *it)
{
	struct task_cputime_atomic *at = &sig->cputimer.cputime_atomic;
	u64 val = sig->it[clock].expires;
	u64 now;

	if (val) {
		/*
		 * Arming the timer started the group cputimer, and it runs
		 * while the timer is armed. Should it not, its sample would
		 * be stale: call the timer about to fire rather than lose it.
		 */
		if (!sig->posix_cputimers.timers_active) {
			val = TICK_NSEC;
		} else {
			now = atomic64_read(&at->utime);
			if (clock == CPUCLOCK_PROF)
				now += atomic64_read(&at->stime);
			/* Past due, its signal not sent yet: about to fire. */
			val = val < now ? TICK_NSEC : val - now;
		}
	}
	it->value = val;
	it->interval = sig->it[clock].incr;
}
#endif

/* The parts of SIGNAL under siglock. */
static void kcr_signal_copy(struct ckpt_hdr_signal *h,
			    struct signal_struct *sig)
{
	h->flags = sig->leader ? CKPT_SIGNAL_LEADER : 0;
	h->group_exit_code = sig->group_exit_code;
	/* TODO: the controlling terminal, with ttys (later issue). */
	h->tty_ref = 0;
	h->tty_old_pgrp = 0;
#ifdef CONFIG_POSIX_TIMERS
	kcr_real_itimer(sig, &h->it_real);
	kcr_cpu_itimer(sig, CPUCLOCK_VIRT, &h->it_virt);
	kcr_cpu_itimer(sig, CPUCLOCK_PROF, &h->it_prof);
#endif
}

/*
 * Resource limits. Writers (do_prlimit()) hold task_lock() of the group
 * leader, so that each limit's cur and max agree. The leader's
 * task_struct stays valid for an RCU read section begun while t is not
 * yet released: a leader is released only after the rest of its group.
 */
static int kcr_rlimits_copy(struct ckpt_ctx *ctx, struct task_struct *t,
			    struct ckpt_hdr_signal *h)
{
	struct signal_struct *sig = t->signal;
	struct task_struct *leader;
	int i;

	BUILD_BUG_ON(RLIM_NLIMITS != CKPT_RLIM_NLIMITS);

	rcu_read_lock();
	if (!pid_alive(t)) {
		rcu_read_unlock();
		return ckpt_err(ctx, -EINVAL, "task has exited");
	}
	leader = READ_ONCE(t->group_leader);
	task_lock(leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		h->rlim[i].rlim_cur = sig->rlim[i].rlim_cur;
		h->rlim[i].rlim_max = sig->rlim[i].rlim_max;
	}
	task_unlock(leader);
	rcu_read_unlock();
	h->nr_rlimits = RLIM_NLIMITS;
	return 0;
}

/* The body of CKPT_OBJ_SIGNAL objref, its OBJREF record first. */
static int kcr_checkpoint_signal_obj(struct ckpt_ctx *ctx,
				     struct task_struct *t, int objref)
{
	struct signal_struct *sig = t->signal;
	struct sighand_struct *sighand;
	struct kcr_pending kp = { };
	struct ckpt_hdr_signal *h;
	unsigned long flags;
	int tries, ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_SIGNAL);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "no memory for the signal record");
	ret = kcr_rlimits_copy(ctx, t, h);
	if (ret)
		goto out;

	for (tries = 1; ; tries++) {
		sighand = kcr_task_lock_sighand(t, &flags);
		if (!sighand) {
			ret = ckpt_err(ctx, -EINVAL, "task has exited");
			goto out;
		}
		kcr_signal_copy(h, sig);
		kcr_pending_copy(&kp, &sig->shared_pending);
		spin_unlock_irqrestore(&sighand->siglock, flags);
		if (kp.nr <= kp.max)
			break;
		ret = kcr_pending_grow(ctx, &kp, tries);
		if (ret)
			goto out;
	}

	ret = ckpt_write_objref(ctx, CKPT_OBJ_SIGNAL, objref);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h->h);
	if (!ret)
		ret = kcr_write_sigpending(ctx, &kp, true);
out:
	kvfree(kp.info);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * Checkpoint the signal_struct of t (frozen, or current): *ref gets its
 * objref; its body (limits, timers, shared pending signals) is written
 * the first time. t->signal is t's for all its life: no lock to read it.
 */
int checkpoint_signal(struct ckpt_ctx *ctx, struct task_struct *t, int *ref)
{
	bool first = false;
	int objref, ret;

	objref = ckpt_obj_lookup_add(ctx, t->signal, &kcr_signal_ops, &first);
	if (objref < 0)
		return objref;
	if (first) {
		ret = kcr_checkpoint_signal_obj(ctx, t, objref);
		if (ret)
			return ret;
	}
	*ref = objref;
	return 0;
}

/*
 * Checkpoint t's own signal state (frozen, or current): SIGNAL_TASK and
 * the SIGPENDING of its private queue.
 */
int checkpoint_signal_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct sighand_struct *sighand;
	struct ckpt_hdr_signal_task *h;
	struct kcr_pending kp = { };
	unsigned long flags;
	int tries, ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_SIGNAL_TASK);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "no memory for the signal record");

	for (tries = 1; ; tries++) {
		sighand = kcr_task_lock_sighand(t, &flags);
		if (!sighand) {
			ret = ckpt_err(ctx, -EINVAL, "task has exited");
			goto out;
		}
		h->blocked = t->blocked.sig[0];
		/*
		 * saved_sigmask means something only while it is to be put
		 * back on the way to user mode (sigsuspend(), ppoll(), ...
		 * interrupted, e.g. by the freezer); zero otherwise, so that
		 * images do not carry a stale mask.
		 */
		if (test_tsk_restore_sigmask(t)) {
			h->flags = CKPT_SIGNAL_TASK_SAVED_MASK;
			h->saved_sigmask = t->saved_sigmask.sig[0];
		} else {
			h->flags = 0;
			h->saved_sigmask = 0;
		}
		kcr_pending_copy(&kp, &t->pending);
		spin_unlock_irqrestore(&sighand->siglock, flags);
		if (kp.nr <= kp.max)
			break;
		ret = kcr_pending_grow(ctx, &kp, tries);
		if (ret)
			goto out;
	}

	/* Only t itself changes its alternate stack: frozen, or us. */
	h->sas_ss_sp = t->sas_ss_sp;
	h->sas_ss_size = t->sas_ss_size;
	h->sas_ss_flags = t->sas_ss_flags;

	ret = ckpt_write_obj(ctx, &h->h);
	if (!ret)
		ret = kcr_write_sigpending(ctx, &kp, false);
out:
	kvfree(kp.info);
	ckpt_hdr_put(ctx, h);
	return ret;
}
