/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: helpers shared by the arch/<arch>.c files.
 *
 * The CPU records are filled from the ptrace regsets (the NT_* notes of
 * core dumps) rather than from pt_regs and thread_struct directly: the
 * regset get functions are exported through regset_get(), know where each
 * register lives (pt_regs, thread_struct, the FPU save area, or still in
 * the CPU for current), and save the live FPU/vector state of current
 * first. Their output is the ptrace ABI, which the record layouts follow,
 * so a restart can hand the same bytes back to the regset set functions.
 */
#ifndef _KCR_ARCH_ARCH_H
#define _KCR_ARCH_ARCH_H

#include <linux/errno.h>
#include <linux/regset.h>
#include <linux/sched.h>

/* The regset of view that core dumps write as note type note, or NULL. */
static inline const struct user_regset *
kcr_arch_regset(const struct user_regset_view *view, unsigned int note)
{
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == note)
			return &view->regsets[i];
	return NULL;
}

/* Bytes of a regset's full contents: what regset_get() writes at most. */
static inline unsigned int kcr_arch_regset_size(const struct user_regset *rs)
{
	return rs->n * rs->size;
}

/*
 * Copy exactly size bytes of regset note of t into buf. A regset that this
 * kernel does not have, that is smaller than size, or whose get function
 * fails (-ENODEV: the CPU lacks the facility) is an error: the record
 * field would otherwise silently hold zeroes instead of registers.
 */
static inline int kcr_arch_regset_get(struct task_struct *t,
				      const struct user_regset_view *view,
				      unsigned int note, void *buf,
				      unsigned int size)
{
	const struct user_regset *rs = kcr_arch_regset(view, note);
	int ret;

	if (!rs)
		return -ENODEV;
	if (kcr_arch_regset_size(rs) < size)
		return -EINVAL;
	ret = regset_get(t, rs, size, buf);
	if (ret < 0)
		return ret;
	return ret == size ? 0 : -EIO;
}

#endif /* _KCR_ARCH_ARCH_H */
