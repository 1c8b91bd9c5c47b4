// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of signal state, restart blocks and the thread record
 * (not written yet: every function refuses).
 */
#include "kcr.h"

int restore_obj_sighand(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_obj_signal(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_signal_task(struct ckpt_ctx *ctx)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_restart_block(struct ckpt_ctx *ctx)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_thread(struct ckpt_ctx *ctx)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}
