/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: kernel functions that are not exported to modules, resolved at load
 * time. Every pointer below is valid (non-NULL) once kcr_ksyms_init() has
 * returned 0; module init fails otherwise, so users need no NULL checks.
 */
#ifndef _KCR_KSYMS_H
#define _KCR_KSYMS_H

#include <linux/sched/task.h>
#include <linux/types.h>

extern pid_t (*kcr_kernel_clone)(struct kernel_clone_args *kargs);

int kcr_ksyms_init(void);

#endif /* _KCR_KSYMS_H */
