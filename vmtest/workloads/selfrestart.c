// SPDX-License-Identifier: GPL-2.0
/*
 * selfrestart: RESTART_TASKSELF. This process turns into the process of
 * an image, keeping its own pid: on success the ioctl never returns here
 * and whatever the image's program does next is what this process does.
 * Usage: selfrestart IMAGE LOG. Exit status 3 and a message on stderr
 * when the restart fails (the log file has the kernel's messages).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/checkpoint.h>

int main(int argc, char **argv)
{
	struct ckpt_ioc_restart arg;
	int dev, img, log;

	if (argc < 3)
		return 2;
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	img = open(argv[1], O_RDONLY | O_CLOEXEC);
	log = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (dev < 0 || img < 0 || log < 0) {
		perror("open");
		return 2;
	}
	memset(&arg, 0, sizeof(arg));
	arg.fd = img;
	arg.logfd = log;
	arg.flags = RESTART_TASKSELF;
	ioctl(dev, CKPT_IOC_RESTART, &arg);
	fprintf(stderr, "RESTART_TASKSELF: %s\n", strerror(errno));
	return 3;
}
