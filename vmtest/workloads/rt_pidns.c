// SPDX-License-Identifier: GPL-2.0
/*
 * rt_pidns IMAGE: a tree in pid namespaces, for external checkpoint of
 * its root C. We (P) make C with clone3(CLONE_NEWPID): C is pid 1 of a
 * new namespace; we write C's pid (ours) to IMAGE.root and sleep. C
 * forks A and B (pids 2 and 3); B makes N with clone3(CLONE_NEWPID), pid
 * 1 of a namespace nested in C's, and N forks M (pid 2 there): two
 * levels of pid namespaces below the restarter's. Every process notes
 * its pid and parent as it sees them and fills memory with a pattern;
 * C creates IMAGE.ready once all are set up, and all sleep until
 * SIGUSR1.
 *
 * After restart the test sends SIGUSR1 to C (its pid as the restarter
 * sees it). Each process checks its pid, its parent and its pattern,
 * wakes its children, waits for them and exits 0 only if they did too.
 * N and M also check that they are in a namespace of their own: N is
 * pid 1 with parent 0 (outside), as C is.
 *
 * rt_pidns IMAGE private: C first opens its report and stdio anew, so
 * that the tree shares no open file with P: a container checkpoint
 * (without CHECKPOINT_SUBTREE) of C then finds nothing leaked.
 */
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "rt.h"

#define RT_WORDS	(16 * 1024 / sizeof(unsigned long))

static struct {
	const char *name;
	pid_t pid, ppid;
	pid_t children[2];
	int nr_children;
	unsigned long *pattern;
} me;

static sigset_t rt_old_mask;
static int rt_up = -1;

static unsigned long rt_word(size_t i)
{
	return ((unsigned long)me.name[0] << 40) ^ (i * 40503UL);
}

static void rt_become(const char *name)
{
	size_t i;

	me.name = name;
	me.pid = getpid();
	me.ppid = getppid();
	me.nr_children = 0;
	me.pattern = malloc(RT_WORDS * sizeof(*me.pattern));
	if (!me.pattern)
		rt_die("malloc");
	for (i = 0; i < RT_WORDS; i++)
		me.pattern[i] = rt_word(i);
}

/* fork(), or clone3(CLONE_NEWPID): the child is pid 1 of a new namespace. */
static pid_t rt_spawn(int newpid)
{
	struct clone_args args = {
		.flags = newpid ? CLONE_NEWPID : 0,
		.exit_signal = SIGCHLD,
	};
	pid_t pid = syscall(SYS_clone3, &args, sizeof(args));

	if (pid < 0)
		rt_die("clone3");
	return pid;
}

/* Tell the parent that this subtree is ready. */
static void rt_ready_up(void)
{
	if (rt_up >= 0) {
		if (write(rt_up, "r", 1) != 1)
			rt_die("ready write");
		close(rt_up);
		rt_up = -1;
	}
}

static void rt_live(void) __attribute__((noreturn));

/*
 * Make child name (newpid: in a new namespace), which runs body and then
 * lives until SIGUSR1; returns once the child's subtree is ready.
 */
static void rt_child(const char *name, int newpid, void (*body)(void))
{
	int ready[2];
	pid_t pid;

	if (pipe(ready) < 0)
		rt_die("pipe");
	pid = rt_spawn(newpid);
	if (!pid) {
		close(ready[0]);
		if (rt_up >= 0)
			close(rt_up);
		rt_up = ready[1];
		rt_become(name);
		if (body)
			body();
		rt_ready_up();
		rt_live();
	}
	close(ready[1]);
	rt_await(ready[0], 1);
	me.children[me.nr_children++] = pid;
}

static void rt_n(void)
{
	rt_child("M", 0, NULL);
}

static void rt_b(void)
{
	rt_child("N", 1, rt_n);
}

static void rt_check(void)
{
	size_t i, bad = 0;

	RT_CHECK(getpid() == me.pid, "%s: pid %d, was %d", me.name, getpid(),
		 me.pid);
	RT_CHECK(getppid() == me.ppid, "%s: parent %d, was %d", me.name,
		 getppid(), me.ppid);
	if (me.name[0] == 'C' || me.name[0] == 'N')
		RT_CHECK(getpid() == 1 && getppid() == 0,
			 "%s: pid %d parent %d, want 1 and 0 (a namespace's init)",
			 me.name, getpid(), getppid());
	for (i = 0; i < RT_WORDS; i++)
		bad += me.pattern[i] != rt_word(i);
	RT_CHECK(!bad, "%s: %zu words of its pattern differ", me.name, bad);
}

static void rt_live(void)
{
	int i, status;

	while (!rt_usr1)
		sigsuspend(&rt_old_mask);
	sigprocmask(SIG_SETMASK, &rt_old_mask, NULL);
	rt_check();
	for (i = 0; i < me.nr_children; i++)
		RT_CHECK(kill(me.children[i], SIGUSR1) == 0,
			 "%s: SIGUSR1 to %d: %s", me.name, me.children[i],
			 strerror(errno));
	for (i = 0; i < me.nr_children; i++)
		RT_CHECK(waitpid(me.children[i], &status, 0) == me.children[i] &&
			 WIFEXITED(status) && !WEXITSTATUS(status),
			 "%s: child %d ended with %#x (%s)", me.name,
			 me.children[i], status, strerror(errno));
	if (me.name[0] == 'C')
		exit(rt_end());
	exit(rt_failures ? 1 : 0);
}

static void rt_c(void)
{

	rt_child("A", 0, NULL);
	rt_child("B", 0, rt_b);
	rt_ready();
}

int main(int argc, char **argv)
{
	pid_t c;
	int fd;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	rt_catch_usr1(&rt_old_mask);
	c = rt_spawn(1);
	if (!c) {
		if (argc > 2 && !strcmp(argv[2], "private")) {
			rt_open_at(rt_path(".report"), O_WRONLY | O_APPEND,
				   RT_REPORT_FD);
			rt_stdio_null();
		}
		rt_become("C");
		rt_c();
		rt_live();
	}
	fd = open(rt_path(".root"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dprintf(fd, "%d\n", c) < 0)
		rt_die("root file");
	close(fd);
	for (;;)
		pause();
}
