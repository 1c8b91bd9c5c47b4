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

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// restartBytes restarts an image given as bytes and returns the error
// and the log.
func restartBytes(t *testing.T, d *kcr.Device, img []byte, o kcr.RestartOptions) (int, error, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "img")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(img); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
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
		{"frozen", kcr.RestartOptions{Flags: uapi.RESTART_FROZEN}, syscall.EOPNOTSUPP},
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
