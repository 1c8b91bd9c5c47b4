// SPDX-License-Identifier: GPL-2.0
/*
 * rt_spin: a process checkpointed while it computes in user mode, with no
 * system call in its loop, so that the freezer stops it in user code (an
 * interrupt, not a system call): the round trip must bring it back in the
 * middle of its loop with every register it computes in.
 *
 * Usage: rt_spin IMAGE MODE SECONDS. MODE says where the loop's state
 * lives:
 *   int  eight 64-bit integers in general registers (C, -O2);
 *   fp   eight doubles of a chaotic map (logistic, r = 3.99) and their
 *        sum in floating-point registers, rounding toward zero: a lost
 *        rounding mode or one changed bit diverges within iterations;
 *   vec  the vector registers, from assembly: x86 ymm0-13 (xmm0-13
 *        without AVX2), s390 v0-v31 (so the fprs), ppc64le vs0-vs63 (the
 *        FPRs, VSX and VMX registers).
 * First the loop runs for SECONDS to count how many iterations that is
 * (N) and what the state is after N of them: the expected result, made
 * before any checkpoint. Then IMAGE.ready is created and the loop runs N
 * iterations again from the same start, as one call; the test freezes and
 * checkpoints the process in there, and restarts it (maybe twice). At the
 * end the state must be exactly the expected one; the report says so, and
 * "done: pid P".
 */
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include "rt.h"

/* The state: the largest is ppc64le's 64 16-byte registers. */
struct spin_state {
	unsigned char b[64][32] __attribute__((aligned(32)));
};

typedef void (*spin_fn)(struct spin_state *s, uint64_t n);

static void __attribute__((noinline)) spin_int(struct spin_state *st,
					       uint64_t n)
{
	uint64_t *s = (uint64_t *)st->b;
	uint64_t a = s[0], b = s[1], c = s[2], d = s[3];
	uint64_t e = s[4], f = s[5], g = s[6], h = s[7];

	while (n--) {
		a = a * 6364136223846793005ull + 1442695040888963407ull;
		b ^= b << 13;
		b ^= b >> 7;
		b ^= b << 17;
		c += a ^ (b >> 3);
		d = ((d << 9) | (d >> 55)) + c;
		e ^= d * 0x9e3779b97f4a7c15ull;
		f += (e >> 11) | 1;
		g = g * f + a;
		h += g ^ b;
	}
	s[0] = a; s[1] = b; s[2] = c; s[3] = d;
	s[4] = e; s[5] = f; s[6] = g; s[7] = h;
}

static void __attribute__((noinline)) spin_fp(struct spin_state *st,
					      uint64_t n)
{
	double *s = (double *)st->b;
	double a = s[0], b = s[1], c = s[2], d = s[3];
	double e = s[4], f = s[5], g = s[6], h = s[7], sum = s[8];

	while (n--) {
		a = 3.99 * a * (1.0 - a);
		b = 3.99 * b * (1.0 - b);
		c = 3.99 * c * (1.0 - c);
		d = 3.99 * d * (1.0 - d);
		e = 3.99 * e * (1.0 - e);
		f = 3.99 * f * (1.0 - f);
		g = 3.99 * g * (1.0 - g);
		h = 3.99 * h * (1.0 - h);
		sum += a + b + c + d + e + f + g + h;
	}
	s[0] = a; s[1] = b; s[2] = c; s[3] = d;
	s[4] = e; s[5] = f; s[6] = g; s[7] = h; s[8] = sum;
}

/*
 * The vector loops: pairs of registers (x, y) become x += y,
 * y = rotl(y, 13) ^ x in each 64-bit element, all state in registers
 * from the first iteration to the last. n must not be 0.
 */
#if defined(__x86_64__)

#include <cpuid.h>

static int has_avx2(void)
{
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) ||
	    !(c & bit_AVX) || !(c & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	if ((lo & 6) != 6)
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return !!(b & bit_AVX2);
}

#define X_PAIR(x, y)						\
	"paddq %%xmm" #y ", %%xmm" #x "\n\t"			\
	"movdqa %%xmm" #y ", %%xmm14\n\t"			\
	"psllq $13, %%xmm14\n\t"				\
	"psrlq $51, %%xmm" #y "\n\t"				\
	"por %%xmm14, %%xmm" #y "\n\t"				\
	"pxor %%xmm" #x ", %%xmm" #y "\n\t"
#define Y_PAIR(x, y)						\
	"vpaddq %%ymm" #y ", %%ymm" #x ", %%ymm" #x "\n\t"	\
	"vpsllq $13, %%ymm" #y ", %%ymm14\n\t"			\
	"vpsrlq $51, %%ymm" #y ", %%ymm" #y "\n\t"		\
	"vpor %%ymm14, %%ymm" #y ", %%ymm" #y "\n\t"		\
	"vpxor %%ymm" #x ", %%ymm" #y ", %%ymm" #y "\n\t"
#define X_ALL(m, r)						\
	m " 0*" r "(%[s]), %%xmm0\n\t" m " 1*" r "(%[s]), %%xmm1\n\t"	\
	m " 2*" r "(%[s]), %%xmm2\n\t" m " 3*" r "(%[s]), %%xmm3\n\t"	\
	m " 4*" r "(%[s]), %%xmm4\n\t" m " 5*" r "(%[s]), %%xmm5\n\t"	\
	m " 6*" r "(%[s]), %%xmm6\n\t" m " 7*" r "(%[s]), %%xmm7\n\t"	\
	m " 8*" r "(%[s]), %%xmm8\n\t" m " 9*" r "(%[s]), %%xmm9\n\t"	\
	m " 10*" r "(%[s]), %%xmm10\n\t" m " 11*" r "(%[s]), %%xmm11\n\t" \
	m " 12*" r "(%[s]), %%xmm12\n\t" m " 13*" r "(%[s]), %%xmm13\n\t"
#define X_STORE(m, r)						\
	m " %%xmm0, 0*" r "(%[s])\n\t" m " %%xmm1, 1*" r "(%[s])\n\t"	\
	m " %%xmm2, 2*" r "(%[s])\n\t" m " %%xmm3, 3*" r "(%[s])\n\t"	\
	m " %%xmm4, 4*" r "(%[s])\n\t" m " %%xmm5, 5*" r "(%[s])\n\t"	\
	m " %%xmm6, 6*" r "(%[s])\n\t" m " %%xmm7, 7*" r "(%[s])\n\t"	\
	m " %%xmm8, 8*" r "(%[s])\n\t" m " %%xmm9, 9*" r "(%[s])\n\t"	\
	m " %%xmm10, 10*" r "(%[s])\n\t" m " %%xmm11, 11*" r "(%[s])\n\t" \
	m " %%xmm12, 12*" r "(%[s])\n\t" m " %%xmm13, 13*" r "(%[s])\n\t"
#define Y_ALL(m)						\
	m " 0*32(%[s]), %%ymm0\n\t" m " 1*32(%[s]), %%ymm1\n\t"	\
	m " 2*32(%[s]), %%ymm2\n\t" m " 3*32(%[s]), %%ymm3\n\t"	\
	m " 4*32(%[s]), %%ymm4\n\t" m " 5*32(%[s]), %%ymm5\n\t"	\
	m " 6*32(%[s]), %%ymm6\n\t" m " 7*32(%[s]), %%ymm7\n\t"	\
	m " 8*32(%[s]), %%ymm8\n\t" m " 9*32(%[s]), %%ymm9\n\t"	\
	m " 10*32(%[s]), %%ymm10\n\t" m " 11*32(%[s]), %%ymm11\n\t"	\
	m " 12*32(%[s]), %%ymm12\n\t" m " 13*32(%[s]), %%ymm13\n\t"
#define Y_STORE(m)						\
	m " %%ymm0, 0*32(%[s])\n\t" m " %%ymm1, 1*32(%[s])\n\t"	\
	m " %%ymm2, 2*32(%[s])\n\t" m " %%ymm3, 3*32(%[s])\n\t"	\
	m " %%ymm4, 4*32(%[s])\n\t" m " %%ymm5, 5*32(%[s])\n\t"	\
	m " %%ymm6, 6*32(%[s])\n\t" m " %%ymm7, 7*32(%[s])\n\t"	\
	m " %%ymm8, 8*32(%[s])\n\t" m " %%ymm9, 9*32(%[s])\n\t"	\
	m " %%ymm10, 10*32(%[s])\n\t" m " %%ymm11, 11*32(%[s])\n\t"	\
	m " %%ymm12, 12*32(%[s])\n\t" m " %%ymm13, 13*32(%[s])\n\t"
#define VEC_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",	\
	"xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",	\
	"xmm13", "xmm14", "xmm15", "cc", "memory"

static void __attribute__((noinline)) spin_sse(struct spin_state *s,
					       uint64_t n)
{
	__asm__ volatile(
		X_ALL("movdqa", "32")
		"1:\n\t"
		X_PAIR(0, 7) X_PAIR(1, 8) X_PAIR(2, 9) X_PAIR(3, 10)
		X_PAIR(4, 11) X_PAIR(5, 12) X_PAIR(6, 13)
		"dec %[n]\n\t"
		"jnz 1b\n\t"
		X_STORE("movdqa", "32")
		: [n] "+r" (n) : [s] "r" (s->b) : VEC_CLOBBERS);
}

static void __attribute__((noinline, target("avx2")))
spin_avx2(struct spin_state *s, uint64_t n)
{
	__asm__ volatile(
		Y_ALL("vmovdqa")
		"1:\n\t"
		Y_PAIR(0, 7) Y_PAIR(1, 8) Y_PAIR(2, 9) Y_PAIR(3, 10)
		Y_PAIR(4, 11) Y_PAIR(5, 12) Y_PAIR(6, 13)
		"dec %[n]\n\t"
		"jnz 1b\n\t"
		Y_STORE("vmovdqa")
		"vzeroupper\n\t"
		: [n] "+r" (n) : [s] "r" (s->b) : VEC_CLOBBERS);
}

static spin_fn vec_fn(const char **what)
{
	if (has_avx2()) {
		*what = "ymm0-ymm13";
		return spin_avx2;
	}
	*what = "xmm0-xmm13";
	return spin_sse;
}

#elif defined(__s390x__)

#ifndef HWCAP_S390_VXRS
#define HWCAP_S390_VXRS	2048
#endif

/*
 * spin_vx(state r2, n r3, save r4): f8-f15 (the left halves of v8-v15)
 * are callee-saved; v0-v31 are the 16 pairs (v0, v16) ... (v15, v31).
 */
void spin_vx(struct spin_state *s, uint64_t n, uint64_t *save);
__asm__(
"	.text\n"
"	.globl	spin_vx\n"
"	.type	spin_vx, @function\n"
"spin_vx:\n"
"	.machine push\n"
"	.machine z13\n"
"	std	%f8,0(%r4)\n	std	%f9,8(%r4)\n"
"	std	%f10,16(%r4)\n	std	%f11,24(%r4)\n"
"	std	%f12,32(%r4)\n	std	%f13,40(%r4)\n"
"	std	%f14,48(%r4)\n	std	%f15,56(%r4)\n"
"	vlm	%v0,%v15,0(%r2)\n"
"	vlm	%v16,%v31,256(%r2)\n"
"1:\n"
"	.irp	x,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"	vag	\\x,\\x,\\x+16\n"
"	verllg	\\x+16,\\x+16,13\n"
"	vx	\\x+16,\\x+16,\\x\n"
"	.endr\n"
"	brctg	%r3,1b\n"
"	vstm	%v0,%v15,0(%r2)\n"
"	vstm	%v16,%v31,256(%r2)\n"
"	ld	%f8,0(%r4)\n	ld	%f9,8(%r4)\n"
"	ld	%f10,16(%r4)\n	ld	%f11,24(%r4)\n"
"	ld	%f12,32(%r4)\n	ld	%f13,40(%r4)\n"
"	ld	%f14,48(%r4)\n	ld	%f15,56(%r4)\n"
"	.machine pop\n"
"	br	%r14\n"
"	.size	spin_vx, .-spin_vx\n"
);

static void spin_s390(struct spin_state *s, uint64_t n)
{
	uint64_t save[8];

	spin_vx(s, n, save);
}

static spin_fn vec_fn(const char **what)
{
	*what = "v0-v31";
	if (!(getauxval(AT_HWCAP) & HWCAP_S390_VXRS))
		return NULL;
	return spin_s390;
}

#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)

/*
 * spin_vsx(state r3, n r4, save r5): the non-volatile vs14-vs31 (f14-f31)
 * and vs52-vs63 (v20-v31) are saved. VMX pairs (v0, v15) ... (v14, v29),
 * v30 holds the rotate counts (13); vs0-vs31 become
 * rotate_words(vs ^ vs+32).
 */
void spin_vsx(struct spin_state *s, uint64_t n, unsigned char *save);
__asm__(
"	.text\n"
"	.globl	spin_vsx\n"
"	.type	spin_vsx, @function\n"
"spin_vsx:\n"
"	.machine push\n"
"	.machine power8\n"
"	.irp	k,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"	li	10,(\\k-14)*16\n"
"	stxvd2x	\\k,5,10\n"
"	.endr\n"
"	.irp	k,52,53,54,55,56,57,58,59,60,61,62,63\n"
"	li	10,(\\k-34)*16\n"
"	stxvd2x	\\k,5,10\n"
"	.endr\n"
"	.irp	k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63\n"
"	li	10,\\k*32\n"
"	lxvd2x	\\k,3,10\n"
"	.endr\n"
"	mtctr	4\n"
"1:\n"
"	.irp	x,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"
"	vaddudm	\\x,\\x,\\x+15\n"
"	vrld	\\x+15,\\x+15,30\n"
"	vxor	\\x+15,\\x+15,\\x\n"
"	.endr\n"
"	.irp	k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"	xxlxor	\\k,\\k,\\k+32\n"
"	xxsldwi	\\k,\\k,\\k,1\n"
"	.endr\n"
"	bdnz	1b\n"
"	.irp	k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63\n"
"	li	10,\\k*32\n"
"	stxvd2x	\\k,3,10\n"
"	.endr\n"
"	.irp	k,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"	li	10,(\\k-14)*16\n"
"	lxvd2x	\\k,5,10\n"
"	.endr\n"
"	.irp	k,52,53,54,55,56,57,58,59,60,61,62,63\n"
"	li	10,(\\k-34)*16\n"
"	lxvd2x	\\k,5,10\n"
"	.endr\n"
"	.machine pop\n"
"	blr\n"
"	.size	spin_vsx, .-spin_vsx\n"
);

static void spin_ppc(struct spin_state *s, uint64_t n)
{
	unsigned char save[30][16] __attribute__((aligned(16)));

	spin_vsx(s, n, &save[0][0]);
}

static spin_fn vec_fn(const char **what)
{
	*what = "vs0-vs63";
	return spin_ppc;
}

#else

static spin_fn vec_fn(const char **what)
{
	*what = "none";
	return NULL;
}

#endif

/*
 * Rounding toward zero for the fp loop, set and read in the control
 * register itself (fenv.h would need libm): MXCSR.RC = 3, the fpc's BFP
 * rounding mode = 1, FPSCR.RN = 1.
 */
static void set_round_to_zero(void)
{
#if defined(__x86_64__)
	uint32_t m;

	__asm__ volatile("stmxcsr %0" : "=m" (m));
	m |= 3u << 13;
	__asm__ volatile("ldmxcsr %0" : : "m" (m));
#elif defined(__s390x__)
	__asm__ volatile("srnm 1" : : : "memory");
#elif defined(__powerpc64__)
	__asm__ volatile("mtfsfi 7,1" : : : "memory");
#endif
}

static int round_to_zero(unsigned long long *reg)
{
#if defined(__x86_64__)
	uint32_t m;

	__asm__ volatile("stmxcsr %0" : "=m" (m));
	*reg = m;
	return ((m >> 13) & 3) == 3;
#elif defined(__s390x__)
	uint32_t fpc;

	__asm__ volatile("efpc %0" : "=d" (fpc));
	*reg = fpc;
	return (fpc & 7) == 1;
#elif defined(__powerpc64__)
	double d;
	uint64_t f;

	__asm__ volatile("mffs %0" : "=f" (d));
	memcpy(&f, &d, sizeof(f));
	*reg = f;
	return (f & 3) == 1;
#else
	*reg = 0;
	return 0;
#endif
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void init_state(struct spin_state *s, const char *mode)
{
	uint64_t x = 0x243f6a8885a308d3ull;
	size_t i;

	for (i = 0; i < sizeof(s->b); i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&s->b[0][0] + i, &x, 8);
	}
	if (!strcmp(mode, "fp")) {
		double *d = (double *)s->b;

		for (i = 0; i < 8; i++)
			d[i] = 0.1 + 0.1 * i + 1e-3 / (i + 1);
		d[8] = 0;
	}
#if defined(__powerpc64__)
	/* v30 (vs62): the rotate counts of vrld. */
	if (!strcmp(mode, "vec")) {
		uint64_t r[2] = { 13, 13 };

		memcpy(s->b[62], r, sizeof(r));
	}
#endif
}

static uint64_t sum64(const struct spin_state *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < sizeof(s->b); i++)
		h = (h ^ (&s->b[0][0])[i]) * 0x100000001b3ull;
	return h;
}

int main(int argc, char **argv)
{
	static struct spin_state start, expect, run;
	const char *mode, *what = "general registers";
	double secs, t0;
	uint64_t n = 0, chunk = 1 << 12;
	spin_fn fn;
	size_t i;

	if (argc != 4) {
		fprintf(stderr, "usage: rt_spin IMAGE int|fp|vec SECONDS\n");
		return 2;
	}
	rt_begin(argv[1]);
	mode = argv[2];
	secs = atof(argv[3]);
	if (!strcmp(mode, "int")) {
		fn = spin_int;
	} else if (!strcmp(mode, "fp")) {
		fn = spin_fp;
		what = "floating-point registers, rounding toward zero";
		set_round_to_zero();
	} else if (!strcmp(mode, "vec")) {
		fn = vec_fn(&what);
		if (!fn) {
			errno = ENOTSUP;
			rt_die(what);
		}
	} else {
		errno = EINVAL;
		rt_die(mode);
	}

	/* The expected result, before any checkpoint. */
	init_state(&start, mode);
	expect = start;
	t0 = now();
	do {
		fn(&expect, chunk);
		n += chunk;
	} while (now() - t0 < secs);
	rt_report("spin %s (%s): %llu iterations, expect %#llx", mode, what,
		  (unsigned long long)n, (unsigned long long)sum64(&expect));

	run = start;
	rt_stdio_null();
	rt_ready();
	fn(&run, n);		/* checkpointed in here */

	RT_CHECK(!memcmp(&run, &expect, sizeof(run)),
		 "state %#llx after %llu iterations, want %#llx",
		 (unsigned long long)sum64(&run), (unsigned long long)n,
		 (unsigned long long)sum64(&expect));
	for (i = 0; i < sizeof(run.b) / 8; i++) {
		uint64_t got, want;

		memcpy(&got, &run.b[0][0] + 8 * i, 8);
		memcpy(&want, &expect.b[0][0] + 8 * i, 8);
		RT_CHECK(got == want, "word %zu: %#llx, want %#llx", i,
			 (unsigned long long)got, (unsigned long long)want);
	}
	if (!strcmp(mode, "fp")) {
		unsigned long long reg;

		RT_CHECK(round_to_zero(&reg),
			 "FP control register %#llx: not rounding toward zero",
			 reg);
	}
	/*
	 * Nothing was interrupted: restart_syscall() runs the restart
	 * block of a task with none, do_no_restart_syscall(), and returns
	 * here with EINTR (on s390 it returns to restart_block.arch_data
	 * unless that is 1).
	 */
	errno = 0;
	RT_CHECK(syscall(SYS_restart_syscall) == -1 && errno == EINTR,
		 "restart_syscall: %s", strerror(errno));
	rt_report("done: pid %d", getpid());
	return rt_end();
}
