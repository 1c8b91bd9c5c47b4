// SPDX-License-Identifier: GPL-2.0
/*
 * selfckpt: checkpoints itself (CKPT_IOC_CHECKPOINT with pid 0) into the
 * image file IMAGE and prints what the call returned: a positive
 * checkpoint id now, 0 once the image is restarted.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/checkpoint.h>

int main(int argc, char **argv)
{
	struct ckpt_ioc_checkpoint arg;
	int dev, img, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: selfckpt IMAGE\n");
		return 2;
	}
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR);
	img = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (dev < 0 || img < 0) {
		perror("open");
		return 1;
	}
	memset(&arg, 0, sizeof(arg));
	arg.pid = 0;
	arg.fd = img;
	arg.flags = CHECKPOINT_SUBTREE;
	arg.logfd = STDERR_FILENO;
	ret = ioctl(dev, CKPT_IOC_CHECKPOINT, &arg);
	if (ret < 0) {
		perror("checkpoint");
		return 1;
	}
	printf("checkpoint returned %d\n", ret);
	return 0;
}
