// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the shape of a restarted tree. The coordinator creates the root;
 * every task creates its own children during its turn, once its
 * namespaces are restored and before its credentials, memory or seccomp
 * filters are (the children would inherit those; they restore their
 * own), so each child is a real child of its parent, created by it with
 * the kernel's fork path and the image's pid.
 *
 * Sessions and process groups are made with the system calls a process
 * uses for them, at the start of the task's turn: setsid() for a session
 * leader, setpgid() for a group of its own or to join the group of a task
 * restored before it. A task inherits the rest from its parent, as it
 * did when it was forked. What that cannot make (a session other than
 * its parent's that it does not lead: a reparented orphan, or one whose
 * leader has exited; a group with no member restored before it) is
 * refused with -EOPNOTSUPP.
 */
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "kcr.h"
#include "ksyms.h"
#include "restart.h"
#include "usercall.h"

/* Index of the task with vpid pid among the first n, or -1. */
static int kcr_tree_find(struct xarray *by_pid, pid_t pid)
{
	void *v = pid > 0 ? xa_load(by_pid, pid) : NULL;

	return v ? xa_to_value(v) : -1;
}

/* The parent, session and group of task i, from the entries before it. */
static int kcr_tree_shape(struct ckpt_ctx *ctx, struct kcr_restart *r,
			  struct xarray *by_pid, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];
	const struct ckpt_pids *p = &rt->pids;
	struct kcr_rtask *parent = NULL;
	unsigned int j;
	int leader;

	rt->parent = -1;
	if (i) {
		rt->parent = kcr_tree_find(by_pid, p->vppid);
		if (rt->parent < 0)
			return ckpt_err(ctx, -EINVAL,
					"tree: the parent %d of pid %d is not before it in the tree",
					p->vppid, p->vpid);
		parent = &r->tasks[rt->parent];
		/* Its parent's pid namespace, or a new one that it is init of. */
		if (p->depth != parent->pids.depth &&
		    (p->depth != parent->pids.depth + 1 ||
		     rt->vpids[p->depth - 1] != 1))
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d at pid namespace depth %u, its parent %d at %u",
					p->vpid, p->depth, p->vppid,
					parent->pids.depth);
	} else if (p->depth) {
		return ckpt_err(ctx, -EINVAL, "tree: root at depth %u",
				p->depth);
	}

	/* A session leader leads its own group, and never leaves either. */
	rt->session_leader = p->vsid == p->vpid;
	if (rt->session_leader && p->vpgid != p->vpid)
		return ckpt_err(ctx, -EINVAL,
				"tree: pid %d leads session %d but is in group %d",
				p->vpid, p->vsid, p->vpgid);
	if (!rt->session_leader && parent && p->vsid != parent->pids.vsid)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"tree: pid %d is in session %d, neither its own nor its parent's (reparented orphans and sessions whose leader exited are not restored yet)",
				p->vpid, p->vsid);
	/* A task with the pid of a session in the tree is its leader. */
	leader = kcr_tree_find(by_pid, p->vsid);
	if (p->vsid != p->vpid && leader >= 0 &&
	    r->tasks[leader].pids.vsid != p->vsid)
		return ckpt_err(ctx, -EINVAL,
				"tree: pid %d is in session %d, whose leader is in session %d",
				p->vpid, p->vsid, r->tasks[leader].pids.vsid);

	if (p->vpgid == p->vpid) {
		rt->pgrp = KCR_PGRP_OWN;
		return 0;
	}
	rt->pgrp = KCR_PGRP_INHERIT;
	/* The root keeps the restarter's group unless it led one. */
	if (!parent || p->vpgid == parent->pids.vpgid)
		return 0;
	/* Join a group that a task restored before it is in by then. */
	for (j = 0; j < i; j++) {
		if (r->tasks[j].pids.vpgid != p->vpgid)
			continue;
		if (r->tasks[j].pids.vsid != p->vsid)
			return ckpt_err(ctx, -EINVAL,
					"tree: group %d spans sessions %d and %d",
					p->vpgid, p->vsid,
					r->tasks[j].pids.vsid);
		rt->pgrp = j;
		return 0;
	}
	return ckpt_err(ctx, -EOPNOTSUPP,
			"tree: pid %d is in group %d, which no task before it in the tree is in (orphaned groups are not restored yet)",
			p->vpid, p->vpgid);
}

/*
 * A thread: its leader is a process before it in the tree, and it shares
 * the leader's parent, session and group.
 */
static int kcr_tree_thread(struct ckpt_ctx *ctx, struct kcr_restart *r,
			   struct xarray *by_pid, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];
	const struct ckpt_pids *p = &rt->pids, *l;

	rt->leader = kcr_tree_find(by_pid, p->vtgid);
	if (rt->leader < 0 || r->tasks[rt->leader].leader >= 0)
		return ckpt_err(ctx, -EINVAL,
				"tree: thread %d of %d: no such process before it in the tree",
				p->vpid, p->vtgid);
	l = &r->tasks[rt->leader].pids;
	if (p->vppid != l->vppid || p->vsid != l->vsid ||
	    p->vpgid != l->vpgid || p->depth != l->depth)
		return ckpt_err(ctx, -EINVAL,
				"tree: thread %d of %d: parent %d session %d group %d, its leader's %d %d %d",
				p->vpid, p->vtgid, p->vppid, p->vsid, p->vpgid,
				l->vppid, l->vsid, l->vpgid);
	rt->parent = KCR_THREAD;
	rt->pgrp = KCR_PGRP_INHERIT;
	return 0;
}

static int kcr_tree_check(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	struct xarray by_pid;
	unsigned int i;
	int ret = 0;

	xa_init(&by_pid);
	for (i = 0; !ret && i < r->nr_tasks; i++) {
		struct kcr_rtask *rt = &r->tasks[i];
		const struct ckpt_pids *p = &rt->pids;

		rt->r = r;
		rt->idx = i;
		rt->leader = -1;
		if (p->vpid <= 0 || p->vsid < 0 || p->vpgid < 0 ||
		    p->vppid < 0 || (!i && p->vppid))
			ret = ckpt_err(ctx, -EINVAL,
				       "tree: task %u: pid %d ppid %d sid %d pgid %d depth %u",
				       i, p->vpid, p->vppid, p->vsid, p->vpgid,
				       p->depth);
		else if (kcr_tree_find(&by_pid, p->vpid) >= 0)
			ret = ckpt_err(ctx, -EINVAL,
				       "tree: two tasks with pid %d", p->vpid);
		else if (p->vtgid != p->vpid)
			ret = kcr_tree_thread(ctx, r, &by_pid, i);
		else if (!i || p->vppid)
			ret = kcr_tree_shape(ctx, r, &by_pid, i);
		else
			ret = ckpt_err(ctx, -EINVAL,
				       "tree: task %u, pid %d, has no parent",
				       i, p->vpid);
		if (!ret)
			ret = xa_err(xa_store(&by_pid, p->vpid, xa_mk_value(i),
					      GFP_KERNEL_ACCOUNT));
	}
	xa_destroy(&by_pid);
	return ret;
}

/*
 * The nested pids: each task's depth of them, in TREE order. A task is
 * in its parent's pid namespace or is the init (pid 1) of one made just
 * below it (clone(CLONE_NEWPID)).
 */
static int kcr_tree_vpids(struct ckpt_ctx *ctx, struct kcr_restart *r,
			  const s32 *vpids, u32 nr)
{
	u32 i, d, used = 0;

	if (nr) {
		r->vpids = kvmalloc_array(nr, sizeof(*vpids),
					  GFP_KERNEL_ACCOUNT);
		if (!r->vpids)
			return -ENOMEM;
		memcpy(r->vpids, vpids, nr * sizeof(*vpids));
	}
	for (i = 0; i < r->nr_tasks; i++) {
		struct kcr_rtask *rt = &r->tasks[i];

		d = rt->pids.depth;
		if (d > KCR_MAX_PID_DEPTH || d > nr - used)
			return ckpt_err(ctx, -EINVAL,
					"tree: pid %d at pid namespace depth %u (%u nested pids left)",
					rt->pids.vpid, d, nr - used);
		rt->vpids = d ? r->vpids + used : NULL;
		for (used += d; d; d--)
			if (rt->vpids[d - 1] <= 0)
				return ckpt_err(ctx, -EINVAL,
						"tree: pid %d: nested pid %d",
						rt->pids.vpid,
						rt->vpids[d - 1]);
	}
	if (used != nr)
		return ckpt_err(ctx, -EINVAL,
				"tree: %u nested pids, the depths add up to %u",
				nr, used);
	return 0;
}

int kcr_read_tree(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	unsigned int max = min_t(unsigned int, kcr_max_objects,
				 PID_MAX_LIMIT);
	struct ckpt_hdr_tree *h;
	size_t payload;
	unsigned int i;
	int ret = 0;

	/* Room for one more task than allowed, to say what is wrong. */
	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_TREE,
				  ((size_t)max + 1) * (sizeof(struct ckpt_pids) +
				  KCR_MAX_PID_DEPTH * sizeof(s32)), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (!h->nr_tasks || h->nr_tasks > max + 1 ||
	    h->nr_vpids > (size_t)h->nr_tasks * KCR_MAX_PID_DEPTH ||
	    payload != (size_t)h->nr_tasks * sizeof(struct ckpt_pids) +
		       (size_t)h->nr_vpids * sizeof(s32))
		ret = ckpt_err(ctx, -EINVAL,
			       "tree: %u tasks, %u nested pids, %zu bytes of pids",
			       h->nr_tasks, h->nr_vpids, payload);
	else if (h->nr_tasks > max)
		ret = ckpt_err(ctx, -E2BIG,
			       "tree of more than %u tasks (module parameter max_objects)",
			       max);
	if (ret)
		goto out;
	r->tasks = kvcalloc(h->nr_tasks, sizeof(*r->tasks),
			    GFP_KERNEL_ACCOUNT);
	if (!r->tasks) {
		ret = -ENOMEM;
		goto out;
	}
	r->nr_tasks = h->nr_tasks;
	ctx->restore_nr_tasks = h->nr_tasks;
	for (i = 0; i < r->nr_tasks; i++) {
		memcpy(&r->tasks[i].pids, (struct ckpt_pids *)(h + 1) + i,
		       sizeof(struct ckpt_pids));
		init_waitqueue_head(&r->tasks[i].turn_wq);
	}
	ret = kcr_tree_vpids(ctx, r, (s32 *)((struct ckpt_pids *)(h + 1) +
					     r->nr_tasks), h->nr_vpids);
	if (!ret)
		ret = kcr_tree_check(ctx, r);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int kcr_create_children(struct ckpt_ctx *ctx, struct kcr_rtask *rt)
{
	struct kcr_restart *r = rt->r;
	unsigned int j;
	pid_t pid;

	for (j = rt->idx + 1; j < r->nr_tasks; j++) {
		if (r->tasks[j].parent != rt->idx)
			continue;
		pid = kcr_create_task(ctx, &r->tasks[j]);
		if (pid < 0)
			return pid;
	}
	return 0;
}

int kcr_create_threads(struct ckpt_ctx *ctx, struct kcr_rtask *rt)
{
	struct kcr_restart *r = rt->r;
	unsigned int j;
	pid_t pid;

	for (j = rt->idx + 1; j < r->nr_tasks; j++) {
		if (r->tasks[j].leader != rt->idx)
			continue;
		pid = kcr_create_task(ctx, &r->tasks[j]);
		if (pid < 0)
			return pid;
	}
	return 0;
}

/* The process group of the restored task idx, in current's namespace. */
static pid_t kcr_pgid_of(struct kcr_restart *r, int idx)
{
	struct task_struct *t;
	pid_t pgid = 0;

	rcu_read_lock();
	/* Pairs with the release in kcr_create_task(). */
	t = pid_task(smp_load_acquire(&r->tasks[idx].spid), PIDTYPE_PID);
	if (t)
		pgid = pid_vnr(task_pgrp(t));
	rcu_read_unlock();
	return pgid;
}

int kcr_restore_pgrp(struct ckpt_ctx *ctx, struct kcr_rtask *rt)
{
	long ret = 0;
	pid_t pgid;

	if (rt->session_leader) {
		ret = kcr_syscall(kcr_sys_setsid, 0, 0, 0, 0);
		if (ret < 0)
			return ckpt_err(ctx, ret, "setsid()");
		return 0;
	}
	if (rt->pgrp == KCR_PGRP_OWN) {
		ret = kcr_syscall(kcr_sys_setpgid, 0, 0, 0, 0);
		if (ret < 0)
			return ckpt_err(ctx, ret, "setpgid(0, 0)");
	} else if (rt->pgrp >= 0) {
		pgid = kcr_pgid_of(rt->r, rt->pgrp);
		ret = pgid ? kcr_syscall(kcr_sys_setpgid, 0, pgid, 0, 0) :
			     -ESRCH;
		if (ret < 0)
			return ckpt_err(ctx, ret,
					"joining process group %d (as %d)",
					rt->pids.vpgid, pgid);
	}
	return 0;
}

void kcr_reap_children(struct kcr_rtask *rt)
{
	struct kcr_restart *r = rt->r;
	unsigned int j;

	for (j = rt->idx + 1; j < r->nr_tasks; j++)
		if (r->tasks[j].parent == rt->idx && r->tasks[j].pid > 0)
			kcr_reap(r->tasks[j].pid);
}
