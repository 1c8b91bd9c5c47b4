/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rt.h: shared code of the round-trip workloads (vmtest/workloads/rt_*.c).
 *
 * A round-trip workload sets up the state under test, is checkpointed,
 * and once restarted checks that state itself, so that a test learns the
 * result from its exit status and report:
 *
 *	rt_begin(argv[1]);		image path; opens the report
 *	... set up state ...
 *	if (rt_checkpoint())		1: checkpointed, the image is written
 *		return 0;
 *	RT_CHECK(x == 42, "x is %d", x);	0: we are the restarted process
 *	return rt_end();
 *
 * rt_checkpoint() checkpoints the process itself (pid 0). rt_external()
 * instead waits to be checkpointed from outside: it creates IMAGE.ready
 * and sleeps in sigsuspend() until SIGUSR1, which the test sends to the
 * restarted process (the original is killed after its checkpoint).
 *
 * Messages go to IMAGE.report, opened before the checkpoint (so the
 * restarted process writes to it through its restored descriptor
 * RT_REPORT_FD) and read by the test. Stdio points at /dev/null across
 * the checkpoint: the caller's pipes are not state under test. Exit
 * status after restart: 0 when every check passed, 1 otherwise; 2 means
 * the workload could not even set up.
 */
#ifndef KCR_RT_H
#define KCR_RT_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/checkpoint.h>

/* High, so that workloads can use the low descriptors for state. */
#define RT_REPORT_FD	100
#define RT_IMAGE_FD	101
#define RT_LOG_FD	102

static const char *rt_image;
static int rt_failures;
static volatile sig_atomic_t rt_usr1;

static inline void rt_die(const char *what)
{
	dprintf(RT_REPORT_FD, "setup: %s: %s\n", what, strerror(errno));
	fprintf(stderr, "setup: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Open path as fd (dup2), closing the original descriptor. */
static inline void rt_open_at(const char *path, int flags, int fd)
{
	int f = open(path, flags, 0600);

	if (f < 0)
		rt_die(path);
	if (f != fd) {
		if (dup2(f, fd) < 0)
			rt_die("dup2");
		close(f);
	}
}

static inline char *rt_path(const char *suffix)
{
	static char buf[4][4096];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s%s", rt_image, suffix);
	return p;
}

static inline void rt_begin(const char *image)
{
	rt_image = image;
	rt_open_at(rt_path(".report"), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
		   RT_REPORT_FD);
}

__attribute__((format(printf, 1, 2)))
static inline void rt_report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(RT_REPORT_FD, fmt, ap);
	va_end(ap);
	dprintf(RT_REPORT_FD, "\n");
}

#define RT_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		rt_failures++;						\
		dprintf(RT_REPORT_FD, "FAIL %s:%d: %s: ", __FILE__,	\
			__LINE__, #cond);				\
		rt_report(__VA_ARGS__);					\
	}								\
} while (0)

/*
 * Wait on the read end of a readiness pipe (its write end closed here)
 * for n bytes, one from each process that is ready, and then for the end
 * of file: only then has every process closed the pipe, which the
 * checkpoint that follows would otherwise find open (pipes are not
 * checkpointed). A process that has written its byte may not have closed
 * its end yet.
 */
static inline void rt_await(int fd, int n)
{
	ssize_t got;
	int seen = 0;
	char c;

	while ((got = read(fd, &c, 1)) == 1)
		seen++;
	if (got < 0 || seen != n) {
		errno = got < 0 ? errno : EPROTO;
		rt_die("ready pipe");
	}
	close(fd);
}

/* Who a process of a tree is: noted before, checked after restart. */
struct rt_ids {
	pid_t pid, ppid, pgid, sid;
};

static inline void rt_ids_note(struct rt_ids *ids)
{
	ids->pid = getpid();
	ids->ppid = getppid();
	ids->pgid = getpgrp();
	ids->sid = getsid(0);
}

static inline void rt_ids_check(const struct rt_ids *ids, const char *who)
{
	RT_CHECK(getpid() == ids->pid, "%s: pid %d, was %d", who, getpid(),
		 ids->pid);
	RT_CHECK(getppid() == ids->ppid, "%s: parent %d, was %d", who,
		 getppid(), ids->ppid);
	RT_CHECK(getpgrp() == ids->pgid, "%s: group %d, was %d", who,
		 getpgrp(), ids->pgid);
	RT_CHECK(getsid(0) == ids->sid, "%s: session %d, was %d", who,
		 getsid(0), ids->sid);
}

static inline void rt_stdio_null(void)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0)
		rt_die("/dev/null");
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		rt_die("dup2 stdio");
	if (null > 2)
		close(null);
}

/*
 * The two halves of rt_checkpoint(), for workloads that make the ioctl
 * themselves (from inline assembly with registers live across it, or
 * right after a last change of state). rt_checkpoint_open() opens the
 * device (returned), the image and the log, points stdio at /dev/null
 * and fills arg. rt_checkpoint_done() closes them and reports ret, the
 * result of the ioctl as a raw system call gives it (-errno on failure):
 * it returns 1 in the original process once the image is written, 0 in
 * the restarted one, and exits 2 on failure.
 */
static inline int rt_checkpoint_open(struct ckpt_ioc_checkpoint *arg)
{
	int dev;

	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR);
	if (dev < 0)
		rt_die("/dev/" CKPT_DEVICE_NAME);
	rt_open_at(rt_image, O_WRONLY | O_CREAT | O_TRUNC, RT_IMAGE_FD);
	rt_open_at(rt_path(".ckptlog"), O_WRONLY | O_CREAT | O_TRUNC,
		   RT_LOG_FD);
	rt_stdio_null();
	memset(arg, 0, sizeof(*arg));
	arg->fd = RT_IMAGE_FD;
	arg->flags = CHECKPOINT_SUBTREE;
	arg->logfd = RT_LOG_FD;
	return dev;
}

static inline int rt_checkpoint_done(int dev, long ret)
{
	close(dev);
	close(RT_IMAGE_FD);
	close(RT_LOG_FD);
	if (ret < 0) {
		errno = -ret;
		rt_die("CKPT_IOC_CHECKPOINT");
	}
	if (ret > 0)
		rt_report("checkpointed: id %ld", ret);
	else
		rt_report("restarted: pid %d", getpid());
	return ret > 0;
}

/*
 * Checkpoint ourselves to the image. Returns 1 in the original process
 * once the image is written, 0 in the restarted one; exits 2 on failure.
 * The image and log descriptors are closed in both.
 */
static inline int rt_checkpoint(void)
{
	struct ckpt_ioc_checkpoint arg;
	int dev, ret;

	dev = rt_checkpoint_open(&arg);
	ret = ioctl(dev, CKPT_IOC_CHECKPOINT, &arg);
	return rt_checkpoint_done(dev, ret < 0 ? -errno : ret);
}

static inline void rt_on_usr1(int sig)
{
	(void)sig;
	rt_usr1 = 1;
}

/*
 * Wait to be checkpointed by the test: IMAGE.ready tells it we are set
 * up; then sleep until SIGUSR1, which only the restarted process gets.
 */
/* IMAGE.ready tells the test that the workload is set up. */
static inline void rt_ready(void)
{
	int fd = open(rt_path(".ready"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		rt_die("ready file");
	close(fd);
}

/*
 * Catch SIGUSR1 in rt_usr1, blocked until a sigsuspend() with the mask
 * left in old; stdio goes to /dev/null.
 */
static inline void rt_catch_usr1(sigset_t *old)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rt_on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		rt_die("sigaction SIGUSR1");
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &block, old) < 0)
		rt_die("sigprocmask");
	rt_stdio_null();
}

static inline void rt_external(void)
{
	sigset_t old;

	rt_catch_usr1(&old);
	rt_ready();
	while (!rt_usr1)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	rt_report("restarted: pid %d", getpid());
}

static inline int rt_end(void)
{
	rt_report("%s: %d failures", rt_failures ? "FAIL" : "PASS",
		  rt_failures);
	return rt_failures ? 1 : 0;
}

#endif /* KCR_RT_H */
