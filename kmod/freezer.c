// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: CKPT_IOC_FREEZER_GET / CKPT_IOC_FREEZER_SET and linux-cr's
 * CHECKPOINTING freezer state.
 *
 * The freezer is the kernel's own: cgroup v2's cgroup.freeze and
 * cgroup.events, or the v1 freezer hierarchy's freezer.state, opened
 * relative to the caller's cgroup directory fd (file_open_root()) and read
 * or written with kernel_read()/kernel_write() as the caller. So the
 * permission to freeze is exactly the kernel's (write access to the
 * control file, cgroup namespace delegation rules, LSMs), and no freezer
 * internals (cgroup_freeze() is not exported) are reimplemented here.
 *
 * CHECKPOINTING is kcr's own: a stock kernel has no such state. A
 * checkpoint of a frozen task registers the task's cgroups (its cgroup v2
 * group and its v1 freezer group, if that hierarchy is mounted) for as
 * long as it runs. A cgroup that is one of them or an ancestor of one,
 * and whose own freeze is on, reads CHECKPOINTING, and SET on it fails
 * with EBUSY. The real freezer state is never changed, so when the
 * checkpoint ends, whatever its outcome, the cgroup reads FROZEN again.
 *
 * What the module cannot stop is a write to the control file itself
 * (root writing 0 to cgroup.freeze): the tasks then run. checkpoint.c
 * notices it (the task scheduled: its context switch counts moved) and
 * fails the checkpoint with EBUSY rather than writing an image of a task
 * that changed; the cgroup stays as that write left it.
 */
#include <linux/cgroup.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/list.h>
#include <linux/magic.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "kcr.h"

/* A cgroup directory given as cgroup_fd. */
struct kcr_fz {
	struct file *dir;
	struct kernfs_node *kn;	/* its node; the open file keeps it */
	bool v1;		/* the v1 freezer hierarchy, else cgroup v2 */
};

/*
 * One running checkpoint of frozen tasks: the cgroups of its root task
 * (a reference each, so that the pointers are never reused meanwhile),
 * [0] in cgroup v2, [1] in the v1 freezer hierarchy; NULL for none.
 */
struct kcr_fz_hold {
	struct list_head list;
	struct ckpt_ctx *ctx;
	struct kernfs_node *kn[2];
};

/*
 * The holds, and the order of SETs against them: a SET checks and writes
 * under the mutex, so no checkpoint begins between the two.
 */
static LIST_HEAD(kcr_fz_holds);
static DEFINE_MUTEX(kcr_fz_mutex);

/* The number of holds: read-only, for tests (a leaked hold shows here). */
static unsigned int kcr_fz_nr_holds;
module_param_named(checkpointing, kcr_fz_nr_holds, uint, 0444);
MODULE_PARM_DESC(checkpointing,
		 "checkpoints running on frozen tasks (CHECKPOINTING holds)");

/*
 * A cgroup's parent never changes (cgroups are renamed only within their
 * parent, and v2 ones not at all); a node holds a reference on its parent.
 */
static struct kernfs_node *kcr_kn_parent(struct kernfs_node *kn)
{
	return kn->parent;
}

/* Whether kn is a held cgroup or an ancestor of one; kcr_fz_mutex held. */
static bool kcr_fz_held(struct kernfs_node *kn)
{
	struct kcr_fz_hold *h;
	struct kernfs_node *p;
	int i;

	lockdep_assert_held(&kcr_fz_mutex);
	list_for_each_entry(h, &kcr_fz_holds, list)
		for (i = 0; i < ARRAY_SIZE(h->kn); i++)
			for (p = h->kn[i]; p; p = kcr_kn_parent(p))
				if (p == kn)
					return true;
	return false;
}

/*
 * A context for messages only: ckpt_err() writes them to logfd. The
 * freezer ioctls have no image.
 */
static struct ckpt_ctx *kcr_fz_ctx_alloc(int logfd)
{
	struct ckpt_ctx *ctx;
	struct file *log;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	mutex_init(&ctx->msg_mutex);
	ctx->msg_buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!ctx->msg_buf) {
		ckpt_ctx_free(ctx);
		return ERR_PTR(-ENOMEM);
	}
	if (logfd == CHECKPOINT_FD_NONE)
		return ctx;
	log = fget(logfd);
	if (!log) {
		ckpt_ctx_free(ctx);
		return ERR_PTR(-EBADF);
	}
	ctx->logfile = log;
	if (!(log->f_mode & FMODE_WRITE)) {
		ckpt_ctx_free(ctx);
		return ERR_PTR(-EBADF);
	}
	/* What ctx.c's writer needs (as ckpt_ctx_alloc() checks). */
	if (!log->f_op->write_iter || log->f_op->write ||
	    !(log->f_mode & FMODE_CAN_WRITE)) {
		ckpt_ctx_free(ctx);
		return ERR_PTR(-EINVAL);
	}
	return ctx;
}

static int kcr_fz_open(struct ckpt_ctx *ctx, int fd, struct kcr_fz *fz)
{
	struct inode *inode;
	struct file *f;

	f = fget(fd);
	if (!f)
		return ckpt_err(ctx, -EBADF, "cgroup fd %d is not open", fd);
	fz->dir = f;
	inode = file_inode(f);
	if (!S_ISDIR(inode->i_mode))
		return ckpt_err(ctx, -ENOTDIR,
				"cgroup fd %d (%pD) is not a directory", fd, f);
	switch (inode->i_sb->s_magic) {
	case CGROUP2_SUPER_MAGIC:
		fz->v1 = false;
		break;
	case CGROUP_SUPER_MAGIC:
		fz->v1 = true;
		break;
	default:
		return ckpt_err(ctx, -EINVAL,
				"cgroup fd %d (%pD) is not a cgroup directory",
				fd, f);
	}
	/* Both are kernfs, whose inodes point to their node. */
	fz->kn = inode->i_private;
	return 0;
}

static void kcr_fz_close(struct kcr_fz *fz)
{
	if (fz->dir)
		fput(fz->dir);
}

/*
 * Open a control file of the cgroup as the caller: the lookup and the
 * open apply the caller's permissions, as openat(cgroup_fd, name) would.
 * A missing file means the directory has no freezer (a root cgroup, a
 * v1 hierarchy without the freezer controller): EINVAL.
 */
static struct file *kcr_fz_file(struct ckpt_ctx *ctx, struct kcr_fz *fz,
				const char *name, int flags)
{
	struct file *f;

	f = file_open_root(&fz->dir->f_path, name, flags | O_NOFOLLOW, 0);
	/* A removed cgroup has no files left: ENOENT stays ENOENT. */
	if (IS_ERR(f) && PTR_ERR(f) == -ENOENT &&
	    !d_unlinked(fz->dir->f_path.dentry))
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"%pD has no %s: not a cgroup with a freezer (root cgroups have none)",
					fz->dir, name));
	if (IS_ERR(f))
		return ERR_PTR(ckpt_err(ctx, PTR_ERR(f), "opening %pD/%s%s",
					fz->dir, name,
					flags == O_RDONLY ? "" : " for writing"));
	return f;
}

/* Read a control file (short: a few lines) into buf, NUL-terminated. */
static int kcr_fz_read(struct ckpt_ctx *ctx, struct kcr_fz *fz,
		       const char *name, char *buf, size_t size)
{
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	f = kcr_fz_file(ctx, fz, name, O_RDONLY);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = kernel_read(f, buf, size - 1, &pos);
	fput(f);
	if (n < 0)
		return ckpt_err(ctx, n, "reading %pD/%s", fz->dir, name);
	buf[n] = '\0';
	return 0;
}

/*
 * Write val to the open control file f. Called under kcr_fz_mutex, so it
 * reports nothing itself (a message writes to logfd, under locks of its
 * own): the caller does, after unlocking.
 */
static ssize_t kcr_fz_write(struct file *f, const char *val)
{
	size_t len = strlen(val);
	loff_t pos = 0;
	ssize_t n;

	n = kernel_write(f, val, len, &pos);
	if (n >= 0 && n != len)
		n = -EIO;
	return n;
}

/* A file holding "0\n" or "1\n": cgroup.freeze, freezer.self_freezing. */
static int kcr_fz_read_bool(struct ckpt_ctx *ctx, struct kcr_fz *fz,
			    const char *name, bool *val)
{
	char buf[16];
	int ret;

	ret = kcr_fz_read(ctx, fz, name, buf, sizeof(buf));
	if (ret)
		return ret;
	if (kstrtobool(strim(buf), val))
		return ckpt_err(ctx, -EIO, "%pD/%s reads \"%s\"", fz->dir,
				name, buf);
	return 0;
}

/* The "frozen" key of cgroup.events. */
static int kcr_fz_events_frozen(struct ckpt_ctx *ctx, struct kcr_fz *fz,
				bool *frozen)
{
	char *buf, *line, *s;
	int ret;

	buf = kmalloc(256, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = kcr_fz_read(ctx, fz, "cgroup.events", buf, 256);
	if (ret)
		goto out;
	s = buf;
	while ((line = strsep(&s, "\n"))) {
		if (strncmp(line, "frozen ", 7))
			continue;
		if (kstrtobool(line + 7, frozen))
			ret = ckpt_err(ctx, -EIO,
				       "%pD/cgroup.events: \"%s\"", fz->dir,
				       line);
		goto out;
	}
	ret = ckpt_err(ctx, -EIO, "%pD/cgroup.events has no frozen key",
		       fz->dir);
out:
	kfree(buf);
	return ret;
}

/*
 * The freezer state as the kernel's files tell it (THAWED, FREEZING or
 * FROZEN), and whether the cgroup's own freeze is on (as opposed to
 * being frozen through an ancestor).
 */
static int kcr_fz_state(struct ckpt_ctx *ctx, struct kcr_fz *fz, u32 *state,
			bool *self)
{
	bool frozen;
	char buf[32];
	int ret;

	if (!fz->v1) {
		ret = kcr_fz_read_bool(ctx, fz, "cgroup.freeze", self);
		if (!ret)
			ret = kcr_fz_events_frozen(ctx, fz, &frozen);
		if (ret)
			return ret;
		if (frozen)
			*state = CKPT_FREEZER_FROZEN;
		else if (*self)
			*state = CKPT_FREEZER_FREEZING;
		else
			*state = CKPT_FREEZER_THAWED;
		return 0;
	}
	/* Reading freezer.state is what moves FREEZING to FROZEN in v1. */
	ret = kcr_fz_read(ctx, fz, "freezer.state", buf, sizeof(buf));
	if (ret)
		return ret;
	strim(buf);
	if (!strcmp(buf, "THAWED"))
		*state = CKPT_FREEZER_THAWED;
	else if (!strcmp(buf, "FREEZING"))
		*state = CKPT_FREEZER_FREEZING;
	else if (!strcmp(buf, "FROZEN"))
		*state = CKPT_FREEZER_FROZEN;
	else
		return ckpt_err(ctx, -EIO, "%pD/freezer.state reads \"%s\"",
				fz->dir, buf);
	return kcr_fz_read_bool(ctx, fz, "freezer.self_freezing", self);
}

/*
 * Copy in and check the argument; on success *ctxp is the message context
 * and fz the open cgroup directory, both to be released by the caller.
 */
static int kcr_fz_args(void __user *uarg, struct ckpt_ioc_freezer *args,
		       struct ckpt_ctx **ctxp, struct kcr_fz *fz)
{
	struct ckpt_ctx *ctx;

	if (copy_from_user(args, uarg, sizeof(*args)))
		return -EFAULT;
	ctx = kcr_fz_ctx_alloc(args->logfd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	*ctxp = ctx;
	if (args->flags)
		return ckpt_err(ctx, -EINVAL, "flags %#llx: none defined",
				(unsigned long long)args->flags);
	if (args->__pad)
		return ckpt_err(ctx, -EINVAL, "__pad is not zero");
	return kcr_fz_open(ctx, args->cgroup_fd, fz);
}

/*
 * RESTART_FROZEN (restart.c): the cgroup.freeze file of the cgroup v2
 * directory fd, opened as the caller, to write once the tree in it is
 * restored. The cgroup must not be frozen yet: a task made in a frozen
 * cgroup has its freeze trap pending at once, which would interrupt the
 * waits of its restore.
 */
struct file *kcr_freezer_restart_open(struct ckpt_ctx *ctx, int fd)
{
	struct kcr_fz fz = { };
	struct file *f;
	bool self;
	int ret;

	ret = kcr_fz_open(ctx, fd, &fz);
	if (!ret && fz.v1)
		ret = ckpt_err(ctx, -EINVAL,
			       "RESTART_FROZEN: %pD is a v1 freezer cgroup; the tree is made in a cgroup v2 directory",
			       fz.dir);
	if (!ret)
		ret = kcr_fz_read_bool(ctx, &fz, "cgroup.freeze", &self);
	if (!ret && self)
		ret = ckpt_err(ctx, -EBUSY,
			       "RESTART_FROZEN: %pD is frozen already; give a thawed one, which the restart freezes",
			       fz.dir);
	f = ret ? ERR_PTR(ret) : kcr_fz_file(ctx, &fz, "cgroup.freeze",
					     O_WRONLY);
	kcr_fz_close(&fz);
	return f;
}

int kcr_freezer_restart_freeze(struct ckpt_ctx *ctx, struct file *f)
{
	ssize_t ret = kcr_fz_write(f, "1");

	return ret < 0 ? ckpt_err(ctx, ret, "freezing %pD", f) : 0;
}

long kcr_ioctl_freezer_get(struct file *dev, void __user *uarg)
{
	struct ckpt_ioc_freezer args;
	struct ckpt_ctx *ctx = NULL;
	struct kcr_fz fz = { };
	bool self;
	u32 state;
	long ret;

	ret = kcr_fz_args(uarg, &args, &ctx, &fz);
	if (!ret)
		ret = kcr_fz_state(ctx, &fz, &state, &self);
	if (!ret && self) {
		ret = mutex_lock_killable(&kcr_fz_mutex);
		if (!ret) {
			if (kcr_fz_held(fz.kn))
				state = CKPT_FREEZER_CHECKPOINTING;
			mutex_unlock(&kcr_fz_mutex);
		}
	}
	if (!ret) {
		args.state = state;
		if (copy_to_user(uarg, &args, sizeof(args)))
			ret = -EFAULT;
	}
	kcr_fz_close(&fz);
	ckpt_ctx_free(ctx);
	return ret;
}

long kcr_ioctl_freezer_set(struct file *dev, void __user *uarg)
{
	struct ckpt_ioc_freezer args;
	struct ckpt_ctx *ctx = NULL;
	struct kcr_fz fz = { };
	bool freeze, self, busy;
	const char *file, *val;
	struct file *f;
	long ret;

	ret = kcr_fz_args(uarg, &args, &ctx, &fz);
	if (ret)
		goto out;
	switch (args.state) {
	case CKPT_FREEZER_THAWED:
	case CKPT_FREEZER_FROZEN:
		freeze = args.state == CKPT_FREEZER_FROZEN;
		break;
	case CKPT_FREEZER_FREEZING:
	case CKPT_FREEZER_CHECKPOINTING:
		ret = ckpt_err(ctx, -EINVAL,
			       "state %u can be read, not set: set THAWED or FROZEN",
			       args.state);
		goto out;
	default:
		ret = ckpt_err(ctx, -EINVAL, "unknown freezer state %u",
			       args.state);
		goto out;
	}
	if (fz.v1) {
		file = "freezer.state";
		val = freeze ? "FROZEN" : "THAWED";
	} else {
		file = "cgroup.freeze";
		val = freeze ? "1" : "0";
	}

	/*
	 * Only a cgroup whose own freeze is on can be CHECKPOINTING: writing
	 * an ancestor that is not frozen itself thaws nothing. The file is
	 * read and opened before kcr_fz_mutex is taken: a checkpoint takes
	 * the mutex inside its target's exec_update_lock, which reading a
	 * /proc/PID file takes inside its seq_file lock, so no seq_file may
	 * be read (nor a path looked up) under the mutex.
	 */
	ret = kcr_fz_read_bool(ctx, &fz, fz.v1 ? "freezer.self_freezing" :
			       "cgroup.freeze", &self);
	if (ret)
		goto out;
	f = kcr_fz_file(ctx, &fz, file, O_WRONLY);
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
		goto out;
	}
	ret = mutex_lock_killable(&kcr_fz_mutex);
	if (ret) {
		fput(f);
		goto out;
	}
	/* Under the mutex: no checkpoint begins between check and write. */
	busy = self && kcr_fz_held(fz.kn);
	if (!busy)
		ret = kcr_fz_write(f, val);
	mutex_unlock(&kcr_fz_mutex);
	fput(f);
	if (busy)
		ret = ckpt_err(ctx, -EBUSY,
			       "%pD is CHECKPOINTING: a checkpoint of its tasks is running",
			       fz.dir);
	else if (ret < 0)
		ret = ckpt_err(ctx, ret, "writing %s to %pD/%s", val, fz.dir,
			       file);
	else
		ret = 0;
out:
	kcr_fz_close(&fz);
	ckpt_ctx_free(ctx);
	return ret;
}

int kcr_freezer_checkpoint_begin(struct ckpt_ctx *ctx, struct task_struct *root)
{
	struct kcr_fz_hold *h;
	struct cgroup *dfl;
	int i;

	/* A self-checkpoint is not frozen: nothing to hold. */
	if (root == current)
		return 0;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->ctx = ctx;
	rcu_read_lock();
	/* Root cgroups have no freezer: only groups below them are held. */
	dfl = task_dfl_cgroup(root);
	if (kcr_kn_parent(dfl->kn)) {
		h->kn[0] = dfl->kn;
		kernfs_get(h->kn[0]);
	}
#if IS_ENABLED(CONFIG_CGROUP_FREEZER)
	{
		/* Not mounted on v1, the freezer's css is v2's root one. */
		struct cgroup *cg = task_css(root, freezer_cgrp_id)->cgroup;

		if (cg->root != dfl->root && kcr_kn_parent(cg->kn)) {
			h->kn[1] = cg->kn;
			kernfs_get(h->kn[1]);
		}
	}
#endif
	rcu_read_unlock();

	if (mutex_lock_killable(&kcr_fz_mutex)) {
		for (i = 0; i < ARRAY_SIZE(h->kn); i++)
			kernfs_put(h->kn[i]);
		kfree(h);
		return -EINTR;
	}
	list_add(&h->list, &kcr_fz_holds);
	kcr_fz_nr_holds++;
	mutex_unlock(&kcr_fz_mutex);
	return 0;
}

void kcr_freezer_checkpoint_end(struct ckpt_ctx *ctx)
{
	struct kcr_fz_hold *h, *found = NULL;
	int i;

	/* Not killable: every checkpoint must drop its hold. */
	mutex_lock(&kcr_fz_mutex);
	list_for_each_entry(h, &kcr_fz_holds, list) {
		if (h->ctx == ctx) {
			found = h;
			list_del(&h->list);
			kcr_fz_nr_holds--;
			break;
		}
	}
	mutex_unlock(&kcr_fz_mutex);
	if (!found)
		return;
	for (i = 0; i < ARRAY_SIZE(found->kn); i++)
		kernfs_put(found->kn[i]);
	kfree(found);
}
