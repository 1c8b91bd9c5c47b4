// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: checkpoint of a task's memory, after linux-cr's checkpoint/memory.c.
 *
 * An mm is a shared object (CKPT_OBJ_MM): threads and CLONE_VM children
 * refer to it by objref, and its body is written once:
 *
 *	[the executable's FILE object] OBJREF(MM) MM MM_AUXV
 *	per VMA, in address order:
 *		[its file's FILE object] VMA PGARR... PGARR(empty)
 *
 * With CHECKPOINT_DIRTY_ONLY, PGARR_CLEAN records of addresses stand for
 * the pages that were not written since the soft-dirty bits were cleared,
 * each after the PGARR record of the same chunk.
 *
 * Mapped files and the executable are CKPT_OBJ_FILE objects (files.c),
 * defined where they are first needed.
 *
 * Locking. The target's mmap_lock is held for read only while the VMAs
 * are copied into a private array and while the page references of one
 * page chunk are collected; no image I/O happens under it. Writing to the
 * image can block for long (a pipe to a slow reader, a network file
 * system) and the mm's other users (ps reading /proc/PID/cmdline, the OOM
 * reaper, a self-checkpointing task's other threads) must not wait for
 * it; nor can the image file's write path then ever need this mm's lock.
 * The pages of a chunk are kept by get_user_pages_remote()'s references
 * after the lock is dropped. The tasks of an external checkpoint are
 * frozen and a self-checkpointing task is here, so the VMAs do not change
 * between two lock holds; each chunk still checks that its VMA is the one
 * recorded and fails with -EBUSY otherwise, rather than write an image
 * whose pages do not match its VMA records.
 *
 * Which pages. Anonymous memory: every page that holds data, including
 * swapped-out ones, but not holes that were never touched, nor the shared
 * zero page, nor pages of zeros (a sparse or cleared 1 GiB reservation
 * must not become 1 GiB of image nor allocate memory at restart).
 * File-private memory: only the pages that were copied on write
 * (PageAnon); the others are reread from the file at restart. Two
 * tools, both available to modules without kallsyms:
 *  - kcr_next_mapped() (pagetable.c) reads the page tables to skip
 *    empty ranges at the highest level they are empty at (pgd ... pte),
 *    so that the cost of a VMA follows what is mapped in it, not its
 *    size, and so that a file page that was never mapped is never read
 *    in;
 *  - get_user_pages_remote() with FOLL_DUMP (as core dumps use it) then
 *    takes the references: it swaps pages in, waits for migrations, copes
 *    with huge pages, and returns -EFAULT for the zero page and for holes
 *    instead of filling them. FOLL_FORCE reads PROT_NONE mappings.
 * The page table walk is only a hint (it takes no page table locks):
 * get_user_pages_remote() decides what is really there. The exception is
 * the last step of a pre-copy (CHECKPOINT_DIRTY_ONLY): there the pages
 * that are clean without a doubt by the page tables are listed without a
 * reference (kcr_clean_run()), since the caller read them before.
 */
#include <linux/auxvec.h>
#include <linux/build_bug.h>
#include <linux/bvec.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/hugetlb_inline.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/userfaultfd_k.h>

#include "kcr.h"

/* Which pages of a VMA go into the image. */
enum kcr_vma_pages {
	KCR_PAGES_NONE,		/* vDSO, vvar, VM_IO/VM_PFNMAP: none */
	KCR_PAGES_ALL,		/* anonymous: all that hold data */
	KCR_PAGES_ANON,		/* file-private: the copied-on-write ones */
};

/* A VMA as copied under mmap_lock. */
struct kcr_vma {
	unsigned long start;
	unsigned long end;
	unsigned long flags;		/* vm_flags */
	unsigned long pgoff;
	u64 page_prot;
	u32 type;			/* CKPT_VMA_* */
	enum kcr_vma_pages pages;
	struct file *file;		/* CKPT_VMA_FILE, referenced */
	bool image_map;			/* anonymous memory mapped from an image */
};

/* Why a VMA cannot be checkpointed, reported once mmap_lock is dropped. */
struct kcr_vma_err {
	int err;
	unsigned long start;
	unsigned long end;
	unsigned long flags;
	const char *why;
	char name[32];			/* special mapping's name */
	struct file *file;		/* referenced, for its path */
};

/* What is read of the mm under mmap_lock. */
struct kcr_mm_snap {
	struct kcr_vma *vmas;
	unsigned int nr_vmas;
	unsigned int nr_auxv;
	u64 auxv[AT_VECTOR_SIZE];
};

/*
 * One PGARR record being filled: header and addresses in one buffer, so
 * that they go out in a single write before the pages, which go out in
 * one more (ckpt_write_pages()).
 */
struct kcr_pgarr {
	struct ckpt_hdr_pgarr *hdr;	/* followed by the addresses */
	u64 *addrs;
	struct page **pages;		/* referenced */
	struct bio_vec *bv;
	unsigned int nr;
	/*
	 * CHECKPOINT_DIRTY_ONLY: the pages not written since the soft-dirty
	 * bits were cleared, as one PGARR_CLEAN record of addresses.
	 */
	bool dirty_only;		/* for the VMA being read */
	struct ckpt_hdr_pgarr_clean *clean;	/* followed by addresses */
	u64 *clean_addrs;
	unsigned int nr_clean;
};

/* The biggest chunk must fit the 32-bit record length. */
static_assert((u64)CKPT_PGARR_MAX_PAGES * (sizeof(u64) + PAGE_SIZE) +
	      PAGE_SIZE + sizeof(struct ckpt_hdr_pgarr) <= U32_MAX);

static void kcr_mm_grab(void *ptr)
{
	mmget(ptr);
}

static void kcr_mm_drop(void *ptr)
{
	mmput(ptr);
}

const struct ckpt_obj_ops kcr_mm_ops = {
	.objtype = CKPT_OBJ_MM,
	.grab = kcr_mm_grab,
	.drop = kcr_mm_drop,
};

/*
 * A page of zeros need not be in the image: in anonymous memory, restart
 * leaves it a hole, which reads as zeros too (memory touched but cleared,
 * calloc()ed buffers, stacks). The scan stops at the first non-zero
 * byte, so a page that holds data costs a few loads. Not for the pages
 * copied on write in a private file mapping: a hole there reads the file.
 */
static bool kcr_page_is_zero(struct page *page)
{
	void *kaddr = kmap_local_page(page);
	bool zero = !memchr_inv(kaddr, 0, PAGE_SIZE);

	kunmap_local(kaddr);
	return zero;
}

/*
 * Take references to the pages of kv from *pos on into pa, until pa is
 * full or the VMA ends; *pos: where to go on from, or the address that
 * failed. Called under mmap_read_lock with kv's VMA checked.
 */
static int kcr_collect_pages(struct mm_struct *mm, const struct kcr_vma *kv,
			     unsigned long *pos, struct kcr_pgarr *pa)
{
	/*
	 * FOLL_DUMP: -EFAULT instead of faulting in holes and instead of the
	 * zero page; FOLL_FORCE: PROT_NONE too; FOLL_HWPOISON: a poisoned
	 * page is an error (-EHWPOISON), not a hole.
	 */
	const unsigned int gup_flags = FOLL_FORCE | FOLL_DUMP | FOLL_HWPOISON;
	unsigned long addr = *pos;

	while (addr < kv->end && pa->nr < CKPT_PGARR_MAX_PAGES &&
	       pa->nr_clean < CKPT_PGARR_MAX_PAGES) {
		unsigned long run_end, nr, i, base;
		long got;

		/*
		 * Memory mapped from an image is all there, also what was
		 * never touched: the image file holds it.
		 */
		if (kv->image_map)
			run_end = kv->end;
		else
			addr = kcr_next_mapped(mm, addr, kv->end, &run_end);
		if (addr >= kv->end)
			break;
		if (pa->dirty_only && kv->pages == KCR_PAGES_ALL) {
			bool clean;
			unsigned long stop = kcr_clean_run(mm, addr, run_end,
							   &clean);

			if (clean) {
				/* Listed without a page reference. */
				for (; addr < stop &&
				     pa->nr_clean < CKPT_PGARR_MAX_PAGES;
				     addr += PAGE_SIZE)
					pa->clean_addrs[pa->nr_clean++] = addr;
				continue;
			}
			run_end = stop;
		}
		/* Each page goes to one of the two lists: room in both. */
		nr = min3((run_end - addr) >> PAGE_SHIFT,
			  (unsigned long)CKPT_PGARR_MAX_PAGES - pa->nr,
			  (unsigned long)CKPT_PGARR_MAX_PAGES - pa->nr_clean);
		got = kcr_gup_remote(mm, addr, nr, gup_flags,
				     pa->pages + pa->nr);
		if (got == -EFAULT) {
			/* Zero page or hole: nothing to save here. */
			addr += PAGE_SIZE;
			continue;
		}
		if (got <= 0) {
			*pos = addr;
			return got ? got : -EFAULT;
		}
		base = pa->nr;
		for (i = 0; i < got; i++, addr += PAGE_SIZE) {
			struct page *page = pa->pages[base + i];

			if (kv->pages == KCR_PAGES_ANON && !PageAnon(page)) {
				/* File contents: reread at restart. */
				put_page(page);
				continue;
			}
			if (pa->dirty_only && !kcr_page_soft_dirty(mm, addr)) {
				/* The caller has it from its pre-copy. */
				put_page(page);
				pa->clean_addrs[pa->nr_clean++] = addr;
				continue;
			}
			if (kv->pages == KCR_PAGES_ALL && kcr_page_is_zero(page)) {
				/* A hole at restart reads the same zeros. */
				put_page(page);
				continue;
			}
			pa->pages[pa->nr] = page;
			pa->addrs[pa->nr++] = addr;
		}
	}
	*pos = addr;
	return 0;
}

static void kcr_pgarr_release(struct kcr_pgarr *pa)
{
	unsigned int i;

	for (i = 0; i < pa->nr; i++)
		put_page(pa->pages[i]);
	pa->nr = 0;
}

/*
 * Write pa as one PGARR record (an empty one when pa->nr is 0) and drop
 * its page references. Zeros after the addresses make the pages start at
 * a multiple of the page size from the start of the image, so that a
 * restart can map them from the image file.
 */
static int kcr_write_pgarr(struct ckpt_ctx *ctx, struct kcr_pgarr *pa)
{
	size_t alen = sizeof(*pa->hdr) + pa->nr * sizeof(u64), pad = 0;
	int ret;

	if (pa->nr)
		pad = -((u64)ctx->pos + alen) & (PAGE_SIZE - 1);
	memset((char *)pa->hdr + alen, 0, pad);
	pa->hdr->h.type = CKPT_HDR_PGARR;
	pa->hdr->h.len = alen + pad + (size_t)pa->nr * PAGE_SIZE;
	pa->hdr->nr_pages = pa->nr;
	pa->hdr->pad = pad;
	ret = ckpt_write(ctx, pa->hdr, alen + pad);
	if (!ret && pa->nr)
		ret = ckpt_write_pages(ctx, pa->pages, pa->bv, pa->nr);
	kcr_pgarr_release(pa);
	return ret;
}

/* Write the addresses of the clean pages as one PGARR_CLEAN record. */
static int kcr_write_clean(struct ckpt_ctx *ctx, struct kcr_pgarr *pa)
{
	size_t len = sizeof(*pa->clean) + pa->nr_clean * sizeof(u64);
	int ret;

	pa->clean->h.type = CKPT_HDR_PGARR_CLEAN;
	pa->clean->h.len = len;
	pa->clean->nr_pages = pa->nr_clean;
	/* Where the caller finds them: /proc/PID of the first user. */
	pa->clean->pid = task_tgid_vnr(ctx->tsk);
	ret = ckpt_write(ctx, pa->clean, len);
	pa->nr_clean = 0;
	return ret;
}

static int kcr_pgarr_alloc(struct ckpt_ctx *ctx, struct kcr_pgarr *pa)
{
	pa->nr = 0;
	pa->nr_clean = 0;
	pa->dirty_only = false;
	pa->clean = NULL;
	if (ctx->uflags & CHECKPOINT_DIRTY_ONLY) {
		pa->clean = kvmalloc(sizeof(*pa->clean) + CKPT_PGARR_MAX_PAGES *
				     sizeof(u64), GFP_KERNEL);
		if (!pa->clean)
			return -ENOMEM;
		pa->clean_addrs = (u64 *)(pa->clean + 1);
	}
	/* The addresses, and room for the zeros that align the pages. */
	pa->hdr = kvmalloc(sizeof(*pa->hdr) + CKPT_PGARR_MAX_PAGES *
			   sizeof(u64) + PAGE_SIZE, GFP_KERNEL);
	pa->pages = kvmalloc_array(CKPT_PGARR_MAX_PAGES, sizeof(*pa->pages),
				   GFP_KERNEL);
	pa->bv = kvmalloc_array(CKPT_PGARR_MAX_PAGES, sizeof(*pa->bv),
				GFP_KERNEL);
	if (!pa->hdr || !pa->pages || !pa->bv) {
		kvfree(pa->hdr);
		kvfree(pa->pages);
		kvfree(pa->bv);
		kvfree(pa->clean);
		return -ENOMEM;
	}
	pa->addrs = (u64 *)(pa->hdr + 1);
	return 0;
}

static void kcr_pgarr_free(struct kcr_pgarr *pa)
{
	kcr_pgarr_release(pa);
	kvfree(pa->hdr);
	kvfree(pa->pages);
	kvfree(pa->bv);
	kvfree(pa->clean);
}

/* The pages of one VMA as PGARR records, then the empty one. */
static int kcr_checkpoint_vma_pages(struct ckpt_ctx *ctx,
				    struct mm_struct *mm,
				    const struct kcr_vma *kv,
				    struct kcr_pgarr *pa)
{
	unsigned long pos = kv->start;
	int ret;

	/* A VMA made since the bits were cleared is written as a whole. */
	pa->dirty_only = (ctx->uflags & CHECKPOINT_DIRTY_ONLY) &&
		!(kv->flags & VM_SOFTDIRTY) && !kv->image_map;
	while (kv->pages != KCR_PAGES_NONE && pos < kv->end) {
		struct vm_area_struct *vma;

		ret = mmap_read_lock_killable(mm);
		if (ret)
			return ckpt_err(ctx, ret, "interrupted reading memory");
		vma = vma_lookup(mm, pos);
		if (!vma || vma->vm_start != kv->start ||
		    vma->vm_end != kv->end || vma->vm_flags != kv->flags) {
			mmap_read_unlock(mm);
			return ckpt_err(ctx, -EBUSY,
					"mapping %#lx-%#lx changed during checkpoint",
					kv->start, kv->end);
		}
		ret = kcr_collect_pages(mm, kv, &pos, pa);
		mmap_read_unlock(mm);
		if (ret) {
			kcr_pgarr_release(pa);
			pa->nr_clean = 0;
			return ckpt_err(ctx, ret,
					"cannot read page %#lx of mapping %#lx-%#lx",
					pos, kv->start, kv->end);
		}
		if (pa->nr) {
			ret = kcr_write_pgarr(ctx, pa);
			if (ret)
				return ret;
		}
		if (pa->nr_clean) {
			ret = kcr_write_clean(ctx, pa);
			if (ret)
				return ret;
		}
	}
	return kcr_write_pgarr(ctx, pa);
}

/* The name of a special mapping ("[vdso]", "[vvar]", ...), or NULL. */
const char *kcr_vma_special_name(struct vm_area_struct *vma)
{
	if (vma->vm_file || !vma->vm_ops || !vma->vm_ops->name)
		return NULL;
	return vma->vm_ops->name(vma);
}

/*
 * Is this mapping anonymous memory that a restart mapped from its image
 * (RESTART_MAP_IMAGE)? Such a mapping has VM_DONTEXPAND and its file
 * starts with an image header. It is saved as the anonymous memory it
 * stands for, all of it, so that the new image does not need the old
 * one. Called under mmap_read_lock: reads the file's first bytes, from
 * its page cache as a rule.
 */
static bool kcr_vma_is_image_map(struct vm_area_struct *vma)
{
	struct {
		struct ckpt_hdr h;
		u64 magic;
	} head;
	loff_t pos = 0;

	if (!(vma->vm_flags & VM_DONTEXPAND) ||
	    !S_ISREG(file_inode(vma->vm_file)->i_mode) ||
	    !(vma->vm_file->f_mode & FMODE_READ))
		return false;
	if (kernel_read(vma->vm_file, &head, sizeof(head), &pos) !=
	    sizeof(head))
		return false;
	return head.h.type == CKPT_HDR_HEADER && head.magic == CKPT_MAGIC_HEAD;
}

/* Can a restart find this file again by its path? */
static bool kcr_file_reopenable(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;

	/* Deleted files and pseudo files (memfd, anon inodes) cannot be. */
	if (d_unlinked(dentry))
		return false;
	if (dentry->d_op && dentry->d_op->d_dname)
		return false;
	return true;
}

static int kcr_vma_refuse(struct vm_area_struct *vma, struct kcr_vma_err *ve,
			  int err, const char *why, const char *name)
{
	ve->err = err;
	ve->start = vma->vm_start;
	ve->end = vma->vm_end;
	ve->flags = vma->vm_flags;
	ve->why = why;
	if (name)
		strscpy(ve->name, name, sizeof(ve->name));
	if (vma->vm_file)
		ve->file = get_file(vma->vm_file);
	return err;
}

/*
 * Fill kv from vma, or tell in ve why it cannot be checkpointed.
 * Called under mmap_read_lock.
 */
static int kcr_vma_snapshot(struct mm_struct *mm, struct vm_area_struct *vma,
			    struct kcr_vma *kv, struct kcr_vma_err *ve)
{
	const char *name;

	kv->start = vma->vm_start;
	kv->end = vma->vm_end;
	kv->flags = vma->vm_flags;
	kv->pgoff = vma->vm_pgoff;
	kv->page_prot = pgprot_val(vma->vm_page_prot);
	kv->file = NULL;
	kv->image_map = false;

	if (is_vm_hugetlb_page(vma))
		return kcr_vma_refuse(vma, ve, -EOPNOTSUPP,
				      "hugetlb mappings are not supported",
				      NULL);
	/*
	 * Registered with a userfaultfd: its faults go to a handler that a
	 * restart could not reconnect (the registration lives in the uffd).
	 */
	if (userfaultfd_armed(vma))
		return kcr_vma_refuse(vma, ve, -EOPNOTSUPP,
				      "mapping registered with a userfaultfd",
				      NULL);
	/*
	 * VM_MAYSHARE, not VM_SHARED: a MAP_SHARED mapping of a file opened
	 * read-only has only the former, and is still shared.
	 */
	if (vma->vm_flags & VM_MAYSHARE)
		return kcr_vma_refuse(vma, ve, -EOPNOTSUPP,
				      "shared mappings (MAP_SHARED, shmem, SysV shm) are not supported yet",
				      NULL);

	if (vma_is_anonymous(vma)) {
		/*
		 * Also a private mapping of /dev/zero, which is anonymous
		 * memory that keeps the file only for /proc/PID/maps.
		 */
		if ((vma->vm_flags & VM_GROWSDOWN) ||
		    (vma->vm_start <= mm->start_stack &&
		     mm->start_stack < vma->vm_end))
			kv->type = CKPT_VMA_STACK;
		else if (vma->vm_start < mm->brk &&
			 vma->vm_end > mm->start_brk)
			kv->type = CKPT_VMA_HEAP;
		else
			kv->type = CKPT_VMA_ANON;
		kv->pages = KCR_PAGES_ALL;
	} else if (vma->vm_file && kcr_vma_is_image_map(vma)) {
		kv->type = CKPT_VMA_ANON;
		kv->pages = KCR_PAGES_ALL;
		kv->image_map = true;
	} else if (vma->vm_file) {
		if (!kcr_file_reopenable(vma->vm_file))
			return kcr_vma_refuse(vma, ve, -EOPNOTSUPP,
					      "private mapping of a deleted or unnamed file",
					      NULL);
		kv->type = CKPT_VMA_FILE;
		kv->pages = KCR_PAGES_ANON;
		kv->file = get_file(vma->vm_file);
	} else {
		/*
		 * The vDSO is found by the name of its special mapping, the
		 * one /proc/PID/maps shows: x86-64, s390 and powerpc all
		 * install "[vdso]" and "[vvar]" with
		 * _install_special_mapping(), wherever they were moved to.
		 */
		name = kcr_vma_special_name(vma);
		if (name && !strcmp(name, "[vdso]"))
			kv->type = CKPT_VMA_VDSO;
		else if (name && !strcmp(name, "[vvar]"))
			kv->type = CKPT_VMA_VVAR;
		else if (name)
			return kcr_vma_refuse(vma, ve, -EOPNOTSUPP,
					      "special mapping not supported",
					      name);
		else
			return kcr_vma_refuse(vma, ve, -EOPNOTSUPP,
					      "driver mapping not supported",
					      NULL);
		/* Restart maps the running kernel's vDSO: no pages. */
		kv->pages = KCR_PAGES_NONE;
	}

	/* No struct pages to read there. */
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		kv->pages = KCR_PAGES_NONE;
	return 0;
}

static void kcr_snap_free(struct kcr_mm_snap *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_vmas; i++)
		if (s->vmas[i].file)
			fput(s->vmas[i].file);
	kvfree(s->vmas);
	s->vmas = NULL;
	s->nr_vmas = 0;
}

/* Report ve with the path of its file, if any. */
static int kcr_report_vma_err(struct ckpt_ctx *ctx, struct kcr_vma_err *ve)
{
	char *buf = NULL, *path = NULL;
	int ret;

	if (ve->file) {
		buf = kmalloc(PATH_MAX, GFP_KERNEL);
		if (buf) {
			path = d_path(&ve->file->f_path, buf, PATH_MAX);
			if (IS_ERR(path))
				path = NULL;
		}
	}
	ret = ckpt_err(ctx, ve->err,
		       "mapping %#lx-%#lx (vm_flags %#lx%s%s%s%s): %s",
		       ve->start, ve->end, ve->flags,
		       ve->name[0] ? " " : "", ve->name,
		       path ? " " : "", path ? path : "", ve->why);
	kfree(buf);
	if (ve->file)
		fput(ve->file);
	return ret;
}

/*
 * Copy the MM record's fields, the auxiliary vector and the VMAs of mm,
 * all under one mmap_read_lock so that they agree.
 */
static int kcr_mm_snapshot(struct ckpt_ctx *ctx, struct mm_struct *mm,
			   struct ckpt_hdr_mm *hmm, struct kcr_mm_snap *s)
{
	struct vma_iterator vmi = { };
	struct kcr_vma_err ve = { };
	struct vm_area_struct *vma;
	unsigned int i, max;
	int ret;

	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ckpt_err(ctx, ret, "interrupted locking the mm");

	max = mm->map_count;
	s->vmas = kvcalloc(max, sizeof(*s->vmas), GFP_KERNEL);
	if (!s->vmas) {
		mmap_read_unlock(mm);
		return ckpt_err(ctx, -ENOMEM, "no memory for %u mappings", max);
	}

	hmm->flags = mm->flags;
	hmm->def_flags = mm->def_flags;
	hmm->start_code = mm->start_code;
	hmm->end_code = mm->end_code;
	hmm->start_data = mm->start_data;
	hmm->end_data = mm->end_data;
	hmm->start_brk = mm->start_brk;
	hmm->brk = mm->brk;
	hmm->start_stack = mm->start_stack;
	/* prctl(PR_SET_MM) changes these under arg_lock only. */
	spin_lock(&mm->arg_lock);
	hmm->arg_start = mm->arg_start;
	hmm->arg_end = mm->arg_end;
	hmm->env_start = mm->env_start;
	hmm->env_end = mm->env_end;
	spin_unlock(&mm->arg_lock);

	/* Pairs up to and including AT_NULL's, as /proc/PID/auxv has them. */
	for (i = 0; i + 1 < AT_VECTOR_SIZE; i += 2) {
		s->auxv[i] = mm->saved_auxv[i];
		s->auxv[i + 1] = mm->saved_auxv[i + 1];
		if (mm->saved_auxv[i] == AT_NULL) {
			i += 2;
			break;
		}
	}
	s->nr_auxv = i;

	vma_iter_init(&vmi, mm, 0);
	for_each_vma(vmi, vma) {
		if (s->nr_vmas == max) {
			/* Cannot happen under mmap_lock; be safe anyway. */
			ret = -EBUSY;
			break;
		}
		ret = kcr_vma_snapshot(mm, vma, &s->vmas[s->nr_vmas], &ve);
		if (ret)
			break;
		s->nr_vmas++;
	}
	mmap_read_unlock(mm);

	if (ret == -EBUSY)
		return ckpt_err(ctx, ret, "more mappings than map_count %u",
				max);
	if (ret)
		return kcr_report_vma_err(ctx, &ve);
	hmm->nr_vmas = s->nr_vmas;
	hmm->nr_auxv = s->nr_auxv;
	return 0;
}

static int kcr_write_auxv(struct ckpt_ctx *ctx, struct kcr_mm_snap *s)
{
	size_t len = s->nr_auxv * sizeof(u64);
	struct ckpt_hdr *h;
	int ret;

	h = ckpt_hdr_get_type(ctx, sizeof(*h) + len, CKPT_HDR_MM_AUXV);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "no memory for the auxv record");
	memcpy(h + 1, s->auxv, len);
	ret = ckpt_write_obj(ctx, h);
	ckpt_hdr_put(ctx, h);
	return ret;
}

static int kcr_write_vma(struct ckpt_ctx *ctx, struct mm_struct *mm,
			 struct ckpt_hdr_vma *hv, const struct kcr_vma *kv)
{
	int ret;

	hv->vma_type = kv->type;
	hv->file_ref = 0;
	if (kv->type == CKPT_VMA_FILE) {
		/* The file's definition comes first, inside the mm's body. */
		ret = checkpoint_obj_file(ctx, ctx->tsk, kv->file, "mapping",
					  &hv->file_ref);
		if (ret)
			return ret;
	}
	hv->shm_ref = 0;
	hv->ipc_id = -1;
	hv->vm_start = kv->start;
	hv->vm_end = kv->end;
	hv->vm_page_prot = kv->page_prot;
	hv->vm_flags = kv->flags;
	hv->vm_pgoff = kv->pgoff;
	if (kv->image_map) {
		/* As anonymous memory: restart's own flag and offset. */
		hv->vm_flags &= ~VM_DONTEXPAND;
		hv->vm_pgoff = kv->start >> PAGE_SHIFT;
	}
	if (kv->type == CKPT_VMA_VDSO) {
		/* In place of the offset: the vDSO's identity (vdso.c). */
		ret = kcr_vdso_id(mm, kv->start, kv->end, &hv->vm_pgoff);
		if (ret)
			return ckpt_err(ctx, ret,
					"cannot read the vDSO at %#lx-%#lx",
					kv->start, kv->end);
	}
	return ckpt_write_obj(ctx, &hv->h);
}

/* The objref of mm's executable (0 if it has none), defined if new. */
static int kcr_exe_ref(struct ckpt_ctx *ctx, struct mm_struct *mm, int *ref)
{
	struct file *exe;
	int ret;

	/* get_mm_exe_file(), which is not exported: the same, inline. */
	rcu_read_lock();
	exe = kcr_get_file_rcu(&mm->exe_file);
	rcu_read_unlock();

	*ref = 0;
	if (!exe)
		return 0;
	ret = checkpoint_obj_file(ctx, ctx->tsk, exe, "executable", ref);
	fput(exe);
	return ret;
}

/* The body of CKPT_OBJ_MM objref for mm, its OBJREF record first. */
static int kcr_checkpoint_mm_obj(struct ckpt_ctx *ctx, struct mm_struct *mm,
				 int objref)
{
	struct ckpt_hdr_mm *hmm = NULL;
	struct ckpt_hdr_vma *hv = NULL;
	struct kcr_mm_snap *s;
	struct kcr_pgarr pa;
	unsigned int i;
	int ret;

	ret = kcr_pgarr_alloc(ctx, &pa);
	if (ret)
		return ckpt_err(ctx, ret, "no memory for a page chunk");
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	hmm = ckpt_hdr_get_type(ctx, sizeof(*hmm), CKPT_HDR_MM);
	hv = ckpt_hdr_get_type(ctx, sizeof(*hv), CKPT_HDR_VMA);
	if (!s || !hmm || !hv) {
		ret = ckpt_err(ctx, -ENOMEM, "no memory to checkpoint the mm");
		goto out;
	}

	ret = kcr_mm_snapshot(ctx, mm, hmm, s);
	if (!ret)
		ret = kcr_exe_ref(ctx, mm, &hmm->exe_ref);
	if (ret)
		goto out;

	ret = ckpt_write_objref(ctx, CKPT_OBJ_MM, objref);
	if (!ret)
		ret = ckpt_write_obj(ctx, &hmm->h);
	if (!ret)
		ret = kcr_write_auxv(ctx, s);
	for (i = 0; !ret && i < s->nr_vmas; i++) {
		ret = kcr_write_vma(ctx, mm, hv, &s->vmas[i]);
		if (!ret)
			ret = kcr_checkpoint_vma_pages(ctx, mm, &s->vmas[i],
						       &pa);
	}
out:
	if (s)
		kcr_snap_free(s);
	kfree(s);
	if (hv)
		ckpt_hdr_put(ctx, hv);
	if (hmm)
		ckpt_hdr_put(ctx, hmm);
	kcr_pgarr_free(&pa);
	return ret;
}

/*
 * Checkpoint the memory of t (frozen, or current for a self-checkpoint):
 * *ref gets the objref of its mm, whose body is written the first time
 * the mm is met.
 */
int checkpoint_mm(struct ckpt_ctx *ctx, struct task_struct *t, int *ref)
{
	struct mm_struct *mm;
	bool first = false;
	int objref, ret = 0;

	mm = get_task_mm(t);
	if (!mm)
		return ckpt_err(ctx, -ESRCH, "task has no memory: it is exiting");

	objref = ckpt_obj_lookup_add(ctx, mm, &kcr_mm_ops, &first);
	if (objref < 0) {
		ret = objref;
		goto out;
	}
	if (first)
		ret = kcr_checkpoint_mm_obj(ctx, mm, objref);
	if (!ret)
		*ref = objref;
out:
	mmput(mm);
	return ret;
}
