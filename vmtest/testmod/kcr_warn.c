// SPDX-License-Identifier: GPL-2.0
/*
 * kcr_warn: test-only module whose init triggers a kernel warning, so the
 * vmtest harness can prove that its kernel log guard catches one. With
 * bugs=1 it also commits, once each, the bugs that the debug kernels
 * detect: a slab out-of-bounds read (KASAN), an AB-BA lock order
 * (lockdep), a sleep in atomic context (DEBUG_ATOMIC_SLEEP) and a leaked
 * allocation (kmemleak), so the harness can prove it catches their reports.
 * Never install it anywhere else.
 */
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/string.h>

static bool bugs;
module_param(bugs, bool, 0444);
MODULE_PARM_DESC(bugs, "also commit the bugs that KASAN, lockdep and kmemleak report");

static DEFINE_MUTEX(kcr_warn_a);
static DEFINE_MUTEX(kcr_warn_b);

/*
 * In this order: a KASAN report taints the kernel in a way that turns
 * lockdep off, so the lock order goes first and the bad read last.
 */
static void kcr_warn_bugs(void)
{
	size_t i = 8;
	int n;
	char *p;

	mutex_lock(&kcr_warn_a);
	mutex_lock(&kcr_warn_b);
	mutex_unlock(&kcr_warn_b);
	mutex_unlock(&kcr_warn_a);
	mutex_lock(&kcr_warn_b);
	mutex_lock(&kcr_warn_a);
	mutex_unlock(&kcr_warn_a);
	mutex_unlock(&kcr_warn_b);

	preempt_disable();
	might_sleep();
	preempt_enable();

	/*
	 * Filled with a pattern, so no byte of them looks like a pointer.
	 * Four of them: a stale copy of the last pointer (a spilled register
	 * on the loader's kernel stack, which kmemleak scans) can keep one
	 * listed as referenced, but only one.
	 */
	for (n = 0; n < 4; n++) {
		p = kmalloc(512, GFP_KERNEL);
		if (p)
			memset(p, 0x5a, 512);
		OPTIMIZER_HIDE_VAR(p);
	}
	p = NULL;

	p = kmalloc(8, GFP_KERNEL);
	if (p) {
		OPTIMIZER_HIDE_VAR(i);
		pr_info("kcr_warn: out-of-bounds read: %d\n", READ_ONCE(p[i]));
		kfree(p);
	}
}

static int __init kcr_warn_init(void)
{
	if (bugs)
		kcr_warn_bugs();
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
