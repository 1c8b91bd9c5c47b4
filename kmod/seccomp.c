// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of a task's seccomp state: strict mode, or its stack of
 * classic BPF filters, oldest first, each with its log flag.
 *
 * The filters are read where the kernel keeps them: task->seccomp.filter
 * is a chain of struct seccomp_filter (private to kernel/seccomp.c),
 * newest first, whose bpf_prog keeps the program as it was installed
 * (orig_prog, with CONFIG_CHECKPOINT_RESTORE). seccomp_get_filter(),
 * PTRACE_SECCOMP_GET_FILTER's implementation, reads the same but only
 * for an unfiltered CAP_SYS_ADMIN caller and into user memory: a
 * filtered task could not checkpoint itself, nor could a restart inside
 * a sandbox compare its own filters with the image's. So struct
 * kcr_seccomp_filter below repeats the kernel's layout (Linux 6.1), and
 * every filter read through it is checked for what must hold.
 */
#include <linux/bitmap.h>
#include <linux/filter.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kcr.h"
#include "siglock.h"
#include "seccomp.h"

/* kernel/seccomp.c, struct seccomp_filter, up to the fields we read. */
struct kcr_seccomp_filter {
	refcount_t refs;
	refcount_t users;
	bool log;
	bool wait_killable_recv;
#ifdef SECCOMP_ARCH_NATIVE
	struct {
		DECLARE_BITMAP(allow_native, SECCOMP_ARCH_NATIVE_NR);
#ifdef SECCOMP_ARCH_COMPAT
		DECLARE_BITMAP(allow_compat, SECCOMP_ARCH_COMPAT_NR);
#endif
	} cache;
#endif
	struct kcr_seccomp_filter *prev;
	struct bpf_prog *prog;
	void *notif;		/* struct notification: a listener exists */
};

/* The filter chain cannot be longer: each one costs 4 + len of 32768. */
#define KCR_SECCOMP_CHAIN_MAX	(((1 << 18) / sizeof(struct sock_filter)) / 5)

struct kcr_seccomp_count {
	struct kcr_seccomp_filter *head;
	int mode;
	u32 nr;
	size_t insns;
	const char *bad;	/* why it cannot be checkpointed */
};

/* Under t's siglock: no filter of t can be freed meanwhile. */
static void kcr_seccomp_count(struct task_struct *t,
			      struct kcr_seccomp_count *c)
{
	struct kcr_seccomp_filter *f;

	c->mode = t->seccomp.mode;
	c->head = (struct kcr_seccomp_filter *)t->seccomp.filter;
	c->nr = 0;
	c->insns = 0;
	c->bad = NULL;
	for (f = c->head; f && !c->bad; f = f->prev) {
		struct sock_fprog_kern *fp = f->prog ? f->prog->orig_prog :
					     NULL;

		if (++c->nr > KCR_SECCOMP_CHAIN_MAX || !fp || !fp->filter ||
		    !fp->len || fp->len > BPF_MAXINSNS)
			c->bad = "a seccomp filter whose program the kernel did not keep (or an unexpected struct seccomp_filter)";
		else if (f->notif)
			c->bad = "a seccomp filter with a user-notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER)";
		else
			c->insns += fp->len;
	}
	if (!c->bad && (c->mode == SECCOMP_MODE_FILTER) != !!c->head)
		c->bad = "a seccomp mode that does not match its filters";
}

/* Under t's siglock, the chain being the one counted in c. */
static void kcr_seccomp_copy(struct kcr_seccomp_count *c,
			     struct kcr_seccomp_state *s)
{
	struct sock_filter *insns = (void *)&s->progs[c->nr];
	struct kcr_seccomp_filter *f;
	u32 i = c->nr;

	s->mode = c->mode;
	s->nr = c->nr;
	/* Newest first in the chain, oldest first in the state. */
	for (f = c->head; f; f = f->prev) {
		struct sock_fprog_kern *fp = f->prog->orig_prog;
		struct kcr_seccomp_prog *p = &s->progs[--i];

		p->flags = f->log ? CKPT_SECCOMP_FILTER_LOG : 0;
		p->len = fp->len;
		p->insns = insns;
		memcpy(insns, fp->filter, fp->len * sizeof(*insns));
		insns += fp->len;
	}
}

int kcr_seccomp_read(struct ckpt_ctx *ctx, struct task_struct *t,
		     struct kcr_seccomp_state **out)
{
	struct kcr_seccomp_state *s = NULL;
	struct kcr_seccomp_count c;
	struct sighand_struct *sh;
	unsigned long flags;
	int tries;

	/*
	 * Count, allocate, copy if the chain is still the same (a frozen
	 * task does not change it; a self-checkpoint is current).
	 */
	for (tries = 0; tries < 3; tries++) {
		size_t size;

		sh = kcr_task_lock_sighand(t, &flags);
		if (!sh)
			goto gone;
		kcr_seccomp_count(t, &c);
		kcr_task_unlock_sighand(sh, &flags);
		if (c.bad)
			return ckpt_err(ctx, -EOPNOTSUPP, "%s", c.bad);

		size = struct_size(s, progs, c.nr) +
		       c.insns * sizeof(struct sock_filter);
		s = kvzalloc(size, GFP_KERNEL_ACCOUNT);
		if (!s)
			return -ENOMEM;

		sh = kcr_task_lock_sighand(t, &flags);
		if (!sh) {
			kvfree(s);
			goto gone;
		}
		if ((void *)t->seccomp.filter == c.head &&
		    t->seccomp.mode == c.mode) {
			kcr_seccomp_copy(&c, s);
			kcr_task_unlock_sighand(sh, &flags);
			*out = s;
			return 0;
		}
		kcr_task_unlock_sighand(sh, &flags);
		kvfree(s);
	}
	return ckpt_err(ctx, -EBUSY, "seccomp filters changed while read");
gone:
	return ckpt_err(ctx, -ESRCH, "task exited while its seccomp state was read");
}

/*
 * seccomp forces speculation mitigations on a task when a filter is
 * installed without SECCOMP_FILTER_FLAG_SPEC_ALLOW (and the kernel's
 * spec_store_bypass_disable=seccomp mode says so): the flag itself is not
 * kept, but its effect is in the task's PFA flags.
 */
static bool kcr_seccomp_spec_forced(struct task_struct *t)
{
	return task_spec_ssb_force_disable(t) || task_spec_ib_force_disable(t);
}

/* SECCOMP and its SECCOMP_FILTER records: written after the CPU record. */
int checkpoint_seccomp(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct kcr_seccomp_state *s;
	struct ckpt_hdr_seccomp *h;
	u32 i;
	int ret;

	ret = kcr_seccomp_read(ctx, t, &s);
	if (ret)
		return ret;
	ret = -ENOMEM;
	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_SECCOMP);
	if (!h)
		goto out;
	switch (s->mode) {
	case SECCOMP_MODE_DISABLED:
		h->mode = CKPT_SECCOMP_MODE_DISABLED;
		break;
	case SECCOMP_MODE_STRICT:
		h->mode = CKPT_SECCOMP_MODE_STRICT;
		break;
	case SECCOMP_MODE_FILTER:
		h->mode = CKPT_SECCOMP_MODE_FILTER;
		break;
	default:
		ckpt_hdr_put(ctx, h);
		ret = ckpt_err(ctx, -EOPNOTSUPP, "seccomp mode %d", s->mode);
		goto out;
	}
	if (!kcr_seccomp_spec_forced(t))
		h->flags |= CKPT_SECCOMP_SPEC_ALLOW;
	h->nr_filters = s->nr;
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);

	for (i = 0; !ret && i < s->nr; i++) {
		struct kcr_seccomp_prog *p = &s->progs[i];
		struct ckpt_hdr_seccomp_filter *fh;
		size_t bytes = p->len * sizeof(struct sock_filter);

		fh = ckpt_hdr_get_type(ctx, sizeof(*fh) + bytes,
				       CKPT_HDR_SECCOMP_FILTER);
		if (!fh) {
			ret = -ENOMEM;
			break;
		}
		fh->flags = p->flags;
		fh->len = p->len;
		memcpy(fh + 1, p->insns, bytes);
		ret = ckpt_write_obj(ctx, &fh->h);
		ckpt_hdr_put(ctx, fh);
	}
out:
	kvfree(s);
	return ret;
}
