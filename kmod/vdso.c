// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the identity of a vDSO. A restart maps the running kernel's vDSO
 * where the image's was, but the process may hold the addresses of vDSO
 * functions it looked up long before (libc does, at startup): they are
 * only right if the vDSO is the same code. Another kernel's vDSO (another
 * series, another build) has its functions elsewhere, and a call would
 * land in the middle of other code. So the checkpoint records a hash of
 * the vDSO's text with its VMA, and the restart refuses a vDSO that
 * hashes otherwise.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>
#include <linux/siphash.h>
#include <linux/slab.h>

#include "kcr.h"

/* A vDSO is a few pages; more than this is not one. */
#define KCR_VDSO_MAX	(1UL << 20)

/* Any fixed key: the hash tells vDSOs apart, it keeps no secret. */
static const siphash_key_t kcr_vdso_key = { { 0x6b63722d76647330ULL, 0 } };

static u64 kcr_vdso_hash(const void *text, size_t len)
{
	/* 0 is "no identity" in the record: never give it. */
	return siphash(text, len, &kcr_vdso_key) ?: 1;
}

/*
 * The identity of the vDSO of mm at [start, end), read through the mm:
 * the target of a checkpoint is another task, and a restart reads its
 * own (current->mm) the same way. mmap_lock not held.
 */
int kcr_vdso_id(struct mm_struct *mm, unsigned long start, unsigned long end,
		u64 *id)
{
	size_t len = end - start, off;
	struct page *page;
	void *buf, *p;
	int ret;

	if (len > KCR_VDSO_MAX || !PAGE_ALIGNED(len))
		return -E2BIG;
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out;
	/* access_remote_vm() is not exported: its loop, page by page. */
	for (off = 0; off < len; off += PAGE_SIZE) {
		if (kcr_gup_remote(mm, start + off, 1, FOLL_FORCE, &page) != 1) {
			ret = -EFAULT;
			break;
		}
		p = kmap_local_page(page);
		memcpy(buf + off, p, PAGE_SIZE);
		kunmap_local(p);
		put_page(page);
	}
	mmap_read_unlock(mm);
	if (!ret)
		*id = kcr_vdso_hash(buf, len);
out:
	kvfree(buf);
	return ret;
}
