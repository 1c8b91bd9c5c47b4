// SPDX-License-Identifier: GPL-2.0
/*
 * bench_objs READY N KIND: one process holding N objects of one kind for
 * `make bench`, which times checkpoint and restart per object:
 *	vmas	N mappings of one page each (every other page of one
 *		region made read-only, so that none merge), all touched;
 *	files	N open files: the file READY.data opened N times.
 * When they are all there it creates the file READY and sleeps in
 * pause() until killed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void vmas(long n)
{
	long page = sysconf(_SC_PAGESIZE), i;
	char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	for (i = 0; i < n; i++)
		p[i * page] = (char)(i | 1);
	for (i = 1; i < n; i += 2)
		if (mprotect(p + i * page, page, PROT_READ))
			die("mprotect");
}

static void files(long n, const char *ready)
{
	struct rlimit rl = { .rlim_cur = n + 64, .rlim_max = n + 64 };
	char path[4096];
	long i;
	int fd;

	if (snprintf(path, sizeof(path), "%s.data", ready) >= sizeof(path))
		exit(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "data", 4) != 4 || close(fd))
		die(path);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");
	for (i = 0; i < n; i++)
		if (open(path, O_RDONLY) < 0)
			die(path);
}

int main(int argc, char **argv)
{
	long n;
	int fd;

	if (argc != 4)
		return 2;
	n = atol(argv[2]);
	if (n < 1)
		return 2;
	if (!strcmp(argv[3], "vmas"))
		vmas(n);
	else if (!strcmp(argv[3], "files"))
		files(n, argv[1]);
	else
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(argv[1]);
	close(fd);
	for (;;)
		pause();
}
