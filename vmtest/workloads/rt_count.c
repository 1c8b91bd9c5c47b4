// SPDX-License-Identifier: GPL-2.0
/*
 * rt_count: the target of the freezer tests (vmtest/guest/freezer_test.go).
 * Usage: rt_count IMAGE [MIB].
 *
 * It fills MIB MiB (default 8: an image that takes a while to stream
 * through a slow pipe) of anonymous memory with a pattern made from each
 * word's address, writes the address of its counter (hex) to IMAGE.ready,
 * and then counts in user mode, without system calls, until SIGUSR1. The
 * test reads the counter through /proc/PID/mem: while the process is
 * frozen it must not move, so a counter that moved is user code that ran.
 * After SIGUSR1 (sent to the restarted process) it checks the pattern and
 * reports "count N" and PASS or FAIL.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "rt.h"

#define PATTERN	0x6b63725f636f756eULL

static volatile uint64_t count;

int main(int argc, char **argv)
{
	struct sigaction sa;
	uint64_t *mem, bad = 0;
	size_t size, i;
	int fd;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	size = (argc > 2 ? strtoul(argv[2], NULL, 0) : 8) << 20;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		rt_die("mmap");
	for (i = 0; i < size / 8; i++)
		mem[i] = (uint64_t)(uintptr_t)&mem[i] ^ PATTERN;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rt_on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		rt_die("sigaction SIGUSR1");
	rt_stdio_null();
	fd = open(rt_path(".ready"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		rt_die("ready file");
	dprintf(fd, "%lx\n", (unsigned long)(uintptr_t)&count);
	close(fd);

	while (!rt_usr1)
		count++;

	rt_report("restarted: pid %d", getpid());
	for (i = 0; i < size / 8; i++)
		if (mem[i] != ((uint64_t)(uintptr_t)&mem[i] ^ PATTERN))
			bad++;
	RT_CHECK(!bad, "%llu of %zu words changed", (unsigned long long)bad,
		 size / 8);
	rt_report("count %llu", (unsigned long long)count);
	return rt_end();
}
