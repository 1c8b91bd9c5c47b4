//go:build kcrguest

package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
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
	d := device(t)
	rt := &roundTrip{Image: workloadImage(t, "rt_alarm")}
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "rt_alarm"), rt.Image)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rt.OrigPid = cmd.Process.Pid
	w := &workload{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for !inClockNanosleep(rt.OrigPid) {
		if !w.alive() || time.Now().After(deadline) {
			t.Fatalf("rt_alarm did not get to sleep\nreport:\n%s", rt.Report())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)

	cg := frozenIn(t, w)
	img, err := os.Create(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	ckptAt := time.Now()
	_, err = d.Checkpoint(rt.OrigPid, img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	img.Close()
	if err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, logs())
	}
	logs()
	_ = cmd.Process.Kill()
	_ = cg.Thaw()
	_ = cmd.Wait()

	time.Sleep(1500 * time.Millisecond)
	restartAt := time.Now()
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)

	t0, t1 := reportNs(t, rt, "t0"), reportNs(t, rt, "t1")
	left := t0.Add(5 * time.Second).Sub(ckptAt)
	slept := t1.Sub(restartAt)
	t.Logf("%v left at checkpoint, slept %v after the restart", left, slept)
	if slept < left-time.Second || slept > left+1500*time.Millisecond {
		t.Fatalf("slept %v after the restart, %v were left at the checkpoint", slept, left)
	}
}
