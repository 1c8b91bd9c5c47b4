// SPDX-License-Identifier: GPL-2.0
/*
 * rt_signals: signal state survives a checkpoint and restart.
 *
 * rt_signals IMAGE: a self checkpoint with handlers (SA_SIGINFO,
 * SA_RESTART, SA_ONSTACK, SA_NODEFER, SA_RESETHAND, masks, SIG_IGN), a
 * blocked mask, pending signals (SIGUSR1 sent to the thread with
 * tgkill(), SIGINT to the process, two SIGRTMIN+3 queued to the process
 * and one SIGRTMIN+4 to the thread, with their sigqueue values), an alternate
 * signal stack, resource limits (RLIMIT_NOFILE soft and RLIMIT_CORE
 * lowered) and the three interval timers. After the restart every one is
 * checked, the pending signals taken with their siginfo in queue order,
 * and a handler run on the alternate stack.
 *
 * rt_signals IMAGE sleep: for an external checkpoint. Writes "t0 NS"
 * (CLOCK_REALTIME) to the report, creates IMAGE.ready and sleeps 5 s in
 * nanosleep(); the test checkpoints it during the sleep, kills it and
 * restarts it, and the restarted process must sleep what was left: it
 * writes "t1 NS" when the sleep returned, which must be 0.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "rt.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM	(1U << 31)
#endif

#define NSIGS		65
#define ALTSTACK_SIZE	(64 * 1024)

static char altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));
static volatile sig_atomic_t usr2_seen, usr2_on_altstack;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static void on_usr2(int sig)
{
	char here;

	(void)sig;
	usr2_seen = 1;
	usr2_on_altstack = &here >= altstack && &here < altstack + ALTSTACK_SIZE;
}

/* The first 64 signals of a set, as the kernel keeps them. */
static unsigned long long mask64(const sigset_t *s)
{
	unsigned long long v;

	memcpy(&v, s, sizeof(v));
	return v;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int sleeper(void)
{
	struct timespec req = { .tv_sec = 5 }, rem = { 0 };
	long ret;

	rt_stdio_null();
	rt_report("t0 %lld", now_ns());
	rt_ready();
	ret = syscall(SYS_nanosleep, &req, &rem);
	rt_report("t1 %lld", now_ns());
	RT_CHECK(ret == 0, "nanosleep returned %ld (%s), %ld.%09ld s left",
		 ret, strerror(errno), (long)rem.tv_sec, rem.tv_nsec);
	return rt_end();
}

static void handle(int sig, void (*fn)(int), void (*info)(int, siginfo_t *,
							     void *),
		   int flags, int mask1, int mask2)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	if (info)
		sa.sa_sigaction = info;
	else
		sa.sa_handler = fn;
	sa.sa_flags = flags | (info ? SA_SIGINFO : 0);
	sigemptyset(&sa.sa_mask);
	if (mask1)
		sigaddset(&sa.sa_mask, mask1);
	if (mask2)
		sigaddset(&sa.sa_mask, mask2);
	if (sigaction(sig, &sa, NULL))
		rt_die("sigaction");
}

static void queue(int sig, int val, int thread)
{
	siginfo_t si;
	union sigval v = { .sival_int = val };

	if (!thread) {
		if (sigqueue(getpid(), sig, v))
			rt_die("sigqueue");
		return;
	}
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value = v;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid),
		    sig, &si))
		rt_die("rt_tgsigqueueinfo");
}

/* Take pending signal sig (blocked) and check its siginfo. */
static void take(int sig, int code, int val)
{
	struct timespec zero = { 0 };
	siginfo_t si;
	sigset_t set;
	int got;

	sigemptyset(&set);
	sigaddset(&set, sig);
	memset(&si, 0, sizeof(si));
	/* Not glibc's sigtimedwait(), which turns SI_TKILL into SI_USER. */
	got = syscall(SYS_rt_sigtimedwait, &set, &si, &zero, _NSIG / 8);
	RT_CHECK(got == sig, "signal %d not pending: %d (%s)", sig, got,
		 strerror(errno));
	if (got != sig)
		return;
	RT_CHECK(si.si_code == code && si.si_pid == getpid() &&
		 si.si_uid == getuid(),
		 "signal %d: code %d pid %d uid %d, want code %d pid %d", sig,
		 si.si_code, si.si_pid, si.si_uid, code, getpid());
	if (code == SI_QUEUE)
		RT_CHECK(si.si_value.sival_int == val, "signal %d: value %d, want %d",
			 sig, si.si_value.sival_int, val);
}

static void check_itimer(int which, const struct itimerval *before)
{
	struct itimerval it;
	long long b, v;

	RT_CHECK(!getitimer(which, &it), "getitimer %d: %s", which,
		 strerror(errno));
	b = before->it_value.tv_sec * 1000000LL + before->it_value.tv_usec;
	v = it.it_value.tv_sec * 1000000LL + it.it_value.tv_usec;
	/* A tick of rounding up at most; 60 s for a slow emulated guest. */
	RT_CHECK(v <= b + 100000 && v >= b - 60000000LL,
		 "itimer %d: %lld us left, %lld us at checkpoint", which, v, b);
	RT_CHECK(it.it_interval.tv_sec == before->it_interval.tv_sec &&
		 it.it_interval.tv_usec == before->it_interval.tv_usec,
		 "itimer %d: interval %ld.%06ld, want %ld.%06ld", which,
		 (long)it.it_interval.tv_sec, (long)it.it_interval.tv_usec,
		 (long)before->it_interval.tv_sec,
		 (long)before->it_interval.tv_usec);
}

int main(int argc, char **argv)
{
	static struct sigaction before[NSIGS];
	static struct rlimit lim[RLIM_NLIMITS];
	struct itimerval its[3];
	struct sigaction sa;
	struct rlimit rl;
	sigset_t blocked, set, want;
	stack_t ss;
	int rt3, rt4, i, sig;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (argc > 2 && !strcmp(argv[2], "sleep"))
		return sleeper();

	rt3 = SIGRTMIN + 3;
	rt4 = SIGRTMIN + 4;
	handle(SIGUSR1, NULL, on_info, SA_RESTART, SIGUSR2, 0);
	handle(SIGUSR2, on_usr2, NULL, SA_ONSTACK | SA_NODEFER, SIGINT,
	       SIGRTMIN + 1);
	handle(SIGHUP, SIG_IGN, NULL, 0, 0, 0);
	handle(rt3, NULL, on_info, SA_RESETHAND, SIGHUP, 0);
	handle(rt4, NULL, on_info, SA_RESTART | SA_ONSTACK, 0, 0);
	handle(SIGALRM, on_usr2, NULL, 0, 0, 0);
	handle(SIGVTALRM, on_usr2, NULL, 0, 0, 0);
	handle(SIGPROF, on_usr2, NULL, 0, 0, 0);

	ss.ss_sp = altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = SS_AUTODISARM;
	if (sigaltstack(&ss, NULL))
		rt_die("sigaltstack");

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, rt3);
	sigaddset(&blocked, rt4);
	sigaddset(&blocked, SIGRTMIN + 7);
	if (sigprocmask(SIG_SETMASK, &blocked, NULL))
		rt_die("sigprocmask");
	/* SI_TKILL */
	if (syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid),
		    SIGUSR1) ||
	    kill(getpid(), SIGINT))
		rt_die("tgkill");
	queue(rt3, 111, 0);
	queue(rt3, 222, 0);
	queue(rt4, 333, 1);

	if (getrlimit(RLIMIT_NOFILE, &rl))
		rt_die("getrlimit");
	rl.rlim_cur = 200;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		rt_die("setrlimit NOFILE");
	rl.rlim_cur = 0;
	rl.rlim_max = 1 << 20;
	if (setrlimit(RLIMIT_CORE, &rl))
		rt_die("setrlimit CORE");
	for (i = 0; i < RLIM_NLIMITS; i++)
		if (getrlimit(i, &lim[i]))
			rt_die("getrlimit");

	memset(its, 0, sizeof(its));
	its[ITIMER_REAL].it_value.tv_sec = 1000;
	its[ITIMER_REAL].it_interval.tv_sec = 50;
	its[ITIMER_VIRTUAL].it_value.tv_sec = 2000;
	its[ITIMER_VIRTUAL].it_interval.tv_usec = 250000;
	its[ITIMER_PROF].it_value.tv_sec = 3000;
	its[ITIMER_PROF].it_interval.tv_sec = 20;
	for (i = 0; i < 3; i++)
		if (setitimer(i, &its[i], NULL))
			rt_die("setitimer");

	memset(before, 0, sizeof(before));
	for (sig = 1; sig < NSIGS; sig++)
		sigaction(sig, NULL, &before[sig]);

	if (rt_checkpoint())
		return 0;

	/* Timers first: they run on. */
	check_itimer(ITIMER_REAL, &its[ITIMER_REAL]);
	check_itimer(ITIMER_VIRTUAL, &its[ITIMER_VIRTUAL]);
	check_itimer(ITIMER_PROF, &its[ITIMER_PROF]);

	for (sig = 1; sig < NSIGS; sig++) {
		memset(&sa, 0, sizeof(sa));
		if (sigaction(sig, NULL, &sa))
			continue;
		RT_CHECK(sa.sa_handler == before[sig].sa_handler &&
			 sa.sa_flags == before[sig].sa_flags &&
			 mask64(&sa.sa_mask) == mask64(&before[sig].sa_mask),
			 "signal %d: handler %p flags %#x mask %#llx, was %p %#x %#llx",
			 sig, (void *)sa.sa_handler, sa.sa_flags,
			 mask64(&sa.sa_mask),
			 (void *)before[sig].sa_handler, before[sig].sa_flags,
			 mask64(&before[sig].sa_mask));
	}

	for (i = 0; i < RLIM_NLIMITS; i++) {
		RT_CHECK(!getrlimit(i, &rl), "getrlimit %d", i);
		RT_CHECK(rl.rlim_cur == lim[i].rlim_cur &&
			 rl.rlim_max == lim[i].rlim_max,
			 "rlimit %d: %llu/%llu, want %llu/%llu", i,
			 (unsigned long long)rl.rlim_cur,
			 (unsigned long long)rl.rlim_max,
			 (unsigned long long)lim[i].rlim_cur,
			 (unsigned long long)lim[i].rlim_max);
	}

	memset(&ss, 0, sizeof(ss));
	RT_CHECK(!sigaltstack(NULL, &ss) && ss.ss_sp == altstack &&
		 ss.ss_size == ALTSTACK_SIZE && ss.ss_flags == SS_AUTODISARM,
		 "sigaltstack %p size %zu flags %#x", ss.ss_sp, ss.ss_size,
		 ss.ss_flags);

	sigemptyset(&set);
	RT_CHECK(!sigprocmask(SIG_SETMASK, NULL, &set) &&
		 mask64(&set) == mask64(&blocked),
		 "blocked %#llx, want %#llx", mask64(&set),
		 mask64(&blocked));

	sigemptyset(&set);
	sigpending(&set);
	sigemptyset(&want);
	sigaddset(&want, SIGUSR1);
	sigaddset(&want, SIGINT);
	sigaddset(&want, rt3);
	sigaddset(&want, rt4);
	RT_CHECK(mask64(&set) == mask64(&want), "pending %#llx, want %#llx",
		 mask64(&set), mask64(&want));
	take(rt3, SI_QUEUE, 111);
	take(rt3, SI_QUEUE, 222);
	take(rt4, SI_QUEUE, 333);
	take(SIGUSR1, SI_TKILL, 0);
	take(SIGINT, SI_USER, 0);
	sigemptyset(&set);
	sigpending(&set);
	sigemptyset(&want);
	RT_CHECK(mask64(&set) == mask64(&want),
		 "still pending %#llx", mask64(&set));

	/* A handler still runs, on the alternate stack. */
	raise(SIGUSR2);
	RT_CHECK(usr2_seen && usr2_on_altstack,
		 "SIGUSR2 handler: ran %d, on the alternate stack %d",
		 usr2_seen, usr2_on_altstack);
	return rt_end();
}
