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
 * did when it was forked. A session or group whose leader has exited is
 * made by a ghost (kcr_tree_ghost()). What that cannot make either (an
 * orphan reparented into a session whose leader lives, orphans of one
 * session with different parents, a group whose leader comes later in
 * the tree) is refused with -EOPNOTSUPP.
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

/*
 * The pids of the tree (TREE's, then its ghosts'), and the first task
 * found in each process group, while the tree is checked.
 */
struct kcr_tree_index {
	struct xarray by_pid;
	struct xarray by_pgid;
};

/* Index of the task whose pid is pid, or -1. */
static int kcr_tree_find(struct xarray *xa, pid_t pid)
{
	void *v = pid > 0 ? xa_load(xa, pid) : NULL;

	return v ? xa_to_value(v) : -1;
}

static int kcr_tree_store(struct xarray *xa, pid_t pid, unsigned int i)
{
	return xa_err(xa_store(xa, pid, xa_mk_value(i), GFP_KERNEL_ACCOUNT));
}

/* Task i of r, before its pids are known: a process that creates nothing. */
static void kcr_rtask_init(struct kcr_restart *r, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];

	rt->r = r;
	rt->idx = i;
	rt->leader = -1;
	rt->children = -1;
	rt->threads = -1;
	rt->next = -1;
	init_waitqueue_head(&rt->turn_wq);
}

/*
 * A ghost: a task that the restart makes for a session or a process
 * group whose leader has exited, as linux-cr and CRIU do. It gets the
 * leader's pid, is created by creator in its turn and has its own turn
 * right after it: setsid() or setpgid(0, 0), then the session's orphans
 * if it stands for a session. It exits before the tree runs, without an
 * exit signal, and its creator reaps it; its orphans go to their reaper,
 * which must be the parent they had (kcr_check_reparented()).
 */
static int kcr_tree_ghost(struct ckpt_ctx *ctx, struct kcr_restart *r,
			  struct kcr_tree_index *ix, int kind, pid_t id,
			  int creator)
{
	struct kcr_rtask *c = &r->tasks[creator];
	struct kcr_rtask *g;
	int ret;

	/* Room was made for every id that may need one (kcr_read_tree()). */
	if (WARN_ON_ONCE(r->nr_tasks == r->max_tasks))
		return -EINVAL;
	if (c->pids.depth)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"tree: %s %d, whose leader has exited, in a nested pid namespace: not supported",
				kind == KCR_GHOST_SESSION ? "session" : "group",
				id);
	kcr_rtask_init(r, r->nr_tasks);
	g = &r->tasks[r->nr_tasks];
	g->ghost = kind;
	g->pids.vpid = id;
	g->pids.vtgid = id;
	g->pids.vppid = c->pids.vpid;
	g->pids.vpgid = id;
	g->pids.vsid = kind == KCR_GHOST_SESSION ? id : c->pids.vsid;
	g->parent = creator;
	g->creator = creator;
	g->session_leader = kind == KCR_GHOST_SESSION;
	g->pgrp = KCR_PGRP_OWN;
	ret = kcr_tree_store(&ix->by_pid, id, g->idx);
	if (!ret)
		ret = xa_insert(&ix->by_pgid, id, xa_mk_value(g->idx),
				GFP_KERNEL_ACCOUNT);
	if (ret == -EBUSY)
		return ckpt_err(ctx, -EINVAL, "tree: group %d spans sessions",
				id);
	if (ret)
		return ret;
	return r->nr_tasks++;
}

/*
 * The session of process i that is neither its own nor its parent's: it
 * was reparented, and its session's leader has exited (a daemon's double
 * fork). The session's ghost creates it; every such orphan of a session
 * must have had the same parent, the ghost's creator.
 */
static int kcr_tree_orphan(struct ckpt_ctx *ctx, struct kcr_restart *r,
			   struct kcr_tree_index *ix, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];
	const struct ckpt_pids *p = &rt->pids;
	int g = kcr_tree_find(&ix->by_pid, p->vsid);

	if (p->vsid == r->tasks[0].pids.vsid)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"tree: pid %d is in the root's session %d, its parent %d is not: not supported",
				p->vpid, p->vsid, p->vppid);
	if (g >= 0 && !r->tasks[g].ghost)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"tree: pid %d is in session %d, neither its own nor its parent's, and that session's leader lives: not supported",
				p->vpid, p->vsid);
	if (g < 0) {
		g = kcr_tree_ghost(ctx, r, ix, KCR_GHOST_SESSION, p->vsid,
				   rt->parent);
		if (g < 0)
			return g;
	}
	if (r->tasks[g].ghost != KCR_GHOST_SESSION ||
	    r->tasks[g].creator != rt->parent)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"tree: the orphans of session %d have different parents (%d and %d): not supported",
				p->vsid, r->tasks[r->tasks[g].creator].pids.vpid,
				p->vppid);
	rt->creator = g;
	return 0;
}

/*
 * The process group of process i, once its creator is known: its own,
 * its creator's (inherited at fork), or one that a task before it is in
 * by its turn: a real one, or a ghost made now for a group whose leader
 * has exited.
 */
static int kcr_tree_group(struct ckpt_ctx *ctx, struct kcr_restart *r,
			  struct kcr_tree_index *ix, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];
	const struct ckpt_pids *p = &rt->pids;
	int j;

	rt->pgrp = KCR_PGRP_INHERIT;
	if (p->vpgid == p->vpid) {
		rt->pgrp = KCR_PGRP_OWN;
		return 0;
	}
	/* The root keeps the restarter's group unless it led one. */
	if (rt->creator < 0 || p->vpgid == r->tasks[rt->creator].pids.vpgid)
		return 0;
	j = kcr_tree_find(&ix->by_pgid, p->vpgid);
	if (j < 0) {
		j = kcr_tree_find(&ix->by_pid, p->vpgid);
		if (j >= 0)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"tree: pid %d is in group %d, which no task before it in the tree is in: not supported",
					p->vpid, p->vpgid);
		j = kcr_tree_ghost(ctx, r, ix, KCR_GHOST_GROUP, p->vpgid,
				   rt->creator);
		if (j < 0)
			return j;
	}
	if (r->tasks[j].pids.vsid != p->vsid)
		return ckpt_err(ctx, -EINVAL,
				"tree: group %d spans sessions %d and %d",
				p->vpgid, p->vsid, r->tasks[j].pids.vsid);
	rt->pgrp = j;
	return 0;
}

/* The parent, session and group of process i, from the tasks before it. */
static int kcr_tree_shape(struct ckpt_ctx *ctx, struct kcr_restart *r,
			  struct kcr_tree_index *ix, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];
	const struct ckpt_pids *p = &rt->pids;
	struct kcr_rtask *parent = NULL;
	int leader, ret;

	rt->parent = -1;
	if (i) {
		rt->parent = kcr_tree_find(&ix->by_pid, p->vppid);
		if (rt->parent < 0 || rt->parent >= i ||
		    r->tasks[rt->parent].leader >= 0)
			return ckpt_err(ctx, -EINVAL,
					"tree: the parent %d of pid %d is not a process before it in the tree",
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
	} else if (ctx->restore_container && p->vpid != 1) {
		/* Restarted as it was: the init of a new pid namespace. */
		return ckpt_err(ctx, -EINVAL,
				"tree: the root of a container image is pid %d, not 1",
				p->vpid);
	}
	rt->creator = rt->parent;

	/* A session leader leads its own group, and never leaves either. */
	rt->session_leader = p->vsid == p->vpid;
	if (rt->session_leader && p->vpgid != p->vpid)
		return ckpt_err(ctx, -EINVAL,
				"tree: pid %d leads session %d but is in group %d",
				p->vpid, p->vsid, p->vpgid);
	/* A task with the pid of a session is its leader. */
	leader = kcr_tree_find(&ix->by_pid, p->vsid);
	if (!rt->session_leader && leader >= 0 &&
	    r->tasks[leader].pids.vsid != p->vsid)
		return ckpt_err(ctx, -EINVAL,
				"tree: pid %d is in session %d, whose leader is in session %d",
				p->vpid, p->vsid, r->tasks[leader].pids.vsid);
	if (!rt->session_leader && parent && p->vsid != parent->pids.vsid) {
		ret = kcr_tree_orphan(ctx, r, ix, i);
		if (ret)
			return ret;
	}
	ret = kcr_tree_group(ctx, r, ix, i);
	if (ret)
		return ret;
	/* The first of its group: later ones join through it. */
	ret = xa_insert(&ix->by_pgid, p->vpgid, xa_mk_value(i),
			GFP_KERNEL_ACCOUNT);
	return ret == -EBUSY ? 0 : ret;
}

/*
 * A thread: its leader is a process before it in the tree, and it shares
 * the leader's parent, session and group.
 */
static int kcr_tree_thread(struct ckpt_ctx *ctx, struct kcr_restart *r,
			   struct kcr_tree_index *ix, unsigned int i)
{
	struct kcr_rtask *rt = &r->tasks[i];
	const struct ckpt_pids *p = &rt->pids, *l;

	rt->leader = kcr_tree_find(&ix->by_pid, p->vtgid);
	if (rt->leader < 0 || rt->leader >= i ||
	    r->tasks[rt->leader].leader >= 0)
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
	rt->creator = rt->leader;
	rt->pgrp = KCR_PGRP_INHERIT;
	return 0;
}

/*
 * What each task creates, as lists in TREE order (backwards, so that
 * each comes out in order): threads for a leader, processes (ghosts
 * among them) for their creator.
 */
static void kcr_tree_lists(struct kcr_restart *r)
{
	unsigned int i;

	for (i = r->nr_tasks; --i > 0;) {
		struct kcr_rtask *rt = &r->tasks[i];
		struct kcr_rtask *c = &r->tasks[rt->creator];
		int *head = rt->leader >= 0 ? &c->threads : &c->children;

		rt->next = *head;
		*head = i;
	}
}

/* The turn of x, then those of the ghosts it creates (at most two deep). */
static void kcr_tree_emit(struct kcr_restart *r, int x, unsigned int *k)
{
	int j;

	r->order[(*k)++] = x;
	for (j = r->tasks[x].children; j >= 0; j = r->tasks[j].next)
		if (r->tasks[j].ghost)
			kcr_tree_emit(r, j, k);
}

/* Turns: TREE order, each ghost right after the task that creates it. */
static void kcr_tree_order(struct kcr_restart *r)
{
	unsigned int i, k = 0;

	for (i = 0; i < r->nr_image; i++)
		kcr_tree_emit(r, i, &k);
	WARN_ON_ONCE(k != r->nr_tasks);
}

/* Every pid of TREE, once; then each task's shape, in TREE order. */
static int kcr_tree_check(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	unsigned int i, n = r->nr_tasks;
	struct kcr_tree_index ix;
	int ret = 0;

	xa_init(&ix.by_pid);
	xa_init(&ix.by_pgid);
	for (i = 0; !ret && i < n; i++) {
		const struct ckpt_pids *p = &r->tasks[i].pids;

		if (p->vpid <= 0 || p->vsid < 0 || p->vpgid < 0 ||
		    p->vppid < 0 || (!i && p->vppid) || p->vtgid <= 0)
			ret = ckpt_err(ctx, -EINVAL,
				       "tree: task %u: pid %d ppid %d sid %d pgid %d depth %u",
				       i, p->vpid, p->vppid, p->vsid, p->vpgid,
				       p->depth);
		else if (kcr_tree_find(&ix.by_pid, p->vpid) >= 0)
			ret = ckpt_err(ctx, -EINVAL,
				       "tree: two tasks with pid %d", p->vpid);
		else
			ret = kcr_tree_store(&ix.by_pid, p->vpid, i);
	}
	for (i = 0; !ret && i < n; i++) {
		const struct ckpt_pids *p = &r->tasks[i].pids;

		if (p->vtgid != p->vpid)
			ret = kcr_tree_thread(ctx, r, &ix, i);
		else if (!i || p->vppid)
			ret = kcr_tree_shape(ctx, r, &ix, i);
		else
			ret = ckpt_err(ctx, -EINVAL,
				       "tree: task %u, pid %d, has no parent",
				       i, p->vpid);
	}
	xa_destroy(&ix.by_pid);
	xa_destroy(&ix.by_pgid);
	if (ret)
		return ret;
	kcr_tree_lists(r);
	kcr_tree_order(r);
	return 0;
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

/*
 * Room for the ghosts: at most one per session or group id of TREE that
 * no task of it has as its pid.
 */
static int kcr_tree_max_ghosts(const struct ckpt_pids *pids, u32 n,
			       unsigned int *ghosts)
{
	struct xarray seen;
	unsigned int i, k;
	int ret = 0;

	*ghosts = 0;
	xa_init(&seen);
	for (i = 0; !ret && i < n; i++)
		if (pids[i].vpid > 0)
			ret = xa_err(xa_store(&seen, pids[i].vpid,
					      xa_mk_value(0),
					      GFP_KERNEL_ACCOUNT));
	for (i = 0; !ret && i < n; i++) {
		pid_t id[2] = { pids[i].vsid, pids[i].vpgid };

		for (k = 0; !ret && k < ARRAY_SIZE(id); k++) {
			if (id[k] <= 0)
				continue;
			ret = xa_insert(&seen, id[k], xa_mk_value(0),
					GFP_KERNEL_ACCOUNT);
			if (!ret)
				++*ghosts;
			else if (ret == -EBUSY)
				ret = 0;
		}
	}
	xa_destroy(&seen);
	return ret;
}

int kcr_read_tree(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	const struct ckpt_pids *pids;
	unsigned int ghosts;
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
	pids = (struct ckpt_pids *)(h + 1);
	ret = kcr_tree_max_ghosts(pids, h->nr_tasks, &ghosts);
	if (ret)
		goto out;
	r->max_tasks = h->nr_tasks + ghosts;
	r->tasks = kvcalloc(r->max_tasks, sizeof(*r->tasks),
			    GFP_KERNEL_ACCOUNT);
	r->order = kvmalloc_array(r->max_tasks, sizeof(*r->order),
				  GFP_KERNEL_ACCOUNT);
	if (!r->tasks || !r->order) {
		ret = -ENOMEM;
		goto out;
	}
	r->nr_tasks = h->nr_tasks;
	r->nr_image = h->nr_tasks;
	ctx->restore_nr_tasks = h->nr_tasks;
	for (i = 0; i < r->nr_tasks; i++) {
		kcr_rtask_init(r, i);
		memcpy(&r->tasks[i].pids, pids + i, sizeof(*pids));
	}
	ret = kcr_tree_vpids(ctx, r, (s32 *)(pids + r->nr_tasks),
			     h->nr_vpids);
	if (!ret)
		ret = kcr_tree_check(ctx, r);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/* Create the tasks of the list that starts at j, in its order. */
static int kcr_create_list(struct ckpt_ctx *ctx, struct kcr_restart *r, int j)
{
	pid_t pid;

	for (; j >= 0; j = r->tasks[j].next) {
		pid = kcr_create_task(ctx, &r->tasks[j]);
		if (pid < 0)
			return pid;
	}
	return 0;
}

int kcr_create_children(struct ckpt_ctx *ctx, struct kcr_rtask *rt)
{
	return kcr_create_list(ctx, rt->r, rt->children);
}

int kcr_create_threads(struct ckpt_ctx *ctx, struct kcr_rtask *rt)
{
	return kcr_create_list(ctx, rt->r, rt->threads);
}

/* The task of rt, or NULL; under rcu_read_lock(). */
static struct task_struct *kcr_rtask_task(struct kcr_rtask *rt)
{
	/* Pairs with the release in kcr_create_task(). */
	return pid_task(smp_load_acquire(&rt->spid), PIDTYPE_PID);
}

/* The process group of the restored task idx, in current's namespace. */
static pid_t kcr_pgid_of(struct kcr_restart *r, int idx)
{
	struct task_struct *t;
	pid_t pgid = 0;

	rcu_read_lock();
	t = kcr_rtask_task(&r->tasks[idx]);
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
	int j;

	for (j = rt->children; j >= 0; j = r->tasks[j].next)
		if (r->tasks[j].pid > 0)
			kcr_reap(r->tasks[j].pid);
}

void kcr_reap_ghosts(struct kcr_rtask *rt)
{
	struct kcr_restart *r = rt->r;
	int j;

	for (j = rt->children; j >= 0; j = r->tasks[j].next)
		if (r->tasks[j].ghost && r->tasks[j].pid > 0)
			kcr_reap(r->tasks[j].pid);
}

/*
 * Once the ghosts have exited: each of their orphans must have gone to
 * the parent of the image (the kernel gives them to the nearest child
 * subreaper or pid namespace init above the ghost, which the image's
 * parent must be), with the exit signal of the image (reparenting sets
 * SIGCHLD).
 */
int kcr_check_reparented(struct ckpt_ctx *ctx, struct kcr_restart *r)
{
	struct task_struct *t, *p;
	unsigned int i;
	int ret = 0;

	rcu_read_lock();
	for (i = 0; !ret && i < r->nr_image; i++) {
		struct kcr_rtask *rt = &r->tasks[i];

		if (rt->creator == rt->parent || rt->zombie)
			continue;
		t = kcr_rtask_task(rt);
		p = kcr_rtask_task(&r->tasks[rt->parent]);
		if (!t || !p)
			ret = -ESRCH;
		else if (rcu_dereference(t->real_parent) != p)
			ret = -EOPNOTSUPP;
		else if (READ_ONCE(t->exit_signal) != rt->exit_signal)
			ret = -EINVAL;
	}
	rcu_read_unlock();
	if (ret == -EOPNOTSUPP)
		return ckpt_err(ctx, ret,
				"pid %d: its session's leader has exited and the kernel did not give it to its parent %d (a child subreaper or pid namespace init, in the image)",
				r->tasks[i - 1].pids.vpid,
				r->tasks[i - 1].pids.vppid);
	if (ret == -EINVAL)
		return ckpt_err(ctx, ret,
				"pid %d: exit signal %d, but an orphan's is SIGCHLD",
				r->tasks[i - 1].pids.vpid,
				r->tasks[i - 1].exit_signal);
	return ret;
}

/*
 * A failed restart whose ghosts have exited: the caller's process may
 * be the subreaper that their orphans went to. Reap those it got, as
 * they die.
 */
void kcr_reap_adopted(struct kcr_restart *r)
{
	struct task_struct *t;
	struct pid *sp;
	unsigned int i;
	pid_t pid;

	for (i = 1; i < r->nr_image; i++) {
		struct kcr_rtask *rt = &r->tasks[i];

		/* Pairs with the release in kcr_create_task(). */
		sp = smp_load_acquire(&rt->spid);
		if (rt->creator == rt->parent || !sp)
			continue;
		rcu_read_lock();
		t = pid_task(sp, PIDTYPE_PID);
		/* Any thread of a subreaper may be the one they went to. */
		pid = t && same_thread_group(rcu_dereference(t->real_parent),
					     current) ? pid_vnr(sp) : 0;
		rcu_read_unlock();
		if (pid > 0)
			kcr_reap(pid);
	}
}
