/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: every difference between the kernel series kcr builds for (Debian
 * 12's 6.1 and 6.12) lives here, so that the subsystem files are written
 * once against these names. Each helper says what
 * changed and in which release, so that a new series is added by reading
 * this file alone. Where the release that made a change is not certain,
 * the test is against 6.12, the series where it was seen.
 */
#ifndef _KCR_COMPAT_H
#define _KCR_COMPAT_H

#include <linux/capability.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/rcupdate.h>
#include <linux/rseq.h>
#include <linux/sched/signal.h>
#include <linux/sysctl.h>
#include <linux/version.h>

/* kernel_cap_t: two 32-bit words before 6.3, one u64 from 6.3 on. */
static inline u64 kcr_cap_to_u64(kernel_cap_t c)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return c.val;
#else
	BUILD_BUG_ON(_KERNEL_CAPABILITY_U32S != 2);
	return (u64)c.cap[0] | (u64)c.cap[1] << 32;
#endif
}

static inline kernel_cap_t kcr_cap_from_u64(u64 v)
{
	kernel_cap_t c;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	c.val = v;
#else
	c.cap[0] = (u32)v;
	c.cap[1] = (u32)(v >> 32);
#endif
	return c;
}

/* 6.5 dropped get_user_pages_remote()'s vmas argument. */
static inline long kcr_gup_remote(struct mm_struct *mm, unsigned long addr,
				  unsigned long nr, unsigned int gup_flags,
				  struct page **pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, addr, nr, gup_flags, pages, NULL);
#else
	return get_user_pages_remote(mm, addr, nr, gup_flags, pages, NULL,
				     NULL);
#endif
}

/*
 * A counted reference to the file an RCU-protected slot (a descriptor
 * table entry, mm->exe_file) points to, or NULL. From 6.7 files are
 * SLAB_TYPESAFE_BY_RCU: a count taken on a freed and reused file must be
 * checked against the slot again, which the new get_file_rcu() does.
 * Called under rcu_read_lock().
 */
static inline struct file *kcr_get_file_rcu(struct file __rcu **slot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return get_file_rcu(slot);
#else
	struct file *f = rcu_dereference(*slot);

	return f && get_file_rcu(f) ? f : NULL;
#endif
}

/* close_on_exec() takes the fdtable in 6.1, the files_struct in 6.12. */
static inline bool kcr_close_on_exec(unsigned int fd, struct files_struct *files)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	return close_on_exec(fd, files);
#else
	return close_on_exec(fd, files_fdtable(files));
#endif
}

/*
 * Whether task t has a descriptor at *fd or above; *fd becomes the first
 * one. 6.12 has task_lookup_next_fdget_rcu(), which takes a reference,
 * where 6.1 has task_lookup_next_fd_rcu().
 */
static inline bool kcr_next_fd(struct task_struct *t, unsigned int *fd)
{
	struct file *f;

	rcu_read_lock();
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	f = task_lookup_next_fdget_rcu(t, fd);
	rcu_read_unlock();
	if (f)
		fput(f);
#else
	f = task_lookup_next_fd_rcu(t, fd);
	rcu_read_unlock();
#endif
	return f;
}

/* The inode's times went behind accessors in 6.6 (ctime) and 6.7. */
static inline struct timespec64 kcr_inode_mtime(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return inode_get_mtime(inode);
#else
	return inode->i_mtime;
#endif
}

static inline struct timespec64 kcr_inode_ctime(struct inode *inode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return inode_get_ctime(inode);
#else
	return inode->i_ctime;
#endif
}

/* nsproxy's count: an atomic_t in 6.1, a refcount_t in 6.12. */
static inline bool kcr_nsproxy_dec_and_test(struct nsproxy *nsp)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	return refcount_dec_and_test(&nsp->count);
#else
	return atomic_dec_and_test(&nsp->count);
#endif
}

/* signal_struct's POSIX timers: a list in 6.1, an hlist in 6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define kcr_for_each_posix_timer(timr, sig) \
	hlist_for_each_entry(timr, &(sig)->posix_timers, list)
#else
#define kcr_for_each_posix_timer(timr, sig) \
	list_for_each_entry(timr, &(sig)->posix_timers, list)
#endif

/* 6.3 made vm_flags read-only but through vm_flags_set(). */
static inline void kcr_vm_flags_set(struct vm_area_struct *vma,
				    unsigned long flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* The length of t's rseq area: always 32 bytes before 6.3. */
static inline u32 kcr_rseq_len(struct task_struct *t)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return t->rseq_len;
#else
	return sizeof(struct rseq);
#endif
}

static inline void kcr_set_rseq_len(struct task_struct *t, u32 len)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	t->rseq_len = len;
#endif
}

/*
 * Sysctl tables: up to 6.5 register_sysctl() finds the end of the table at
 * an empty entry; from 6.6 it takes the number of entries, and 6.11
 * refuses an empty one among them. Tables keep the empty entry and pass
 * the number before it.
 */
static inline struct ctl_table_header *
kcr_register_sysctl(const char *path, struct ctl_table *table, size_t n)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return register_sysctl_sz(path, table, n);
#else
	return register_sysctl(path, table);
#endif
}

/*
 * vfs_iter_write() takes the file system's freeze protection itself from
 * 6.8 on (file_start_write() moved into it); before, its callers took it,
 * as kernel_write() does.
 */
static inline ssize_t kcr_iter_write(struct file *file, struct iov_iter *iter,
				     loff_t *pos)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	return vfs_iter_write(file, iter, pos, 0);
#else
	ssize_t ret;

	file_start_write(file);
	ret = vfs_iter_write(file, iter, pos, 0);
	file_end_write(file);
	return ret;
#endif
}

#ifdef CONFIG_S390
/*
 * s390 FPU and access registers. The FPU rework between 6.1 and 6.12
 * (here tested against 6.12, where it was seen):
 *  - <asm/fpu/api.h> became <asm/fpu.h>, and restore_access_regs() moved
 *    from <asm/switch_to.h>, which is gone, to <asm/access-regs.h>;
 *  - MACHINE_HAS_VX became cpu_has_vx();
 *  - the user registers' save area thread.fpu (the 16 fprs, or the 32
 *    vxrs with the vector facility; save_fpu_regs()) became thread.ufpu,
 *    which always has the vxrs and keeps the fprs in the leftmost
 *    doubleword of v0-v15 (save_user_fpu_regs());
 *  - test_fp_ctl() is gone: a saved fpc is loaded with fpu_lfpc_safe(),
 *    which makes an invalid one 0 instead of failing.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <asm/access-regs.h>
#include <asm/fpu.h>
#else
#include <asm/fpu/api.h>
#include <asm/switch_to.h>
#endif
#include <asm/setup.h>

/* Whether the kernel uses the vector facility (6.1: not with novx). */
static inline bool kcr_s390_has_vx(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	return cpu_has_vx();
#else
	return MACHINE_HAS_VX;
#endif
}

/*
 * 0 if fpc is a floating-point control that user mode may have, else
 * -EINVAL. 6.12 has no test_fp_ctl(): the lfpc of fpu_lfpc_safe() shows
 * it, as an invalid fpc loads as 0 (and a valid one is read back as
 * loaded). kernel_fpu_begin() keeps current's user fpc apart, saved for
 * its return to user mode, and our fpc across a preemption.
 */
static inline int kcr_s390_test_fpc(u32 fpc)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	DECLARE_KERNEL_FPU_ONSTACK16(state);
	u32 loaded;

	kernel_fpu_begin(&state, KERNEL_FPR);
	fpu_lfpc_safe(&fpc);
	fpu_stfpc(&loaded);
	kernel_fpu_end(&state, KERNEL_FPR);
	return loaded == fpc ? 0 : -EINVAL;
#else
	return test_fp_ctl(fpc);
#endif
}

/*
 * Give current the user fpc and vector registers vxrs[0..31] (16 bytes
 * each, the fprs in the leftmost doubleword of v0-v15) for its return to
 * user mode. As sigreturn does, the live registers are saved first: that
 * marks the save area to be loaded on the exit to user mode, so writing
 * it sets the registers. Without the vector facility 6.1's save area has
 * only the fprs, 6.12's the vxrs still (load_fpu_state() takes the fprs
 * from them).
 */
static inline void kcr_s390_load_user_fpu(u32 fpc, const u64 (*vxrs)[2])
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	struct fpu *fpu = &current->thread.ufpu;

	save_user_fpu_regs();
	fpu->fpc = fpc;
	BUILD_BUG_ON(sizeof(fpu->vxrs) != __NUM_VXRS * sizeof(*vxrs));
	memcpy(fpu->vxrs, vxrs, sizeof(fpu->vxrs));
#else
	struct fpu *fpu = &current->thread.fpu;
	int i;

	save_fpu_regs();
	fpu->fpc = fpc;
	if (MACHINE_HAS_VX) {
		BUILD_BUG_ON(sizeof(fpu->vxrs) !=
			     __NUM_VXRS * sizeof(*vxrs));
		memcpy(fpu->vxrs, vxrs, sizeof(fpu->vxrs));
	} else {
		for (i = 0; i < __NUM_FPRS; i++)
			memcpy(&fpu->fprs[i], &vxrs[i][0],
			       sizeof(fpu->fprs[i]));
	}
#endif
}
#endif /* CONFIG_S390 */

#endif /* _KCR_COMPAT_H */
