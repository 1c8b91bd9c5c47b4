// SPDX-License-Identifier: GPL-2.0
/*
 * pattern: a process with known state for the checkpoint tests.
 *
 * It maps MIB MiB of anonymous memory and fills every 64-bit word with its
 * own address xor a constant, opens FILE and leaves its offset at 1234,
 * prints "ready ADDR SIZE FD", points its stdio at /dev/null and then
 * sleeps until killed. A checkpoint
 * image of it must hold exactly that memory and that file offset.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_XOR 0x5a5aa5a5c3c33c3cULL

int main(int argc, char **argv)
{
	size_t size = (argc > 1 ? strtoul(argv[1], NULL, 0) : 8) << 20;
	const char *path = argc > 2 ? argv[2] : "/tmp/kcr-pattern.dat";
	uint64_t *mem;
	size_t i;
	int fd, null;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < size / 8; i++)
		mem[i] = (uint64_t)(uintptr_t)&mem[i] ^ PATTERN_XOR;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 4096) || lseek(fd, 1234, SEEK_SET) != 1234) {
		perror(path);
		return 1;
	}
	printf("ready %#lx %zu %d\n", (unsigned long)(uintptr_t)mem, size, fd);
	fflush(stdout);
	/* The test's pipe is not part of the state under test. */
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0)
		return 1;
	close(null);
	for (;;) {
		struct timespec ts = { .tv_sec = 1 };

		nanosleep(&ts, NULL);
	}
}
