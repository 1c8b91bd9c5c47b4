// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the leak check of container checkpoints (linux-cr's
 * ckpt_obj_contained()). A container checkpoint (the root is the init of
 * a pid namespace, no CHECKPOINT_SUBTREE) promises an image that holds
 * everything its objects are: a file table, fs_struct, memory, signal
 * handlers or open file that a task outside the tree also uses would be
 * restarted as the tree's alone, and the outside task's view of it would
 * silently part from the tree's. So once every task is written, the
 * references to each shared object are counted from the tree (threads,
 * descriptors, and for an open file also mappings and the executable)
 * and compared with the object's own count; any more is a reference from
 * outside: -EBUSY, naming the object and a task of the tree that holds
 * it. CHECKPOINT_SUBTREE skips the check: the caller vouches for the tree.
 *
 * A reader of /proc (ps reading a task's stat or fdinfo) holds a
 * reference for a moment: a difference must still be there a few ticks
 * later to count as a leak.
 *
 * The hash holds a reference to each file and memory (their counts are
 * one higher); file tables, fs_structs and signal handlers are identities
 * only (files.c, signal.c), read under task_lock() of a task that uses
 * them, which keeps them alive.
 */
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "kcr.h"

/* Ticks a difference in counts must last to be a leak. */
#define KCR_LEAK_TRIES	5

/* The references of t, a task of the tree, to what it shares. */
static void kcr_leak_count_task(struct ckpt_ctx *ctx, struct task_struct *t)
{
	/* As the image has it: in the root's pid namespace. */
	pid_t pid = task_pid_nr_ns(t, task_active_pid_ns(ctx->root_task));
	struct files_struct *files;
	struct fdtable *fdt;
	unsigned int fd;

	task_lock(t);
	files = t->files;
	if (t->fs)
		ckpt_obj_add_user(ctx, t->fs, CKPT_OBJ_FS, pid);
	if (t->mm)
		ckpt_obj_add_user(ctx, t->mm, CKPT_OBJ_MM, pid);
	rcu_read_lock();
	ckpt_obj_add_user(ctx, rcu_dereference(t->sighand), CKPT_OBJ_SIGHAND,
			  pid);
	/* A table's descriptors count once, for its first user. */
	if (files && ckpt_obj_add_user(ctx, files, CKPT_OBJ_FILE_TABLE,
				       pid) == 1) {
		fdt = files_fdtable(files);
		for (fd = 0; fd < fdt->max_fds; fd++) {
			struct file *f = rcu_dereference(fdt->fd[fd]);

			if (f)
				ckpt_obj_add_user(ctx, f, CKPT_OBJ_FILE, pid);
		}
	}
	rcu_read_unlock();
	task_unlock(t);
}

/*
 * A mapping's or the executable's reference to a file that a descriptor
 * of the tree has open: only those files are checked. One that is only
 * mapped is restarted from its path; its struct file, which fork() shares
 * with the parent the tree came from, means nothing else.
 */
static void kcr_leak_count_mapped(struct ckpt_ctx *ctx, struct file *f,
				  pid_t holder)
{
	pid_t first;
	int objref;

	if (f && ckpt_obj_users(ctx, f, CKPT_OBJ_FILE, &objref, &first))
		ckpt_obj_add_user(ctx, f, CKPT_OBJ_FILE, holder);
}

static int kcr_leak_count_mm(struct ckpt_ctx *ctx, void *ptr, void *arg)
{
	struct mm_struct *mm = ptr;
	struct vma_iterator vmi = { };
	struct vm_area_struct *vma;
	pid_t holder = 0;
	int objref, ret;

	ckpt_obj_users(ctx, mm, CKPT_OBJ_MM, &objref, &holder);
	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ret;
	vma_iter_init(&vmi, mm, 0);
	for_each_vma(vmi, vma)
		kcr_leak_count_mapped(ctx, vma->vm_file, holder);
	mmap_read_unlock(mm);
	rcu_read_lock();
	kcr_leak_count_mapped(ctx, rcu_dereference(mm->exe_file), holder);
	rcu_read_unlock();
	return 0;
}

struct kcr_leak {
	bool report;		/* the last try: say what leaks */
	int ret;
};

/* Count (the object's own) against users (the tree's); report on the last. */
static bool kcr_leak(struct ckpt_ctx *ctx, struct kcr_leak *l, void *ptr,
		     u32 objtype, long count, const char *what)
{
	unsigned int users;
	pid_t holder = 0;
	int objref = 0;

	users = ckpt_obj_users(ctx, ptr, objtype, &objref, &holder);
	if (!users || count <= users)
		return false;
	if (l->report && !l->ret)
		l->ret = ckpt_err(ctx, -EBUSY,
				  "%s (objref %d, of pid %d): %ld references, %u of them from the tree: shared with a task outside it (CHECKPOINT_SUBTREE takes it anyway)",
				  what, objref, holder, count, users);
	l->ret = l->ret ?: -EBUSY;
	return true;
}

static int kcr_leak_file(struct ckpt_ctx *ctx, void *ptr, void *arg)
{
	struct kcr_leak *l = arg;
	char *buf, *path, *what;
	struct file *f = ptr;

	/* Its whole path in the message, as the checkpointer sees it. */
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	path = d_path(&f->f_path, buf, PATH_MAX);
	what = kasprintf(GFP_KERNEL, "file %s", IS_ERR(path) ? "?" : path);
	kfree(buf);
	if (!what)
		return -ENOMEM;
	kcr_leak(ctx, l, f, CKPT_OBJ_FILE, file_count(f) - 1, what);
	kfree(what);
	return 0;
}

static int kcr_leak_mm(struct ckpt_ctx *ctx, void *ptr, void *arg)
{
	struct mm_struct *mm = ptr;

	kcr_leak(ctx, arg, mm, CKPT_OBJ_MM, atomic_read(&mm->mm_users) - 1,
		 "memory (CLONE_VM)");
	return 0;
}

/* What t uses and the hash holds no reference to, under task_lock(). */
static void kcr_leak_task(struct ckpt_ctx *ctx, struct kcr_leak *l,
			  struct task_struct *t)
{
	struct sighand_struct *sighand;
	int users;

	task_lock(t);
	if (t->files)
		kcr_leak(ctx, l, t->files, CKPT_OBJ_FILE_TABLE,
			 atomic_read(&t->files->count),
			 "file table (CLONE_FILES)");
	if (t->fs) {
		spin_lock(&t->fs->lock);
		users = t->fs->users;
		spin_unlock(&t->fs->lock);
		kcr_leak(ctx, l, t->fs, CKPT_OBJ_FS, users,
			 "root and working directory (CLONE_FS)");
	}
	rcu_read_lock();
	sighand = rcu_dereference(t->sighand);
	if (sighand)
		kcr_leak(ctx, l, sighand, CKPT_OBJ_SIGHAND,
			 refcount_read(&sighand->count),
			 "signal handlers (CLONE_SIGHAND)");
	rcu_read_unlock();
	task_unlock(t);
}

int kcr_check_leaks(struct ckpt_ctx *ctx)
{
	struct kcr_leak l = { };
	int i, try, ret;

	if (ctx->uflags & CHECKPOINT_SUBTREE)
		return 0;
	for (i = 0; i < ctx->nr_tasks; i++)
		if (!kcr_zombie(ctx->tasks[i]))
			kcr_leak_count_task(ctx, ctx->tasks[i]);
	ret = ckpt_obj_for_each(ctx, CKPT_OBJ_MM, kcr_leak_count_mm, NULL);
	if (ret)
		return ret;
	for (try = 1; try <= KCR_LEAK_TRIES; try++) {
		l.report = try == KCR_LEAK_TRIES;
		l.ret = 0;
		for (i = 0; i < ctx->nr_tasks; i++)
			if (!kcr_zombie(ctx->tasks[i]))
				kcr_leak_task(ctx, &l, ctx->tasks[i]);
		ret = ckpt_obj_for_each(ctx, CKPT_OBJ_FILE, kcr_leak_file, &l);
		if (ret)
			return ret;
		ckpt_obj_for_each(ctx, CKPT_OBJ_MM, kcr_leak_mm, &l);
		if (!l.ret || l.report)
			return l.ret;
		if (schedule_timeout_killable(1))
			return -EINTR;
	}
	return l.ret;
}
