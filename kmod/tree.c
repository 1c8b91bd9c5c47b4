// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the tasks a checkpoint covers, in TREE order (checkpoint_hdr.h):
 * the root and all its descendants, parents before their children.
 *
 * The children lists are the tasklist_lock's, which modules cannot take
 * (it is not exported, nor in kallsyms without CONFIG_KALLSYMS_ALL, as on
 * Debian's s390x and ppc64el kernels), and a list entry unlinked under
 * it cannot be walked safely from RCU. So the tree is found the other
 * way round: every task of the caller's pid namespace, found by pid
 * under RCU as /proc lists them, belongs to it when the root is among
 * its ancestors (real_parent is RCU-safe). The tasks must be frozen,
 * and a frozen task neither forks nor exits; one that changes anyway
 * has run, which checkpoint.c detects.
 */
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "kcr.h"

struct kcr_found {
	struct task_struct *t;
	unsigned int depth;	/* generations below the root */
	pid_t pid;		/* in the caller's pid namespace */
	pid_t tgid;
};

/*
 * Generations from root's process down to t's, or -1 if t does not
 * descend from it. A thread's real_parent is its process's parent.
 */
static int kcr_depth_below(struct task_struct *t, struct task_struct *root)
{
	struct task_struct *p = t;
	int depth = 0;

	while (!same_thread_group(p, root)) {
		struct task_struct *parent = rcu_dereference(p->real_parent);

		/* init_task is its own parent; pid_max bounds a real chain. */
		if (parent == p || depth >= PID_MAX_LIMIT)
			return -1;
		p = parent;
		depth++;
	}
	return depth;
}

static int kcr_found_cmp(const void *a, const void *b)
{
	const struct kcr_found *x = a, *y = b;

	/* Parents first; a process's threads right after its leader. */
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if ((x->pid == x->tgid) != (y->pid == y->tgid))
		return x->pid == x->tgid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Tasks are looked up in batches: the array grows outside RCU. */
#define KCR_FIND_BATCH	64

/* Append up to KCR_FIND_BATCH tasks of the tree from pid *next on. */
static unsigned int kcr_find_batch(struct task_struct *root,
				   struct pid_namespace *ns, int *next,
				   struct kcr_found *batch)
{
	unsigned int n = 0;
	struct pid *pid;

	rcu_read_lock();
	while (n < KCR_FIND_BATCH && (pid = find_ge_pid(*next, ns))) {
		struct task_struct *t = pid_task(pid, PIDTYPE_PID);
		int depth;

		*next = pid_nr_ns(pid, ns) + 1;
		if (!t)
			continue;
		depth = kcr_depth_below(t, root);
		if (depth < 0)
			continue;
		get_task_struct(t);
		batch[n++] = (struct kcr_found){ t, depth, *next - 1,
						 task_tgid_nr_ns(t, ns) };
	}
	if (!n)
		*next = 0;
	rcu_read_unlock();
	return n;
}

static void kcr_found_put(struct kcr_found *found, unsigned int n)
{
	while (n--)
		put_task_struct(found[n].t);
}

/* Every task of root's tree, in any order, with a reference each. */
static int kcr_find_tree(struct ckpt_ctx *ctx, struct kcr_found **out,
			 unsigned int *nr)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct kcr_found *found = NULL, *batch, *bigger;
	unsigned int n = 0, got;
	int next = 1;

	batch = kmalloc_array(KCR_FIND_BATCH, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;
	do {
		got = kcr_find_batch(ctx->root_task, ns, &next, batch);
		if (n + got > kcr_max_objects) {
			kcr_found_put(batch, got);
			kcr_found_put(found, n);
			kvfree(found);
			kfree(batch);
			return ckpt_err(ctx, -E2BIG,
					"more than %u tasks (module parameter max_objects)",
					kcr_max_objects);
		}
		bigger = got ? kvmalloc_array(n + got, sizeof(*found),
					      GFP_KERNEL_ACCOUNT) : found;
		if (!bigger) {
			kcr_found_put(batch, got);
			kcr_found_put(found, n);
			kvfree(found);
			kfree(batch);
			return -ENOMEM;
		}
		if (bigger != found) {
			if (n)
				memcpy(bigger, found, n * sizeof(*found));
			kvfree(found);
			found = bigger;
		}
		memcpy(found + n, batch, got * sizeof(*batch));
		n += got;
	} while (next);
	kfree(batch);
	*out = found;
	*nr = n;
	return 0;
}

/*
 * Check what the image cannot hold yet, before any record is written:
 * zombies, threads with a file table or fs of their own (restart makes
 * threads with CLONE_FILES | CLONE_FS), and (for a self-checkpoint,
 * where the caller runs) any task but the caller.
 */
static int kcr_check_tree(struct ckpt_ctx *ctx, struct kcr_found *found,
			  unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		struct task_struct *t = found[i].t;

		/* Sorted: a leader, then its threads; all of them, or none. */
		for (j = i + 1; j < n && found[j].tgid == found[i].tgid; j++)
			;
		if (found[i].pid == found[i].tgid && !kcr_zombie(t) &&
		    j - i != get_nr_threads(t))
			return ckpt_err(ctx, -EBUSY,
					"process %d has %d threads, %u found (one starting or ending?)",
					found[i].pid, get_nr_threads(t), j - i);
		if (found[i].pid != found[i].tgid &&
		    (!i || found[i - 1].tgid != found[i].tgid))
			return ckpt_err(ctx, -EBUSY,
					"thread %d of %d: its leader is gone (a zombie leader is not supported yet)",
					found[i].pid, found[i].tgid);

		if (ctx->root_task == current && t != current)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"pid %d: a self-checkpoint covers the caller alone (checkpoint a tree from outside, frozen)",
					found[i].pid);
		if (t->exit_state && (!kcr_zombie(t) || j - i > 1))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"pid %d has exited%s: not supported",
					found[i].pid, j - i > 1 ?
					" and its threads run on" : " and is being reaped");
		if (!thread_group_leader(t) &&
		    (READ_ONCE(t->files) != READ_ONCE(t->group_leader->files) ||
		     READ_ONCE(t->fs) != READ_ONCE(t->group_leader->fs)))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"thread %d of %d: a file table or fs of its own (unshare() in a thread) is not supported yet",
					found[i].pid, found[i].tgid);
	}
	return 0;
}

int kcr_collect_tasks(struct ckpt_ctx *ctx)
{
	struct kcr_found *found;
	unsigned int i, n;
	int ret;

	ret = kcr_find_tree(ctx, &found, &n);
	if (ret)
		return ret;
	/* The root is always found: it is in the caller's namespace. */
	if (!n || n > INT_MAX) {
		kcr_found_put(found, n);
		kvfree(found);
		return ckpt_err(ctx, -ESRCH, "the root task is gone");
	}
	sort(found, n, sizeof(*found), kcr_found_cmp, NULL);
	ret = kcr_check_tree(ctx, found, n);
	if (!ret) {
		ctx->tasks = kvcalloc(n, sizeof(*ctx->tasks),
				      GFP_KERNEL_ACCOUNT);
		ctx->still = kvcalloc(n, sizeof(*ctx->still),
				      GFP_KERNEL_ACCOUNT);
		if (!ctx->tasks || !ctx->still)
			ret = -ENOMEM;
	}
	if (ret) {
		kcr_found_put(found, n);
		kvfree(found);
		return ret;
	}
	/* Sorted by depth: the root, alone at depth 0, comes first. */
	for (i = 0; i < n; i++)
		ctx->tasks[i] = found[i].t;
	ctx->nr_tasks = n;
	kvfree(found);
	return 0;
}
