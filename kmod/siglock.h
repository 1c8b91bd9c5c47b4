/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: lock_task_sighand(), which modules cannot call (its
 * __lock_task_sighand() is not exported): t->sighand can change
 * (de_thread()) or go (__exit_signal()) until its siglock is held, so
 * check it is still t's once locked. NULL: t has been released.
 */
#ifndef _KCR_SIGLOCK_H
#define _KCR_SIGLOCK_H

#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>

static inline struct sighand_struct *
kcr_task_lock_sighand(struct task_struct *t, unsigned long *flags)
{
	struct sighand_struct *sighand;

	rcu_read_lock();
	for (;;) {
		sighand = rcu_dereference(t->sighand);
		if (!sighand)
			break;
		spin_lock_irqsave(&sighand->siglock, *flags);
		if (likely(sighand == rcu_access_pointer(t->sighand)))
			break;
		spin_unlock_irqrestore(&sighand->siglock, *flags);
	}
	rcu_read_unlock();
	return sighand;
}

static inline void kcr_task_unlock_sighand(struct sighand_struct *sighand,
					   unsigned long *flags)
{
	spin_unlock_irqrestore(&sighand->siglock, *flags);
}

#endif /* _KCR_SIGLOCK_H */
