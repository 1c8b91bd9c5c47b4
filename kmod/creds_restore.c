// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of credentials
 * (not written yet: every function refuses).
 */
#include "kcr.h"

int restore_obj_cred(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_obj_user(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_obj_user_ns(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_obj_groupinfo(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_creds(struct ckpt_ctx *ctx)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}
