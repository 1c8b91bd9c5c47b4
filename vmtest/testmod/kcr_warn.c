// SPDX-License-Identifier: GPL-2.0
/*
 * kcr_warn: test-only module whose init triggers a kernel warning, so the
 * vmtest harness can prove that its kernel log guard catches one.
 * Never install it anywhere else.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init kcr_warn_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit kcr_warn_exit(void)
{
}

module_init(kcr_warn_init);
module_exit(kcr_warn_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kcr test: warns at load to exercise the harness log guard");
