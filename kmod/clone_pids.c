// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: CKPT_IOC_CLONE_WITH_PIDS, linux-cr's clone_with_pids()/eclone()
 * as clone3() with set_tid.
 *
 * The ioctl is a system call like clone3(): kernel_clone() copies the
 * caller's user registers (current_pt_regs(), saved at the entry of this
 * ioctl) into the child, which leaves through ret_from_fork and returns
 * 0 from the ioctl with every other register as the parent had it (the
 * new stack pointer and TLS when asked for). The arguments get clone3()'s
 * checks (copy_clone_args_from_user() and clone3_args_valid() in
 * kernel/fork.c, static there, so repeated here), and alloc_pid() makes
 * the permission check on each pid asked for
 * (checkpoint_restore_ns_capable() in the owner of that level's pid
 * namespace), so the rules are exactly clone3()'s.
 */
#include <linux/errno.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seccomp.h>
#include <linux/signal.h>
#include <linux/uaccess.h>

#include <linux/checkpoint.h>

#include "kcr.h"
#include "ksyms.h"

/*
 * The flags clone3() accepts (clone3_args_valid()), less what the struct
 * has no field for: CLONE_PIDFD (clone3's pidfd pointer) and
 * CLONE_INTO_CGROUP (its cgroup fd).
 */
#define KCR_CLONE_FLAGS \
	((CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND) & \
	 ~(CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME) | CLONE_PIDFD))

/* clone3_stack_valid(): a stack is both an address and a size, or none. */
static bool kcr_clone_stack_valid(struct kernel_clone_args *kargs)
{
	if (!kargs->stack)
		return !kargs->stack_size;
	if (!kargs->stack_size)
		return false;
	if (!access_ok((void __user *)kargs->stack, kargs->stack_size))
		return false;
	/* The stack grows down on x86-64, s390x and ppc64. */
	kargs->stack += kargs->stack_size;
	return true;
}

long kcr_ioctl_clone_with_pids(struct file *dev, void __user *uarg)
{
	struct ckpt_ioc_clone_with_pids args;
	pid_t upids[MAX_PID_NS_LEVEL];
	pid_t set_tid[MAX_PID_NS_LEVEL];
	struct kernel_clone_args kargs = {};
	u32 i, n;
	pid_t pid;

#ifdef CONFIG_SECCOMP
	/*
	 * The mode goes from disabled to filter only; a filter that another
	 * thread attaches meanwhile (TSYNC) is as if attached after this
	 * call.
	 */
	if (READ_ONCE(current->seccomp.mode) != SECCOMP_MODE_DISABLED)
		return -EPERM;
#endif
	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.__pad)
		return -EINVAL;
	if (args.flags & ~(u64)KCR_CLONE_FLAGS)
		return -EINVAL;
	if ((args.flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) ==
	    (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return -EINVAL;
	/* The upper bits must be clear and the signal valid (or 0). */
	if ((args.exit_signal & ~(u64)CSIGNAL) ||
	    !valid_signal(args.exit_signal))
		return -EINVAL;
	if ((args.flags & (CLONE_THREAD | CLONE_PARENT)) && args.exit_signal)
		return -EINVAL;

	n = args.nr_pids;
	/* alloc_pid() refuses more pids than levels, also with EINVAL. */
	if (n > MAX_PID_NS_LEVEL)
		return -EINVAL;
	if (!args.pids != !n)
		return -EINVAL;
	if (n && copy_from_user(upids, u64_to_user_ptr(args.pids),
				n * sizeof(pid_t)))
		return -EFAULT;
	/*
	 * The header lists the pids outermost first; clone3()'s set_tid
	 * starts with the innermost level (alloc_pid() reads set_tid[0] for
	 * the child's own namespace).
	 */
	for (i = 0; i < n; i++)
		set_tid[i] = upids[n - 1 - i];

	kargs.flags = args.flags;
	kargs.exit_signal = args.exit_signal;
	kargs.stack = args.stack;
	kargs.stack_size = args.stack_size;
	kargs.tls = args.tls;
	kargs.parent_tid = u64_to_user_ptr(args.parent_tid);
	kargs.child_tid = u64_to_user_ptr(args.child_tid);
	if (n) {
		kargs.set_tid = set_tid;
		kargs.set_tid_size = n;
	}
	if (!kcr_clone_stack_valid(&kargs))
		return -EINVAL;

	/*
	 * A pending signal makes kernel_clone() fail with -ERESTARTNOINTR,
	 * which restarts this ioctl after the handler, as it does clone3():
	 * nothing was consumed.
	 */
	pid = kcr_kernel_clone(&kargs);
	if (pid == -EEXIST)
		return -EBUSY;
	return pid;
}
