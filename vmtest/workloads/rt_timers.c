// SPDX-License-Identifier: GPL-2.0
/*
 * rt_timers: POSIX timers across a checkpoint. Usage: rt_timers IMAGE.
 * Makes five timers and deletes one (ids 0 to 4, 2 missing; the next
 * id is 5), with their signals blocked:
 *   0: CLOCK_MONOTONIC, every 200 ms, SIGRTMIN, value 100
 *   1: CLOCK_REALTIME, once in 3 s, SIGUSR2, value 101
 *   3: CLOCK_BOOTTIME, once in 30 s, SIGEV_NONE
 *   4: CLOCK_MONOTONIC, once in 2 s, SIGEV_THREAD_ID to itself,
 *      SIGRTMIN+1, value 104
 * and checkpoints itself. Restarted, it checks the ids, settings and
 * time left, that the next timer_create() gives id 5, and that each
 * timer fires with its signal and value.
 *
 * rt_timers IMAGE taskself LOG: the restarter of RESTART_TASKSELF, with
 * state of its own that the restored process must not keep: seven
 * timers (ids 0 to 6) and a SysV semaphore (key RT_SEM_KEY) raised with
 * SEM_UNDO. The restored process checks there are only its four timers
 * and that the semaphore is back to 0 (the undo applied, as at the
 * restarter's exit).
 */
#define _GNU_SOURCE
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>

#include "rt.h"

#define RT_SEM_KEY	0x6b637274

static timer_t mk(clockid_t clk, int notify, int sig, int value)
{
	struct sigevent sev;
	timer_t id;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = notify;
	sev.sigev_signo = sig;
	sev.sigev_value.sival_int = value;
	if (notify & SIGEV_THREAD_ID)
		sev._sigev_un._tid = syscall(SYS_gettid);
	if (timer_create(clk, &sev, &id))
		rt_die("timer_create");
	return id;
}

static void arm(timer_t id, long long first_ms, long long every_ms)
{
	struct itimerspec its = {
		.it_value = { first_ms / 1000, first_ms % 1000 * 1000000 },
		.it_interval = { every_ms / 1000, every_ms % 1000 * 1000000 },
	};

	if (timer_settime(id, 0, &its, NULL))
		rt_die("timer_settime");
}

static long long ms(const struct timespec *ts)
{
	return ts->tv_sec * 1000LL + ts->tv_nsec / 1000000;
}

/* Time left and period of timer id (as an int), in ms; -1 on error. */
static long long left(long id, long long *every)
{
	struct itimerspec its;

	if (timer_gettime((timer_t)id, &its))
		return -1;
	*every = ms(&its.it_interval);
	return ms(&its.it_value);
}

/* Timers listed in /proc/self/timers. */
static int nr_timers(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/self/timers", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "ID:", 3);
	fclose(f);
	return n;
}

static int taskself(const char *image, const char *logpath)
{
	struct sembuf op = { .sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO };
	struct ckpt_ioc_restart arg;
	int dev, img, log, sem, i;

	for (i = 0; i < 7; i++)
		arm(mk(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0), 60000, 0);
	sem = semget(RT_SEM_KEY, 1, IPC_CREAT | 0600);
	if (sem < 0 || semop(sem, &op, 1))
		rt_die("semaphore");
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	img = open(image, O_RDONLY | O_CLOEXEC);
	log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (dev < 0 || img < 0 || log < 0)
		rt_die("open");
	memset(&arg, 0, sizeof(arg));
	arg.fd = img;
	arg.logfd = log;
	arg.flags = RESTART_TASKSELF;
	ioctl(dev, CKPT_IOC_RESTART, &arg);
	rt_die("RESTART_TASKSELF");
	return 2;
}

int main(int argc, char **argv)
{
	long long l, every;
	sigset_t set;
	siginfo_t si;
	timer_t t[5], extra;
	struct timespec to = { .tv_sec = 5 };
	int got_rt = 0, got_usr2 = 0, got_tid = 0, i, sem;

	if (argc < 2)
		return 2;
	if (argc > 3 && !strcmp(argv[2], "taskself")) {
		rt_open_at("/dev/null", O_WRONLY, RT_REPORT_FD);
		return taskself(argv[1], argv[3]);
	}
	rt_begin(argv[1]);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigaddset(&set, SIGRTMIN + 1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	t[0] = mk(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN, 100);
	t[1] = mk(CLOCK_REALTIME, SIGEV_SIGNAL, SIGUSR2, 101);
	t[2] = mk(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, 102);
	t[3] = mk(CLOCK_BOOTTIME, SIGEV_NONE, 0, 103);
	t[4] = mk(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID,
		  SIGRTMIN + 1, 104);
	for (i = 0; i < 5; i++)
		if ((long)t[i] != i)
			rt_die("timer ids are not 0 to 4");
	timer_delete(t[2]);
	arm(t[0], 200, 200);
	arm(t[1], 3000, 0);
	arm(t[3], 30000, 0);
	arm(t[4], 2000, 0);

	if (rt_checkpoint())
		return 0;

	l = left(0, &every);
	RT_CHECK(l >= 0 && l <= 200 && every == 200,
		 "timer 0: %lld ms left, every %lld", l, every);
	l = left(1, &every);
	RT_CHECK(l > 500 && l <= 3000 && every == 0,
		 "timer 1: %lld ms left, every %lld", l, every);
	RT_CHECK(left(2, &every) < 0 && errno == EINVAL,
		 "timer 2 exists again");
	l = left(3, &every);
	RT_CHECK(l > 20000 && l <= 30000, "timer 3: %lld ms left", l);
	l = left(4, &every);
	RT_CHECK(l > 0 && l <= 2000, "timer 4: %lld ms left", l);
	RT_CHECK(left(5, &every) < 0, "timer 5 exists");
	RT_CHECK(nr_timers() == 4, "%d timers", nr_timers());
	sem = semget(RT_SEM_KEY, 1, 0);
	if (sem >= 0) {
		RT_CHECK(semctl(sem, 0, GETVAL) == 0,
			 "the restarter's SEM_UNDO semaphore is %d",
			 semctl(sem, 0, GETVAL));
		semctl(sem, 0, IPC_RMID);
	}
	extra = mk(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	RT_CHECK((long)extra == 5, "the next timer got id %ld", (long)extra);

	while (!(got_usr2 && got_tid && got_rt >= 2)) {
		int sig = sigtimedwait(&set, &si, &to);

		if (sig < 0) {
			RT_CHECK(0, "timers did not fire: SIGRTMIN %d, SIGUSR2 %d, SIGRTMIN+1 %d",
				 got_rt, got_usr2, got_tid);
			break;
		}
		RT_CHECK(si.si_code == SI_TIMER, "signal %d code %d", sig,
			 si.si_code);
		if (sig == SIGRTMIN) {
			RT_CHECK(si.si_timerid == 0 &&
				 si.si_value.sival_int == 100,
				 "SIGRTMIN from timer %d value %d",
				 si.si_timerid, si.si_value.sival_int);
			got_rt++;
		} else if (sig == SIGUSR2) {
			RT_CHECK(si.si_timerid == 1 &&
				 si.si_value.sival_int == 101,
				 "SIGUSR2 from timer %d value %d",
				 si.si_timerid, si.si_value.sival_int);
			got_usr2++;
		} else {
			RT_CHECK(si.si_timerid == 4 &&
				 si.si_value.sival_int == 104,
				 "SIGRTMIN+1 from timer %d value %d",
				 si.si_timerid, si.si_value.sival_int);
			got_tid++;
		}
	}
	rt_report("fired: SIGRTMIN %d, SIGUSR2 %d, SIGRTMIN+1 %d", got_rt,
		  got_usr2, got_tid);
	return rt_end();
}
