// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of credentials (linux-cr's restore_cred & co).
 *
 * The objects of the image become:
 *	USER_NS		the restarter's user namespace: only the root task's
 *			own namespace (level 0) can be restored for now, and
 *			it stands for the namespace the restart runs in. The
 *			image is bound to the namespace it was made in: its
 *			uid and gid maps (in kernel ids) must be the
 *			restarter's, or every id of the image would name
 *			another user here (an image made where uid 0 is
 *			kernel uid 1000 must not restart as the real root);
 *	USER		a uid (the user_struct is looked up when a CRED uses
 *			it, once the CRED passed its checks);
 *	GROUPINFO	a group_info;
 *	CRED		a struct cred with the image's ids, groups,
 *			capabilities and securebits, made by the kernel's own
 *			system calls from the restarter's (see
 *			kcr_cred_syscalls()); LSM labels stay the restarter's,
 *			keyrings do not: the restored task starts with none
 *			(the user's default keyrings, found on first use).
 * restore_creds() leaves the task's credentials in ctx->restore_cred and
 * restore_ecred; restart.c commits them once the task is restored.
 *
 * Security: a restart must never give its caller more than it has. Each
 * CRED is made by running, in the restored task and starting from the
 * restarter's credentials, the system calls that set the same state:
 * PR_CAPBSET_DROP, PR_SET_SECUREBITS / PR_SET_KEEPCAPS, setgroups(),
 * setresgid(), setresuid(), setfsgid(), setfsuid(), capset(),
 * PR_CAP_AMBIENT: each is checked by the kernel's own code (and its LSM
 * hooks) against what the calls before it left. What they do not reach
 * exactly is refused with -EPERM and a message naming the call; the task
 * then gets the restarter's credentials back until restart.c commits the
 * image's.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/key.h>
#include <linux/keyctl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
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

/* How many ids of the image's extent e map has to the same kernel ids. */
static u64 kcr_map_agrees(const struct uid_gid_map *map,
			  const struct ckpt_id_extent *e)
{
	const struct uid_gid_extent *c;
	u64 n = 0, lo, hi;
	u32 nr, i;

	nr = READ_ONCE(map->nr_extents);
	/* Pairs with the smp_wmb() of map_write(), as in map_id_up(). */
	smp_rmb();
	c = nr <= UID_GID_MAP_MAX_BASE_EXTENTS ? map->extent : map->forward;
	for (i = 0; i < nr && i < UID_GID_MAP_MAX_EXTENTS; i++) {
		if ((s64)c[i].lower_first - c[i].first !=
		    (s64)e->lower_first - e->first)
			continue;
		lo = max_t(u64, c[i].first, e->first);
		hi = min_t(u64, (u64)c[i].first + c[i].count,
			   (u64)e->first + e->count);
		if (hi > lo)
			n += hi - lo;
	}
	return n;
}

/*
 * The image's ids are those of the namespace it was made in: they mean
 * the same users here only if every id it maps is the same kernel id in
 * the restarter's namespace.
 */
static int kcr_user_ns_bound(struct ckpt_ctx *ctx,
			     const struct uid_gid_map *map, const char *what,
			     const struct ckpt_id_extent *ext, u32 nr)
{
	u32 i;

	for (i = 0; i < nr; i++)
		if (kcr_map_agrees(map, &ext[i]) != ext[i].count)
			return ckpt_err(ctx, -EPERM,
					"user namespace: the image was made where %s %u..%u were kernel ids %u..%u, which the restarter's user namespace maps otherwise",
					what, ext[i].first,
					ext[i].first + ext[i].count - 1,
					ext[i].lower_first,
					ext[i].lower_first + ext[i].count - 1);
	return 0;
}

int restore_obj_user_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	const struct ckpt_id_extent *ext;
	struct ckpt_hdr_user_ns *h;
	size_t payload;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

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
	ext = (const struct ckpt_id_extent *)(h + 1);
	ret = kcr_user_ns_bound(ctx, &current_user_ns()->uid_map, "uid", ext,
				h->nr_uid_extents);
	if (!ret)
		ret = kcr_user_ns_bound(ctx, &current_user_ns()->gid_map, "gid",
					ext + h->nr_uid_extents,
					h->nr_gid_extents);
	/* The root task's namespace: the restart's own. */
	if (!ret)
		ret = ckpt_obj_insert(ctx, current_user_ns(), objref,
				      &kcr_user_ns_ops);
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_obj_user(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_user *h;
	struct user_namespace *ns;
	struct kcr_user *u;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

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

int restore_obj_groupinfo(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct user_namespace *ns = current_user_ns();
	struct ckpt_hdr_groupinfo *h;
	struct group_info *gi;
	size_t payload;
	u32 *gids, i;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

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

static int kcr_cap_from(struct ckpt_ctx *ctx, const char *what, u64 v,
			kernel_cap_t *c)
{
	if (v & ~KCR_CAP_VALID)
		return ckpt_err(ctx, -EINVAL,
				"credentials: %s capabilities %#llx: unknown capabilities %#llx",
				what, v, v & ~KCR_CAP_VALID);
	*c = kcr_cap_from_u64(v);
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

static int kcr_prctl(unsigned long option, unsigned long arg2,
		     unsigned long arg3)
{
	return kcr_security_task_prctl(option, arg2, arg3, 0, 0);
}

/*
 * PR_SET_SECUREBITS, or PR_SET_KEEPCAPS when only SECBIT_KEEP_CAPS
 * changes (which, unlike the other bits, needs no CAP_SETPCAP).
 */
static int kcr_set_securebits(struct ckpt_ctx *ctx, unsigned int want)
{
	unsigned int cur = current_cred()->securebits;
	int ret;

	if (want == cur)
		return 0;
	if ((want ^ cur) == SECBIT_KEEP_CAPS)
		ret = kcr_prctl(PR_SET_KEEPCAPS, !!(want & SECBIT_KEEP_CAPS), 0);
	else
		ret = kcr_prctl(PR_SET_SECUREBITS, want, 0);
	if (ret)
		return ckpt_err(ctx, ret,
				"credentials: PR_SET_SECUREBITS %#x (from %#x) refused: locked bits, or the restarter lacks CAP_SETPCAP",
				want, cur);
	return 0;
}

/* Does current have the credentials nc? Names the first difference. */
static const char *kcr_cred_differs(const struct kcr_cred *nc)
{
	const struct cred *c = current_cred();

	if (!uid_eq(c->uid, nc->uid) || !uid_eq(c->euid, nc->euid) ||
	    !uid_eq(c->suid, nc->suid))
		return "uids";
	if (!uid_eq(c->fsuid, nc->fsuid))
		return "fsuid (setfsuid() refused)";
	if (!gid_eq(c->gid, nc->gid) || !gid_eq(c->egid, nc->egid) ||
	    !gid_eq(c->sgid, nc->sgid))
		return "gids";
	if (!gid_eq(c->fsgid, nc->fsgid))
		return "fsgid (setfsgid() refused)";
	if (!kcr_groups_equal(c->group_info, nc->gi))
		return "supplementary groups";
	if (!cap_issubset(c->cap_effective, nc->eff) ||
	    !cap_issubset(nc->eff, c->cap_effective))
		return "effective capabilities";
	if (!cap_issubset(c->cap_permitted, nc->perm) ||
	    !cap_issubset(nc->perm, c->cap_permitted))
		return "permitted capabilities";
	if (!cap_issubset(c->cap_inheritable, nc->inh) ||
	    !cap_issubset(nc->inh, c->cap_inheritable))
		return "inheritable capabilities";
	if (!cap_issubset(c->cap_bset, nc->bset) ||
	    !cap_issubset(nc->bset, c->cap_bset))
		return "bounding set";
	if (!cap_issubset(c->cap_ambient, nc->amb) ||
	    !cap_issubset(nc->amb, c->cap_ambient))
		return "ambient capabilities";
	if (c->securebits != nc->securebits)
		return "securebits";
	return NULL;
}

/* capset(), as kernel/capability.c does it. */
static int kcr_capset(struct ckpt_ctx *ctx, const kernel_cap_t *eff,
		      const kernel_cap_t *inh, const kernel_cap_t *perm)
{
	const struct cred *c = current_cred();
	struct cred *new;
	int ret;

	new = prepare_creds();
	if (!new)
		return ckpt_err(ctx, -ENOMEM, "no memory for credentials");
	ret = kcr_security_capset(new, c, eff, inh, perm);
	if (ret) {
		abort_creds(new);
		return ckpt_err(ctx, ret,
				"credentials: capset() of permitted capabilities %#llx, effective %#llx, inheritable %#llx refused: beyond what the restarter has after setresuid() (permitted %#llx, inheritable %#llx, bounding %#llx)",
				kcr_cap_to_u64(*perm), kcr_cap_to_u64(*eff),
				kcr_cap_to_u64(*inh), kcr_cap_to_u64(c->cap_permitted),
				kcr_cap_to_u64(c->cap_inheritable),
				kcr_cap_to_u64(c->cap_bset));
	}
	return commit_creds(new);
}

/*
 * Give current the credentials nc through the kernel's own system call
 * paths, in the order a program dropping privilege would call them, each
 * checked by the kernel against the credentials the calls before it left:
 *	PR_CAPBSET_DROP		what the bounding set loses (CAP_SETPCAP);
 *	PR_SET_KEEPCAPS 1	unless locked: the permitted set survives
 *				setresuid() as far as the restarter's
 *				securebits let it;
 *	setgroups()		may_setgroups(): CAP_SETGID, and a user
 *				namespace that allows setgroups;
 *	setresgid(), setresuid()
 *				CAP_SETGID, CAP_SETUID, and commoncap's
 *				setuid fixups of the capability sets;
 *	capset()		effective := permitted (what is left), the
 *				image's inheritable set;
 *	setfsgid(), setfsuid()	one of the new ids, or CAP_SETGID/CAP_SETUID;
 *	PR_CAP_AMBIENT		raise (within permitted and inheritable,
 *				unless SECBIT_NO_CAP_AMBIENT_RAISE) and lower;
 *	PR_SET_SECUREBITS	the image's bits (CAP_SETPCAP, locks), or
 *				PR_SET_KEEPCAPS when only that bit differs;
 *	capset()		the image's sets.
 * Whatever the calls do not reach exactly is refused: the result is
 * compared with the image's, field by field.
 */
static int kcr_cred_syscalls(struct ckpt_ctx *ctx, const struct kcr_cred *nc)
{
	struct user_namespace *ns = current_user_ns();
	const char *diff;
	kernel_cap_t perm;
	long ret;
	int cap;

	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
		if (!cap_raised(current_cred()->cap_bset, cap) ||
		    cap_raised(nc->bset, cap))
			continue;
		ret = kcr_prctl(PR_CAPBSET_DROP, cap, 0);
		if (ret)
			return ckpt_err(ctx, ret,
					"credentials: PR_CAPBSET_DROP of capability %d refused: the restarter lacks CAP_SETPCAP",
					cap);
	}

	/* Fails when SECBIT_KEEP_CAPS_LOCKED: setresuid() then decides. */
	if (!(current_cred()->securebits & SECBIT_KEEP_CAPS))
		kcr_prctl(PR_SET_KEEPCAPS, 1, 0);

	if (!kcr_groups_equal(current_cred()->group_info, nc->gi)) {
		if (!kcr_may_setgroups())
			return ckpt_err(ctx, -EPERM,
					"credentials: setgroups() of %d supplementary groups refused: the restarter lacks CAP_SETGID or its user namespace denies setgroups",
					nc->gi->ngroups);
		ret = set_current_groups(nc->gi);
		if (ret)
			return ckpt_err(ctx, ret,
					"credentials: setgroups() of %d supplementary groups refused",
					nc->gi->ngroups);
	}

	ret = kcr___sys_setresgid(from_kgid(ns, nc->gid),
				  from_kgid(ns, nc->egid),
				  from_kgid(ns, nc->sgid));
	if (ret)
		return ckpt_err(ctx, ret,
				"credentials: setresgid(%u, %u, %u) refused: the restarter lacks CAP_SETGID",
				from_kgid(ns, nc->gid), from_kgid(ns, nc->egid),
				from_kgid(ns, nc->sgid));
	ret = kcr___sys_setresuid(from_kuid(ns, nc->uid),
				  from_kuid(ns, nc->euid),
				  from_kuid(ns, nc->suid));
	if (ret)
		return ckpt_err(ctx, ret,
				"credentials: setresuid(%u, %u, %u) refused: the restarter lacks CAP_SETUID",
				from_kuid(ns, nc->uid), from_kuid(ns, nc->euid),
				from_kuid(ns, nc->suid));
	/* What setresuid() left, effective, for the calls that need it. */
	perm = current_cred()->cap_permitted;
	ret = kcr_capset(ctx, &perm, &nc->inh, &perm);
	if (ret)
		return ret;

	/* Both return the old id, and fail silently: checked below. */
	kcr___sys_setfsgid(from_kgid(ns, nc->fsgid));
	if (!gid_eq(current_cred()->fsgid, nc->fsgid))
		return ckpt_err(ctx, -EPERM,
				"credentials: setfsgid(%u) refused: not one of the new gids, and the restarter lacks CAP_SETGID",
				from_kgid(ns, nc->fsgid));
	kcr___sys_setfsuid(from_kuid(ns, nc->fsuid));
	if (!uid_eq(current_cred()->fsuid, nc->fsuid))
		return ckpt_err(ctx, -EPERM,
				"credentials: setfsuid(%u) refused: not one of the new uids, and the restarter lacks CAP_SETUID",
				from_kuid(ns, nc->fsuid));

	for (cap = 0; cap <= CAP_LAST_CAP; cap++) {
		bool want = cap_raised(nc->amb, cap);

		/*
		 * Not "want == cap_raised(current ambient)": with 6.3's
		 * one-word kernel_cap_t, Debian 12's GCC 12.2 compiles that
		 * at -O2 into a test of the current bit alone, and a wanted
		 * bit that is not yet set is never raised.
		 */
		if (!((kcr_cap_to_u64(nc->amb) ^
		       kcr_cap_to_u64(current_cred()->cap_ambient)) & BIT_ULL(cap)))
			continue;
		ret = kcr_prctl(PR_CAP_AMBIENT, want ? PR_CAP_AMBIENT_RAISE :
				PR_CAP_AMBIENT_LOWER, cap);
		if (ret)
			return ckpt_err(ctx, ret,
					"credentials: PR_CAP_AMBIENT_RAISE of capability %d refused: not permitted, or SECBIT_NO_CAP_AMBIENT_RAISE",
					cap);
	}
	ret = kcr_set_securebits(ctx, nc->securebits);
	if (!ret)
		ret = kcr_capset(ctx, &nc->eff, &nc->inh, &nc->perm);
	if (ret)
		return ret;

	diff = kcr_cred_differs(nc);
	if (diff) {
		const struct cred *c = current_cred();

		return ckpt_err(ctx, -EPERM,
				"credentials: the system calls do not give the image's %s (capabilities permitted/effective/inheritable/ambient: %#llx/%#llx/%#llx/%#llx, the image's %#llx/%#llx/%#llx/%#llx)",
				diff, kcr_cap_to_u64(c->cap_permitted),
				kcr_cap_to_u64(c->cap_effective),
				kcr_cap_to_u64(c->cap_inheritable),
				kcr_cap_to_u64(c->cap_ambient),
				kcr_cap_to_u64(nc->perm), kcr_cap_to_u64(nc->eff),
				kcr_cap_to_u64(nc->inh), kcr_cap_to_u64(nc->amb));
	}
	return 0;
}

/* No keyring of the restarter's survives into the restored task. */
static void kcr_cred_drop_keys(struct cred *new)
{
#ifdef CONFIG_KEYS
	key_put(new->session_keyring);
	key_put(new->process_keyring);
	key_put(new->thread_keyring);
	key_put(new->request_key_auth);
	new->session_keyring = NULL;
	new->process_keyring = NULL;
	new->thread_keyring = NULL;
	new->request_key_auth = NULL;
	new->jit_keyring = KEY_REQKEY_DEFL_DEFAULT;
#endif
}

/*
 * Build the credentials nc: current (which has the restarter's
 * credentials until restart.c commits the image's) goes through the
 * system calls of kcr_cred_syscalls() starting from the restarter's
 * credentials without keyrings, the result is copied, and current gets
 * the restarter's credentials back, with what commit_creds() changed on
 * the way (dumpable, parent death signal, nproc flag) as it was.
 */
static struct cred *kcr_cred_build(struct ckpt_ctx *ctx,
				   const struct kcr_cred *nc)
{
	const struct cred *saved = get_current_cred();
	struct mm_struct *mm = current->mm;
	unsigned long dumpable = mm ? mm->flags & MMF_DUMPABLE_MASK : 0;
	int pdeath = current->pdeath_signal;
	unsigned int nproc = current->flags & PF_NPROC_EXCEEDED;
	struct cred *new;
	int ret;

	/*
	 * commit_creds() must not run under override_creds() (it would
	 * BUG): a CRED record read while files are opened with the image's
	 * credentials is out of place.
	 */
	if (current->cred != current->real_cred) {
		put_cred(saved);
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"credentials record inside another object"));
	}
	new = prepare_creds();
	if (!new) {
		put_cred(saved);
		return ERR_PTR(ckpt_err(ctx, -ENOMEM,
					"no memory for credentials"));
	}
	kcr_cred_drop_keys(new);
	commit_creds(new);

	ret = kcr_cred_syscalls(ctx, nc);
	new = ret ? NULL : prepare_creds();
	if (!ret && !new)
		ret = ckpt_err(ctx, -ENOMEM, "no memory for credentials");

	commit_creds((struct cred *)saved);
	if (mm)
		set_mask_bits(&mm->flags, MMF_DUMPABLE_MASK, dumpable);
	current->pdeath_signal = pdeath;
	current->flags = (current->flags & ~PF_NPROC_EXCEEDED) | nproc;
	return ret ? ERR_PTR(ret) : new;
}

int restore_obj_cred(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_cred *h;
	struct user_namespace *ns;
	struct kcr_cred nc = { };
	struct kcr_user *user;
	struct cred *new;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

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
	if (ns != current_user_ns()) {
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
	new = kcr_cred_build(ctx, &nc);
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
int restore_creds(struct ckpt_ctx *ctx, struct task_struct *t)
{
	struct ckpt_hdr_task_creds *h;
	struct cred *cred, *ecred;
	int ret = 0;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

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
