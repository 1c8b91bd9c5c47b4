/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: calling a system call's own implementation for current, with
 * arguments in current's user memory (usercall.c). Restart installs
 * seccomp filters and POSIX timers this way, so that the kernel's checks
 * and bookkeeping apply to the restored task exactly as when the task
 * made those calls itself.
 */
#ifndef _KCR_USERCALL_H
#define _KCR_USERCALL_H

#include <linux/types.h>

#include "ksyms.h"

/*
 * A private anonymous read-write mapping of at least len bytes in
 * current's address space, for the arguments of kcr_syscall(); its
 * address is in *addr. Unmap it with kcr_scratch_unmap(): the restored
 * address space is left as the image had it.
 */
int kcr_scratch_map(size_t len, unsigned long *addr, size_t *maplen);
void kcr_scratch_unmap(unsigned long addr, size_t maplen);

/* fn (a kcr_sys_* entry point) with up to four or five arguments. */
long kcr_syscall(kcr_syscall_fn_t fn, unsigned long a0, unsigned long a1,
		 unsigned long a2, unsigned long a3);
long kcr_syscall5(kcr_syscall_fn_t fn, unsigned long a0, unsigned long a1,
		  unsigned long a2, unsigned long a3, unsigned long a4);

#endif /* _KCR_USERCALL_H */
