// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: restart of a task's memory, after linux-cr's restore_mm() in
 * checkpoint/memory.c. Reads what memory.c writes:
 *
 *	[the executable's FILE object] OBJREF(MM) MM MM_AUXV
 *	per VMA: [its file's FILE object] VMA PGARR... PGARR(empty)
 *
 * The address space of current is rebuilt in place rather than replaced
 * by a new mm: creating and switching to a fresh mm is what exec does
 * with functions that are not available to modules (exec_mmap(),
 * arch_pick_mmap_layout(), arch_setup_additional_pages()). So:
 *
 *  - every mapping but the vDSO and its data pages ([vdso], [vvar]) is
 *    unmapped;
 *  - the vDSO pair is moved with mremap() to where the image had it
 *    (AT_SYSINFO_EHDR of the image's auxv, then the VDSO and VVAR
 *    records), so that code and pointers into it stay valid; the arch's
 *    mremap hooks keep mm->context's vDSO address right. The image's vDSO
 *    pages themselves are not restored: the running kernel's are used,
 *    which must be of the same size;
 *  - each VMA is mapped with vm_mmap() at its address (never replacing
 *    anything: MAP_FIXED_NOREPLACE), and its saved pages are filled by
 *    reading the image straight into them: get_user_pages() with
 *    FOLL_FORCE | FOLL_WRITE faults them in (breaking COW for file pages,
 *    writing through PROT_NONE and read-only protections like ptrace
 *    does), and one chunk of them is read at once, straight into the
 *    pages (ckpt_read_pages());
 *  - the mm fields, auxv and /proc/PID/exe are set last, with the checks
 *    of prctl(PR_SET_MM_MAP).
 *
 * Every mapping is made by current for itself with the restarter's
 * credentials (they are committed at the very end of the restart), so
 * the usual checks of mmap() apply: file permissions, noexec mounts,
 * mmap_min_addr, RLIMIT_AS, overcommit.
 */
#include <linux/auxvec.h>
#include <linux/bvec.h>
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mmap_lock.h>
#include <linux/mount.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <asm/cacheflush.h>

#include "kcr.h"
#include "ksyms.h"
#include "usercall.h"

/* A mapping of current that the restart keeps: the vDSO or its data. */
struct kcr_special {
	const char *name;
	unsigned long start;
	unsigned long end;		/* 0: current has none */
	bool restored;			/* the image's VMA record was met */
};

/* The state of one mm's restore. */
struct kcr_mm_restore {
	struct ckpt_hdr_mm *hmm;
	u64 *auxv;			/* hmm->nr_auxv words */
	struct kcr_special vdso;
	struct kcr_special vvar;
	unsigned long prev_end;		/* end of the last VMA restored */
	/* One PGARR chunk. */
	u64 *addrs;
	struct page **pages;
	struct bio_vec *bv;
	void *pad;			/* PAGE_SIZE, for a chunk's pad */
};

#define KCR_VMA_PROT_FLAGS	(VM_READ | VM_WRITE | VM_EXEC)
/*
 * vm_flags that a restored private mapping may have: those of mmap(),
 * mprotect(), madvise() and of the kernel's own bookkeeping. Anything
 * else (VM_SHARED, VM_IO, VM_PFNMAP, VM_HUGETLB, VM_LOCKED, ...) is a
 * mapping that checkpoint does not write or restart cannot make.
 */
#define KCR_VMA_OK_FLAGS	(KCR_VMA_PROT_FLAGS | VM_MAYREAD |	\
				 VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN | \
				 VM_ACCOUNT | VM_NORESERVE | VM_DONTCOPY | \
				 VM_DONTDUMP | VM_WIPEONFORK | VM_HUGEPAGE | \
				 VM_NOHUGEPAGE | VM_MERGEABLE |		\
				 VM_SOFTDIRTY | VM_SEQ_READ | VM_RAND_READ | \
				 VM_LOCKED | VM_LOCKONFAULT)

/*
 * The mm flags (MMF_*) a task may set for itself with prctl() or /proc.
 * The others are the kernel's bookkeeping (khugepaged, uprobes, the OOM
 * killer) of the mm that made the image: not restored, and not checked.
 */
#define KCR_MMF_RESTORE_MASK	(MMF_DUMPABLE_MASK | MMF_DUMP_FILTER_MASK | \
				 BIT(MMF_DISABLE_THP))

/*
 * Unmap every mapping of current but the vDSO pair, and note where that
 * pair is.
 */
static int kcr_mm_clear(struct ckpt_ctx *ctx, struct kcr_mm_restore *r)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long *ranges;
	unsigned int n = 0, max, i;
	int ret;

	ret = mmap_read_lock_killable(mm);
	if (ret)
		return ckpt_err(ctx, ret, "interrupted locking the mm");
	max = mm->map_count;
	ranges = kvmalloc_array(max ? max : 1, 2 * sizeof(*ranges),
				GFP_KERNEL);
	if (!ranges) {
		mmap_read_unlock(mm);
		return ckpt_err(ctx, -ENOMEM, "no memory for %u mappings",
				max);
	}
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			const char *name = kcr_vma_special_name(vma);
			struct kcr_special *s = NULL;

			if (name && !strcmp(name, "[vdso]"))
				s = &r->vdso;
			else if (name && !strcmp(name, "[vvar]"))
				s = &r->vvar;
			if (s && !s->end) {
				s->start = vma->vm_start;
				s->end = vma->vm_end;
				continue;
			}
			if (n == max)
				break;
			ranges[2 * n] = vma->vm_start;
			ranges[2 * n + 1] = vma->vm_end;
			n++;
		}
	}
	mmap_read_unlock(mm);

	for (i = 0; i < n && !ret; i++)
		ret = vm_munmap(ranges[2 * i], ranges[2 * i + 1] - ranges[2 * i]);
	kvfree(ranges);
	if (ret)
		return ckpt_err(ctx, ret, "cannot unmap the restarter's memory");
	return 0;
}

/*
 * mremap() through the system call's own entry point: its plain-argument
 * body (__do_sys_mremap) is a symbol only where the compiler did not
 * inline it (Debian's kernels, not a debug build of the same source).
 */
static long kcr_mremap(unsigned long from, unsigned long len, unsigned long to)
{
	return kcr_syscall5(kcr_sys_mremap, from, len, len,
			    MREMAP_MAYMOVE | MREMAP_FIXED, to);
}

static int kcr_special_move(struct ckpt_ctx *ctx, struct kcr_special *s,
			    unsigned long to)
{
	unsigned long len = s->end - s->start;
	long ret;

	if (to == s->start)
		return 0;
	ret = kcr_mremap(s->start, len, to);
	if (IS_ERR_VALUE(ret))
		return ckpt_err(ctx, ret, "cannot move %s from %#lx to %#lx",
				s->name, s->start, to);
	s->start = to;
	s->end = to + len;
	return 0;
}

static bool kcr_overlap(unsigned long a, unsigned long alen, unsigned long b,
			unsigned long blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Move the vDSO pair rigidly by delta (both ends of the span stay in
 * user space: checked by the caller). When the new span overlaps the old
 * one, mremap() cannot move there directly: the pair goes through a
 * span next to the target that overlaps neither.
 */
static int kcr_specials_shift(struct ckpt_ctx *ctx, struct kcr_mm_restore *r,
			      unsigned long lo, unsigned long hi, long delta)
{
	unsigned long span = hi - lo, to = lo + delta, via;
	struct kcr_special *s[2] = { &r->vvar, &r->vdso };
	int i, ret;

	if (!delta)
		return 0;
	if (kcr_overlap(lo, span, to, span)) {
		via = delta > 0 ? to + span : to - span;
		if (via < PAGE_SIZE || via + span > KCR_USER_END ||
		    via + span < via)
			via = delta > 0 ? lo - span : hi;
		if (via < PAGE_SIZE || via + span > KCR_USER_END ||
		    kcr_overlap(via, span, lo, span))
			return ckpt_err(ctx, -ENOMEM,
					"no room to move the vDSO to %#lx", to);
		for (i = 0; i < 2; i++)
			if (s[i]->end) {
				ret = kcr_special_move(ctx, s[i],
						       via + (s[i]->start - lo));
				if (ret)
					return ret;
			}
		lo = via;
	}
	for (i = 0; i < 2; i++)
		if (s[i]->end) {
			ret = kcr_special_move(ctx, s[i],
					       to + (s[i]->start - lo));
			if (ret)
				return ret;
		}
	return 0;
}

/*
 * Put the vDSO pair where the image's auxv says the vDSO was
 * (AT_SYSINFO_EHDR), keeping their relative places, which this kernel
 * chose like the one that made the image if it is the same kernel. The
 * VMA records check the result.
 */
static int kcr_specials_place(struct ckpt_ctx *ctx, struct kcr_mm_restore *r)
{
	unsigned long ehdr = 0, lo, hi;
	unsigned int i;

	for (i = 0; i + 1 < r->hmm->nr_auxv; i += 2)
		if (r->auxv[i] == AT_SYSINFO_EHDR)
			ehdr = r->auxv[i + 1];
	if (!ehdr || !r->vdso.end)
		return 0;
	lo = r->vdso.start;
	hi = r->vdso.end;
	if (r->vvar.end) {
		lo = min(lo, r->vvar.start);
		hi = max(hi, r->vvar.end);
	}
	if (!PAGE_ALIGNED(ehdr) || ehdr < r->vdso.start - lo ||
	    ehdr - (r->vdso.start - lo) < PAGE_SIZE ||
	    ehdr - (r->vdso.start - lo) > KCR_USER_END - (hi - lo))
		return ckpt_err(ctx, -EINVAL, "vDSO address %#lx in the auxv",
				ehdr);
	return kcr_specials_shift(ctx, r, lo, hi,
				  (long)(ehdr - r->vdso.start));
}

/* A VDSO or VVAR record: this kernel's mapping goes exactly there. */
static int kcr_restore_special(struct ckpt_ctx *ctx, struct kcr_special *s,
			       const struct ckpt_hdr_vma *hv)
{
	if (s->restored)
		return ckpt_err(ctx, -EINVAL, "a second %s mapping", s->name);
	if (!s->end)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"the image has a %s mapping and this kernel gives none",
				s->name);
	if (hv->vm_end - hv->vm_start != s->end - s->start)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"%s of %llu bytes in the image, %lu here: made by another kernel",
				s->name, hv->vm_end - hv->vm_start,
				s->end - s->start);
	s->restored = true;
	return kcr_special_move(ctx, s, hv->vm_start);
}

/*
 * The vDSO now in place against the image's identity of it (vdso.c): the
 * process may have looked up its functions before the checkpoint. An
 * image without one (0) was made before kcr recorded it.
 */
static int kcr_check_vdso(struct ckpt_ctx *ctx, const struct kcr_special *s,
			  const struct ckpt_hdr_vma *hv)
{
	const struct ckpt_hdr_header *h = ctx->header;
	u64 id;
	int ret;

	if (!hv->vm_pgoff)
		return 0;
	ret = kcr_vdso_id(current->mm, s->start, s->end, &id);
	if (ret)
		return ckpt_err(ctx, ret, "cannot read this kernel's vDSO");
	if (id != hv->vm_pgoff)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"the vDSO of the image's kernel (%.*s) is not this kernel's vDSO (identity %#llx, here %#llx): the process may call vDSO functions at addresses that are other code here",
				(int)sizeof(h->uts_release), h->uts_release,
				hv->vm_pgoff, id);
	return 0;
}

/* vm_flags bits that mmap() does not set and madvise() can. */
static const struct {
	unsigned long flag;
	int advice;
} kcr_vma_advice[] = {
	{ VM_DONTCOPY, MADV_DONTFORK },
	{ VM_DONTDUMP, MADV_DONTDUMP },
	{ VM_WIPEONFORK, MADV_WIPEONFORK },
	{ VM_HUGEPAGE, MADV_HUGEPAGE },
	{ VM_NOHUGEPAGE, MADV_NOHUGEPAGE },
	{ VM_SEQ_READ, MADV_SEQUENTIAL },
	{ VM_RAND_READ, MADV_RANDOM },
};

static int kcr_check_vma(struct ckpt_ctx *ctx, struct kcr_mm_restore *r,
			 const struct ckpt_hdr_vma *hv)
{
	const char *why = NULL;

	switch (hv->vma_type) {
	case CKPT_VMA_ANON_SHARED:
	case CKPT_VMA_FILE_SHARED:
	case CKPT_VMA_SHMEM:
	case CKPT_VMA_SYSVIPC_SHM:
		return ckpt_err(ctx, -EOPNOTSUPP,
				"mapping %#llx-%#llx: shared memory is not supported yet",
				hv->vm_start, hv->vm_end);
	}
	if (hv->vm_start >= hv->vm_end || !PAGE_ALIGNED(hv->vm_start) ||
	    !PAGE_ALIGNED(hv->vm_end) || hv->vm_end > KCR_USER_END)
		why = "bad bounds";
	else if (hv->vm_start < r->prev_end)
		why = "overlaps or precedes the mapping before it";
	else if (hv->vma_type != CKPT_VMA_VDSO &&
		 hv->vma_type != CKPT_VMA_VVAR &&
		 (hv->vm_flags & ~KCR_VMA_OK_FLAGS))
		/* The kernel's own flags of the vDSO pair are not asked for. */
		why = "vm_flags not restorable";
	else if (hv->vma_type != CKPT_VMA_VDSO &&
		 hv->vm_pgoff > (ULONG_MAX >> PAGE_SHIFT) -
		 ((hv->vm_end - hv->vm_start) >> PAGE_SHIFT))
		why = "bad file offset";
	else if (hv->shm_ref || hv->ipc_id != -1)
		why = "shared memory reference on a private mapping";
	else if ((hv->vma_type == CKPT_VMA_FILE) != (hv->file_ref != 0))
		why = "file reference does not match the type";
	if (why)
		return ckpt_err(ctx, -EINVAL,
				"mapping %#llx-%#llx (type %u, vm_flags %#llx): %s",
				hv->vm_start, hv->vm_end, hv->vma_type,
				hv->vm_flags, why);
	return 0;
}

/*
 * The mmap() protection and the private-mapping flags a VMA record asks
 * for, the same for a whole VMA and for a run mapped from the image.
 */
static unsigned long kcr_vma_prot(const struct ckpt_hdr_vma *hv,
				  unsigned long *flags)
{
	unsigned long prot = 0;

	if (hv->vm_flags & VM_READ)
		prot |= PROT_READ;
	if (hv->vm_flags & VM_WRITE)
		prot |= PROT_WRITE;
	if (hv->vm_flags & VM_EXEC)
		prot |= PROT_EXEC;
	if (hv->vm_flags & VM_NORESERVE)
		*flags |= MAP_NORESERVE;
	return prot;
}

/* Map one private anonymous or file VMA at its place. */
static int kcr_map_vma(struct ckpt_ctx *ctx, const struct ckpt_hdr_vma *hv)
{
	unsigned long len = hv->vm_end - hv->vm_start, addr;
	unsigned long flags = MAP_PRIVATE | MAP_FIXED_NOREPLACE;
	unsigned long prot = kcr_vma_prot(hv, &flags);
	struct file *file = NULL;
	unsigned int i;
	int ret;

	if (hv->vma_type == CKPT_VMA_FILE) {
		file = ckpt_obj_fetch(ctx, hv->file_ref, CKPT_OBJ_FILE);
		if (IS_ERR(file))
			return PTR_ERR(file);
		if (hv->vm_flags & VM_GROWSDOWN)
			return ckpt_err(ctx, -EINVAL,
					"file mapping %#llx-%#llx grows down",
					hv->vm_start, hv->vm_end);
	} else {
		flags |= MAP_ANONYMOUS;
		if (hv->vm_flags & VM_GROWSDOWN)
			flags |= MAP_GROWSDOWN;
	}

	addr = vm_mmap(file, hv->vm_start, len, prot, flags,
		       file ? hv->vm_pgoff << PAGE_SHIFT : 0);
	if (IS_ERR_VALUE(addr))
		return ckpt_err(ctx, (long)addr,
				"cannot map %#llx-%#llx (prot %#lx)",
				hv->vm_start, hv->vm_end, prot);
	if (addr != hv->vm_start) {
		vm_munmap(addr, len);
		return ckpt_err(ctx, -EEXIST, "mapping %#llx-%#llx moved",
				hv->vm_start, hv->vm_end);
	}

	for (i = 0; i < ARRAY_SIZE(kcr_vma_advice); i++) {
		if (!(hv->vm_flags & kcr_vma_advice[i].flag))
			continue;
		ret = kcr_do_madvise(current->mm, addr, len,
				     kcr_vma_advice[i].advice);
		if (ret)
			return ckpt_err(ctx, ret,
					"madvise(%d) of %#llx-%#llx failed",
					kcr_vma_advice[i].advice,
					hv->vm_start, hv->vm_end);
	}
	return 0;
}

/*
 * mlock() of a locked mapping, once its pages are in: with mlock()'s
 * checks (RLIMIT_MEMLOCK of the restarter, or CAP_IPC_LOCK).
 */
static int kcr_lock_vma(struct ckpt_ctx *ctx, const struct ckpt_hdr_vma *hv)
{
	int ret;

	ret = kcr_do_mlock(hv->vm_start, hv->vm_end - hv->vm_start,
			   hv->vm_flags & (VM_LOCKED | VM_LOCKONFAULT));
	if (ret)
		return ckpt_err(ctx, ret, "cannot lock %#llx-%#llx in memory",
				hv->vm_start, hv->vm_end);
	return 0;
}

/*
 * Fault in the nr pages at addrs (each run of consecutive addresses in
 * one call) for writing, and read their contents from the image.
 */
static int kcr_fill_pages(struct ckpt_ctx *ctx, struct kcr_mm_restore *r,
			  const u64 *addrs, unsigned int nr, bool exec)
{
	const unsigned int gup_flags = FOLL_WRITE | FOLL_FORCE;
	unsigned int got = 0, i;
	int ret = 0;

	while (got < nr) {
		unsigned int run = 1;
		long n;

		while (got + run < nr &&
		       addrs[got + run] == addrs[got] + run * PAGE_SIZE)
			run++;
		n = get_user_pages_unlocked(addrs[got], run,
					    r->pages + got, gup_flags);
		if (n <= 0) {
			ret = ckpt_err(ctx, n ? n : -EFAULT,
				       "cannot fault in page %#llx",
				       addrs[got]);
			goto out;
		}
		got += n;
	}

	/* One read for the whole chunk, straight into the pages. */
	ret = ckpt_read_pages(ctx, r->pages, r->bv, nr);
	for (i = 0; !ret && exec && i < nr; i++) {
		void *vaddr = kmap_local_page(r->pages[i]);

		flush_icache_range((unsigned long)vaddr,
				   (unsigned long)vaddr + PAGE_SIZE);
		kunmap_local(vaddr);
	}
out:
	for (i = 0; i < got; i++) {
		flush_dcache_page(r->pages[i]);
		set_page_dirty_lock(r->pages[i]);
		put_page(r->pages[i]);
	}
	return ret;
}

/*
 * RESTART_MAP_IMAGE maps runs of at least this many pages from the image:
 * fewer would cost more VMAs than copying them costs time.
 */
#define KCR_MAP_MIN_PAGES	(SZ_1M / PAGE_SIZE)

/*
 * The vm_flags of a mapping whose pages may be mapped from the image: a
 * plain private anonymous one. Executable memory, locked memory and
 * memory with madvise() flags of its own keep anonymous pages.
 */
#define KCR_MAP_OK_FLAGS	(VM_READ | VM_WRITE | VM_MAYREAD | \
				 VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | \
				 VM_NORESERVE | VM_SOFTDIRTY)

static bool kcr_may_map(struct ckpt_ctx *ctx, const struct ckpt_hdr_vma *hv)
{
	return (ctx->uflags & RESTART_MAP_IMAGE) &&
		hv->vma_type == CKPT_VMA_ANON &&
		!(hv->vm_flags & ~(u64)KCR_MAP_OK_FLAGS);
}

/*
 * Map the nr pages from addr on from the image file at its current
 * offset, private, over the anonymous mapping made for them; the image
 * is then read past them. VM_DONTEXPAND: mremap() must not grow the
 * mapping over the rest of the image, which holds more than this
 * process's memory.
 */
static int kcr_map_run(struct ckpt_ctx *ctx, const struct ckpt_hdr_vma *hv,
		       unsigned long addr, unsigned int nr, loff_t off)
{
	unsigned long len = (unsigned long)nr << PAGE_SHIFT, got;
	unsigned long flags = MAP_PRIVATE | MAP_FIXED;
	unsigned long prot = kcr_vma_prot(hv, &flags);
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;

	got = vm_mmap(ctx->file, addr, len, prot, flags, off);
	if (IS_ERR_VALUE(got))
		return ckpt_err(ctx, (long)got,
				"cannot map %#lx-%#lx from the image", addr,
				addr + len);
	if (got != addr)
		return ckpt_err(ctx, -EEXIST, "mapping %#lx from the image moved",
				addr);
	if (mmap_write_lock_killable(mm))
		return ckpt_err(ctx, -EINTR, "interrupted locking the mm");
	vma = vma_lookup(mm, addr);
	if (vma && vma->vm_file == ctx->file)
		kcr_vm_flags_set(vma, VM_DONTEXPAND);
	mmap_write_unlock(mm);
	if (!vma || vma->vm_file != ctx->file)
		return ckpt_err(ctx, -EBUSY, "mapping %#lx from the image is gone",
				addr);
	return ckpt_skip(ctx, len);
}

/*
 * The nr pages of a chunk, whose data comes next in the image: mapped from
 * the image file in runs of KCR_MAP_MIN_PAGES or more where that is asked
 * for and possible, read into new pages elsewhere.
 */
static int kcr_restore_chunk(struct ckpt_ctx *ctx, struct kcr_mm_restore *r,
			     const struct ckpt_hdr_vma *hv, unsigned int nr)
{
	bool exec = hv->vm_flags & VM_EXEC;
	unsigned int i = 0, done = 0;
	loff_t off = -1;
	int ret;

	if (kcr_may_map(ctx, hv))
		off = ckpt_map_offset(ctx);
	if (off < 0 || !PAGE_ALIGNED(off))
		return kcr_fill_pages(ctx, r, r->addrs, nr, exec);
	while (i < nr) {
		unsigned int run = 1;

		while (i + run < nr &&
		       r->addrs[i + run] == r->addrs[i] + run * PAGE_SIZE)
			run++;
		if (run < KCR_MAP_MIN_PAGES) {
			i += run;
			continue;
		}
		if (i > done) {
			ret = kcr_fill_pages(ctx, r, r->addrs + done, i - done,
					     exec);
			if (ret)
				return ret;
		}
		ret = kcr_map_run(ctx, hv, r->addrs[i], run,
				  off + ((loff_t)i << PAGE_SHIFT));
		if (ret)
			return ret;
		i += run;
		done = i;
	}
	if (nr > done)
		return kcr_fill_pages(ctx, r, r->addrs + done, nr - done, exec);
	return 0;
}

/* The PGARR records of one VMA, up to the empty one that ends them. */
static int kcr_restore_vma_pages(struct ckpt_ctx *ctx,
				 struct kcr_mm_restore *r,
				 const struct ckpt_hdr_vma *hv, bool has_pages)
{
	unsigned long next = hv->vm_start;
	const size_t max = sizeof(struct ckpt_hdr_pgarr) + PAGE_SIZE +
		(size_t)CKPT_PGARR_MAX_PAGES * (sizeof(u64) + PAGE_SIZE);

	for (;;) {
		struct ckpt_hdr_pgarr pa;
		unsigned int i;
		int ret;

		ret = ckpt_read_hdr_type(ctx, &pa.h, CKPT_HDR_PGARR,
					 sizeof(pa), max);
		if (!ret)
			ret = ckpt_read(ctx, &pa.nr_pages,
					sizeof(pa) - sizeof(pa.h));
		if (ret)
			return ret;
		/* Version 1 had no pad. */
		if (pa.nr_pages > CKPT_PGARR_MAX_PAGES || pa.pad >= PAGE_SIZE ||
		    (pa.pad && ctx->header->version < 2) ||
		    pa.h.len != sizeof(pa) + pa.pad + (size_t)pa.nr_pages *
		    (sizeof(u64) + PAGE_SIZE))
			return ckpt_err(ctx, -EINVAL,
					"page chunk of %u pages, %u bytes, pad %u",
					pa.nr_pages, pa.h.len, pa.pad);
		if (!pa.nr_pages)
			return 0;
		if (!has_pages)
			return ckpt_err(ctx, -EINVAL,
					"pages for mapping %#llx-%#llx, which has none",
					hv->vm_start, hv->vm_end);

		ret = ckpt_read(ctx, r->addrs, pa.nr_pages * sizeof(u64));
		if (ret)
			return ret;
		for (i = 0; i < pa.nr_pages; i++) {
			u64 a = r->addrs[i];

			if (!PAGE_ALIGNED(a) || a < next || a >= hv->vm_end)
				return ckpt_err(ctx, -EINVAL,
						"page %#llx: not in order in mapping %#llx-%#llx",
						a, hv->vm_start, hv->vm_end);
			next = a + PAGE_SIZE;
		}
		if (pa.pad) {
			ret = ckpt_read(ctx, r->pad, pa.pad);
			if (ret)
				return ret;
		}
		ret = kcr_restore_chunk(ctx, r, hv, pa.nr_pages);
		if (ret)
			return ret;
	}
}

/* One VMA record and its pages. */
static int kcr_restore_vma(struct ckpt_ctx *ctx, struct kcr_mm_restore *r)
{
	struct ckpt_hdr_vma *hv;
	bool has_pages = false;
	int ret;

	hv = ckpt_read_obj_type(ctx, sizeof(*hv), CKPT_HDR_VMA);
	if (IS_ERR(hv))
		return PTR_ERR(hv);
	ret = kcr_check_vma(ctx, r, hv);
	if (ret)
		goto out;

	switch (hv->vma_type) {
	case CKPT_VMA_ANON:
	case CKPT_VMA_STACK:
	case CKPT_VMA_HEAP:
	case CKPT_VMA_FILE:
		ret = kcr_map_vma(ctx, hv);
		has_pages = true;
		break;
	case CKPT_VMA_VDSO:
		ret = kcr_restore_special(ctx, &r->vdso, hv);
		if (!ret)
			ret = kcr_check_vdso(ctx, &r->vdso, hv);
		break;
	case CKPT_VMA_VVAR:
		ret = kcr_restore_special(ctx, &r->vvar, hv);
		break;
	default:
		ret = ckpt_err(ctx, -EINVAL,
			       "mapping %#llx-%#llx: unknown type %u",
			       hv->vm_start, hv->vm_end, hv->vma_type);
	}
	if (!ret)
		ret = kcr_restore_vma_pages(ctx, r, hv, has_pages);
	if (!ret && has_pages && (hv->vm_flags & VM_LOCKED))
		ret = kcr_lock_vma(ctx, hv);
	r->prev_end = hv->vm_end;
out:
	ckpt_hdr_put(ctx, hv);
	return ret;
}

static int kcr_check_mm(struct ckpt_ctx *ctx, const struct ckpt_hdr_mm *h)
{
	const u64 addrs[] = {
		h->start_code, h->end_code, h->start_data, h->end_data,
		h->start_brk, h->brk, h->start_stack, h->arg_start,
		h->arg_end, h->env_start, h->env_end,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		if (addrs[i] >= KCR_USER_END)
			goto bad;
	/* The orders prctl(PR_SET_MM_MAP) requires. */
	if (h->start_code > h->end_code || h->start_data > h->end_data ||
	    h->start_brk > h->brk || h->arg_start > h->arg_end ||
	    h->env_start > h->env_end)
		goto bad;
	if (check_data_rlimit(rlimit(RLIMIT_DATA), h->brk, h->start_brk,
			      h->end_data, h->start_data))
		return ckpt_err(ctx, -EINVAL,
				"heap of %llu bytes over RLIMIT_DATA",
				h->brk - h->start_brk);
	if (h->nr_auxv < 2 || h->nr_auxv % 2 || h->nr_auxv > AT_VECTOR_SIZE ||
	    h->__pad)
		return ckpt_err(ctx, -EINVAL,
				"auxv of %u words (this kernel keeps at most %u)",
				h->nr_auxv, (unsigned int)AT_VECTOR_SIZE);
	if ((h->flags & MMF_DUMPABLE_MASK) > SUID_DUMP_USER)
		return ckpt_err(ctx, -EPERM,
				"dumpable %llu: only root-dumpable tasks get that",
				h->flags & MMF_DUMPABLE_MASK);
	if (h->def_flags & ~(u64)(VM_NOHUGEPAGE | VM_LOCKED | VM_LOCKONFAULT))
		return ckpt_err(ctx, -EINVAL, "mm def_flags %#llx",
				h->def_flags);
	/* mlockall(MCL_FUTURE)'s check. */
	if ((h->def_flags & VM_LOCKED) && !can_do_mlock())
		return ckpt_err(ctx, -EPERM,
				"mlockall(MCL_FUTURE) needs RLIMIT_MEMLOCK or CAP_IPC_LOCK");
	if (!h->exe_ref)
		return ckpt_err(ctx, -EINVAL, "the image has no executable");
	return 0;
bad:
	return ckpt_err(ctx, -EINVAL,
			"mm bounds: code %#llx-%#llx data %#llx-%#llx brk %#llx-%#llx stack %#llx args %#llx-%#llx env %#llx-%#llx",
			h->start_code, h->end_code, h->start_data, h->end_data,
			h->start_brk, h->brk, h->start_stack, h->arg_start,
			h->arg_end, h->env_start, h->env_end);
}

/*
 * /proc/PID/exe: the checks of prctl(PR_SET_MM_MAP) with an exe_fd,
 * since it lets a process pass for any program.
 */
static int kcr_restore_exe_check(struct ckpt_ctx *ctx, struct file *exe)
{
	int ret;

	if (!checkpoint_restore_ns_capable(current_user_ns()))
		return ckpt_err(ctx, -EPERM,
				"setting the executable needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN");
	/* path_noexec(), which is not exported. */
	if (!S_ISREG(file_inode(exe)->i_mode) ||
	    (exe->f_path.mnt->mnt_flags & MNT_NOEXEC) ||
	    (exe->f_path.mnt->mnt_sb->s_iflags & SB_I_NOEXEC))
		return ckpt_err(ctx, -EACCES,
				"executable %pD is not a regular file on an exec mount",
				exe);
	ret = file_permission(exe, MAY_EXEC);
	if (ret)
		return ckpt_err(ctx, ret, "executable %pD: no exec permission",
				exe);
	return 0;
}

static int kcr_restore_exe(struct ckpt_ctx *ctx, struct file *exe)
{
	int ret;

	ret = kcr_replace_mm_exe_file(current->mm, exe);
	if (ret)
		return ckpt_err(ctx, ret, "cannot set the executable to %pD",
				exe);
	return 0;
}

/* The MM record's fields and the auxv, once the mappings are there. */
static void kcr_apply_mm(struct kcr_mm_restore *r)
{
	const struct ckpt_hdr_mm *h = r->hmm;
	struct mm_struct *mm = current->mm;
	unsigned long flags;

	mmap_write_lock(mm);
	mm->start_code = h->start_code;
	mm->end_code = h->end_code;
	mm->start_data = h->start_data;
	mm->end_data = h->end_data;
	mm->start_brk = h->start_brk;
	mm->brk = h->brk;
	mm->start_stack = h->start_stack;
	mm->def_flags = h->def_flags;
	spin_lock(&mm->arg_lock);
	mm->arg_start = h->arg_start;
	mm->arg_end = h->arg_end;
	mm->env_start = h->env_start;
	mm->env_end = h->env_end;
	spin_unlock(&mm->arg_lock);
	mmap_write_unlock(mm);

	/* As prctl(PR_SET_MM_AUXV): the rest of saved_auxv is AT_NULL. */
	task_lock(current);
	memset(mm->saved_auxv, 0, sizeof(mm->saved_auxv));
	memcpy(mm->saved_auxv, r->auxv, h->nr_auxv * sizeof(u64));
	task_unlock(current);

	/* Other bits of mm->flags belong to the kernel: keep them. */
	do {
		flags = READ_ONCE(mm->flags);
	} while (cmpxchg(&mm->flags, flags,
			 (flags & ~KCR_MMF_RESTORE_MASK) |
			 (h->flags & KCR_MMF_RESTORE_MASK)) != flags);
}

static void kcr_mm_restore_free(struct ckpt_ctx *ctx,
				struct kcr_mm_restore *r)
{
	kvfree(r->addrs);
	kvfree(r->pages);
	kvfree(r->bv);
	kfree(r->pad);
	if (r->auxv)
		ckpt_hdr_put(ctx, (struct ckpt_hdr *)r->auxv - 1);
	if (r->hmm)
		ckpt_hdr_put(ctx, r->hmm);
}

/* Read the MM and MM_AUXV records and check them. */
static int kcr_read_mm(struct ckpt_ctx *ctx, struct kcr_mm_restore *r,
		       struct file **exe)
{
	struct ckpt_hdr *h;
	size_t payload;
	int ret;

	r->hmm = ckpt_read_obj_type(ctx, sizeof(*r->hmm), CKPT_HDR_MM);
	if (IS_ERR(r->hmm)) {
		ret = PTR_ERR(r->hmm);
		r->hmm = NULL;
		return ret;
	}
	ret = kcr_check_mm(ctx, r->hmm);
	if (ret)
		return ret;
	*exe = ckpt_obj_fetch(ctx, r->hmm->exe_ref, CKPT_OBJ_FILE);
	if (IS_ERR(*exe))
		return PTR_ERR(*exe);

	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_MM_AUXV,
				  AT_VECTOR_SIZE * sizeof(u64), &payload);
	if (IS_ERR(h))
		return PTR_ERR(h);
	r->auxv = (u64 *)(h + 1);
	if (payload != r->hmm->nr_auxv * sizeof(u64) ||
	    r->auxv[r->hmm->nr_auxv - 2] != AT_NULL)
		return ckpt_err(ctx, -EINVAL,
				"auxv of %zu bytes for %u words, not ending with AT_NULL",
				payload, r->hmm->nr_auxv);

	r->addrs = kvmalloc_array(CKPT_PGARR_MAX_PAGES, sizeof(*r->addrs),
				  GFP_KERNEL);
	r->pages = kvmalloc_array(CKPT_PGARR_MAX_PAGES, sizeof(*r->pages),
				  GFP_KERNEL);
	r->bv = kvmalloc_array(CKPT_PGARR_MAX_PAGES, sizeof(*r->bv),
			       GFP_KERNEL);
	r->pad = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!r->addrs || !r->pages || !r->bv || !r->pad)
		return ckpt_err(ctx, -ENOMEM, "no memory for a page chunk");
	return 0;
}

/*
 * The mm is current's own (restart.c checks that RESTART_TASKSELF does
 * not share it; the coordinator's child has a copy): it is rebuilt in
 * place, and the same object serves any later reference.
 */
int restore_obj_mm(struct ckpt_ctx *ctx, struct task_struct *t, int objref)
{
	struct kcr_mm_restore r = {
		.vdso = { .name = "[vdso]" },
		.vvar = { .name = "[vvar]" },
	};
	struct file *exe = NULL;
	unsigned int i;
	int ret;

	ret = kcr_restore_target(ctx, t);
	if (ret)
		return ret;

	if (!current->mm)
		return ckpt_err(ctx, -EINVAL, "the task has no memory");
	/*
	 * Replacing the address space in place changes every task that
	 * shares it: threads, vfork()ed or CLONE_VM processes.
	 */
	if (get_nr_threads(current) > 1 ||
	    test_bit(MMF_MULTIPROCESS, &current->mm->flags))
		return ckpt_err(ctx, -EBUSY,
				"mm: the task shares its memory with other tasks");
	ret = kcr_read_mm(ctx, &r, &exe);
	if (!ret)
		ret = kcr_restore_exe_check(ctx, exe);
	if (!ret)
		ret = kcr_mm_clear(ctx, &r);
	if (!ret)
		ret = kcr_restore_exe(ctx, exe);
	if (!ret)
		ret = kcr_specials_place(ctx, &r);
	for (i = 0; !ret && i < r.hmm->nr_vmas; i++)
		ret = kcr_restore_vma(ctx, &r);
	if (ret)
		goto out;

	/* This kernel's vDSO where the image had none: unmap it. */
	if (r.vdso.end && !r.vdso.restored)
		ret = vm_munmap(r.vdso.start, r.vdso.end - r.vdso.start);
	if (!ret && r.vvar.end && !r.vvar.restored)
		ret = vm_munmap(r.vvar.start, r.vvar.end - r.vvar.start);
	if (ret) {
		ckpt_err(ctx, ret, "cannot unmap the vDSO");
		goto out;
	}
	kcr_apply_mm(&r);
	ctx->restore_dumpable = r.hmm->flags & MMF_DUMPABLE_MASK;
	ret = ckpt_obj_insert(ctx, current->mm, objref, &kcr_mm_ops);
out:
	kcr_mm_restore_free(ctx, &r);
	return ret;
}
