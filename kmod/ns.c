// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of a task's namespaces.
 *
 * For now the image carries the UTS namespace only; the NS record leaves
 * the IPC, mount and network namespaces out (0: a restarted task keeps
 * the restarting task's). The objhash keeps no reference to an nsproxy
 * or a uts_namespace: put_nsproxy() and put_uts_ns() end in functions
 * that are not exported, so a reference taken here could never be
 * dropped. Their pointers serve as identities only. An identity cannot
 * be reused during a checkpoint: the tasks are frozen (or current, inside
 * this ioctl) and cannot unshare or setns, and each one pins its nsproxy,
 * which pins its namespaces.
 */
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>

#include "kcr.h"

const struct ckpt_obj_ops kcr_ns_ops = {
	.objtype = CKPT_OBJ_NS,
};

const struct ckpt_obj_ops kcr_uts_ns_ops = {
	.objtype = CKPT_OBJ_UTS_NS,
};

static void kcr_copy_utsfield(__u8 *dst, const char *src)
{
	BUILD_BUG_ON(sizeof_field(struct ckpt_hdr_uts_ns, sysname) !=
		     sizeof_field(struct new_utsname, sysname));
	strscpy_pad(dst, src, CKPT_UTS_LEN);
}

/*
 * The UTS namespace record, filled under task_lock(t): t's nsproxy, and
 * with it the namespace, stays while the lock is held. uts_sem, which
 * sethostname() takes, is not exported: another task of the namespace
 * could change a name while we copy it; a name so caught half-written is
 * still NUL-terminated.
 */
static int kcr_fill_uts(struct task_struct *t, struct ckpt_hdr_uts_ns *h,
			struct nsproxy **nsp, struct uts_namespace **uts)
{
	struct new_utsname *name;

	task_lock(t);
	*nsp = t->nsproxy;
	if (!*nsp) {
		task_unlock(t);
		return -ESRCH;
	}
	*uts = (*nsp)->uts_ns;
	name = &(*uts)->name;
	kcr_copy_utsfield(h->sysname, name->sysname);
	kcr_copy_utsfield(h->nodename, name->nodename);
	kcr_copy_utsfield(h->release, name->release);
	kcr_copy_utsfield(h->version, name->version);
	kcr_copy_utsfield(h->machine, name->machine);
	kcr_copy_utsfield(h->domainname, name->domainname);
	task_unlock(t);
	return 0;
}

int checkpoint_task_ns(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_uts_ns *hu;
	struct ckpt_hdr_task_ns *ht;
	struct ckpt_hdr_ns *hn;
	struct uts_namespace *uts;
	struct nsproxy *nsp;
	int ns_ref, uts_ref;
	bool first;
	int ret;

	hu = ckpt_hdr_get_type(ctx, sizeof(*hu), CKPT_HDR_UTS_NS);
	if (!hu)
		return -ENOMEM;
	ret = kcr_fill_uts(t, hu, &nsp, &uts);
	if (ret) {
		ckpt_hdr_put(ctx, hu);
		return ckpt_err(ctx, ret, "task has no namespaces (exiting?)");
	}

	ns_ref = ckpt_obj_lookup_add(ctx, nsp, &kcr_ns_ops, &first);
	if (ns_ref < 0) {
		ret = ns_ref;
		goto out;
	}
	if (first) {
		ret = ckpt_write_objref(ctx, CKPT_OBJ_NS, ns_ref);
		if (ret)
			goto out;

		uts_ref = ckpt_obj_lookup_add(ctx, uts, &kcr_uts_ns_ops,
					      &first);
		if (uts_ref < 0) {
			ret = uts_ref;
			goto out;
		}
		if (first) {
			ret = ckpt_write_objref(ctx, CKPT_OBJ_UTS_NS, uts_ref);
			if (!ret)
				ret = ckpt_write_obj(ctx, &hu->h);
			if (ret)
				goto out;
		}

		hn = ckpt_hdr_get_type(ctx, sizeof(*hn), CKPT_HDR_NS);
		ret = -ENOMEM;
		if (!hn)
			goto out;
		hn->uts_ref = uts_ref;
		ret = ckpt_write_obj(ctx, &hn->h);
		ckpt_hdr_put(ctx, hn);
		if (ret)
			goto out;
	}

	ht = ckpt_hdr_get_type(ctx, sizeof(*ht), CKPT_HDR_TASK_NS);
	ret = -ENOMEM;
	if (!ht)
		goto out;
	ht->ns_ref = ns_ref;
	ret = ckpt_write_obj(ctx, &ht->h);
	ckpt_hdr_put(ctx, ht);
out:
	ckpt_hdr_put(ctx, hu);
	return ret;
}
