//go:build kcrguest

package guest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// exitSignalImage is rt_task's image with the task's exit signal set to
// sig, as if its parent had created it with clone(sig).
func exitSignalImage(t *testing.T, sig unix.Signal) (*roundTrip, []byte) {
	t.Helper()
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var task uapi.CkptHdrTask
	e := recordEdit{
		name: "exit signal", rec: uapi.CKPT_HDR_TASK,
		off: unsafe.Offsetof(task.ExitSignal), val: uint64(sig), size: 4,
	}
	return rt, e.apply(t, img)
}

// RESTART_TASKSELF keeps the exit signal that the caller's parent chose:
// an image cannot make the parent (here this test, elsewhere init or
// sudo) receive another signal, or be waited for only with __WCLONE.
func TestRestartTaskSelfKeepsExitSignal(t *testing.T) {
	withModule(t)
	rt, img := exitSignalImage(t, unix.SIGUSR1)
	if err := os.WriteFile(rt.Image, img, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(rt.Image+".report", 0); err != nil {
		t.Fatal(err)
	}
	log := rt.Image + ".restartlog"
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "selfrestart"), rt.Image, log)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Without __WALL, as a shell or Go's os/exec waits.
	var ws unix.WaitStatus
	if _, err := unix.Wait4(cmd.Process.Pid, &ws, 0, nil); err != nil {
		restartLog, _ := os.ReadFile(log)
		t.Fatalf("wait4 without __WALL: %v (the exit signal is not SIGCHLD)\nrestart log:\n%s", err, restartLog)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 || !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("the restarted process: %s\n%s", describeStatus(ws), rt.Report())
	}
}

// A coordinator reaps a task whose restart failed after its exit signal
// was set from the image, here to none (a clone() child that signals no
// one, seen by wait4() only with __WALL): nothing is left behind, zombie
// or not.
func TestRestartReapsOtherExitSignal(t *testing.T) {
	d := device(t)
	_, img := exitSignalImage(t, 0)
	tail := recordOf(t, img, uapi.CKPT_HDR_TAIL)
	_, err, log := restartBytes(t, d, img[:tail.Offset], kcr.RestartOptions{})
	if !errors.Is(err, syscall.EINVAL) || log == "" {
		t.Fatalf("an image without its tail: %v, log %q", err, log)
	}
	requireNoChildren(t, "a failed task with exit signal 0")
}
