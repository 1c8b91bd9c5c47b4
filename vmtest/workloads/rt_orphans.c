// SPDX-License-Identifier: GPL-2.0
/*
 * rt_orphans IMAGE: processes whose session or group leader has exited,
 * for external checkpoint and restart. The root is a child subreaper
 * and forks:
 *  - C, which calls setsid() and forks D1 (in C's group) and D2 (a group
 *    of its own, with a child E), then exits: a daemon's double fork.
 *    D1 and D2 go to the root; session C has no leader any more, and its
 *    groups C and D2 are orphaned;
 *  - A, which leads a group of its own in the root's session and forks
 *    B, then exits: B goes to the root, in group A, which has no leader;
 *  - N, an ordinary child, for contrast.
 * The root reaps C and A. D1 sets a parent death signal (SIGUSR2) once
 * it is the root's. Every process notes its pid, parent, group and
 * session and fills memory with a pattern of its own; then the root
 * creates IMAGE.ready.
 *
 * After restart, the test sends SIGUSR1 to the root, which passes it on
 * to its children (D2 to E). Each checks what it noted and its pattern;
 * D1 also that its parent death signal is still SIGUSR2 and was never
 * sent. The root waits for its children and then checks that it has no
 * other (no process that the restart made for the dead leaders is left
 * for it to reap). Failures go to IMAGE.report.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include "rt.h"

#define RT_ORPHANS_PATTERN	(16 * 1024 / sizeof(unsigned long))

static struct {
	const char *name;
	struct rt_ids ids;
	pid_t children[4];
	int nr_children;
	unsigned long pattern[RT_ORPHANS_PATTERN];
} me;

static int rt_ready_pipe[2];
static pid_t rt_root;
static volatile sig_atomic_t rt_usr2;

static void rt_orphans_on_usr2(int sig)
{
	(void)sig;
	rt_usr2++;
}

static unsigned long rt_orphans_word(size_t i)
{
	return ((unsigned long)me.ids.pid << 40) ^ (i * 0x9e3779b97f4a7c15UL);
}

/* Note who we are, fill the pattern. */
static void rt_orphans_note(const char *name)
{
	size_t i;

	me.name = name;
	rt_ids_note(&me.ids);
	for (i = 0; i < RT_ORPHANS_PATTERN; i++)
		me.pattern[i] = rt_orphans_word(i);
}

/* Then tell the root; the pipe is not kept (pipes are not checkpointed). */
static void rt_orphans_ready(const char *name)
{
	rt_orphans_note(name);
	if (write(rt_ready_pipe[1], "r", 1) != 1)
		rt_die("ready write");
	close(rt_ready_pipe[0]);
	close(rt_ready_pipe[1]);
}

/* An orphan waits until the root is its parent. */
static void rt_orphans_adopted(void)
{
	while (getppid() != rt_root)
		usleep(1000);
}

static void rt_orphans_check(void)
{
	size_t i, bad = 0;

	rt_ids_check(&me.ids, me.name);
	for (i = 0; i < RT_ORPHANS_PATTERN; i++)
		if (me.pattern[i] != rt_orphans_word(i))
			bad++;
	RT_CHECK(!bad, "%s: %zu words of its pattern differ", me.name, bad);
}

/* SIGUSR1 to the children, then their verdicts. */
static void rt_orphans_wake_children(void)
{
	int i, status;

	for (i = 0; i < me.nr_children; i++)
		RT_CHECK(kill(me.children[i], SIGUSR1) == 0,
			 "%s: SIGUSR1 to child %d: %s", me.name,
			 me.children[i], strerror(errno));
	for (i = 0; i < me.nr_children; i++) {
		pid_t got = waitpid(me.children[i], &status, 0);

		RT_CHECK(got == me.children[i] && WIFEXITED(status) &&
			 WEXITSTATUS(status) == 0,
			 "%s: child %d: waitpid %d, status %#x", me.name,
			 me.children[i], got, status);
	}
}

static sigset_t rt_orphans_old_mask;

static void rt_orphans_live(void) __attribute__((noreturn));

static void rt_orphans_live(void)
{
	siginfo_t info;

	while (!rt_usr1)
		sigsuspend(&rt_orphans_old_mask);
	sigprocmask(SIG_SETMASK, &rt_orphans_old_mask, NULL);
	rt_orphans_check();
	if (!strcmp(me.name, "D1")) {
		int sig = 0;

		RT_CHECK(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGUSR2,
			 "D1: parent death signal %d, want %d", sig, SIGUSR2);
		RT_CHECK(!rt_usr2, "D1: got its parent death signal %d times",
			 (int)rt_usr2);
	}
	rt_orphans_wake_children();
	if (me.ids.pid != rt_root)
		exit(rt_failures ? 1 : 0);
	/* Nothing else to reap: __WALL sees children of any exit signal. */
	memset(&info, 0, sizeof(info));
	RT_CHECK(waitid(P_ALL, 0, &info, WEXITED | WNOHANG | __WALL) < 0 &&
		 errno == ECHILD, "root: another child, pid %d", info.si_pid);
	exit(rt_end());
}

static pid_t rt_orphans_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		rt_die("fork");
	return pid;
}

/* The daemon's double fork: C, D1, D2 and E. */
static pid_t rt_orphans_daemon(void)
{
	pid_t c = rt_orphans_fork(), d2;

	if (c)
		return c;
	if (setsid() < 0)
		rt_die("setsid");
	if (!rt_orphans_fork()) {
		rt_orphans_adopted();
		if (prctl(PR_SET_PDEATHSIG, SIGUSR2) < 0)
			rt_die("PR_SET_PDEATHSIG");
		rt_orphans_ready("D1");
		rt_orphans_live();
	}
	d2 = rt_orphans_fork();
	if (!d2) {
		if (setpgid(0, 0) < 0)
			rt_die("setpgid D2");
		me.children[0] = rt_orphans_fork();
		if (!me.children[0]) {
			rt_orphans_ready("E");
			rt_orphans_live();
		}
		me.nr_children = 1;
		rt_orphans_adopted();
		rt_orphans_ready("D2");
		rt_orphans_live();
	}
	exit(0);
}

/* A group whose leader exits: A and B. */
static pid_t rt_orphans_group(void)
{
	pid_t a = rt_orphans_fork();

	if (a)
		return a;
	if (setpgid(0, 0) < 0)
		rt_die("setpgid A");
	if (!rt_orphans_fork()) {
		rt_orphans_adopted();
		rt_orphans_ready("B");
		rt_orphans_live();
	}
	exit(0);
}

/* The root's children now: the orphans it adopted and N. */
static void rt_orphans_adopt(void)
{
	char buf[64];
	pid_t kid;
	FILE *f;

	snprintf(buf, sizeof(buf), "/proc/%d/task/%d/children", rt_root,
		 rt_root);
	f = fopen(buf, "r");
	if (!f)
		rt_die("children");
	while (fscanf(f, "%d", &kid) == 1)
		if (me.nr_children < 4)
			me.children[me.nr_children++] = kid;
	fclose(f);
	if (me.nr_children != 4) {
		errno = EINVAL;
		rt_die("the root has not 4 children");
	}
}

int main(int argc, char **argv)
{
	pid_t c, a;
	int status;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	rt_catch_usr1(&rt_orphans_old_mask);
	if (signal(SIGUSR2, rt_orphans_on_usr2) == SIG_ERR)
		rt_die("signal");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		rt_die("PR_SET_CHILD_SUBREAPER");
	rt_root = getpid();
	if (pipe(rt_ready_pipe) < 0)
		rt_die("pipe");

	c = rt_orphans_daemon();
	a = rt_orphans_group();
	if (!rt_orphans_fork()) {
		rt_orphans_ready("N");
		rt_orphans_live();
	}
	close(rt_ready_pipe[1]);
	rt_await(rt_ready_pipe[0], 5);	/* D1, D2, E, B and N */
	if (waitpid(c, &status, 0) != c || status)
		rt_die("waitpid C");
	if (waitpid(a, &status, 0) != a || status)
		rt_die("waitpid A");
	rt_orphans_note("root");
	rt_orphans_adopt();
	rt_ready();
	rt_orphans_live();
}
