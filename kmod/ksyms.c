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

#include "ksyms.h"

pid_t (*kcr_kernel_clone)(struct kernel_clone_args *kargs);
bool (*kcr_ptrace_may_access)(struct task_struct *task, unsigned int mode);
int (*kcr_kernel_wait)(pid_t pid, int *stat);
int (*kcr_sched_setattr)(struct task_struct *p, const struct sched_attr *attr);
void (*kcr___set_task_comm)(struct task_struct *tsk, const char *from,
			    bool exec);
struct user_struct *(*kcr_alloc_uid)(kuid_t uid);
/* Exported only by later 6.1 updates. */
void (*kcr_free_uid)(struct user_struct *up);
int (*kcr_set_cred_ucounts)(struct cred *new);
int (*kcr_security_task_fix_setuid)(struct cred *new, const struct cred *old,
				    int flags);
int (*kcr_security_task_fix_setgid)(struct cred *new, const struct cred *old,
				    int flags);
int (*kcr_security_task_fix_setgroups)(struct cred *new,
				       const struct cred *old);
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
long (*kcr___do_sys_mremap)(unsigned long addr, unsigned long old_len,
			    unsigned long new_len, unsigned long flags,
			    unsigned long new_addr);
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
void (*kcr_put_task_stack)(struct task_struct *tsk);

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

static const struct kcr_ksym kcr_ksyms[] = {
	KCR_KSYM(kernel_clone),
	KCR_KSYM(ptrace_may_access),
	/* restart.c */
	KCR_KSYM(kernel_wait),
	KCR_KSYM(sched_setattr),
	KCR_KSYM(__set_task_comm),
	/* creds_restore.c */
	KCR_KSYM(alloc_uid),
	KCR_KSYM(free_uid),
	KCR_KSYM(set_cred_ucounts),
	KCR_KSYM(security_task_fix_setuid),
	KCR_KSYM(security_task_fix_setgid),
	KCR_KSYM(security_task_fix_setgroups),
	KCR_KSYM(security_capset),
	/* signal_restore.c */
	KCR_KSYM(do_sigaction),
	KCR_KSYM(send_signal_locked),
	KCR_KSYM(do_prlimit),
	KCR_KSYM(do_setitimer),
	KCR_KSYM(__do_sys_mremap),
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
	/* checkpoint.c */
	KCR_KSYM(put_task_stack),
};

/* Resolved if present; see "Optional symbols" in ksyms.h. */
static const struct kcr_ksym kcr_ksyms_optional[] = {
	KCR_KSYM(do_no_restart_syscall),
	KCR_KSYM(hrtimer_nanosleep_restart),
	KCR_KSYM(posix_cpu_nsleep_restart),
	KCR_KSYM(alarm_timer_nsleep_restart),
	KCR_KSYM(futex_wait_restart),
	KCR_KSYM(do_restart_poll),
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
#else
static unsigned long kcr_func_entry(unsigned long addr)
{
	return addr;
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
