// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: load-time resolution of unexported kernel functions.
 *
 * kallsyms_lookup_name() itself is not exported since 5.7, but kprobes
 * still resolve symbol names: a kprobe registered on "kallsyms_lookup_name"
 * reports the address it was placed at in kp.addr. From there, every
 * function kcr needs is looked up by name (kcr_ksyms[] below). A symbol
 * that cannot be found makes module init fail with -ENOENT and a message
 * naming it, before anything else is set up.
 *
 * To add a function: declare a typed pointer kcr_<name> in ksyms.h, define
 * it here, and add KCR_KSYM(<name>) to kcr_ksyms[].
 *
 * kallsyms_lookup_name() returns the first symbol of that name; kcr only
 * asks for global functions, whose names are unique.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/uaccess.h>
#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/cpufeature.h>
#endif

#include "ksyms.h"

pid_t (*kcr_kernel_clone)(struct kernel_clone_args *kargs);
bool (*kcr_ptrace_may_access)(struct task_struct *task, unsigned int mode);
long (*kcr_kernel_wait4)(pid_t upid, int __user *stat_addr, int options,
			 struct rusage *ru);
void (*kcr_do_exit)(long code);
void (*kcr_put_task_stack)(struct task_struct *tsk);
int (*kcr_sched_setattr)(struct task_struct *p, const struct sched_attr *attr);
void (*kcr___set_task_comm)(struct task_struct *tsk, const char *from,
			    bool exec);
long (*kcr___sys_setresuid)(uid_t ruid, uid_t euid, uid_t suid);
long (*kcr___sys_setresgid)(gid_t rgid, gid_t egid, gid_t sgid);
long (*kcr___sys_setfsuid)(uid_t uid);
long (*kcr___sys_setfsgid)(gid_t gid);
bool (*kcr_may_setgroups)(void);
int (*kcr_security_task_prctl)(int option, unsigned long arg2,
			       unsigned long arg3, unsigned long arg4,
			       unsigned long arg5);
int (*kcr_security_capset)(struct cred *new, const struct cred *old,
			   const kernel_cap_t *effective,
			   const kernel_cap_t *inheritable,
			   const kernel_cap_t *permitted);
int (*kcr_do_sigaction)(int sig, struct k_sigaction *act,
			struct k_sigaction *oact);
int (*kcr_send_signal_locked)(int sig, struct kernel_siginfo *info,
			      struct task_struct *p, enum pid_type type);
int (*kcr_do_prlimit)(struct task_struct *tsk, unsigned int resource,
		      struct rlimit *new_rlim, struct rlimit *old_rlim);
int (*kcr_do_setitimer)(int which, struct itimerspec64 *value,
			struct itimerspec64 *ovalue);
int (*kcr_do_madvise)(struct mm_struct *mm, unsigned long start,
		      size_t len_in, int behavior);
int (*kcr_replace_mm_exe_file)(struct mm_struct *mm,
			       struct file *new_exe_file);
int (*kcr_do_mlock)(unsigned long start, size_t len, unsigned long flags);
int (*kcr_replace_fd)(unsigned int fd, struct file *file, unsigned int flags);
void (*kcr_set_fs_root)(struct fs_struct *fs, const struct path *path);
void (*kcr_set_fs_pwd)(struct fs_struct *fs, const struct path *path);
#ifdef CONFIG_SECURITY_PATH
int (*kcr_security_path_chroot)(const struct path *path);
#endif
/* ns_restore.c */
int (*kcr_unshare_nsproxy_namespaces)(unsigned long unshare_flags,
				      struct nsproxy **new_nsp,
				      struct cred *new_cred,
				      struct fs_struct *new_fs);
void (*kcr_free_nsproxy)(struct nsproxy *ns);
void (*kcr_switch_task_namespaces)(struct task_struct *p, struct nsproxy *new);

kcr_syscall_fn_t kcr_sys_mremap;
kcr_syscall_fn_t kcr_sys_seccomp;
kcr_syscall_fn_t kcr_sys_timer_create;
kcr_syscall_fn_t kcr_sys_timer_settime;
kcr_syscall_fn_t kcr_sys_timer_delete;
kcr_syscall_fn_t kcr_sys_landlock_create_ruleset;
kcr_syscall_fn_t kcr_sys_setsid;
kcr_syscall_fn_t kcr_sys_setpgid;
void (*kcr_common_timer_get)(struct k_itimer *timr,
			     struct itimerspec64 *cur_setting);
int (*kcr_landlock_hook_ptrace_traceme)(struct task_struct *parent);
void (*kcr_exit_sem)(struct task_struct *tsk);

kcr_restart_fn_t kcr_do_no_restart_syscall;
kcr_restart_fn_t kcr_hrtimer_nanosleep_restart;
kcr_restart_fn_t kcr_posix_cpu_nsleep_restart;
kcr_restart_fn_t kcr_alarm_timer_nsleep_restart;
kcr_restart_fn_t kcr_futex_wait_restart;
kcr_restart_fn_t kcr_do_restart_poll;

/*
 * Test hook: when set at insmod (kcr_test_missing_symbol=NAME), NAME is
 * resolved like every entry of kcr_ksyms[] (and its address then thrown
 * away), so a test can ask for a symbol that does not exist and check that
 * insmod fails with "kcr: cannot resolve kernel symbol NAME".
 */
static char *kcr_test_missing_symbol;
module_param(kcr_test_missing_symbol, charp, 0);
MODULE_PARM_DESC(kcr_test_missing_symbol,
		 "test only: also require this kernel symbol at load time");

struct kcr_ksym {
	const char *name;
	void **addr;
};

#define KCR_KSYM(sym) { .name = #sym, .addr = (void **)&kcr_##sym }

/* The pt_regs entry point of system call sym, as the syscall table has it. */
#if defined(CONFIG_X86_64)
#define KCR_SYS_PREFIX	"__x64_sys_"
#elif defined(CONFIG_S390)
#define KCR_SYS_PREFIX	"__s390x_sys_"
#else
#define KCR_SYS_PREFIX	"sys_"
#endif
#define KCR_KSYM_SYS(sym) \
	{ .name = KCR_SYS_PREFIX #sym, .addr = (void **)&kcr_sys_##sym }

static const struct kcr_ksym kcr_ksyms[] = {
	KCR_KSYM(kernel_clone),
	KCR_KSYM(ptrace_may_access),
	/* checkpoint.c */
	KCR_KSYM(put_task_stack),
	/* restart.c */
	KCR_KSYM(kernel_wait4),
	KCR_KSYM(do_exit),
	KCR_KSYM(sched_setattr),
	KCR_KSYM(__set_task_comm),
	/* creds_restore.c */
	KCR_KSYM(__sys_setresuid),
	KCR_KSYM(__sys_setresgid),
	KCR_KSYM(__sys_setfsuid),
	KCR_KSYM(__sys_setfsgid),
	KCR_KSYM(may_setgroups),
	KCR_KSYM(security_task_prctl),
	KCR_KSYM(security_capset),
	/* signal_restore.c */
	KCR_KSYM(do_sigaction),
	KCR_KSYM(send_signal_locked),
	KCR_KSYM(do_prlimit),
	KCR_KSYM(do_setitimer),
	KCR_KSYM_SYS(mremap),
	KCR_KSYM(do_madvise),
	KCR_KSYM(replace_mm_exe_file),
	KCR_KSYM(do_mlock),
	/* files_restore.c */
	KCR_KSYM(replace_fd),
	KCR_KSYM(set_fs_root),
	KCR_KSYM(set_fs_pwd),
#ifdef CONFIG_SECURITY_PATH
	KCR_KSYM(security_path_chroot),
#endif
	/* ns_restore.c */
	KCR_KSYM(unshare_nsproxy_namespaces),
	KCR_KSYM(free_nsproxy),
	KCR_KSYM(switch_task_namespaces),

	/* seccomp_restore.c, timers.c, timers_restore.c, unsupported.c */
	KCR_KSYM_SYS(seccomp),
	KCR_KSYM_SYS(timer_create),
	KCR_KSYM_SYS(timer_settime),
	KCR_KSYM_SYS(timer_delete),
	KCR_KSYM_SYS(landlock_create_ruleset),
	KCR_KSYM(common_timer_get),
#ifdef CONFIG_SYSVIPC
	KCR_KSYM(exit_sem),
#endif

	/* restart.c: sessions and process groups of a tree */
	KCR_KSYM_SYS(setsid),
	KCR_KSYM_SYS(setpgid),
};

/* Resolved if present; see "Optional symbols" in ksyms.h. */
static const struct kcr_ksym kcr_ksyms_optional[] = {
	KCR_KSYM(do_no_restart_syscall),
	KCR_KSYM(hrtimer_nanosleep_restart),
	KCR_KSYM(posix_cpu_nsleep_restart),
	KCR_KSYM(alarm_timer_nsleep_restart),
	KCR_KSYM(futex_wait_restart),
	KCR_KSYM(do_restart_poll),
	/* No Landlock in this kernel: no task can be landlocked. */
	{ .name = "hook_ptrace_traceme",
	  .addr = (void **)&kcr_landlock_hook_ptrace_traceme },
};

static unsigned long (*kcr_kallsyms_lookup_name)(const char *name);

#if defined(CONFIG_PPC64) && \
	(defined(CONFIG_PPC64_ELF_ABI_V2) || \
	 (defined(_CALL_ELF) && _CALL_ELF == 2))
/*
 * ppc64 ELFv2: a function's global entry point sets up the TOC pointer r2
 * from r12 (which an indirect call loads with the target address):
 *
 *	addis	r2,r12,HI	(or "lis r2,HI" after a linker optimisation)
 *	addi	r2,r2,LO
 *	mflr	r0		<- local entry point
 *	bl	_mcount		<- ftrace call site (-mprofile-kernel)
 *
 * With KPROBES_ON_FTRACE the kprobe sits on the ftrace call site (within
 * the first 16 bytes of the function); without it, on the local entry
 * point. Calling either skips the TOC setup and runs with kcr's r2: find
 * the global entry by stepping back to the addis/addi pair. Addresses that
 * kallsyms_lookup_name() returns are global entry points already.
 */
#define KCR_PPC_OP_RT_RA_MASK	0xffff0000U
#define KCR_PPC_ADDIS_R2_R12	0x3c4c0000U	/* addis r2,r12,0 */
#define KCR_PPC_LIS_R2		0x3c400000U	/* lis r2,0 */
#define KCR_PPC_ADDI_R2_R2	0x38420000U	/* addi r2,r2,0 */
#define KCR_PPC_ENTRY_SCAN	4		/* instructions back */

static unsigned long kcr_func_entry(unsigned long addr)
{
	u32 insn[2];
	int i;

	for (i = 0; i <= KCR_PPC_ENTRY_SCAN; i++) {
		unsigned long p = addr - i * sizeof(u32);
		u32 hi;

		if (copy_from_kernel_nofault(insn, (void *)p, sizeof(insn)))
			return 0;
		hi = insn[0] & KCR_PPC_OP_RT_RA_MASK;
		if ((hi == KCR_PPC_ADDIS_R2_R12 || hi == KCR_PPC_LIS_R2) &&
		    (insn[1] & KCR_PPC_OP_RT_RA_MASK) == KCR_PPC_ADDI_R2_R2)
			return p;
	}
	return 0;
}
#elif defined(CONFIG_PPC64)
#error "kcr: ppc64 ELFv1 kernels (function descriptors) are not supported"
#elif defined(CONFIG_X86_64)
/*
 * x86-64 built with indirect branch tracking (Debian's 6.12): a function
 * starts with ENDBR64, or with the 4-byte NOP that replaces it in a
 * function never called indirectly ("sealed"). Kprobes step over either,
 * so the kprobe sits 4 bytes into the function; the function's address,
 * which kallsyms_lookup_name() knows it by, is 4 bytes before.
 */
#define KCR_X86_ENDBR64		0xfa1e0ff3U	/* f3 0f 1e fa: endbr64 */
#define KCR_X86_ENDBR_POISON	0x001f0f66U	/* 66 0f 1f 00: osp nopl (%rax) */

static unsigned long kcr_func_entry(unsigned long addr)
{
	u32 insn;

	if (!copy_from_kernel_nofault(&insn, (void *)(addr - sizeof(insn)),
				      sizeof(insn)) &&
	    (insn == KCR_X86_ENDBR64 || insn == KCR_X86_ENDBR_POISON))
		return addr - sizeof(insn);
	return addr;
}

#else
static unsigned long kcr_func_entry(unsigned long addr)
{
	return addr;
}
#endif

#ifdef CONFIG_X86_KERNEL_IBT
/*
 * Whether kcr may call the function at addr through a pointer: with
 * indirect branch tracking on, only a function that begins with ENDBR64
 * may be reached that way. A sealed one (never called indirectly by the
 * kernel itself) would stop the CPU with a control protection fault.
 */
static bool kcr_callable(unsigned long addr)
{
	u32 insn;

	if (!cpu_feature_enabled(X86_FEATURE_IBT))
		return true;
	return !copy_from_kernel_nofault(&insn, (void *)addr, sizeof(insn)) &&
	       insn == KCR_X86_ENDBR64;
}
#else
static bool kcr_callable(unsigned long addr)
{
	return true;
}
#endif

static int kcr_find_kallsyms_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("cannot resolve kernel symbol kallsyms_lookup_name (kprobe: %d)\n",
		       ret);
		return -ENOENT;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

	addr = kcr_func_entry(addr);
	if (!addr) {
		pr_err("cannot resolve kernel symbol kallsyms_lookup_name (no function entry before %pS)\n",
		       kp.addr);
		return -ENOENT;
	}
	if (!kcr_callable(addr)) {
		pr_err("cannot call kernel function kallsyms_lookup_name: indirect branch tracking is on and the function is sealed (boot with ibt=off)\n");
		return -EOPNOTSUPP;
	}
	kcr_kallsyms_lookup_name = (void *)addr;

	/* It must find itself where the kprobe found it. */
	if (kcr_kallsyms_lookup_name("kallsyms_lookup_name") != addr) {
		pr_err("cannot resolve kernel symbol kallsyms_lookup_name (kprobe at %pS, entry at %pS)\n",
		       kp.addr, (void *)addr);
		kcr_kallsyms_lookup_name = NULL;
		return -ENOENT;
	}
	return 0;
}

static int kcr_resolve(const char *name, void **addr)
{
	unsigned long a = kcr_kallsyms_lookup_name(name);

	if (!a) {
		pr_err("cannot resolve kernel symbol %s\n", name);
		return -ENOENT;
	}
	if (!kcr_callable(a)) {
		pr_err("cannot call kernel function %s: indirect branch tracking is on and the function is sealed (boot with ibt=off)\n",
		       name);
		return -EOPNOTSUPP;
	}
	if (addr)
		*addr = (void *)a;
	return 0;
}

int kcr_ksyms_init(void)
{
	unsigned int i;
	int ret;

	ret = kcr_find_kallsyms_lookup_name();
	if (ret)
		return ret;

	for (i = 0; i < ARRAY_SIZE(kcr_ksyms); i++) {
		ret = kcr_resolve(kcr_ksyms[i].name, kcr_ksyms[i].addr);
		if (ret)
			return ret;
	}
	for (i = 0; i < ARRAY_SIZE(kcr_ksyms_optional); i++) {
		const struct kcr_ksym *k = &kcr_ksyms_optional[i];

		*k->addr = (void *)kcr_kallsyms_lookup_name(k->name);
		if (!*k->addr)
			pr_info("kernel symbol %s not found: its feature is off\n",
				k->name);
	}

	if (kcr_test_missing_symbol && *kcr_test_missing_symbol)
		return kcr_resolve(kcr_test_missing_symbol, NULL);
	return 0;
}
