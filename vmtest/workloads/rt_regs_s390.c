// SPDX-License-Identifier: GPL-2.0
/*
 * rt_regs_s390: the user registers of an s390x task survive a self
 * checkpoint and restart. Distinctive values are loaded into r0-r14 (r2-r4
 * carry the ioctl's arguments), the 32 vector registers (v0-v15 hold the
 * floating-point registers in their left halves), the floating-point
 * control register and the access registers a3-a15; the CHECKPOINT ioctl
 * is issued with an svc in the same asm block, and every register is
 * stored right after it. In the restarted process (svc returned 0) all of
 * them must hold the values of before, as must r15 (the stack pointer),
 * the thread pointer in a0/a1 and a TLS variable; clock_gettime() (vDSO)
 * must work. Usage: rt_regs_s390 IMAGE.
 *
 * Elsewhere than on s390x this is an empty program.
 */
#if defined(__s390x__)

#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include "rt.h"

#ifndef HWCAP_S390_VXRS
#define HWCAP_S390_VXRS	2048
#endif

/* The asm block's memory, addressed with larl. */
uint64_t rr_save[16];		/* the compiler's gprs */
uint64_t rr_fsave[16];		/* and fprs */
uint32_t rr_fpc_save;
uint32_t rr_asave[16];
uint64_t rr_gin[16];		/* r0-r14 to load */
uint64_t rr_gout[16];		/* r0-r15 after the svc */
unsigned char rr_vin[32][16] __attribute__((aligned(16)));
unsigned char rr_vout[32][16] __attribute__((aligned(16)));
uint32_t rr_fpc_in, rr_fpc_out;
uint32_t rr_ain[16], rr_aout[16];
int64_t rr_ret;

static __thread long tls_var = 0x7e57;

/* Rounding toward zero and the inexact flag: test_fp_ctl() accepts it. */
#define FPC_VALUE	0x00080001u

static long ioctl_in_asm(int fd, unsigned long cmd, void *arg)
{
	int i, j;

	for (i = 0; i < 16; i++)
		rr_gin[i] = 0x0123456789abcd00ull + ((uint64_t)i << 56) + i;
	rr_gin[2] = fd;
	rr_gin[3] = cmd;
	rr_gin[4] = (uintptr_t)arg;
	rr_gin[15] = 0;
	for (i = 0; i < 32; i++)
		for (j = 0; j < 16; j++)
			rr_vin[i][j] = (unsigned char)(i * 16 + j + 0x11);
	rr_fpc_in = FPC_VALUE;
	for (i = 0; i < 16; i++)
		rr_ain[i] = 0xa5000000u + i * 0x10101u;

	asm volatile(
		".machine push\n\t"
		".machine z13\n\t"
		"larl	%%r1,rr_save\n\t"
		"stmg	%%r0,%%r15,0(%%r1)\n\t"
		"larl	%%r1,rr_fsave\n\t"
		"std	%%f0,0(%%r1)\n\tstd	%%f1,8(%%r1)\n\t"
		"std	%%f2,16(%%r1)\n\tstd	%%f3,24(%%r1)\n\t"
		"std	%%f4,32(%%r1)\n\tstd	%%f5,40(%%r1)\n\t"
		"std	%%f6,48(%%r1)\n\tstd	%%f7,56(%%r1)\n\t"
		"std	%%f8,64(%%r1)\n\tstd	%%f9,72(%%r1)\n\t"
		"std	%%f10,80(%%r1)\n\tstd	%%f11,88(%%r1)\n\t"
		"std	%%f12,96(%%r1)\n\tstd	%%f13,104(%%r1)\n\t"
		"std	%%f14,112(%%r1)\n\tstd	%%f15,120(%%r1)\n\t"
		"larl	%%r1,rr_fpc_save\n\t"
		"stfpc	0(%%r1)\n\t"
		"larl	%%r1,rr_asave\n\t"
		"stam	%%a0,%%a15,0(%%r1)\n\t"
		/* The state under test. */
		"larl	%%r1,rr_vin\n\t"
		"vlm	%%v0,%%v15,0(%%r1)\n\t"
		"vlm	%%v16,%%v31,256(%%r1)\n\t"
		"larl	%%r1,rr_fpc_in\n\t"
		"lfpc	0(%%r1)\n\t"
		"larl	%%r1,rr_ain\n\t"
		"lam	%%a2,%%a15,8(%%r1)\n\t"
		"larl	%%r1,rr_gin\n\t"
		"lmg	%%r0,%%r14,0(%%r1)\n\t"
		"svc	%[nr]\n\t"
		/* The result to a2 while a base register is set up. */
		"sar	%%a2,%%r2\n\t"
		"larl	%%r2,rr_gout\n\t"
		"stmg	%%r0,%%r15,0(%%r2)\n\t"
		"larl	%%r1,rr_vout\n\t"
		"vstm	%%v0,%%v15,0(%%r1)\n\t"
		"vstm	%%v16,%%v31,256(%%r1)\n\t"
		"larl	%%r1,rr_fpc_out\n\t"
		"stfpc	0(%%r1)\n\t"
		"larl	%%r1,rr_aout\n\t"
		"stam	%%a0,%%a15,0(%%r1)\n\t"
		"ear	%%r3,%%a2\n\t"
		"lgfr	%%r3,%%r3\n\t"
		"larl	%%r1,rr_ret\n\t"
		"stg	%%r3,0(%%r1)\n\t"
		/* Back to the compiler's state. */
		"larl	%%r1,rr_asave\n\t"
		"lam	%%a2,%%a15,8(%%r1)\n\t"
		"larl	%%r1,rr_fpc_save\n\t"
		"lfpc	0(%%r1)\n\t"
		"larl	%%r1,rr_fsave\n\t"
		"ld	%%f0,0(%%r1)\n\tld	%%f1,8(%%r1)\n\t"
		"ld	%%f2,16(%%r1)\n\tld	%%f3,24(%%r1)\n\t"
		"ld	%%f4,32(%%r1)\n\tld	%%f5,40(%%r1)\n\t"
		"ld	%%f6,48(%%r1)\n\tld	%%f7,56(%%r1)\n\t"
		"ld	%%f8,64(%%r1)\n\tld	%%f9,72(%%r1)\n\t"
		"ld	%%f10,80(%%r1)\n\tld	%%f11,88(%%r1)\n\t"
		"ld	%%f12,96(%%r1)\n\tld	%%f13,104(%%r1)\n\t"
		"ld	%%f14,112(%%r1)\n\tld	%%f15,120(%%r1)\n\t"
		"larl	%%r1,rr_save\n\t"
		"lmg	%%r0,%%r15,0(%%r1)\n\t"
		".machine pop"
		: : [nr] "i" (__NR_ioctl) : "cc", "memory");
	return rr_ret;
}

/* Compare what the asm block stored with what it loaded. */
static int check_regs(const char *who)
{
	int i, bad = 0;

	for (i = 0; i <= 14; i++) {
		if (i == 2)
			continue;
		if (rr_gout[i] != rr_gin[i]) {
			rt_report("FAIL %s: r%d %#llx, want %#llx", who, i,
				  (unsigned long long)rr_gout[i],
				  (unsigned long long)rr_gin[i]);
			bad++;
		}
	}
	if (rr_gout[15] != rr_save[15]) {
		rt_report("FAIL %s: r15 %#llx, want %#llx", who,
			  (unsigned long long)rr_gout[15],
			  (unsigned long long)rr_save[15]);
		bad++;
	}
	for (i = 0; i < 32; i++) {
		if (memcmp(rr_vout[i], rr_vin[i], 16)) {
			rt_report("FAIL %s: v%d %016llx%016llx, want %016llx%016llx",
				  who, i,
				  ((unsigned long long *)rr_vout[i])[0],
				  ((unsigned long long *)rr_vout[i])[1],
				  ((unsigned long long *)rr_vin[i])[0],
				  ((unsigned long long *)rr_vin[i])[1]);
			bad++;
		}
	}
	if (rr_fpc_out != rr_fpc_in) {
		rt_report("FAIL %s: fpc %#x, want %#x", who, rr_fpc_out,
			  rr_fpc_in);
		bad++;
	}
	for (i = 0; i < 16; i++) {
		/*
		 * a0/a1: the thread pointer, which the asm did not change;
		 * a2: the svc's result, kept there while r2 was the base.
		 */
		uint32_t want = i < 2 ? rr_asave[i] : rr_ain[i];

		if (i == 2)
			want = (uint32_t)rr_ret;

		if (rr_aout[i] != want) {
			rt_report("FAIL %s: a%d %#x, want %#x", who, i,
				  rr_aout[i], want);
			bad++;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct ckpt_ioc_checkpoint arg;
	struct timespec before, after, mono;
	uint64_t tp_before, tp_after;
	long *tls_addr;
	long ret;
	int dev, bad;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (!(getauxval(AT_HWCAP) & HWCAP_S390_VXRS)) {
		errno = ENOTSUP;
		rt_die("no vector facility (HWCAP_S390_VXRS)");
	}
	tls_var = 0x5e1f;
	tls_addr = &tls_var;
	tp_before = (uintptr_t)__builtin_thread_pointer();
	if (clock_gettime(CLOCK_REALTIME, &before))
		rt_die("clock_gettime");

	/* rt_checkpoint(), with the ioctl in the asm block. */
	dev = rt_checkpoint_open(&arg);
	ret = ioctl_in_asm(dev, CKPT_IOC_CHECKPOINT, &arg);
	if (rt_checkpoint_done(dev, ret)) {
		/* The test itself: the svc kept the registers. */
		if (check_regs("before restart"))
			exit(2);
		return 0;
	}

	bad = check_regs("after restart");
	RT_CHECK(!bad, "%d registers differ", bad);
	tp_after = (uintptr_t)__builtin_thread_pointer();
	RT_CHECK(tp_after == tp_before, "thread pointer %#llx, was %#llx",
		 (unsigned long long)tp_after, (unsigned long long)tp_before);
	RT_CHECK(&tls_var == tls_addr && tls_var == 0x5e1f,
		 "TLS variable at %p is %#lx, was at %p", (void *)&tls_var,
		 tls_var, (void *)tls_addr);
	errno = 0;
	RT_CHECK(close(-1) < 0 && errno == EBADF, "errno (TLS) %d", errno);
	RT_CHECK(!clock_gettime(CLOCK_MONOTONIC, &mono),
		 "clock_gettime(MONOTONIC): %s", strerror(errno));
	RT_CHECK(!clock_gettime(CLOCK_REALTIME, &after) &&
		 (after.tv_sec > before.tv_sec ||
		  (after.tv_sec == before.tv_sec &&
		   after.tv_nsec >= before.tv_nsec)),
		 "clock_gettime(REALTIME) %lld.%09ld before %lld.%09ld",
		 (long long)after.tv_sec, after.tv_nsec,
		 (long long)before.tv_sec, before.tv_nsec);
	return rt_end();
}

#else

int main(void)
{
	return 0;
}

#endif
