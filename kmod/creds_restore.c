// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of credentials (linux-cr's restore_cred & co).
 *
 * The objects of the image become:
 *	USER_NS		the restarter's user namespace: only the root task's
 *			own namespace (level 0) can be restored for now, and
 *			it stands for the namespace the restart runs in; the
 *			image's ids are mapped through it;
 *	USER		a uid (the user_struct is looked up when a CRED uses
 *			it, once the CRED passed its checks);
 *	GROUPINFO	a group_info;
 *	CRED		a struct cred built from the restarter's own
 *			(prepare_creds(): LSM labels and keyrings stay the
 *			restarter's), with the image's ids, groups,
 *			capabilities and securebits.
 * restore_creds() leaves the task's credentials in ctx->restore_cred and
 * restore_ecred; restart.c commits them once the task is restored.
 *
 * Security: a restart must never give its caller more than it has. Each
 * CRED is checked against the restarter's credentials (current's, which
 * do not change until restart.c commits) with the rules of the system
 * calls that would set the same state:
 *	uids		setresuid(), setfsuid(): any with CAP_SETUID in the
 *			restarter's user namespace, else each one of the
 *			restarter's real, effective or saved uids (the fs uid
 *			may also be its fs uid);
 *	gids		the same with setresgid(), setfsgid() and CAP_SETGID;
 *	groups		setgroups(): CAP_SETGID, or the restarter's own;
 *	capabilities	capset(): permitted within the restarter's permitted,
 *			inheritable within its inheritable and bounding set
 *			(and its permitted set without CAP_SETPCAP), effective
 *			within the new permitted; prctl(): the bounding set
 *			within the restarter's, ambient within the new
 *			permitted and inheritable;
 *	securebits	PR_SET_SECUREBITS: a change needs CAP_SETPCAP, and
 *			locked bits and locks never change.
 * A violation is -EPERM with a message; the LSM hooks of the same calls
 * (task_fix_setuid, task_fix_setgid, task_fix_setgroups, capset) are
 * asked too.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/sched/user.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <uapi/linux/securebits.h>

#include "kcr.h"
#include "ksyms.h"

/* The capability bits this kernel knows, as 64-bit masks. */
#define KCR_CAP_VALID	(CAP_LAST_CAP >= 63 ? ~0ULL : \
			 (1ULL << (CAP_LAST_CAP + 1)) - 1)

/* A USER object: the kernel uid of a user_struct to be. */
struct kcr_user {
	kuid_t uid;
};

static void kcr_user_drop(void *ptr)
{
	kfree(ptr);
}

static const struct ckpt_obj_ops kcr_user_ops = {
	.objtype = CKPT_OBJ_USER,
	.drop = kcr_user_drop,
};

int restore_obj_user_ns(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_user_ns *h;
	size_t payload;
	int ret;

	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_USER_NS,
				  2 * UID_GID_MAP_MAX_EXTENTS *
				  sizeof(struct ckpt_id_extent), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->nr_uid_extents > UID_GID_MAP_MAX_EXTENTS ||
	    h->nr_gid_extents > UID_GID_MAP_MAX_EXTENTS ||
	    payload != (size_t)(h->nr_uid_extents + h->nr_gid_extents) *
		       sizeof(struct ckpt_id_extent)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "user namespace: %u uid and %u gid extents in %zu bytes",
			       h->nr_uid_extents, h->nr_gid_extents, payload);
		goto out;
	}
	if (h->level || h->parent_ref) {
		ret = ckpt_err(ctx, h->level && h->parent_ref ? -EOPNOTSUPP :
			       -EINVAL,
			       "user namespace at level %u (parent objref %d): nested user namespaces are not restored yet",
			       h->level, h->parent_ref);
		goto out;
	}
	/* The root task's namespace: the restart's own. */
	ret = ckpt_obj_insert(ctx, current_user_ns(), objref,
			      &kcr_user_ns_ops);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_obj_user(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_user *h;
	struct user_namespace *ns;
	struct kcr_user *u;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_USER);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ns = ckpt_obj_fetch(ctx, h->user_ns_ref, CKPT_OBJ_USER_NS);
	if (IS_ERR(ns)) {
		ret = PTR_ERR(ns);
		goto out;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u) {
		ret = -ENOMEM;
		goto out;
	}
	u->uid = make_kuid(ns, h->uid);
	if (!uid_valid(u->uid)) {
		kfree(u);
		ret = ckpt_err(ctx, -EINVAL,
			       "user: uid %u has no mapping in the user namespace",
			       h->uid);
		goto out;
	}
	ret = ckpt_obj_insert(ctx, u, objref, &kcr_user_ops);
	if (ret)
		kfree(u);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_obj_groupinfo(struct ckpt_ctx *ctx, int objref)
{
	struct user_namespace *ns = current_user_ns();
	struct ckpt_hdr_groupinfo *h;
	struct group_info *gi;
	size_t payload;
	u32 *gids, i;
	int ret;

	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_GROUPINFO,
				  NGROUPS_MAX * sizeof(u32), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	if (h->ngroups > NGROUPS_MAX ||
	    payload != (size_t)h->ngroups * sizeof(u32)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "supplementary groups: %u groups in %zu bytes",
			       h->ngroups, payload);
		goto out;
	}
	gi = groups_alloc(h->ngroups);
	if (!gi) {
		ret = ckpt_err(ctx, -ENOMEM, "no memory for %u groups",
			       h->ngroups);
		goto out;
	}
	gids = (u32 *)(h + 1);
	ret = 0;
	for (i = 0; i < h->ngroups; i++) {
		gi->gid[i] = make_kgid(ns, gids[i]);
		if (!gid_valid(gi->gid[i])) {
			ret = ckpt_err(ctx, -EINVAL,
				       "supplementary group %u has no mapping in the user namespace",
				       gids[i]);
			break;
		}
	}
	if (!ret) {
		groups_sort(gi);
		ret = ckpt_obj_insert(ctx, gi, objref, &kcr_groupinfo_ops);
	}
	put_group_info(gi);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/* The credentials a CRED record asks for, in kernel terms. */
struct kcr_cred {
	kuid_t uid, euid, suid, fsuid;
	kgid_t gid, egid, sgid, fsgid;
	kernel_cap_t inh, perm, eff, bset, amb;
	unsigned int securebits;
	struct group_info *gi;
};

static u64 kcr_cap64(kernel_cap_t c)
{
	u64 v = 0;
	int i;

	BUILD_BUG_ON(_KERNEL_CAPABILITY_U32S > 2);
	for (i = 0; i < _KERNEL_CAPABILITY_U32S; i++)
		v |= (u64)c.cap[i] << (32 * i);
	return v;
}

static int kcr_cap_from(struct ckpt_ctx *ctx, const char *what, u64 v,
			kernel_cap_t *c)
{
	int i;

	if (v & ~KCR_CAP_VALID)
		return ckpt_err(ctx, -EINVAL,
				"credentials: %s capabilities %#llx: unknown capabilities %#llx",
				what, v, v & ~KCR_CAP_VALID);
	for (i = 0; i < _KERNEL_CAPABILITY_U32S; i++)
		c->cap[i] = (u32)(v >> (32 * i));
	return 0;
}

/* Map and check the shape of a CRED record into nc (no permissions yet). */
static int kcr_cred_decode(struct ckpt_ctx *ctx, struct ckpt_hdr_cred *h,
			   struct user_namespace *ns, struct kcr_cred *nc)
{
	static const char * const uname[] = { "uid", "euid", "suid", "fsuid" };
	static const char * const gname[] = { "gid", "egid", "sgid", "fsgid" };
	u32 uids[] = { h->uid, h->euid, h->suid, h->fsuid };
	u32 gids[] = { h->gid, h->egid, h->sgid, h->fsgid };
	kuid_t *ku[] = { &nc->uid, &nc->euid, &nc->suid, &nc->fsuid };
	kgid_t *kg[] = { &nc->gid, &nc->egid, &nc->sgid, &nc->fsgid };
	int i, ret;

	for (i = 0; i < 4; i++) {
		*ku[i] = make_kuid(ns, uids[i]);
		if (!uid_valid(*ku[i]))
			return ckpt_err(ctx, -EINVAL,
					"credentials: %s %u has no mapping in the user namespace",
					uname[i], uids[i]);
		*kg[i] = make_kgid(ns, gids[i]);
		if (!gid_valid(*kg[i]))
			return ckpt_err(ctx, -EINVAL,
					"credentials: %s %u has no mapping in the user namespace",
					gname[i], gids[i]);
	}
	ret = kcr_cap_from(ctx, "inheritable", h->caps.cap_inheritable,
			   &nc->inh);
	if (!ret)
		ret = kcr_cap_from(ctx, "permitted", h->caps.cap_permitted,
				   &nc->perm);
	if (!ret)
		ret = kcr_cap_from(ctx, "effective", h->caps.cap_effective,
				   &nc->eff);
	if (!ret)
		ret = kcr_cap_from(ctx, "bounding", h->caps.cap_bset,
				   &nc->bset);
	if (!ret)
		ret = kcr_cap_from(ctx, "ambient", h->caps.cap_ambient,
				   &nc->amb);
	if (ret)
		return ret;
	if (h->securebits & ~(u32)(SECURE_ALL_BITS | SECURE_ALL_LOCKS))
		return ckpt_err(ctx, -EINVAL, "credentials: securebits %#x",
				h->securebits);
	nc->securebits = h->securebits;
	/* What the kernel itself keeps true (cap_ambient_invariant_ok()). */
	if (!cap_issubset(nc->eff, nc->perm) ||
	    !cap_issubset(nc->amb, cap_intersect(nc->perm, nc->inh)))
		return ckpt_err(ctx, -EINVAL,
				"credentials: effective %#llx or ambient %#llx capabilities beyond permitted %#llx / inheritable %#llx",
				h->caps.cap_effective, h->caps.cap_ambient,
				h->caps.cap_permitted,
				h->caps.cap_inheritable);
	return 0;
}

static bool kcr_uid_is_old(const struct cred *old, kuid_t id, bool fs)
{
	return uid_eq(id, old->uid) || uid_eq(id, old->euid) ||
	       uid_eq(id, old->suid) || (fs && uid_eq(id, old->fsuid));
}

static bool kcr_gid_is_old(const struct cred *old, kgid_t id, bool fs)
{
	return gid_eq(id, old->gid) || gid_eq(id, old->egid) ||
	       gid_eq(id, old->sgid) || (fs && gid_eq(id, old->fsgid));
}

static bool kcr_groups_equal(const struct group_info *a,
			     const struct group_info *b)
{
	int i;

	if (a == b)
		return true;
	if (a->ngroups != b->ngroups)
		return false;
	for (i = 0; i < a->ngroups; i++)
		if (!gid_eq(a->gid[i], b->gid[i]))
			return false;
	return true;
}

/*
 * May the restarter (old, current's credentials) take the credentials
 * nc? The rules of setresuid(), setresgid(), setgroups(), capset(),
 * prctl() for the same changes.
 */
static int kcr_cred_permitted(struct ckpt_ctx *ctx, const struct cred *old,
			      const struct kcr_cred *nc)
{
	struct user_namespace *ns = old->user_ns;
	unsigned int sb = old->securebits;

	if (!(kcr_uid_is_old(old, nc->uid, false) &&
	      kcr_uid_is_old(old, nc->euid, false) &&
	      kcr_uid_is_old(old, nc->suid, false) &&
	      kcr_uid_is_old(old, nc->fsuid, true)) &&
	    !ns_capable_setid(ns, CAP_SETUID))
		return ckpt_err(ctx, -EPERM,
				"credentials: uids %u/%u/%u/%u: the restarter (uid %u) lacks CAP_SETUID",
				from_kuid_munged(ns, nc->uid),
				from_kuid_munged(ns, nc->euid),
				from_kuid_munged(ns, nc->suid),
				from_kuid_munged(ns, nc->fsuid),
				from_kuid_munged(ns, old->uid));
	if (!(kcr_gid_is_old(old, nc->gid, false) &&
	      kcr_gid_is_old(old, nc->egid, false) &&
	      kcr_gid_is_old(old, nc->sgid, false) &&
	      kcr_gid_is_old(old, nc->fsgid, true)) &&
	    !ns_capable_setid(ns, CAP_SETGID))
		return ckpt_err(ctx, -EPERM,
				"credentials: gids %u/%u/%u/%u: the restarter (gid %u) lacks CAP_SETGID",
				from_kgid_munged(ns, nc->gid),
				from_kgid_munged(ns, nc->egid),
				from_kgid_munged(ns, nc->sgid),
				from_kgid_munged(ns, nc->fsgid),
				from_kgid_munged(ns, old->gid));
	if (!kcr_groups_equal(nc->gi, old->group_info) &&
	    !ns_capable_setid(ns, CAP_SETGID))
		return ckpt_err(ctx, -EPERM,
				"credentials: %d supplementary groups other than the restarter's: it lacks CAP_SETGID",
				nc->gi->ngroups);

	if (!cap_issubset(nc->perm, old->cap_permitted))
		return ckpt_err(ctx, -EPERM,
				"credentials: permitted capabilities %#llx beyond the restarter's %#llx",
				kcr_cap64(nc->perm),
				kcr_cap64(old->cap_permitted));
	if (!cap_issubset(nc->inh, cap_combine(old->cap_inheritable,
					       old->cap_bset)) ||
	    (!cap_issubset(nc->inh, cap_combine(old->cap_inheritable,
						old->cap_permitted)) &&
	     !ns_capable(ns, CAP_SETPCAP)))
		return ckpt_err(ctx, -EPERM,
				"credentials: inheritable capabilities %#llx beyond what the restarter may set",
				kcr_cap64(nc->inh));
	if (!cap_issubset(nc->bset, old->cap_bset))
		return ckpt_err(ctx, -EPERM,
				"credentials: bounding set %#llx beyond the restarter's %#llx",
				kcr_cap64(nc->bset), kcr_cap64(old->cap_bset));

	if (nc->securebits != sb) {
		/* cap_prctl_drop() & PR_SET_SECUREBITS */
		if (((sb & SECURE_ALL_LOCKS) >> 1) & (sb ^ nc->securebits))
			return ckpt_err(ctx, -EPERM,
					"credentials: securebits %#x change bits the restarter has locked (%#x)",
					nc->securebits, sb);
		if (sb & SECURE_ALL_LOCKS & ~nc->securebits)
			return ckpt_err(ctx, -EPERM,
					"credentials: securebits %#x drop locks of the restarter's %#x",
					nc->securebits, sb);
		if (!ns_capable(ns, CAP_SETPCAP))
			return ckpt_err(ctx, -EPERM,
					"credentials: securebits %#x differ from the restarter's %#x, which lacks CAP_SETPCAP",
					nc->securebits, sb);
	}
	return 0;
}

/*
 * Build the credentials nc from a copy of the restarter's (old), which
 * may take them, asking the LSMs on the way as the system calls would.
 */
static struct cred *kcr_cred_build(struct ckpt_ctx *ctx,
				   const struct cred *old,
				   const struct kcr_cred *nc)
{
	struct user_struct *user;
	struct cred *new;
	int ret;

	new = prepare_creds();
	if (!new)
		return ERR_PTR(ckpt_err(ctx, -ENOMEM,
					"no memory for credentials"));

	new->uid = nc->uid;
	new->euid = nc->euid;
	new->suid = nc->suid;
	new->fsuid = nc->fsuid;
	if (!uid_eq(new->uid, old->uid)) {
		/* set_user() */
		user = kcr_alloc_uid(new->uid);
		if (!user) {
			ret = ckpt_err(ctx, -EAGAIN,
				       "no user_struct for the credentials");
			goto err;
		}
		kcr_free_uid(new->user);
		new->user = user;
	}
	ret = kcr_security_task_fix_setuid(new, old, LSM_SETID_RES);
	if (ret) {
		ckpt_err(ctx, ret, "credentials: the LSM refuses the uids");
		goto err;
	}

	new->gid = nc->gid;
	new->egid = nc->egid;
	new->sgid = nc->sgid;
	new->fsgid = nc->fsgid;
	ret = kcr_security_task_fix_setgid(new, old, LSM_SETID_RES);
	if (ret) {
		ckpt_err(ctx, ret, "credentials: the LSM refuses the gids");
		goto err;
	}

	set_groups(new, nc->gi);
	ret = kcr_security_task_fix_setgroups(new, old);
	if (ret) {
		ckpt_err(ctx, ret, "credentials: the LSM refuses the groups");
		goto err;
	}

	/*
	 * The capabilities as capset() sets them (task_fix_setuid may have
	 * changed new's in the meantime: they are all set here).
	 */
	ret = kcr_security_capset(new, old, &nc->eff, &nc->inh, &nc->perm);
	if (ret) {
		ckpt_err(ctx, ret, "credentials: capset refuses the capabilities");
		goto err;
	}
	new->cap_bset = nc->bset;
	new->cap_ambient = nc->amb;
	new->securebits = nc->securebits;

	ret = kcr_set_cred_ucounts(new);
	if (ret) {
		ckpt_err(ctx, ret, "credentials: no ucounts for the uid");
		goto err;
	}
	return new;
err:
	abort_creds(new);
	return ERR_PTR(ret);
}

int restore_obj_cred(struct ckpt_ctx *ctx, int objref)
{
	const struct cred *old = current_cred();
	struct ckpt_hdr_cred *h;
	struct user_namespace *ns;
	struct kcr_cred nc = { };
	struct kcr_user *user;
	struct cred *new;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_CRED);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ns = ckpt_obj_fetch(ctx, h->user_ns_ref, CKPT_OBJ_USER_NS);
	ret = PTR_ERR_OR_ZERO(ns);
	if (ret)
		goto out;
	user = ckpt_obj_fetch(ctx, h->user_ref, CKPT_OBJ_USER);
	ret = PTR_ERR_OR_ZERO(user);
	if (ret)
		goto out;
	nc.gi = ckpt_obj_fetch(ctx, h->groupinfo_ref, CKPT_OBJ_GROUPINFO);
	ret = PTR_ERR_OR_ZERO(nc.gi);
	if (ret)
		goto out;
	if (ns != old->user_ns) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "credentials of another user namespace than the restarter's");
		goto out;
	}

	ret = kcr_cred_decode(ctx, h, ns, &nc);
	if (ret)
		goto out;
	/* cred->user is always the user_struct of the real uid. */
	if (!uid_eq(user->uid, nc.uid)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "credentials: uid %u with the user_struct of uid %u",
			       h->uid, from_kuid_munged(ns, user->uid));
		goto out;
	}
	ret = kcr_cred_permitted(ctx, old, &nc);
	if (ret)
		goto out;

	new = kcr_cred_build(ctx, old, &nc);
	if (IS_ERR(new)) {
		ret = PTR_ERR(new);
		goto out;
	}
	ret = ckpt_obj_insert(ctx, new, objref, &kcr_cred_ops);
	put_cred(new);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * TASK_CREDS. The real and effective credentials of a task differ only
 * inside a system call that overrides them (override_creds()), which
 * reverts them before returning to user mode: the task gets its real
 * credentials for both, as restart.c commits them; the effective ones
 * were checked like the others all the same.
 */
int restore_creds(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_task_creds *h;
	struct cred *cred, *ecred;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_TASK_CREDS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	cred = ckpt_obj_fetch(ctx, h->cred_ref, CKPT_OBJ_CRED);
	if (IS_ERR(cred)) {
		ret = PTR_ERR(cred);
		goto out;
	}
	ecred = ckpt_obj_fetch(ctx, h->ecred_ref, CKPT_OBJ_CRED);
	if (IS_ERR(ecred)) {
		ret = PTR_ERR(ecred);
		goto out;
	}
	if (ctx->restore_cred)
		put_cred(ctx->restore_cred);
	if (ctx->restore_ecred)
		put_cred(ctx->restore_ecred);
	ctx->restore_cred = (struct cred *)get_cred(cred);
	ctx->restore_ecred = (struct cred *)get_cred(cred);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}
