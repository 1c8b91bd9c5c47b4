// SPDX-License-Identifier: GPL-2.0
/*
 * rt_threads IMAGE [N]: a process of N threads (default 64, a multiple
 * of 4) for external checkpoint, each stopped in one of four states:
 *  - computing in user mode: a floating-point recurrence with a value
 *    of its own, no system call, until a flag is set;
 *  - waiting on a futex that main wakes after the restart;
 *  - in nanosleep() of a second, again and again until told to stop;
 *  - in sigwaitinfo() for SIGUSR2, which main sends to each thread with
 *    pthread_kill() after the restart.
 * Each thread also keeps its thread id and a thread-local value. Main
 * creates IMAGE.ready once every thread is on its way into its state,
 * then waits for SIGUSR1 (rt_external's protocol).
 *
 * After restart, each thread checks its id and its thread-local value,
 * the computing ones that their result is exactly the recurrence run
 * that many times (their floating-point registers came back), the others
 * that their call returned as it should; main joins them all.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

#include "rt.h"

#define RT_MAX_THREADS	256

enum { RT_COMPUTE, RT_FUTEX, RT_SLEEP, RT_SIGWAIT, RT_NR_MODES };

static const char *const rt_mode_names[] = {
	"compute", "futex", "nanosleep", "sigwaitinfo",
};

struct rt_thread {
	pthread_t th;
	int idx, mode;
	pid_t tid;		/* gettid() at start */
	volatile int started;
	/* Results, written by the thread before it returns. */
	pid_t tid_after;
	long tls_after;
	unsigned long iterations;
	double acc;
	int ret, err, sig;
	pid_t sender;
};

static struct rt_thread threads[RT_MAX_THREADS];
static volatile int stop;
static unsigned int futex_word;
static __thread long tls_value;

static double rt_step(double acc, int idx)
{
	return acc * 1.0000001 + (double)(idx + 1) / 7.0;
}

static void *rt_thread_main(void *arg)
{
	struct rt_thread *t = arg;
	struct timespec ts = { .tv_sec = 1 };
	unsigned long i = 0;
	double acc = 1.0;
	sigset_t set;
	siginfo_t si;

	t->tid = syscall(SYS_gettid);
	tls_value = 1000 + t->idx;
	t->started = 1;
	switch (t->mode) {
	case RT_COMPUTE:
		while (!stop) {
			acc = rt_step(acc, t->idx);
			i++;
		}
		t->iterations = i;
		t->acc = acc;
		break;
	case RT_FUTEX:
		t->ret = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE,
				 0, NULL, NULL, 0);
		t->err = t->ret ? errno : 0;
		break;
	case RT_SLEEP:
		/*
		 * Seconds at a time until told to stop, not one sleep of a
		 * few seconds: on a slow (debug, emulated) kernel that one
		 * could end, and the thread with it, before the checkpoint.
		 */
		do
			t->ret = nanosleep(&ts, NULL);
		while (!t->ret && !stop);
		t->err = t->ret ? errno : 0;
		break;
	case RT_SIGWAIT:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		/*
		 * Stopped and resumed, sigwaitinfo() fails with EINTR (see
		 * signal(7)); the cgroup freezer does the same. A program
		 * goes on waiting, as glibc's sigwait() does.
		 */
		do
			t->sig = sigwaitinfo(&set, &si);
		while (t->sig < 0 && errno == EINTR);
		t->err = t->sig < 0 ? errno : 0;
		t->sender = si.si_pid;
		break;
	}
	t->tid_after = syscall(SYS_gettid);
	t->tls_after = tls_value;
	return NULL;
}

static void rt_check_thread(struct rt_thread *t)
{
	const char *m = rt_mode_names[t->mode];
	unsigned long i;
	double acc = 1.0;

	RT_CHECK(t->tid_after == t->tid, "%s thread %d: tid %d, was %d", m,
		 t->idx, t->tid_after, t->tid);
	RT_CHECK(t->tls_after == 1000 + t->idx,
		 "%s thread %d: thread-local value %ld", m, t->idx,
		 t->tls_after);
	switch (t->mode) {
	case RT_COMPUTE:
		for (i = 0; i < t->iterations; i++)
			acc = rt_step(acc, t->idx);
		RT_CHECK(t->iterations > 0 && acc == t->acc,
			 "compute thread %d: %lu iterations gave %a, want %a",
			 t->idx, t->iterations, t->acc, acc);
		break;
	case RT_FUTEX:
		/* Woken, or the word had changed already: both are right. */
		RT_CHECK(t->ret == 0 || t->err == EAGAIN,
			 "futex thread %d: %d (%s)", t->idx, t->ret,
			 strerror(t->err));
		break;
	case RT_SLEEP:
		RT_CHECK(t->ret == 0, "nanosleep thread %d: %d (%s)", t->idx,
			 t->ret, strerror(t->err));
		break;
	case RT_SIGWAIT:
		RT_CHECK(t->sig == SIGUSR2 && t->sender == getpid(),
			 "sigwaitinfo thread %d: signal %d from %d (%s)",
			 t->idx, t->sig, t->sender, strerror(t->err));
		break;
	}
}

int main(int argc, char **argv)
{
	struct timespec settle = { .tv_nsec = 300 * 1000 * 1000 };
	sigset_t old, usr2;
	int n = 64, i;

	if (argc < 2)
		return 2;
	if (argc > 2)
		n = atoi(argv[2]);
	if (n < RT_NR_MODES || n > RT_MAX_THREADS || n % RT_NR_MODES)
		return 2;
	rt_begin(argv[1]);
	rt_catch_usr1(&old);
	/* Every thread inherits SIGUSR1 and SIGUSR2 blocked. */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &usr2, NULL) < 0)
		rt_die("sigprocmask SIGUSR2");
	for (i = 0; i < n; i++) {
		threads[i].idx = i;
		threads[i].mode = i % RT_NR_MODES;
		errno = pthread_create(&threads[i].th, NULL, rt_thread_main,
				       &threads[i]);
		if (errno)
			rt_die("pthread_create");
	}
	for (i = 0; i < n; i++)
		while (!threads[i].started)
			sched_yield();
	/* Into the calls the flags announce. */
	nanosleep(&settle, NULL);
	rt_ready();
	while (!rt_usr1)
		sigsuspend(&old);
	rt_report("restarted: pid %d", getpid());

	stop = 1;
	__atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
	for (i = 0; i < n; i++)
		if (threads[i].mode == RT_SIGWAIT)
			RT_CHECK(pthread_kill(threads[i].th, SIGUSR2) == 0,
				 "pthread_kill thread %d", i);
	for (i = 0; i < n; i++) {
		RT_CHECK(pthread_join(threads[i].th, NULL) == 0,
			 "pthread_join thread %d", i);
		rt_check_thread(&threads[i]);
	}
	return rt_end();
}
