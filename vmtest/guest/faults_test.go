//go:build kcrguest

package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
)

// Faults during a checkpoint: the image fd fails (ENOSPC, EPIPE), the
// checkpointing process is killed, the target is killed, or the target
// runs between the start and the end of its checkpoint. The checkpoint
// fails with a clean errno and a message, the target stays frozen and
// intact (thawed, it checks its memory and goes on), nothing is held
// (the module's reference count, no task stuck), and the next checkpoint
// of the same target works and restarts.

// faultTarget is an rt_fault process, ready and frozen.
type faultTarget struct {
	rt *roundTrip
	w  *workload
	cg *freezer.Cgroup
}

func startFaultTarget(t *testing.T) *faultTarget {
	t.Helper()
	rt, w := startRoundTrip(t, "rt_fault")
	waitUntil(t, rt, w, "rt_fault did not get ready", func() bool {
		_, err := os.Stat(rt.Image + ".ready")
		return err == nil
	})
	return &faultTarget{rt: rt, w: w, cg: frozenIn(t, w)}
}

func (f *faultTarget) pid() int { return f.rt.OrigPid }

// moduleRefs is the reference count of kcr.ko.
func moduleRefs(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/sys/module/kcr/refcnt")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// taskState is the state letter of /proc/PID/stat (or of a thread's
// stat under /proc/PID/task), "" when gone.
func taskState(stat string) string {
	b, err := os.ReadFile(stat)
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// ckptCall is a checkpoint running in a goroutine of its own thread.
type ckptCall struct {
	tid  int
	done chan struct{}
	err  error
	log  string
}

func checkpointAsync(t *testing.T, d *kcr.Device, pid int, img *os.File) *ckptCall {
	t.Helper()
	logw, logs := logPipe(t)
	c := &ckptCall{done: make(chan struct{})}
	tid := make(chan int)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		_, c.err = d.Checkpoint(pid, img, kcr.CheckpointOptions{Subtree: true, Log: logw})
		c.log = logs()
		close(c.done)
	}()
	c.tid = <-tid
	return c
}

// result waits for the checkpoint to return, at most a minute.
func (c *ckptCall) result(t *testing.T) (error, string) {
	t.Helper()
	select {
	case <-c.done:
		return c.err, c.log
	case <-time.After(time.Minute):
		t.Fatalf("the checkpoint did not return within a minute; tasks:\n%s", taskStacks())
	}
	return nil, ""
}

// smallPipe is a pipe of one page: a checkpoint into it stalls at once
// until it is read. The write end is left blocking (the module writes
// to it).
func smallPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, os.Getpagesize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// waitPipeWriter waits until one of the threads (their /proc task
// directories) sleeps in pipe_write: the checkpoint is stalled on a full
// pipe, in the middle of the image.
func waitPipeWriter(t *testing.T, what string, threads func() []string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, d := range threads() {
			if b, _ := os.ReadFile(d + "/wchan"); string(b) == "pipe_write" {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never stalled on the full pipe; tasks:\n%s", what, taskStacks())
}

// threads is the checkpointing thread, for waitPipeWriter; a call that
// has already returned will never stall, and its result says why.
func (c *ckptCall) threads(t *testing.T) func() []string {
	return func() []string {
		select {
		case <-c.done:
			t.Fatalf("the checkpoint returned before it stalled on the pipe: %v\n%s", c.err, c.log)
		default:
		}
		return []string{fmt.Sprintf("/proc/self/task/%d", c.tid)}
	}
}

// requireFailed: the checkpoint failed with want (any errno if 0) and a
// message containing msg.
func requireFailed(t *testing.T, what string, err error, log string, want syscall.Errno, msg string) {
	t.Helper()
	var errno syscall.Errno
	if err == nil || !errors.As(err, &errno) || (want != 0 && errno != want) || !strings.Contains(log, msg) {
		t.Fatalf("%s: checkpoint returned %v, log %q; want %v and a message with %q", what, err, log, want, msg)
	}
	t.Logf("%s: %v; log %q", what, err, log)
}

// requireIntactAndNext checks what a failed checkpoint must leave: the
// target still frozen; the module holding no more references than
// before (refs); a new checkpoint of the target succeeds; thawed, the
// original finds its memory intact and has got changes SIGUSR2s; and the
// new image restarts into a process that finds the same.
func (f *faultTarget) requireIntactAndNext(t *testing.T, d *kcr.Device, refs, changes int) {
	t.Helper()
	if frozen, err := f.cg.Frozen(); err != nil || !frozen {
		t.Fatalf("the target is no longer frozen (%v, %v)", frozen, err)
	}
	if s := taskState(fmt.Sprintf("/proc/%d/stat", f.pid())); s == "" || s == "Z" || s == "X" {
		t.Fatalf("the target is gone (state %q)", s)
	}
	if n := moduleRefs(t); n != refs {
		t.Errorf("kcr.ko has %d references after the failed checkpoint, %d before", n, refs)
	}

	img, err := os.Create(f.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	_, err = d.Checkpoint(f.pid(), img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	img.Close()
	if log := logs(); err != nil {
		t.Fatalf("the checkpoint after the fault: %v\n%s", err, log)
	}

	if err := f.cg.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := f.w.cmd.Process.Signal(unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.w.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the original, thawed: %v\nreport:\n%s", err, f.rt.Report())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the original did not end after SIGUSR1\nreport:\n%s", f.rt.Report())
	}
	want := fmt.Sprintf("changes %d", changes)
	if got := f.rt.reportLine("changes"); got != strconv.Itoa(changes) {
		t.Fatalf("the original reports changes %q, want %q\nreport:\n%s", got, want, f.rt.Report())
	}

	// The restarted process appends to the same report.
	if err := os.WriteFile(f.rt.Image+".report", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := restartImage(t, d, f.rt); err != nil {
		t.Fatalf("restart of the checkpoint after the fault: %v\n%s", err, f.rt.Log)
	}
	f.rt.wait(t, true)
	f.rt.RequirePass(t)
	if got := f.rt.reportLine("changes"); got != strconv.Itoa(changes) {
		t.Fatalf("the restarted process reports changes %q, want %q\nreport:\n%s", got, want, f.rt.Report())
	}
}

// Issue 8, defect 2: the target is thawed, changes and is frozen again
// while its image streams into a pipe that is read slowly. The image
// would mix two states (and, had it exec'd a setuid program, two
// security domains): the checkpoint must fail.
func TestFaultTargetRanDuringCheckpoint(t *testing.T) {
	d := device(t)
	f := startFaultTarget(t)
	refs := moduleRefs(t)
	r, w := smallPipe(t)
	c := checkpointAsync(t, d, f.pid(), w)
	waitPipeWriter(t, "the checkpoint", c.threads(t))

	// Behind the module's back: its freezer ioctl refuses a thaw now.
	thawDirect(t, f.cg)
	if err := f.w.cmd.Process.Signal(unix.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, f.rt, f.w, "the thawed target did not handle SIGUSR2", func() bool {
		return strings.Contains(f.rt.Report(), "changed 1")
	})
	if err := f.cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	err, log := c.result(t)
	requireFailed(t, "thawed, changed and frozen again", err, log, syscall.EBUSY, "ran during checkpoint")
	f.requireIntactAndNext(t, d, refs, 1)
}

// ENOSPC: the image goes to a tmpfs too small for it.
func TestFaultENOSPC(t *testing.T) {
	d := device(t)
	f := startFaultTarget(t)
	refs := moduleRefs(t)
	dir := t.TempDir()
	if err := unix.Mount("kcr-enospc", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	img, err := os.Create(filepath.Join(dir, "img"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	logw, logs := logPipe(t)
	_, err = d.Checkpoint(f.pid(), img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	requireFailed(t, "image on a full tmpfs", err, logs(), syscall.ENOSPC, "")
	f.requireIntactAndNext(t, d, refs, 0)
}

// EPIPE: the reader of the image pipe goes away mid-image. The module's
// write raises SIGPIPE in the checkpointing thread, as write() would;
// the Go runtime ignores it for descriptors other than stdout and
// stderr, so the call returns EPIPE.
func TestFaultEPIPE(t *testing.T) {
	d := device(t)
	f := startFaultTarget(t)
	refs := moduleRefs(t)
	r, w := smallPipe(t)
	c := checkpointAsync(t, d, f.pid(), w)
	waitPipeWriter(t, "the checkpoint", c.threads(t))
	buf := make([]byte, 4096)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	err, log := c.result(t)
	requireFailed(t, "image pipe closed by its reader", err, log, syscall.EPIPE, "")
	f.requireIntactAndNext(t, d, refs, 0)
}

// EPIPE with kcr checkpoint -o - in a pipeline whose reader exits: the
// image is kcr's stdout, yet the SIGPIPE that the module's write raises
// does not kill it (the Go runtime ends a program for SIGPIPE only
// after its own writes to stdout or stderr): it reports the broken pipe
// and exits 1.
func TestFaultEPIPECLI(t *testing.T) {
	d := device(t)
	f := startFaultTarget(t)
	refs := moduleRefs(t)
	r, w := smallPipe(t)
	var errOut strings.Builder
	cmd := exec.Command("/bin/kcr", "checkpoint", strconv.Itoa(f.pid()), "-o", "-")
	cmd.Stdout, cmd.Stderr = w, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	w.Close()
	buf := make([]byte, 4096)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	var err error
	select {
	case err = <-done:
		done <- err
	case <-time.After(time.Minute):
		t.Fatalf("kcr checkpoint did not end after its reader went away; tasks:\n%s", taskStacks())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "broken pipe") {
		t.Fatalf("kcr checkpoint -o - into a closed pipe: %v (%v), output %q; want exit status 1 and a message about the broken pipe", err, cmd.ProcessState, errOut.String())
	}
	f.requireIntactAndNext(t, d, refs, 0)
}

// stalledCLI is `kcr checkpoint PID -o FIFO` stalled on a FIFO that is
// never read.
type stalledCLI struct {
	cmd  *exec.Cmd
	done chan error
	out  strings.Builder
}

// startStalledCLI starts kcr checkpoint of pid into a FIFO of one page
// whose reader never reads, and waits until it sleeps in pipe_write.
func startStalledCLI(t *testing.T, pid int) *stalledCLI {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// A reader that never reads: the writer's open does not block.
	rfd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(rfd) })
	if _, err := unix.FcntlInt(uintptr(rfd), unix.F_SETPIPE_SZ, os.Getpagesize()); err != nil {
		t.Fatal(err)
	}
	s := &stalledCLI{cmd: exec.Command("/bin/kcr", "checkpoint", strconv.Itoa(pid), "-o", fifo), done: make(chan error, 1)}
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); <-s.done })
	waitPipeWriter(t, "kcr checkpoint", func() []string {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("kcr checkpoint ended before it was killed: %v\n%s", err, s.out.String())
		default:
		}
		ts, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", s.cmd.Process.Pid))
		return ts
	})
	return s
}

// kill sends SIGKILL: the command must be gone within a second.
func (s *stalledCLI) kill(t *testing.T) {
	t.Helper()
	at := time.Now()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(10 * time.Second):
		t.Fatalf("kcr checkpoint still there 10 s after SIGKILL; tasks:\n%s", taskStacks())
	}
	if took := time.Since(at); took > time.Second {
		t.Errorf("kcr checkpoint took %v to die after SIGKILL, want less than a second", took)
	}
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Errorf("kcr checkpoint ended with %v, want SIGKILL", s.cmd.ProcessState)
	}
}

// The checkpointing process (kcr checkpoint) is killed while it writes to
// a stalled FIFO: it dies within a second, and the target is untouched.
func TestFaultCheckpointerKilled(t *testing.T) {
	d := device(t)
	f := startFaultTarget(t)
	refs := moduleRefs(t)
	startStalledCLI(t, f.pid()).kill(t)
	f.requireIntactAndNext(t, d, refs, 0)
}

// The target is killed while its image stalls on a full pipe: it dies
// (no task stuck on the checkpoint), the checkpoint fails with a clean
// errno, and the next target is checkpointed and restarted.
func TestFaultTargetKilled(t *testing.T) {
	d := device(t)
	f := startFaultTarget(t)
	refs := moduleRefs(t)
	r, w := smallPipe(t)
	c := checkpointAsync(t, d, f.pid(), w)
	waitPipeWriter(t, "the checkpoint", c.threads(t))
	if err := f.w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.w.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the killed target did not die; tasks:\n%s", taskStacks())
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	err, log := c.result(t)
	requireFailed(t, "target killed", err, log, 0, "")
	if n := moduleRefs(t); n != refs {
		t.Errorf("kcr.ko has %d references after the failed checkpoint, %d before", n, refs)
	}
	next := startFaultTarget(t)
	next.requireIntactAndNext(t, d, refs, 0)
}
