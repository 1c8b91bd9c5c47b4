// SPDX-License-Identifier: GPL-2.0
/*
 * rt_ns: a process in namespaces of its own (or in its caller's).
 *
 *	rt_ns IMAGE MODE [HOSTNAME DOMAINNAME]
 *
 * MODE says which namespace the process unshares before it waits to be
 * checkpointed from outside (rt_external()):
 *	caller		none: it stays in the test's namespaces
 *	uts		UTS, then sets HOSTNAME and DOMAINNAME
 *	uts-self	the same, then checkpoints itself (rt_checkpoint())
 *	ipc		IPC, with a SysV message queue holding one message and
 *			a semaphore set (issue 13's example)
 *	mnt net cgroup user
 *			that kind (user: with uid and gid 0 mapped to 0)
 *	pid-children time-children
 *			unshare(CLONE_NEWPID / CLONE_NEWTIME), which moves the
 *			caller's future children only
 *	pid time	the same, then fork: the child is in the new namespace
 *			and is the process to checkpoint; the parent waits for
 *			it and exits with its status
 * IMAGE.pid gets the pid of the process to checkpoint before IMAGE.ready
 * appears. After SIGUSR1 (or the restart, for uts-self) the process
 * reports "hostname: X" and "domainname: Y", checks that every namespace
 * is still the one it had (/proc/self/ns/ *), and checks its state: the
 * UTS names (uts modes; it then changes its hostname, which must not
 * touch anyone else's), the queued message and the semaphore (ipc).
 *
 *	rt_ns IMAGE restart-in KIND LOG [self]
 *
 * unshares KIND (pid or time: for its children) and restarts IMAGE as
 * coordinator (with "self": itself, RESTART_TASKSELF): prints "restart:
 * errno N" (0 on success, then the child is killed and reaped) with the
 * kernel's messages in LOG.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "rt.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif

static const char *const kinds[] = {
	"uts", "ipc", "mnt", "net", "cgroup", "time", "time_for_children",
	"pid", "pid_for_children", "user",
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static char ns_before[NKINDS][64];

static void read_ns(char out[NKINDS][64])
{
	char path[64];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < NKINDS; i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", kinds[i]);
		n = readlink(path, out[i], 63);
		out[i][n < 0 ? 0 : n] = '\0';
	}
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		rt_die(path);
	close(fd);
}

struct msgbuf1 {
	long mtype;
	char mtext[16];
};

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int msq = -1, sem = -1;

static void setup_ipc(void)
{
	struct msgbuf1 m = { .mtype = 7, .mtext = "kcr-msg" };

	msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (msq < 0)
		rt_die("msgget");
	if (msgsnd(msq, &m, sizeof(m.mtext), 0) < 0)
		rt_die("msgsnd");
	sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	if (sem < 0)
		rt_die("semget");
	if (semctl(sem, 1, SETVAL, (union semun){ .val = 42 }) < 0)
		rt_die("semctl SETVAL");
}

static void check_ipc(void)
{
	struct msqid_ds ds;
	struct msgbuf1 m;

	RT_CHECK(msgctl(msq, IPC_STAT, &ds) == 0, "msgctl IPC_STAT: %s",
		 strerror(errno));
	RT_CHECK(ds.msg_qnum == 1, "%lu messages queued",
		 (unsigned long)ds.msg_qnum);
	RT_CHECK(msgrcv(msq, &m, sizeof(m.mtext), 7, IPC_NOWAIT) > 0 &&
		 !strcmp(m.mtext, "kcr-msg"), "msgrcv: %s", strerror(errno));
	RT_CHECK(semctl(sem, 1, GETVAL) == 42, "semaphore 1 is %d (%s)",
		 semctl(sem, 1, GETVAL), strerror(errno));
}

static void check_state(const char *mode, const char *host,
			const char *domain)
{
	char now[NKINDS][64];
	struct utsname u;
	unsigned int i;

	if (uname(&u) < 0)
		rt_die("uname");
	rt_report("hostname: %s", u.nodename);
	rt_report("domainname: %s", u.domainname);
	read_ns(now);
	for (i = 0; i < NKINDS; i++)
		RT_CHECK(!strcmp(now[i], ns_before[i]),
			 "%s namespace was %s, is %s", kinds[i],
			 ns_before[i], now[i]);
	if (!strncmp(mode, "uts", 3)) {
		RT_CHECK(!strcmp(u.nodename, host), "hostname %s, want %s",
			 u.nodename, host);
		RT_CHECK(!strcmp(u.domainname, domain),
			 "domainname %s, want %s", u.domainname, domain);
		RT_CHECK(sethostname("kcr-ns-changed", 14) == 0,
			 "sethostname: %s", strerror(errno));
	}
	if (!strcmp(mode, "ipc"))
		check_ipc();
}

static int restart_in(const char *image, const char *kind, const char *log,
		      int self)
{
	struct ckpt_ioc_restart arg;
	int dev, img, logfd, ret, err;

	if (unshare(!strcmp(kind, "pid") ? CLONE_NEWPID : CLONE_NEWTIME) < 0) {
		perror("unshare");
		return 2;
	}
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	img = open(image, O_RDONLY | O_CLOEXEC);
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (dev < 0 || img < 0 || logfd < 0) {
		perror("open");
		return 2;
	}
	memset(&arg, 0, sizeof(arg));
	arg.fd = img;
	arg.logfd = logfd;
	/* A pid namespace of its own would make the task pid 1 there. */
	arg.flags = self ? RESTART_TASKSELF : RESTART_NO_PIDS;
	ret = ioctl(dev, CKPT_IOC_RESTART, &arg);
	err = ret < 0 ? errno : 0;
	printf("restart: errno %d\n", err);
	if (ret > 0) {
		kill(ret, SIGKILL);
		waitpid(ret, NULL, __WALL);
	}
	return 0;
}

static int unshare_mode(const char *mode)
{
	static const struct {
		const char *mode;
		int flag;
	} modes[] = {
		{ "uts", CLONE_NEWUTS }, { "uts-self", CLONE_NEWUTS },
		{ "ipc", CLONE_NEWIPC }, { "mnt", CLONE_NEWNS },
		{ "net", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP },
		{ "user", CLONE_NEWUSER }, { "pid-children", CLONE_NEWPID },
		{ "time-children", CLONE_NEWTIME }, { "pid", CLONE_NEWPID },
		{ "time", CLONE_NEWTIME }, { "caller", 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(mode, modes[i].mode))
			return modes[i].flag;
	return -1;
}

int main(int argc, char **argv)
{
	const char *mode, *host = "", *domain = "";
	char pidline[32];
	int flag, fd, status;
	pid_t child;

	if (argc >= 5 && !strcmp(argv[2], "restart-in"))
		return restart_in(argv[1], argv[3], argv[4],
				  argc >= 6 && !strcmp(argv[5], "self"));
	if (argc < 3)
		return 2;
	mode = argv[2];
	if (argc >= 5) {
		host = argv[3];
		domain = argv[4];
	}
	rt_begin(argv[1]);
	flag = unshare_mode(mode);
	if (flag < 0) {
		errno = EINVAL;
		rt_die(mode);
	}
	if (flag && unshare(flag) < 0)
		rt_die("unshare");
	if (flag == CLONE_NEWUSER) {
		write_file("/proc/self/setgroups", "deny");
		write_file("/proc/self/uid_map", "0 0 1");
		write_file("/proc/self/gid_map", "0 0 1");
	}
	if (flag == CLONE_NEWUTS) {
		if (sethostname(host, strlen(host)) < 0)
			rt_die("sethostname");
		if (setdomainname(domain, strlen(domain)) < 0)
			rt_die("setdomainname");
	}
	if (!strcmp(mode, "ipc"))
		setup_ipc();
	child = getpid();
	if (!strcmp(mode, "pid") || !strcmp(mode, "time")) {
		child = fork();
		if (child < 0)
			rt_die("fork");
	}
	if (child > 0) {
		/* Our pid as the test sees it (the child is 1 in its pid ns). */
		snprintf(pidline, sizeof(pidline), "%d\n", child);
		fd = open(rt_path(".pid"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, pidline, strlen(pidline)) < 0)
			rt_die("pid file");
		close(fd);
	}
	if (child > 0 && child != getpid()) {
		if (waitpid(child, &status, 0) < 0)
			rt_die("waitpid");
		return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
	}
	read_ns(ns_before);

	if (!strcmp(mode, "uts-self")) {
		if (rt_checkpoint())
			return 0;
	} else {
		rt_external();
	}
	check_state(mode, host, domain);
	return rt_end();
}
