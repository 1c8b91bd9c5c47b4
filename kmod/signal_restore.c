// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of signal state, restart blocks and the thread record.
 * Placeholder: the records are read and checked for shape only; the
 * task keeps the signal state it was created with.
 */
#include <linux/err.h>
#include <linux/sched/signal.h>

#include "kcr.h"

static const struct ckpt_obj_ops kcr_sighand_ops = {
	.objtype = CKPT_OBJ_SIGHAND,
};
static const struct ckpt_obj_ops kcr_signal_ops = {
	.objtype = CKPT_OBJ_SIGNAL,
};

/* Plenty: a queue longer than this is refused. */
#define KCR_MAX_PENDING	4096

static int kcr_skip(struct ckpt_ctx *ctx, size_t len, u32 type,
		    size_t max_payload)
{
	void *h = ckpt_read_obj_payload(ctx, len, type, max_payload, NULL);

	if (IS_ERR(h))
		return PTR_ERR(h);
	ckpt_hdr_put(ctx, h);
	return 0;
}

static int kcr_skip_pending(struct ckpt_ctx *ctx)
{
	return kcr_skip(ctx, sizeof(struct ckpt_hdr_sigpending),
			CKPT_HDR_SIGPENDING,
			KCR_MAX_PENDING * sizeof(struct ckpt_siginfo));
}

int restore_obj_sighand(struct ckpt_ctx *ctx, int objref)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_sighand),
			   CKPT_HDR_SIGHAND,
			   _NSIG * sizeof(struct ckpt_sigaction));

	return ret ? ret : ckpt_obj_insert(ctx, current->sighand, objref,
					   &kcr_sighand_ops);
}

int restore_obj_signal(struct ckpt_ctx *ctx, int objref)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_signal),
			   CKPT_HDR_SIGNAL, 0);

	if (!ret)
		ret = kcr_skip_pending(ctx);
	return ret ? ret : ckpt_obj_insert(ctx, current->signal, objref,
					   &kcr_signal_ops);
}

int restore_signal_task(struct ckpt_ctx *ctx)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_signal_task),
			   CKPT_HDR_SIGNAL_TASK, 0);

	return ret ? ret : kcr_skip_pending(ctx);
}

int restore_restart_block(struct ckpt_ctx *ctx)
{
	return kcr_skip(ctx, sizeof(struct ckpt_hdr_restart_block),
			CKPT_HDR_RESTART_BLOCK, 0);
}

int restore_thread(struct ckpt_ctx *ctx)
{
	return kcr_skip(ctx, sizeof(struct ckpt_hdr_thread), CKPT_HDR_THREAD,
			0);
}
