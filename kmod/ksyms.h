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
/* restart.c: reap a task whose restart failed, whatever its exit signal */
struct rusage;
/* restart.c: a restored zombie's end (not exported since 5.17) */
extern void (*kcr_do_exit)(long code);
extern long (*kcr_kernel_wait4)(pid_t upid, int __user *stat_addr,
				int options, struct rusage *ru);
/* checkpoint.c: the stack (pt_regs) of a target that may exit meanwhile */
extern void (*kcr_put_task_stack)(struct task_struct *tsk);
/* restart.c: the TASK record (sched_setattr with the user's checks) */
struct sched_attr;
extern int (*kcr_sched_setattr)(struct task_struct *p,
				const struct sched_attr *attr);
extern void (*kcr___set_task_comm)(struct task_struct *tsk, const char *from,
				   bool exec);
/* memory_restore.c: rebuilding the address space */
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

/*
 * creds_restore.c: the system calls that set credentials, on current
 * (kernel/sys.c, kernel/groups.c, security/security.c)
 */
extern long (*kcr___sys_setresuid)(uid_t ruid, uid_t euid, uid_t suid);
extern long (*kcr___sys_setresgid)(gid_t rgid, gid_t egid, gid_t sgid);
extern long (*kcr___sys_setfsuid)(uid_t uid);
extern long (*kcr___sys_setfsgid)(gid_t gid);
extern bool (*kcr_may_setgroups)(void);
extern int (*kcr_security_task_prctl)(int option, unsigned long arg2,
				      unsigned long arg3, unsigned long arg4,
				      unsigned long arg5);
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
 * ns_restore.c: unshare(CLONE_NEWUTS) for a restored task (with its
 * permission check), put_nsproxy(), setns()'s switch.
 */
struct fs_struct;
struct nsproxy;
extern int (*kcr_unshare_nsproxy_namespaces)(unsigned long unshare_flags,
					     struct nsproxy **new_nsp,
					     struct cred *new_cred,
					     struct fs_struct *new_fs);
extern void (*kcr_free_nsproxy)(struct nsproxy *ns);
extern void (*kcr_switch_task_namespaces)(struct task_struct *p,
					  struct nsproxy *new);

/*
 * System calls, called through their pt_regs entry points (the
 * arch's syscall wrapper: __x64_sys_*, __s390x_sys_*, ppc64's sys_*):
 * seccomp_restore.c and timers_restore.c install filters and timers
 * through them; usercall.c builds the registers.
 */
struct pt_regs;
typedef long (*kcr_syscall_fn_t)(const struct pt_regs *regs);
/* memory_restore.c: mremap() of the vDSO to the image's place */
extern kcr_syscall_fn_t kcr_sys_mremap;
extern kcr_syscall_fn_t kcr_sys_seccomp;
extern kcr_syscall_fn_t kcr_sys_timer_create;
extern kcr_syscall_fn_t kcr_sys_timer_settime;
extern kcr_syscall_fn_t kcr_sys_timer_delete;
extern kcr_syscall_fn_t kcr_sys_landlock_create_ruleset;
extern kcr_syscall_fn_t kcr_sys_setsid;
extern kcr_syscall_fn_t kcr_sys_setpgid;
/* timers.c: timer_gettime() of a timer on a clock that is not CPU time */
struct k_itimer;
extern void (*kcr_common_timer_get)(struct k_itimer *timr,
				    struct itimerspec64 *cur_setting);
/* timers_restore.c: drop the restarter's SysV semaphore undo list */
extern void (*kcr_exit_sem)(struct task_struct *tsk);
/*
 * unsupported.c: Landlock's ptrace_traceme hook (static in
 * security/landlock/ptrace.c): -EPERM when parent is landlocked in a
 * domain current is not within. Optional (see below): NULL in a kernel
 * built without Landlock, where no task can be landlocked; it is called.
 */
extern int (*kcr_landlock_hook_ptrace_traceme)(struct task_struct *parent);

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
