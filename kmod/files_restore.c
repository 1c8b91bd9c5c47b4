// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of files, file tables and fs_struct (the records that
 * files.c writes).
 *
 * FILE (CKPT_FILE_GENERIC): the file is reopened by its path with the
 * image's open flags, with the credentials the task will have
 * (ctx->restore_cred, which restore_creds() prepared from the image and
 * checked against the restarter's): current still has the restarter's
 * until restart.c commits them, and a root restarter must not hand a
 * task of uid 1000 a file that only root can open. The file's f_cred is
 * then the task's, as if it had opened the file itself. Image paths are
 * relative to the root of the checkpoint, which at restart is the
 * restarter's root: they are resolved from current's root.
 *
 * The reopened file must be the one that was checkpointed (the identity
 * fields of struct ckpt_file): the same file system, inode number and
 * generation for regular files and directories; for regular files also
 * the same size, mtime and ctime, which catches a file written, truncated
 * or replaced in place, and an executable or mapped library rebuilt.
 * Not compared: the size and times of a write-only O_APPEND file (a log:
 * the task only adds at the end, wherever that is, and its report
 * files are written on after the checkpoint), and of the checkpoint's own
 * image and log (CKPT_FILE_ID_OUTPUT); devices are told by their device
 * number (below). A difference is refused with -ESTALE and a message
 * naming the path, unless the restart has RESTART_ALLOW_CHANGED_FILES:
 * then the message is only a note. This guards the consistency of the
 * restored process, not the system: whoever restarts an image may write
 * any identity into it, and still opens only what the task may open.
 *
 * A path of the image may name something else by now (or a tampered
 * image may name anything): before the real open, the path is opened
 * with O_PATH, which has no side effects, and the inode must be of the
 * recorded kind: a regular file, a directory, /dev/null, /dev/zero,
 * /dev/random or /dev/urandom (same device number), or kcr's own
 * device. Only then is it opened for real, with O_NONBLOCK so that a
 * FIFO swapped in meanwhile cannot block the restart, and it must be the
 * inode that the probe found. O_NONBLOCK is then cleared if the image
 * does not have it, as fcntl(F_SETFL) would. O_CREAT, O_EXCL, O_TRUNC and
 * O_NOCTTY are never applied (open clears them from f_flags, so only a
 * corrupted image has them); O_TMPFILE and O_ASYNC are refused. The
 * offset is set with vfs_llseek() and must come out as recorded.
 *
 * FILE_TABLE: the FILE_DESC records are read and checked first (fds
 * ascending, so no duplicates, and below RLIMIT_NOFILE; each file an
 * object defined before), then current's table is made the image's:
 * every descriptor that is not in the image is closed (the task
 * inherited the coordinator's table by kernel_clone() without
 * CLONE_FILES, a copy; with RESTART_TASKSELF it is the caller's own, not
 * shared: restart.c checks) and each image descriptor is installed at
 * its number with its close-on-exec flag (replace_fd(), as dup2()).
 * Descriptors that shared a struct file share the one reopened file,
 * fetched by objref, and so its offset and flags.
 *
 * FS: root and cwd are resolved from current's root and checked as
 * chroot() and chdir() check them, with the task's credentials as files
 * are opened (the capability to chroot is the restarter's): the root may
 * differ from the
 * restarter's only if it could chroot (CAP_SYS_CHROOT in its user
 * namespace). The cwd and the umask (as umask() sets it) are applied at
 * once; a new root only on the task's way out to user mode (a task_work),
 * because the paths of the records that follow (the mm's files) are
 * relative to the root of the checkpoint, the restarter's, too.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kdev_t.h>
#include <linux/major.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/task_work.h>

#include "kcr.h"
#include "ksyms.h"

/* Flags of an image file that a reopen may see (see the top comment). */
#define KCR_FILE_FLAGS		(VALID_OPEN_FLAGS | __FMODE_EXEC)
#define KCR_FILE_NEVER		(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | \
				 O_CLOEXEC | __FMODE_EXEC)
#define KCR_FILE_REFUSED	(__O_TMPFILE | FASYNC)
#define KCR_FMODE_CHECKED	(FMODE_READ | FMODE_WRITE | FMODE_PATH)

/* /dev/null, /dev/zero, /dev/random, /dev/urandom (files.c) */
static bool kcr_mem_rdev(dev_t rdev)
{
	if (MAJOR(rdev) != MEM_MAJOR)
		return false;
	switch (MINOR(rdev)) {
	case 3:
	case 5:
	case 8:
	case 9:
		return true;
	}
	return false;
}

/*
 * Whether rdev is kcr's own device, by the number the module registered
 * (not by looking up /dev/checkpoint: in another mount namespace or
 * chroot that path may be any node). A misc device of another driver is
 * never opened: some act on open (a watchdog).
 */
static bool kcr_own_rdev(dev_t rdev)
{
	return rdev == kcr_devt();
}

/* The image's file record, before anything is opened. */
static int kcr_check_file_rec(struct ckpt_ctx *ctx, int objref,
			      const struct ckpt_file *c, const char *path)
{
	umode_t type = c->i_mode & S_IFMT;

	if (c->f_type != CKPT_FILE_GENERIC)
		return ckpt_err(ctx, -EINVAL, "file %s (objref %d): type %u",
				path, objref, c->f_type);
	if (path[0] != '/')
		return ckpt_err(ctx, -EINVAL,
				"file objref %d: path \"%s\" is not absolute",
				objref, path);
	if (type != S_IFREG && type != S_IFDIR && type != S_IFCHR)
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): inode mode %#o is not a regular file, directory or character device",
				path, objref, c->i_mode);
	if (type != S_IFCHR && c->i_rdev)
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): device number %#x of a non-device",
				path, objref, c->i_rdev);
	if (c->f_flags & ~KCR_FILE_FLAGS)
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): unknown flags %#x",
				path, objref, c->f_flags & ~KCR_FILE_FLAGS);
	if (c->f_flags & KCR_FILE_REFUSED)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"file %s (objref %d): flags %#x (O_TMPFILE, O_ASYNC) are not restored",
				path, objref, c->f_flags & KCR_FILE_REFUSED);
	if (c->f_pos < 0)
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): negative offset %lld",
				path, objref, c->f_pos);
	if (c->f_cred_ref)
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): file credentials (objref %d) are not restored",
				path, objref, c->f_cred_ref);
	if ((c->i_flags & ~CKPT_FILE_ID_FLAGS) || c->__pad)
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): identity flags %#x",
				path, objref, c->i_flags);
	return 0;
}

/* The O_PATH probe's inode against the record. */
static int kcr_check_kind(struct ckpt_ctx *ctx, int objref,
			  const struct ckpt_file *c, const char *path,
			  struct inode *inode)
{
	dev_t rdev = new_decode_dev(c->i_rdev);

	if ((inode->i_mode & S_IFMT) != (c->i_mode & S_IFMT))
		return ckpt_err(ctx, -EINVAL,
				"file %s (objref %d): mode %#o, the image has %#o (not the same kind of file)",
				path, objref, inode->i_mode, c->i_mode);
	if (!S_ISCHR(inode->i_mode))
		return 0;
	if (c->i_flags & CKPT_FILE_ID_CKPT_DEVICE) {
		if (kcr_own_rdev(inode->i_rdev))
			return 0;
	} else if (kcr_mem_rdev(rdev) && inode->i_rdev == rdev) {
		return 0;
	} else if (kcr_own_rdev(rdev) && inode->i_rdev == rdev) {
		return 0;
	}
	return ckpt_err(ctx, -EINVAL,
			"file %s (objref %d): device %u:%u, the image has %u:%u (only /dev/null, zero, random, urandom and /dev/%s are restored)",
			path, objref, MAJOR(inode->i_rdev), MINOR(inode->i_rdev),
			MAJOR(rdev), MINOR(rdev), CKPT_DEVICE_NAME);
}

/* Whether two times are the same, from a record and an inode. */
static bool kcr_same_time(s64 sec, u32 nsec, struct timespec64 ts)
{
	return sec == ts.tv_sec && nsec == ts.tv_nsec;
}

/*
 * The reopened file against the identity in the record: 0 when it is the
 * same, or may differ (see the top comment).
 */
static int kcr_check_identity(struct ckpt_ctx *ctx, int objref,
			      const struct ckpt_file *c, const char *path,
			      struct inode *inode)
{
	bool log = (c->f_flags & O_APPEND) && !(c->f_mode & FMODE_READ);
	const char *what = NULL;

	if (S_ISCHR(inode->i_mode))
		return 0;
	if (c->s_dev != new_encode_dev(inode->i_sb->s_dev) ||
	    c->i_ino != inode->i_ino || c->i_generation != inode->i_generation)
		what = "another file: device, inode or generation differ";
	else if (!S_ISREG(inode->i_mode) || log ||
		 (c->i_flags & CKPT_FILE_ID_OUTPUT))
		what = NULL;
	else if (c->i_size != i_size_read(inode))
		what = "size differs";
	else if (!kcr_same_time(c->i_mtime_sec, c->i_mtime_nsec,
				kcr_inode_mtime(inode)))
		what = "modification time differs";
	else if (!kcr_same_time(c->i_ctime_sec, c->i_ctime_nsec,
				kcr_inode_ctime(inode)))
		what = "change time (ctime) differs";
	if (!what)
		return 0;
	if (ctx->uflags & RESTART_ALLOW_CHANGED_FILES) {
		ckpt_msg(ctx, "%s (objref %d) changed since the checkpoint (%s): reopened anyway (RESTART_ALLOW_CHANGED_FILES)",
			 path, objref, what);
		return 0;
	}
	return ckpt_err(ctx, -ESTALE,
			"%s (objref %d) changed since the checkpoint (%s); restart with RESTART_ALLOW_CHANGED_FILES (kcr restart --allow-changed-files) to accept it",
			path, objref, what);
}

/*
 * Act with the credentials the task being restored will have (see the
 * top comment); NULL after a message when it has none yet.
 */
static const struct cred *kcr_task_creds(struct ckpt_ctx *ctx,
					 const char *what, const char *path)
{
	if (!ctx->restore_cred) {
		ckpt_err(ctx, -EINVAL, "%s %s before the task's credentials",
			 what, path);
		return NULL;
	}
	return override_creds(ctx->restore_cred);
}

/* Reopen the file of a record (checked) as the task being restored. */
static struct file *kcr_reopen(struct ckpt_ctx *ctx, int objref,
			       const struct ckpt_file *c, const char *path)
{
	int flags = c->f_flags & ~KCR_FILE_NEVER;
	struct file *probe, *file;
	int ret;

	probe = filp_open(path, O_PATH | (flags & (O_NOFOLLOW | O_DIRECTORY)),
			  0);
	if (IS_ERR(probe)) {
		ckpt_err(ctx, PTR_ERR(probe), "cannot open %s (objref %d)",
			 path, objref);
		return probe;
	}
	ret = kcr_check_kind(ctx, objref, c, path, file_inode(probe));
	if (ret) {
		fput(probe);
		return ERR_PTR(ret);
	}
	/* An O_PATH open keeps only these flags: the probe is the file. */
	if (flags & O_PATH)
		return probe;

	file = filp_open(path, flags | O_NONBLOCK, 0);
	if (IS_ERR(file)) {
		ckpt_err(ctx, PTR_ERR(file), "cannot open %s (objref %d, flags %#x)",
			 path, objref, flags);
		goto out;
	}
	if (file_inode(file) != file_inode(probe) ||
	    file->f_path.mnt != probe->f_path.mnt) {
		fput(file);
		file = ERR_PTR(ckpt_err(ctx, -EAGAIN,
					"%s (objref %d) changed while it was reopened",
					path, objref));
		goto out;
	}
	if (S_ISCHR(file_inode(file)->i_mode) &&
	    !kcr_mem_rdev(file_inode(file)->i_rdev) &&
	    (!file->f_op || file->f_op->owner != THIS_MODULE)) {
		fput(file);
		file = ERR_PTR(ckpt_err(ctx, -EINVAL,
					"%s (objref %d) is not kcr's device",
					path, objref));
		goto out;
	}
	if (!(flags & O_NONBLOCK) && !(flags & O_PATH)) {
		spin_lock(&file->f_lock);
		file->f_flags &= ~O_NONBLOCK;
		file->f_iocb_flags = iocb_flags(file);
		spin_unlock(&file->f_lock);
	}
out:
	fput(probe);
	return file;
}

int restore_obj_file(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	const struct cred *old;
	struct ckpt_hdr_file *h;
	struct ckpt_file *c;
	struct file *file;
	loff_t pos;
	char *path;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_FILE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	c = &h->common;
	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path)) {
		ret = PTR_ERR(path);
		goto out_h;
	}
	ret = kcr_check_file_rec(ctx, objref, c, path);
	if (ret)
		goto out;
	old = kcr_task_creds(ctx, "file", path);
	if (!old) {
		ret = -EINVAL;
		goto out;
	}
	file = kcr_reopen(ctx, objref, c, path);
	revert_creds(old);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out;
	}
	ret = kcr_check_identity(ctx, objref, c, path, file_inode(file));
	if (ret)
		goto out_file;
	if ((file->f_mode ^ (__force fmode_t)c->f_mode) & KCR_FMODE_CHECKED) {
		ret = ckpt_err(ctx, -EINVAL,
			       "%s (objref %d): file mode %#x does not go with flags %#x",
			       path, objref, c->f_mode, c->f_flags);
		goto out_file;
	}
	if (c->f_pos && !(file->f_mode & FMODE_PATH)) {
		pos = vfs_llseek(file, c->f_pos, SEEK_SET);
		if (pos != c->f_pos) {
			ret = ckpt_err(ctx, pos < 0 ? (int)pos : -EINVAL,
				       "%s (objref %d): cannot seek to %lld (%lld)",
				       path, objref, c->f_pos, pos);
			goto out_file;
		}
	} else if (c->f_pos) {
		ret = ckpt_err(ctx, -EINVAL, "%s (objref %d): offset %lld of an O_PATH file",
			       path, objref, c->f_pos);
		goto out_file;
	}
	ret = ckpt_obj_insert(ctx, file, objref, &kcr_file_ops);
out_file:
	fput(file);
out:
	kfree(path);
out_h:
	ckpt_hdr_put(ctx, h);
	return ret;
}

struct kcr_rfd {
	struct file *file;	/* the objhash's reference */
	int fd;
	bool cloexec;
};

/* Read the nr FILE_DESC records of a table into fds, checked. */
static int kcr_read_fds(struct ckpt_ctx *ctx, struct kcr_rfd *fds, u32 nr,
			unsigned long max)
{
	struct ckpt_hdr_file_desc *d;
	struct file *file;
	int prev = -1;
	int ret = 0;
	u32 i;

	for (i = 0; i < nr && !ret; i++) {
		d = ckpt_read_obj_type(ctx, sizeof(*d), CKPT_HDR_FILE_DESC);
		if (IS_ERR(d))
			return PTR_ERR(d);
		if (d->fd < 0)
			ret = ckpt_err(ctx, -EINVAL, "file table: fd %d",
				       d->fd);
		else if (d->fd <= prev)
			ret = ckpt_err(ctx, -EINVAL,
				       "file table: fd %d after fd %d (out of order or twice)",
				       d->fd, prev);
		else if (d->fd >= max)
			ret = ckpt_err(ctx, -EMFILE,
				       "file table: fd %d is beyond RLIMIT_NOFILE (%lu)",
				       d->fd, max);
		else if (d->close_on_exec > 1)
			ret = ckpt_err(ctx, -EINVAL,
				       "file table: fd %d: close-on-exec %u",
				       d->fd, d->close_on_exec);
		if (!ret) {
			file = ckpt_obj_fetch(ctx, d->file_ref, CKPT_OBJ_FILE);
			if (IS_ERR(file))
				ret = ckpt_err(ctx, PTR_ERR(file),
					       "file table: fd %d: file objref %d",
					       d->fd, d->file_ref);
			else
				fds[i] = (struct kcr_rfd){ file, d->fd,
							  d->close_on_exec };
		}
		prev = d->fd;
		ckpt_hdr_put(ctx, d);
	}
	return ret;
}

/* Close every descriptor of current that is not one of fds. */
static void kcr_close_others(const struct kcr_rfd *fds, u32 nr)
{
	unsigned int fd = 0;
	u32 i = 0;

	for (;; fd++) {
		if (!kcr_next_fd(current, &fd))
			return;
		while (i < nr && fds[i].fd < fd)
			i++;
		if (i == nr || fds[i].fd != fd)
			close_fd(fd);
	}
}

/* A task created for a restart starts with no descriptors (restart.c). */
void kcr_close_all_fds(void)
{
	kcr_close_others(NULL, 0);
}

int restore_obj_file_table(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_file_table *h;
	struct kcr_rfd *fds = NULL;
	unsigned long max = rlimit(RLIMIT_NOFILE);
	u32 i, nr;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_FILE_TABLE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	nr = h->nr_fds;
	ckpt_hdr_put(ctx, h);
	/* Distinct descriptors below RLIMIT_NOFILE (<= fs.nr_open). */
	if (nr > max)
		return ckpt_err(ctx, -EMFILE,
				"file table of %u descriptors: RLIMIT_NOFILE is %lu",
				nr, max);
	if (nr) {
		fds = kvmalloc_array(nr, sizeof(*fds),
				     GFP_KERNEL | __GFP_NOWARN);
		if (!fds)
			return ckpt_err(ctx, -ENOMEM,
					"no memory for %u descriptors", nr);
	}
	ret = kcr_read_fds(ctx, fds, nr, max);
	if (ret)
		goto out;
	if (current->files != NULL &&
	    atomic_read(&current->files->count) > 1) {
		ret = ckpt_err(ctx, -EBUSY,
			       "the file table is shared with another task");
		goto out;
	}

	kcr_close_others(fds, nr);
	for (i = 0; i < nr; i++) {
		ret = kcr_replace_fd(fds[i].fd, fds[i].file,
				     fds[i].cloexec ? O_CLOEXEC : 0);
		if (ret < 0) {
			ret = ckpt_err(ctx, ret, "cannot install fd %d",
				       fds[i].fd);
			goto out;
		}
	}
	ret = ckpt_obj_insert(ctx, current->files, objref,
			      &kcr_file_table_ops);
out:
	kvfree(fds);
	return ret;
}

/* A directory of an fs record, resolved and checked for chdir(). */
static int kcr_fs_dir(struct ckpt_ctx *ctx, const char *p, const char *what,
		      struct path *path)
{
	int ret;

	if (p[0] != '/')
		return ckpt_err(ctx, -EINVAL,
				"fs: %s directory \"%s\" is not absolute", what,
				p);
	ret = kern_path(p, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);
	if (ret)
		return ckpt_err(ctx, ret, "fs: %s directory %s", what, p);
	ret = path_permission(path, MAY_EXEC | MAY_CHDIR);
	if (ret) {
		path_put(path);
		return ckpt_err(ctx, ret, "fs: %s directory %s: no access",
				what, p);
	}
	return 0;
}

/* A root to change to on the way out (see the top comment). */
struct kcr_chroot {
	struct callback_head work;
	struct path root;
};

static void kcr_chroot_work(struct callback_head *work)
{
	struct kcr_chroot *c = container_of(work, struct kcr_chroot, work);

	/* At exit (the restart failed) there is nothing left to change. */
	if (!(current->flags & PF_EXITING) && current->fs)
		kcr_set_fs_root(current->fs, &c->root);
	path_put(&c->root);
	kfree(c);
}

static int kcr_chroot_later(struct ckpt_ctx *ctx, const struct path *root)
{
	struct kcr_chroot *c;
	int ret;

	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->root = *root;
	path_get(&c->root);
	init_task_work(&c->work, kcr_chroot_work);
	ret = task_work_add(current, &c->work, TWA_NONE);
	if (ret) {
		path_put(&c->root);
		kfree(c);
		return ckpt_err(ctx, ret, "fs: cannot change the root");
	}
	return 0;
}

/* Apply root (unless it is current's) and cwd to current's fs_struct. */
static int kcr_apply_fs(struct ckpt_ctx *ctx, const char *root,
			const char *cwd, u32 umask)
{
	struct fs_struct *fs = current->fs;
	struct path rp, wp, cur;
	const struct cred *old;
	bool chroot;
	int users;
	int ret;

	spin_lock(&fs->lock);
	users = fs->users;
	spin_unlock(&fs->lock);
	if (users > 1)
		return ckpt_err(ctx, -EBUSY,
				"fs: the fs_struct is shared with another task (CLONE_FS)");

	/* Looked up and checked as the task will chdir (top comment). */
	old = kcr_task_creds(ctx, "fs: directory", cwd);
	if (!old)
		return -EINVAL;
	ret = kcr_fs_dir(ctx, root, "root", &rp);
	if (ret) {
		revert_creds(old);
		return ret;
	}
	ret = kcr_fs_dir(ctx, cwd, "working", &wp);
	revert_creds(old);
	if (ret)
		goto out_rp;
	get_fs_root(fs, &cur);
	chroot = !path_equal(&rp, &cur);
	path_put(&cur);
	if (chroot) {
		if (!ns_capable(current_user_ns(), CAP_SYS_CHROOT)) {
			ret = ckpt_err(ctx, -EPERM,
				       "fs: root %s is not the restarter's, and changing it needs CAP_SYS_CHROOT",
				       root);
			goto out;
		}
#ifdef CONFIG_SECURITY_PATH
		ret = kcr_security_path_chroot(&rp);
		if (ret) {
			ckpt_err(ctx, ret, "fs: chroot to %s refused", root);
			goto out;
		}
#endif
		ret = kcr_chroot_later(ctx, &rp);
		if (ret)
			goto out;
	}
	kcr_set_fs_pwd(fs, &wp);
	fs->umask = umask;	/* as umask(): no lock */
out:
	path_put(&wp);
out_rp:
	path_put(&rp);
	return ret;
}

int restore_obj_fs(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct ckpt_hdr_fs *h;
	char *root, *cwd = NULL;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_FS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	root = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(root)) {
		ret = PTR_ERR(root);
		root = NULL;
		goto out;
	}
	cwd = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(cwd)) {
		ret = PTR_ERR(cwd);
		cwd = NULL;
		goto out;
	}
	if (h->umask & ~0777) {
		ret = ckpt_err(ctx, -EINVAL, "fs: umask %#o", h->umask);
		goto out;
	}
	ret = kcr_apply_fs(ctx, root, cwd, h->umask);
	if (!ret)
		ret = ckpt_obj_insert(ctx, current->fs, objref, &kcr_fs_ops);
out:
	kfree(cwd);
	kfree(root);
	ckpt_hdr_put(ctx, h);
	return ret;
}
