// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: task state that this version cannot restore exactly, refused at
 * checkpoint (EOPNOTSUPP and a message) before anything of the task is
 * written:
 *  - a Landlock domain: its rulesets hold opened paths and rights that
 *    no interface can read back;
 *  - a SysV semaphore undo list (semop() with SEM_UNDO): its adjustments
 *    belong to semaphore sets that are not in the image.
 * Userfaultfd-registered mappings are refused in memory.c.
 */
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <uapi/linux/landlock.h>

#include "kcr.h"
#include "ksyms.h"
#include "usercall.h"

#ifdef CONFIG_SYSVIPC
/*
 * ipc/sem.c's struct sem_undo_list, which it keeps private; the same in
 * 6.1 and 6.12. A thread made with CLONE_SYSVSEM (every pthread) gets an
 * empty list shared with its process: only entries, which semop() with
 * SEM_UNDO adds, are state that would be lost.
 */
struct kcr_sem_undo_list {
	refcount_t refcnt;
	spinlock_t lock;
	struct list_head list_proc;
};

/*
 * Whether t has semaphore adjustments. Unlocked: t is frozen and only it
 * adds entries; one removed meanwhile (IPC_RMID elsewhere) can only make
 * the answer too strict.
 */
static bool kcr_sem_undo(struct task_struct *t)
{
	struct kcr_sem_undo_list *ul = (void *)READ_ONCE(t->sysvsem.undo_list);

	return ul && !list_empty_careful(&ul->list_proc);
}
#endif

/*
 * Landlock keeps a task's domain in its LSM blob of struct cred, at an
 * offset only Landlock knows. Its ptrace_traceme hook asks the question
 * we need: may t trace current? No when t is landlocked in a domain that
 * current is not within, which for a checkpointer outside any domain is
 * exactly "t is landlocked". The hook may only run when Landlock is on
 * (else the blob offset is meaningless): landlock_create_ruleset()'s
 * version query says whether it is.
 */
static bool kcr_landlocked(struct task_struct *t)
{
	long abi;

	if (!kcr_landlock_hook_ptrace_traceme)
		return false;
	abi = kcr_syscall(kcr_sys_landlock_create_ruleset, 0, 0,
			  LANDLOCK_CREATE_RULESET_VERSION, 0);
	return abi > 0 && kcr_landlock_hook_ptrace_traceme(t) == -EPERM;
}

int checkpoint_unsupported(struct ckpt_ctx *ctx, struct task_struct *t)
{
	if (kcr_landlocked(t))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"a Landlock domain (landlock_restrict_self) cannot be checkpointed");
#ifdef CONFIG_SYSVIPC
	if (kcr_sem_undo(t))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"a SysV semaphore undo list (semop with SEM_UNDO) cannot be checkpointed");
#endif
	return 0;
}
