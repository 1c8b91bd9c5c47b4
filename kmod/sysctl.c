// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the sysctl kernel.ckpt_unpriv_allowed of linux-cr.
 *
 * 0 (the default): CKPT_IOC_CHECKPOINT and CKPT_IOC_RESTART need
 * CAP_SYS_ADMIN. 1: unprivileged callers may use them, within the usual
 * checks (ptrace rights over the checkpointed tasks, the caller's own
 * credentials for what a restart creates).
 */
#include <linux/errno.h>
#include <linux/sysctl.h>

#include "kcr.h"

int kcr_unpriv_allowed;

static struct ctl_table_header *kcr_sysctl_header;

static struct ctl_table kcr_sysctl_table[] = {
	{
		.procname	= "ckpt_unpriv_allowed",
		.data		= &kcr_unpriv_allowed,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= SYSCTL_ONE,
	},
	{ }	/* the end, for 6.1; not counted from 6.6 on (see compat.h) */
};

int kcr_sysctl_init(void)
{
	kcr_sysctl_header = kcr_register_sysctl("kernel", kcr_sysctl_table,
						ARRAY_SIZE(kcr_sysctl_table) - 1);
	return kcr_sysctl_header ? 0 : -ENOMEM;
}

void kcr_sysctl_exit(void)
{
	unregister_sysctl_table(kcr_sysctl_header);
	kcr_sysctl_header = NULL;
}
