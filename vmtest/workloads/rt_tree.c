// SPDX-License-Identifier: GPL-2.0
/*
 * rt_tree IMAGE [FANOUT...]: a tree of processes for external checkpoint
 * and restart. The root (depth 0) forks FANOUT[0] children, each of them
 * FANOUT[1], and so on (default 4 3 3: 53 processes, three levels below
 * the root). Some make sessions and groups on the way:
 *  - the first child of the root calls setsid() before it forks: its
 *    subtree is a session of its own;
 *  - the second child of the root leads a process group of its own,
 *    which its children inherit;
 *  - the children of the third child of the root join the second
 *    child's group (same session, another parent).
 * Every process fills memory with a pattern of its own, notes its pid,
 * parent, group and session, tells its parent it is ready, and sleeps
 * until SIGUSR1. The root then creates IMAGE.ready.
 *
 * After restart, the test sends SIGUSR1 to the root. Each process checks
 * its pid, parent, group, session and pattern, passes SIGUSR1 on to its
 * children, waits for them and exits 0 only if they all did too, so the
 * root's exit status covers the whole tree. Failures go to IMAGE.report,
 * opened once by the root and shared by all (one open file, O_APPEND).
 */
#include <sys/wait.h>

#include "rt.h"

#define RT_TREE_MAX_DEPTH	4
#define RT_TREE_MAX_FANOUT	8
#define RT_TREE_PATTERN		(64 * 1024 / sizeof(unsigned long))

static int fanout[RT_TREE_MAX_DEPTH] = { 4, 3, 3 };
static int levels = 3;
static pid_t rt_second;		/* the root's second child */
static int rt_up = -1;		/* write end of the parent's ready pipe */

static struct {
	struct rt_ids ids;
	int depth, index;
	pid_t children[RT_TREE_MAX_FANOUT];
	int nr_children;
	unsigned long *pattern;
} me;

static unsigned long rt_tree_word(size_t i)
{
	return ((unsigned long)me.ids.pid << 32) ^ (i * 2654435761UL) ^
	       (unsigned long)me.depth << 24;
}

static void rt_tree_fill(void)
{
	size_t i;

	me.pattern = malloc(RT_TREE_PATTERN * sizeof(*me.pattern));
	if (!me.pattern)
		rt_die("malloc");
	for (i = 0; i < RT_TREE_PATTERN; i++)
		me.pattern[i] = rt_tree_word(i);
}

static void rt_tree_note(void)
{
	rt_ids_note(&me.ids);
}

static void rt_tree_live(void) __attribute__((noreturn));

/*
 * Become the process at depth with index among its siblings; then fork
 * the children, each reporting readiness with one byte on a pipe that
 * is closed before the checkpoint (pipes are not checkpointed).
 */
static void rt_tree_grow(int depth, int index, pid_t join_pgid)
{
	int ready[2];
	int i;

	me.depth = depth;
	me.index = index;
	if (depth == 1 && index == 0 && setsid() < 0)
		rt_die("setsid");
	if (depth == 1 && index == 1 && setpgid(0, 0) < 0)
		rt_die("setpgid own");
	if (join_pgid && setpgid(0, join_pgid) < 0)
		rt_die("setpgid join");
	rt_tree_note();
	rt_tree_fill();
	if (depth >= levels)
		return;
	if (pipe(ready) < 0)
		rt_die("pipe");
	for (i = 0; i < fanout[depth]; i++) {
		pid_t pid = fork();

		if (pid < 0)
			rt_die("fork");
		if (pid == 0) {
			/* The root's third child: its children join the second's. */
			pid_t join = depth == 1 && index == 2 ? rt_second : 0;

			/* Only our own parent's pipe stays open, until ready. */
			close(ready[0]);
			if (rt_up >= 0)
				close(rt_up);
			rt_up = ready[1];
			me.nr_children = 0;
			rt_tree_grow(depth + 1, i, join);
			if (write(rt_up, "r", 1) != 1)
				rt_die("ready write");
			close(rt_up);
			rt_tree_live();
		}
		me.children[me.nr_children++] = pid;
		/* As a shell does: the group exists before anyone joins it. */
		if (depth == 0 && i == 1) {
			rt_second = pid;
			if (setpgid(pid, pid) < 0)
				rt_die("setpgid child");
		}
	}
	close(ready[1]);
	rt_await(ready[0], fanout[depth]);
}

static void rt_tree_check(void)
{
	size_t i, bad = 0;
	char who[64];

	snprintf(who, sizeof(who), "depth %d index %d (pid %d)", me.depth,
		 me.index, me.ids.pid);
	rt_ids_check(&me.ids, who);
	for (i = 0; i < RT_TREE_PATTERN; i++)
		if (me.pattern[i] != rt_tree_word(i))
			bad++;
	RT_CHECK(!bad, "%s: %zu words of its pattern differ", who, bad);
}

/* SIGUSR1 to the children, then their verdicts. */
static void rt_tree_wake_children(void)
{
	int i, status;

	for (i = 0; i < me.nr_children; i++)
		RT_CHECK(kill(me.children[i], SIGUSR1) == 0,
			 "pid %d: SIGUSR1 to child %d: %s", me.ids.pid,
			 me.children[i], strerror(errno));
	for (i = 0; i < me.nr_children; i++) {
		pid_t got = waitpid(me.children[i], &status, 0);

		RT_CHECK(got == me.children[i], "pid %d: waitpid(%d): %d %s",
			 me.ids.pid, me.children[i], got, strerror(errno));
		RT_CHECK(got != me.children[i] ||
			 (WIFEXITED(status) && WEXITSTATUS(status) == 0),
			 "pid %d: child %d ended with status %#x", me.ids.pid,
			 me.children[i], status);
	}
}

static sigset_t rt_tree_old_mask;

/* Sleep until SIGUSR1, check, wake the children, exit with the verdict. */
static void rt_tree_live(void)
{
	while (!rt_usr1)
		sigsuspend(&rt_tree_old_mask);
	sigprocmask(SIG_SETMASK, &rt_tree_old_mask, NULL);
	rt_tree_check();
	rt_tree_wake_children();
	if (me.depth == 0)
		exit(rt_end());
	exit(rt_failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 2;
	if (argc > 2) {
		levels = argc - 2;
		if (levels > RT_TREE_MAX_DEPTH)
			return 2;
		for (i = 0; i < levels; i++) {
			fanout[i] = atoi(argv[i + 2]);
			if (fanout[i] < 1 || fanout[i] > RT_TREE_MAX_FANOUT)
				return 2;
		}
	}
	rt_begin(argv[1]);
	rt_catch_usr1(&rt_tree_old_mask);

	rt_tree_grow(0, 0, 0);
	rt_ready();
	rt_tree_live();
}
