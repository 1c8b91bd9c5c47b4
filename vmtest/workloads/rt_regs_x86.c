// SPDX-License-Identifier: GPL-2.0
/*
 * rt_regs_x86: the x86-64 user registers survive checkpoint and restart.
 *
 *	rt_regs_x86 IMAGE		self checkpoint
 *	rt_regs_x86 IMAGE external	checkpointed frozen, from outside
 *
 * An assembly routine loads distinctive values into the general
 * registers, XMM0-15 (YMM0-15 whole when the CPU has AVX), two x87 stack
 * registers, the x87 control word and MXCSR, sets DF (and CF), and then
 * either makes the CHECKPOINT ioctl itself with the SYSCALL instruction
 * (self mode), or spins in user mode, touching no register, until the
 * test writes a flag in its memory through /proc/PID/mem (external mode:
 * the task is frozen and checkpointed in the middle of the loop, with
 * all of its registers in pt_regs, rax, rcx and r11 included). Right
 * after, it stores every register to memory, so that what the restarted
 * process checks is what the kernel loaded, not what libc did since.
 * Besides: ds and es hold the user data selector, the GS base points to
 * a block of ours (ARCH_SET_GS; glibc does not use GS), PKRU has a
 * value of ours when the kernel enables protection keys; the FS base
 * (glibc's TLS) must be unchanged with TLS variables intact, and the
 * vDSO's clock_gettime must work after restart.
 *
 * The checks run in the original process too (self mode), so that a
 * bug of this program is not taken for one of the restart. The report
 * says which groups were tested ("tested: ..."), so that the test can
 * require AVX where the CPU has it.
 *
 * The whole program is x86-64 only; elsewhere it is an empty program
 * that the tests never run.
 */
#if defined(__x86_64__)

#include <asm/prctl.h>
#include <cpuid.h>
#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

#include "rt.h"

#define USER_DS		0x2b		/* __USER_DS */
#define FCW		0x0f7f		/* masked, 64-bit precision, chop */
#define MXCSR		0xff80		/* masked, round to zero, FZ */
#define PKRU_VAL	0x5a5a5a54u	/* key 0 stays accessible */
#define X86_DF		0x400
#define X86_CF		0x1

/* Keep in sync with the offsets in the assembly below. */
struct regs {
	uint64_t gpr[16];	/*   0: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 */
	uint64_t flags;		/* 128 */
	uint32_t mxcsr;		/* 136 */
	uint16_t fcw;		/* 140 */
	uint16_t pad;
	uint8_t st[2][16];	/* 144: st(0), st(1), 10 bytes each */
	uint64_t pad2[2];
	uint8_t ymm[16][32];	/* 192 */
};

struct ctl {
	uint64_t nr;		/*  0: system call (self mode) */
	uint64_t arg[3];	/*  8 */
	uint64_t avx;		/* 32: load and store YMM, not XMM */
	uint64_t spin;		/* 40: external mode */
};

_Static_assert(offsetof(struct regs, flags) == 128, "regs layout");
_Static_assert(offsetof(struct regs, mxcsr) == 136, "regs layout");
_Static_assert(offsetof(struct regs, fcw) == 140, "regs layout");
_Static_assert(offsetof(struct regs, st) == 144, "regs layout");
_Static_assert(offsetof(struct regs, ymm) == 192, "regs layout");
_Static_assert(offsetof(struct ctl, avx) == 32, "ctl layout");
_Static_assert(offsetof(struct ctl, spin) == 40, "ctl layout");

static const char *const gpr_name[16] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Set by the test through /proc/PID/mem: the spinning loop ends. */
volatile uint8_t rt_regs_go;

/*
 * long rt_regs_run(struct regs *in, struct regs *out, struct ctl *ctl)
 * in->gpr[7] (rsp) and in->gpr[2] (rcx: the return address of SYSCALL)
 * are written by the routine, before the system call. Returns out->rax.
 */
long rt_regs_run(struct regs *in, struct regs *out, struct ctl *ctl);
__asm__(
"	.text\n"
"	.globl rt_regs_run\n"
"	.type rt_regs_run, @function\n"
"rt_regs_run:\n"
"	push %rbx\n"
"	push %rbp\n"
"	push %r12\n"
"	push %r13\n"
"	push %r14\n"
"	push %r15\n"
"	push %rsi\n"			/* out: 8(%rsp) */
"	push %rdx\n"			/* ctl: 0(%rsp) */
"	fldt 160(%rdi)\n"
"	fldt 144(%rdi)\n"
"	fldcw 140(%rdi)\n"
"	ldmxcsr 136(%rdi)\n"
"	cmpq $0, 32(%rdx)\n"
"	je 1f\n"
"	vmovdqu 192+32*0(%rdi), %ymm0\n"
"	vmovdqu 192+32*1(%rdi), %ymm1\n"
"	vmovdqu 192+32*2(%rdi), %ymm2\n"
"	vmovdqu 192+32*3(%rdi), %ymm3\n"
"	vmovdqu 192+32*4(%rdi), %ymm4\n"
"	vmovdqu 192+32*5(%rdi), %ymm5\n"
"	vmovdqu 192+32*6(%rdi), %ymm6\n"
"	vmovdqu 192+32*7(%rdi), %ymm7\n"
"	vmovdqu 192+32*8(%rdi), %ymm8\n"
"	vmovdqu 192+32*9(%rdi), %ymm9\n"
"	vmovdqu 192+32*10(%rdi), %ymm10\n"
"	vmovdqu 192+32*11(%rdi), %ymm11\n"
"	vmovdqu 192+32*12(%rdi), %ymm12\n"
"	vmovdqu 192+32*13(%rdi), %ymm13\n"
"	vmovdqu 192+32*14(%rdi), %ymm14\n"
"	vmovdqu 192+32*15(%rdi), %ymm15\n"
"	jmp 2f\n"
"1:	movdqu 192+32*0(%rdi), %xmm0\n"
"	movdqu 192+32*1(%rdi), %xmm1\n"
"	movdqu 192+32*2(%rdi), %xmm2\n"
"	movdqu 192+32*3(%rdi), %xmm3\n"
"	movdqu 192+32*4(%rdi), %xmm4\n"
"	movdqu 192+32*5(%rdi), %xmm5\n"
"	movdqu 192+32*6(%rdi), %xmm6\n"
"	movdqu 192+32*7(%rdi), %xmm7\n"
"	movdqu 192+32*8(%rdi), %xmm8\n"
"	movdqu 192+32*9(%rdi), %xmm9\n"
"	movdqu 192+32*10(%rdi), %xmm10\n"
"	movdqu 192+32*11(%rdi), %xmm11\n"
"	movdqu 192+32*12(%rdi), %xmm12\n"
"	movdqu 192+32*13(%rdi), %xmm13\n"
"	movdqu 192+32*14(%rdi), %xmm14\n"
"	movdqu 192+32*15(%rdi), %xmm15\n"
"2:	mov %rsp, 56(%rdi)\n"		/* rsp across the call */
"	lea 9f(%rip), %rax\n"
"	mov %rax, 16(%rdi)\n"		/* rcx after SYSCALL */
"	mov %rdx, %r11\n"		/* ctl */
"	mov %rdi, %rcx\n"		/* in */
"	mov 8(%rcx), %rbx\n"
"	mov 48(%rcx), %rbp\n"
"	mov 64(%rcx), %r8\n"
"	mov 72(%rcx), %r9\n"
"	mov 80(%rcx), %r10\n"
"	mov 96(%rcx), %r12\n"
"	mov 104(%rcx), %r13\n"
"	mov 112(%rcx), %r14\n"
"	mov 120(%rcx), %r15\n"
"	cmpq $0, 40(%r11)\n"
"	jne 3f\n"
	/* Self mode: the system call, its arguments in rdi, rsi, rdx. */
"	mov 8(%r11), %rdi\n"
"	mov 16(%r11), %rsi\n"
"	mov 24(%r11), %rdx\n"
"	mov 0(%r11), %rax\n"
"	std\n"
"	stc\n"
"	syscall\n"
"9:	jmp 5f\n"
	/* External mode: every register but rsp holds a value of ours. */
"3:	mov 0(%rcx), %rax\n"
"	mov 24(%rcx), %rdx\n"
"	mov 32(%rcx), %rsi\n"
"	mov 40(%rcx), %rdi\n"
"	mov 88(%rcx), %r11\n"
"	mov 16(%rcx), %rcx\n"
"	std\n"
"4:	cmpb $0, rt_regs_go(%rip)\n"
"	je 4b\n"
"5:	pushfq\n"
"	push %rax\n"			/* rax 0, flags 8, ctl 16, out 24 */
"	mov 24(%rsp), %rax\n"
"	mov %rbx, 8(%rax)\n"
"	mov %rcx, 16(%rax)\n"
"	mov %rdx, 24(%rax)\n"
"	mov %rsi, 32(%rax)\n"
"	mov %rdi, 40(%rax)\n"
"	mov %rbp, 48(%rax)\n"
"	lea 16(%rsp), %rbx\n"
"	mov %rbx, 56(%rax)\n"
"	mov %r8, 64(%rax)\n"
"	mov %r9, 72(%rax)\n"
"	mov %r10, 80(%rax)\n"
"	mov %r11, 88(%rax)\n"
"	mov %r12, 96(%rax)\n"
"	mov %r13, 104(%rax)\n"
"	mov %r14, 112(%rax)\n"
"	mov %r15, 120(%rax)\n"
"	pop %rbx\n"
"	mov %rbx, 0(%rax)\n"
"	pop %rbx\n"
"	mov %rbx, 128(%rax)\n"
"	cld\n"
"	stmxcsr 136(%rax)\n"
"	fnstcw 140(%rax)\n"
"	fstpt 144(%rax)\n"
"	fstpt 160(%rax)\n"
"	mov 0(%rsp), %rdx\n"
"	cmpq $0, 32(%rdx)\n"
"	je 6f\n"
"	vmovdqu %ymm0, 192+32*0(%rax)\n"
"	vmovdqu %ymm1, 192+32*1(%rax)\n"
"	vmovdqu %ymm2, 192+32*2(%rax)\n"
"	vmovdqu %ymm3, 192+32*3(%rax)\n"
"	vmovdqu %ymm4, 192+32*4(%rax)\n"
"	vmovdqu %ymm5, 192+32*5(%rax)\n"
"	vmovdqu %ymm6, 192+32*6(%rax)\n"
"	vmovdqu %ymm7, 192+32*7(%rax)\n"
"	vmovdqu %ymm8, 192+32*8(%rax)\n"
"	vmovdqu %ymm9, 192+32*9(%rax)\n"
"	vmovdqu %ymm10, 192+32*10(%rax)\n"
"	vmovdqu %ymm11, 192+32*11(%rax)\n"
"	vmovdqu %ymm12, 192+32*12(%rax)\n"
"	vmovdqu %ymm13, 192+32*13(%rax)\n"
"	vmovdqu %ymm14, 192+32*14(%rax)\n"
"	vmovdqu %ymm15, 192+32*15(%rax)\n"
"	vzeroupper\n"
"	jmp 7f\n"
"6:	movdqu %xmm0, 192+32*0(%rax)\n"
"	movdqu %xmm1, 192+32*1(%rax)\n"
"	movdqu %xmm2, 192+32*2(%rax)\n"
"	movdqu %xmm3, 192+32*3(%rax)\n"
"	movdqu %xmm4, 192+32*4(%rax)\n"
"	movdqu %xmm5, 192+32*5(%rax)\n"
"	movdqu %xmm6, 192+32*6(%rax)\n"
"	movdqu %xmm7, 192+32*7(%rax)\n"
"	movdqu %xmm8, 192+32*8(%rax)\n"
"	movdqu %xmm9, 192+32*9(%rax)\n"
"	movdqu %xmm10, 192+32*10(%rax)\n"
"	movdqu %xmm11, 192+32*11(%rax)\n"
"	movdqu %xmm12, 192+32*12(%rax)\n"
"	movdqu %xmm13, 192+32*13(%rax)\n"
"	movdqu %xmm14, 192+32*14(%rax)\n"
"	movdqu %xmm15, 192+32*15(%rax)\n"
	/* The C code after us wants the default control words. */
"7:	movl $0x1f80, 0(%rsp)\n"
"	ldmxcsr 0(%rsp)\n"
"	movw $0x037f, 0(%rsp)\n"
"	fldcw 0(%rsp)\n"
"	mov 0(%rax), %rax\n"
"	add $16, %rsp\n"
"	pop %r15\n"
"	pop %r14\n"
"	pop %r13\n"
"	pop %r12\n"
"	pop %rbp\n"
"	pop %rbx\n"
"	ret\n"
"	.size rt_regs_run, .-rt_regs_run\n"
);

static __thread uint64_t tls_word = 1;
static __thread char tls_text[32];
static uint64_t gs_block[4] = {
	0x6773626c6f636b30ULL, 0x1122334455667788ULL, 3, 4,
};

static struct regs in, out;
static struct ctl ctl;

static uint64_t gpr_value(int i)
{
	return 0x0123456789abcdefULL ^ ((uint64_t)(i + 1) * 0x1010101010101010ULL);
}

static int has_avx(void)
{
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & bit_AVX) || !(c & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	return (lo & 6) == 6;
}

static int has_pku(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return !!(c & (1u << 4));		/* OSPKE */
}

static uint32_t rdpkru(void)
{
	uint32_t v, d;

	__asm__ volatile("rdpkru" : "=a" (v), "=d" (d) : "c" (0));
	return v;
}

static void wrpkru(uint32_t v)
{
	__asm__ volatile("wrpkru" : : "a" (v), "c" (0), "d" (0) : "memory");
}

static int user_fsgsbase(void)
{
	return !!(getauxval(AT_HWCAP2) & 2);	/* HWCAP2_FSGSBASE */
}

static uint64_t arch_get(int code)
{
	unsigned long v = 0;

	if (syscall(SYS_arch_prctl, code, &v))
		return (uint64_t)-1;
	return v;
}

static uint16_t get_ds(void)
{
	uint16_t v;

	__asm__ volatile("mov %%ds, %0" : "=r" (v));
	return v;
}

static uint16_t get_es(void)
{
	uint16_t v;

	__asm__ volatile("mov %%es, %0" : "=r" (v));
	return v;
}

static void set_ds_es(uint16_t v)
{
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es" : : "r" (v));
}

/* The vDSO's own clock_gettime, found in its ELF symbol table. */
typedef int (*vdso_gettime_t)(clockid_t, struct timespec *);

static vdso_gettime_t vdso_clock_gettime(void)
{
	uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Phdr *ph;
	const Elf64_Shdr *sh;
	uintptr_t load = base;
	int i, j;

	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return NULL;
	ph = (const void *)(base + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			load = base + ph[i].p_offset - ph[i].p_vaddr;
			break;
		}
	sh = (const void *)(base + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;

		if (sh[i].sh_type != SHT_DYNSYM || !sh[i].sh_entsize)
			continue;
		sym = (const void *)(base + sh[i].sh_offset);
		str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		for (j = 0; j < (int)(sh[i].sh_size / sh[i].sh_entsize); j++)
			if (sym[j].st_shndx != SHN_UNDEF &&
			    !strcmp(str + sym[j].st_name, "__vdso_clock_gettime"))
				return (vdso_gettime_t)(load + sym[j].st_value);
	}
	return NULL;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void check_vdso(void)
{
	vdso_gettime_t vgt = vdso_clock_gettime();
	struct timespec a, v, b, g;
	int r;

	/* A kernel booted with vdso=0 gives none: nothing to check. */
	if (!getauxval(AT_SYSINFO_EHDR))
		return;
	RT_CHECK(vgt, "no __vdso_clock_gettime in the vDSO at %#lx",
		 getauxval(AT_SYSINFO_EHDR));
	if (!vgt)
		return;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
	r = vgt(CLOCK_MONOTONIC, &v);
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
	RT_CHECK(!r && ts_ns(&a) <= ts_ns(&v) && ts_ns(&v) <= ts_ns(&b),
		 "vDSO CLOCK_MONOTONIC: %d, %lld not within [%lld, %lld]", r,
		 (long long)ts_ns(&v), (long long)ts_ns(&a),
		 (long long)ts_ns(&b));
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &a);
	r = vgt(CLOCK_REALTIME, &v);
	r |= clock_gettime(CLOCK_REALTIME, &g);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &b);
	RT_CHECK(!r && ts_ns(&a) <= ts_ns(&v) && ts_ns(&v) <= ts_ns(&g) &&
		 ts_ns(&g) <= ts_ns(&b),
		 "vDSO/libc CLOCK_REALTIME: %d, %lld %lld not within [%lld, %lld]",
		 r, (long long)ts_ns(&v), (long long)ts_ns(&g),
		 (long long)ts_ns(&a), (long long)ts_ns(&b));
}

static void fill_in(int avx)
{
	static const long double st0 = 3.14159265358979323846264338327950288L;
	static const long double st1 = -1234.5e100L;
	int i, j;

	memset(&in, 0, sizeof(in));
	for (i = 0; i < 16; i++)
		in.gpr[i] = gpr_value(i);
	for (i = 0; i < 16; i++)
		for (j = 0; j < 32; j++)
			in.ymm[i][j] = (uint8_t)(i * 32 + j) * 7 + 3;
	memcpy(in.st[0], &st0, 10);
	memcpy(in.st[1], &st1, 10);
	in.fcw = FCW;
	in.mxcsr = MXCSR;
	ctl.avx = avx;
}

/* The registers as rt_regs_run() stored them. */
static void check_regs(int external, long ret, int restarted)
{
	int i, nvec = ctl.avx ? 32 : 16;

	for (i = 0; i < 16; i++) {
		uint64_t want = in.gpr[i];

		switch (i) {
		case 0:				/* rax */
			if (!external) {
				RT_CHECK(restarted ? ret == 0 : ret > 0,
					 "the ioctl returned %ld", ret);
				continue;
			}
			break;
		case 3: case 4: case 5:		/* rdx rsi rdi */
			if (!external)
				want = ctl.arg[i == 5 ? 0 : i == 4 ? 1 : 2];
			break;
		case 11:			/* r11 = rflags at SYSCALL */
			if (!external) {
				RT_CHECK((out.gpr[11] & (X86_DF | X86_CF)) ==
					 (X86_DF | X86_CF),
					 "r11 %#llx: not the flags of SYSCALL",
					 (unsigned long long)out.gpr[11]);
				continue;
			}
			break;
		}
		RT_CHECK(out.gpr[i] == want, "%s is %#llx, want %#llx",
			 gpr_name[i], (unsigned long long)out.gpr[i],
			 (unsigned long long)want);
	}
	RT_CHECK(out.flags & X86_DF, "DF lost: rflags %#llx",
		 (unsigned long long)out.flags);
	if (!external)
		RT_CHECK(out.flags & X86_CF, "CF lost: rflags %#llx",
			 (unsigned long long)out.flags);
	for (i = 0; i < 16; i++)
		RT_CHECK(!memcmp(out.ymm[i], in.ymm[i], nvec),
			 "%s%d differs (bytes 0, 16: %#x %#x, want %#x %#x)",
			 ctl.avx ? "ymm" : "xmm", i, out.ymm[i][0],
			 out.ymm[i][16], in.ymm[i][0], in.ymm[i][16]);
	RT_CHECK(!memcmp(out.st[0], in.st[0], 10) &&
		 !memcmp(out.st[1], in.st[1], 10), "x87 st(0)/st(1) differ");
	RT_CHECK(out.fcw == FCW, "x87 control word %#x, want %#x", out.fcw,
		 FCW);
	RT_CHECK(out.mxcsr == MXCSR, "MXCSR %#x, want %#x", out.mxcsr, MXCSR);
}

int main(int argc, char **argv)
{
	struct ckpt_ioc_checkpoint arg;
	uint64_t fsbase, tls_addr;
	int avx, pku, fsgs, external, restarted = 1, dev = -1;
	long ret = 0;

	if (argc < 2)
		return 2;
	external = argc > 2 && !strcmp(argv[2], "external");
	rt_begin(argv[1]);
	avx = has_avx();
	pku = has_pku();
	fsgs = user_fsgsbase();
	rt_report("tested: gpr flags xmm%s x87 mxcsr%s%s ds-es fs-base gs-base tls%s",
		  avx ? " ymm" : "", pku ? " pkru" : "",
		  fsgs ? " fsgsbase" : "",
		  getauxval(AT_SYSINFO_EHDR) ? " vdso" : "");

	tls_word = 0xfeedfacecafebeefULL;
	strcpy(tls_text, "thread-local text");
	tls_addr = (uint64_t)(uintptr_t)&tls_word;
	fsbase = arch_get(ARCH_GET_FS);
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, gs_block))
		rt_die("ARCH_SET_GS");
	if (pku)
		wrpkru(PKRU_VAL);
	set_ds_es(USER_DS);
	fill_in(avx);

	if (external) {
		rt_report("go-flag %#lx", (unsigned long)&rt_regs_go);
		rt_stdio_null();
		rt_ready();
		ctl.spin = 1;
		rt_regs_run(&in, &out, &ctl);
		rt_report("restarted: pid %d", getpid());
	} else {
		dev = rt_checkpoint_open(&arg);
		ctl.nr = SYS_ioctl;
		ctl.arg[0] = dev;
		ctl.arg[1] = CKPT_IOC_CHECKPOINT;
		ctl.arg[2] = (uintptr_t)&arg;
		ret = rt_regs_run(&in, &out, &ctl);
		restarted = !rt_checkpoint_done(dev, ret);
	}

	check_regs(external, ret, restarted);
	RT_CHECK(get_ds() == USER_DS && get_es() == USER_DS,
		 "ds %#x es %#x, want %#x", get_ds(), get_es(), USER_DS);
	set_ds_es(0);
	if (pku)
		RT_CHECK(rdpkru() == PKRU_VAL, "PKRU %#x, want %#x", rdpkru(),
			 PKRU_VAL);
	RT_CHECK(arch_get(ARCH_GET_FS) == fsbase, "fs base %#llx, want %#llx",
		 (unsigned long long)arch_get(ARCH_GET_FS),
		 (unsigned long long)fsbase);
	RT_CHECK(tls_word == 0xfeedfacecafebeefULL &&
		 (uint64_t)(uintptr_t)&tls_word == tls_addr &&
		 !strcmp(tls_text, "thread-local text"),
		 "TLS: %#llx at %p, \"%s\"", (unsigned long long)tls_word,
		 (void *)&tls_word, tls_text);
	RT_CHECK(arch_get(ARCH_GET_GS) == (uintptr_t)gs_block,
		 "gs base %#llx, want %p",
		 (unsigned long long)arch_get(ARCH_GET_GS), (void *)gs_block);
	{
		uint64_t g0, g1;

		__asm__ volatile("mov %%gs:0, %0\n\tmov %%gs:8, %1"
				 : "=r" (g0), "=r" (g1));
		RT_CHECK(g0 == gs_block[0] && g1 == gs_block[1],
			 "%%gs:0, %%gs:8 = %#llx %#llx",
			 (unsigned long long)g0, (unsigned long long)g1);
	}
	if (fsgs) {
		uint64_t f, g;

		__asm__ volatile("rdfsbase %0\n\trdgsbase %1"
				 : "=r" (f), "=r" (g));
		RT_CHECK(f == fsbase && g == (uintptr_t)gs_block,
			 "rdfsbase %#llx rdgsbase %#llx",
			 (unsigned long long)f, (unsigned long long)g);
	}
	check_vdso();

	if (!restarted) {
		/* The original: checks of this program itself. */
		if (rt_failures) {
			rt_report("the original process fails its own checks");
			return 1;
		}
		return 0;
	}
	return rt_end();
}

#else	/* !__x86_64__ */

/* x86-64 only: the tests never run this. */
int main(void)
{
	return 2;
}

#endif
