// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of credentials. Placeholder: the records are read and
 * checked for shape only, and the task keeps the restarter's
 * credentials (never more than the restarter has).
 */
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "kcr.h"

static const struct ckpt_obj_ops kcr_cred_ops = { .objtype = CKPT_OBJ_CRED };
static const struct ckpt_obj_ops kcr_user_ops = { .objtype = CKPT_OBJ_USER };
static const struct ckpt_obj_ops kcr_user_ns_ops = {
	.objtype = CKPT_OBJ_USER_NS,
};
static const struct ckpt_obj_ops kcr_groupinfo_ops = {
	.objtype = CKPT_OBJ_GROUPINFO,
};

/* Read one record with up to max_payload bytes, discard it. */
static int kcr_skip(struct ckpt_ctx *ctx, size_t len, u32 type,
		    size_t max_payload)
{
	void *h = ckpt_read_obj_payload(ctx, len, type, max_payload, NULL);

	if (IS_ERR(h))
		return PTR_ERR(h);
	ckpt_hdr_put(ctx, h);
	return 0;
}

int restore_obj_cred(struct ckpt_ctx *ctx, int objref)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_cred), CKPT_HDR_CRED, 0);

	return ret ? ret : ckpt_obj_insert(ctx, (void *)current_cred(), objref,
					   &kcr_cred_ops);
}

int restore_obj_user(struct ckpt_ctx *ctx, int objref)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_user), CKPT_HDR_USER, 0);

	return ret ? ret : ckpt_obj_insert(ctx, current_user(), objref,
					   &kcr_user_ops);
}

int restore_obj_user_ns(struct ckpt_ctx *ctx, int objref)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_user_ns),
			   CKPT_HDR_USER_NS,
			   2 * UID_GID_MAP_MAX_EXTENTS *
			   sizeof(struct ckpt_id_extent));

	return ret ? ret : ckpt_obj_insert(ctx, current_user_ns(), objref,
					   &kcr_user_ns_ops);
}

int restore_obj_groupinfo(struct ckpt_ctx *ctx, int objref)
{
	int ret = kcr_skip(ctx, sizeof(struct ckpt_hdr_groupinfo),
			   CKPT_HDR_GROUPINFO, NGROUPS_MAX * sizeof(u32));

	return ret ? ret : ckpt_obj_insert(ctx, current_cred()->group_info,
					   objref, &kcr_groupinfo_ops);
}

int restore_creds(struct ckpt_ctx *ctx)
{
	return kcr_skip(ctx, sizeof(struct ckpt_hdr_task_creds),
			CKPT_HDR_TASK_CREDS, 0);
}
