// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of file tables, files and fs_struct. Placeholder: FILE
 * objects are reopened by path (for mappings and the executable); the
 * fd table and the fs_struct are read but not applied.
 */
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/slab.h>

#include "kcr.h"

static void kcr_file_grab(void *ptr)
{
	get_file(ptr);
}

static void kcr_file_drop(void *ptr)
{
	fput(ptr);
}

static const struct ckpt_obj_ops kcr_file_ops = {
	.objtype = CKPT_OBJ_FILE,
	.grab = kcr_file_grab,
	.drop = kcr_file_drop,
};

static const struct ckpt_obj_ops kcr_file_table_ops = {
	.objtype = CKPT_OBJ_FILE_TABLE,
};

static const struct ckpt_obj_ops kcr_fs_ops = {
	.objtype = CKPT_OBJ_FS,
};

int restore_obj_file(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_file *h;
	struct file *file;
	char *path;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_FILE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	path = ckpt_read_string(ctx, PATH_MAX);
	if (IS_ERR(path)) {
		ret = PTR_ERR(path);
		goto out_h;
	}
	file = filp_open(path, h->common.f_flags &
			 ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY), 0);
	if (IS_ERR(file)) {
		ret = ckpt_err(ctx, PTR_ERR(file), "cannot open %s", path);
		goto out;
	}
	ret = 0;
	if (h->common.f_pos && (file->f_mode & FMODE_LSEEK)) {
		loff_t pos = vfs_llseek(file, h->common.f_pos, SEEK_SET);

		if (pos < 0)
			ret = ckpt_err(ctx, pos, "%s: offset %lld", path,
				       h->common.f_pos);
	}
	if (!ret)
		ret = ckpt_obj_insert(ctx, file, objref, &kcr_file_ops);
	fput(file);
out:
	kfree(path);
out_h:
	ckpt_hdr_put(ctx, h);
	return ret;
}

int restore_obj_file_table(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_file_table *h;
	struct ckpt_hdr_file_desc *d;
	u32 i;
	int ret = 0;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_FILE_TABLE);
	if (IS_ERR(h))
		return PTR_ERR(h);
	for (i = 0; i < h->nr_fds && !ret; i++) {
		d = ckpt_read_obj_type(ctx, sizeof(*d), CKPT_HDR_FILE_DESC);
		if (IS_ERR(d)) {
			ret = PTR_ERR(d);
			break;
		}
		ckpt_hdr_put(ctx, d);
	}
	ckpt_hdr_put(ctx, h);
	return ret ? ret : ckpt_obj_insert(ctx, current->files, objref,
					   &kcr_file_table_ops);
}

int restore_obj_fs(struct ckpt_ctx *ctx, int objref)
{
	struct ckpt_hdr_fs *h;
	char *root, *cwd = NULL;
	int ret;

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_FS);
	if (IS_ERR(h))
		return PTR_ERR(h);
	root = ckpt_read_string(ctx, PATH_MAX);
	ret = PTR_ERR_OR_ZERO(root);
	if (!ret) {
		cwd = ckpt_read_string(ctx, PATH_MAX);
		ret = PTR_ERR_OR_ZERO(cwd);
		if (ret)
			cwd = NULL;
	} else {
		root = NULL;
	}
	kfree(root);
	kfree(cwd);
	ckpt_hdr_put(ctx, h);
	return ret ? ret : ckpt_obj_insert(ctx, current->fs, objref,
					   &kcr_fs_ops);
}
