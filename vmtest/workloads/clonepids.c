// SPDX-License-Identifier: GPL-2.0
/*
 * clonepids: CKPT_IOC_CLONE_WITH_PIDS called directly, for
 * vmtest/guest/clone_pids_test.go. Modes (pids outermost first):
 *
 *	raw FLAGS EXITSIG PAD NR [PID...]
 *		one call with these fields (numbers in C syntax; NR is
 *		nr_pids as given, the pids array holds the PIDs that follow,
 *		NULL if none); prints "ok PID" (the child _exit()s at once
 *		and is reaped) or "err ERRNO", then "nochild" when the
 *		caller has no child left, or "leak" when it has
 *	regs PID
 *		the child must get PID, see 0 returned, its own pid PID,
 *		the caller as parent and every local of the caller as it
 *		was; prints "ok"
 *	stack
 *		a child on a stack of its own with CLONE_SETTLS: checked in
 *		assembly (stack pointer at the stack's top, the TLS
 *		register pointing at the given word, the caller's
 *		callee-saved registers); prints "ok"
 *	nested OUTER1 OUTER2 INNER2
 *		unshare(CLONE_NEWPID), then an init with pids {OUTER1, 1}
 *		and a second child with {OUTER2, INNER2}, which must see
 *		getpid() == INNER2, and a third with only its inner pid
 *		INNER2 + 1 chosen; also nr_pids 3 must fail with EINVAL, so
 *		must {OUTER1, INNER2} before the init exists, {OUTER2, 1}
 *		with EBUSY once it does (pid 1 taken), and no child be
 *		left; prints "ok"
 *	badargs
 *		calls that must fail: a stack without a size and a size
 *		without a stack (EINVAL), an unreadable pids array or
 *		argument struct (EFAULT); no child may be left; prints "ok"
 *	seccomp
 *		under a seccomp filter that allows everything the call
 *		must fail with EPERM (the filter never sees the clone);
 *		prints "ok"
 *	pid
 *		prints "getpid() getppid()" (started by the Go wrapper)
 *
 * Exit status 0 when it printed its result, 1 when a check failed (with
 * a message on stderr), 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/checkpoint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static int dev;

static int fail(const char *what)
{
	fprintf(stderr, "clonepids: %s\n", what);
	return 1;
}

/* No child left: the failed call must not have made one. */
static int no_child(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | __WALL) < 0 &&
	       errno == ECHILD;
}

static long clone_pids(uint64_t flags, uint64_t exit_signal,
		       pid_t *pids, uint32_t nr)
{
	struct ckpt_ioc_clone_with_pids a;

	memset(&a, 0, sizeof(a));
	a.flags = flags;
	a.exit_signal = exit_signal;
	a.pids = (uintptr_t)pids;
	a.nr_pids = nr;
	return ioctl(dev, CKPT_IOC_CLONE_WITH_PIDS, &a);
}

/* The child's exit status, or -1. */
static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, __WALL) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int do_raw(int argc, char **argv)
{
	struct ckpt_ioc_clone_with_pids a;
	pid_t pids[64];
	int i, n = argc - 4;
	long ret;

	if (argc < 4 || n > 64)
		return 2;
	memset(&a, 0, sizeof(a));
	a.flags = strtoull(argv[0], NULL, 0);
	a.exit_signal = strtoull(argv[1], NULL, 0);
	a.__pad = strtoul(argv[2], NULL, 0);
	a.nr_pids = strtoul(argv[3], NULL, 0);
	for (i = 0; i < n; i++)
		pids[i] = atoi(argv[4 + i]);
	a.pids = n ? (uintptr_t)pids : 0;
	ret = ioctl(dev, CKPT_IOC_CLONE_WITH_PIDS, &a);
	if (ret == 0)
		_exit(0);
	if (ret > 0) {
		printf("ok %ld\n", ret);
		if (reap(ret) < 0)
			return fail("cannot reap the child");
	} else {
		printf("err %d\n", errno);
	}
	printf(no_child() ? "nochild\n" : "leak\n");
	return 0;
}

static int do_regs(pid_t want)
{
	/*
	 * Live across the call: the compiler keeps them in callee-saved
	 * registers and stack slots, which the child must find as they
	 * were.
	 */
	volatile long v[4];
	long l[12], sum = 0;
	pid_t parent = getpid();
	long ret;
	int i;

	for (i = 0; i < 12; i++)
		l[i] = (long)want * 7919 + i * 104729;
	for (i = 0; i < 4; i++)
		v[i] = ~l[i];
	ret = clone_pids(0, SIGCHLD, &want, 1);
	for (i = 0; i < 12; i++)
		sum += l[i] ^ (long)i;
	if (ret == 0) {
		long s = 0;

		for (i = 0; i < 12; i++)
			s += ((long)want * 7919 + i * 104729) ^ (long)i;
		if (getpid() != want)
			_exit(3);
		if (getppid() != parent)
			_exit(4);
		if (s != sum)
			_exit(5);
		for (i = 0; i < 4; i++)
			if (v[i] != ~((long)want * 7919 + i * 104729))
				_exit(6);
		_exit(0);
	}
	if (ret < 0) {
		fprintf(stderr, "clonepids: regs: errno %d\n", errno);
		return 1;
	}
	if (ret != want)
		return fail("regs: the parent got another pid");
	i = reap(ret);
	if (i) {
		fprintf(stderr, "clonepids: regs: child exited with %d\n", i);
		return 1;
	}
	printf("ok\n");
	return 0;
}

#define STACK_SIZE 65536
static unsigned char child_stack[STACK_SIZE] __attribute__((aligned(64)));
static unsigned long tls_word;

/*
 * The call with a stack and CLONE_SETTLS; the child checks in assembly
 * that its stack pointer is want_sp, that the word its TLS register
 * points at is magic (so the TLS register is &tls_word) and that it can
 * push on its stack, then exit_group()s with status bit 1 for a wrong
 * stack pointer, bit 2 for a wrong TLS. want_sp and magic travel in
 * callee-saved registers, which the child also needs as the caller had
 * them. Returns what the parent's call returned (-errno on failure).
 */
static long clone_stack(struct ckpt_ioc_clone_with_pids *a,
			unsigned long want_sp, unsigned long magic)
{
#if defined(__x86_64__)
	register unsigned long sp asm("r12") = want_sp;
	register unsigned long m asm("r13") = magic;
	long ret;

	asm volatile("syscall\n\t"
		     "test %%rax,%%rax\n\t"
		     "jnz 1f\n\t"
		     "xor %%edi,%%edi\n\t"
		     "cmp %%rsp,%%r12\n\t"
		     "je 2f\n\t"
		     "or $1,%%edi\n"
		     "2:\tmov %%fs:0,%%rax\n\t"
		     "cmp %%rax,%%r13\n\t"
		     "je 3f\n\t"
		     "or $2,%%edi\n"
		     "3:\tpush %%r13\n\t"
		     "mov %[eg],%%eax\n\t"
		     "syscall\n"
		     "1:"
		     : "=a"(ret)
		     : "0"((long)SYS_ioctl), "D"((long)dev),
		       "S"((long)CKPT_IOC_CLONE_WITH_PIDS), "d"(a),
		       "r"(sp), "r"(m), [eg] "i"(SYS_exit_group)
		     : "rcx", "r11", "memory", "cc");
	return ret;
#elif defined(__s390x__)
	register unsigned long sp asm("r8") = want_sp;
	register unsigned long m asm("r9") = magic;
	register long r1 asm("r1") = SYS_ioctl;
	register long r2 asm("r2") = dev;
	register long r3 asm("r3") = CKPT_IOC_CLONE_WITH_PIDS;
	register long r4 asm("r4") = (long)a;

	asm volatile("svc 0\n\t"
		     "ltgr %%r2,%%r2\n\t"
		     "jnz 1f\n\t"
		     "lghi %%r2,0\n\t"
		     "cgr %%r15,%%r8\n\t"
		     "je 2f\n\t"
		     "oill %%r2,1\n"
		     "2:\tear %%r1,%%a0\n\t"
		     "sllg %%r1,%%r1,32\n\t"
		     "ear %%r1,%%a1\n\t"
		     "lg %%r1,0(%%r1)\n\t"
		     "cgr %%r1,%%r9\n\t"
		     "je 3f\n\t"
		     "oill %%r2,2\n"
		     "3:\tstg %%r9,-8(%%r15)\n\t"
		     "lghi %%r1,%[eg]\n\t"
		     "svc 0\n"
		     "1:"
		     : "+r"(r2), "+r"(r1)
		     : "r"(r3), "r"(r4), "r"(sp), "r"(m),
		       [eg] "i"(SYS_exit_group)
		     : "memory", "cc");
	return r2;
#elif defined(__powerpc64__)
	register unsigned long sp asm("r30") = want_sp;
	register unsigned long m asm("r31") = magic;
	register long r0 asm("r0") = SYS_ioctl;
	register long r3 asm("r3") = dev;
	register long r4 asm("r4") = CKPT_IOC_CLONE_WITH_PIDS;
	register long r5 asm("r5") = (long)a;

	asm volatile("sc\n\t"
		     "bns+ 5f\n\t"
		     "neg %%r3,%%r3\n\t"
		     "b 1f\n"
		     "5:\tcmpdi %%r3,0\n\t"
		     "bne 1f\n\t"
		     "li %%r3,0\n\t"
		     "cmpd %%r1,%%r30\n\t"
		     "beq 2f\n\t"
		     "ori %%r3,%%r3,1\n"
		     "2:\tld %%r4,0(%%r13)\n\t"
		     "cmpd %%r4,%%r31\n\t"
		     "beq 3f\n\t"
		     "ori %%r3,%%r3,2\n"
		     "3:\tstd %%r31,-8(%%r1)\n\t"
		     "li %%r0,%[eg]\n\t"
		     "sc\n"
		     "1:"
		     : "+r"(r3), "+r"(r0), "+r"(r4), "+r"(r5)
		     : "r"(sp), "r"(m), [eg] "i"(SYS_exit_group)
		     : "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr",
		       "xer", "cr0", "memory");
	return r3;
#else
#error "clonepids: no stack test for this arch"
#endif
}

static int do_stack(void)
{
	struct ckpt_ioc_clone_with_pids a;
	unsigned long top = (unsigned long)child_stack + STACK_SIZE;
	unsigned long magic = 0x5ca1ab1e0ddba11UL;
	pid_t parent_tid = 0;
	long ret;
	int st;

	tls_word = magic;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_SETTLS | CLONE_PARENT_SETTID;
	a.exit_signal = SIGCHLD;
	a.stack = (uintptr_t)child_stack;
	a.stack_size = STACK_SIZE;
	a.tls = (uintptr_t)&tls_word;
	a.parent_tid = (uintptr_t)&parent_tid;
	ret = clone_stack(&a, top, magic);
	if (ret < 0) {
		fprintf(stderr, "clonepids: stack: errno %ld\n", -ret);
		return 1;
	}
	if (parent_tid != ret)
		return fail("stack: CLONE_PARENT_SETTID did not store the pid");
	st = reap(ret);
	if (st) {
		fprintf(stderr, "clonepids: stack: child status %d (1: stack pointer, 2: TLS)\n",
			st);
		return 1;
	}
	printf("ok\n");
	return 0;
}

static int do_nested(pid_t outer1, pid_t outer2, pid_t inner2)
{
	pid_t p[3], init, child;
	int pfd[2], st;
	long ret;
	char c;

	if (pipe(pfd) < 0 || unshare(CLONE_NEWPID) < 0)
		return fail("nested: pipe/unshare");
	/* Two levels only: three pids is more than the nesting depth. */
	p[0] = outer1;
	p[1] = 1;
	p[2] = 1;
	ret = clone_pids(0, SIGCHLD, p, 3);
	if (ret == 0)
		_exit(0);
	if (ret >= 0 || errno != EINVAL || !no_child())
		return fail("nested: nr_pids 3 did not fail with EINVAL alone");
	/* The first task of the namespace must be its init, pid 1. */
	p[1] = inner2;
	ret = clone_pids(0, SIGCHLD, p, 2);
	if (ret == 0)
		_exit(0);
	if (ret >= 0 || errno != EINVAL || !no_child())
		return fail("nested: a first pid other than 1 did not fail with EINVAL");
	p[1] = 1;
	init = clone_pids(0, SIGCHLD, p, 2);
	if (init == 0) {
		/* The namespace's init: lives until the pipe closes. */
		close(pfd[1]);
		if (getpid() != 1)
			_exit(3);
		if (read(pfd[0], &c, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(pfd[0]);
	if (init != outer1) {
		fprintf(stderr, "clonepids: nested: init got %d (errno %d), want %d\n",
			init, errno, outer1);
		return 1;
	}
	/* pid 1 is taken now. */
	p[0] = outer2;
	ret = clone_pids(0, SIGCHLD, p, 2);
	if (ret == 0)
		_exit(0);
	if (ret >= 0 || errno != EBUSY)
		return fail("nested: inner pid 1 again did not fail with EBUSY");
	p[1] = inner2;
	child = clone_pids(0, SIGCHLD, p, 2);
	if (child == 0)
		_exit(getpid() == inner2 ? 0 : 3);
	if (child != outer2) {
		fprintf(stderr, "clonepids: nested: child got %d (errno %d), want %d\n",
			child, errno, outer2);
		return 1;
	}
	st = reap(child);
	if (st)
		return fail("nested: the child did not see its inner pid");
	/* Only the inner pid asked for: any outer pid. */
	p[0] = inner2 + 1;
	child = clone_pids(0, SIGCHLD, p, 1);
	if (child == 0)
		_exit(getpid() == inner2 + 1 ? 0 : 3);
	if (child < 0 || reap(child))
		return fail("nested: one pid for the inner level failed");
	close(pfd[1]);
	st = reap(init);
	if (st)
		return fail("nested: init was not pid 1 in its namespace");
	if (!no_child())
		return fail("nested: a child is left");
	printf("ok\n");
	return 0;
}

/* One call that must fail with want and leave no child. */
static int expect_fail(const char *what, struct ckpt_ioc_clone_with_pids *a,
		       int want)
{
	long ret = ioctl(dev, CKPT_IOC_CLONE_WITH_PIDS, a);

	if (ret == 0)
		_exit(0);
	if (ret > 0)
		reap(ret);
	if (ret >= 0 || errno != want) {
		fprintf(stderr, "clonepids: %s: returned %ld errno %d, want errno %d\n",
			what, ret, ret < 0 ? errno : 0, want);
		return 1;
	}
	if (!no_child()) {
		fprintf(stderr, "clonepids: %s: a child was left\n", what);
		return 1;
	}
	return 0;
}

static int do_badargs(void)
{
	struct ckpt_ioc_clone_with_pids a;
	int bad = 0;

	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	a.stack = (uintptr_t)child_stack;
	bad |= expect_fail("a stack without a size", &a, EINVAL);
	a.stack = 0;
	a.stack_size = STACK_SIZE;
	bad |= expect_fail("a size without a stack", &a, EINVAL);
	a.stack_size = 0;
	a.pids = 8;
	a.nr_pids = 1;
	bad |= expect_fail("an unreadable pids array", &a, EFAULT);
	if (ioctl(dev, CKPT_IOC_CLONE_WITH_PIDS, (void *)8) != -1 ||
	    errno != EFAULT || !no_child())
		bad |= fail("an unreadable argument struct did not fail with EFAULT");
	if (bad)
		return 1;
	printf("ok\n");
	return 0;
}

static int do_seccomp(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	struct ckpt_ioc_clone_with_pids a;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return fail("seccomp: cannot install the filter");
	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	if (expect_fail("under a seccomp filter", &a, EPERM))
		return 1;
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "pid")) {
		printf("%d %d\n", getpid(), getppid());
		return 0;
	}
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return fail("cannot open the device");
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(argv[1], "raw"))
		return do_raw(argc - 2, argv + 2);
	if (!strcmp(argv[1], "regs") && argc == 3)
		return do_regs(atoi(argv[2]));
	if (!strcmp(argv[1], "stack"))
		return do_stack();
	if (!strcmp(argv[1], "badargs"))
		return do_badargs();
	if (!strcmp(argv[1], "seccomp"))
		return do_seccomp();
	if (!strcmp(argv[1], "nested") && argc == 5)
		return do_nested(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	return 2;
}
