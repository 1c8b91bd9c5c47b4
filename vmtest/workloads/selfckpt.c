// SPDX-License-Identifier: GPL-2.0
/*
 * selfckpt: checkpoints itself (CKPT_IOC_CHECKPOINT with pid 0) into the
 * image file IMAGE, messages to LOG, and writes what the call returned to
 * RESULT: a positive checkpoint id now, 0 once the image is restarted.
 * Its stdio points at /dev/null during the checkpoint: the caller's pipes
 * are not state under test. RESULT is opened O_APPEND: the original and
 * the restarted process both write to it, which a restart accepts only of
 * a write-only append file (its size and mtime are not compared).
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
	struct ckpt_ioc_checkpoint arg;
	int dev, img, log, res, null, ret;

	if (argc < 4) {
		fprintf(stderr, "usage: selfckpt IMAGE LOG RESULT\n");
		return 2;
	}
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR);
	img = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	log = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	res = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	null = open("/dev/null", O_RDWR);
	if (dev < 0 || img < 0 || log < 0 || res < 0 || null < 0) {
		perror("open");
		return 1;
	}
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		return 1;
	memset(&arg, 0, sizeof(arg));
	arg.pid = 0;
	arg.fd = img;
	arg.flags = CHECKPOINT_SUBTREE;
	arg.logfd = log;
	ret = ioctl(dev, CKPT_IOC_CHECKPOINT, &arg);
	dprintf(res, "checkpoint returned %d errno %d\n", ret,
		ret < 0 ? errno : 0);
	return ret < 0;
}
