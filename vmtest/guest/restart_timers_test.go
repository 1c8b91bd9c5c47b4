//go:build kcrguest

package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// POSIX timers of several clocks and notifications (periodic, one-shot,
// SIGEV_NONE, SIGEV_THREAD_ID, an id left free by a deleted timer) come
// back with their ids, settings and time left, and fire: rt_timers
// checks them.
func TestRestartTimers(t *testing.T) {
	rt := selfRoundTrip(t, "rt_timers")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var h uapi.CkptHdrPosixTimers
	r := recordOf(t, img, uapi.CKPT_HDR_POSIX_TIMERS)
	order := imageOrder(img)
	rec := img[r.Offset:]
	nr := order.Uint32(rec[unsafe.Offsetof(h.NrTimers):])
	next := order.Uint32(rec[unsafe.Offsetof(h.NextId):])
	if nr != 4 || next != 5 {
		t.Errorf("image: %d timers, next id %d; want 4 and 5", nr, next)
	}
	t.Logf("report:\n%s", rt.Report())
}

// Corrupted timer records: a clean errno and a message, no task.
func TestRestartTimersCorrupt(t *testing.T) {
	rt := selfCheckpoint(t, "rt_timers")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var h uapi.CkptHdrPosixTimers
	var r uapi.CkptHdrPosixTimer
	tryEdits(t, img, []recordEdit{
		{name: "count", rec: uapi.CKPT_HDR_POSIX_TIMERS, off: unsafe.Offsetof(h.NrTimers), size: 4,
			val: uapi.CKPT_POSIX_TIMERS_MAX + 1, want: syscall.EINVAL, msg: "POSIX timers record"},
		{name: "next id", rec: uapi.CKPT_HDR_POSIX_TIMERS, off: unsafe.Offsetof(h.NextId), size: 4,
			val: 1 << 31, want: syscall.EINVAL, msg: "POSIX timers record"},
		{name: "clock", rec: uapi.CKPT_HDR_POSIX_TIMER, off: unsafe.Offsetof(r.Clock), size: 4,
			val: 0xfffffffe, want: syscall.EINVAL, msg: "POSIX timer 0: clock -2"},
		{name: "id", rec: uapi.CKPT_HDR_POSIX_TIMER, off: unsafe.Offsetof(r.Id), size: 4,
			val: 0xffffffff, want: syscall.EINVAL, msg: "POSIX timer id -1"},
		{name: "notify", rec: uapi.CKPT_HDR_POSIX_TIMER, off: unsafe.Offsetof(r.Notify), size: 4,
			val: 2, want: syscall.EINVAL, msg: "notify 0x2"},
		{name: "signal", rec: uapi.CKPT_HDR_POSIX_TIMER, off: unsafe.Offsetof(r.Signo), size: 4,
			val: 65, want: syscall.EINVAL, msg: "signal 65"},
		{name: "value", rec: uapi.CKPT_HDR_POSIX_TIMER, off: unsafe.Offsetof(r.ValueNs), size: 8,
			val: 1 << 63, want: syscall.EINVAL, msg: "POSIX timer 0: overrun"},
	})
}

// RESTART_TASKSELF by a process with timers of its own and a SEM_UNDO
// semaphore: the restored process has only the image's timers, and the
// restarter's semaphore adjustment is undone (rt_timers checks both).
func TestRestartTimersTaskSelf(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_timers")
	if err := os.Truncate(rt.Image+".report", 0); err != nil {
		t.Fatal(err)
	}
	log := rt.Image + ".restartlog"
	out, err := exec.Command(filepath.Join(guestproto.BinDir, "rt_timers"), rt.Image, "taskself", log).CombinedOutput()
	restartLog, _ := os.ReadFile(log)
	if err != nil || !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("rt_timers taskself: %v\n%s\nrestart log:\n%s\nreport:\n%s", err, out, restartLog, rt.Report())
	}
	t.Logf("report:\n%s", rt.Report())
}
