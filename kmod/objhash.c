// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the object hash, linux-cr's objhash.
 *
 * Checkpoint: a kernel object met for the first time gets the next
 * objref (1, 2, ... in order of definition) and the caller writes its
 * definition; later users of the object only write the objref. Objects
 * are found by (pointer, objtype): the pointer is the object's identity,
 * and the type keeps an object whose address was freed and reused by an
 * object of another kind (those hashed without a reference) from being
 * taken for it.
 *
 * Restart: objects are created as their definitions are read and
 * inserted under the objref of the image; records that refer to them
 * fetch them by objref and type.
 *
 * Either way the hash holds a reference (ops->grab) on each object until
 * the context is freed (ops->drop), so that an identity cannot be reused
 * during the operation.
 *
 * Both lookups take constant time whatever the image holds: objrefs index
 * an xarray (an image chooses its objrefs, so they may be sparse: the
 * xarray stays proportional to the number of objects), pointers a
 * resizable rhashtable (checkpoint only). An image is also bounded in
 * what it can make the kernel hold: at most kcr_max_objects objects
 * (-E2BIG past them), at most RLIMIT_NOFILE of the restarter's open files
 * (-EMFILE), and every allocation is charged to the caller's memory
 * cgroup.
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "kcr.h"

/* Documented in README.md ("Limits"). */
unsigned int kcr_max_objects = 1U << 20;
module_param_named(max_objects, kcr_max_objects, uint, 0644);
MODULE_PARM_DESC(max_objects,
		 "most shared objects one checkpoint or restart may hold");

struct kcr_obj_key {
	unsigned long ptr;
	unsigned long objtype;
};

struct ckpt_obj {
	struct kcr_obj_key key;
	void *ptr;
	int objref;
	const struct ckpt_obj_ops *ops;
	struct rhash_head by_ptr;
	/* Checkpoint: references from the tree (leaks.c), the first's pid. */
	unsigned int users;
	pid_t holder;
};

struct ckpt_obj_hash {
	struct xarray by_ref;		/* objref -> struct ckpt_obj */
	struct rhashtable by_ptr;	/* checkpoint: key -> struct ckpt_obj */
	bool by_ptr_init;
	int next_ref;			/* last objref handed out (checkpoint) */
	unsigned int nr_objs;
	unsigned int nr_files;		/* CKPT_OBJ_FILE objects held */
};

static const struct rhashtable_params kcr_obj_params = {
	.key_len = sizeof(struct kcr_obj_key),
	.key_offset = offsetof(struct ckpt_obj, key),
	.head_offset = offsetof(struct ckpt_obj, by_ptr),
	.automatic_shrinking = false,
};

int ckpt_obj_hash_alloc(struct ckpt_ctx *ctx)
{
	struct ckpt_obj_hash *oh;
	int ret;

	oh = kzalloc(sizeof(*oh), GFP_KERNEL_ACCOUNT);
	if (!oh)
		return -ENOMEM;
	xa_init(&oh->by_ref);
	if (ctx->kind == CKPT_CTX_CHECKPOINT) {
		ret = rhashtable_init(&oh->by_ptr, &kcr_obj_params);
		if (ret) {
			kfree(oh);
			return ret;
		}
		oh->by_ptr_init = true;
	}
	ctx->objhash = oh;
	return 0;
}

void ckpt_obj_hash_free(struct ckpt_ctx *ctx)
{
	struct ckpt_obj_hash *oh = ctx->objhash;
	struct ckpt_obj *obj;
	unsigned long ref;

	if (!oh)
		return;
	/* The table first: it only points at the objects freed below. */
	if (oh->by_ptr_init)
		rhashtable_destroy(&oh->by_ptr);
	xa_for_each(&oh->by_ref, ref, obj) {
		if (obj->ops->drop)
			obj->ops->drop(obj->ptr);
		kfree(obj);
	}
	xa_destroy(&oh->by_ref);
	kfree(oh);
	ctx->objhash = NULL;
}

/* Room for one more object of objtype, or a negative errno (reported). */
static int kcr_obj_room(struct ckpt_ctx *ctx, u32 objtype)
{
	struct ckpt_obj_hash *oh = ctx->objhash;

	if (oh->nr_objs >= READ_ONCE(kcr_max_objects))
		return ckpt_err(ctx, -E2BIG,
				"more than %u objects (module parameter max_objects)",
				READ_ONCE(kcr_max_objects));
	/*
	 * Every file the hash holds is an open file of the caller's making
	 * until the operation ends: as many as it may have open.
	 */
	if (objtype == CKPT_OBJ_FILE &&
	    oh->nr_files >= rlimit(RLIMIT_NOFILE))
		return ckpt_err(ctx, -EMFILE,
				"more than %u files (RLIMIT_NOFILE)",
				oh->nr_files);
	return 0;
}

/*
 * Add ptr as objref; takes the reference the hash holds. An objref taken
 * already is -EEXIST (for the caller to explain); other errors are
 * reported here.
 */
static int kcr_obj_new(struct ckpt_ctx *ctx, void *ptr, int objref,
		       const struct ckpt_obj_ops *ops)
{
	struct ckpt_obj_hash *oh = ctx->objhash;
	struct ckpt_obj *obj;
	int ret;

	ret = kcr_obj_room(ctx, ops->objtype);
	if (ret)
		return ret;
	obj = kzalloc(sizeof(*obj), GFP_KERNEL_ACCOUNT);
	if (!obj)
		goto nomem;
	obj->key.ptr = (unsigned long)ptr;
	obj->key.objtype = ops->objtype;
	obj->ptr = ptr;
	obj->objref = objref;
	obj->ops = ops;
	ret = xa_insert(&oh->by_ref, objref, obj, GFP_KERNEL_ACCOUNT);
	if (ret == -EBUSY) {
		kfree(obj);
		return -EEXIST;
	}
	if (ret)
		goto nomem;
	if (oh->by_ptr_init) {
		ret = rhashtable_insert_fast(&oh->by_ptr, &obj->by_ptr,
					     kcr_obj_params);
		if (ret) {
			xa_erase(&oh->by_ref, objref);
			goto nomem;
		}
	}
	if (ops->grab)
		ops->grab(ptr);
	oh->nr_objs++;
	if (ops->objtype == CKPT_OBJ_FILE)
		oh->nr_files++;
	return 0;
nomem:
	kfree(obj);
	return ckpt_err(ctx, -ENOMEM, "no memory for object %d of type %u",
			objref, ops->objtype);
}

static struct ckpt_obj *kcr_obj_find_ptr(struct ckpt_obj_hash *oh,
					 const void *ptr, u32 objtype)
{
	struct kcr_obj_key key = {
		.ptr = (unsigned long)ptr,
		.objtype = objtype,
	};

	return rhashtable_lookup_fast(&oh->by_ptr, &key, kcr_obj_params);
}

int ckpt_obj_lookup(struct ckpt_ctx *ctx, void *ptr, u32 objtype)
{
	struct ckpt_obj *obj = kcr_obj_find_ptr(ctx->objhash, ptr, objtype);

	return obj ? obj->objref : 0;
}

int ckpt_obj_lookup_add(struct ckpt_ctx *ctx, void *ptr,
			const struct ckpt_obj_ops *ops, bool *first)
{
	struct ckpt_obj_hash *oh = ctx->objhash;
	struct ckpt_obj *obj;
	int ret;

	*first = false;
	if (!ptr)
		return ckpt_err(ctx, -EINVAL, "object of type %u: no object",
				ops->objtype);
	obj = kcr_obj_find_ptr(oh, ptr, ops->objtype);
	if (obj)
		return obj->objref;
	if (oh->next_ref == INT_MAX)
		return ckpt_err(ctx, -E2BIG, "too many objects");
	ret = kcr_obj_new(ctx, ptr, oh->next_ref + 1, ops);
	if (ret)
		return ret;
	*first = true;
	return ++oh->next_ref;
}

unsigned int ckpt_obj_add_user(struct ckpt_ctx *ctx, void *ptr, u32 objtype,
			       pid_t holder)
{
	struct ckpt_obj *obj = kcr_obj_find_ptr(ctx->objhash, ptr, objtype);

	if (!obj)
		return 0;
	if (!obj->users++)
		obj->holder = holder;
	return obj->users;
}

unsigned int ckpt_obj_users(struct ckpt_ctx *ctx, void *ptr, u32 objtype,
			    int *objref, pid_t *holder)
{
	struct ckpt_obj *obj = kcr_obj_find_ptr(ctx->objhash, ptr, objtype);

	if (!obj)
		return 0;
	*objref = obj->objref;
	*holder = obj->holder;
	return obj->users;
}

int ckpt_obj_for_each(struct ckpt_ctx *ctx, u32 objtype,
		      int (*fn)(struct ckpt_ctx *ctx, void *ptr, void *arg),
		      void *arg)
{
	struct ckpt_obj *obj;
	unsigned long ref;
	int ret = 0;

	xa_for_each(&ctx->objhash->by_ref, ref, obj) {
		if (obj->ops->objtype != objtype)
			continue;
		ret = fn(ctx, obj->ptr, arg);
		if (ret)
			break;
	}
	return ret;
}

int ckpt_write_objref(struct ckpt_ctx *ctx, u32 objtype, int objref)
{
	struct ckpt_hdr_objref h = {
		.h.type = CKPT_HDR_OBJREF,
		.h.len = sizeof(h),
		.objtype = objtype,
		.objref = objref,
	};

	return ckpt_write(ctx, &h, sizeof(h));
}

int ckpt_obj_insert(struct ckpt_ctx *ctx, void *ptr, int objref,
		    const struct ckpt_obj_ops *ops)
{
	int ret;

	if (objref <= 0)
		return ckpt_err(ctx, -EINVAL, "object of type %u: objref %d",
				ops->objtype, objref);
	ret = kcr_obj_new(ctx, ptr, objref, ops);
	if (ret == -EEXIST)
		return ckpt_err(ctx, -EINVAL,
				"object of type %u: objref %d defined twice",
				ops->objtype, objref);
	return ret;
}

void *ckpt_obj_fetch(struct ckpt_ctx *ctx, int objref, u32 objtype)
{
	struct ckpt_obj *obj = NULL;

	if (objref > 0)
		obj = xa_load(&ctx->objhash->by_ref, objref);
	if (!obj)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"objref %d (type %u) is not defined",
					objref, objtype));
	if (obj->ops->objtype != objtype)
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"objref %d is of type %u, expected %u",
					objref, obj->ops->objtype, objtype));
	return obj->ptr;
}
