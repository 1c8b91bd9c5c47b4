// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of per-task kernel state that is neither memory, files,
 * signals nor namespaces: the restart block of an interrupted system
 * call, and the system call the task is stopped in (as in linux-cr).
 */
#include <linux/alarmtimer.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/restart_block.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>

#include <asm/syscall.h>

#include "kcr.h"
#include "ksyms.h"

/*
 * kernel/futex/futex.h (private to the futex code): the timeout of a
 * restarted FUTEX_WAIT is on CLOCK_REALTIME when this flag is set, else
 * on CLOCK_MONOTONIC. The image keeps the flags as they are (the producer
 * kernel's values, see checkpoint_hdr.h); this one bit we must read.
 */
#define KCR_FUTEX_FLAGS_CLOCKRT	0x02

/*
 * Nanoseconds from now until the absolute time expires of clock clk (the
 * time base the kernel armed the sleep's timer on); 0 if already past.
 */
static int kcr_time_left(clockid_t clk, ktime_t expires, u64 *left)
{
	ktime_t now;

	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_ALARM:
		now = ktime_get_real();
		break;
	case CLOCK_MONOTONIC:
		now = ktime_get();
		break;
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		now = ktime_get_boottime();
		break;
	case CLOCK_TAI:
		now = ktime_get_clocktai();
		break;
	default:
		return -EINVAL;
	}
	*left = ktime_after(expires, now) ? ktime_sub(expires, now) : 0;
	return 0;
}

/*
 * A nanosleep restart (hrtimer or alarm timer): clockid, where to write
 * the time left, and the time left. An alarm nanosleep keeps its alarm
 * type where the others keep a clock id (alarm_timer_nsleep_restart()),
 * and its expiry is a time of the alarm base's clock: CLOCK_REALTIME for
 * ALARM_REALTIME, CLOCK_BOOTTIME for ALARM_BOOTTIME.
 */
static int kcr_restart_nanosleep(struct ckpt_ctx *ctx, struct restart_block *rb,
				 struct ckpt_hdr_restart_block *h, bool alarm)
{
	clockid_t clk = rb->nanosleep.clockid;
	u64 left;

	switch (rb->nanosleep.type) {
	case TT_NONE:
		h->arg2 = CKPT_RESTART_BLOCK_RMTP_NONE;
		break;
	case TT_NATIVE:
		h->arg2 = CKPT_RESTART_BLOCK_RMTP_NATIVE;
		h->arg1 = (unsigned long)rb->nanosleep.rmtp;
		break;
	default:
		return ckpt_err(ctx, -EOPNOTSUPP,
				"interrupted nanosleep of a 32-bit (compat) task");
	}
	if (alarm) {
		if (rb->nanosleep.clockid == ALARM_REALTIME)
			clk = CLOCK_REALTIME;
		else if (rb->nanosleep.clockid == ALARM_BOOTTIME)
			clk = CLOCK_BOOTTIME;
		else
			return ckpt_err(ctx, -EOPNOTSUPP,
					"interrupted alarm nanosleep of alarm type %d",
					rb->nanosleep.clockid);
	}
	if (kcr_time_left(clk, rb->nanosleep.expires, &left))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"interrupted nanosleep on clock %d",
				rb->nanosleep.clockid);
	h->arg0 = rb->nanosleep.clockid;
	h->arg3 = left;
	return 0;
}

static int kcr_restart_futex(struct ckpt_ctx *ctx, struct restart_block *rb,
			     struct ckpt_hdr_restart_block *h)
{
	clockid_t clk = rb->futex.flags & KCR_FUTEX_FLAGS_CLOCKRT ?
			CLOCK_REALTIME : CLOCK_MONOTONIC;
	u64 left;

	/* A restarted futex wait always has a timeout (FLAGS_HAS_TIMEOUT). */
	kcr_time_left(clk, rb->futex.time, &left);
	h->arg0 = (unsigned long)rb->futex.uaddr;
	h->arg1 = rb->futex.val;
	h->arg2 = rb->futex.flags;
	h->arg3 = rb->futex.bitset;
	h->arg4 = left;
	h->arg5 = (unsigned long)rb->futex.uaddr2;
	return 0;
}

/* poll()'s end time is a CLOCK_MONOTONIC timespec (ktime_get_ts64()). */
static void kcr_restart_poll(struct restart_block *rb,
			     struct ckpt_hdr_restart_block *h)
{
	struct timespec64 end = {
		.tv_sec = rb->poll.tv_sec,
		.tv_nsec = rb->poll.tv_nsec,
	};
	u64 left = 0;

	if (rb->poll.has_timeout)
		kcr_time_left(CLOCK_MONOTONIC, timespec64_to_ktime(end), &left);
	h->arg0 = (unsigned long)rb->poll.ufds;
	h->arg1 = rb->poll.nfds;
	h->arg2 = rb->poll.has_timeout;
	h->arg3 = left;
}

static bool kcr_is_restart_fn(struct restart_block *rb, kcr_restart_fn_t fn)
{
	return fn && rb->fn == fn;
}

/*
 * t->restart_block is what sys_restart_syscall() will run if t goes back
 * to user mode with -ERESTART_RESTARTBLOCK; it may also be a leftover of
 * an earlier call, which is harmless to record. The task is frozen or
 * current, so the block does not change while we read it.
 */
int checkpoint_restart_block(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct restart_block *rb = &t->restart_block;
	struct ckpt_hdr_restart_block *h;
	int ret = 0;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_RESTART_BLOCK);
	if (!h)
		return -ENOMEM;

	h->function_type = CKPT_RESTART_BLOCK_NONE;
	if (!rb->fn || kcr_is_restart_fn(rb, kcr_do_no_restart_syscall)) {
		/* NONE */
	} else if (kcr_is_restart_fn(rb, kcr_hrtimer_nanosleep_restart)) {
		h->function_type = CKPT_RESTART_BLOCK_HRTIMER_NANOSLEEP;
		ret = kcr_restart_nanosleep(ctx, rb, h, false);
	} else if (kcr_is_restart_fn(rb, kcr_alarm_timer_nsleep_restart)) {
		h->function_type = CKPT_RESTART_BLOCK_ALARM_NANOSLEEP;
		ret = kcr_restart_nanosleep(ctx, rb, h, true);
	} else if (kcr_is_restart_fn(rb, kcr_futex_wait_restart)) {
		h->function_type = CKPT_RESTART_BLOCK_FUTEX;
		ret = kcr_restart_futex(ctx, rb, h);
	} else if (kcr_is_restart_fn(rb, kcr_do_restart_poll)) {
		h->function_type = CKPT_RESTART_BLOCK_POLL;
		kcr_restart_poll(rb, h);
	} else {
		/*
		 * posix_cpu_nsleep_restart() (its expiry is in task CPU time),
		 * or a function this kernel's kallsyms did not give us: the
		 * restarted call will return -EINTR instead of going on.
		 */
		ckpt_msg(ctx, "restart block %ps not supported: an interrupted call will fail with EINTR after restart",
			 rb->fn);
	}
	if (!ret)
		ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * Where t stopped. A frozen task sleeps either in get_signal() on its way
 * back to user mode (cgroup v2 freezer, and the legacy freezer for tasks
 * that were running or in an interruptible wait), with the system call's
 * return value already in its registers and the syscall restart not yet
 * applied, or in the middle of a freezable wait of the legacy freezer.
 * A self-checkpoint is, by definition, a return from this ioctl with 0:
 * not a system call to continue.
 */
int checkpoint_thread(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_thread *h;
	int ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_THREAD);
	if (!h)
		return -ENOMEM;
	h->syscall_nr = -1;
	if (t != current) {
		struct pt_regs *regs = task_pt_regs(t);
		int nr = kcr_arch_syscall_nr(t);

		if (nr >= 0) {
			long err = syscall_get_error(t, regs);

			h->flags |= CKPT_THREAD_IN_SYSCALL;
			h->syscall_nr = nr;
			h->syscall_ret = err ? err :
				syscall_get_return_value(t, regs);
		}
		if (test_tsk_restore_sigmask(t))
			h->flags |= CKPT_THREAD_RESTORE_SIGMASK;
	}
#ifdef CONFIG_RSEQ
	/*
	 * Registered with rseq(). Kernels from 6.3 on accept a longer,
	 * extended area, which 6.1 could not restore: only the original
	 * length is saved, so that an image restarts on every series.
	 */
	if (t->rseq) {
		h->rseq = (unsigned long)t->rseq;
		h->rseq_len = kcr_rseq_len(t);
		h->rseq_sig = t->rseq_sig;
		if (h->rseq_len != sizeof(struct rseq)) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "thread: an extended rseq area of %u bytes (kcr saves only the original %zu)",
				       h->rseq_len, sizeof(struct rseq));
			ckpt_hdr_put(ctx, h);
			return ret;
		}
	}
#endif
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}
