// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of a task's seccomp state, the last step of its restore
 * (after its credentials are committed).
 *
 * Filters are installed by the seccomp() system call's own code, made
 * by the restored task for itself (usercall.c), so its rules apply as if
 * the task installed them again: no_new_privs or CAP_SYS_ADMIN in the
 * task's user namespace, the 256 KiB path limit, the log and
 * speculation flags.
 *
 * A task made by kernel_clone() starts with its parent's filters, and a
 * RESTART_TASKSELF caller keeps its own: the restored task can never be
 * less constrained than the restarter. It is exactly what the image says
 * when the restarter's filters are the image's oldest ones (a restart in
 * the sandbox the checkpoint was taken in): only the newer ones are
 * installed. Any other restarter state would leave the restored task
 * under filters it did not have, and is refused.
 */
#include <linux/err.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "kcr.h"
#include "seccomp.h"
#include "usercall.h"

/* The kernel's MAX_INSNS_PER_PATH and its penalty per filter. */
#define KCR_SECCOMP_PATH_MAX	((1 << 18) / sizeof(struct sock_filter))
#define KCR_SECCOMP_PENALTY	4

struct kcr_seccomp_image {
	struct ckpt_hdr_seccomp *h;
	struct ckpt_hdr_seccomp_filter **f;	/* h->nr_filters records */
};

static void kcr_seccomp_image_free(struct ckpt_ctx *ctx,
				   struct kcr_seccomp_image *img)
{
	u32 i;

	if (img->f) {
		for (i = 0; i < img->h->nr_filters; i++)
			if (img->f[i])
				ckpt_hdr_put(ctx, img->f[i]);
		kvfree(img->f);
	}
	if (img->h)
		ckpt_hdr_put(ctx, img->h);
}

static int kcr_seccomp_read_image(struct ckpt_ctx *ctx,
				  struct kcr_seccomp_image *img)
{
	struct ckpt_hdr_seccomp *h;
	size_t path = 0;
	u32 i;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_SECCOMP);
	if (IS_ERR(h))
		return PTR_ERR(h);
	img->h = h;
	if (h->mode > CKPT_SECCOMP_MODE_FILTER || h->__pad ||
	    (h->flags & ~(u32)CKPT_SECCOMP_SPEC_ALLOW))
		return ckpt_err(ctx, -EINVAL,
				"seccomp record: mode %u flags %#x", h->mode,
				h->flags);
	if ((h->mode == CKPT_SECCOMP_MODE_FILTER) != !!h->nr_filters ||
	    h->nr_filters > CKPT_SECCOMP_MAX_FILTERS)
		return ckpt_err(ctx, -EINVAL,
				"seccomp record: mode %u with %u filters",
				h->mode, h->nr_filters);
	if (!h->nr_filters)
		return 0;
	img->f = kvcalloc(h->nr_filters, sizeof(*img->f), GFP_KERNEL_ACCOUNT);
	if (!img->f)
		return -ENOMEM;
	for (i = 0; i < h->nr_filters; i++) {
		struct ckpt_hdr_seccomp_filter *f;
		size_t payload;

		f = ckpt_read_obj_payload(ctx, sizeof(*f),
					  CKPT_HDR_SECCOMP_FILTER,
					  CKPT_SECCOMP_MAX_INSNS *
					  sizeof(struct sock_filter),
					  &payload);
		if (IS_ERR(f))
			return PTR_ERR(f);
		img->f[i] = f;
		if ((f->flags & ~(u32)CKPT_SECCOMP_FILTER_LOG) || !f->len ||
		    f->len > CKPT_SECCOMP_MAX_INSNS ||
		    payload != f->len * sizeof(struct sock_filter))
			return ckpt_err(ctx, -EINVAL,
					"seccomp filter %u: flags %#x, %u instructions in %zu bytes",
					i, f->flags, f->len, payload);
		path += f->len + KCR_SECCOMP_PENALTY;
		if (path > KCR_SECCOMP_PATH_MAX)
			return ckpt_err(ctx, -EINVAL,
					"seccomp filters: more than %zu instructions on a path",
					KCR_SECCOMP_PATH_MAX);
	}
	return 0;
}

static const char *kcr_seccomp_mode_name(int mode)
{
	switch (mode) {
	case SECCOMP_MODE_STRICT:
		return "strict mode";
	case SECCOMP_MODE_FILTER:
		return "filters";
	}
	return "no seccomp";
}

/*
 * How many of the image's filters current already has: the restarter's
 * filters, which must be the image's first ones; or an error.
 */
static int kcr_seccomp_inherited(struct ckpt_ctx *ctx,
				 struct kcr_seccomp_image *img, u32 *skip)
{
	struct kcr_seccomp_state *cur;
	int ret = 0;
	u32 i;

	*skip = 0;
	ret = kcr_seccomp_read(ctx, current, &cur);
	if (ret)
		return ret;
	if (cur->mode == SECCOMP_MODE_DISABLED)
		goto out;
	if (cur->mode != SECCOMP_MODE_FILTER ||
	    img->h->mode != CKPT_SECCOMP_MODE_FILTER ||
	    cur->nr > img->h->nr_filters) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "the restarter runs under seccomp %s (%u filters) and the image has %u filters: the restored task would not have its own",
			       kcr_seccomp_mode_name(cur->mode), cur->nr,
			       img->h->nr_filters);
		goto out;
	}
	for (i = 0; i < cur->nr; i++) {
		struct ckpt_hdr_seccomp_filter *f = img->f[i];

		if (f->len != cur->progs[i].len ||
		    f->flags != cur->progs[i].flags ||
		    memcmp(f + 1, cur->progs[i].insns,
			   f->len * sizeof(struct sock_filter))) {
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "the restarter's seccomp filter %u (of %u) is not the image's: the restored task would run under filters it did not have",
				       i, cur->nr);
			goto out;
		}
	}
	*skip = cur->nr;
out:
	kvfree(cur);
	return ret;
}

static int kcr_seccomp_install(struct ckpt_ctx *ctx,
			       struct kcr_seccomp_image *img, u32 from)
{
	unsigned long addr, prog;
	size_t maplen = 0;
	struct sock_fprog fprog;
	u32 i;
	int ret;

	ret = kcr_scratch_map(sizeof(fprog) + CKPT_SECCOMP_MAX_INSNS *
			      sizeof(struct sock_filter), &addr, &maplen);
	if (ret)
		return ckpt_err(ctx, ret, "seccomp: no room for the filters");
	prog = addr + ALIGN(sizeof(fprog), 8);
	for (i = from; i < img->h->nr_filters; i++) {
		struct ckpt_hdr_seccomp_filter *f = img->f[i];
		unsigned int flags = 0;
		long err;

		if (f->flags & CKPT_SECCOMP_FILTER_LOG)
			flags |= SECCOMP_FILTER_FLAG_LOG;
		if (img->h->flags & CKPT_SECCOMP_SPEC_ALLOW)
			flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		memset(&fprog, 0, sizeof(fprog));
		fprog.len = f->len;
		fprog.filter = (struct sock_filter __user *)prog;
		if (copy_to_user((void __user *)prog, f + 1,
				 f->len * sizeof(struct sock_filter)) ||
		    copy_to_user((void __user *)addr, &fprog, sizeof(fprog))) {
			ret = ckpt_err(ctx, -EFAULT, "seccomp: scratch memory");
			break;
		}
		err = kcr_syscall(kcr_sys_seccomp, SECCOMP_SET_MODE_FILTER,
				  flags, addr, 0);
		if (err == -EACCES) {
			ret = ckpt_err(ctx, -EPERM,
				       "seccomp filter %u: installing it needs no_new_privs or CAP_SYS_ADMIN, which the restored task has not",
				       i);
			break;
		}
		if (err) {
			ret = ckpt_err(ctx, (int)err,
				       "seccomp filter %u: the kernel refuses it",
				       i);
			break;
		}
	}
	kcr_scratch_unmap(addr, maplen);
	return ret;
}

int restore_seccomp(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct kcr_seccomp_image img = { };
	u32 skip;
	long err;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	ret = kcr_seccomp_read_image(ctx, &img);
	if (!ret)
		ret = kcr_seccomp_inherited(ctx, &img, &skip);
	if (ret)
		goto out;
	switch (img.h->mode) {
	case CKPT_SECCOMP_MODE_STRICT:
		err = kcr_syscall(kcr_sys_seccomp, SECCOMP_SET_MODE_STRICT, 0,
				  0, 0);
		if (err)
			ret = ckpt_err(ctx, (int)err, "seccomp strict mode");
		break;
	case CKPT_SECCOMP_MODE_FILTER:
		ret = kcr_seccomp_install(ctx, &img, skip);
		break;
	}
out:
	kcr_seccomp_image_free(ctx, &img);
	return ret;
}
