/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: kernel functions that are not exported to modules, resolved at load
 * time. Every pointer below is valid (non-NULL) once kcr_ksyms_init() has
 * returned 0; module init fails otherwise, so users need no NULL checks.
 */
#ifndef _KCR_KSYMS_H
#define _KCR_KSYMS_H

#include <linux/capability.h>
#include <linux/sched/task.h>
#include <linux/types.h>
#include <linux/uidgid.h>

struct cred;
struct itimerspec64;
struct k_sigaction;
struct kernel_siginfo;
struct restart_block;
struct rlimit;
struct user_struct;

extern pid_t (*kcr_kernel_clone)(struct kernel_clone_args *kargs);
extern bool (*kcr_ptrace_may_access)(struct task_struct *task,
				     unsigned int mode);
/* restart.c: reap a task whose restart failed */
extern int (*kcr_kernel_wait)(pid_t pid, int *stat);
/* restart.c: the TASK record (sched_setattr with the user's checks) */
struct sched_attr;
extern int (*kcr_sched_setattr)(struct task_struct *p,
				const struct sched_attr *attr);
extern void (*kcr___set_task_comm)(struct task_struct *tsk, const char *from,
				   bool exec);
/* memory_restore.c: rebuilding the address space */
extern long (*kcr___do_sys_mremap)(unsigned long addr, unsigned long old_len,
				   unsigned long new_len, unsigned long flags,
				   unsigned long new_addr);
struct mm_struct;
extern int (*kcr_do_madvise)(struct mm_struct *mm, unsigned long start,
			     size_t len_in, int behavior);
extern int (*kcr_replace_mm_exe_file)(struct mm_struct *mm,
				      struct file *new_exe_file);
extern int (*kcr_do_mlock)(unsigned long start, size_t len,
			   unsigned long flags);
/* files_restore.c: descriptors at given numbers, cwd and root */
struct file;
struct fs_struct;
struct path;
extern int (*kcr_replace_fd)(unsigned int fd, struct file *file,
			     unsigned int flags);
extern void (*kcr_set_fs_root)(struct fs_struct *fs, const struct path *path);
extern void (*kcr_set_fs_pwd)(struct fs_struct *fs, const struct path *path);
#ifdef CONFIG_SECURITY_PATH
extern int (*kcr_security_path_chroot)(const struct path *path);
#endif

/* checkpoint.c: the stack (pt_regs) of a target that may exit meanwhile */
extern void (*kcr_put_task_stack)(struct task_struct *tsk);

/* creds_restore.c: what setresuid() & co do to a new struct cred */
extern struct user_struct *(*kcr_alloc_uid)(kuid_t uid);
extern void (*kcr_free_uid)(struct user_struct *up);
extern int (*kcr_set_cred_ucounts)(struct cred *new);
extern int (*kcr_security_task_fix_setuid)(struct cred *new,
					   const struct cred *old, int flags);
extern int (*kcr_security_task_fix_setgid)(struct cred *new,
					   const struct cred *old, int flags);
extern int (*kcr_security_task_fix_setgroups)(struct cred *new,
					      const struct cred *old);
extern int (*kcr_security_capset)(struct cred *new, const struct cred *old,
				  const kernel_cap_t *effective,
				  const kernel_cap_t *inheritable,
				  const kernel_cap_t *permitted);

/*
 * signal_restore.c: sigaction(), queueing a signal (siglock held),
 * setrlimit() (static in kernel/sys.c) and setitimer() (static in
 * kernel/time/itimer.c) for current.
 */
extern int (*kcr_do_sigaction)(int sig, struct k_sigaction *act,
			       struct k_sigaction *oact);
extern int (*kcr_send_signal_locked)(int sig, struct kernel_siginfo *info,
				     struct task_struct *p,
				     enum pid_type type);
extern int (*kcr_do_prlimit)(struct task_struct *tsk, unsigned int resource,
			     struct rlimit *new_rlim, struct rlimit *old_rlim);
extern int (*kcr_do_setitimer)(int which, struct itimerspec64 *value,
			       struct itimerspec64 *ovalue);

/*
 * Optional symbols: NULL when this kernel has no such function. These are
 * only compared against (restart_block.fn of a task), never called, so
 * a missing one costs a feature (the restart block is recorded as NONE,
 * with a message) rather than the whole module. Most are static
 * functions, resolved by kallsyms name.
 */
typedef long (*kcr_restart_fn_t)(struct restart_block *);
extern kcr_restart_fn_t kcr_do_no_restart_syscall;
extern kcr_restart_fn_t kcr_hrtimer_nanosleep_restart;
extern kcr_restart_fn_t kcr_posix_cpu_nsleep_restart;
extern kcr_restart_fn_t kcr_alarm_timer_nsleep_restart;
extern kcr_restart_fn_t kcr_futex_wait_restart;
extern kcr_restart_fn_t kcr_do_restart_poll;

int kcr_ksyms_init(void);

#endif /* _KCR_KSYMS_H */
