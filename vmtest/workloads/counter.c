// SPDX-License-Identifier: GPL-2.0
/*
 * counter: the demo's program. Appends "count N pid P" to FILE five times
 * a second, counting from 1, until killed. Its state is a counter in
 * memory and the open FILE: a restart from a checkpoint goes on from the
 * number it had reached, in the same file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec tick = { .tv_nsec = 200 * 1000 * 1000 };
	unsigned long n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: counter FILE\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (n = 1; ; n++) {
		dprintf(fd, "count %lu pid %d\n", n, getpid());
		nanosleep(&tick, NULL);
	}
}
