/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: the state of one restart shared by the coordinator and the tasks
 * it restores (restart.c, restart_tree.c).
 */
#ifndef _KCR_RESTART_H
#define _KCR_RESTART_H

#include <linux/pid_namespace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/task_work.h>
#include <linux/wait.h>

#include "kcr.h"

struct kcr_restart;

/* One task of the image's TREE, as it is restored. */
struct kcr_rtask {
	struct kcr_restart *r;
	int idx;			/* in r->tasks, TREE order */
	struct ckpt_pids pids;		/* its entry of TREE */
	const s32 *vpids;		/* pids.depth nested pids, or NULL */
	/*
	 * Index of its parent (-1: the root, whose parent is the caller),
	 * or KCR_THREAD for a thread, which its leader creates.
	 */
	int parent;
	/*
	 * The task that creates it: its parent, a thread's leader, or the
	 * ghost of its session; -1 for the root (the coordinator).
	 */
	int creator;
	int leader;			/* a thread's leader; -1: a process */
	int ghost;			/* KCR_GHOST_*: made for a dead leader */
	bool released;			/* a ghost may exit now */
	/*
	 * What it creates, as lists in TREE order through next (-1 ends
	 * them): its child processes, and its threads if a leader.
	 */
	int children;
	int threads;
	int next;
	/*
	 * Its process group: KCR_PGRP_INHERIT (its creator's), _OWN (it
	 * leads one) or the index of an earlier task of the tree whose
	 * group it joins.
	 */
	int pgrp;
	bool session_leader;		/* setsid() */
	pid_t pid;			/* as created, in its creator's ns */
	struct pid *spid;		/* the same, for any namespace */
	/* Set under r->wq's lock, read by the waiters of r->wq. */
	bool done;			/* its records are read (err: how) */
	bool zombie;			/* it exits as it did, in its turn */
	int exit_code;			/* a zombie's wait status */
	int exit_signal;		/* set once a zombie is one, else at go */
	int pdeath_signal;		/* set at go: a ghost's exit sends it */
	struct task_struct *task;	/* a zombie, until then */
	bool loaded;			/* registers loaded, or it is dying */
	int err;
	void *cpu;			/* kcr_arch_restore_cpu() state */
	struct callback_head work;
	/*
	 * Its own queue for its turn and then for the verdict: one for
	 * all would wake every task at every turn or report, N² wakeups
	 * for a tree of N.
	 */
	wait_queue_head_t turn_wq;
};

#define KCR_THREAD		(-2)

#define KCR_GHOST_SESSION	1	/* setsid(), creates the orphans */
#define KCR_GHOST_GROUP		2	/* setpgid(0, 0) for others to join */

/* Pid namespaces below the root's that a task of an image may be in. */
#define KCR_MAX_PID_DEPTH	MAX_PID_NS_LEVEL

#define KCR_PGRP_INHERIT	(-1)
#define KCR_PGRP_OWN		(-2)

/*
 * Hand-over between the caller (the coordinator) and the tasks it
 * restores. Any of them may be killed while the others still run: a
 * coordinator killed while a task reads a stalled image, a task killed
 * while the coordinator reads the tail. So each holds a reference, the
 * last one frees the context, and no one waits for another without
 * being killable.
 *
 * r also holds the /dev/checkpoint file that the ioctl came through,
 * and with it the module, from the start: a RESTART_TASKSELF caller may
 * close its own descriptor of it in the restore of its file table, and
 * a restored task runs module code (a task_work on its way to user mode)
 * after the coordinator is gone. The last reference's fput() leaves
 * __fput(), which drops the module, to a task_work of the kernel's that
 * runs after ours has returned.
 *
 * The tasks read their records one after the other, in TREE order: the
 * coordinator gives the turn (turn), each task reports on r->wq when its
 * records are read, then waits on its turn_wq for the verdict on the
 * tail.
 */
struct kcr_restart {
	refcount_t users;
	struct ckpt_ctx *ctx;
	struct file *dev;
	unsigned int nr_tasks;		/* TREE's, then the ghosts */
	unsigned int nr_image;		/* TREE's */
	unsigned int max_tasks;		/* room in tasks */
	struct kcr_rtask *tasks;
	int *order;			/* of the turns, by index in tasks */
	s32 *vpids;			/* TREE's, for the tasks' vpids */
	wait_queue_head_t wq;
	int turn;			/* task reading its records, or -1 */
	int verdict;			/* KCR_VERDICT_* */
	int cgroup;			/* RESTART_FROZEN: the cgroup's fd */
	struct file *freeze;		/* RESTART_FROZEN: its cgroup.freeze */
};

#define KCR_VERDICT_PENDING	0
#define KCR_VERDICT_GO		1
#define KCR_VERDICT_ABORT	(-1)

void kcr_restart_put(struct kcr_restart *r);
/* Fail the restart: every task still restoring ends (restart.c). */
void kcr_restart_abort(struct kcr_restart *r);

/*
 * restart_tree.c: read and check TREE into r->tasks; create the
 * children of task rt (from rt, during its turn); give rt the session
 * and process group of the image (from rt, at the start of its turn);
 * reap the children rt created, which are ending (from a failing rt).
 */
int kcr_read_tree(struct ckpt_ctx *ctx, struct kcr_restart *r);
int kcr_create_children(struct ckpt_ctx *ctx, struct kcr_rtask *rt);
/* restart_tree.c: the threads of process rt (from rt, in its turn) */
int kcr_create_threads(struct ckpt_ctx *ctx, struct kcr_rtask *rt);
int kcr_restore_pgrp(struct ckpt_ctx *ctx, struct kcr_rtask *rt);
void kcr_reap_children(struct kcr_rtask *rt);
/* restart_tree.c: reap the ghosts that rt created, which have exited */
void kcr_reap_ghosts(struct kcr_rtask *rt);
/* restart_tree.c: check that the orphans of ghosts went to their parents */
int kcr_check_reparented(struct ckpt_ctx *ctx, struct kcr_restart *r);
/* restart_tree.c: reap the orphans that went to the failed coordinator */
void kcr_reap_adopted(struct kcr_restart *r);
/* restart.c: create the task of rt, a child of current */
pid_t kcr_create_task(struct ckpt_ctx *ctx, struct kcr_rtask *rt);
/* restart.c: reap pid, current's child, whatever its exit signal */
void kcr_reap(pid_t pid);

#endif /* _KCR_RESTART_H */
