// SPDX-License-Identifier: GPL-2.0
/*
 * rt_itimer: a periodic interval timer that keeps firing across a self
 * checkpoint and a restart that reads its image slowly (a pipe fed in
 * small pieces). SIGALRM every 2 ms, handled: the restart must not be
 * interrupted by it, and afterwards the timer still runs with its
 * interval. Usage: rt_itimer IMAGE.
 */
#include <sys/time.h>
#include <time.h>

#include "rt.h"

#define INTERVAL_US	2000

static volatile sig_atomic_t ticks;

static void on_alrm(int sig)
{
	(void)sig;
	ticks++;
}

int main(int argc, char **argv)
{
	struct itimerval it = {
		.it_interval = { .tv_usec = INTERVAL_US },
		.it_value = { .tv_usec = INTERVAL_US },
	};
	struct sigaction sa;
	struct timespec pause = { .tv_nsec = 1000000 };
	sig_atomic_t at_restart;
	int i;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		rt_die("setup");
	while (ticks < 3)
		nanosleep(&pause, NULL);

	if (rt_checkpoint())
		return 0;

	at_restart = ticks;
	for (i = 0; i < 10000 && ticks < at_restart + 10; i++)
		nanosleep(&pause, NULL);
	RT_CHECK(ticks >= at_restart + 10,
		 "%d SIGALRMs in %d ms after the restart", ticks - at_restart,
		 i);
	if (getitimer(ITIMER_REAL, &it))
		rt_die("getitimer");
	RT_CHECK(it.it_interval.tv_sec == 0 &&
		 it.it_interval.tv_usec == INTERVAL_US,
		 "interval %ld.%06ld s", (long)it.it_interval.tv_sec,
		 (long)it.it_interval.tv_usec);
	return rt_end();
}
