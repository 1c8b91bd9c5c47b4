// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the memory workload of `make bench` and its hardware baselines.
 *
 *	bench memcpy MIB
 *		prints "touched S fresh S": the best of ROUNDS memcpy()s of
 *		MIB MiB between two buffers whose pages are all present
 *		(what copying memory costs), and into a freshly mapped
 *		buffer (which also pays a page fault and a zeroed page per
 *		page, as a restart that allocates its memory does).
 *	bench write MIB FILE
 *		prints "write S": the best of ROUNDS write(2)s of MIB MiB of
 *		touched memory into the new file FILE (removed after), the
 *		least that writing an image of that much memory there costs.
 *	bench hold MIB READY
 *		maps and fills MIB MiB with a pattern (0: only the program's
 *		own few pages), creates the file READY, and waits. SIGUSR1
 *		makes it check the pattern and write "ok" or "bad" to
 *		READY.check: after a checkpoint tool restored it, the bench
 *		knows that the memory came back.
 *
 * The holder knows nothing of kcr or CRIU: both freeze and restore it
 * from outside.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS	3

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *fresh(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	return p;
}

/* Every word differs from its neighbours and from zero. */
static uint64_t pattern(const uint64_t *p)
{
	return (uintptr_t)p ^ 0x5a5aa5a5c3c33c3cULL;
}

static void fill(uint64_t *p, size_t size)
{
	size_t i;

	for (i = 0; i < size / 8; i++)
		p[i] = pattern(&p[i]);
}

static int check(const uint64_t *p, size_t size)
{
	size_t i;

	for (i = 0; i < size / 8; i++)
		if (p[i] != pattern(&p[i]))
			return 0;
	return 1;
}

static int bench_memcpy(size_t size)
{
	uint64_t *src = fresh(size), *dst = fresh(size);
	double touched = 1e9, cold = 1e9, t;
	int r;

	fill(src, size);
	memset(dst, 1, size);
	for (r = 0; r < ROUNDS; r++) {
		t = now();
		memcpy(dst, src, size);
		t = now() - t;
		if (t < touched)
			touched = t;
	}
	munmap(dst, size);
	for (r = 0; r < ROUNDS; r++) {
		dst = fresh(size);
		t = now();
		memcpy(dst, src, size);
		t = now() - t;
		if (t < cold)
			cold = t;
		munmap(dst, size);
	}
	/* The copies must not be optimised away. */
	if (size && ((uint64_t *)src)[size / 8 - 1] == 0)
		return 1;
	printf("touched %.9f fresh %.9f\n", touched, cold);
	return 0;
}

static int bench_write(size_t size, const char *path)
{
	uint64_t *src = fresh(size);
	double best = 1e9, t;
	size_t done;
	ssize_t n;
	int r, fd;

	fill(src, size);
	for (r = 0; r < ROUNDS; r++) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0) {
			perror("bench: open");
			return 1;
		}
		t = now();
		for (done = 0; done < size; done += n) {
			n = write(fd, (char *)src + done, size - done);
			if (n <= 0) {
				perror("bench: write");
				return 1;
			}
		}
		t = now() - t;
		close(fd);
		unlink(path);
		if (t < best)
			best = t;
	}
	printf("write %.9f\n", best);
	return 0;
}

static volatile sig_atomic_t asked;

static void on_usr1(int sig)
{
	asked = 1;
}

static int hold(size_t size, const char *ready)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t *mem = size ? fresh(size) : NULL;
	char path[4096];
	int fd;

	if (mem)
		fill(mem, size);
	if (sigaction(SIGUSR1, &sa, NULL) ||
	    snprintf(path, sizeof(path), "%s.check", ready) >= sizeof(path))
		return 1;
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	close(fd);
	for (;;) {
		pause();
		if (!asked)
			continue;
		asked = 0;
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return 1;
		if (write(fd, check(mem, size) ? "ok" : "bad", 2) != 2)
			return 1;
		close(fd);
	}
}

int main(int argc, char **argv)
{
	size_t size;

	if (argc < 3) {
		fprintf(stderr, "usage: bench memcpy MIB | bench write MIB FILE | bench hold MIB READY\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 0) << 20;
	if (!strcmp(argv[1], "memcpy") && size)
		return bench_memcpy(size);
	if (!strcmp(argv[1], "write") && size && argc == 4)
		return bench_write(size, argv[3]);
	if (!strcmp(argv[1], "hold") && argc == 4)
		return hold(size, argv[3]);
	fprintf(stderr, "bench: bad arguments\n");
	return 2;
}
