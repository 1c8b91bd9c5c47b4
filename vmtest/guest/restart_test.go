//go:build kcrguest

package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// imageFile is a temporary file holding img, open for reading at 0.
func imageFile(t *testing.T, img []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "img")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(img); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	return f
}

// restartBytes restarts an image given as bytes and returns the error
// and the log.
func restartBytes(t *testing.T, d *kcr.Device, img []byte, o kcr.RestartOptions) (int, error, string) {
	t.Helper()
	f := imageFile(t, img)
	defer f.Close()
	logw, logs := logPipe(t)
	o.Log = logw
	pid, err := d.Restart(f, o)
	return pid, err, logs()
}

func TestRestartBadArguments(t *testing.T) {
	d := device(t)
	img, err := os.ReadFile("/proc/self/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		o    kcr.RestartOptions
		want syscall.Errno
	}{
		{"unknown flag", kcr.RestartOptions{Flags: 1 << 40}, syscall.EINVAL},
		{"pid without TASKSELF", kcr.RestartOptions{Pid: 1}, syscall.EINVAL},
		// RESTART_FROZEN's cgroup (0 here) must be a cgroup v2 directory.
		{"frozen without a cgroup", kcr.RestartOptions{Flags: uapi.RESTART_FROZEN}, syscall.ENOTDIR},
		{"frozen with TASKSELF", kcr.RestartOptions{Flags: uapi.RESTART_FROZEN | uapi.RESTART_TASKSELF}, syscall.EINVAL},
		{"not an image", kcr.RestartOptions{}, syscall.EINVAL},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err, log := restartBytes(t, d, img, c.o)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v; log %q", err, c.want, log)
			}
		})
	}
	_, _, log := restartBytes(t, d, img, kcr.RestartOptions{})
	if !strings.Contains(log, "record at 0") {
		t.Errorf("log %q does not say where the image is wrong", log)
	}
}

// The image of a self checkpoint is restarted: the ioctl returns 0 in
// the restored process, which writes so in its result file.
func TestRestartSelfCheckpoint(t *testing.T) {
	d := device(t)
	dir := t.TempDir()
	img, log, res := dir+"/img", dir+"/log", dir+"/res"
	if out, err := exec.Command(filepath.Join(guestproto.BinDir, "selfckpt"), img, log, res).CombinedOutput(); err != nil {
		t.Fatalf("selfckpt: %v\n%s", err, out)
	}
	rt := &roundTrip{Image: img}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	b, _ := os.ReadFile(res)
	if !rt.Status.Exited() || rt.Status.ExitStatus() != 0 {
		t.Fatalf("restarted selfckpt ended with %s; result %q; log %q", describeStatus(rt.Status), b, rt.Log)
	}
}

// The TASK record: comm, personality, prctl state, nice, robust list,
// tid address, checked by rt_task; the original pid by default.
func TestRestartTaskState(t *testing.T) {
	rt := selfRoundTrip(t, "rt_task")
	if rt.Pid != rt.OrigPid {
		t.Errorf("restarted as pid %d, checkpointed as %d", rt.Pid, rt.OrigPid)
	}
}

// RESTART_NO_PIDS: a fresh pid while the original one is in use.
func TestRestartNoPids(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_task")
	// The first copy keeps the original pid...
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	first := rt.Pid
	defer func() { _ = syscall.Kill(first, syscall.SIGKILL) }()
	// ...so a second one without NoPids finds it taken...
	second := &roundTrip{Image: rt.Image, OrigPid: rt.OrigPid}
	err := restartImage(t, d, second)
	if !errors.Is(err, syscall.EBUSY) || !strings.Contains(second.Log, "in use") {
		t.Fatalf("second restart with the original pid: %v, log %q; want EBUSY", err, second.Log)
	}
	// ...and gets a fresh one with it.
	second.Opts.NoPids = true
	if err := restartImage(t, d, second); err != nil {
		t.Fatalf("restart with NoPids: %v\n%s", err, second.Log)
	}
	if second.Pid == first {
		t.Fatalf("NoPids restart got the taken pid %d", first)
	}
	second.wait(t, false)
	second.RequirePass(t)
	rt.wait(t, false)
	rt.RequirePass(t)
}

// An image cut at any record boundary (the tail missing, or more) fails
// to restart with EINVAL and a message, and leaves no task behind.
func TestRestartTruncatedImage(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	recs := imageRecords(t, img)
	for _, r := range recs {
		_, err, log := restartBytes(t, d, img[:r.Offset], kcr.RestartOptions{})
		if !errors.Is(err, syscall.EINVAL) || log == "" {
			t.Fatalf("image cut before record %s at %d: %v, log %q; want EINVAL and a message",
				image.TypeName(r.Type), r.Offset, err, log)
		}
		requireNoChildren(t, fmt.Sprintf("cut at %d", r.Offset))
	}
	t.Logf("%d cuts refused", len(recs))
	// The whole image still restarts.
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("the uncut image: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}

// Single corrupted fields of the records restart.c reads itself, and the
// type or length of every record: a clean errno and a message each.
func TestRestartCorruptRecords(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	recs := imageRecords(t, img)
	le := binary.LittleEndian
	var order binary.ByteOrder = le
	if img[8] == 0 && img[9] == 0xfe {
		order = binary.BigEndian
	}
	find := func(typ uint32) recordPos {
		for _, r := range recs {
			if r.Type == typ {
				return r
			}
		}
		t.Fatalf("no record of type %s", image.TypeName(typ))
		return recordPos{}
	}
	type edit struct {
		name string
		rec  uint32
		off  uintptr // in the record
		val  uint64
		size int // bytes: 4 or 8
		want syscall.Errno
	}
	var task uapi.CkptHdrTask
	var hdr uapi.CkptHdrHeader
	var tree uapi.CkptHdrTree
	var pids uapi.CkptPids
	edits := []edit{
		{"magic", uapi.CKPT_HDR_HEADER, unsafe.Offsetof(hdr.Magic), 1, 8, syscall.EINVAL},
		{"version", uapi.CKPT_HDR_HEADER, unsafe.Offsetof(hdr.Version), 99, 4, syscall.EINVAL},
		{"arch", uapi.CKPT_HDR_HEADER, unsafe.Offsetof(hdr.ArchId), 77, 4, syscall.EINVAL},
		{"page size", uapi.CKPT_HDR_HEADER, unsafe.Offsetof(hdr.Constants) + 8, 1 << 20, 4, syscall.EINVAL},
		{"two tasks", uapi.CKPT_HDR_TREE, unsafe.Offsetof(tree.NrTasks), 2, 4, syscall.EINVAL},
		{"no tasks", uapi.CKPT_HDR_TREE, unsafe.Offsetof(tree.NrTasks), 0, 4, syscall.EINVAL},
		{"negative pid", uapi.CKPT_HDR_TREE, unsafe.Sizeof(tree) + unsafe.Offsetof(pids.Vpid), 0xffffffff, 4, syscall.EINVAL},
		{"exit signal", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.ExitSignal), 99, 4, syscall.EINVAL},
		// The coordinator would get it: stopped or ended by its child.
		{"exit signal SIGSTOP", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.ExitSignal), uint64(syscall.SIGSTOP), 4, syscall.EPERM},
		{"exit signal SIGHUP", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.ExitSignal), uint64(syscall.SIGHUP), 4, syscall.EPERM},
		{"exit signal SIGUSR1", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.ExitSignal), uint64(syscall.SIGUSR1), 4, syscall.EPERM},
		// Fatal to a Go restarter: its runtime leaves 32 to glibc.
		{"exit signal 32", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.ExitSignal), 32, 4, syscall.EPERM},
		{"policy", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.Policy), 6, 4, syscall.EINVAL},
		{"nice", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.Nice), 20, 4, syscall.EINVAL},
		{"robust list length", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.RobustListLen), 5, 8, syscall.EINVAL},
		{"tid address", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.ClearChildTid), 1 << 63, 8, syscall.EINVAL},
		{"task flags", uapi.CKPT_HDR_TASK, unsafe.Offsetof(task.Flags), 0x100, 4, syscall.EINVAL},
	}
	try := func(name string, bad []byte, want syscall.Errno) {
		t.Helper()
		_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
		if !errors.Is(err, want) || log == "" {
			t.Errorf("%s: %v, log %q; want %v and a message", name, err, log, want)
		}
		requireNoChildren(t, name)
	}
	for _, e := range edits {
		r := find(e.rec)
		bad := bytes.Clone(img)
		at := r.Offset + int64(e.off)
		if e.size == 8 {
			order.PutUint64(bad[at:], e.val)
		} else {
			order.PutUint32(bad[at:], uint32(e.val))
		}
		try(e.name, bad, e.want)
	}
	for _, r := range recs {
		bad := bytes.Clone(img)
		order.PutUint32(bad[r.Offset:], 9998)
		try(fmt.Sprintf("type of %s at %d", image.TypeName(r.Type), r.Offset), bad, syscall.EINVAL)
		bad = bytes.Clone(img)
		order.PutUint32(bad[r.Offset+4:], r.Len+8)
		try(fmt.Sprintf("length of %s at %d", image.TypeName(r.Type), r.Offset), bad, syscall.EINVAL)
	}
}

// kcr restart is the coordinator: it waits for the restored process and
// exits with its status.
func TestRestartCLI(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_task")
	out, err := exec.Command("/bin/kcr", "restart", "-i", rt.Image).CombinedOutput()
	if err != nil {
		t.Fatalf("kcr restart: %v\n%s\nreport:\n%s", err, out, rt.Report())
	}
	want := fmt.Sprintf("restarted pid %d", rt.OrigPid)
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), "exited with status 0") {
		t.Fatalf("kcr restart said %q, want %q and the exit status", out, want)
	}
	// A bad image: a clear error, exit status 1.
	bad := filepath.Join(t.TempDir(), "bad.img")
	if err := os.WriteFile(bad, []byte("not an image at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("/bin/kcr", "restart", "-i", bad).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "invalid argument") {
		t.Fatalf("kcr restart of a bad image: %v\n%s", err, out)
	}
}

// RESTART_TASKSELF: a process (selfrestart) turns into the image's
// process in place, keeping its pid; rt_task then checks its state and
// reports through the image's descriptors. A bad image fails the ioctl
// in the caller, which lives on to say so.
func TestRestartTaskSelf(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_task")
	// The restored report descriptor appends to this file: only what
	// the restarted process writes is in it.
	if err := os.Truncate(rt.Image+".report", 0); err != nil {
		t.Fatal(err)
	}
	log := rt.Image + ".restartlog"
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "selfrestart"), rt.Image, log)
	out, err := combinedOutput(cmd)
	restartLog, _ := os.ReadFile(log)
	if err != nil {
		t.Fatalf("selfrestart: %v\n%s\nrestart log:\n%s\nreport:\n%s", err, out, restartLog, rt.Report())
	}
	if !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("the restarted process did not pass its checks:\n%s\nrestart log:\n%s", rt.Report(), restartLog)
	}
	want := fmt.Sprintf("pid %d ", cmd.Process.Pid)
	if !strings.Contains(rt.Report(), want) {
		t.Errorf("report does not say %q:\n%s", want, rt.Report())
	}

	bad := filepath.Join(t.TempDir(), "bad.img")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, img[:len(img)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = combinedOutput(exec.Command(filepath.Join(guestproto.BinDir, "selfrestart"), bad, log))
	var ee *exec.ExitError
	restartLog, _ = os.ReadFile(log)
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		// Refused before anything changed: the caller goes on.
	case errors.As(err, &ee) && ee.ExitCode() == -1 && strings.Contains(ee.String(), "killed"):
		// Refused half way: the half-restored caller is killed.
	default:
		t.Fatalf("selfrestart of half an image: %v\n%s", err, out)
	}
	if !strings.Contains(string(restartLog), "[err") {
		t.Errorf("no message in the restart log: %q", restartLog)
	}
}
