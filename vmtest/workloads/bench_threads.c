// SPDX-License-Identifier: GPL-2.0
/*
 * bench_threads READY N: one process of N threads for `make bench`. The
 * main thread starts N - 1 others; each touches a few pages of its own
 * stack, then sleeps in pause() until killed. When all are up, the main
 * thread creates the file READY.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGES	4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t up = PTHREAD_COND_INITIALIZER;
static int started;

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err));
	exit(2);
}

static void *thread(void *arg)
{
	volatile char mem[PAGES * 4096];

	memset((char *)mem, (int)(long)arg, sizeof(mem));
	pthread_mutex_lock(&lock);
	started++;
	pthread_cond_signal(&up);
	pthread_mutex_unlock(&lock);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t t;
	int n, i, fd, err;

	if (argc != 3)
		return 2;
	n = atoi(argv[2]);
	if (n < 1)
		return 2;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 1; i < n; i++) {
		err = pthread_create(&t, &attr, thread, (void *)(long)i);
		if (err)
			die("pthread_create", err);
	}
	pthread_mutex_lock(&lock);
	while (started < n - 1)
		pthread_cond_wait(&up, &lock);
	pthread_mutex_unlock(&lock);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(argv[1], 0);
	close(fd);
	for (;;)
		pause();
}
