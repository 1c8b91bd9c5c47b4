// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of the address space
 * (not written yet: every function refuses).
 */
#include "kcr.h"

int restore_obj_mm(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "%s: not implemented yet", __func__);
}
