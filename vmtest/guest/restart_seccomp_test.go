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

	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// seccompFilters returns the mode of the image's SECCOMP record and the
// flags of its SECCOMP_FILTER records, oldest first.
func seccompFilters(t *testing.T, img []byte) (mode uint32, flags []uint32) {
	t.Helper()
	var h uapi.CkptHdrSeccomp
	var f uapi.CkptHdrSeccompFilter
	order := imageOrder(img)
	for _, r := range imageRecords(t, img) {
		rec := img[r.Offset:]
		switch r.Type {
		case uapi.CKPT_HDR_SECCOMP:
			mode = order.Uint32(rec[unsafe.Offsetof(h.Mode):])
		case uapi.CKPT_HDR_SECCOMP_FILTER:
			flags = append(flags, order.Uint32(rec[unsafe.Offsetof(f.Flags):]))
		}
	}
	return mode, flags
}

func requireFilters(t *testing.T, path string, want []uint32) {
	t.Helper()
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mode, flags := seccompFilters(t, img)
	if mode != uapi.CKPT_SECCOMP_MODE_FILTER || len(flags) != len(want) {
		t.Fatalf("image: seccomp mode %d, filter flags %v; want mode 2 and %v", mode, flags, want)
	}
	for i := range want {
		if flags[i] != want[i] {
			t.Fatalf("image: filter flags %v, want %v", flags, want)
		}
	}
}

// A process with two filters (an errno, a kill, the log flag) keeps them
// across checkpoint and restart: rt_seccomp checks their effects, that
// there are exactly two, and no_new_privs.
func TestRestartSeccomp(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_seccomp", "filter", "2")
	requireFilters(t, rt.Image, []uint32{0, uapi.CKPT_SECCOMP_FILTER_LOG})
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart of rt_seccomp: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
	t.Logf("report:\n%s", rt.Report())
}

// The same as user 1000 with no_new_privs, checkpointed and restarted by
// that user: the filters are installed under the user's own rights.
func TestRestartSeccompUnprivileged(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := filepath.Join(dir, "seccomp.img")
	out, err := exec.Command(filepath.Join(guestproto.BinDir, "rt_seccomp"), img, "filter", "2", "unpriv").CombinedOutput()
	rep, _ := os.ReadFile(img + ".report")
	if err != nil {
		log, _ := os.ReadFile(img + ".ckptlog")
		t.Fatalf("rt_seccomp as 1000: %v\n%s\nreport:\n%s\ncheckpoint log:\n%s", err, out, rep, log)
	}
	requireFilters(t, img, []uint32{0, uapi.CKPT_SECCOMP_FILTER_LOG})
	// CAP_CHECKPOINT_RESTORE: for the executable (TestRestartCredsUnprivilegedOwn).
	const capCheckpointRestore = 40
	code, kout, log := unprivRestart(t, dir, img, capCheckpointRestore)
	rep, _ = os.ReadFile(img + ".report")
	if code != 0 || !strings.Contains(string(rep), "PASS: 0 failures") {
		t.Fatalf("kcr restart as 1000 exited %d\n%s\nlog:\n%s\nreport:\n%s", code, kout, log, rep)
	}
	t.Logf("report:\n%s", rep)

	// Without no_new_privs the kernel's rule for installing a filter
	// (CAP_SYS_ADMIN) applies to the restored task, which lacks it.
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	var task uapi.CkptHdrTask
	r := recordOf(t, b, uapi.CKPT_HDR_TASK)
	flags := imageOrder(b).Uint32(b[r.Offset+int64(unsafe.Offsetof(task.Flags)):])
	if flags&uapi.CKPT_TASK_NO_NEW_PRIVS == 0 {
		t.Fatalf("image: task flags %#x without no_new_privs", flags)
	}
	nnp := recordEdit{rec: uapi.CKPT_HDR_TASK, off: unsafe.Offsetof(task.Flags), size: 4,
		val: uint64(flags &^ uapi.CKPT_TASK_NO_NEW_PRIVS)}
	p := filepath.Join(dir, "nonnp.img")
	if err := os.WriteFile(p, nnp.apply(t, b), 0o644); err != nil {
		t.Fatal(err)
	}
	code, kout, log = unprivRestart(t, dir, p, capCheckpointRestore)
	if code == 0 || !strings.Contains(log, "needs no_new_privs or CAP_SYS_ADMIN") {
		t.Errorf("restart without no_new_privs as 1000 exited %d\n%s\nlog %q; want EPERM", code, kout, log)
	}
}

// wrapped runs PROG ARGS under rt_seccomp's wrap filter (getpgid fails
// with errno 79), as a process started in a sandbox; it returns the exit
// status and output.
func wrapped(t *testing.T, prog string, args ...string) (int, string) {
	t.Helper()
	wargs := append([]string{"-", "wrap", prog}, args...)
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "rt_seccomp"), wargs...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("%s under a filter: %v\n%s", prog, err, out)
	}
	return 0, string(out)
}

// In a sandbox: a process that inherited a filter and added two is
// restarted by a restarter under the same filter. The restored task
// keeps the inherited filter and gets the two others again, exactly
// three (not the restarter's plus the image's three).
func TestRestartSeccompSandboxed(t *testing.T) {
	withModule(t)
	img := workloadImage(t, "rt_seccomp")
	code, out := wrapped(t, filepath.Join(guestproto.BinDir, "rt_seccomp"), img, "filter", "3")
	if code != 0 {
		rep, _ := os.ReadFile(img + ".report")
		t.Fatalf("rt_seccomp under a filter: exit %d\n%s\nreport:\n%s", code, out, rep)
	}
	requireFilters(t, img, []uint32{0, 0, uapi.CKPT_SECCOMP_FILTER_LOG})
	logPath := img + ".restartlog"
	code, out = wrapped(t, "/bin/kcr", "restart", "-i", img, "--log", logPath)
	log, _ := os.ReadFile(logPath)
	rep, _ := os.ReadFile(img + ".report")
	if code != 0 || !strings.Contains(string(rep), "PASS: 0 failures") {
		t.Fatalf("kcr restart under the filter exited %d\n%s\nlog:\n%s\nreport:\n%s", code, out, log, rep)
	}
	t.Logf("report:\n%s", rep)
}

// A restarter under a filter the image does not begin with: the restored
// task would run under a filter it did not have. Refused, no task left.
func TestRestartSeccompRestarterFiltered(t *testing.T) {
	withModule(t)
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"unfiltered image", []string{"none"}, "the restarter runs under seccomp filters"},
		{"other filters", []string{"filter", "2"}, "is not the image's"},
	} {
		rt := selfCheckpoint(t, "rt_seccomp", c.args...)
		logPath := rt.Image + ".restartlog"
		code, out := wrapped(t, "/bin/kcr", "restart", "--no-pids", "-i", rt.Image, "--log", logPath)
		log, _ := os.ReadFile(logPath)
		if code == 0 || !strings.Contains(string(log), c.msg) || !strings.Contains(string(log), "err -95") {
			t.Errorf("%s: kcr restart under a filter exited %d\n%s\nlog %q; want EOPNOTSUPP and %q", c.name, code, out, log, c.msg)
		}
		if strings.Contains(rt.Report(), "restarted") {
			t.Errorf("%s: the workload ran after restart:\n%s", c.name, rt.Report())
		}
	}
}

// State a checkpoint refuses: EOPNOTSUPP and a message naming it, and
// the target, thawed, runs on with its state intact.
func TestCheckpointRefusesSandboxState(t *testing.T) {
	d := device(t)
	for _, c := range []struct {
		mode, msg string
	}{
		{"landlock", "Landlock domain"},
		{"semundo", "SysV semaphore undo list"},
		{"uffd", "registered with a userfaultfd"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			refusedCheckpoint(t, d, c.msg, "rt_seccomp", c.mode)
		})
	}
}

// Strict mode is installed too: an image of an unfiltered process made
// strict dies at its first system call after restart (close()).
func TestRestartSeccompStrict(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_seccomp", "none")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var h uapi.CkptHdrSeccomp
	strict := recordEdit{rec: uapi.CKPT_HDR_SECCOMP, off: unsafe.Offsetof(h.Mode), size: 4,
		val: uapi.CKPT_SECCOMP_MODE_STRICT}
	if err := os.WriteFile(rt.Image, strict.apply(t, img), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart in strict mode: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	if !rt.Status.Signaled() || rt.Status.Signal() != unix.SIGKILL {
		t.Fatalf("restored in strict mode: %s, want SIGKILL\nreport:\n%s", describeStatus(rt.Status), rt.Report())
	}
}

// Corrupted seccomp records: a clean errno and a message, no task.
func TestRestartSeccompCorrupt(t *testing.T) {
	rt := selfCheckpoint(t, "rt_seccomp", "filter", "2")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var h uapi.CkptHdrSeccomp
	var f uapi.CkptHdrSeccompFilter
	tryEdits(t, img, []recordEdit{
		{name: "mode", rec: uapi.CKPT_HDR_SECCOMP, off: unsafe.Offsetof(h.Mode), size: 4, val: 7,
			want: syscall.EINVAL, msg: "seccomp record: mode 7"},
		{name: "flags", rec: uapi.CKPT_HDR_SECCOMP, off: unsafe.Offsetof(h.Flags), size: 4, val: 0x80,
			want: syscall.EINVAL, msg: "seccomp record"},
		{name: "no filters", rec: uapi.CKPT_HDR_SECCOMP, off: unsafe.Offsetof(h.NrFilters), size: 4, val: 0,
			want: syscall.EINVAL, msg: "with 0 filters"},
		{name: "filter flags", rec: uapi.CKPT_HDR_SECCOMP_FILTER, off: unsafe.Offsetof(f.Flags), size: 4, val: 2,
			want: syscall.EINVAL, msg: "seccomp filter 0: flags 0x2"},
		{name: "filter length", rec: uapi.CKPT_HDR_SECCOMP_FILTER, off: unsafe.Offsetof(f.Len), size: 4, val: 1,
			want: syscall.EINVAL, msg: "seccomp filter 0"},
		// The first instruction's code: the kernel's checker refuses it.
		{name: "program", rec: uapi.CKPT_HDR_SECCOMP_FILTER, off: unsafe.Sizeof(f), size: 4, val: 0xffffffff,
			want: syscall.EINVAL, msg: "the kernel refuses it"},
	})
}
