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
#include <uapi/linux/sched/types.h>

#include "kcr.h"
#include "ksyms.h"

/*
 * Hand-over between the caller (the coordinator) and the task it
 * restores. Either may be killed while the other still runs: a
 * coordinator killed while the task reads a stalled image, a task killed
 * while the coordinator reads the tail. So each holds a reference, the
 * last one frees the context, and neither waits for the other without
 * being killable.
 *
 * r also holds the /dev/checkpoint file that the ioctl came through,
 * and with it the module, from the start: a RESTART_TASKSELF caller may
 * close its own descriptor of it in the restore of its file table, and
 * a restored task runs module code (a task_work on its way to user mode)
 * after the coordinator is gone. The last reference's fput() leaves
 * __fput(), which drops the module, to a task_work of the kernel's that
 * runs after ours has returned.
 */
struct kcr_restart {
	refcount_t users;
	struct ckpt_ctx *ctx;
	struct file *dev;
	struct ckpt_pids pids;		/* the task's entry of TREE */
	/* Task: its records are read (err says how that went). */
	struct completion restored;
	/* Caller: the tail is checked (go says whether it was right). */
	struct completion verdict;
	/* Task: registers loaded on the way out, or it is dying. */
	struct completion loaded;
	int err;
	bool go;
	void *cpu;			/* kcr_arch_restore_cpu() state */
	struct callback_head work;
};

static void kcr_restart_put(struct kcr_restart *r)
{
	struct file *dev = r->dev;

	if (!refcount_dec_and_test(&r->users))
		return;
	kvfree(r->cpu);
	ckpt_ctx_free(r->ctx);
	kfree(r);
	/* Last: the module's code may be done with. */
	fput(dev);
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

/*
 * TASK_OBJS: the objects were applied to current when defined; each
 * reference must name a defined object of its type.
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
	}
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * In coordinator mode the restarter is the parent that gets the task's
 * exit signal. clone() lets a parent choose any, but here the image
 * chooses: it must not be one that stops the restarter or ends it by
 * default (SIGSTOP, SIGKILL, SIGHUP, SIGTERM, a fault signal, ...), only
 * those programs pick for this on purpose.
 */
static bool kcr_exit_signal_ok(int sig)
{
	return sig == 0 || sig == SIGCHLD || sig == SIGUSR1 ||
	       sig == SIGUSR2 || (sig >= SIGRTMIN && sig <= _NSIG);
}

static int kcr_check_task(struct ckpt_ctx *ctx, struct ckpt_hdr_task *h)
{
	/* Garbage first (EINVAL), then what is valid but not supported. */
	if (h->flags & ~(u32)(CKPT_TASK_NO_NEW_PRIVS |
			      CKPT_TASK_CHILD_SUBREAPER |
			      CKPT_TASK_THREAD_LEADER))
		return ckpt_err(ctx, -EINVAL, "task record: flags %#x",
				h->flags);
	if (h->exit_state)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"task record: exit state %#x: zombies come with process trees",
				h->exit_state);
	if (!(h->flags & CKPT_TASK_THREAD_LEADER))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"task record: not a thread-group leader");
	if (h->exit_signal < 0 || !valid_signal(h->exit_signal))
		return ckpt_err(ctx, -EINVAL, "task record: exit signal %d",
				h->exit_signal);
	if (!(ctx->uflags & RESTART_TASKSELF) &&
	    !kcr_exit_signal_ok(h->exit_signal))
		return ckpt_err(ctx, -EPERM,
				"task record: exit signal %d would be sent to the restarter (only SIGCHLD, none, SIGUSR1, SIGUSR2 and real-time signals are)",
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
	if (!(ctx->uflags & RESTART_TASKSELF))
		WRITE_ONCE(current->exit_signal, h->exit_signal);
	current->personality = h->personality;
	/* No new privileges cannot be cleared, as with prctl(). */
	if (h->flags & CKPT_TASK_NO_NEW_PRIVS)
		task_set_no_new_privs(current);
	/* The restored task has no children to propagate the flag to yet. */
	if (h->flags & CKPT_TASK_CHILD_SUBREAPER)
		current->signal->is_child_subreaper = 1;
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
 * success r->cpu holds the registers to load.
 */
static int kcr_restore_task(struct ckpt_ctx *ctx, struct kcr_restart *r,
			    struct task_struct *t)
{
	struct ckpt_hdr_task *h;
	void *cpu;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TASK);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = kcr_check_task(ctx, h);
	if (!ret)
		ret = restore_creds(ctx, t);
	if (!ret)
		ret = restore_task_ns(ctx, t);
	if (ret)
		goto out;

	/* From here on current changes. */
	ctx->restore_changed = true;
	restore_task_ns_commit(ctx, t);	/* ns: what restore_task_ns() prepared */
	ret = kcr_restore_task_objs(ctx);
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
	r->cpu = cpu;
	ret = kcr_apply_task(ctx, h);
	if (!ret) {
		kcr_commit_creds(ctx);
		/*
		 * commit_creds() clears these when the ids change, as for a
		 * setuid program: the image's values go on top.
		 */
		t->pdeath_signal = h->pdeath_signal;
		if (ctx->restore_dumpable >= 0 && t->mm)
			set_mask_bits(&t->mm->flags, MMF_DUMPABLE_MASK,
				      ctx->restore_dumpable);
		/* seccomp branch: last, with the image's creds; filters last */
		ret = restore_posix_timers(ctx, t);
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
	struct kcr_restart *r = container_of(work, struct kcr_restart, work);
	int ret = -EINTR;

	/* At exit (killed meanwhile) task works run too: load nothing. */
	if (!(current->flags & PF_EXITING) && !fatal_signal_pending(current))
		ret = kcr_arch_load_cpu(r->cpu);
	kvfree(r->cpu);
	r->cpu = NULL;
	r->err = ret;
	if (ret)
		force_sig(SIGKILL);
	complete(&r->loaded);
	kcr_restart_put(r);
}

/*
 * Arm the register load. TIF_SIGPENDING makes the way out go through
 * the arch's signal code after the task_work, which then delivers the
 * restored pending signals, or applies the restart of an interrupted
 * system call (-ERESTART* in the restored registers) when there is none.
 * The work owns the task's reference on r.
 */
static int kcr_restart_arm(struct kcr_restart *r)
{
	int ret;

	init_task_work(&r->work, kcr_restart_load);
	ret = task_work_add(current, &r->work, TWA_SIGNAL);
	if (ret)
		return ret;
	set_tsk_thread_flag(current, TIF_SIGPENDING);
	return 0;
}

/* The new task: restore, wait for the tail's verdict, go. */
int kcr_restart_child(void *arg)
{
	struct kcr_restart *r = arg;
	struct ckpt_ctx *ctx = r->ctx;
	struct task_struct *t = current;
	int ret = 0;

	/*
	 * A copy of the coordinator's descriptors, which are none of the
	 * image's business: the task would keep pipes and sockets of the
	 * restarter open for as long as its records take to arrive.
	 */
	kcr_close_all_fds();
	ctx->tsk = t;
	ctx->restore_task = t;
	if (!(ctx->uflags & RESTART_NO_PIDS) &&
	    task_pid_vnr(t) != r->pids.vpid)
		ret = ckpt_err(ctx, -EBUSY, "got pid %d instead of %d",
			       task_pid_vnr(t), r->pids.vpid);
	if (!ret)
		ret = kcr_restore_task(ctx, r, t);
	/* After the last record: timers and mask would interrupt reads. */
	if (!ret)
		ret = restore_signal_finish(ctx, t);
	ctx->restore_task = NULL;
	ctx->tsk = NULL;
	r->err = ret;
	complete(&r->restored);
	if (ret)
		goto die;

	/* Killable: the coordinator may wait long for a stalled tail. */
	if (wait_for_completion_killable(&r->verdict) || !r->go)
		goto die;
	ret = kcr_restart_arm(r);
	if (!ret)
		return 0;
die:
	/*
	 * Nothing of it may run in user mode. A coordinator that let it go
	 * waits for the load: tell it there is none.
	 */
	force_sig(SIGKILL);
	if (!r->err)
		r->err = ret ? ret : -EINTR;
	complete(&r->loaded);
	kcr_restart_put(r);
	return 0;
}

static int kcr_read_header(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_header *h;
	struct ckpt_const c = {
		.task_comm_len = TASK_COMM_LEN,
		.uts_len = __NEW_UTS_LEN + 1,
		.signal_nsig = _NSIG,
		.rlimit_nlimits = RLIM_NLIMITS,
		.page_size = PAGE_SIZE,
		.at_vector_size = AT_VECTOR_SIZE,
		.sun_path_len = UNIX_PATH_MAX,
		.tty_ncc = NCCS,
		.n_tty_buf_size = N_TTY_BUF_SIZE,
	};

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
	if (h->version != CKPT_IMAGE_VERSION)
		return ckpt_err(ctx, -EINVAL,
				"image format version %u, this kcr.ko reads %u",
				h->version, CKPT_IMAGE_VERSION);
	if (h->arch_id != CKPT_ARCH_ID)
		return ckpt_err(ctx, -EINVAL,
				"image of architecture %u, this is %u",
				h->arch_id, CKPT_ARCH_ID);
	if (memcmp(&h->constants, &c, sizeof(c)))
		return ckpt_err(ctx, -EINVAL,
				"the image's kernel constants differ from this kernel's (page size %u, here %lu)",
				h->constants.page_size, PAGE_SIZE);
	if (h->uflags & ~(u64)CHECKPOINT_USER_FLAGS)
		return ckpt_err(ctx, -EINVAL, "image flags %#llx", h->uflags);
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
	else if (!(h->flags & CKPT_CONTAINER_SUBTREE))
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "container images (a pid-namespace init) are not restarted yet");
	else if (h->lsm_name[0])
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "the image carries LSM labels");
	ckpt_hdr_put(ctx, h);
	return ret;
}

/* TREE: for now one task, at depth 0, parented outside the image. */
static int kcr_read_tree(struct ckpt_ctx *ctx, struct ckpt_pids *pids)
{
	struct ckpt_hdr_tree *h;
	size_t payload;
	int ret = 0;

	/* Room for one more task than allowed, to say what is wrong. */
	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_TREE,
				  2 * sizeof(*pids), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (!h->nr_tasks || h->nr_vpids ||
	    payload != (size_t)min(h->nr_tasks, 2U) * sizeof(*pids))
		ret = ckpt_err(ctx, -EINVAL,
			       "tree: %u tasks, %u nested pids, %zu bytes of pids",
			       h->nr_tasks, h->nr_vpids, payload);
	else if (h->nr_tasks != 1)
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "tree of %u tasks: only single processes are restarted yet",
			       h->nr_tasks);
	if (ret)
		goto out;
	memcpy(pids, h + 1, sizeof(*pids));
	if (pids->vpid <= 0 || pids->vtgid != pids->vpid || pids->vppid ||
	    pids->depth)
		ret = ckpt_err(ctx, -EINVAL,
			       "tree: pid %d tgid %d ppid %d depth %u",
			       pids->vpid, pids->vtgid, pids->vppid,
			       pids->depth);
out:
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

static int kcr_read_prologue(struct ckpt_ctx *ctx, struct ckpt_pids *pids)
{
	int ret;

	ret = kcr_read_header(ctx);
	if (!ret)
		ret = kcr_read_header_arch(ctx);
	if (!ret)
		ret = kcr_read_container(ctx);
	if (!ret)
		ret = kcr_read_tree(ctx, pids);
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
static void kcr_reap(pid_t pid)
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

/* Kill the task pid (the coordinator's child) that is being restored. */
static void kcr_kill_task(pid_t pid)
{
	struct pid *p = find_get_pid(pid);

	kill_pid(p, SIGKILL, 1);
	put_pid(p);
}

/*
 * The coordinator waits for its task, killably. Killed, it kills the
 * task and leaves without waiting for it: the task holds its own
 * reference on r and ends on its own.
 */
static int kcr_wait_task(struct completion *c, pid_t pid)
{
	if (!wait_for_completion_killable(c))
		return 0;
	kcr_kill_task(pid);
	return -EINTR;
}

/* Coordinator: create the task, let it restore itself, check the tail. */
static long kcr_restart_coordinator(struct ckpt_ctx *ctx,
				    struct kcr_restart *r)
{
	pid_t set_tid = r->pids.vpid;
	struct kernel_clone_args args = {
		.exit_signal = SIGCHLD,
		.fn = KCR_RESTART_CHILD_FN,
		.fn_arg = r,
	};
	sigset_t saved;
	pid_t pid;
	int ret;

	if (!(ctx->uflags & RESTART_NO_PIDS)) {
		args.set_tid = &set_tid;
		args.set_tid_size = 1;
	}
	/* The task's reference. */
	refcount_inc(&r->users);
	/*
	 * fork() fails with -ERESTARTNOINTR whenever a signal is pending and
	 * lets the system call start over; this ioctl cannot, having read
	 * the image already. The caller's signals wait until the task exists
	 * instead (all but SIGKILL and SIGSTOP, which cannot be blocked).
	 */
	kcr_block_signals(&saved);
	pid = kcr_kernel_clone(&args);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid < 0) {
		refcount_dec(&r->users);
		if (pid == -EEXIST)
			return ckpt_err(ctx, -EBUSY,
					"pid %d is in use (restart with RESTART_NO_PIDS for a fresh pid)",
					set_tid);
		if (pid == -EPERM && args.set_tid)
			return ckpt_err(ctx, -EPERM,
					"choosing pid %d needs CAP_CHECKPOINT_RESTORE (or RESTART_NO_PIDS)",
					set_tid);
		return ckpt_err(ctx, pid, "cannot create the task");
	}

	/* The task reads its records now; ctx is the task's meanwhile. */
	ret = kcr_wait_task(&r->restored, pid);
	if (ret)
		return ret;
	ret = r->err;
	if (!ret)
		ret = kcr_read_tail(ctx);
	r->go = !ret;
	complete(&r->verdict);
	if (!ret) {
		ret = kcr_wait_task(&r->loaded, pid);
		if (ret)
			return ret;
		ret = r->err;
		if (ret)
			ckpt_err(ctx, ret, "loading the registers failed");
	}
	if (ret) {
		kcr_reap(pid);
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
	struct task_struct *t = current;
	sigset_t saved;
	int ret;

	ctx->tsk = t;
	if (pid && pid != r->pids.vpid)
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
	ret = kcr_restore_task(ctx, r, t);
	if (!ret)
		ret = kcr_read_tail(ctx);
	if (!ret)
		ret = restore_signal_finish(ctx, t);
	ctx->restore_task = NULL;
	if (!ret) {
		/* The work owns a reference. */
		refcount_inc(&r->users);
		ret = kcr_restart_arm(r);
		if (!ret)
			return 0;
		refcount_dec(&r->users);
	}
	kvfree(r->cpu);
	r->cpu = NULL;
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
	if (args.__pad || (args.flags & ~(u64)RESTART_USER_FLAGS))
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
	r->dev = get_file(dev);
	init_completion(&r->restored);
	init_completion(&r->verdict);
	init_completion(&r->loaded);

	if (args.flags & (RESTART_FROZEN | RESTART_GHOST)) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "RESTART_FROZEN and RESTART_GHOST come with process trees");
		goto out;
	}
	ret = kcr_read_prologue(ctx, &r->pids);
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
