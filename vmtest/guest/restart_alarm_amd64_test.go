//go:build kcrguest

package guest

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// inClockNanosleep tells whether pid sleeps in clock_nanosleep(2) now.
func inClockNanosleep(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/syscall")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 0 && f[0] == strconv.Itoa(unix.SYS_CLOCK_NANOSLEEP)
}

// An alarm-timer sleep (CLOCK_BOOTTIME_ALARM, run as root for
// CAP_WAKE_ALARM) checkpointed from outside: once restarted it sleeps the
// time it had left, taken on the boot-time clock. x86_64 only: the
// s390x and ppc64le guests have no RTC that can wake them, so their alarm
// clocks are EINVAL (and a skipped test counts as failed).
func TestRestartAlarmNanosleep(t *testing.T) {
	sleepRoundTrip(t, "rt_alarm", inClockNanosleep)
}
