/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: a task's seccomp state as seccomp.c reads it, for checkpoint (the
 * target's) and restart (the restarter's, which a restored task inherits
 * and which must be a prefix of the image's).
 */
#ifndef _KCR_SECCOMP_H
#define _KCR_SECCOMP_H

#include <linux/filter.h>
#include <linux/types.h>

struct ckpt_ctx;
struct task_struct;

struct kcr_seccomp_prog {
	u32 flags;			/* CKPT_SECCOMP_FILTER_* */
	u32 len;			/* instructions */
	struct sock_filter *insns;
};

struct kcr_seccomp_state {
	int mode;			/* SECCOMP_MODE_* */
	u32 nr;				/* filters */
	struct kcr_seccomp_prog progs[];	/* oldest first */
};

/*
 * t's seccomp state (t frozen, or current), copied: free it with
 * kvfree(). A filter with a user-notification listener, or one whose
 * program the kernel did not keep, is -EOPNOTSUPP after ckpt_err().
 */
int kcr_seccomp_read(struct ckpt_ctx *ctx, struct task_struct *t,
		     struct kcr_seccomp_state **out);

#endif /* _KCR_SECCOMP_H */
