/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: every difference between the kernel series kcr builds for (Debian
 * 12's 6.1 and 6.12) lives here and in compat.c, so that the subsystem
 * files are written once against these names. Each helper says what
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

#endif /* _KCR_COMPAT_H */
