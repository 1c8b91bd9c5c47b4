// SPDX-License-Identifier: GPL-2.0
/*
 * rt_regs_ppc: the user registers of a ppc64le task survive a self
 * checkpoint and restart. Distinctive values are loaded into the
 * non-volatile GPRs r14-r31, LR, CR1-CR7, the 64 VSX registers (vs0-vs31 are
 * the FP registers in doubleword 0 plus the VSX halves, vs32-vs63 the VMX
 * registers v0-v31), FPSCR, VSCR, VRSAVE and TAR; the CHECKPOINT ioctl is
 * issued with sc in the same asm block, and every register is stored
 * right after it. In the restarted process (sc returned 0) all of them
 * must hold the values of before, as must r1, r2 and r13 (the thread
 * pointer) and a TLS variable; clock_gettime() (vDSO) must work.
 * Usage: rt_regs_ppc IMAGE.
 *
 * Elsewhere than on ppc64le this is an empty program.
 */
#if defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)

#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include "rt.h"

/* The asm block's memory, addressed through the TOC. */
unsigned char rr_vsave[64][16] __attribute__((aligned(16)));
unsigned char rr_vin[64][16] __attribute__((aligned(16)));
unsigned char rr_vout[64][16] __attribute__((aligned(16)));
uint32_t rr_vscr_save[4] __attribute__((aligned(16)));
uint32_t rr_vscr_in[4] __attribute__((aligned(16)));
uint32_t rr_vscr_out[4] __attribute__((aligned(16)));
uint64_t rr_fpscr_save, rr_fpscr_in, rr_fpscr_out;
uint64_t rr_vrsave_save, rr_vrsave_in, rr_vrsave_out;
uint64_t rr_tar_save, rr_tar_in, rr_tar_out;
uint64_t rr_lr_in, rr_lr_out;
uint64_t rr_cr_in, rr_cr_out;
uint64_t rr_gbefore[32];	/* r1, r2, r13 before the sc */
uint64_t rr_gin[32];		/* r14-r31 to load */
uint64_t rr_gout[32];		/* r0-r31 after it (r9: scratch) */
uint64_t rr_sys[4];		/* r0 (system call number), r3-r5 */

static __thread long tls_var = 0x7e57;

#define LA(sym)	"addis 9,2," #sym "@toc@ha\n\taddi 9,9," #sym "@toc@l\n\t"
#define ALL_VSR	"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21," \
	"22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43," \
	"44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63"
#define NV_GPR	"14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"
#define STORE_VSR(sym)	LA(sym) ".irp n," ALL_VSR "\n\t"		\
	"li 10,\\n*16\n\tstxvd2x \\n,9,10\n\t.endr\n\t"
#define LOAD_VSR(sym)	LA(sym) ".irp n," ALL_VSR "\n\t"		\
	"li 10,\\n*16\n\tlxvd2x \\n,9,10\n\t.endr\n\t"

/* Rounding toward zero, all exceptions enabled (MSR FE0/FE1 off: no traps). */
#define FPSCR_VALUE	0xf9ull
/* VSCR: non-Java mode and saturation. */
#define VSCR_VALUE	0x00010001u

static long ioctl_in_asm(int fd, unsigned long cmd, void *arg)
{
	int i, j;

	for (i = 14; i < 32; i++)
		rr_gin[i] = 0x0123456789abcd00ull + ((uint64_t)i << 56) + i;
	rr_sys[0] = __NR_ioctl;
	rr_sys[1] = fd;
	rr_sys[2] = cmd;
	rr_sys[3] = (uintptr_t)arg;
	for (i = 0; i < 64; i++)
		for (j = 0; j < 16; j++)
			rr_vin[i][j] = (unsigned char)(i * 16 + j + 0x11);
	rr_fpscr_in = FPSCR_VALUE;
	for (i = 0; i < 4; i++)
		rr_vscr_in[i] = VSCR_VALUE;
	rr_vrsave_in = 0xdeadbeef;
	rr_tar_in = 0x1122334455667780ull;
	rr_lr_in = 0x0badc0de12345678ull;
	rr_cr_in = 0x02345678;	/* cr0 is the kernel's */

	asm volatile(
		STORE_VSR(rr_vsave)
		LA(rr_fpscr_save) "mffs 0\n\tstfd 0,0(9)\n\t"
		LA(rr_vscr_save) "mfvscr 0\n\tstvx 0,0,9\n\t"
		LA(rr_vrsave_save) "mfspr 10,256\n\tstd 10,0(9)\n\t"
		LA(rr_tar_save) "mfspr 10,815\n\tstd 10,0(9)\n\t"
		LA(rr_gbefore) "std 1,8(9)\n\tstd 2,16(9)\n\tstd 13,104(9)\n\t"
		/* The state under test. */
		LA(rr_fpscr_in) "lfd 0,0(9)\n\tmtfsf 0xff,0\n\t"
		LA(rr_vscr_in) "lvx 0,0,9\n\tmtvscr 0\n\t"
		LA(rr_vrsave_in) "ld 10,0(9)\n\tmtspr 256,10\n\t"
		LA(rr_tar_in) "ld 10,0(9)\n\tmtspr 815,10\n\t"
		LA(rr_lr_in) "ld 10,0(9)\n\tmtlr 10\n\t"
		LA(rr_cr_in) "ld 10,0(9)\n\tmtcrf 0xff,10\n\t"
		LOAD_VSR(rr_vin)
		LA(rr_gin) ".irp n," NV_GPR "\n\tld \\n,\\n*8(9)\n\t.endr\n\t"
		LA(rr_sys) "ld 0,0(9)\n\tld 3,8(9)\n\tld 4,16(9)\n\tld 5,24(9)\n\t"
		"sc\n\t"
		/* A system call error is a positive errno and CR0.SO. */
		"bns+ 1f\n\t"
		"neg 3,3\n"
		"1:\n\t"
		LA(rr_gout) ".irp n,0,1,2,3,4,5,6,7,8,10,11,12,13," NV_GPR "\n\t"
		"std \\n,\\n*8(9)\n\t.endr\n\t"
		LA(rr_cr_out) "mfcr 10\n\tstd 10,0(9)\n\t"
		LA(rr_lr_out) "mflr 10\n\tstd 10,0(9)\n\t"
		STORE_VSR(rr_vout)
		LA(rr_fpscr_out) "mffs 0\n\tstfd 0,0(9)\n\t"
		LA(rr_vscr_out) "mfvscr 0\n\tstvx 0,0,9\n\t"
		LA(rr_vrsave_out) "mfspr 10,256\n\tstd 10,0(9)\n\t"
		LA(rr_tar_out) "mfspr 10,815\n\tstd 10,0(9)\n\t"
		/* Back to the compiler's state. */
		LA(rr_fpscr_save) "lfd 0,0(9)\n\tmtfsf 0xff,0\n\t"
		LA(rr_vscr_save) "lvx 0,0,9\n\tmtvscr 0\n\t"
		LA(rr_vrsave_save) "ld 10,0(9)\n\tmtspr 256,10\n\t"
		LA(rr_tar_save) "ld 10,0(9)\n\tmtspr 815,10\n\t"
		LOAD_VSR(rr_vsave)
		: : : "r0", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
		  "r11", "r12", "r14", "r15", "r16", "r17", "r18", "r19",
		  "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27",
		  "r28", "r29", "r30", "r31", "lr", "ctr", "xer", "cr0",
		  "cr1", "cr2", "cr3", "cr4", "cr5", "cr6", "cr7", "memory");
	return (long)rr_gout[3];
}

static uint32_t vscr_of(const uint32_t *q)
{
	/* mfvscr leaves VSCR in one word and zeroes the others. */
	return q[0] | q[1] | q[2] | q[3];
}

/* Compare what the asm block stored with what it loaded. */
static int check_regs(const char *who)
{
	static const int same[] = { 1, 2, 13 };
	int i, bad = 0;

	for (i = 14; i < 32; i++) {
		if (rr_gout[i] != rr_gin[i]) {
			rt_report("FAIL %s: r%d %#llx, want %#llx", who, i,
				  (unsigned long long)rr_gout[i],
				  (unsigned long long)rr_gin[i]);
			bad++;
		}
	}
	for (i = 0; i < 3; i++) {
		int r = same[i];

		if (rr_gout[r] != rr_gbefore[r]) {
			rt_report("FAIL %s: r%d %#llx, was %#llx", who, r,
				  (unsigned long long)rr_gout[r],
				  (unsigned long long)rr_gbefore[r]);
			bad++;
		}
	}
	for (i = 0; i < 64; i++) {
		if (memcmp(rr_vout[i], rr_vin[i], 16)) {
			rt_report("FAIL %s: vs%d %016llx%016llx, want %016llx%016llx",
				  who, i,
				  ((unsigned long long *)rr_vout[i])[0],
				  ((unsigned long long *)rr_vout[i])[1],
				  ((unsigned long long *)rr_vin[i])[0],
				  ((unsigned long long *)rr_vin[i])[1]);
			bad++;
		}
	}
#define SAME(what, out, in) do {					\
	if ((out) != (in)) {						\
		rt_report("FAIL %s: %s %#llx, want %#llx", who, what,	\
			  (unsigned long long)(out),			\
			  (unsigned long long)(in));			\
		bad++;							\
	}								\
} while (0)
	SAME("fpscr", rr_fpscr_out, rr_fpscr_in);
	SAME("vscr", vscr_of(rr_vscr_out), VSCR_VALUE);
	SAME("vrsave", rr_vrsave_out, rr_vrsave_in);
	SAME("tar", rr_tar_out, rr_tar_in);
	SAME("lr", rr_lr_out, rr_lr_in);
	/* CR0 is volatile: the sc entry compares r0 with 0x1ebe. */
	SAME("cr1-cr7", rr_cr_out & 0x0fffffff, rr_cr_in);
	return bad;
}

int main(int argc, char **argv)
{
	struct ckpt_ioc_checkpoint arg;
	struct timespec before, after, mono;
	long *tls_addr;
	void *tp;
	long ret;
	int dev, bad;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (!(getauxval(AT_HWCAP) & PPC_FEATURE_HAS_VSX)) {
		errno = ENOTSUP;
		rt_die("no VSX (PPC_FEATURE_HAS_VSX)");
	}
	tls_var = 0x5e1f;
	tls_addr = &tls_var;
	tp = __builtin_thread_pointer();
	if (clock_gettime(CLOCK_REALTIME, &before))
		rt_die("clock_gettime");

	/* rt_checkpoint(), with the ioctl in the asm block. */
	dev = rt_checkpoint_open(&arg);
	ret = ioctl_in_asm(dev, CKPT_IOC_CHECKPOINT, &arg);
	if (rt_checkpoint_done(dev, ret)) {
		/* The test itself: the sc kept the registers. */
		if (check_regs("before restart"))
			exit(2);
		return 0;
	}

	bad = check_regs("after restart");
	RT_CHECK(!bad, "%d registers differ", bad);
	RT_CHECK(__builtin_thread_pointer() == tp,
		 "thread pointer %p, was %p", __builtin_thread_pointer(), tp);
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
