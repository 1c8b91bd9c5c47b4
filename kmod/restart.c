// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: CKPT_IOC_RESTART, linux-cr's sys_restart() (being written).
 */
#include <linux/err.h>

#include "kcr.h"

int restore_obj(struct ckpt_ctx *ctx, u32 objtype, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "objects: not implemented yet");
}

int restore_obj_ns(struct ckpt_ctx *ctx, int objref)
{
	return -EOPNOTSUPP;
}

int restore_obj_uts_ns(struct ckpt_ctx *ctx, int objref)
{
	return -EOPNOTSUPP;
}

int restore_obj_ipc_ns(struct ckpt_ctx *ctx, int objref)
{
	return -EOPNOTSUPP;
}

long kcr_ioctl_restart(struct file *dev, void __user *uarg)
{
	return -EOPNOTSUPP;
}
