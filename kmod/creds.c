// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of credentials (linux-cr's kernel/cred.c and
 * kernel/user.c parts).
 *
 * A task has two credentials: real_cred (used when others act on it) and
 * cred (used when it acts); they are usually the same struct cred, which
 * the objhash then writes once. A CRED body starts with the definitions of
 * what it refers to (user namespace, user_struct, supplementary groups).
 *
 * Ids are written as seen from the user namespace of the checkpoint's root
 * task (ctx->user_ns), as the image format says. An id that has no mapping
 * there (a supplementary group inherited from outside the namespace, say)
 * has no value to write: stat(2) would show the overflow id, which a
 * restart would take for a real one. Such credentials are refused.
 *
 * The root's namespace is written with its maps in kernel ids: they bind
 * the image to the namespace it was made in (see creds_restore.c).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "kcr.h"

/* How deep user namespaces may nest below the root's (the kernel's own). */
#define KCR_USER_NS_MAX_LEVEL	32

static void kcr_cred_grab(void *ptr)
{
	get_cred(ptr);
}

static void kcr_cred_drop(void *ptr)
{
	put_cred(ptr);
}

const struct ckpt_obj_ops kcr_cred_ops = {
	.objtype = CKPT_OBJ_CRED,
	.grab = kcr_cred_grab,
	.drop = kcr_cred_drop,
};

static void kcr_user_ns_grab(void *ptr)
{
	get_user_ns(ptr);
}

static void kcr_user_ns_drop(void *ptr)
{
	put_user_ns(ptr);
}

const struct ckpt_obj_ops kcr_user_ns_ops = {
	.objtype = CKPT_OBJ_USER_NS,
	.grab = kcr_user_ns_grab,
	.drop = kcr_user_ns_drop,
};

/*
 * No reference of its own on a user_struct: free_uid() is not exported
 * by every 6.1 build. Every user_struct hashed is cred->user of a cred
 * that the objhash holds, which keeps it (and its identity) alive.
 */
static const struct ckpt_obj_ops kcr_user_ops = {
	.objtype = CKPT_OBJ_USER,
};

static void kcr_groupinfo_grab(void *ptr)
{
	get_group_info(ptr);
}

static void kcr_groupinfo_drop(void *ptr)
{
	put_group_info((struct group_info *)ptr);
}

const struct ckpt_obj_ops kcr_groupinfo_ops = {
	.objtype = CKPT_OBJ_GROUPINFO,
	.grab = kcr_groupinfo_grab,
	.drop = kcr_groupinfo_drop,
};

static u32 kcr_uid(struct ckpt_ctx *ctx, kuid_t uid)
{
	return from_kuid(ctx->user_ns, uid);
}

static u32 kcr_gid(struct ckpt_ctx *ctx, kgid_t gid)
{
	return from_kgid(ctx->user_ns, gid);
}

/* Every id of cred has a value in the root's namespace. */
static int kcr_cred_mapped(struct ckpt_ctx *ctx, const struct cred *cred)
{
	static const char * const uname[] = { "uid", "euid", "suid", "fsuid" };
	static const char * const gname[] = { "gid", "egid", "sgid", "fsgid" };
	const kuid_t uids[] = { cred->uid, cred->euid, cred->suid, cred->fsuid };
	const kgid_t gids[] = { cred->gid, cred->egid, cred->sgid, cred->fsgid };
	const struct group_info *gi = cred->group_info;
	int i;

	for (i = 0; i < 4; i++) {
		if (!kuid_has_mapping(ctx->user_ns, uids[i]))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"credentials: %s (kernel uid %u) has no mapping in the user namespace of the checkpoint",
					uname[i], __kuid_val(uids[i]));
		if (!kgid_has_mapping(ctx->user_ns, gids[i]))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"credentials: %s (kernel gid %u) has no mapping in the user namespace of the checkpoint",
					gname[i], __kgid_val(gids[i]));
	}
	for (i = 0; i < gi->ngroups; i++)
		if (!kgid_has_mapping(ctx->user_ns, gi->gid[i]))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"credentials: supplementary group (kernel gid %u) has no mapping in the user namespace of the checkpoint",
					__kgid_val(gi->gid[i]));
	return 0;
}

/*
 * The extents of one id map, with lower ids as the parent namespace sees
 * them, or as kernel ids (which the kernel keeps) for the root's
 * namespace. is_gid: map of gids.
 */
static void kcr_id_map(struct ckpt_ctx *ctx, const struct user_namespace *ns,
		       const struct uid_gid_map *map, bool is_gid,
		       struct ckpt_id_extent *out, u32 nr)
{
	const struct uid_gid_extent *ext;
	u32 i;

	ext = nr <= UID_GID_MAP_MAX_BASE_EXTENTS ? map->extent : map->forward;
	for (i = 0; i < nr; i++) {
		u32 lower = ext[i].lower_first;

		if (ns != ctx->user_ns && is_gid)
			lower = from_kgid_munged(ns->parent, KGIDT_INIT(lower));
		else if (ns != ctx->user_ns)
			lower = from_kuid_munged(ns->parent, KUIDT_INIT(lower));
		out[i].first = ext[i].first;
		out[i].lower_first = lower;
		out[i].count = ext[i].count;
	}
}

static int kcr_checkpoint_user_ns(struct ckpt_ctx *ctx,
				  struct user_namespace *ns, int *ref);

static int kcr_write_user_ns(struct ckpt_ctx *ctx, struct user_namespace *ns)
{
	struct ckpt_hdr_user_ns *h;
	struct ckpt_id_extent *ext;
	u32 nr_uid, nr_gid;
	int parent_ref = 0;
	int ret;

	/* Parents first: the root's own parent is not part of the image. */
	if (ns != ctx->user_ns) {
		ret = kcr_checkpoint_user_ns(ctx, ns->parent, &parent_ref);
		if (ret)
			return ret;
	}

	nr_uid = READ_ONCE(ns->uid_map.nr_extents);
	nr_gid = READ_ONCE(ns->gid_map.nr_extents);
	/*
	 * Pairs with the smp_wmb() of map_write(): the extents are written
	 * before nr_extents (map_id_up() reads them the same way).
	 */
	smp_rmb();
	if (nr_uid > UID_GID_MAP_MAX_EXTENTS ||
	    nr_gid > UID_GID_MAP_MAX_EXTENTS)
		return ckpt_err(ctx, -EINVAL, "user namespace with %u/%u extents",
				nr_uid, nr_gid);

	h = ckpt_hdr_get_type(ctx, sizeof(*h) + (nr_uid + nr_gid) * sizeof(*ext),
			      CKPT_HDR_USER_NS);
	if (!h)
		return -ENOMEM;
	h->parent_ref = parent_ref;
	h->level = ns->level - ctx->user_ns->level;
	h->owner = from_kuid_munged(ns->parent ? ns->parent : ns, ns->owner);
	h->group = from_kgid_munged(ns->parent ? ns->parent : ns, ns->group);
	h->nr_uid_extents = nr_uid;
	h->nr_gid_extents = nr_gid;
	ext = (struct ckpt_id_extent *)(h + 1);
	kcr_id_map(ctx, ns, &ns->uid_map, false, ext, nr_uid);
	kcr_id_map(ctx, ns, &ns->gid_map, true, ext + nr_uid, nr_gid);
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * A user namespace: the root task's or one nested below it. Namespaces
 * above or beside the root's cannot be rebuilt by a restart.
 */
static int kcr_checkpoint_user_ns(struct ckpt_ctx *ctx,
				  struct user_namespace *ns, int *ref)
{
	struct user_namespace *p;
	bool first;
	int objref, ret;

	for (p = ns; p && p != ctx->user_ns; p = p->parent)
		;
	if (!p)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"credentials of a user namespace outside the root task's");
	if (ns->level - ctx->user_ns->level > KCR_USER_NS_MAX_LEVEL)
		return ckpt_err(ctx, -EINVAL, "user namespaces nested too deep");

	objref = ckpt_obj_lookup_add(ctx, ns, &kcr_user_ns_ops, &first);
	if (objref < 0)
		return objref;
	*ref = objref;
	if (!first)
		return 0;
	ret = ckpt_write_objref(ctx, CKPT_OBJ_USER_NS, objref);
	if (ret)
		return ret;
	return kcr_write_user_ns(ctx, ns);
}

static int kcr_checkpoint_user(struct ckpt_ctx *ctx, struct user_struct *user,
			       int user_ns_ref, int *ref)
{
	struct ckpt_hdr_user *h;
	bool first;
	int objref, ret;

	objref = ckpt_obj_lookup_add(ctx, user, &kcr_user_ops, &first);
	if (objref < 0)
		return objref;
	*ref = objref;
	if (!first)
		return 0;
	ret = ckpt_write_objref(ctx, CKPT_OBJ_USER, objref);
	if (ret)
		return ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_USER);
	if (!h)
		return -ENOMEM;
	h->uid = kcr_uid(ctx, user->uid);
	/* user_structs are per kernel uid; the namespace of the cred using it */
	h->user_ns_ref = user_ns_ref;
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static int kcr_checkpoint_groupinfo(struct ckpt_ctx *ctx,
				    struct group_info *gi, int *ref)
{
	struct ckpt_hdr_groupinfo *h;
	bool first;
	u32 *gids;
	int objref, ret, i;

	objref = ckpt_obj_lookup_add(ctx, gi, &kcr_groupinfo_ops, &first);
	if (objref < 0)
		return objref;
	*ref = objref;
	if (!first)
		return 0;
	ret = ckpt_write_objref(ctx, CKPT_OBJ_GROUPINFO, objref);
	if (ret)
		return ret;

	/* ngroups is at most NGROUPS_MAX (65536): the record stays small. */
	h = ckpt_hdr_get_type(ctx, sizeof(*h) + gi->ngroups * sizeof(u32),
			      CKPT_HDR_GROUPINFO);
	if (!h)
		return -ENOMEM;
	h->ngroups = gi->ngroups;
	gids = (u32 *)(h + 1);
	for (i = 0; i < gi->ngroups; i++)
		gids[i] = kcr_gid(ctx, gi->gid[i]);
	/* Sorted as kernel gids; mapping into a namespace may reorder them. */
	sort(gids, gi->ngroups, sizeof(u32), kcr_cmp_u32, NULL);
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_checkpoint_cred(struct ckpt_ctx *ctx, const struct cred *cred,
			       int *ref)
{
	struct ckpt_hdr_cred *h;
	int user_ns_ref, user_ref, groupinfo_ref;
	bool first;
	int objref, ret;

	objref = ckpt_obj_lookup_add(ctx, (void *)cred, &kcr_cred_ops, &first);
	if (objref < 0)
		return objref;
	*ref = objref;
	if (!first)
		return 0;
	ret = kcr_cred_mapped(ctx, cred);
	if (ret)
		return ret;
	ret = ckpt_write_objref(ctx, CKPT_OBJ_CRED, objref);
	if (ret)
		return ret;

	ret = kcr_checkpoint_user_ns(ctx, cred->user_ns, &user_ns_ref);
	if (ret)
		return ret;
	ret = kcr_checkpoint_user(ctx, cred->user, user_ns_ref, &user_ref);
	if (ret)
		return ret;
	ret = kcr_checkpoint_groupinfo(ctx, cred->group_info, &groupinfo_ref);
	if (ret)
		return ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_CRED);
	if (!h)
		return -ENOMEM;
	h->uid = kcr_uid(ctx, cred->uid);
	h->suid = kcr_uid(ctx, cred->suid);
	h->euid = kcr_uid(ctx, cred->euid);
	h->fsuid = kcr_uid(ctx, cred->fsuid);
	h->gid = kcr_gid(ctx, cred->gid);
	h->sgid = kcr_gid(ctx, cred->sgid);
	h->egid = kcr_gid(ctx, cred->egid);
	h->fsgid = kcr_gid(ctx, cred->fsgid);
	h->user_ref = user_ref;
	h->user_ns_ref = user_ns_ref;
	h->groupinfo_ref = groupinfo_ref;
	h->securebits = cred->securebits;
	h->caps.cap_inheritable = kcr_cap_to_u64(cred->cap_inheritable);
	h->caps.cap_permitted = kcr_cap_to_u64(cred->cap_permitted);
	h->caps.cap_effective = kcr_cap_to_u64(cred->cap_effective);
	h->caps.cap_bset = kcr_cap_to_u64(cred->cap_bset);
	h->caps.cap_ambient = kcr_cap_to_u64(cred->cap_ambient);
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

int checkpoint_creds(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task_creds *h;
	const struct cred *rcred, *ecred;
	int cred_ref, ecred_ref;
	int ret;

	/*
	 * The task is frozen or is current, so its credentials do not
	 * change under us; references keep them while we write.
	 */
	rcred = get_task_cred(t);
	rcu_read_lock();
	ecred = get_cred_rcu(rcu_dereference(t->cred));
	rcu_read_unlock();
	if (!ecred) {
		put_cred(rcred);
		return ckpt_err(ctx, -ESRCH, "task credentials are going away");
	}

	ret = kcr_checkpoint_cred(ctx, rcred, &cred_ref);
	if (!ret)
		ret = kcr_checkpoint_cred(ctx, ecred, &ecred_ref);
	put_cred(ecred);
	put_cred(rcred);
	if (ret)
		return ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_TASK_CREDS);
	if (!h)
		return -ENOMEM;
	h->cred_ref = cred_ref;
	h->ecred_ref = ecred_ref;
	ret = ckpt_write_obj(ctx, &h->h);
	ckpt_hdr_put(ctx, h);
	return ret;
}
