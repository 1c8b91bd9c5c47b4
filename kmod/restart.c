// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: CKPT_IOC_RESTART, linux-cr's sys_restart().
 *
 * The image is read in the order checkpoint.c wrote it:
 *	HEADER HEADER_ARCH CONTAINER TREE (per task: TASK ...) TAIL
 * The caller reads the header records and the tree. In coordinator mode
 * (the default) it then creates the task with kernel_clone() and the
 * image's pid (set_tid: the kernel's own checkpoint_restore_ns_capable()
 * check applies); the new task restores itself in kcr_restart_child()
 * from its records, while the caller waits, then the caller reads the
 * TAIL and only then lets the task go to user mode. With
 * RESTART_TASKSELF the caller restores itself in place.
 *
 * A task goes back to user mode only whole: its registers are loaded
 * from a task_work on the way out, after every record was read and the
 * tail checked. A failure before that kills the task (SIGKILL: it dies
 * before running a user instruction) and, in coordinator mode, the
 * caller reaps it, so nothing half restored survives a bad image. The
 * caller gets the errno and logfd the reason.
 *
 * For now the image must hold a single process; trees come with the
 * CHECKPOINTING freezer state.
 */
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/futex.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swab.h>
#include <linux/task_work.h>
#include <linux/termios.h>
#include <linux/tty.h>
#include <linux/uaccess.h>
#include <linux/un.h>
#include <linux/utsname.h>
#include <linux/wait.h>
#include <uapi/linux/sched/types.h>
#include <uapi/linux/wait.h>

#include "kcr.h"
#include "ksyms.h"
#include "restart.h"

void kcr_restart_put(struct kcr_restart *r)
{
	struct file *dev = r->dev;
	unsigned int i;

	if (!refcount_dec_and_test(&r->users))
		return;
	for (i = 0; i < r->nr_tasks; i++) {
		kvfree(r->tasks[i].cpu);
		put_pid(r->tasks[i].spid);
		if (r->tasks[i].task)
			put_task_struct(r->tasks[i].task);
	}
	kvfree(r->vpids);
	kvfree(r->order);
	if (r->freeze)
		fput(r->freeze);
	kvfree(r->tasks);
	ckpt_ctx_free(r->ctx);
	kfree(r);
	/* Last: the module's code may be done with. */
	fput(dev);
}

void kcr_restart_abort(struct kcr_restart *r)
{
	unsigned int i;

	spin_lock_irq(&r->wq.lock);
	if (r->verdict == KCR_VERDICT_PENDING)
		r->verdict = KCR_VERDICT_ABORT;
	wake_up_all_locked(&r->wq);
	spin_unlock_irq(&r->wq.lock);
	for (i = 0; i < r->nr_tasks; i++)
		wake_up_all(&r->tasks[i].turn_wq);
}

/* Report on rt (done or loaded) to whoever waits on r->wq. */
static void kcr_rtask_report(struct kcr_rtask *rt, bool *what, int err)
{
	struct kcr_restart *r = rt->r;

	spin_lock_irq(&r->wq.lock);
	if (!*what) {
		if (!rt->err)
			rt->err = err;
		/*
		 * Release: whoever sees the report sees what came before
		 * it (err, and a zombie's or ghost's rt->task).
		 */
		smp_store_release(what, true);
	}
	wake_up_all_locked(&r->wq);
	spin_unlock_irq(&r->wq.lock);
}

/* Object definitions, by CKPT_OBJ_* type. */
static int (*const kcr_obj_restore[])(struct ckpt_ctx *ctx,
				       struct task_struct *t, int objref) = {
	[CKPT_OBJ_FILE_TABLE]	= restore_obj_file_table,
	[CKPT_OBJ_FILE]		= restore_obj_file,
	[CKPT_OBJ_MM]		= restore_obj_mm,
	[CKPT_OBJ_FS]		= restore_obj_fs,
	[CKPT_OBJ_SIGHAND]	= restore_obj_sighand,
	[CKPT_OBJ_SIGNAL]	= restore_obj_signal,
	[CKPT_OBJ_NS]		= restore_obj_ns,
	[CKPT_OBJ_UTS_NS]	= restore_obj_uts_ns,
	[CKPT_OBJ_IPC_NS]	= restore_obj_ipc_ns,
	[CKPT_OBJ_USER_NS]	= restore_obj_user_ns,
	[CKPT_OBJ_CRED]		= restore_obj_cred,
	[CKPT_OBJ_USER]		= restore_obj_user,
	[CKPT_OBJ_GROUPINFO]	= restore_obj_groupinfo,
};

/*
 * ctx.c calls this for a definition that the grammar allows, read by
 * the task being restored, t (ctx->restore_task, current), which the
 * object is then restored into.
 */
int restore_obj(struct ckpt_ctx *ctx, struct task_struct *t, u32 objtype,
		int objref)
{
	if (objtype >= ARRAY_SIZE(kcr_obj_restore) ||
	    !kcr_obj_restore[objtype])
		return ckpt_err(ctx, -EINVAL,
				"objref %d: object type %u cannot be restored",
				objref, objtype);
	if (!t || t != current || t != ctx->restore_task)
		return ckpt_err(ctx, -EINVAL,
				"objref %d: not read by the task being restored",
				objref);
	/* Before the first change, not after it: see kcr_restart_self(). */
	if (kcr_obj_changes_task(objtype))
		ctx->restore_changed = true;
	return kcr_obj_restore[objtype](ctx, t, objref);
}

/* What current has of each kind of TASK_OBJS object. */
static void *kcr_task_obj(u32 objtype)
{
	switch (objtype) {
	case CKPT_OBJ_FILE_TABLE:
		return current->files;
	case CKPT_OBJ_FS:
		return current->fs;
	case CKPT_OBJ_MM:
		return current->mm;
	case CKPT_OBJ_SIGHAND:
		return current->sighand;
	case CKPT_OBJ_SIGNAL:
		return current->signal;
	}
	return NULL;
}

/*
 * TASK_OBJS: the objects were applied to current when defined, or came
 * with the task (a thread shares its leader's): each reference must name
 * what current has. An object that current did not get that way is one
 * shared with another process (CLONE_FILES, CLONE_VM, ... without
 * CLONE_THREAD), which the tree's creation does not make.
 */
static int kcr_restore_task_objs(struct ckpt_ctx *ctx)
{
	static const struct {
		size_t off;
		u32 objtype;
	} refs[] = {
		{ offsetof(struct ckpt_hdr_task_objs, files_ref),
		  CKPT_OBJ_FILE_TABLE },
		{ offsetof(struct ckpt_hdr_task_objs, fs_ref), CKPT_OBJ_FS },
		{ offsetof(struct ckpt_hdr_task_objs, mm_ref), CKPT_OBJ_MM },
		{ offsetof(struct ckpt_hdr_task_objs, sighand_ref),
		  CKPT_OBJ_SIGHAND },
		{ offsetof(struct ckpt_hdr_task_objs, signal_ref),
		  CKPT_OBJ_SIGNAL },
	};
	struct ckpt_hdr_task_objs *h;
	unsigned int i;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TASK_OBJS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	for (i = 0; i < ARRAY_SIZE(refs) && !ret; i++) {
		s32 ref = *(s32 *)((char *)h + refs[i].off);
		void *obj = ckpt_obj_fetch(ctx, ref, refs[i].objtype);

		if (IS_ERR(obj))
			ret = PTR_ERR(obj);
		else if (obj != kcr_task_obj(refs[i].objtype))
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "objref %d: shared with another process, not a thread of this one (CLONE_VM, CLONE_FILES, CLONE_FS or CLONE_SIGHAND without CLONE_THREAD): not supported yet",
				       ref);
	}
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * In coordinator mode the restarter is the parent that gets the task's
 * exit signal. clone() lets a parent choose any, but here the image
 * chooses, for a restarter that did not ask: only the signals whose
 * default action is to be ignored (and none) cannot hurt it. SIGUSR1
 * ends a shell; real-time signals end any program that does not handle
 * them, a Go program for the glibc-reserved 32 and 33 (the restart
 * fuzzer killed its own test binary so).
 */
static bool kcr_exit_signal_ok(int sig)
{
	return sig == 0 || sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH;
}

static int kcr_check_task(struct ckpt_ctx *ctx, struct kcr_rtask *rt,
			  struct ckpt_hdr_task *h)
{
	/* Garbage first (EINVAL), then what is valid but not supported. */
	if (h->flags & ~(u32)(CKPT_TASK_NO_NEW_PRIVS |
			      CKPT_TASK_CHILD_SUBREAPER |
			      CKPT_TASK_THREAD_LEADER))
		return ckpt_err(ctx, -EINVAL, "task record: flags %#x",
				h->flags);
	if (h->exit_state && (h->exit_state != EXIT_ZOMBIE ||
			      rt->parent < 0 || rt->leader >= 0))
		return ckpt_err(ctx, -EINVAL,
				"task record: exit state %#x for %s",
				h->exit_state, rt->parent == -1 ? "the root" :
				rt->leader >= 0 ? "a thread" : "a process");
	/* A wait status: exit status << 8, or a signal number (| 0x80). */
	if (h->exit_state &&
	    ((h->exit_code & 0x7f) ? h->exit_code & ~0xff ||
	     !valid_signal(h->exit_code & 0x7f) : h->exit_code & ~0xff00))
		return ckpt_err(ctx, -EINVAL, "task record: exit code %#x",
				h->exit_code);
	if (!(h->flags & CKPT_TASK_THREAD_LEADER) != (rt->leader >= 0))
		return ckpt_err(ctx, -EINVAL,
				"task record: thread-group leader flag %d for a %s",
				!!(h->flags & CKPT_TASK_THREAD_LEADER),
				rt->leader >= 0 ? "thread" : "process");
	/* A thread has none (-1): its group's leader signals the parent. */
	if (rt->leader >= 0 ? h->exit_signal != -1 :
	    h->exit_signal < 0 || !valid_signal(h->exit_signal))
		return ckpt_err(ctx, -EINVAL, "task record: exit signal %d",
				h->exit_signal);
	/* The root's parent is the restarter; the others', restored. */
	if (!(ctx->uflags & RESTART_TASKSELF) && rt->parent == -1 &&
	    !kcr_exit_signal_ok(h->exit_signal))
		return ckpt_err(ctx, -EPERM,
				"task record: exit signal %d would be sent to the restarter (only SIGCHLD, none, SIGURG and SIGWINCH are)",
				h->exit_signal);
	if (h->pdeath_signal < 0 || !valid_signal(h->pdeath_signal))
		return ckpt_err(ctx, -EINVAL,
				"task record: parent-death signal %d",
				h->pdeath_signal);
	/* 4 is unused; deadline parameters are not in the image. */
	if (h->policy >= SCHED_DEADLINE || h->policy == 4)
		return ckpt_err(ctx, -EINVAL, "task record: policy %u",
				h->policy);
	if (h->nice < MIN_NICE || h->nice > MAX_NICE)
		return ckpt_err(ctx, -EINVAL, "task record: nice %d",
				h->nice);
#ifdef CONFIG_FUTEX
	if (h->robust_list &&
	    h->robust_list_len != sizeof(struct robust_list_head))
		return ckpt_err(ctx, -EINVAL,
				"task record: robust list length %llu",
				h->robust_list_len);
#endif
	if (h->set_child_tid >= KCR_USER_END ||
	    h->clear_child_tid >= KCR_USER_END ||
	    h->robust_list >= KCR_USER_END)
		return ckpt_err(ctx, -EINVAL,
				"task record: a tid or robust-list address beyond the user address space");
	if (!h->timer_slack_ns)
		return ckpt_err(ctx, -EINVAL, "task record: timer slack 0");
	return 0;
}

/*
 * The TASK record's fields, applied last: scheduling through
 * sched_setattr() (the kernel's checks: a better nice or a real-time
 * policy needs CAP_SYS_NICE or RLIMIT_NICE/RTPRIO room), the rest as the
 * prctl()s and set_*_tid() system calls would set them for the task.
 */
static int kcr_apply_task(struct ckpt_ctx *ctx, struct ckpt_hdr_task *h)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = h->policy,
		.sched_nice = h->nice,
		.sched_priority = h->rt_priority,
	};
	char comm[TASK_COMM_LEN];
	int ret;

	ret = kcr_sched_setattr(current, &attr);
	if (ret)
		return ckpt_err(ctx, ret,
				"scheduling policy %u nice %d priority %u",
				h->policy, h->nice, h->rt_priority);

	/*
	 * The signal the parent gets when the task exits is the parent's
	 * choice, made when it created the task: the coordinator creates
	 * it for the image (clone3()'s rule, valid_signal(), was checked),
	 * while a RESTART_TASKSELF caller keeps what its own parent chose.
	 */
	if (!(ctx->uflags & RESTART_TASKSELF) && h->exit_signal >= 0)
		WRITE_ONCE(current->exit_signal, h->exit_signal);
	current->personality = h->personality;
	/* No new privileges cannot be cleared, as with prctl(). */
	if (h->flags & CKPT_TASK_NO_NEW_PRIVS)
		task_set_no_new_privs(current);
	current->set_child_tid = u64_to_user_ptr(h->set_child_tid);
	current->clear_child_tid = u64_to_user_ptr(h->clear_child_tid);
#ifdef CONFIG_FUTEX
	current->robust_list = u64_to_user_ptr(h->robust_list);
#endif
	current->timer_slack_ns = h->timer_slack_ns;
	memcpy(comm, h->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';
	kcr___set_task_comm(current, comm, false);
	return 0;
}

/* Commit the credentials that restore_creds() prepared. */
static void kcr_commit_creds(struct ckpt_ctx *ctx)
{
	struct cred *cred = ctx->restore_cred;

	ctx->restore_cred = NULL;
	if (ctx->restore_ecred) {
		put_cred(ctx->restore_ecred);
		ctx->restore_ecred = NULL;
	}
	if (cred)
		commit_creds(cred);
}

static void kcr_drop_creds(struct ckpt_ctx *ctx)
{
	if (ctx->restore_cred)
		put_cred(ctx->restore_cred);
	if (ctx->restore_ecred)
		put_cred(ctx->restore_ecred);
	ctx->restore_cred = NULL;
	ctx->restore_ecred = NULL;
}

/*
 * Read and apply the records of one task into t, which is current; on
 * success rt->cpu holds the registers to load.
 */
static int kcr_restore_task(struct ckpt_ctx *ctx, struct kcr_rtask *rt,
			    struct task_struct *t)
{
	char comm[TASK_COMM_LEN];
	struct ckpt_hdr_task *h;
	void *cpu;
	int ret;

	/* What restore_signal_finish() applies is each task's own. */
	ctx->restore_itimers_set = false;
	ctx->restore_blocked_set = false;
	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TASK);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = kcr_check_task(ctx, rt, h);
	/* Its ghost's exit would hand it to its parent with a SIGCHLD. */
	if (!ret && h->exit_state && rt->creator != rt->parent)
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "zombie %d: its session's leader has exited: not supported",
			       rt->pids.vpid);
	rt->exit_signal = h->exit_signal;
	rt->pdeath_signal = h->pdeath_signal;
	if (!ret && h->exit_state) {
		/* Its name for ps; it ends in kcr_restart_child(). */
		memcpy(comm, h->comm, sizeof(comm));
		comm[sizeof(comm) - 1] = '\0';
		kcr___set_task_comm(t, comm, false);
		rt->zombie = true;
		rt->exit_code = h->exit_code;
		goto out;
	}
	if (!ret)
		ret = restore_creds(ctx, t);
	if (!ret)
		ret = restore_task_ns(ctx, t);
	if (ret)
		goto out;

	/* From here on current changes. */
	ctx->restore_changed = true;
	restore_task_ns_commit(ctx, t);	/* ns: what restore_task_ns() prepared */
	/*
	 * Before its children exist: fork() gives them has_child_subreaper
	 * from it, which their orphans' reparenting looks for.
	 */
	if (h->flags & CKPT_TASK_CHILD_SUBREAPER)
		t->signal->is_child_subreaper = 1;
	/* In the task's namespaces, before it is anything else of its own. */
	ret = kcr_create_children(ctx, rt);
	if (!ret)
		ret = kcr_restore_task_objs(ctx);
	/*
	 * The threads share what was just restored; their credentials,
	 * signal state, registers and seccomp filters are their own.
	 */
	if (!ret)
		ret = kcr_create_threads(ctx, rt);
	if (!ret)
		ret = restore_signal_task(ctx, t);
	if (!ret)
		ret = restore_restart_block(ctx, t);
	if (!ret)
		ret = restore_thread(ctx, t);
	if (ret)
		goto out;
	cpu = kcr_arch_restore_cpu(ctx);
	if (IS_ERR(cpu)) {
		ret = PTR_ERR(cpu);
		goto out;
	}
	rt->cpu = cpu;
	ret = kcr_apply_task(ctx, h);
	if (!ret) {
		kcr_commit_creds(ctx);
		/*
		 * commit_creds() clears these when the ids change, as for a
		 * setuid program: the image's values go on top. A tree's
		 * tasks get their parent death signal at the go, once the
		 * ghosts, whose exit would send it, are gone.
		 */
		if (ctx->uflags & RESTART_TASKSELF)
			t->pdeath_signal = h->pdeath_signal;
		if (ctx->restore_dumpable >= 0 && t->mm)
			set_mask_bits(&t->mm->flags, MMF_DUMPABLE_MASK,
				      ctx->restore_dumpable);
		/* seccomp branch: last, with the image's creds; filters last */
		if (rt->leader < 0)
			ret = restore_posix_timers(ctx, t);	/* the process's */
		if (!ret)
			ret = restore_seccomp(ctx, t);
	}
out:
	kcr_drop_creds(ctx);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * The task_work that ends a restart: the last thing the task does in the
 * kernel before signals are handled and it returns to user mode.
 */
static void kcr_restart_load(struct callback_head *work)
{
	struct kcr_rtask *rt = container_of(work, struct kcr_rtask, work);
	struct kcr_restart *r = rt->r;
	int ret = -EINTR;

	/* At exit (killed meanwhile) task works run too: load nothing. */
	if (!(current->flags & PF_EXITING) && !fatal_signal_pending(current))
		ret = kcr_arch_load_cpu(rt->cpu);
	kvfree(rt->cpu);
	rt->cpu = NULL;
	if (ret)
		force_sig(SIGKILL);
	kcr_rtask_report(rt, &rt->loaded, ret);
	kcr_restart_put(r);
}

/*
 * Arm the register load. TIF_SIGPENDING makes the way out go through
 * the arch's signal code after the task_work, which then delivers the
 * restored pending signals, or applies the restart of an interrupted
 * system call (-ERESTART* in the restored registers) when there is none.
 * The work owns the task's reference on r.
 */
static int kcr_restart_arm(struct kcr_rtask *rt)
{
	int ret;

	init_task_work(&rt->work, kcr_restart_load);
	ret = task_work_add(current, &rt->work, TWA_SIGNAL);
	if (ret)
		return ret;
	set_tsk_thread_flag(current, TIF_SIGPENDING);
	return 0;
}

/* Its turn, or the end of the restart. */
static int kcr_wait_turn(struct kcr_rtask *rt)
{
	struct kcr_restart *r = rt->r;

	if (wait_event_killable(rt->turn_wq, READ_ONCE(r->turn) == rt->idx ||
				READ_ONCE(r->verdict) != KCR_VERDICT_PENDING))
		return -EINTR;
	return READ_ONCE(r->verdict) == KCR_VERDICT_PENDING ? 0 : -EINTR;
}

/*
 * A zombie of the image exits as it did, in its turn, and a ghost once
 * released: with no exit signal, so that the parent, restored before it,
 * gets no SIGCHLD that the image does not hold. For a zombie the
 * coordinator then sets the image's exit signal once it is one
 * (kcr_zombie_signal()), before its parent can run and wait() for it,
 * which the exit signal decides (__WCLONE); a ghost's creator reaps it.
 */
static void __noreturn kcr_restart_exit(struct kcr_rtask *rt, long code)
{
	get_task_struct(current);
	rt->task = current;	/* for the coordinator's kcr_wait_exited() */
	WRITE_ONCE(current->exit_signal, 0);
	kcr_rtask_report(rt, &rt->loaded, 0);
	kcr_rtask_report(rt, &rt->done, 0);	/* a ghost has reported it */
	kcr_restart_put(rt->r);
	kcr_do_exit(code);
	unreachable();	/* do_exit() is __noreturn; the pointer cannot say so */
}

/*
 * A ghost's turn, after its setsid() or setpgid(): it creates what it
 * stands for (a session's orphans), then waits until the coordinator
 * releases it, once every task has had its turn, and exits. Returns
 * only if the restart fails meanwhile.
 */
static void kcr_restart_ghost(struct kcr_rtask *rt)
{
	struct kcr_restart *r = rt->r;
	struct ckpt_ctx *ctx = r->ctx;
	int ret;

	ret = kcr_create_children(ctx, rt);
	ctx->restore_task = NULL;
	ctx->tsk = NULL;
	kcr_rtask_report(rt, &rt->done, ret);
	if (ret)
		return;
	if (wait_event_killable(rt->turn_wq, READ_ONCE(rt->released) ||
				READ_ONCE(r->verdict) != KCR_VERDICT_PENDING) ||
	    !READ_ONCE(rt->released))
		return;
	/* A session's ghost has created group ghosts: gone already. */
	kcr_reap_ghosts(rt);
	kcr_restart_exit(rt, 0);
}

/* A task of the tree: restore, wait for the tail's verdict, go. */
int kcr_restart_child(void *arg)
{
	struct kcr_rtask *rt = arg;
	struct kcr_restart *r = rt->r;
	struct ckpt_ctx *ctx = r->ctx;
	struct task_struct *t = current;
	int ret;

	/*
	 * A copy of its creator's descriptors, which are none of the
	 * image's business: the task would keep pipes and sockets of the
	 * restarter open for as long as its records take to arrive.
	 */
	if (rt->leader < 0)
		kcr_close_all_fds();	/* a thread's are its leader's */
	ret = kcr_wait_turn(rt);
	if (ret)
		goto die;
	ctx->tsk = t;
	ctx->restore_task = t;
	/* Its pid in its own namespace: the innermost of the image's. */
	if (!(ctx->uflags & RESTART_NO_PIDS) &&
	    task_pid_vnr(t) != (rt->pids.depth ?
				rt->vpids[rt->pids.depth - 1] : rt->pids.vpid))
		ret = ckpt_err(ctx, -EBUSY, "got pid %d instead of %d",
			       task_pid_vnr(t), rt->pids.vpid);
	if (!ret && rt->leader < 0)
		ret = kcr_restore_pgrp(ctx, rt);
	if (!ret && rt->ghost) {
		kcr_restart_ghost(rt);	/* returns on failure only */
		ret = -EINTR;
		goto die;
	}
	if (!ret)
		ret = kcr_restore_task(ctx, rt, t);
	/* After the last record: timers and mask would interrupt reads. */
	if (!ret)
		ret = restore_signal_finish(ctx, t);
	ctx->restore_task = NULL;
	ctx->tsk = NULL;
	if (!ret && rt->zombie)
		kcr_restart_exit(rt, rt->exit_code);
	kcr_rtask_report(rt, &rt->done, ret);
	if (ret)
		goto die;

	/*
	 * Killable: the coordinator may wait long for a stalled tail. On
	 * the task's own queue, not r->wq: every report wakes r->wq, and
	 * N tasks waiting there would make N reports cost N^2 wakeups.
	 */
	if (wait_event_killable(rt->turn_wq, READ_ONCE(r->verdict) !=
					     KCR_VERDICT_PENDING) ||
	    READ_ONCE(r->verdict) != KCR_VERDICT_GO)
		goto die;
	/* The ghosts have exited (kcr_release_ghosts()) and are reaped. */
	kcr_reap_ghosts(rt);
	t->pdeath_signal = rt->pdeath_signal;
	ret = kcr_restart_arm(rt);
	if (!ret)
		return 0;
die:
	/*
	 * Nothing of it may run in user mode. Whoever waits for it learns
	 * that it is gone; the restart ends for the others too, and the
	 * children it made are reaped before it goes (they end as well),
	 * so that no task of a failed restart outlives it.
	 */
	kcr_rtask_report(rt, &rt->done, ret ?: -EINTR);
	kcr_restart_abort(r);
	kcr_reap_children(rt);
	force_sig(SIGKILL);
	kcr_rtask_report(rt, &rt->loaded, ret ?: -EINTR);
	kcr_restart_put(r);
	return 0;
}

/*
 * The image's kernel constants against this kernel's: the sizes its
 * records were written with. at_vector_size is not among them: it grew in
 * 6.3 (AT_RSEQ_*), and the MM record gives the length of its own auxv,
 * which is checked against this kernel's room.
 */
static int kcr_check_constants(struct ckpt_ctx *ctx, const struct ckpt_const *c)
{
	const struct {
		const char *name;
		u32 image, here;
	} k[] = {
		{ "TASK_COMM_LEN", c->task_comm_len, TASK_COMM_LEN },
		{ "the utsname length", c->uts_len, __NEW_UTS_LEN + 1 },
		{ "_NSIG", c->signal_nsig, _NSIG },
		{ "RLIM_NLIMITS", c->rlimit_nlimits, RLIM_NLIMITS },
		{ "the page size", c->page_size, PAGE_SIZE },
		{ "UNIX_PATH_MAX", c->sun_path_len, UNIX_PATH_MAX },
		{ "NCCS", c->tty_ncc, NCCS },
		{ "N_TTY_BUF_SIZE", c->n_tty_buf_size, N_TTY_BUF_SIZE },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(k); i++)
		if (k[i].image != k[i].here)
			return ckpt_err(ctx, -EINVAL,
					"the image's kernel has %s %u, this one %u",
					k[i].name, k[i].image, k[i].here);
	if (c->__pad)
		return ckpt_err(ctx, -EINVAL, "header constants: padding %#x",
				c->__pad);
	return 0;
}

static int kcr_read_header(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header *h;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_HEADER);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ctx->header = h;
	if (h->magic == swab64(CKPT_MAGIC_HEAD))
		return ckpt_err(ctx, -EINVAL,
				"the image is of the other byte order");
	if (h->magic != CKPT_MAGIC_HEAD)
		return ckpt_err(ctx, -EINVAL, "not a kcr image (magic %#llx)",
				h->magic);
	if (h->version < CKPT_IMAGE_VERSION_OLDEST ||
	    h->version > CKPT_IMAGE_VERSION)
		return ckpt_err(ctx, -EINVAL,
				"image format version %u, this kcr.ko reads %u to %u",
				h->version, CKPT_IMAGE_VERSION_OLDEST,
				CKPT_IMAGE_VERSION);
	if (h->arch_id != CKPT_ARCH_ID)
		return ckpt_err(ctx, -EINVAL,
				"image of architecture %u, this is %u",
				h->arch_id, CKPT_ARCH_ID);
	ret = kcr_check_constants(ctx, &h->constants);
	if (ret)
		return ret;
	if (h->uflags & ~(u64)CHECKPOINT_USER_FLAGS)
		return ckpt_err(ctx, -EINVAL, "image flags %#llx", h->uflags);
	/* Its clean pages are only addresses: the data is elsewhere. */
	if (h->uflags & CHECKPOINT_DIRTY_ONLY)
		return ckpt_err(ctx, -EINVAL,
				"image of the last step of a pre-copy (CHECKPOINT_DIRTY_ONLY): it lacks the pages copied before, merge them in first");
	return 0;
}

static int kcr_read_header_arch(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header_arch *h;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_HEADER_ARCH);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->arch_id != CKPT_ARCH_ID)
		ret = ckpt_err(ctx, -EINVAL,
			       "arch header: architecture %u, this is %u",
			       h->arch_id, CKPT_ARCH_ID);
	else
		ret = kcr_arch_restore_header(ctx, h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_read_container(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_container *h;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_CONTAINER);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->flags & ~(u32)(CKPT_CONTAINER_PIDNS_INIT |
			      CKPT_CONTAINER_SUBTREE))
		ret = ckpt_err(ctx, -EINVAL, "container flags %#x", h->flags);
	else if (!(h->flags & CKPT_CONTAINER_SUBTREE) &&
		 !(h->flags & CKPT_CONTAINER_PIDNS_INIT))
		ret = ckpt_err(ctx, -EINVAL,
			       "container flags %#x: a container image's root is a pid namespace's init",
			       h->flags);
	else if (h->lsm_name[0])
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "the image carries LSM labels");
	ctx->restore_container = !(h->flags & CKPT_CONTAINER_SUBTREE);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_read_tail(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_tail *h;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TAIL);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->magic != CKPT_MAGIC_TAIL)
		ret = ckpt_err(ctx, -EINVAL, "tail magic %#llx", h->magic);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_read_prologue(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	int ret;

	ret = kcr_read_header(ctx);
	if (!ret)
		ret = kcr_read_header_arch(ctx);
	if (!ret)
		ret = kcr_read_container(ctx);
	if (!ret)
		ret = kcr_read_tree(ctx, r);
	return ret;
}

/*
 * Block every signal of current that can be blocked, keeping the old mask
 * in saved. Not through a full set: sigprocmask() would block SIGKILL
 * too, and a task that blocks SIGKILL is not woken by it (wants_signal()),
 * which would make the killable waits of a restart unkillable.
 */
static void kcr_block_signals(sigset_t *saved)
{
	sigset_t block;

	sigfillset(&block);
	sigdelsetmask(&block, sigmask(SIGKILL) | sigmask(SIGSTOP));
	sigprocmask(SIG_SETMASK, &block, saved);
}

/*
 * Reap a task that was killed because its restart failed, whatever its
 * exit signal (__WALL: the image may have set one other than SIGCHLD).
 */
void kcr_reap(pid_t pid)
{
	sigset_t saved;

	/*
	 * A pending signal of the caller (SIGCHLD in a Go program) would
	 * interrupt the wait and leave the killed task a zombie: wait with
	 * signals blocked, as around kernel_clone(). SIGKILL still ends the
	 * wait; the zombie then goes to our reaper with the rest of us.
	 */
	kcr_block_signals(&saved);
	kcr_kernel_wait4(pid, NULL, __WALL, NULL);
	sigprocmask(SIG_SETMASK, &saved, NULL);
}

/*
 * Create the task of rt as a child of current, with the image's pid
 * (set_tid: the kernel's own checkpoint_restore_ns_capable() check
 * applies) unless RESTART_NO_PIDS. The child holds a reference on r.
 */
pid_t kcr_create_task(struct ckpt_ctx *ctx, struct kcr_rtask *rt)
{
	pid_t set_tid[KCR_MAX_PID_DEPTH + 1];
	u32 d = rt->pids.depth, l;
	struct kernel_clone_args args = {
		.exit_signal = SIGCHLD,
		.fn = KCR_RESTART_CHILD_FN,
		.fn_arg = rt,
	};
	sigset_t saved;
	pid_t pid;

	/* A thread as pthread_create() makes one. */
	if (rt->leader >= 0) {
		args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			     CLONE_THREAD | CLONE_SYSVSEM;
		args.exit_signal = 0;
	}
	/*
	 * The init of a pid namespace: a new one, made as clone() makes
	 * it (the root, when it was pid 1, or a task one level deeper than
	 * its parent).
	 */
	/* RESTART_FROZEN: the root, and so the tree, in the caller's cgroup. */
	if (rt->parent == -1 && rt->r->freeze) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = rt->r->cgroup;
	}
	if (rt->parent == -1 ? rt->pids.vpid == 1 :
	    rt->parent >= 0 && d > rt->r->tasks[rt->parent].pids.depth)
		args.flags |= CLONE_NEWPID;
	/* clone3()'s order: innermost namespace first, the root's last. */
	for (l = 0; l < d; l++)
		set_tid[l] = rt->vpids[d - 1 - l];
	set_tid[d] = rt->pids.vpid;
	if (!(ctx->uflags & RESTART_NO_PIDS)) {
		args.set_tid = set_tid;
		args.set_tid_size = d + 1;
	} else if (args.flags & CLONE_NEWPID) {
		/* Fresh pids, but an init is pid 1 in its namespace. */
		args.set_tid = set_tid;
		args.set_tid_size = 1;
	}
	refcount_inc(&rt->r->users);
	/*
	 * fork() fails with -ERESTARTNOINTR whenever a signal is pending and
	 * lets the system call start over; this ioctl cannot, having read
	 * the image already. The caller's signals wait until the task exists
	 * instead (all but SIGKILL and SIGSTOP, which cannot be blocked).
	 */
	kcr_block_signals(&saved);
	pid = kcr_kernel_clone(&args);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid >= 0) {
		WRITE_ONCE(rt->pid, pid);
		/* Published whole to kcr_kill_tree() and kcr_pgid_of(). */
		smp_store_release(&rt->spid, find_get_pid(pid));
		return pid;
	}
	refcount_dec(&rt->r->users);
	if (pid == -EEXIST)
		return ckpt_err(ctx, -EBUSY,
				"pid %d is in use (restart with RESTART_NO_PIDS for fresh pids)",
				rt->pids.vpid);
	if (pid == -EPERM && args.set_tid)
		return ckpt_err(ctx, -EPERM,
				"choosing pid %d needs CAP_CHECKPOINT_RESTORE (or RESTART_NO_PIDS)",
				rt->pids.vpid);
	return ckpt_err(ctx, pid, "cannot create the task of pid %d",
			rt->pids.vpid);
}

/*
 * Kill every task made for the restart: the coordinator was killed, or
 * registers failed to load. A task may be anywhere, in a stalled read of
 * the image as well.
 */
static void kcr_kill_tree(struct kcr_restart *r)
{
	unsigned int i;

	/* By struct pid: a task's number is its creator's namespace's. */
	for (i = 0; i < r->nr_tasks; i++) {
		/* Pairs with the release in kcr_create_task(). */
		struct pid *p = smp_load_acquire(&r->tasks[i].spid);

		if (p)
			kill_pid(p, SIGKILL, 1);
	}
}

/* Whether task i has reported, or the restart ended. */
static bool kcr_reported(struct kcr_restart *r, bool *what)
{
	/* Pairs with the release in kcr_rtask_report(). */
	return smp_load_acquire(what) ||
	       READ_ONCE(r->verdict) == KCR_VERDICT_ABORT;
}

/*
 * The coordinator waits for a task, killably. Killed, it ends the
 * restart and leaves without waiting for anyone: every task holds its
 * own reference on r and ends on its own.
 */
static int kcr_wait_report(struct kcr_restart *r, struct kcr_rtask *rt,
			   bool *what)
{
	if (wait_event_killable(r->wq, kcr_reported(r, what))) {
		kcr_restart_abort(r);
		kcr_kill_tree(r);
		return -EINTR;
	}
	/* Pairs with the release in kcr_rtask_report(). */
	if (!smp_load_acquire(what))
		return -EINTR;	/* a task ended the restart; its turn says why */
	return READ_ONCE(rt->err);
}

/*
 * Wait until the task of rt (a zombie or a ghost, which exit right after
 * their report) has exited, its children reparented.
 */
static int kcr_wait_exited(struct kcr_restart *r, struct kcr_rtask *rt)
{
	struct task_struct *t = rt->task;

	while (!READ_ONCE(t->exit_state)) {
		if (schedule_timeout_killable(1)) {
			kcr_restart_abort(r);
			kcr_kill_tree(r);
			return -EINTR;
		}
	}
	return 0;
}

/*
 * Give a restored zombie its exit signal once it is one (it exits right
 * after its report): its parent has not run yet.
 */
static int kcr_zombie_signal(struct kcr_restart *r, struct kcr_rtask *rt)
{
	int ret = kcr_wait_exited(r, rt);

	if (!ret)
		WRITE_ONCE(rt->task->exit_signal, rt->exit_signal);
	return ret;
}

/*
 * Once every task has had its turn, the ghosts exit, the last made
 * first (a session's ghost reaps the group ghosts it made); their
 * orphans must then be where the image has them.
 */
static int kcr_release_ghosts(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	unsigned int i;
	int ret = 0;

	for (i = r->nr_tasks; !ret && i-- > r->nr_image;) {
		struct kcr_rtask *g = &r->tasks[i];

		WRITE_ONCE(g->released, true);
		wake_up_all(&g->turn_wq);
		ret = kcr_wait_report(r, g, &g->loaded);
		if (!ret)
			ret = kcr_wait_exited(r, g);
	}
	if (!ret && r->nr_tasks > r->nr_image)
		ret = kcr_check_reparented(ctx, r);
	return ret;
}

/*
 * Coordinator: create the root, give each task its turn to restore
 * itself (the root creates its children in its turn, and so on), check
 * the tail, let them all go.
 */
static long kcr_restart_coordinator(struct ckpt_ctx *ctx,
				    struct kcr_restart *r)
{
	struct kcr_rtask *root = &r->tasks[0];
	unsigned int i;
	int ret = 0;
	pid_t pid;

	pid = kcr_create_task(ctx, root);
	if (pid < 0)
		return pid;

	/* The tasks read their records now; ctx is theirs meanwhile. */
	for (i = 0; !ret && i < r->nr_tasks; i++) {
		struct kcr_rtask *rt = &r->tasks[r->order[i]];

		WRITE_ONCE(r->turn, rt->idx);
		wake_up_all(&rt->turn_wq);
		ret = kcr_wait_report(r, rt, &rt->done);
		if (!ret && rt->zombie)
			ret = kcr_zombie_signal(r, rt);
	}
	if (!ret)
		ret = kcr_release_ghosts(ctx, r);
	if (ret == -EINTR && fatal_signal_pending(current))
		return ret;
	WRITE_ONCE(r->turn, -1);
	if (!ret)
		ret = kcr_read_tail(ctx);
	/*
	 * RESTART_FROZEN: every task waits for the verdict in a killable
	 * wait, which the freeze does not interrupt; each then loads its
	 * registers and stops in the freezer's trap before user mode.
	 */
	if (!ret && r->freeze)
		ret = kcr_freezer_restart_freeze(ctx, r->freeze);
	spin_lock_irq(&r->wq.lock);
	if (r->verdict == KCR_VERDICT_PENDING)
		r->verdict = ret ? KCR_VERDICT_ABORT : KCR_VERDICT_GO;
	else if (!ret)
		ret = -EINTR;
	spin_unlock_irq(&r->wq.lock);
	for (i = 0; i < r->nr_tasks; i++)
		wake_up_all(&r->tasks[i].turn_wq);
	for (i = 0; !ret && i < r->nr_tasks; i++)
		ret = kcr_wait_report(r, &r->tasks[i], &r->tasks[i].loaded);
	if (ret == -EINTR && fatal_signal_pending(current))
		return ret;
	if (ret) {
		if (READ_ONCE(r->verdict) == KCR_VERDICT_GO) {
			ckpt_err(ctx, ret, "loading the registers failed");
			kcr_kill_tree(r);
		}
		kcr_reap(pid);
		kcr_reap_adopted(r);
		return ret;
	}
	return pid;
}

/*
 * RESTART_TASKSELF: the caller becomes the image's task. It must be the
 * only user of what it replaces, or the replacement would change other
 * tasks too. Until the first change (ctx->restore_changed, set before
 * it) a failure returns the error to the caller, untouched; after it,
 * the caller is killed: it is no longer itself.
 */
static long kcr_restart_self(struct ckpt_ctx *ctx, struct kcr_restart *r,
			     pid_t pid)
{
	struct kcr_rtask *rt = &r->tasks[0];
	struct task_struct *t = current;
	sigset_t saved;
	int ret;

	ctx->tsk = t;
	if (r->nr_tasks > 1)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"RESTART_TASKSELF: the image holds a tree of %u tasks; restart it in coordinator mode",
				r->nr_tasks);
	if (ctx->restore_container)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"RESTART_TASKSELF: a container image's root is the init of a new pid namespace; restart it in coordinator mode");
	if (pid && pid != rt->pids.vpid)
		return ckpt_err(ctx, -ESRCH, "no task with pid %d in the image",
				pid);
	if (get_nr_threads(current) > 1 ||
	    atomic_read(&current->mm->mm_users) > 1 ||
	    atomic_read(&current->files->count) > 1 ||
	    refcount_read(&current->sighand->count) > 1)
		return ckpt_err(ctx, -EBUSY,
				"RESTART_TASKSELF: the caller shares its memory, files or signal handlers with other tasks");

	/* No signal of the caller's interrupts the reading (see above). */
	kcr_block_signals(&saved);
	ctx->restore_task = t;
	ret = kcr_restore_task(ctx, rt, t);
	if (!ret)
		ret = kcr_read_tail(ctx);
	if (!ret)
		ret = restore_signal_finish(ctx, t);
	ctx->restore_task = NULL;
	if (!ret) {
		/* The work owns a reference. */
		refcount_inc(&r->users);
		ret = kcr_restart_arm(rt);
		if (!ret)
			return 0;
		refcount_dec(&r->users);
	}
	kvfree(rt->cpu);
	rt->cpu = NULL;
	if (ctx->restore_changed) {
		ckpt_err(ctx, ret, "restart failed half way: killing the task");
		force_sig(SIGKILL);
	} else {
		sigprocmask(SIG_SETMASK, &saved, NULL);
	}
	return ret;
}

long kcr_ioctl_restart(struct file *dev, void __user *uarg)
{
	struct ckpt_ioc_restart args;
	struct kcr_restart *r;
	struct ckpt_ctx *ctx;
	long ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~(u64)RESTART_USER_FLAGS)
		return -EINVAL;
	if ((args.flags & RESTART_FROZEN) ? args.cgroup < 0 ||
	    (args.flags & RESTART_TASKSELF) : args.cgroup)
		return -EINVAL;
	if (!(args.flags & RESTART_TASKSELF) && args.pid)
		return -EINVAL;
	if (!READ_ONCE(kcr_unpriv_allowed) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	ctx = ckpt_ctx_alloc(CKPT_CTX_RESTART, args.fd, args.flags,
			     args.logfd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		ckpt_ctx_free(ctx);
		return -ENOMEM;
	}
	refcount_set(&r->users, 1);
	r->ctx = ctx;
	get_task_struct(current);
	ctx->restarter = current;
	r->dev = get_file(dev);
	init_waitqueue_head(&r->wq);
	r->turn = -1;

	if (args.flags & RESTART_GHOST) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "RESTART_GHOST is not supported yet");
		goto out;
	}
	if (args.flags & RESTART_FROZEN) {
		r->freeze = kcr_freezer_restart_open(ctx, args.cgroup);
		if (IS_ERR(r->freeze)) {
			ret = PTR_ERR(r->freeze);
			r->freeze = NULL;
			goto out;
		}
		r->cgroup = args.cgroup;
	}
	ret = kcr_read_prologue(ctx, r);
	if (ret)
		goto out;
	if (args.flags & RESTART_TASKSELF)
		ret = kcr_restart_self(ctx, r, args.pid);
	else
		ret = kcr_restart_coordinator(ctx, r);
out:
	/* The context goes with the last reference: maybe the task's. */
	kcr_restart_put(r);
	/* An interrupted restart cannot be restarted (the image is read). */
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
	    ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK)
		ret = -EINTR;
	return ret;
}
