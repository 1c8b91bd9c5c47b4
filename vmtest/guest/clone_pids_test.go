//go:build kcrguest

package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// CKPT_IOC_CLONE_WITH_PIDS: the C side through vmtest/workloads/clonepids.c
// (which calls the ioctl itself and reports "ok PID" or "err ERRNO" and
// whether a child was left), the Go side through kcr.StartWithPids.

var clonepidsBin = filepath.Join(guestproto.BinDir, "clonepids")

// freePids returns n pids that no task has now, well above the ones the
// guest hands out.
func freePids(t *testing.T, n int) []int {
	t.Helper()
	var pids []int
	for p := 20000 + os.Getpid()%1000*7; len(pids) < n && p < 32000; p += 13 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", p)); errors.Is(err, os.ErrNotExist) {
			pids = append(pids, p)
		}
	}
	if len(pids) < n {
		t.Fatalf("found %d free pids, want %d", len(pids), n)
	}
	return pids
}

// runClonepids runs clonepids with args (through credrun with opts
// unless nil) and returns its output; a non-zero exit fails the test.
func runClonepids(t *testing.T, opts []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(clonepidsBin, args...)
	if opts != nil {
		cmd = credCmd(opts, clonepidsBin, args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("clonepids %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestCloneWithPidsRegs(t *testing.T) {
	withModule(t)
	p := freePids(t, 1)[0]
	if out := runClonepids(t, nil, "regs", strconv.Itoa(p)); out != "ok\n" {
		t.Fatalf("regs: %q", out)
	}
}

// A stack and TLS of the child's own, checked in assembly per arch.
func TestCloneWithPidsStack(t *testing.T) {
	withModule(t)
	if out := runClonepids(t, nil, "stack"); out != "ok\n" {
		t.Fatalf("stack: %q", out)
	}
}

// Two levels: a new pid namespace whose init and second task get the
// outer and the inner pid asked for.
func TestCloneWithPidsNested(t *testing.T) {
	withModule(t)
	p := freePids(t, 2)
	if out := runClonepids(t, nil, "nested", strconv.Itoa(p[0]), strconv.Itoa(p[1]), "42"); out != "ok\n" {
		t.Fatalf("nested: %q", out)
	}
}

// A stack without a size and the reverse (EINVAL), unreadable memory
// (EFAULT).
func TestCloneWithPidsBadArgs(t *testing.T) {
	withModule(t)
	if out := runClonepids(t, nil, "badargs"); out != "ok\n" {
		t.Fatalf("badargs: %q", out)
	}
}

// A seccomp filter sees an ioctl, not a clone: a filtered caller is
// refused, even by a filter that would allow the clone.
func TestCloneWithPidsSeccomp(t *testing.T) {
	withModule(t)
	if out := runClonepids(t, nil, "seccomp"); out != "ok\n" {
		t.Fatalf("seccomp: %q", out)
	}
}

// A raw call: its result, "ok PID" or "err ERRNO", and whether a child
// was left.
func rawClone(t *testing.T, opts []string, args ...string) (string, bool) {
	t.Helper()
	out := runClonepids(t, opts, append([]string{"raw"}, args...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || (lines[1] != "nochild" && lines[1] != "leak") {
		t.Fatalf("clonepids raw %v: %q", args, out)
	}
	return lines[0], lines[1] == "leak"
}

func TestCloneWithPidsErrors(t *testing.T) {
	withModule(t)
	p := strconv.Itoa(freePids(t, 1)[0])
	thirtyThree := []string{"0", "17", "0", "33"}
	for i := 0; i < 33; i++ {
		thirtyThree = append(thirtyThree, strconv.Itoa(30000+i))
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"success", []string{"0", "17", "0", "1", p}, "ok " + p},
		{"pid taken (init's)", []string{"0", "17", "0", "1", "1"}, "err 16"},
		{"nr_pids past the nesting depth", []string{"0", "17", "0", "2", p, p}, "err 22"},
		{"nr_pids past MAX_PID_NS_LEVEL", thirtyThree, "err 22"},
		{"nr_pids without pids", []string{"0", "17", "0", "1"}, "err 22"},
		{"pids without nr_pids", []string{"0", "17", "0", "0", p}, "err 22"},
		{"pid 0", []string{"0", "17", "0", "1", "0"}, "err 22"},
		{"negative pid", []string{"0", "17", "0", "1", "-5"}, "err 22"},
		{"__pad set", []string{"0", "17", "1", "1", p}, "err 22"},
		{"__pad high bit", []string{"0", "17", "0x80000000", "1", p}, "err 22"},
		{"CSIGNAL bits in flags", []string{"17", "0", "0", "1", p}, "err 22"},
		{"CLONE_DETACHED", []string{"0x400000", "17", "0", "1", p}, "err 22"},
		{"CLONE_PIDFD (no pidfd field)", []string{"0x1000", "17", "0", "1", p}, "err 22"},
		{"CLONE_INTO_CGROUP (no cgroup field)", []string{"0x200000000", "17", "0", "1", p}, "err 22"},
		{"unknown flag", []string{"0x10000000000", "17", "0", "1", p}, "err 22"},
		{"CLONE_SIGHAND with CLONE_CLEAR_SIGHAND", []string{"0x100000800", "17", "0", "1", p}, "err 22"},
		{"CLONE_PARENT with an exit signal", []string{"0x8000", "17", "0", "1", p}, "err 22"},
		{"exit signal 65", []string{"0", "65", "0", "1", p}, "err 22"},
		{"exit signal upper bits", []string{"0", "0x100000011", "0", "1", p}, "err 22"},
		{"success again (pid free after reaping)", []string{"0", "17", "0", "1", p}, "ok " + p},
	} {
		got, leak := rawClone(t, nil, c.args...)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if leak {
			t.Errorf("%s: a child was left", c.name)
		}
	}
}

// Choosing a pid is alloc_pid()'s checkpoint_restore_ns_capable(): not
// for an unprivileged user, nor for the root of a user namespace that
// does not own the pid namespace; a user with CAP_CHECKPOINT_RESTORE may.
func TestCloneWithPidsPermission(t *testing.T) {
	withModule(t)
	p := strconv.Itoa(freePids(t, 1)[0])
	for _, c := range []struct {
		name string
		opts []string
		want string
	}{
		{"nobody", userOpts(65534), "err 1"},
		{"root of a user namespace", nsRootOpts(), "err 1"},
		{"user 1000 with CAP_CHECKPOINT_RESTORE", userOpts(1000, "-c", capCheckpointRestoreMask), "ok " + p},
	} {
		got, leak := rawClone(t, c.opts, "0", "17", "0", "1", p)
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if leak {
			t.Errorf("%s: a child was left", c.name)
		}
	}
	// Without pids it is a plain fork, which anyone may do.
	if got, _ := rawClone(t, userOpts(65534), "0", "17", "0", "0"); !strings.HasPrefix(got, "ok ") {
		t.Errorf("nobody without pids: got %q, want ok", got)
	}
}

// children lists the test process's children (of every thread).
func children(t *testing.T) []int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread exited
		}
		for _, s := range strings.Fields(string(b)) {
			p, _ := strconv.Atoi(s)
			pids = append(pids, p)
		}
	}
	sort.Ints(pids)
	return pids
}

// startPid starts clonepids pid with pids and attr, and returns what it
// printed ("getpid getppid") and its exit status.
func startPid(t *testing.T, d *kcr.Device, pids []int, attr kcr.SpawnAttr) (int, string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	attr.Files = []int{0, int(w.Fd()), 2}
	pid, err := d.StartWithPids(clonepidsBin, []string{"clonepids", "pid"}, nil, pids, &attr)
	w.Close()
	if err != nil {
		return 0, "", err
	}
	out, _ := io.ReadAll(r)
	var st unix.WaitStatus
	if _, err := unix.Wait4(pid, &st, 0, nil); err != nil {
		t.Fatalf("wait4(%d): %v", pid, err)
	}
	if !st.Exited() || st.ExitStatus() != 0 {
		t.Fatalf("child %d ended with %#x, printed %q", pid, st, out)
	}
	return pid, strings.TrimSpace(string(out)), nil
}

func TestCloneWithPidsGo(t *testing.T) {
	withModule(t)
	d, err := kcr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	before := children(t)
	p := freePids(t, 3)

	pid, out, err := startPid(t, d, []int{p[0]}, kcr.SpawnAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d %d", p[0], os.Getpid()); pid != p[0] || out != want {
		t.Errorf("StartWithPids(%d): pid %d printed %q, want %q", p[0], pid, out, want)
	}

	// The init of a new pid namespace: outer pid chosen, inner 1.
	pid, out, err = startPid(t, d, []int{p[1], 1}, kcr.SpawnAttr{Cloneflags: unix.CLONE_NEWPID})
	if err != nil {
		t.Fatal(err)
	}
	if pid != p[1] || out != "1 0" {
		t.Errorf("StartWithPids(%d, 1) in a new pid namespace: pid %d printed %q, want \"1 0\"", p[1], pid, out)
	}

	// A taken pid, more pids than levels, an execve() that fails.
	if _, _, err := startPid(t, d, []int{os.Getpid()}, kcr.SpawnAttr{}); !errors.Is(err, unix.EBUSY) {
		t.Errorf("the caller's own pid: got %v, want EBUSY", err)
	}
	if _, _, err := startPid(t, d, []int{p[2], p[2]}, kcr.SpawnAttr{}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("two pids, one level: got %v, want EINVAL", err)
	}
	_, err = d.StartWithPids("/nonexistent", []string{"x"}, nil, []int{p[2]}, nil)
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("exec of a missing file: got %v, want ENOENT", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", p[2])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the child whose execve() failed was not reaped: %v", err)
	}
	if after := children(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("children before %v, after %v", before, after)
	}
}
