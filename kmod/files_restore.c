// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of file tables, files and fs_struct
 * (not written yet: every function refuses).
 */
#include "kcr.h"

int restore_obj_file_table(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_obj_file(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}

int restore_obj_fs(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}
