// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: system calls made for current from the module (usercall.h).
 *
 * The arch's syscall wrappers take the user registers: we hand them a
 * pt_regs of our own that holds only the arguments, where the wrapper's
 * SYSCALL_DEFINE decoding reads them. Nothing else in it is used by
 * the calls made here (seccomp, timer_create, timer_settime,
 * timer_delete, landlock_create_ruleset): they act on current and on
 * the user memory their pointer arguments name.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/ptrace.h>
#include <linux/string.h>

#include "usercall.h"

int kcr_scratch_map(size_t len, unsigned long *addr, size_t *maplen)
{
	unsigned long a;

	len = PAGE_ALIGN(len);
	a = vm_mmap(NULL, 0, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(a))
		return (int)a;
	*addr = a;
	*maplen = len;
	return 0;
}

void kcr_scratch_unmap(unsigned long addr, size_t maplen)
{
	if (maplen)
		vm_munmap(addr, maplen);
}

long kcr_syscall5(kcr_syscall_fn_t fn, unsigned long a0, unsigned long a1,
		  unsigned long a2, unsigned long a3, unsigned long a4)
{
	struct pt_regs regs;

	memset(&regs, 0, sizeof(regs));
#if defined(CONFIG_X86_64)
	regs.di = a0;
	regs.si = a1;
	regs.dx = a2;
	regs.r10 = a3;
	regs.r8 = a4;
#elif defined(CONFIG_S390)
	regs.orig_gpr2 = a0;
	regs.gprs[2] = a0;
	regs.gprs[3] = a1;
	regs.gprs[4] = a2;
	regs.gprs[5] = a3;
	regs.gprs[6] = a4;
#elif defined(CONFIG_PPC64)
	regs.gpr[3] = a0;
	regs.orig_gpr3 = a0;
	regs.gpr[4] = a1;
	regs.gpr[5] = a2;
	regs.gpr[6] = a3;
	regs.gpr[7] = a4;
#else
#error "kcr: kcr_syscall() does not know this architecture's syscall wrapper"
#endif
	return fn(&regs);
}

long kcr_syscall(kcr_syscall_fn_t fn, unsigned long a0, unsigned long a1,
		 unsigned long a2, unsigned long a3)
{
	return kcr_syscall5(fn, a0, a1, a2, a3, 0);
}
