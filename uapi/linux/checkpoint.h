/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcr: the linux-cr checkpoint/restart system calls, emulated as ioctls on
 * the misc device /dev/checkpoint.
 *
 * This header is the ABI between kcr.ko and userspace. The Go package in
 * this directory is generated from it (see gen/).
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on every incompatible change of the ioctl ABI or the image format. */
#define KCR_ABI_VERSION 1

#define CKPT_DEVICE_NAME "checkpoint"

/* 0xCC: unused in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define CKPT_IOC_MAGIC 0xCC

/* Returns KCR_ABI_VERSION as the (positive) ioctl return value. */
#define CKPT_IOC_VERSION _IO(CKPT_IOC_MAGIC, 0x00)

#endif /* _UAPI_LINUX_CHECKPOINT_H */
