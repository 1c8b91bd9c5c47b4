// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of a task's namespaces (the NS, UTS_NS and TASK_NS
 * records that ns.c writes).
 */
#include <linux/err.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/utsname.h>

#include "kcr.h"

/*
 * Namespaces. A subtree image is restarted inside the restarter's
 * namespaces (the task joins them, as a forked child would): their
 * records are read and checked, and the objects stand for the
 * restarter's own namespaces. Restoring namespaces of their own comes
 * with container images.
 */
static const struct ckpt_obj_ops kcr_ipc_ns_ops = {
	.objtype = CKPT_OBJ_IPC_NS,
};

int restore_obj_uts_ns(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_uts_ns *h;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_UTS_NS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = ckpt_obj_insert(ctx, current->nsproxy->uts_ns, objref,
			      &kcr_uts_ns_ops);
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_obj_ipc_ns(struct ckpt_ctx *ctx, int objref)
{
	return ckpt_err(ctx, -EOPNOTSUPP,
			"objref %d: IPC namespaces are not restored yet",
			objref);
}

int restore_obj_ns(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_ns *h;
	void *uts;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_NS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	uts = ckpt_obj_fetch(ctx, h->uts_ref, CKPT_OBJ_UTS_NS);
	if (IS_ERR(uts))
		ret = PTR_ERR(uts);
	else if (h->ipc_ref || h->mnt_ref || h->net_ref)
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "namespaces: ipc %d mnt %d net %d: only the UTS namespace is supported",
			       h->ipc_ref, h->mnt_ref, h->net_ref);
	if (!ret)
		ret = ckpt_obj_insert(ctx, current->nsproxy, objref,
				      &kcr_ns_ops);
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_task_ns(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_task_ns *h;
	void *ns;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TASK_NS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ns = ckpt_obj_fetch(ctx, h->ns_ref, CKPT_OBJ_NS);
	if (IS_ERR(ns))
		ret = PTR_ERR(ns);
	ckpt_hdr_put(ctx, h);
	return ret;
}
