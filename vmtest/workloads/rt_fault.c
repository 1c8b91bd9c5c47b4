// SPDX-License-Identifier: GPL-2.0
/*
 * rt_fault: the target of the fault tests (vmtest/guest/faults_test.go).
 * Usage: rt_fault IMAGE [MIB].
 *
 * It fills MIB MiB (default 4: more than any pipe buffer, even with 64
 * KiB pages) of anonymous memory with a pattern made from each word's
 * address, counts the SIGUSR2s it gets (the handler also writes
 * "changed N" to the report: a change of state the test can wait for),
 * and waits in rt_external(). After SIGUSR1 (the original thawed after a
 * failed checkpoint, or the restarted process) it checks the pattern and
 * reports "changes N" and PASS or FAIL.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "rt.h"

#define PATTERN	0x6b63725f6661756cULL

static volatile sig_atomic_t changes;

static void on_usr2(int sig)
{
	char msg[] = "changed 0\n";

	(void)sig;
	changes++;
	msg[8] = '0' + changes % 10;
	if (write(RT_REPORT_FD, msg, sizeof(msg) - 1) < 0)
		changes += 100;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	uint64_t *mem, bad = 0;
	size_t size, i;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	size = (argc > 2 ? strtoul(argv[2], NULL, 0) : 4) << 20;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		rt_die("mmap");
	for (i = 0; i < size / 8; i++)
		mem[i] = (uint64_t)(uintptr_t)&mem[i] ^ PATTERN;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		rt_die("sigaction SIGUSR2");

	rt_external();

	for (i = 0; i < size / 8; i++)
		if (mem[i] != ((uint64_t)(uintptr_t)&mem[i] ^ PATTERN))
			bad++;
	RT_CHECK(!bad, "%llu of %zu words changed", (unsigned long long)bad,
		 size / 8);
	rt_report("changes %d", (int)changes);
	return rt_end();
}
