// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: reading a frozen task's page tables for the checkpoint of its
 * memory (memory.c).
 *
 * Entries are read without their page table locks, as GUP-fast and
 * /proc/PID/pagemap's readers of a racing mm would: under the target's
 * mmap_read_lock, which keeps its page tables from being freed (6.1), or
 * also under rcu_read_lock(), which 6.5 on needs for the tables that
 * khugepaged may free under the read lock. What is read is either a hint
 * (which addresses to ask get_user_pages_remote() about) or a soft-dirty
 * bit, whose rules are given where it is read.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>

#include "kcr.h"

/*
 * The first address in [addr, end) whose page table entry is not empty,
 * and in *run_end the end of the run of non-empty entries that starts
 * there (whole huge or non-present pmd/pud entries count as non-empty);
 * end if there is none.
 *
 * Called under mmap_read_lock. 6.1 frees page tables only under
 * mmap_write_lock (or for VMAs already unlinked from the tree); from 6.5 on
 * khugepaged may also free an empty page table under the read lock, but
 * only after an RCU grace period, so the table is read under
 * rcu_read_lock(). Entries are read without their page table locks, and
 * may be stale: the result is a hint for which addresses to ask
 * get_user_pages_remote() about, never used to reach a page.
 */
unsigned long kcr_next_mapped(struct mm_struct *mm, unsigned long addr,
			      unsigned long end, unsigned long *run_end)
{
	while (addr < end) {
		unsigned long next, start;
		pte_t *ptep, *pte;
		pgd_t *pgd;
		p4d_t *p4d;
		pud_t *pud, pudval;
		pmd_t *pmd, pmdval;

		pgd = pgd_offset(mm, addr);
		next = pgd_addr_end(addr, end);
		if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd))) {
			addr = next;
			continue;
		}
		p4d = p4d_offset(pgd, addr);
		next = p4d_addr_end(addr, end);
		if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d))) {
			addr = next;
			continue;
		}
		pud = pud_offset(p4d, addr);
		next = pud_addr_end(addr, end);
		pudval = READ_ONCE(*pud);
		if (pud_none(pudval)) {
			addr = next;
			continue;
		}
		if (pud_leaf(pudval) || pud_trans_huge(pudval) ||
		    pud_devmap(pudval)) {
			*run_end = next;
			return addr;
		}
		if (pud_bad(pudval)) {
			addr = next;
			continue;
		}
		pmd = pmd_offset(pud, addr);
		next = pmd_addr_end(addr, end);
		pmdval = READ_ONCE(*pmd);
		if (pmd_none(pmdval)) {
			addr = next;
			continue;
		}
		/* A THP, or one being migrated: let GUP sort it out. */
		if (!pmd_present(pmdval) || pmd_leaf(pmdval) ||
		    pmd_trans_huge(pmdval) || pmd_devmap(pmdval)) {
			*run_end = next;
			return addr;
		}
		if (pmd_bad(pmdval)) {
			addr = next;
			continue;
		}

		/*
		 * Reach the page table through the value read above, not by
		 * reading *pmd again, so that the checks above hold for it.
		 * Not pte_offset_map(), which 6.12 does not export: on these
		 * 64-bit arches page tables are never in high memory, so it
		 * would only add the RCU read lock taken here.
		 */
		rcu_read_lock();
		ptep = pte_offset_kernel(&pmdval, addr);
		pte = ptep;
		while (addr < next && pte_none(ptep_get(pte))) {
			addr += PAGE_SIZE;
			pte++;
		}
		start = addr;
		while (addr < next && !pte_none(ptep_get(pte))) {
			addr += PAGE_SIZE;
			pte++;
		}
		rcu_read_unlock();
		if (start < addr) {
			*run_end = addr;
			return start;
		}
	}
	return end;
}

/*
 * The pmd entry that maps addr in mm, read once, in *val; false when a
 * level above it is empty, bad or a leaf (a pud-sized page).
 */
static bool kcr_read_pmd(struct mm_struct *mm, unsigned long addr,
			 pmd_t **pmdp, pmd_t *val)
{
	pud_t *pud, pudval;
	pgd_t *pgd;
	p4d_t *p4d;

	pgd = pgd_offset(mm, addr);
	if (pgd_none(READ_ONCE(*pgd)) || pgd_bad(READ_ONCE(*pgd)))
		return false;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)) || p4d_bad(READ_ONCE(*p4d)))
		return false;
	pud = pud_offset(p4d, addr);
	pudval = READ_ONCE(*pud);
	if (pud_none(pudval) || pud_leaf(pudval) || pud_bad(pudval))
		return false;
	*pmdp = pmd_offset(pud, addr);
	*val = READ_ONCE(**pmdp);
	return true;
}

/* Does this pmd entry point to a page table (not a huge page)? */
static bool kcr_pmd_is_table(pmd_t val)
{
	return !pmd_none(val) && pmd_present(val) && !pmd_leaf(val) &&
		!pmd_trans_huge(val) && !pmd_devmap(val) && !pmd_bad(val);
}

/*
 * Was the page at addr written since the soft-dirty bits were last
 * cleared (/proc/PID/clear_refs 4)? Called under mmap_read_lock just
 * after get_user_pages_remote() took the page, so its entry is a pte or a
 * huge pmd. Whatever else is found counts as written: a clean page taken
 * for written costs a copy, a written page taken for clean would restart
 * stale data. The write faults that set the bit are also taken by writes
 * through get_user_pages() (ptrace, process_vm_writev(), O_DIRECT reads),
 * since clearing the bit write-protects the page.
 */
bool kcr_page_soft_dirty(struct mm_struct *mm, unsigned long addr)
{
	pmd_t *pmdp, pmdval;
	pte_t pte;
	bool dirty = true;

	if (!IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		return true;
	if (!kcr_read_pmd(mm, addr, &pmdp, &pmdval))
		return true;
	if (pmd_trans_huge(pmdval))
		return pmd_soft_dirty(pmdval);
	if (!kcr_pmd_is_table(pmdval))
		return true;
	rcu_read_lock();
	pte = ptep_get(pte_offset_kernel(&pmdval, addr));
	if (pte_present(pte))
		dirty = pte_soft_dirty(pte);
	else if (!pte_none(pte))
		/* Swap and migration entries keep the bit. */
		dirty = pte_swp_soft_dirty(pte);
	rcu_read_unlock();
	return dirty;
}

/* See kcr_clean_run(). */
static bool kcr_pte_clean(pte_t pte)
{
	return pte_present(pte) && !pte_special(pte) && !pte_soft_dirty(pte);
}

/*
 * CHECKPOINT_DIRTY_ONLY, anonymous memory: the end of the run of pages
 * from addr on (below end, within one page table or one transparent huge
 * page) that are all clean without a doubt (*clean true) or all not
 * (*clean false). The checkpoint lists the first kind without taking a
 * reference to each page (most of a pre-copied process's pages), and
 * asks get_user_pages_remote() and kcr_page_soft_dirty() about the other.
 *
 * Clean without a doubt: mapped by a present entry without the soft-dirty
 * bit, to an anonymous page. Such a page was there when the bits were
 * cleared, with the tree frozen, and the pre-copy listed and read it then:
 * every later way an anonymous entry comes to be sets the bit (write
 * faults, mremap(), khugepaged's collapse) or keeps the old entry's
 * (swap-in, migration, KSM's merge of equal contents), except the read
 * faults that map the zero page, which was not listed. The zero page is
 * special in a pte on these arches; the huge zero page is told by
 * PageAnon(), under a reference taken as GUP-fast takes it. Swap entries
 * and huge pages being split or migrated are left to the slow path.
 */
unsigned long kcr_clean_run(struct mm_struct *mm, unsigned long addr,
			    unsigned long end, bool *clean)
{
	unsigned long next = pmd_addr_end(addr, end);
	pmd_t *pmdp, pmdval;
	pte_t *pte;

	BUILD_BUG_ON(!IS_ENABLED(CONFIG_ARCH_HAS_PTE_SPECIAL));
	*clean = false;
	if (!IS_ENABLED(CONFIG_MEM_SOFT_DIRTY) ||
	    !kcr_read_pmd(mm, addr, &pmdp, &pmdval))
		return next;
	if (pmd_trans_huge(pmdval) && pmd_present(pmdval)) {
		/* Not pmd_page(), which powerpc does not export. */
		struct page *page = pfn_to_page(pmd_pfn(pmdval));

		if (pmd_soft_dirty(pmdval) || !get_page_unless_zero(page))
			return next;
		*clean = PageAnon(page) && pmd_same(READ_ONCE(*pmdp), pmdval);
		put_page(page);
		return next;
	}
	if (!kcr_pmd_is_table(pmdval))
		return next;
	rcu_read_lock();
	pte = pte_offset_kernel(&pmdval, addr);
	*clean = kcr_pte_clean(ptep_get(pte));
	for (addr += PAGE_SIZE, pte++; addr < next; addr += PAGE_SIZE, pte++)
		if (kcr_pte_clean(ptep_get(pte)) != *clean)
			break;
	rcu_read_unlock();
	return addr;
}
