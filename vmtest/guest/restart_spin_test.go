//go:build kcrguest

package guest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
)

// How long rt_spin's loop runs, in seconds: long enough that a restarted
// loop can be frozen and checkpointed a second time before it ends.
const spinSeconds = "4"

// spinModes are rt_spin's loops: general, floating-point and vector
// registers.
var spinModes = []string{"int", "fp", "vec"}

// startSpin starts rt_spin with mode and returns once its loop runs.
func startSpin(t *testing.T, mode string) (*roundTrip, *workload) {
	t.Helper()
	return startSpinAt(t, workloadImage(t, "rt_spin"), mode)
}

// startSpinAt is startSpin with the image at path image.
func startSpinAt(t *testing.T, image, mode string) (*roundTrip, *workload) {
	t.Helper()
	rt, w := startRoundTripAt(t, image, "rt_spin", mode, spinSeconds)
	waitUntil(t, rt, w, "rt_spin did not get ready", func() bool {
		_, err := os.Stat(rt.Image + ".ready")
		return err == nil
	})
	// Past the close() of the ready file, into the loop.
	time.Sleep(200 * time.Millisecond)
	return rt, w
}

// requireUserMode fails unless the image's THREAD record says the task
// was stopped outside any system call, as rt_spin's loop is: the s390
// checkpoint took the "no system call" of syscall_get_nr() for one.
func requireUserMode(t *testing.T, path string) {
	t.Helper()
	var h *uapi.CkptHdrThread
	forEachRecord(t, path, func(r *image.Record) bool {
		h, _ = r.Body.(*uapi.CkptHdrThread)
		return h == nil
	})
	if h == nil {
		t.Fatalf("%s: no THREAD record", path)
	}
	if h.Flags&uapi.CKPT_THREAD_IN_SYSCALL != 0 || h.SyscallNr != -1 {
		t.Fatalf("THREAD record: flags %#x, system call %d; want a task stopped in user mode (flags 0, -1)",
			h.Flags, h.SyscallNr)
	}
}

// requireSpinDone fails unless the restarted rt_spin passed its checks
// with pid (0: any pid but the original's).
func requireSpinDone(t *testing.T, rt *roundTrip, pid int) {
	t.Helper()
	rt.RequirePass(t)
	done := rt.reportLine("done: pid")
	if pid != 0 && done != strconv.Itoa(pid) ||
		pid == 0 && (done == "" || done == strconv.Itoa(rt.OrigPid)) {
		t.Fatalf("restarted rt_spin reports pid %q (original %d, want %d)\n%s",
			done, rt.OrigPid, pid, rt.Report())
	}
}

// checkpointChild freezes our child pid (a restarted process) in a
// cgroup of its own, checkpoints it to path, kills and reaps it.
func checkpointChild(t *testing.T, d *kcr.Device, pid int, path string) {
	t.Helper()
	cg := newCgroup(t, "spin")
	if err := cg.Add(pid); err != nil {
		t.Fatalf("moving restarted pid %d into a cgroup: %v", pid, err)
	}
	checkpointTree(t, d, cg, pid, path)
}

// A process stopped in the middle of integer, floating-point or vector
// computation, without system calls, is restarted there and computes
// exactly what it would have without the checkpoint (rt_spin checks
// against a result it computed before).
func TestRestartSpin(t *testing.T) {
	for _, mode := range spinModes {
		t.Run(mode, func(t *testing.T) {
			d := device(t)
			rt, w := startSpin(t, mode)
			checkpointFrozen(t, d, rt, w)
			requireUserMode(t, rt.Image)
			if err := restartImage(t, d, rt); err != nil {
				t.Fatalf("restart of %s: %v\n%s", rt.Image, err, rt.Log)
			}
			rt.wait(t, false)
			requireSpinDone(t, rt, rt.OrigPid)
		})
	}
}

// The restarted process, still in its loop, is checkpointed and
// restarted again.
func TestRestartSpinTwice(t *testing.T) {
	for _, mode := range spinModes {
		t.Run(mode, func(t *testing.T) {
			d := device(t)
			rt, w := startSpin(t, mode)
			checkpointFrozen(t, d, rt, w)
			if err := restartImage(t, d, rt); err != nil {
				t.Fatalf("first restart: %v\n%s", err, rt.Log)
			}
			// The second image replaces the first one, which the
			// restart has read: rt.Image keeps naming the report.
			checkpointChild(t, d, rt.Pid, rt.Image)
			requireUserMode(t, rt.Image)
			if err := restartImage(t, d, rt); err != nil {
				t.Fatalf("second restart: %v\n%s", err, rt.Log)
			}
			rt.wait(t, false)
			requireSpinDone(t, rt, rt.OrigPid)
		})
	}
}

// The image streams through a pipe from "kcr checkpoint -o -" to
// "kcr restart -i -" while it is written (the original process is still
// there, frozen: the restarted one gets a fresh pid).
func TestRestartSpinPipe(t *testing.T) {
	device(t)
	rt, w := startSpin(t, "fp")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(rt.Image)
	pid := strconv.Itoa(rt.OrigPid)
	var ckOut, rsOut bytes.Buffer
	ck := exec.Command("/bin/kcr", "checkpoint", "--freeze", "--kill", pid, "-o", "-",
		"--log", filepath.Join(dir, "ckpt.log"))
	ck.Stdout, ck.Stderr = pw, &ckOut
	rs := exec.Command("/bin/kcr", "restart", "-i", "-", "--no-pids",
		"--log", filepath.Join(dir, "restart.log"))
	rs.Stdin, rs.Stdout, rs.Stderr = pr, &rsOut, &rsOut
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ck.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	pr.Close()
	ckErr := ck.Wait()
	done := make(chan error, 1)
	go func() { done <- rs.Wait() }()
	var rsErr error
	select {
	case rsErr = <-done:
	case <-time.After(2 * time.Minute):
		_ = rs.Process.Kill()
		t.Fatalf("kcr restart still runs after 2 minutes\n%s\nreport:\n%s", rsOut.String(), rt.Report())
	}
	_ = w.cmd.Wait()
	logs := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	if ckErr != nil {
		t.Fatalf("kcr checkpoint -o -: %v\n%s\n%s", ckErr, ckOut.String(), logs("ckpt.log"))
	}
	if rsErr != nil {
		t.Fatalf("kcr restart -i -: %v\n%s\n%s\nreport:\n%s", rsErr, rsOut.String(),
			logs("restart.log"), rt.Report())
	}
	if !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("report:\n%s", rt.Report())
	}
	rt.Status = 0 // exited 0, as kcr restart's status said
	requireSpinDone(t, rt, 0)
}
