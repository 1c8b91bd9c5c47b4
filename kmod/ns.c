// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of a task's namespaces.
 *
 * The TASK_NS record says, for every kind of namespace (uts, ipc, mnt,
 * net, cgroup, time and time for children, pid and pid for children,
 * user), whether the task is in the checkpointer's namespace of that
 * kind or in another one, and then which task of the tree first is in
 * it (CKPT_NS_* in checkpoint_hdr.h). Only the UTS namespace is saved
 * with its contents (the NS and UTS_NS records); a task in a namespace of
 * another kind that is not the checkpointer's is refused with EOPNOTSUPP
 * and a message naming the kind, until the contents of that kind are
 * saved (IPC and mount with shared state, pid with process trees, user
 * with the credentials work). Nothing is dropped silently.
 *
 * The objhash keeps no reference to an nsproxy or a uts_namespace (their
 * ops have no grab/drop), and the namespaces compared here are not
 * hashed at all: their pointers serve as identities only. An identity
 * cannot be reused during a checkpoint: the tasks are frozen (or current,
 * inside this ioctl) and cannot unshare or setns, and each one pins its
 * nsproxy and credentials, which pin its namespaces; the checkpointer's
 * own are current's, which only current changes.
 */
#include <linux/cred.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
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

/* Names of the CKPT_NS_* kinds, as the messages and kcr info use them. */
static const char *const kcr_ns_names[CKPT_NS_NKINDS] = {
	[CKPT_NS_UTS]			= "UTS",
	[CKPT_NS_IPC]			= "IPC",
	[CKPT_NS_MNT]			= "mount",
	[CKPT_NS_NET]			= "network",
	[CKPT_NS_CGROUP]		= "cgroup",
	[CKPT_NS_TIME]			= "time",
	[CKPT_NS_TIME_FOR_CHILDREN]	= "time-for-children",
	[CKPT_NS_PID]			= "pid",
	[CKPT_NS_PID_FOR_CHILDREN]	= "pid-for-children",
	[CKPT_NS_USER]			= "user",
};

const char *kcr_ns_name(unsigned int kind)
{
	return kind < CKPT_NS_NKINDS ? kcr_ns_names[kind] : "unknown";
}

/*
 * The identities of t's namespaces, by CKPT_NS_* kind; -ESRCH when t is
 * exiting (it has no nsproxy or pid any more).
 */
int kcr_task_namespaces(struct task_struct *t, const void *ns[CKPT_NS_NKINDS])
{
	struct nsproxy *nsp;

	task_lock(t);
	nsp = t->nsproxy;
	if (!nsp) {
		task_unlock(t);
		return -ESRCH;
	}
	ns[CKPT_NS_UTS] = nsp->uts_ns;
	ns[CKPT_NS_IPC] = nsp->ipc_ns;
	ns[CKPT_NS_MNT] = nsp->mnt_ns;
	ns[CKPT_NS_NET] = nsp->net_ns;
	ns[CKPT_NS_CGROUP] = nsp->cgroup_ns;
	ns[CKPT_NS_TIME] = nsp->time_ns;
	ns[CKPT_NS_TIME_FOR_CHILDREN] = nsp->time_ns_for_children;
	ns[CKPT_NS_PID_FOR_CHILDREN] = nsp->pid_ns_for_children;
	task_unlock(t);
	ns[CKPT_NS_PID] = task_active_pid_ns(t);
	rcu_read_lock();
	ns[CKPT_NS_USER] = __task_cred(t)->user_ns;
	rcu_read_unlock();
	return ns[CKPT_NS_PID] ? 0 : -ESRCH;
}

/*
 * The namespaces a task is compared with: those of the checkpointer (or
 * restarter). For the *_FOR_CHILDREN kinds, its own pid and time
 * namespaces: a task whose children go where the checkpointer itself is
 * has not unshared them; one that has differs, whatever the checkpointer
 * did for its own children.
 */
int kcr_reference_namespaces(struct task_struct *t,
			     const void *ns[CKPT_NS_NKINDS])
{
	int ret = kcr_task_namespaces(t, ns);

	ns[CKPT_NS_PID_FOR_CHILDREN] = ns[CKPT_NS_PID];
	ns[CKPT_NS_TIME_FOR_CHILDREN] = ns[CKPT_NS_TIME];
	return ret;
}

/*
 * Fill h->ns[]: CKPT_NS_CALLER where t shares the checkpointer's
 * namespace, else the number (from 1) of the first task of the tree in
 * that namespace.
 */
static int kcr_task_ns_ids(struct ckpt_ctx *ctx, struct task_struct *t,
			   struct ckpt_hdr_task_ns *h)
{
	const void *caller[CKPT_NS_NKINDS], *mine[CKPT_NS_NKINDS];
	const void *other[CKPT_NS_NKINDS];
	unsigned int k;
	int i, ret;

	ret = kcr_reference_namespaces(current, caller);
	if (!ret)
		ret = kcr_task_namespaces(t, mine);
	if (ret)
		return ckpt_err(ctx, ret, "task has no namespaces (exiting?)");
	for (k = 0; k < CKPT_NS_NKINDS; k++)
		h->ns[k] = mine[k] == caller[k] ? CKPT_NS_CALLER : -1;
	for (i = 0; i < ctx->nr_tasks; i++) {
		if (ctx->tasks[i] == t) {
			memcpy(other, mine, sizeof(other));
		} else {
			ret = kcr_task_namespaces(ctx->tasks[i], other);
			if (ret)
				continue;
		}
		for (k = 0; k < CKPT_NS_NKINDS; k++)
			if (h->ns[k] < 0 && other[k] == mine[k])
				h->ns[k] = i + 1;
	}
	for (k = 0; k < CKPT_NS_NKINDS; k++)
		if (h->ns[k] < 0)
			return ckpt_err(ctx, -EINVAL,
					"task is not in the checkpoint's tree");
	return 0;
}

/*
 * Refuse the namespaces whose contents are not saved: they would be
 * replaced by the restarter's. UTS is saved.
 */
static int kcr_check_task_ns(struct ckpt_ctx *ctx, struct task_struct *t,
			     const struct ckpt_hdr_task_ns *h)
{
	pid_t pid = task_pid_vnr(t);
	unsigned int k;

	/*
	 * Pid namespaces made by clone(CLONE_NEWPID) come back as they were
	 * made; one that unshare(CLONE_NEWPID) prepared for the task's next
	 * children would not (its children would land in the task's own).
	 */
	if (h->ns[CKPT_NS_PID_FOR_CHILDREN] != h->ns[CKPT_NS_PID])
		return ckpt_err(ctx, -EOPNOTSUPP,
				"task %d has its own pid namespace for its children (unshare(CLONE_NEWPID)): not supported yet",
				pid);
	for (k = 0; k < CKPT_NS_NKINDS; k++) {
		if (k == CKPT_NS_UTS || k == CKPT_NS_PID ||
		    k == CKPT_NS_PID_FOR_CHILDREN ||
		    h->ns[k] == CKPT_NS_CALLER)
			continue;
		switch (k) {
		case CKPT_NS_USER:
			return ckpt_err(ctx, -EOPNOTSUPP,
					"task %d is in its own user namespace: not supported yet",
					pid);
		case CKPT_NS_TIME_FOR_CHILDREN:
			return ckpt_err(ctx, -EOPNOTSUPP,
					"task %d has its own time namespace (unshared for its children): not supported yet",
					pid);
		default:
			return ckpt_err(ctx, -EOPNOTSUPP,
					"task %d is in its own %s namespace: not supported yet",
					pid, kcr_ns_name(k));
		}
	}
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

	ht = ckpt_hdr_get_type(ctx, sizeof(*ht), CKPT_HDR_TASK_NS);
	if (!ht)
		return -ENOMEM;
	ret = kcr_task_ns_ids(ctx, t, ht);
	if (!ret)
		ret = kcr_check_task_ns(ctx, t, ht);
	if (ret) {
		ckpt_hdr_put(ctx, ht);
		return ret;
	}

	hu = ckpt_hdr_get_type(ctx, sizeof(*hu), CKPT_HDR_UTS_NS);
	ret = -ENOMEM;
	if (!hu)
		goto out_ht;
	ret = kcr_fill_uts(t, hu, &nsp, &uts);
	if (ret) {
		ret = ckpt_err(ctx, ret, "task has no namespaces (exiting?)");
		goto out;
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

	ht->ns_ref = ns_ref;
	ret = ckpt_write_obj(ctx, &ht->h);
out:
	ckpt_hdr_put(ctx, hu);
out_ht:
	ckpt_hdr_put(ctx, ht);
	return ret;
}
