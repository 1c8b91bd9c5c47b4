// SPDX-License-Identifier: GPL-2.0
/*
 * rt_task: the TASK record's state survives a self checkpoint and
 * restart: comm, personality, parent-death signal, no_new_privs, child
 * subreaper, timer slack, nice, the robust futex list, the clear-child-tid
 * address. Usage: rt_task IMAGE.
 */
#include <linux/futex.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "rt.h"

#define COMM		"rt-task-comm"
#define PERS		(PER_LINUX | ADDR_NO_RANDOMIZE)
#define SLACK		123456UL
#define NICE		7

static struct robust_list_head robust = {
	.list = { &robust.list },
	.futex_offset = 8,
};
static int tid_word;

int main(int argc, char **argv)
{
	struct robust_list_head *head;
	unsigned long slack;
	size_t len;
	char comm[16];
	int *tidp;
	int v, pers;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (prctl(PR_SET_NAME, COMM) || personality(PERS) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGUSR2) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1) ||
	    prctl(PR_SET_TIMERSLACK, SLACK) ||
	    setpriority(PRIO_PROCESS, 0, NICE) ||
	    syscall(SYS_set_robust_list, &robust, sizeof(robust)))
		rt_die("setup");
	syscall(SYS_set_tid_address, &tid_word);

	if (rt_checkpoint())
		return 0;

	prctl(PR_GET_NAME, comm);
	RT_CHECK(!strcmp(comm, COMM), "comm %s", comm);
	pers = personality(0xffffffff);
	RT_CHECK(pers == PERS, "personality %#x", pers);
	v = 0;
	prctl(PR_GET_PDEATHSIG, &v);
	RT_CHECK(v == SIGUSR2, "parent-death signal %d", v);
	v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	RT_CHECK(v == 1, "no_new_privs %d", v);
	v = 0;
	prctl(PR_GET_CHILD_SUBREAPER, &v);
	RT_CHECK(v == 1, "child subreaper %d", v);
	slack = prctl(PR_GET_TIMERSLACK);
	RT_CHECK(slack == SLACK, "timer slack %lu", slack);
	errno = 0;
	v = getpriority(PRIO_PROCESS, 0);
	RT_CHECK(v == NICE && !errno, "nice %d", v);
	head = NULL;
	len = 0;
	v = syscall(SYS_get_robust_list, 0, &head, &len);
	RT_CHECK(!v && head == &robust && len == sizeof(robust),
		 "robust list %p len %zu", (void *)head, len);
	tidp = NULL;
	v = prctl(PR_GET_TID_ADDRESS, &tidp);
	RT_CHECK(!v && tidp == &tid_word, "clear_child_tid %p", (void *)tidp);
	rt_report("pid %d ppid %d", getpid(), getppid());
	return rt_end();
}
