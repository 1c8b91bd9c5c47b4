// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the memory workload of `make bench` and its hardware baselines.
 *
 *	bench memcpy MIB
 *		prints "touched S fresh S rep S": the best of ROUNDS
 *		memcpy()s of MIB MiB between two buffers whose pages are
 *		all present (what copying memory costs), into a freshly
 *		mapped buffer (which also pays a page fault and a zeroed
 *		page per page, as a restart that allocates its memory
 *		does), and the touched copy done as the kernel copies.
 *	bench write MIB FILE
 *		prints "write S": the best of ROUNDS write(2)s of MIB MiB of
 *		touched memory into the new file FILE (removed after), the
 *		least that writing an image of that much memory there costs.
 *	bench hold MIB READY
 *		maps and fills MIB MiB with a pattern (0: only the program's
 *		own few pages), creates the file READY, and waits. SIGUSR1
 *		makes it check the pattern and write "ok" or "bad" to
 *		READY.check: after a checkpoint tool restored it, the bench
 *		knows that the memory came back. SIGUSR2 checks the same,
 *		then writes every word with its complement (the pattern
 *		checked from then on).
 *
 *	bench dirty MIB PERMILLE STRIDE READY
 *		as hold, but keeps writing its memory: PERMILLE thousandths
 *		of its pages per second, one word per page, each page
 *		STRIDE pages after the one before (1: in order; a stride
 *		coprime with the count of pages visits every page,
 *		scattered). A count per page, in memory of its
 *		own, says what each page holds; SIGUSR1 checks every page
 *		against it, between two writes. A pre-copy that missed a
 *		write restores a page older than its count.
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

/* Does every word hold its pattern, xor flip? */
static int check(const uint64_t *p, size_t size, uint64_t flip)
{
	size_t i;

	for (i = 0; i < size / 8; i++)
		if (p[i] != (pattern(&p[i]) ^ flip))
			return 0;
	return 1;
}

/*
 * The kernel copies pages and user buffers with string instructions
 * (x86-64: rep movsq/movsb, chosen by alternatives) where glibc's memcpy
 * uses vector loops; an emulator may run the two at very different
 * speeds, so the kernel's way is measured too. Elsewhere it is memcpy.
 */
static void kernel_style_copy(void *dst, const void *src, size_t size)
{
#ifdef __x86_64__
	size_t n = size / 8;

	asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
	memcpy(dst, src, size);
#endif
}

static int bench_memcpy(size_t size)
{
	uint64_t *src = fresh(size), *dst = fresh(size);
	double touched = 1e9, cold = 1e9, rep = 1e9, t;
	int r;

	fill(src, size);
	memset(dst, 1, size);
	for (r = 0; r < ROUNDS; r++) {
		t = now();
		memcpy(dst, src, size);
		t = now() - t;
		if (t < touched)
			touched = t;
		t = now();
		kernel_style_copy(dst, src, size);
		t = now() - t;
		if (t < rep)
			rep = t;
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
	printf("touched %.9f fresh %.9f rep %.9f\n", touched, cold, rep);
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
	asked = sig;
}

/* Write "ok" or "bad" to path. */
static int answer(const char *path, int ok)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return 1;
	if (write(fd, ok ? "ok" : "bad", ok ? 2 : 3) != (ok ? 2 : 3))
		return 1;
	return close(fd);
}

/*
 * Take SIGUSR1 as "check", make check the path of the answer, and create
 * the file ready: the holder is set up.
 */
static int announce(const char *ready, char *check, size_t len)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	int fd;

	if (sigaction(SIGUSR1, &sa, NULL) ||
	    snprintf(check, len, "%s.check", ready) >= len)
		return 1;
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 1;
	return close(fd);
}

static int hold(size_t size, const char *ready)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t *mem = size ? fresh(size) : NULL;
	uint64_t flip = 0;
	char path[4096];
	size_t i;
	int ok;

	if (mem)
		fill(mem, size);
	if (announce(ready, path, sizeof(path)) ||
	    sigaction(SIGUSR2, &sa, NULL))
		return 1;
	for (;;) {
		pause();
		if (!asked)
			continue;
		ok = check(mem, size, flip);
		/* SIGUSR2: and write every word anew, the complement. */
		if (asked == SIGUSR2) {
			flip = ~flip;
			for (i = 0; i < size / 8; i++)
				mem[i] = pattern(&mem[i]) ^ flip;
		}
		asked = 0;
		if (answer(path, ok))
			return 1;
	}
}

static int dirty_check(const uint64_t *mem, const uint32_t *gens,
		       size_t pages)
{
	size_t per = sysconf(_SC_PAGESIZE) / 8, i, j;

	for (i = 0; i < pages; i++) {
		const uint64_t *pg = mem + i * per;

		if (pg[0] != pattern(&pg[0]) + gens[i])
			return 0;
		for (j = 1; j < per; j++)
			if (pg[j] != pattern(&pg[j]))
				return 0;
	}
	return 1;
}

static int dirty(size_t size, unsigned long permille, size_t stride,
		 const char *ready)
{
	size_t per = sysconf(_SC_PAGESIZE) / 8, pages, next = 0, done = 0;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	uint64_t *mem = fresh(size);
	uint32_t *gens;
	char path[4096];
	double start;

	pages = size / (per * 8);
	gens = fresh((pages * sizeof(*gens) + 4095) & ~4095UL);
	fill(mem, size);
	if (announce(ready, path, sizeof(path)))
		return 1;
	start = now();
	for (;;) {
		size_t want = (now() - start) * pages * permille / 1000;

		if (asked) {
			asked = 0;
			if (answer(path, dirty_check(mem, gens, pages)))
				return 1;
		}
		for (; done < want; done++) {
			uint64_t *pg = mem + next * per;

			gens[next]++;
			pg[0] = pattern(&pg[0]) + gens[next];
			next = (next + stride) % pages;
		}
		nanosleep(&tick, NULL);
	}
}

int main(int argc, char **argv)
{
	size_t size;

	/* The cost of starting any program: the floor under a command's. */
	if (argc == 2 && !strcmp(argv[1], "exit"))
		return 0;
	if (argc < 3) {
		fprintf(stderr, "usage: bench memcpy MIB | bench write MIB FILE | bench hold MIB READY | bench dirty MIB PERMILLE STRIDE READY | bench exit\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 0) << 20;
	if (!strcmp(argv[1], "memcpy") && size)
		return bench_memcpy(size);
	if (!strcmp(argv[1], "write") && size && argc == 4)
		return bench_write(size, argv[3]);
	if (!strcmp(argv[1], "hold") && argc == 4)
		return hold(size, argv[3]);
	if (!strcmp(argv[1], "dirty") && size && argc == 6)
		return dirty(size, strtoul(argv[3], NULL, 0),
			     strtoul(argv[4], NULL, 0), argv[5]);
	fprintf(stderr, "bench: bad arguments\n");
	return 2;
}
