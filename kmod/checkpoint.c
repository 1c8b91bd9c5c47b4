// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: CKPT_IOC_CHECKPOINT, linux-cr's sys_checkpoint().
 *
 * The caller names the root of what to checkpoint: itself (pid 0, or its
 * own pid) or another task, which must then be frozen and which the caller
 * must be allowed to ptrace-attach. The image is streamed to the image fd
 * as it is built:
 *	HEADER HEADER_ARCH CONTAINER TREE (per task: TASK ...) TAIL
 * A failure writes an ERROR record instead of the rest (best effort: if
 * the image itself cannot be written, neither can that record) and the
 * ioctl returns the errno; messages go to logfd.
 *
 * The tree is the root and its descendants (tree.c), every one frozen;
 * a self-checkpoint covers the caller alone. Multi-threaded processes
 * and zombies are refused with -EOPNOTSUPP rather than written as an
 * image that a restart would bring back incomplete.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/err.h>
/* 6.12's futex.h uses mutex_init() without including its header. */
#include <linux/mutex.h>
#include <linux/futex.h>
#include <linux/kernel.h>
#include <linux/mm_types.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/termios.h>
#include <linux/timekeeping.h>
#include <linux/tty.h>
#include <linux/uaccess.h>
#include <linux/un.h>
#include <linux/user_namespace.h>
#include <linux/utsname.h>

#include "kcr.h"
#include "ksyms.h"

/*
 * Frozen by the cgroup v2 freezer (t->frozen, set when the task stops in
 * get_signal()) or by the legacy one (TASK_FROZEN). Either way the task
 * cannot run user code, and its user-visible state holds still, until it
 * is thawed.
 */
static bool kcr_task_frozen(struct task_struct *t)
{
#ifdef CONFIG_CGROUPS
	if (t->frozen)
		return true;
#endif
	return READ_ONCE(t->__state) & TASK_FROZEN;
}

/*
 * An external target must stay the task that the access check allowed,
 * and hold still, until its image is complete; the image streams to the
 * image fd for as long as its reader takes, and nothing stops another
 * process from thawing the tasks meanwhile. So
 *  - each process's signal->exec_update_lock is held for read (as
 *    mm_access() and /proc's readers of another task's memory do) from
 *    before its ptrace check to the end of its records: it cannot exec
 *    (a setuid program, say) between the check and its image, and an
 *    exec under way finishes before the check. One process at a time:
 *    two locks of one class held together are a lockdep report (and a
 *    rwsem has no nesting to tell it otherwise);
 *  - the context switch counts (nvcsw + nivcsw) of every task are taken
 *    once it is found frozen, and compared after its records and again
 *    at the end: a task that was thawed and frozen again must have
 *    scheduled, whatever it did in between (setuid(), writing memory
 *    shared with a task already written, ...), so the image would mix
 *    states and is refused with -EBUSY. A frozen task also schedules
 *    when a signal wakes it (the cgroup v2 freezer traps it in
 *    get_signal(), and it goes back into the trap without running user
 *    code): such a checkpoint fails too, and a retry succeeds. Too
 *    strict in that case is the safe side. The "frozen" check at the
 *    end alone would miss a thaw and refreeze in between.
 * A self-checkpoint needs neither: current is in this ioctl.
 */
struct kcr_hold {
	struct task_struct *t;	/* its exec_update_lock is held, or NULL */
};

static void kcr_hold_release(struct kcr_hold *hold)
{
	if (hold->t)
		up_read(&hold->t->signal->exec_update_lock);
	hold->t = NULL;
}

/* Whether task i of the tree scheduled since its counts were taken. */
static int kcr_still_check(struct ckpt_ctx *ctx, int i)
{
	struct task_struct *t = ctx->tasks[i];
	struct kcr_still *s = &ctx->still[i];

	/* A zombie runs no more; its parent would have to, to reap it. */
	if (t == current || kcr_zombie(t))
		return 0;
	if (READ_ONCE(t->nvcsw) != s->nvcsw ||
	    READ_ONCE(t->nivcsw) != s->nivcsw)
		return ckpt_err(ctx, -EBUSY,
				"task %d ran during checkpoint (thawed and frozen again, or woken by a signal): the image is not consistent; retry",
				task_pid_vnr(t));
	if (!kcr_task_frozen(t))
		return ckpt_err(ctx, -EBUSY, "task %d thawed during checkpoint",
				task_pid_vnr(t));
	return 0;
}

/*
 * A task that has just frozen may still be on its way off its CPU: its
 * context switch count moves once more when it gets there. Wait until it
 * is off (finish_task() clears on_cpu with release semantics, after the
 * count moved), as wait_task_inactive() would.
 */
static int kcr_wait_off_cpu(struct task_struct *t)
{
#ifdef CONFIG_SMP
	/* Pairs with the smp_store_release() in finish_task(). */
	while (smp_load_acquire(&t->on_cpu)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		usleep_range(50, 100);
	}
#endif
	return 0;
}

/*
 * Take hold of task i of the tree (see struct kcr_hold): lock its
 * process against exec, check that the caller may checkpoint it, that
 * it is frozen, and take its counts, or with again compare them with
 * those taken the first time. Until the access check has passed,
 * ctx->tsk stays NULL so that messages do not show the comm of a task
 * the caller may not look at.
 */
static int kcr_take_hold(struct ckpt_ctx *ctx, int i, struct kcr_hold *hold,
			 bool again)
{
	struct task_struct *t = ctx->tasks[i];
	pid_t pid = task_pid_vnr(t);
	int ret;

	ctx->tsk = NULL;
	if (t == current)
		goto held;
	if (t->flags & PF_KTHREAD)
		return ckpt_err(ctx, -EPERM, "pid %d is a kernel thread", pid);
	/* The task's reference (ctx->tasks[i]) keeps t->signal. */
	if (down_read_killable(&t->signal->exec_update_lock))
		return -EINTR;
	hold->t = t;
	if (!kcr_ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		return ckpt_err(ctx, -EPERM, "no ptrace access to pid %d",
				pid);
held:
	ctx->tsk = t;
	/* Its parent, frozen in the tree, cannot reap it meanwhile. */
	if (kcr_zombie(t) && t != ctx->root_task)
		return 0;
	if (t->exit_state || (t->flags & PF_EXITING))
		return ckpt_err(ctx, -ESRCH, "task is exiting");
	if (t == current)
		return 0;
	if (again)
		return kcr_still_check(ctx, i);
	if (!kcr_task_frozen(t))
		return ckpt_err(ctx, -EBUSY, "task not frozen");
	ret = kcr_wait_off_cpu(t);
	if (ret)
		return ret;
	/* From here on it must not run (see struct kcr_hold). */
	ctx->still[i].nvcsw = READ_ONCE(t->nvcsw);
	ctx->still[i].nivcsw = READ_ONCE(t->nivcsw);
	return 0;
}

/*
 * Find the root task. The access check on it and on every other task
 * is kcr_take_hold()'s, made as each is checkpointed.
 */
static int kcr_get_root(struct ckpt_ctx *ctx, pid_t pid)
{
	struct task_struct *t;
	struct pid *p;

	if (pid < 0)
		return ckpt_err(ctx, -EINVAL, "pid %d", pid);
	if (pid == 0 || pid == task_pid_vnr(current)) {
		t = current;
		get_task_struct(t);
	} else {
		p = find_get_pid(pid);
		t = get_pid_task(p, PIDTYPE_PID);
		put_pid(p);
		if (!t)
			return ckpt_err(ctx, -ESRCH, "no task with pid %d", pid);
	}
	ctx->root_task = t;
	if (!(ctx->uflags & CHECKPOINT_SUBTREE) &&
	    !is_child_reaper(task_pid(t)))
		return ckpt_err(ctx, -EINVAL,
				"not the init of a pid namespace (container checkpoint); use CHECKPOINT_SUBTREE");

	/* Ids in the image are as the root task's user namespace sees them. */
	rcu_read_lock();
	ctx->user_ns = get_user_ns(__task_cred(t)->user_ns);
	rcu_read_unlock();
	return 0;
}

/*
 * The running kernel's version from its release string, as linux-cr did:
 * that is what the machine runs. Debian's release (6.1.0-50-amd64) has 0
 * as its patch level; the full string is in uts_release. What does not
 * parse stays 0.
 */
static void kcr_kernel_version(const char *release, struct ckpt_hdr_header *h)
{
	unsigned int major = 0, minor = 0, patch = 0;

	if (sscanf(release, "%u.%u.%u", &major, &minor, &patch) < 2)
		major = minor = patch = 0;
	h->major = min(major, 0xffffU);
	h->minor = min(minor, 0xffffU);
	h->patch = min(patch, 0xffffU);
}

static int kcr_write_header(struct ckpt_ctx *ctx)
{
	struct new_utsname *uts = utsname();
	struct ckpt_hdr_header *h;
	int ret;

	BUILD_BUG_ON(CKPT_TASK_COMM_LEN != TASK_COMM_LEN);
	BUILD_BUG_ON(sizeof_field(struct ckpt_hdr_header, uts_release) !=
		     sizeof_field(struct new_utsname, release));
	BUILD_BUG_ON(CKPT_NSIG != _NSIG);
	BUILD_BUG_ON(CKPT_RLIM_NLIMITS != RLIM_NLIMITS);
	BUILD_BUG_ON(CKPT_SUN_PATH_LEN != UNIX_PATH_MAX);
	BUILD_BUG_ON(CKPT_TTY_NCC < NCCS);

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_HEADER);
	if (!h)
		return -ENOMEM;
	h->magic = CKPT_MAGIC_HEAD;
	h->version = CKPT_IMAGE_VERSION;
	h->arch_id = CKPT_ARCH_ID;
	kcr_kernel_version(uts->release, h);
	h->constants.task_comm_len = TASK_COMM_LEN;
	h->constants.uts_len = __NEW_UTS_LEN + 1;
	h->constants.signal_nsig = _NSIG;
	h->constants.rlimit_nlimits = RLIM_NLIMITS;
	h->constants.page_size = PAGE_SIZE;
	h->constants.at_vector_size = AT_VECTOR_SIZE;
	h->constants.sun_path_len = UNIX_PATH_MAX;
	h->constants.tty_ncc = NCCS;
	h->constants.n_tty_buf_size = N_TTY_BUF_SIZE;
	/* checkpoint_hdr.h: nanoseconds of CLOCK_REALTIME. */
	h->time = ktime_get_real_ns();
	h->uflags = ctx->uflags;
	strscpy_pad(h->uts_release, uts->release, sizeof(h->uts_release));
	strscpy_pad(h->uts_version, uts->version, sizeof(h->uts_version));
	strscpy_pad(h->uts_machine, uts->machine, sizeof(h->uts_machine));
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_write_header_arch(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header_arch *h;
	int ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_HEADER_ARCH);
	if (!h)
		return -ENOMEM;
	h->arch_id = CKPT_ARCH_ID;
	ret = kcr_arch_header(ctx, h);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_write_container(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_container *h;
	int ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_CONTAINER);
	if (!h)
		return -ENOMEM;
	h->root_pid = task_pid_vnr(ctx->root_task);
	if (ctx->uflags & CHECKPOINT_SUBTREE)
		h->flags |= CKPT_CONTAINER_SUBTREE;
	if (is_child_reaper(task_pid(ctx->root_task)))
		h->flags |= CKPT_CONTAINER_PIDNS_INIT;
	/* lsm_name stays "": LSM labels are not checkpointed yet. */
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * TREE: pids as the root task's pid namespace sees them (checkpoint_hdr.h).
 * The root's parent is outside the tree: its vppid is 0 even when that
 * parent is visible in the namespace (a subtree checkpoint), so that
 * every non-zero vppid names a task of the image.
 */
static int kcr_write_tree(struct ckpt_ctx *ctx)
{
	struct pid_namespace *ns = task_active_pid_ns(ctx->root_task);
	struct ckpt_hdr_tree *h;
	struct ckpt_pids *pids;
	unsigned int nr_vpids = 0, l;
	s32 *vpids;
	int i, ret;

	/* Tasks in nested pid namespaces have a pid at each level too. */
	for (i = 0; i < ctx->nr_tasks; i++)
		nr_vpids += task_pid(ctx->tasks[i])->level - ns->level;
	h = ckpt_hdr_get_type(ctx, sizeof(*h) + ctx->nr_tasks * sizeof(*pids) +
			      nr_vpids * sizeof(*vpids), CKPT_HDR_TREE);
	if (!h)
		return -ENOMEM;
	h->nr_tasks = ctx->nr_tasks;
	h->nr_vpids = nr_vpids;
	pids = (struct ckpt_pids *)(h + 1);
	vpids = (s32 *)(pids + ctx->nr_tasks);
	for (i = 0; i < ctx->nr_tasks; i++) {
		struct task_struct *t = ctx->tasks[i];
		struct pid *pid = task_pid(t);

		pids[i].vpid = task_pid_nr_ns(t, ns);
		pids[i].vtgid = task_tgid_nr_ns(t, ns);
		pids[i].vppid = same_thread_group(t, ctx->root_task) ? 0 :
				task_ppid_nr_ns(t, ns);
		pids[i].vsid = task_session_nr_ns(t, ns);
		pids[i].vpgid = task_pgrp_nr_ns(t, ns);
		pids[i].depth = pid->level - ns->level;
		/* Outermost first; the last is its pid in its own namespace. */
		for (l = ns->level + 1; l <= pid->level; l++)
			*vpids++ = pid->numbers[l].nr;
	}
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_write_tail(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_tail h = {
		.h.type = CKPT_HDR_TAIL,
		.h.len = sizeof(h),
		.magic = CKPT_MAGIC_TAIL,
	};

	return ckpt_write(ctx, &h, sizeof(h));
}

/* The first error, as an ERROR record at the end of the image. */
static void kcr_write_error(struct ckpt_ctx *ctx, int err)
{
	struct ckpt_hdr_error *h;
	size_t len;

	/* An errno that no one explained (-ENOMEM, ...) gets a message too. */
	if (!ctx->err)
		ckpt_err(ctx, err, "checkpoint failed");
	len = ctx->err_msg ? strlen(ctx->err_msg) + 1 : 1;
	h = ckpt_hdr_get_type(ctx, sizeof(*h) + len, CKPT_HDR_ERROR);
	if (!h)
		return;
	h->err = ctx->err;
	h->pid = ctx->err_pid;
	h->pos = ctx->err_pos;
	h->msg_len = len;
	if (ctx->err_msg)
		memcpy(h + 1, ctx->err_msg, len);
	ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
}

static int kcr_write_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task *h;
	char comm[TASK_COMM_LEN];
	int ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_TASK);
	if (!h)
		return -ENOMEM;
	h->state = READ_ONCE(t->__state);
	h->exit_state = t->exit_state;
	h->exit_code = t->exit_code;
	h->exit_signal = t->exit_signal;
	h->pdeath_signal = t->pdeath_signal;
	h->personality = t->personality;
	if (task_no_new_privs(t))
		h->flags |= CKPT_TASK_NO_NEW_PRIVS;
	if (t->signal->is_child_subreaper)
		h->flags |= CKPT_TASK_CHILD_SUBREAPER;
	if (thread_group_leader(t))
		h->flags |= CKPT_TASK_THREAD_LEADER;
	h->policy = t->policy;
	h->nice = task_nice(t);
	h->rt_priority = t->rt_priority;
	h->set_child_tid = (unsigned long)t->set_child_tid;
	h->clear_child_tid = (unsigned long)t->clear_child_tid;
#ifdef CONFIG_FUTEX
	/*
	 * set_robust_list() accepts only len == sizeof(*head) and does not
	 * keep it: a registered list has that length.
	 */
	h->robust_list = (unsigned long)t->robust_list;
	if (t->robust_list)
		h->robust_list_len = sizeof(struct robust_list_head);
#endif
	h->timer_slack_ns = t->timer_slack_ns;
	get_task_comm(comm, t);
	memcpy(h->comm, comm, sizeof(h->comm));
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_write_task_objs(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task_objs *h;
	int files_ref = 0, fs_ref = 0, mm_ref = 0;
	int sighand_ref = 0, signal_ref = 0;
	int ret;

	ret = checkpoint_files(ctx, t, &files_ref);
	if (!ret)
		ret = checkpoint_fs(ctx, t, &fs_ref);
	if (!ret)
		ret = checkpoint_mm(ctx, t, &mm_ref);
	if (!ret)
		ret = checkpoint_sighand(ctx, t, &sighand_ref);
	if (!ret)
		ret = checkpoint_signal(ctx, t, &signal_ref);
	if (ret)
		return ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_TASK_OBJS);
	if (!h)
		return -ENOMEM;
	h->files_ref = files_ref;
	h->fs_ref = fs_ref;
	h->mm_ref = mm_ref;
	h->sighand_ref = sighand_ref;
	h->signal_ref = signal_ref;
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * The registers are read from t's kernel stack (pt_regs), which a task
 * reference does not keep: a target killed during its checkpoint frees
 * it once dead, and it may already serve another task. Pin it while the
 * thread state is read, as stack unwinders of other tasks do.
 */
static int kcr_pin_stack(struct ckpt_ctx *ctx, struct task_struct *t)
{
	if (t == current || try_get_task_stack(t))
		return 0;
	return ckpt_err(ctx, -ESRCH, "task exited during checkpoint");
}

static void kcr_unpin_stack(struct task_struct *t)
{
#ifdef CONFIG_THREAD_INFO_IN_TASK
	/* Without it the stack lives as long as the task_struct. */
	if (t != current)
		kcr_put_task_stack(t);
#endif
}

int checkpoint_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct task_struct *prev = ctx->tsk;
	int ret;

	ctx->tsk = t;
	if (kcr_zombie(t)) {
		ret = kcr_write_task(ctx, t);
		goto out;
	}
	/* seccomp branch: refused state, before the task's first record */
	ret = checkpoint_unsupported(ctx, t);
	if (!ret)
		ret = kcr_write_task(ctx, t);
	if (!ret)
		ret = checkpoint_creds(ctx, t);
	if (!ret)
		ret = checkpoint_task_ns(ctx, t);
	if (!ret)
		ret = kcr_write_task_objs(ctx, t);
	if (!ret)
		ret = checkpoint_signal_task(ctx, t);
	if (!ret)
		ret = kcr_pin_stack(ctx, t);
	if (!ret) {
		ret = checkpoint_restart_block(ctx, t);
		if (!ret)
			ret = checkpoint_thread(ctx, t);
		if (!ret)
			ret = kcr_arch_checkpoint_cpu(ctx, t);
		kcr_unpin_stack(t);
	}
	/* seccomp branch: restored last, after the creds are committed */
	if (!ret && thread_group_leader(t))
		ret = checkpoint_posix_timers(ctx, t);	/* the process's */
	if (!ret)
		ret = checkpoint_seccomp(ctx, t);
	/*
	 * A task thawed behind our back may have changed while we wrote it:
	 * the image would be inconsistent.
	 */
	if (!ret && t != current && !kcr_task_frozen(t))
		ret = ckpt_err(ctx, -EBUSY, "task thawed during checkpoint");
out:
	ctx->tsk = prev;
	return ret;
}

/*
 * Task i under hold: its records, then its counts. The records of a
 * process are read only while its exec_update_lock is held and after its
 * access check, made again (it may have exec'd since the first pass had
 * it frozen: then it ran, and its counts say so as well).
 */
static int kcr_checkpoint_held(struct ckpt_ctx *ctx, int i)
{
	struct kcr_hold hold = { };
	int ret;

	ret = kcr_take_hold(ctx, i, &hold, true);
	if (!ret)
		ret = checkpoint_task(ctx, ctx->tasks[i]);
	if (!ret)
		ret = kcr_still_check(ctx, i);
	kcr_hold_release(&hold);
	return ret;
}

/*
 * Before the first record: the caller may checkpoint every task, and
 * each is frozen (its counts are taken here); the tree record names
 * them all.
 */
static int kcr_check_access(struct ckpt_ctx *ctx)
{
	int i, ret = 0;

	for (i = 0; !ret && i < ctx->nr_tasks; i++) {
		struct kcr_hold hold = { };

		ret = kcr_take_hold(ctx, i, &hold, false);
		kcr_hold_release(&hold);
	}
	ctx->tsk = ctx->root_task;
	return ret;
}

static int kcr_do_checkpoint(struct ckpt_ctx *ctx)
{
	int i, ret;

	ret = kcr_check_access(ctx);
	/*
	 * freezer.c: the root's cgroups read CHECKPOINTING until _end(),
	 * once the caller is known to be allowed to checkpoint the tree.
	 */
	if (!ret)
		ret = kcr_freezer_checkpoint_begin(ctx, ctx->root_task);
	if (!ret)
		ret = kcr_write_header(ctx);
	if (!ret)
		ret = kcr_write_header_arch(ctx);
	if (!ret)
		ret = kcr_write_container(ctx);
	if (!ret)
		ret = kcr_write_tree(ctx);
	for (i = 0; !ret && i < ctx->nr_tasks; i++)
		ret = kcr_checkpoint_held(ctx, i);
	if (!ret)
		ret = kcr_check_leaks(ctx);	/* container mode only */
	/*
	 * Before the tail (a refused image ends with the ERROR record): no
	 * task ran while the others were written.
	 */
	for (i = 0; !ret && i < ctx->nr_tasks; i++)
		ret = kcr_still_check(ctx, i);
	if (!ret)
		ret = kcr_write_tail(ctx);
	return ret;
}

long kcr_ioctl_checkpoint(struct file *dev, void __user *uarg)
{
	struct ckpt_ioc_checkpoint args;
	struct ckpt_ctx *ctx;
	long ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.__pad || (args.flags & ~(u64)CHECKPOINT_USER_FLAGS))
		return -EINVAL;
	if (!READ_ONCE(kcr_unpriv_allowed) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	ctx = ckpt_ctx_alloc(CKPT_CTX_CHECKPOINT, args.fd, args.flags,
			     args.logfd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);

	ret = ckpt_lock_image_pos(ctx);
	if (ret) {
		ckpt_ctx_free(ctx);
		return ret;
	}
	ret = kcr_get_root(ctx, args.pid);
	/* Without soft-dirty bits, nothing tells which pages are clean. */
	if (!ret && (args.flags & CHECKPOINT_DIRTY_ONLY) &&
	    !IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "CHECKPOINT_DIRTY_ONLY needs a kernel with CONFIG_MEM_SOFT_DIRTY");
	if (!ret)
		ret = kcr_collect_tasks(ctx);
	if (!ret)
		ret = kcr_do_checkpoint(ctx);
	/* freezer.c: every exit path after kcr_get_root() passes here. */
	kcr_freezer_checkpoint_end(ctx);
	if (ret)
		kcr_write_error(ctx, ret);
	else
		ret = ctx->id;
	ckpt_unlock_image_pos(ctx);
	ckpt_ctx_free(ctx);
	return ret;
}
