//go:build kcrguest

package guest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// A round trip of a workload built on vmtest/workloads/rt.h: the
// workload is checkpointed, restarted by this process (the coordinator,
// so the restored process is our child) and checks its state itself.
type roundTrip struct {
	Image   string             // image path; the report is Image+".report"
	OrigPid int                // pid of the checkpointed process
	Pid     int                // pid of the restarted process
	Status  unix.WaitStatus    // how the restarted process ended
	Log     string             // kcr.ko's messages of the restart
	Opts    kcr.RestartOptions // Log is set by restartImage
}

// Report is what the workload wrote to IMAGE.report, before and after
// the checkpoint.
func (r *roundTrip) Report() string {
	b, _ := os.ReadFile(r.Image + ".report")
	return string(b)
}

// RequirePass fails the test unless the restarted workload exited 0,
// showing its report and the module's messages.
func (r *roundTrip) RequirePass(t *testing.T) {
	t.Helper()
	if !r.Status.Exited() || r.Status.ExitStatus() != 0 {
		t.Fatalf("restarted workload (pid %d, was %d) ended with %s\nreport:\n%s\nrestart log:\n%s",
			r.Pid, r.OrigPid, describeStatus(r.Status), r.Report(), r.Log)
	}
}

func describeStatus(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("signal %v", ws.Signal())
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}

// workloadImage is a fresh image path for workload name.
func workloadImage(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name+".img")
}

// selfCheckpoint runs workload name with the image path and args; it
// checkpoints itself (rt_checkpoint) and exits 0.
func selfCheckpoint(t *testing.T, name string, args ...string) *roundTrip {
	t.Helper()
	return selfCheckpointAt(t, workloadImage(t, name), name, args...)
}

// selfCheckpointAt is selfCheckpoint with the image at path image.
func selfCheckpointAt(t *testing.T, image, name string, args ...string) *roundTrip {
	t.Helper()
	rt := &roundTrip{Image: image}
	cmd := exec.Command(filepath.Join(guestproto.BinDir, name), append([]string{rt.Image}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		rep, _ := os.ReadFile(rt.Image + ".report")
		log, _ := os.ReadFile(rt.Image + ".ckptlog")
		t.Fatalf("%s: %v\n%s\nreport:\n%s\ncheckpoint log:\n%s", name, err, out, rep, log)
	}
	rt.OrigPid = cmd.Process.Pid
	return rt
}

// externalCheckpoint runs workload name (built with rt_external), waits
// until it is set up, checkpoints it frozen and kills it.
func externalCheckpoint(t *testing.T, d *kcr.Device, name string, args ...string) *roundTrip {
	t.Helper()
	rt, w := startRoundTrip(t, name, args...)
	waitUntil(t, rt, w, name+" did not get ready", func() bool {
		_, err := os.Stat(rt.Image + ".ready")
		return err == nil
	})
	checkpointFrozen(t, d, rt, w)
	return rt
}

// startRoundTrip starts workload name with a fresh image path and args;
// it is killed at the end of the test if still there.
func startRoundTrip(t *testing.T, name string, args ...string) (*roundTrip, *workload) {
	t.Helper()
	return startRoundTripAt(t, workloadImage(t, name), name, args...)
}

// startRoundTripAt is startRoundTrip with the image at path image.
func startRoundTripAt(t *testing.T, image, name string, args ...string) (*roundTrip, *workload) {
	t.Helper()
	rt := &roundTrip{Image: image}
	cmd := exec.Command(filepath.Join(guestproto.BinDir, name), append([]string{rt.Image}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rt.OrigPid = cmd.Process.Pid
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return rt, &workload{cmd: cmd}
}

// waitUntil polls cond for a minute; the test fails with what, and the
// workload's report, if the workload dies or cond stays false.
func waitUntil(t *testing.T, rt *roundTrip, w *workload, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if !w.alive() || time.Now().After(deadline) {
			t.Fatalf("%s\nreport:\n%s", what, rt.Report())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkpointFrozen freezes the workload, checkpoints it to rt.Image and
// kills it; it returns when the checkpoint call began.
func checkpointFrozen(t *testing.T, d *kcr.Device, rt *roundTrip, w *workload) time.Time {
	t.Helper()
	cg := frozenIn(t, w)
	img, err := os.Create(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	at := time.Now()
	_, err = d.Checkpoint(rt.OrigPid, img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	img.Close()
	if err != nil {
		t.Fatalf("checkpoint of %s: %v\n%s", rt.Image, err, logs())
	}
	logs()
	_ = w.cmd.Process.Kill()
	_ = cg.Thaw()
	_ = w.cmd.Wait()
	return at
}

// restartImage restarts rt.Image with rt.Opts and returns the error of
// the restart ioctl; on success rt.Pid is the restored process, our
// child.
func restartImage(t *testing.T, d *kcr.Device, rt *roundTrip) error {
	t.Helper()
	img, err := os.Open(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	return restartFrom(t, d, rt, img)
}

// restartFrom is restartImage with the image read from img (a file or a
// pipe).
func restartFrom(t *testing.T, d *kcr.Device, rt *roundTrip, img *os.File) error {
	t.Helper()
	logw, logs := logPipe(t)
	o := rt.Opts
	o.Log = logw
	stop := hangWatch(rt.Image)
	var err error
	rt.Pid, err = d.Restart(img, o)
	stop()
	rt.Log = logs()
	if err == nil {
		pid := rt.Pid
		t.Cleanup(func() {
			_ = unix.Kill(pid, unix.SIGKILL)
			_, _ = unix.Wait4(pid, nil, unix.WALL, nil)
		})
	}
	return err
}

// wait waits for the restarted process to end, sending it
// SIGUSR1 first when it waits for one (rt_external).
func (r *roundTrip) wait(t *testing.T, usr1 bool) {
	t.Helper()
	if usr1 {
		if err := unix.Kill(r.Pid, unix.SIGUSR1); err != nil {
			t.Fatalf("SIGUSR1 to the restarted pid %d: %v", r.Pid, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := unix.Wait4(r.Pid, &r.Status, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait for the restarted pid %d: %v", r.Pid, err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("restarted pid %d still runs after 2 minutes\nreport:\n%s", r.Pid, r.Report())
	}
}

// selfRoundTrip: checkpoint workload name itself, restart it, wait for
// it and require that its checks passed.
func selfRoundTrip(t *testing.T, name string, args ...string) *roundTrip {
	t.Helper()
	d := device(t)
	rt := selfCheckpoint(t, name, args...)
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart of %s: %v\n%s", name, err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
	return rt
}

// externalRoundTrip: the same with a workload frozen and checkpointed
// from outside (rt_external), woken with SIGUSR1 after the restart.
func externalRoundTrip(t *testing.T, name string, args ...string) *roundTrip {
	t.Helper()
	d := device(t)
	rt := externalCheckpoint(t, d, name, args...)
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart of %s: %v\n%s", name, err, rt.Log)
	}
	rt.wait(t, true)
	rt.RequirePass(t)
	return rt
}

// forEachRecord decodes the image at path and calls fn with each record,
// until fn returns false or the image ends.
func forEachRecord(t *testing.T, path string, fn func(*image.Record) bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := image.NewDecoder(f)
	for {
		r, err := d.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("decoding %s: %v", path, err)
		}
		if !fn(r) {
			return
		}
	}
}

// reportLine returns the value after "key " in the workload's report
// lines (e.g. "checkpointed: id 3"), "" if absent.
func (r *roundTrip) reportLine(key string) string {
	for _, l := range strings.Split(r.Report(), "\n") {
		if v, ok := strings.CutPrefix(l, key+" "); ok {
			return v
		}
	}
	return ""
}

// A record of an image: where it is and what it is.
type recordPos struct {
	Type   uint32
	Offset int64
	Len    uint32
}

// imageRecords lists the records of a (valid) image in order.
func imageRecords(t *testing.T, img []byte) []recordPos {
	t.Helper()
	d := image.NewDecoder(bytes.NewReader(img))
	var recs []recordPos
	for {
		r, err := d.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("decoding the image: %v", err)
		}
		recs = append(recs, recordPos{Type: r.Type, Offset: r.Offset, Len: r.Len})
	}
}

// requireNoChildren fails if this process has a child left (a failed
// restart must not leave a task behind, running or zombie).
func requireNoChildren(t *testing.T, what string) {
	t.Helper()
	// Look before reaping: a zombie's /proc/PID/stat still says which
	// program it was, its parent and when it started.
	kids := childStats()
	var ws unix.WaitStatus
	pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
	if err != unix.ECHILD {
		uptime, _ := os.ReadFile("/proc/uptime")
		t.Fatalf("%s: a task is left behind (wait4: pid %d, %v, %s); children at uptime %s:\n%s",
			what, pid, err, describeStatus(ws), strings.TrimSpace(string(uptime)), kids)
	}
}

// childStats is the /proc/PID/stat of every child of this process.
func childStats() string {
	var b strings.Builder
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	me := strconv.Itoa(os.Getpid())
	for _, p := range stats {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces.
		rest := st[bytes.LastIndexByte(st, ')')+1:]
		if f := strings.Fields(string(rest)); len(f) > 1 && f[1] == me {
			b.WriteString("\t" + strings.TrimSpace(string(st)) + "\n")
		}
	}
	return b.String()
}

// hangWatch: a restart that has not returned after a minute is a hung
// kernel wait that no test timeout can end (the ioctl does not return);
// show where every task of the guest sleeps, and end the test binary so
// that the suite reports it instead of hanging until the VM's timeout.
func hangWatch(what string) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-time.After(time.Minute):
		}
		fmt.Fprintf(os.Stderr, "restart of %s hangs; tasks:\n%s", what, taskStacks())
		os.Exit(3)
	}()
	return func() { close(done) }
}

// taskStacks is the state, wait channel and kernel stack of every task.
func taskStacks() string {
	var b strings.Builder
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*")
	for _, d := range tasks {
		comm, _ := os.ReadFile(d + "/comm")
		stat, _ := os.ReadFile(d + "/stat")
		wchan, _ := os.ReadFile(d + "/wchan")
		stack, _ := os.ReadFile(d + "/stack")
		state := ""
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
			state = string(stat[i+2])
		}
		fmt.Fprintf(&b, "%s %s %s wchan %s\n%s", d, strings.TrimSpace(string(comm)), state, wchan, stack)
	}
	return b.String()
}

// combinedOutput is cmd.CombinedOutput() under hangWatch: a process
// that restarts itself (RESTART_TASKSELF) and hangs in the kernel shows
// where, instead of hanging the suite.
func combinedOutput(cmd *exec.Cmd) ([]byte, error) {
	stop := hangWatch(strings.Join(cmd.Args, " "))
	defer stop()
	return cmd.CombinedOutput()
}
