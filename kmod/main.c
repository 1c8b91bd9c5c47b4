// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the linux-cr checkpoint/restart system calls for stock kernels, as
 * ioctls on the misc device /dev/checkpoint.
 *
 * The device node is world-accessible: each ioctl checks its own
 * permissions (as the linux-cr system calls did).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include <linux/checkpoint.h>

#include "kcr.h"
#include "ksyms.h"

#ifndef KCR_ABI_VERSION
#error "<linux/checkpoint.h> is not kcr's uapi header: check ccflags in Kbuild"
#endif

#define KCR_VERSION "0.1.0"

static long kcr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case CKPT_IOC_VERSION:
		return KCR_ABI_VERSION;
	case CKPT_IOC_CHECKPOINT:
		return kcr_ioctl_checkpoint(file, (void __user *)arg);
	case CKPT_IOC_RESTART:
		return kcr_ioctl_restart(file, (void __user *)arg);
	case CKPT_IOC_CLONE_WITH_PIDS:
		return kcr_ioctl_clone_with_pids(file, (void __user *)arg);
	case CKPT_IOC_FREEZER_GET:
		return kcr_ioctl_freezer_get(file, (void __user *)arg);
	case CKPT_IOC_FREEZER_SET:
		return kcr_ioctl_freezer_set(file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kcr_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= kcr_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice kcr_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= CKPT_DEVICE_NAME,
	.fops	= &kcr_fops,
	.mode	= 0666,
};

dev_t kcr_devt(void)
{
	return MKDEV(MISC_MAJOR, kcr_miscdev.minor);
}

static int __init kcr_init(void)
{
	int ret;

	ret = kcr_ksyms_init();
	if (ret)
		return ret;

	ret = kcr_sysctl_init();
	if (ret) {
		pr_err("cannot register sysctl kernel.ckpt_unpriv_allowed: %d\n",
		       ret);
		return ret;
	}

	ret = misc_register(&kcr_miscdev);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", CKPT_DEVICE_NAME, ret);
		kcr_sysctl_exit();
		return ret;
	}

	pr_info("loaded, ABI version %d, /dev/%s\n", KCR_ABI_VERSION,
		CKPT_DEVICE_NAME);
	return 0;
}

static void __exit kcr_exit(void)
{
	misc_deregister(&kcr_miscdev);
	kcr_sysctl_exit();
	pr_info("unloaded\n");
}

module_init(kcr_init);
module_exit(kcr_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("linux-cr checkpoint/restart as ioctls on /dev/checkpoint");
MODULE_VERSION(KCR_VERSION);
