// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of open files and of the filesystem context, after
 * linux-cr's file and fs_struct checkpoint code.
 *
 * A file table is a shared object (CKPT_OBJ_FILE_TABLE): CLONE_FILES
 * tasks refer to it by objref. Its body defines each open file the first
 * time it is met, right before the descriptor that uses it:
 *
 *	OBJREF(FILE_TABLE) FILE_TABLE
 *	per open fd, ascending: [OBJREF(FILE) FILE STRING] FILE_DESC
 *
 * and an fs_struct (CKPT_OBJ_FS, shared by CLONE_FS tasks) is
 *
 *	OBJREF(FS) FS STRING(root) STRING(cwd)
 *
 * Files that are reopened by path at restart (CKPT_FILE_GENERIC): regular
 * files, directories, /dev/{null,zero,random,urandom} and kcr's own
 * /dev/checkpoint, which every self-checkpointing task has open. Pipes,
 * sockets, terminals, other devices, pseudo files (eventfd, memfd, ...)
 * and files whose name was removed are refused with -EOPNOTSUPP and a
 * message naming the descriptor.
 *
 * Paths. d_path() resolves against current's root, which for an external
 * checkpoint is the checkpointer's, not the target's. The image needs
 * paths that mean something at restart: they are written relative to the
 * root of the checkpoint's root task (linux-cr's ctx->root_fs_path), so
 * a chrooted container is restarted in another chroot by its own paths.
 * When that root is not current's, its d_path() is stripped from every
 * path as a prefix, and a path outside of it cannot be checkpointed. For
 * a single process that is simply the path the task itself sees.
 *
 * Object lifetimes. The objhash keeps a reference to each struct file
 * (get_file()/fput()). It keeps none to files_struct and fs_struct: the
 * functions that drop one (put_files_struct(), free_fs_struct()) are not
 * exported, and a reference taken by a bare increment could never be
 * dropped once the task had exited. Their pointers are used by the
 * objhash only as identities, never dereferenced; the structures
 * themselves are only read under task_lock() of a task that uses them,
 * which exit_files()/exit_fs() take before letting go. An identity cannot
 * be reused within one checkpoint: the tasks are frozen (or current) and
 * cannot clone, exec or unshare, so none of them can come to own a new
 * files_struct or fs_struct that might reuse a freed one's address.
 *
 * Locking. task_lock() and RCU are held only while references are taken
 * (one descriptor at a time); records are built and written after.
 */
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/kdev_t.h>
#include <linux/limits.h>
#include <linux/major.h>
#include <linux/module.h>
#include <linux/path.h>
#include <linux/rcupdate.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "kcr.h"

/* Identity only: see "Object lifetimes" above. */
static void kcr_obj_no_ref(void *ptr)
{
}

const struct ckpt_obj_ops kcr_file_table_ops = {
	.objtype = CKPT_OBJ_FILE_TABLE,
	.grab = kcr_obj_no_ref,
	.drop = kcr_obj_no_ref,
};

const struct ckpt_obj_ops kcr_fs_ops = {
	.objtype = CKPT_OBJ_FS,
	.grab = kcr_obj_no_ref,
	.drop = kcr_obj_no_ref,
};

static void kcr_file_grab(void *ptr)
{
	get_file(ptr);
}

static void kcr_file_drop(void *ptr)
{
	fput(ptr);
}

const struct ckpt_obj_ops kcr_file_ops = {
	.objtype = CKPT_OBJ_FILE,
	.grab = kcr_file_grab,
	.drop = kcr_file_drop,
};

/*
 * The root that image paths are relative to: prefix (len bytes, no
 * trailing '/') is its d_path() as current sees it; len is 0 when it is
 * current's root, or "/" anyway.
 */
struct kcr_root {
	const char *prefix;
	size_t len;
};

/* Find the root of the checkpoint; buf (PATH_MAX bytes) keeps its name. */
static int kcr_root_get(struct ckpt_ctx *ctx, struct task_struct *t,
			struct kcr_root *r, char *buf)
{
	struct task_struct *rt = ctx->root_task ? ctx->root_task : t;
	struct path root, cur;
	bool has_fs;
	const char *p;
	int ret = 0;

	r->prefix = "";
	r->len = 0;

	task_lock(rt);
	has_fs = !!rt->fs;
	if (has_fs)
		get_fs_root(rt->fs, &root);
	task_unlock(rt);
	if (!has_fs)
		return ckpt_err(ctx, -ESRCH,
				"root task has no fs_struct: it is exiting");
	get_fs_root(current->fs, &cur);
	if (path_equal(&root, &cur))
		goto out;

	if (d_unlinked(root.dentry)) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "the root directory of the root task was removed");
		goto out;
	}
	p = d_path(&root, buf, PATH_MAX);
	if (IS_ERR(p)) {
		ret = ckpt_err(ctx, PTR_ERR(p),
			       "cannot name the root directory of the root task");
		goto out;
	}
	if (strcmp(p, "/")) {
		r->prefix = p;
		r->len = strlen(p);
	}
out:
	path_put(&cur);
	path_put(&root);
	return ret;
}

/*
 * The path of path relative to r, in buf (PATH_MAX bytes); an ERR_PTR
 * when it has none: -EXDEV when it lies outside r.
 */
static char *kcr_rel_path(const struct kcr_root *r, const struct path *path,
			  char *buf)
{
	char *p;

	p = d_path(path, buf, PATH_MAX);
	if (IS_ERR(p) || !r->len)
		return p;
	if (strncmp(p, r->prefix, r->len) ||
	    (p[r->len] != '/' && p[r->len] != '\0'))
		return ERR_PTR(-EXDEV);
	if (p[r->len] == '\0') {
		/* The root itself: "/" from the last byte of the prefix. */
		p[r->len - 1] = '/';
		return p + r->len - 1;
	}
	return p + r->len;
}

/* /dev/null, /dev/zero, /dev/random, /dev/urandom: reopened by path. */
static bool kcr_mem_chrdev(struct inode *inode)
{
	if (imajor(inode) != MEM_MAJOR)
		return false;
	switch (iminor(inode)) {
	case 3:		/* null */
	case 5:		/* zero */
	case 8:		/* random */
	case 9:		/* urandom */
		return true;
	}
	return false;
}

static const char *kcr_file_kind(umode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	case S_IFIFO:
		return "pipe or FIFO";
	case S_IFSOCK:
		return "socket";
	case S_IFLNK:
		return "symbolic link";
	}
	return "anonymous inode";
}

/*
 * Whether file can be a CKPT_FILE_GENERIC file; an error message naming
 * fd otherwise. Checked for every descriptor before anything of the file
 * table is written, so that a refused table leaves no partial object.
 */
static int kcr_file_supported(struct ckpt_ctx *ctx, struct file *file, int fd)
{
	struct inode *inode = file_inode(file);
	struct dentry *dentry = file->f_path.dentry;
	umode_t mode = inode->i_mode;
	char name[64];
	char *p;

	/*
	 * Files of pseudo file systems (pipes, sockets, eventfd, memfd, ...)
	 * name themselves with d_dname ("pipe:[1234]", which d_path() gives)
	 * and cannot be reopened by path.
	 */
	if (dentry->d_op && dentry->d_op->d_dname) {
		p = d_path(&file->f_path, name, sizeof(name));
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %s %s is not supported", fd,
				kcr_file_kind(mode), IS_ERR(p) ? "?" : p);
	}
	if (S_ISCHR(mode)) {
		/*
		 * kcr's device: f_op of a char device file opened by path is
		 * the driver's own once open (O_PATH files have empty_fops).
		 */
		if (kcr_mem_chrdev(inode) ||
		    (file->f_op && file->f_op->owner == THIS_MODULE))
			goto named;
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: character device %u:%u (%pD) is not supported",
				fd, imajor(inode), iminor(inode), file);
	}
	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %s (%pD) is not supported", fd,
				kcr_file_kind(mode), file);
named:
	if (d_unlinked(dentry))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"fd %d: %s %pD was removed (unlinked files are not supported)",
				fd, kcr_file_kind(mode), file);
	return 0;
}

/*
 * What a restart compares with the file it reopens (checkpoint_hdr.h).
 * The tasks are frozen, but another process may write the file while the
 * image is made: the values are a snapshot, as of this record.
 */
static void kcr_file_identity(struct ckpt_ctx *ctx, struct file *file,
			      struct ckpt_file *c)
{
	struct inode *inode = file_inode(file);
	struct timespec64 ts;

	c->s_dev = new_encode_dev(inode->i_sb->s_dev);
	c->i_ino = inode->i_ino;
	c->i_generation = inode->i_generation;
	c->i_size = i_size_read(inode);
	ts = kcr_inode_mtime(inode);
	c->i_mtime_sec = ts.tv_sec;
	c->i_mtime_nsec = ts.tv_nsec;
	ts = kcr_inode_ctime(inode);
	c->i_ctime_sec = ts.tv_sec;
	c->i_ctime_nsec = ts.tv_nsec;
	/* A self-checkpoint has the image and the log open as it writes them. */
	if ((ctx->file && file_inode(ctx->file) == inode) ||
	    (ctx->logfile && file_inode(ctx->logfile) == inode))
		c->i_flags |= CKPT_FILE_ID_OUTPUT;
	if (S_ISCHR(inode->i_mode) && inode->i_rdev == kcr_devt())
		c->i_flags |= CKPT_FILE_ID_CKPT_DEVICE;
}

/*
 * The objref of file, whose definition (OBJREF FILE STRING) is written
 * when it is met for the first time.
 */
static int kcr_checkpoint_file(struct ckpt_ctx *ctx, const struct kcr_root *r,
			       struct file *file, int fd, char *buf, int *ref)
{
	struct inode *inode = file_inode(file);
	struct ckpt_hdr_file *h;
	bool first = false;
	int objref, ret;
	char *path;

	objref = ckpt_obj_lookup_add(ctx, file, &kcr_file_ops, &first);
	if (objref < 0)
		return objref;
	*ref = objref;
	if (!first)
		return 0;

	path = kcr_rel_path(r, &file->f_path, buf);
	if (IS_ERR(path)) {
		ret = PTR_ERR(path);
		if (ret == -EXDEV)
			return ckpt_err(ctx, -EOPNOTSUPP,
					"fd %d: %pD is outside the root of the checkpoint",
					fd, file);
		return ckpt_err(ctx, ret, "fd %d: cannot name %pD", fd, file);
	}

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_FILE);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "no memory for a file record");
	h->common.f_type = CKPT_FILE_GENERIC;
	h->common.f_mode = (__force u32)file->f_mode;
	h->common.f_flags = file->f_flags;
	/* TODO: objref of file->f_cred once creds.c can define it for us. */
	h->common.f_cred_ref = 0;
	/*
	 * No f_pos_lock: the tasks that share the file are frozen, or it is
	 * current, which is in this ioctl; a 64-bit load is not torn.
	 */
	h->common.f_pos = READ_ONCE(file->f_pos);
	h->common.i_mode = inode->i_mode;
	h->common.i_rdev = S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode) ?
			   new_encode_dev(inode->i_rdev) : 0;
	kcr_file_identity(ctx, file, &h->common);

	ret = ckpt_write_objref(ctx, CKPT_OBJ_FILE, objref);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h->h);
	if (!ret)
		ret = ckpt_write_string(ctx, path, strlen(path) + 1);
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * The objref of a file that something other than an fd refers to (a
 * mapping, the mm's executable), its definition written if it is new.
 * desc names the user in messages.
 */
int checkpoint_obj_file(struct ckpt_ctx *ctx, struct task_struct *t,
			struct file *file, const char *desc, int *ref)
{
	struct kcr_root r;
	char *buf;
	int ret;

	ret = ckpt_obj_lookup(ctx, file, CKPT_OBJ_FILE);
	if (ret > 0) {
		*ref = ret;
		return 0;
	}
	if (!S_ISREG(file_inode(file)->i_mode) ||
	    (file->f_path.dentry->d_op && file->f_path.dentry->d_op->d_dname))
		return ckpt_err(ctx, -EOPNOTSUPP, "%s: %pD is not a regular file",
				desc, file);
	if (d_unlinked(file->f_path.dentry))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"%s: %pD was removed (unlinked files are not supported)",
				desc, file);
	/* The root's name stays in the first half while the path is made. */
	buf = kmalloc(2 * PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;	/* checkpoint.c explains unexplained errors */
	ret = kcr_root_get(ctx, t, &r, buf);
	if (!ret)
		ret = kcr_checkpoint_file(ctx, &r, file, -1, buf + PATH_MAX, ref);
	kfree(buf);
	return ret;
}

struct kcr_fd {
	struct file *file;	/* a reference of ours */
	int fd;
	bool cloexec;
};

struct kcr_fds {
	struct kcr_fd *fds;
	unsigned int nr;
	unsigned int max;
};

static void kcr_fds_free(struct kcr_fds *f)
{
	unsigned int i;

	for (i = 0; i < f->nr; i++)
		fput(f->fds[i].file);
	kvfree(f->fds);
	f->fds = NULL;
	f->nr = 0;
	f->max = 0;
}

/*
 * The first open file of files at or after *fd, with a reference, and
 * its close-on-exec flag; NULL past the last one. files must still be
 * t's: task_lock() keeps it alive only then (-EBUSY otherwise).
 */
static struct file *kcr_next_file(struct task_struct *t,
				  struct files_struct *files,
				  unsigned int *fd, bool *cloexec)
{
	struct file *file = NULL;
	struct fdtable *fdt;

	task_lock(t);
	if (t->files != files) {
		task_unlock(t);
		return ERR_PTR(-EBUSY);
	}
	rcu_read_lock();
	fdt = files_fdtable(files);
	for (; *fd < fdt->max_fds; (*fd)++) {
		/* One being closed right now counts as closed. */
		file = kcr_get_file_rcu(&fdt->fd[*fd]);
		if (file) {
			*cloexec = kcr_close_on_exec(*fd, files);
			break;
		}
	}
	rcu_read_unlock();
	task_unlock(t);
	return file;
}

/* Take a reference to every open file of files, in fd order. */
static int kcr_collect_fds(struct ckpt_ctx *ctx, struct task_struct *t,
			   struct files_struct *files, struct kcr_fds *f)
{
	unsigned int fd = 0;
	struct file *file;
	bool cloexec = false;
	int ret;

	for (;; fd++) {
		file = kcr_next_file(t, files, &fd, &cloexec);
		if (!file)
			return 0;
		if (IS_ERR(file))
			return ckpt_err(ctx, PTR_ERR(file),
					"the file table changed during checkpoint");
		if (f->nr == f->max) {
			unsigned int max = f->max ? 2 * f->max : 16;
			struct kcr_fd *n;

			n = kvmalloc_array(max, sizeof(*n), GFP_KERNEL);
			if (!n) {
				fput(file);
				return ckpt_err(ctx, -ENOMEM,
						"no memory for %u descriptors",
						max);
			}
			if (f->nr)
				memcpy(n, f->fds, f->nr * sizeof(*n));
			kvfree(f->fds);
			f->fds = n;
			f->max = max;
		}
		f->fds[f->nr].file = file;
		f->fds[f->nr].fd = fd;
		f->fds[f->nr].cloexec = cloexec;
		f->nr++;
		ret = kcr_file_supported(ctx, file, fd);
		if (ret)
			return ret;
	}
}

/* The body of CKPT_OBJ_FILE_TABLE objref, its OBJREF record first. */
static int kcr_checkpoint_file_table(struct ckpt_ctx *ctx,
				     struct task_struct *t,
				     struct files_struct *files, int objref)
{
	struct ckpt_hdr_file_table *ht = NULL;
	struct ckpt_hdr_file_desc *hd = NULL;
	struct kcr_fds f = { };
	struct kcr_root r;
	char *buf = NULL;
	unsigned int i;
	int ret;

	ret = kcr_collect_fds(ctx, t, files, &f);
	if (ret)
		goto out;
	ht = ckpt_hdr_get_type(ctx, sizeof(*ht), CKPT_HDR_FILE_TABLE);
	hd = ckpt_hdr_get_type(ctx, sizeof(*hd), CKPT_HDR_FILE_DESC);
	/* The root's name, then room for one file's. */
	buf = kmalloc(2 * PATH_MAX, GFP_KERNEL);
	if (!ht || !hd || !buf) {
		ret = ckpt_err(ctx, -ENOMEM, "no memory to checkpoint files");
		goto out;
	}
	ret = kcr_root_get(ctx, t, &r, buf);
	if (ret)
		goto out;

	ht->nr_fds = f.nr;
	ret = ckpt_write_objref(ctx, CKPT_OBJ_FILE_TABLE, objref);
	if (!ret)
		ret = ckpt_write_obj(ctx, &ht->h);
	for (i = 0; !ret && i < f.nr; i++) {
		int file_ref;

		ret = kcr_checkpoint_file(ctx, &r, f.fds[i].file, f.fds[i].fd,
					  buf + PATH_MAX, &file_ref);
		if (ret)
			break;
		hd->fd = f.fds[i].fd;
		hd->file_ref = file_ref;
		hd->close_on_exec = f.fds[i].cloexec;
		ret = ckpt_write_obj(ctx, &hd->h);
	}
out:
	kfree(buf);
	if (hd)
		ckpt_hdr_put(ctx, hd);
	if (ht)
		ckpt_hdr_put(ctx, ht);
	kcr_fds_free(&f);
	return ret;
}

/*
 * Checkpoint the file table of t (frozen, or current): *ref gets its
 * objref; its body is written the first time it is met.
 */
int checkpoint_files(struct ckpt_ctx *ctx, struct task_struct *t, int *ref)
{
	struct files_struct *files;
	bool first = false;
	int objref, ret;

	task_lock(t);
	files = t->files;
	task_unlock(t);
	if (!files)
		return ckpt_err(ctx, -ESRCH,
				"task has no file table: it is exiting");

	objref = ckpt_obj_lookup_add(ctx, files, &kcr_file_table_ops, &first);
	if (objref < 0)
		return objref;
	if (first) {
		ret = kcr_checkpoint_file_table(ctx, t, files, objref);
		if (ret)
			return ret;
	}
	*ref = objref;
	return 0;
}

/*
 * One directory of an fs_struct, relative to r, in buf (PATH_MAX bytes);
 * an ERR_PTR after a message.
 */
static char *kcr_fs_path(struct ckpt_ctx *ctx, const struct kcr_root *r,
			 const struct path *path, const char *what, char *buf)
{
	char *p;

	if (d_unlinked(path->dentry))
		return ERR_PTR(ckpt_err(ctx, -EOPNOTSUPP,
					"the %s directory was removed", what));
	p = kcr_rel_path(r, path, buf);
	if (p == ERR_PTR(-EXDEV))
		return ERR_PTR(ckpt_err(ctx, -EOPNOTSUPP,
					"the %s directory is outside the root of the checkpoint",
					what));
	if (IS_ERR(p))
		return ERR_PTR(ckpt_err(ctx, PTR_ERR(p),
					"cannot name the %s directory", what));
	return p;
}

/* The body of CKPT_OBJ_FS objref, its OBJREF record first. */
static int kcr_checkpoint_fs_obj(struct ckpt_ctx *ctx, struct task_struct *t,
				 int objref, int umask,
				 const struct path *root,
				 const struct path *pwd)
{
	struct ckpt_hdr_fs *h;
	struct kcr_root r;
	char *buf, *rp, *wp;
	int ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_FS);
	/* The names of the checkpoint's root, of root and of cwd. */
	buf = kmalloc(3 * PATH_MAX, GFP_KERNEL);
	if (!h || !buf) {
		ret = ckpt_err(ctx, -ENOMEM, "no memory to checkpoint the fs");
		goto out;
	}
	ret = kcr_root_get(ctx, t, &r, buf);
	if (ret)
		goto out;
	/* Both paths first: a refused fs_struct leaves no partial object. */
	rp = kcr_fs_path(ctx, &r, root, "root", buf + PATH_MAX);
	if (IS_ERR(rp)) {
		ret = PTR_ERR(rp);
		goto out;
	}
	wp = kcr_fs_path(ctx, &r, pwd, "working", buf + 2 * PATH_MAX);
	if (IS_ERR(wp)) {
		ret = PTR_ERR(wp);
		goto out;
	}

	h->umask = umask;
	ret = ckpt_write_objref(ctx, CKPT_OBJ_FS, objref);
	if (!ret)
		ret = ckpt_write_obj(ctx, &h->h);
	if (!ret)
		ret = ckpt_write_string(ctx, rp, strlen(rp) + 1);
	if (!ret)
		ret = ckpt_write_string(ctx, wp, strlen(wp) + 1);
out:
	kfree(buf);
	if (h)
		ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * Checkpoint the fs_struct of t (frozen, or current): *ref gets its
 * objref; its body (umask, root, cwd) is written the first time.
 */
int checkpoint_fs(struct ckpt_ctx *ctx, struct task_struct *t, int *ref)
{
	struct path root, pwd;
	struct fs_struct *fs;
	bool first = false;
	int objref, ret = 0;
	int umask = 0;

	/*
	 * As get_task_root() in procfs: fs->lock nests in task_lock(), which
	 * keeps t->fs alive. The paths get references of their own, for use
	 * after both locks are dropped.
	 */
	task_lock(t);
	fs = t->fs;
	if (fs) {
		spin_lock(&fs->lock);
		umask = fs->umask;
		root = fs->root;
		path_get(&root);
		pwd = fs->pwd;
		path_get(&pwd);
		spin_unlock(&fs->lock);
	}
	task_unlock(t);
	if (!fs)
		return ckpt_err(ctx, -ESRCH, "task has no fs_struct: it is exiting");

	objref = ckpt_obj_lookup_add(ctx, fs, &kcr_fs_ops, &first);
	if (objref < 0)
		ret = objref;
	else if (first)
		ret = kcr_checkpoint_fs_obj(ctx, t, objref, umask, &root, &pwd);
	if (!ret)
		*ref = objref;
	path_put(&pwd);
	path_put(&root);
	return ret;
}
