// SPDX-License-Identifier: GPL-2.0
/*
 * rt_rseq: glibc's rseq registration survives a self checkpoint and
 * restart. The restarted process is registered with the same area,
 * length and signature (a second rseq() with them is EBUSY), and the
 * kernel writes the CPU it runs on into the area again (its cpu_id is
 * set to a value the kernel never writes just before the checkpoint, and
 * again before a signal is delivered).
 * Usage: rt_rseq IMAGE.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#include "rt.h"

#define RSEQ_LEN	32	/* sizeof(struct rseq) for the kernel */
#define STALE_CPU	((uint32_t)-77)

/* glibc's area: the thread pointer + __rseq_offset. */
static struct rseq *rseq_area(void)
{
	char *tp;

#ifdef __powerpc64__
	/* GCC has no __builtin_thread_pointer() there: r13 is the pointer. */
	__asm__ ("mr %0, 13" : "=r" (tp));
#else
	tp = __builtin_thread_pointer();
#endif
	return (struct rseq *)(tp + __rseq_offset);
}

/* rseq() registering area again: -1 and errno. */
static long rseq_again(struct rseq *area)
{
	return syscall(SYS_rseq, area, RSEQ_LEN, 0, RSEQ_SIG);
}

static int getcpu_syscall(void)
{
	unsigned int cpu = ~0U;

	if (syscall(SYS_getcpu, &cpu, NULL, NULL))
		return -1;
	return cpu;
}

static void on_usr2(int sig)
{
	(void)sig;
}

/*
 * rt_checkpoint(), with the area's CPU numbers made stale right before
 * the ioctl: the kernel rewrites them on a return to user mode after a
 * context switch, which any of rt_checkpoint()'s other system calls may
 * have. The image then holds the stale numbers, and only a registration
 * that the restart made live again writes real ones.
 */
static int rseq_checkpoint(struct rseq *area)
{
	struct ckpt_ioc_checkpoint arg;
	int dev, ret;

	dev = rt_checkpoint_open(&arg);
	area->cpu_id_start = STALE_CPU;
	area->cpu_id = STALE_CPU;
	ret = ioctl(dev, CKPT_IOC_CHECKPOINT, &arg);
	return rt_checkpoint_done(dev, ret < 0 ? -errno : ret);
}

int main(int argc, char **argv)
{
	struct rseq *area;
	int cpu, sys = -1, glibc = -1, i;
	int32_t start;
	long r;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (!__rseq_size) {
		errno = ENOSYS;
		rt_die("glibc did not register rseq");
	}
	area = rseq_area();
	errno = 0;
	if (rseq_again(area) != -1 || errno != EBUSY) {
		if (!errno)
			errno = EINVAL;
		rt_die("rseq registered twice");
	}
	if (signal(SIGUSR2, on_usr2) == SIG_ERR)
		rt_die("signal");

	if (rseq_checkpoint(area))
		return 0;

	cpu = (int32_t)area->cpu_id;
	start = (int32_t)area->cpu_id_start;
	RT_CHECK(cpu >= 0 && start >= 0,
		 "rseq cpu_id %d cpu_id_start %d after the restart", cpu, start);
	errno = 0;
	r = rseq_again(area);
	RT_CHECK(r == -1 && errno == EBUSY,
		 "rseq(%p, %d, 0, %#x) again: %ld (%s), want EBUSY",
		 (void *)area, RSEQ_LEN, RSEQ_SIG, r, strerror(errno));
	/* The kernel rewrites them when it delivers a signal. */
	area->cpu_id = STALE_CPU;
	raise(SIGUSR2);
	cpu = (int32_t)area->cpu_id;
	RT_CHECK(cpu >= 0, "rseq cpu_id %d after a signal", cpu);
	/* Compare in a window without a migration. */
	for (i = 0; i < 100; i++) {
		sched_yield();
		cpu = (int32_t)area->cpu_id;
		sys = getcpu_syscall();
		glibc = sched_getcpu();
		if (cpu == sys && glibc == sys && (int32_t)area->cpu_id == cpu)
			break;
	}
	RT_CHECK(cpu >= 0 && cpu == sys && glibc == sys,
		 "rseq cpu_id %d, getcpu() %d, sched_getcpu() %d", cpu, sys,
		 glibc);
	rt_report("rseq area %p cpu %d", (void *)area, cpu);
	return rt_end();
}
