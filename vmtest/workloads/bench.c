// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the speed of checkpoint and restart against memcpy, for `make
 * bench`. For each size in MiB given: memcpy of that much into fresh
 * memory; the self checkpoint of a child holding that much (to a file in
 * /tmp, i.e. the page cache); the restart of its image (coordinator mode,
 * timed until the restored child is on its way to user mode). Each is
 * the best of ROUNDS runs; the ratios to memcpy are the figures of merit
 * (the target is at most 2).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#define ROUNDS	3
#define IMAGE	"/tmp/bench.img"
#define TIMES	"/tmp/bench.times"

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
		perror("mmap");
		exit(1);
	}
	return p;
}

static void fill(uint64_t *p, size_t size)
{
	size_t i;

	for (i = 0; i < size / 8; i++)
		p[i] = (uintptr_t)&p[i] ^ 0x5a5aa5a5c3c33c3cULL;
}

static double bench_memcpy(size_t size)
{
	uint64_t *src = fresh(size);
	double best = 1e9, t;
	int r;

	fill(src, size);
	for (r = 0; r < ROUNDS; r++) {
		void *dst = fresh(size);

		t = now();
		memcpy(dst, src, size);
		t = now() - t;
		if (t < best)
			best = t;
		munmap(dst, size);
	}
	munmap(src, size);
	return best;
}

/*
 * A child fills size bytes and checkpoints itself; it writes the time of
 * the ioctl to TIMES. Restarted, it exits at once.
 */
static double bench_checkpoint(size_t size)
{
	struct ckpt_ioc_checkpoint arg = { .flags = CHECKPOINT_SUBTREE,
					   .logfd = CHECKPOINT_FD_NONE };
	int status, dev, img, ret;
	double t;
	FILE *f;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		uint64_t *mem = fresh(size);

		fill(mem, size);
		dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR);
		img = open(IMAGE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (dev < 0 || img < 0)
			_exit(1);
		close(0);
		close(1);
		close(2);
		arg.fd = img;
		t = now();
		ret = ioctl(dev, CKPT_IOC_CHECKPOINT, &arg);
		t = now() - t;
		if (ret == 0)
			_exit(0);	/* restarted */
		f = fopen(TIMES, "w");
		if (ret < 0 || !f)
			_exit(1);
		fprintf(f, "%.9f\n", t);
		fclose(f);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || status) {
		fprintf(stderr, "bench: checkpoint child failed (%#x)\n", status);
		exit(1);
	}
	f = fopen(TIMES, "r");
	if (!f || fscanf(f, "%lf", &t) != 1) {
		fprintf(stderr, "bench: no checkpoint time\n");
		exit(1);
	}
	fclose(f);
	return t;
}

static double bench_restart(void)
{
	struct ckpt_ioc_restart arg = { .logfd = 2 };
	int status, dev, img;
	pid_t pid;
	double t;

	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR);
	img = open(IMAGE, O_RDONLY);
	if (dev < 0 || img < 0) {
		perror("bench: open");
		exit(1);
	}
	arg.fd = img;
	t = now();
	pid = ioctl(dev, CKPT_IOC_RESTART, &arg);
	t = now() - t;
	close(img);
	close(dev);
	if (pid < 0) {
		perror("bench: restart");
		exit(1);
	}
	if (waitpid(pid, &status, 0) != pid || status) {
		fprintf(stderr, "bench: restarted child ended with %#x\n", status);
		exit(1);
	}
	return t;
}

int main(int argc, char **argv)
{
	int i, r;

	printf("%8s %12s %16s %8s %16s %8s\n", "MiB", "memcpy s",
	       "checkpoint s", "ratio", "restart s", "ratio");
	for (i = 1; i < argc; i++) {
		size_t size = strtoul(argv[i], NULL, 0) << 20;
		double mc = bench_memcpy(size), ck = 1e9, rs = 1e9, t;

		for (r = 0; r < ROUNDS; r++) {
			t = bench_checkpoint(size);
			if (t < ck)
				ck = t;
			t = bench_restart();
			if (t < rs)
				rs = t;
		}
		unlink(IMAGE);
		printf("%8zu %12.4f %16.4f %8.2f %16.4f %8.2f\n", size >> 20,
		       mc, ck, ck / mc, rs, rs / mc);
		fflush(stdout);
	}
	return 0;
}
