//go:build kcrguest

package guest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/uapi"
)

// procState is the state letter of /proc/PID/stat, "" when pid is gone.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// requireDeadWithin fails unless pid is gone or a zombie within d.
func requireDeadWithin(t *testing.T, pid int, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := procState(pid)
		if s == "" || s == "Z" {
			return
		}
		if time.Now().After(deadline) {
			stack, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stack", pid))
			t.Fatalf("%s: pid %d still in state %s after %v:\n%s", what, pid, s, d, stack)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inWchan tells whether a thread of pid sleeps in function fn (a Go
// program makes its system calls from any of its threads).
func inWchan(pid int, fn string) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	for _, p := range tasks {
		if b, _ := os.ReadFile(p); string(b) == fn {
			return true
		}
	}
	return false
}

// waitFor polls cond for a minute; output tells what went on.
func waitFor(t *testing.T, what string, cond func() bool, output func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; kcr restart: %s", what, output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stalledRestart starts `kcr restart -i -` fed the first n bytes of img
// through a pipe that then stalls; it returns the command, the pipe's
// write end (the test closes it) and the command's output so far.
func stalledRestart(t *testing.T, img []byte, n int64) (*exec.Cmd, *os.File, func() string) {
	t.Helper()
	withModule(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command("/bin/kcr", "restart", "-i", "-")
	cmd.Stdin = r
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		w.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	go func() { _, _ = w.Write(img[:n]) }()
	// out is only read once the command has ended, or for a message.
	return cmd, w, func() string {
		if procState(cmd.Process.Pid) == "" || procState(cmd.Process.Pid) == "Z" {
			_ = cmd.Wait()
			return out.String()
		}
		return "(still running)"
	}
}

// A coordinator killed while its task reads a stalled image stream ends
// within a second, and so does the task: nothing waits for the stream.
func TestRestartKillStalledCoordinator(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_mem")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	// Stall in the middle of the task's memory.
	cmd, _, out := stalledRestart(t, img, int64(len(img)/2))
	waitFor(t, "the restored task", func() bool { return procState(rt.OrigPid) != "" }, out)
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	requireDeadWithin(t, cmd.Process.Pid, time.Second, "the killed coordinator")
	requireDeadWithin(t, rt.OrigPid, time.Second, "the coordinator's task")
}

// A restored task killed while its coordinator waits for the image's
// tail ends within a second; the coordinator then fails the restart.
func TestRestartKillTaskAwaitingTail(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	tail := recordOf(t, img, uapi.CKPT_HDR_TAIL)
	cmd, w, out := stalledRestart(t, img, tail.Offset)
	// The coordinator reads the tail once the task has read its part.
	waitFor(t, "the coordinator to read the tail", func() bool {
		return procState(rt.OrigPid) != "" && inWchan(cmd.Process.Pid, "pipe_read")
	}, out)
	if err := unix.Kill(rt.OrigPid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	requireDeadWithin(t, rt.OrigPid, time.Second, "the killed task")
	// The tail arrives, or the coordinator has already given up (its
	// task's SIGCHLD interrupts its read: EPIPE here); either way it
	// has no task to let go.
	_, _ = w.Write(img[tail.Offset:])
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("kcr restart succeeded with its task killed")
		}
	case <-time.After(time.Minute):
		t.Fatal("kcr restart still runs a minute after its task was killed")
	}
}

// The task a coordinator creates does not hold the coordinator's
// descriptors while it waits for its records: they are the restarter's
// (here the stdin pipe and /dev/checkpoint), and a stalled stream would
// keep them open in a task the restarter never asked for.
func TestRestartTaskStartsWithoutDescriptors(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	// Stall where the task is about to read its file table.
	table := recordOf(t, img, uapi.CKPT_HDR_FILE_TABLE)
	_, _, out := stalledRestart(t, img, table.Offset)
	waitFor(t, "the task to wait for its file table", func() bool {
		return procState(rt.OrigPid) != "" && inWchan(rt.OrigPid, "pipe_read")
	}, out)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", rt.OrigPid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, _ := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", rt.OrigPid), fd.Name()))
		t.Errorf("the task holds fd %s (%s) before its file table is restored", fd.Name(), target)
	}
}
