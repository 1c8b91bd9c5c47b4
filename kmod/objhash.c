// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the object hash, linux-cr's objhash.
 *
 * Checkpoint: a kernel object met for the first time gets the next
 * objref (1, 2, ... in order of definition) and the caller writes its
 * definition; later users of the object only write the objref. The hash
 * is keyed by (pointer, objtype): the pointer is the object's identity,
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
 */
#include <linux/err.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/slab.h>

#include "kcr.h"

#define KCR_OBJ_HASH_BITS	10

struct ckpt_obj {
	void *ptr;
	int objref;
	const struct ckpt_obj_ops *ops;
	struct hlist_node by_ptr;
	struct hlist_node by_ref;
};

struct ckpt_obj_hash {
	DECLARE_HASHTABLE(by_ptr, KCR_OBJ_HASH_BITS);
	DECLARE_HASHTABLE(by_ref, KCR_OBJ_HASH_BITS);
	int next_ref;		/* last objref handed out (checkpoint) */
};

int ckpt_obj_hash_alloc(struct ckpt_ctx *ctx)
{
	struct ckpt_obj_hash *oh;

	oh = kvzalloc(sizeof(*oh), GFP_KERNEL);
	if (!oh)
		return -ENOMEM;
	hash_init(oh->by_ptr);
	hash_init(oh->by_ref);
	ctx->objhash = oh;
	return 0;
}

void ckpt_obj_hash_free(struct ckpt_ctx *ctx)
{
	struct ckpt_obj_hash *oh = ctx->objhash;
	struct hlist_node *tmp;
	struct ckpt_obj *obj;
	int bkt;

	if (!oh)
		return;
	hash_for_each_safe(oh->by_ref, bkt, tmp, obj, by_ref) {
		hash_del(&obj->by_ref);
		hash_del(&obj->by_ptr);
		if (obj->ops->drop)
			obj->ops->drop(obj->ptr);
		kfree(obj);
	}
	kvfree(oh);
	ctx->objhash = NULL;
}

static unsigned long kcr_ptr_key(const void *ptr, u32 objtype)
{
	return hash_ptr(ptr, BITS_PER_LONG) ^ objtype;
}

static struct ckpt_obj *kcr_obj_find_ptr(struct ckpt_obj_hash *oh,
					 const void *ptr, u32 objtype)
{
	struct ckpt_obj *obj;

	hash_for_each_possible(oh->by_ptr, obj, by_ptr,
			       kcr_ptr_key(ptr, objtype))
		if (obj->ptr == ptr && obj->ops->objtype == objtype)
			return obj;
	return NULL;
}

static struct ckpt_obj *kcr_obj_find_ref(struct ckpt_obj_hash *oh,
					 int objref)
{
	struct ckpt_obj *obj;

	hash_for_each_possible(oh->by_ref, obj, by_ref, objref)
		if (obj->objref == objref)
			return obj;
	return NULL;
}

/* Hash ptr as objref; takes the reference the hash holds. */
static int kcr_obj_new(struct ckpt_obj_hash *oh, void *ptr, int objref,
		       const struct ckpt_obj_ops *ops)
{
	struct ckpt_obj *obj;

	obj = kmalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	obj->ptr = ptr;
	obj->objref = objref;
	obj->ops = ops;
	if (ops->grab)
		ops->grab(ptr);
	hash_add(oh->by_ptr, &obj->by_ptr, kcr_ptr_key(ptr, ops->objtype));
	hash_add(oh->by_ref, &obj->by_ref, objref);
	return 0;
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
	ret = kcr_obj_new(oh, ptr, oh->next_ref + 1, ops);
	if (ret)
		return ckpt_err(ctx, ret, "object of type %u", ops->objtype);
	*first = true;
	return ++oh->next_ref;
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
	struct ckpt_obj_hash *oh = ctx->objhash;
	int ret;

	if (objref <= 0)
		return ckpt_err(ctx, -EINVAL, "object of type %u: objref %d",
				ops->objtype, objref);
	if (kcr_obj_find_ref(oh, objref))
		return ckpt_err(ctx, -EINVAL,
				"object of type %u: objref %d defined twice",
				ops->objtype, objref);
	ret = kcr_obj_new(oh, ptr, objref, ops);
	if (ret)
		return ckpt_err(ctx, ret, "object of type %u", ops->objtype);
	return 0;
}

void *ckpt_obj_fetch(struct ckpt_ctx *ctx, int objref, u32 objtype)
{
	struct ckpt_obj *obj = kcr_obj_find_ref(ctx->objhash, objref);

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
