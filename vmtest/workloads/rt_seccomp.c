// SPDX-License-Identifier: GPL-2.0
/*
 * rt_seccomp: seccomp filters across a checkpoint, and state that a
 * checkpoint refuses. Usage:
 *
 *   rt_seccomp IMAGE filter N [unpriv]
 *	no_new_privs, then two filters: getppid() fails with errno 77 and
 *	uname() kills the process (first), getuid() fails with errno 78
 *	(second, SECCOMP_FILTER_FLAG_LOG); checkpoints itself. Restarted,
 *	it checks those behaviours and that it has N filters in all
 *	(2, or 3 under "wrap"). unpriv: become uid/gid 1000 first.
 *   rt_seccomp IMAGE none
 *	no filter; checkpoints itself.
 *   rt_seccomp IMAGE wrap PROG ARGS...
 *	no_new_privs and one filter (getpgid() fails with errno 79), then
 *	exec PROG: a restarter, or a workload, in a sandbox.
 *   rt_seccomp IMAGE landlock|semundo|uffd
 *	a Landlock domain (mkdir denied), a SysV semaphore undo entry, or
 *	a userfaultfd-registered mapping; then waits to be checkpointed
 *	(rt_external): the checkpoint must be refused, and the process,
 *	thawed and sent SIGUSR1, checks its state is intact.
 *	unpriv (filter mode): become uid/gid 1000 before anything else.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "rt.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#define __NR_landlock_restrict_self	446
#endif

#define LOAD_NR	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			 offsetof(struct seccomp_data, nr))
#define ON(nr, ret) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, (ret))
#define ALLOW	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static void install(struct sock_filter *insns, unsigned short len,
		    unsigned int flags)
{
	struct sock_fprog prog = { .len = len, .filter = insns };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog))
		rt_die("seccomp");
}

static void filters(void)
{
	struct sock_filter f1[] = {
		LOAD_NR,
		ON(SYS_getppid, SECCOMP_RET_ERRNO | 77),
		ON(SYS_uname, SECCOMP_RET_KILL_PROCESS),
		ALLOW,
	};
	struct sock_filter f2[] = {
		LOAD_NR,
		ON(SYS_getuid, SECCOMP_RET_ERRNO | 78),
		ALLOW,
	};

	install(f1, sizeof(f1) / sizeof(f1[0]), 0);
	install(f2, sizeof(f2) / sizeof(f2[0]), SECCOMP_FILTER_FLAG_LOG);
}

/* The value of "Key:" in /proc/self/status, -1 if absent. */
static long status(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':')
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static void check_filters(long want)
{
	struct utsname u;
	long r;
	int st = 0;
	pid_t pid;

	errno = 0;
	r = syscall(SYS_getppid);
	RT_CHECK(r == -1 && errno == 77, "getppid: %ld errno %d", r, errno);
	errno = 0;
	r = syscall(SYS_getuid);
	RT_CHECK(r == -1 && errno == 78, "getuid: %ld errno %d", r, errno);
	r = syscall(SYS_getpgid, 0);
	if (want == 3)
		RT_CHECK(r == -1 && errno == 79, "getpgid: %ld errno %d", r,
			 errno);
	else
		RT_CHECK(r > 0, "getpgid: %ld errno %d", r, errno);
	RT_CHECK(status("Seccomp") == 2, "Seccomp: %ld", status("Seccomp"));
	RT_CHECK(status("Seccomp_filters") == want, "Seccomp_filters: %ld",
		 status("Seccomp_filters"));
	RT_CHECK(status("NoNewPrivs") == 1, "NoNewPrivs: %ld",
		 status("NoNewPrivs"));
	pid = fork();
	if (pid == 0) {
		uname(&u);
		_exit(0);
	}
	RT_CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
		 WTERMSIG(st) == SIGSYS, "uname in a child: status %#x", st);
}

static void unpriv(void)
{
	if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		rt_die("become 1000");
}

static int landlock(void)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_DIR,
	};
	int fd;

	fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		rt_die("landlock_create_ruleset");
	if (syscall(__NR_landlock_restrict_self, fd, 0))
		rt_die("landlock_restrict_self");
	close(fd);
	rt_external();
	RT_CHECK(mkdir(rt_path(".dir"), 0700) < 0 && errno == EACCES,
		 "mkdir in the domain: errno %d", errno);
	return rt_end();
}

static int semundo(void)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
	int id = semget(IPC_PRIVATE, 1, 0600);

	if (id < 0 || semop(id, &op, 1))
		rt_die("semget/semop");
	rt_external();
	RT_CHECK(semctl(id, 0, GETVAL) == 1, "semaphore value %d",
		 semctl(id, 0, GETVAL));
	semctl(id, 0, IPC_RMID);
	return rt_end();
}

/*
 * The registration lives as long as the userfaultfd: a grandchild keeps
 * it open (fork() does not pass the registration on), we close ours.
 */
static int uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	long psz = sysconf(_SC_PAGESIZE);
	pid_t pid, parent = getpid();
	char *p;
	int fd, st;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api))
		rt_die("userfaultfd");
	p = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		rt_die("mmap");
	reg.range.start = (unsigned long)p;
	reg.range.len = psz;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		rt_die("UFFDIO_REGISTER");
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			/* Holds fd until we are gone. */
			while (kill(parent, 0) == 0)
				usleep(100000);
			_exit(0);
		}
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		rt_die("fork");
	close(fd);
	rt_external();
	/* p is not touched: nobody would answer its fault. */
	return rt_end();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "";

	if (argc < 3)
		return 2;
	if (!strcmp(mode, "wrap")) {
		struct sock_filter f0[] = {
			LOAD_NR,
			ON(SYS_getpgid, SECCOMP_RET_ERRNO | 79),
			ALLOW,
		};

		if (argc < 4 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			return 2;
		rt_image = argv[1];
		install(f0, sizeof(f0) / sizeof(f0[0]), 0);
		execv(argv[3], argv + 3);
		return 2;
	}
	/* Before the report is made, so that user 1000 can reopen it. */
	if (argc > 4 && !strcmp(argv[4], "unpriv"))
		unpriv();
	rt_begin(argv[1]);
	if (!strcmp(mode, "landlock"))
		return landlock();
	if (!strcmp(mode, "semundo"))
		return semundo();
	if (!strcmp(mode, "uffd"))
		return uffd();
	if (!strcmp(mode, "filter")) {
		long want = argc > 3 ? strtol(argv[3], NULL, 10) : 2;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			rt_die("no_new_privs");
		filters();
		check_filters(want);
		if (rt_checkpoint())
			return 0;
		check_filters(want);
		return rt_end();
	}
	if (rt_checkpoint())
		return 0;
	RT_CHECK(status("Seccomp") == 0, "Seccomp: %ld", status("Seccomp"));
	return rt_end();
}
