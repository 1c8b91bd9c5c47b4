// SPDX-License-Identifier: GPL-2.0
/*
 * rt_zombies IMAGE: a process with children that have exited and that it
 * has not reaped yet, for external checkpoint:
 *  - A exited with status 7;
 *  - B was killed by SIGTERM;
 *  - C led a process group of its own, forked C1 into it and exited
 *    with status 3: the group lives on with C1, which was reparented to
 *    us (we are a child subreaper), around C's zombie.
 * SIGCHLD is blocked, and the one their deaths raised is taken with
 * sigtimedwait() before the checkpoint: none may be pending after it.
 *
 * After restart (SIGUSR1), we check that no SIGCHLD is pending, that
 * waitid(WNOWAIT) and then waitpid() report each zombie as it ended,
 * that C1 is our child in C's group, then wake C1, which checks itself,
 * and reap it.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include "rt.h"

static pid_t a, b, c, c1;

static pid_t rt_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		rt_die("fork");
	return pid;
}

/* C1: in C's group, our child once C is gone; checks itself on SIGUSR1. */
static void rt_c1(sigset_t *old, pid_t group)
{
	while (!rt_usr1)
		sigsuspend(old);
	RT_CHECK(getpgrp() == group, "C1: group %d, want %d", getpgrp(),
		 group);
	exit(rt_failures ? 1 : 0);
}

/* The status of a zombie, first without reaping it, then reaping it. */
static void rt_check_zombie(const char *name, pid_t pid, int want)
{
	siginfo_t si = { 0 };
	int status;

	RT_CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0 &&
		 si.si_pid == pid,
		 "%s: waitid(WNOWAIT): pid %d, %s", name, si.si_pid,
		 strerror(errno));
	RT_CHECK(waitpid(pid, &status, WNOHANG) == pid,
		 "%s: waitpid(%d, WNOHANG) found nothing: %s", name, pid,
		 strerror(errno));
	RT_CHECK(status == want, "%s: status %#x, want %#x", name, status,
		 want);
}

int main(int argc, char **argv)
{
	struct timespec ts = { .tv_sec = 10 };
	sigset_t old, chld, pending;
	pid_t pid;
	int n;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	rt_catch_usr1(&old);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		rt_die("sigprocmask SIGCHLD");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		rt_die("PR_SET_CHILD_SUBREAPER");

	a = rt_fork();
	if (!a)
		_exit(7);
	b = rt_fork();
	if (!b) {
		signal(SIGTERM, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		raise(SIGTERM);
		_exit(99);
	}
	c = rt_fork();
	if (!c) {
		if (setpgid(0, 0) < 0)
			rt_die("setpgid C");
		if (!rt_fork())
			rt_c1(&old, getpgrp());
		_exit(3);
	}
	/* C1 is the child of ours that is not A, B or C. */
	for (n = 0; n < 100 && !c1; n++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 getpid(), getpid());
		f = fopen(path, "r");
		if (!f)
			rt_die("children");
		while (fscanf(f, "%d", &pid) == 1)
			if (pid != a && pid != b && pid != c)
				c1 = pid;
		fclose(f);
		if (!c1)
			usleep(10000);
	}
	if (!c1)
		rt_die("C1 was not reparented to us");
	/* A, B and C are zombies once waitid(WNOWAIT) sees them. */
	for (n = 0; n < 3; n++) {
		siginfo_t si;
		pid_t want = n == 0 ? a : n == 1 ? b : c;

		if (waitid(P_PID, want, &si, WEXITED | WNOWAIT) < 0)
			rt_die("waitid");
	}
	if (sigtimedwait(&chld, NULL, &ts) != SIGCHLD)
		rt_die("sigtimedwait SIGCHLD");
	rt_ready();
	while (!rt_usr1)
		sigsuspend(&old);
	rt_report("restarted: pid %d", getpid());

	sigpending(&pending);
	RT_CHECK(!sigismember(&pending, SIGCHLD),
		 "SIGCHLD pending after the restart");
	rt_check_zombie("A", a, 7 << 8);
	rt_check_zombie("B", b, SIGTERM);
	rt_check_zombie("C", c, 3 << 8);
	RT_CHECK(getpgid(c1) == c, "C1: group %d, want %d", getpgid(c1), c);
	RT_CHECK(kill(c1, SIGUSR1) == 0, "SIGUSR1 to C1: %s", strerror(errno));
	RT_CHECK(waitpid(c1, &n, 0) == c1 && WIFEXITED(n) &&
		 WEXITSTATUS(n) == 0, "C1 ended with %#x", n);
	return rt_end();
}
