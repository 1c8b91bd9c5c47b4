// SPDX-License-Identifier: GPL-2.0
/*
 * rt_alarm: a clock_nanosleep() on CLOCK_BOOTTIME_ALARM (an alarm-timer
 * sleep; needs CAP_WAKE_ALARM and an RTC that can wake the machine). The
 * test checkpoints it during its 5 s sleep, kills it and restarts it: it
 * must sleep the time it had left. Usage: rt_alarm IMAGE. Exit status 3
 * (before IMAGE.ready) when this kernel has no alarm clock.
 */
#include <time.h>

#include "rt.h"

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct timespec req = { .tv_sec = 5 }, rem = { 0 }, ts;
	int ret;

	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (clock_gettime(CLOCK_BOOTTIME_ALARM, &ts)) {
		rt_report("no alarm clock: %s", strerror(errno));
		return 3;
	}
	rt_stdio_null();
	rt_report("t0 %lld", now_ns());
	rt_ready();
	ret = clock_nanosleep(CLOCK_BOOTTIME_ALARM, 0, &req, &rem);
	rt_report("t1 %lld", now_ns());
	RT_CHECK(ret == 0, "clock_nanosleep returned %d (%s), %ld.%09ld s left",
		 ret, strerror(ret), (long)rem.tv_sec, rem.tv_nsec);
	return rt_end();
}
