// SPDX-License-Identifier: GPL-2.0
/*
 * bench_tree READY N: a tree of N small processes for `make bench`.
 * Process i (the root is 0) forks processes 8i+1 .. 8i+8 that are below
 * N, so the tree is about log8(N) levels deep. Each process touches a
 * few pages of its own, then sleeps in pause() until killed. When all N
 * are up, the root creates the file READY. Readiness travels over a
 * pipe that every process closes before it sleeps (pipes are not
 * checkpointed).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FANOUT	8
#define PAGES	4

static char mem[PAGES * 4096];

static void die(const char *what)
{
	perror(what);
	exit(2);
}

int main(int argc, char **argv)
{
	int ready[2], n, me = 0, i;
	char c = 'r';

	if (argc != 3)
		return 2;
	n = atoi(argv[2]);
	if (n < 1)
		return 2;
	if (pipe(ready) < 0)
		die("pipe");
again:
	for (i = FANOUT * me + 1; i <= FANOUT * me + FANOUT && i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			me = i;
			goto again;
		}
	}
	memset(mem, me, sizeof(mem));
	if (me) {
		if (write(ready[1], &c, 1) != 1)
			die("ready write");
		close(ready[0]);
		close(ready[1]);
	} else {
		/*
		 * n - 1 bytes and the end of file: every process has closed
		 * the pipe, which the checkpoint would refuse.
		 */
		close(ready[1]);
		for (i = 0; read(ready[0], &c, 1) == 1; i++)
			;
		if (i != n - 1)
			die("ready read");
		close(ready[0]);
	}
	if (!me) {
		int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0)
			die(argv[1]);
		close(fd);
	}
	for (;;)
		pause();
}
