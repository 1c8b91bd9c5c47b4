// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of a task's namespaces (the NS, UTS_NS and TASK_NS
 * records that ns.c writes).
 *
 * A restarted task is put in the restarter's namespaces, as a forked
 * child would be, except for UTS. That is only right when the image's
 * task was in the checkpointer's namespaces (CKPT_NS_CALLER), and when
 * the namespaces the restarted task ends up in are the restarter's: the
 * coordinator's child gets the restarter's pid and time namespaces *for
 * children*, which differ from the restarter's own after an
 * unshare(CLONE_NEWPID or CLONE_NEWTIME). Anything else is refused with
 * EOPNOTSUPP and a message naming the kind of namespace.
 *
 * UTS is restored with its contents: when the image's task had a UTS
 * namespace of its own, or its nodename or domainname differ from the
 * restarter's, the task gets a new UTS namespace with the image's names.
 * It is made by the kernel's unshare path (unshare_nsproxy_namespaces():
 * CAP_SYS_ADMIN over the restarter's user namespace, checked with the
 * restarter's credentials, which are current's until the image's are
 * committed); without that right the restart fails with EPERM. sysname,
 * release, version and machine stay the running kernel's.
 *
 * restore_task_ns() only checks and prepares: it runs before restart.c's
 * point of no return (ctx->restore_changed), where a failed
 * RESTART_TASKSELF returns the caller to its old self, so it must not
 * change current. The prepared nsproxy waits in ctx->restore_nsproxy;
 * restore_task_ns_commit(), called right after the point of no return,
 * installs it (switch_task_namespaces(), which cannot fail). Nothing can
 * fail between the two, so the nsproxy is never left behind.
 */
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/nsproxy.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>

#include "kcr.h"
#include "ksyms.h"

static const struct ckpt_obj_ops kcr_ipc_ns_ops = {
	.objtype = CKPT_OBJ_IPC_NS,
};

/*
 * At restart a UTS_NS object is the image's record (the names), and an
 * NS object the struct below: what they are on checkpoint (kernel
 * objects used as identities, kcr_uts_ns_ops and kcr_ns_ops) cannot be
 * made from an image before we know which namespaces the task will
 * have. Hence ops of their own here.
 */
static void kcr_uts_names_drop(void *ptr)
{
	kfree(ptr);
}

static const struct ckpt_obj_ops kcr_uts_names_ops = {
	.objtype = CKPT_OBJ_UTS_NS,
	.drop = kcr_uts_names_drop,
};

struct kcr_ns_obj {
	const struct ckpt_hdr_uts_ns *uts;	/* its UTS_NS object */
	/*
	 * The nsproxy made for the tasks of this NS object (a reference),
	 * or NULL while none is needed; tasks that share the object share
	 * it, as they shared the checkpointed one.
	 */
	struct nsproxy *nsp;
};

/* put_nsproxy(), whose free_nsproxy() is not exported */
static void kcr_put_nsproxy(struct nsproxy *nsp)
{
	if (kcr_nsproxy_dec_and_test(nsp))
		kcr_free_nsproxy(nsp);
}

static void kcr_ns_obj_drop(void *ptr)
{
	struct kcr_ns_obj *obj = ptr;

	if (obj->nsp)
		kcr_put_nsproxy(obj->nsp);
	kfree(obj);
}

static const struct ckpt_obj_ops kcr_ns_obj_ops = {
	.objtype = CKPT_OBJ_NS,
	.drop = kcr_ns_obj_drop,
};

static bool kcr_uts_field_ok(const __u8 *f)
{
	return strnlen(f, CKPT_UTS_LEN) < CKPT_UTS_LEN;
}

int restore_obj_uts_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_uts_ns *h, *names;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_UTS_NS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = -EINVAL;
	if (!kcr_uts_field_ok(h->sysname) || !kcr_uts_field_ok(h->nodename) ||
	    !kcr_uts_field_ok(h->release) || !kcr_uts_field_ok(h->version) ||
	    !kcr_uts_field_ok(h->machine) ||
	    !kcr_uts_field_ok(h->domainname) || h->__pad[0] || h->__pad[1]) {
		ret = ckpt_err(ctx, -EINVAL,
			       "UTS namespace record: a name without its NUL, or padding not zero");
		goto out;
	}
	names = kmemdup(h, sizeof(*h), GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!names)
		goto out;
	ret = ckpt_obj_insert(ctx, names, objref, &kcr_uts_names_ops);
	if (ret)
		kfree(names);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_obj_ipc_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	if (kcr_restore_target(ctx, t))
		return -EINVAL;

	return ckpt_err(ctx, -EOPNOTSUPP,
			"objref %d: IPC namespaces are not restored yet",
			objref);
}

int restore_obj_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct kcr_ns_obj *obj;
	struct ckpt_hdr_ns *h;
	void *uts;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_NS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	uts = ckpt_obj_fetch(ctx, h->uts_ref, CKPT_OBJ_UTS_NS);
	if (IS_ERR(uts)) {
		ret = PTR_ERR(uts);
		goto out;
	}
	if (h->ipc_ref || h->mnt_ref || h->net_ref) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "namespaces: ipc %d mnt %d net %d: only the UTS namespace is restored with its contents",
			       h->ipc_ref, h->mnt_ref, h->net_ref);
		goto out;
	}
	obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!obj)
		goto out;
	obj->uts = uts;
	ret = ckpt_obj_insert(ctx, obj, objref, &kcr_ns_obj_ops);
	if (ret)
		kfree(obj);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * The namespaces the restarter has (kcr_reference_namespaces()): the
 * caller of the ioctl, the coordinator (the parent of the root, not of
 * the other tasks) or, with RESTART_TASKSELF, current.
 */
static int kcr_restarter_namespaces(struct ckpt_ctx *ctx,
				    const void *ns[CKPT_NS_NKINDS])
{
	return kcr_reference_namespaces(ctx->restarter, ns);
}

/*
 * Check the TASK_NS record against the namespaces the task is about to
 * have: current's, with the user namespace of the credentials it will
 * get (restore_creds() prepared them).
 */
static int kcr_check_restore_ns(struct ckpt_ctx *ctx,
				const struct ckpt_hdr_task_ns *h)
{
	const void *mine[CKPT_NS_NKINDS], *theirs[CKPT_NS_NKINDS];
	unsigned int k;
	int ret;

	for (k = 0; k < CKPT_NS_NKINDS; k++) {
		/* The caller's, or the one of a task of the tree. */
		if (h->ns[k] < 0 || h->ns[k] > ctx->restore_nr_tasks)
			return ckpt_err(ctx, -EINVAL,
					"task namespaces: %s namespace %d",
					kcr_ns_name(k), h->ns[k]);
	}
	/* Pid namespaces are made as the tree is (restart_tree.c). */
	if (h->ns[CKPT_NS_PID_FOR_CHILDREN] != h->ns[CKPT_NS_PID])
		return ckpt_err(ctx, -EOPNOTSUPP,
				"the task had its own pid namespace for its children (unshare(CLONE_NEWPID)): not supported yet");
	for (k = 0; k < CKPT_NS_NKINDS; k++) {
		if (k == CKPT_NS_UTS || h->ns[k] == CKPT_NS_CALLER ||
		    k == CKPT_NS_PID || k == CKPT_NS_PID_FOR_CHILDREN)
			continue;
		return ckpt_err(ctx, -EOPNOTSUPP,
				"the image's task is in its own %s namespace: not supported yet",
				kcr_ns_name(k));
	}

	ret = kcr_task_namespaces(current, mine);
	if (!ret)
		ret = kcr_restarter_namespaces(ctx, theirs);
	if (ret)
		return ckpt_err(ctx, ret, "namespaces of the restarter");
	if (ctx->restore_cred)
		mine[CKPT_NS_USER] = ctx->restore_cred->user_ns;
	/*
	 * A pid namespace that the tree made (the image's task was not in
	 * the checkpointer's): not the restarter's, and the task's children
	 * go into it. The image's tasks in the checkpointer's are checked
	 * with the other kinds below: they must land in the restarter's.
	 */
	if (h->ns[CKPT_NS_PID] != CKPT_NS_CALLER) {
		if (mine[CKPT_NS_PID] == theirs[CKPT_NS_PID] ||
		    mine[CKPT_NS_PID_FOR_CHILDREN] != mine[CKPT_NS_PID])
			return ckpt_err(ctx, -EINVAL,
					"task namespaces: pid namespace %d, but the task is in the restarter's, or its children would not be in its own",
					h->ns[CKPT_NS_PID]);
		mine[CKPT_NS_PID] = theirs[CKPT_NS_PID];
		mine[CKPT_NS_PID_FOR_CHILDREN] = theirs[CKPT_NS_PID_FOR_CHILDREN];
	}
	for (k = 0; k < CKPT_NS_NKINDS; k++) {
		if (k == CKPT_NS_UTS || mine[k] == theirs[k])
			continue;
		return ckpt_err(ctx, -EOPNOTSUPP,
				"the restarted task would be in a %s namespace other than the restarter's, and the image's task was in the checkpointer's",
				kcr_ns_name(k));
	}
	return 0;
}

/*
 * Whether the task needs a UTS namespace of its own: it had one, or the
 * restarter's names differ from the image's. uts_sem is not exported: a
 * name changed meanwhile by sethostname() may be read torn, which can
 * only make us create a namespace that was not needed.
 */
static bool kcr_uts_differs(const struct ckpt_hdr_task_ns *h,
			    const struct ckpt_hdr_uts_ns *names)
{
	const struct new_utsname *cur = &current->nsproxy->uts_ns->name;

	return h->ns[CKPT_NS_UTS] != CKPT_NS_CALLER ||
	       strncmp(cur->nodename, names->nodename, CKPT_UTS_LEN) ||
	       strncmp(cur->domainname, names->domainname, CKPT_UTS_LEN);
}

/*
 * A new nsproxy with a new UTS namespace holding the image's names, made
 * as unshare(CLONE_NEWUTS) would, with its permission check. Nobody else
 * sees the namespace yet: its names are written without uts_sem.
 */
static int kcr_new_uts(struct ckpt_ctx *ctx, struct kcr_ns_obj *obj)
{
	struct nsproxy *nsp = NULL;
	struct new_utsname *name;
	int ret;

	ret = kcr_unshare_nsproxy_namespaces(CLONE_NEWUTS, &nsp, NULL, NULL);
	if (ret == -EPERM)
		return ckpt_err(ctx, -EPERM,
				"hostname \"%s\" domainname \"%s\": the task needs a UTS namespace of its own, and creating one needs CAP_SYS_ADMIN",
				obj->uts->nodename, obj->uts->domainname);
	if (ret || !nsp)
		return ckpt_err(ctx, ret ?: -EINVAL,
				"cannot create a UTS namespace");
	name = &nsp->uts_ns->name;
	strscpy_pad(name->nodename, obj->uts->nodename,
		    sizeof(name->nodename));
	strscpy_pad(name->domainname, obj->uts->domainname,
		    sizeof(name->domainname));
	obj->nsp = nsp;
	return 0;
}

int restore_task_ns(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task_ns *h;
	struct kcr_ns_obj *obj;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	/* Left by a task whose restore stopped before committing it. */
	if (ctx->restore_nsproxy) {
		kcr_put_nsproxy(ctx->restore_nsproxy);
		ctx->restore_nsproxy = NULL;
	}
	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TASK_NS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	obj = ckpt_obj_fetch(ctx, h->ns_ref, CKPT_OBJ_NS);
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		goto out;
	}
	if (h->__pad) {
		ret = ckpt_err(ctx, -EINVAL, "task namespaces: padding %#x",
			       h->__pad);
		goto out;
	}
	ret = kcr_check_restore_ns(ctx, h);
	if (ret)
		goto out;
	if (!obj->nsp && kcr_uts_differs(h, obj->uts))
		ret = kcr_new_uts(ctx, obj);
	if (!ret && obj->nsp) {
		get_nsproxy(obj->nsp);
		ctx->restore_nsproxy = obj->nsp;
	}
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

void restore_task_ns_commit(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct nsproxy *nsp = ctx->restore_nsproxy;

	if (kcr_restore_target(ctx, t))
		return;
	ctx->restore_nsproxy = NULL;
	/* The reference taken in restore_task_ns() goes to current. */
	if (nsp)
		kcr_switch_task_namespaces(current, nsp);
}
