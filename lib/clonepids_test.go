package kcr

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The checks StartWithPids makes before asking the kernel.
func TestNewSpawnRefuses(t *testing.T) {
	many := make([]int, MaxPidLevels+1)
	for i := range many {
		many[i] = 100 + i
	}
	for _, c := range []struct {
		name string
		path string
		pids []int
		attr SpawnAttr
		want error
	}{
		{"too many pids", "/bin/true", many, SpawnAttr{}, unix.EINVAL},
		{"pid 0", "/bin/true", []int{0}, SpawnAttr{}, unix.EINVAL},
		{"negative pid", "/bin/true", []int{5, -1}, SpawnAttr{}, unix.EINVAL},
		{"pid beyond PID_MAX_LIMIT", "/bin/true", []int{1<<22 + 1}, SpawnAttr{}, unix.EINVAL},
		{"CLONE_NEWUSER", "/bin/true", []int{100}, SpawnAttr{Cloneflags: unix.CLONE_NEWUSER}, unix.EINVAL},
		{"CLONE_VM", "/bin/true", nil, SpawnAttr{Cloneflags: unix.CLONE_VM}, unix.EINVAL},
		{"CLONE_THREAD", "/bin/true", nil, SpawnAttr{Cloneflags: unix.CLONE_THREAD}, unix.EINVAL},
		{"a CSIGNAL bit", "/bin/true", nil, SpawnAttr{Cloneflags: uintptr(unix.SIGCHLD)}, unix.EINVAL},
		{"NUL in the path", "/bin/tr\x00ue", nil, SpawnAttr{}, unix.EINVAL},
		{"NUL in the directory", "/bin/true", nil, SpawnAttr{Dir: "/t\x00mp"}, unix.EINVAL},
		{"bad descriptor", "/bin/true", nil, SpawnAttr{Files: []int{0, -2}}, unix.EBADF},
		{"bad pdeathsig", "/bin/true", nil, SpawnAttr{Pdeathsig: 99}, unix.EINVAL},
	} {
		_, err := newSpawn(c.path, []string{"true"}, nil, c.pids, &c.attr)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// The ioctl's arguments: pids outermost first as given (the kernel
// reverses them), CLONE_VFORK added, SIGCHLD as the exit signal.
func TestNewSpawnArgs(t *testing.T) {
	s, err := newSpawn("/bin/true", nil, []string{"A=1"}, []int{300, 1},
		&SpawnAttr{Cloneflags: unix.CLONE_NEWPID})
	if err != nil {
		t.Fatal(err)
	}
	if s.args.Flags != unix.CLONE_NEWPID|unix.CLONE_VFORK || s.args.ExitSignal != uint64(unix.SIGCHLD) {
		t.Errorf("flags %#x exit signal %d", s.args.Flags, s.args.ExitSignal)
	}
	if s.args.NrPids != 2 || s.pids[0] != 300 || s.pids[1] != 1 || s.args.Pids == 0 {
		t.Errorf("pids %v nr %d ptr %#x", s.pids[:2], s.args.NrPids, s.args.Pids)
	}
	if len(s.fds) != 3 || len(s.argv) != 1 || s.argv[0] != nil || len(s.envv) != 2 {
		t.Errorf("fds %v argv %v envv %v", s.fds, s.argv, s.envv)
	}
	s, err = newSpawn("/bin/true", nil, nil, nil, &SpawnAttr{})
	if err != nil || s.args.NrPids != 0 || s.args.Pids != 0 {
		t.Errorf("no pids: %v, nr %d ptr %#x", err, s.args.NrPids, s.args.Pids)
	}
}

// Without kcr.ko (or with it), a device that is not /dev/checkpoint makes
// the ioctl fail in the parent: no child, the error returned, and the
// runtime's fork hooks undone (the test goes on).
func TestStartWithPidsNotADevice(t *testing.T) {
	f, err := openNull(t)
	if err != nil {
		t.Fatal(err)
	}
	d := &Device{f: f}
	_, err = d.StartWithPids("/bin/true", []string{"true"}, nil, []int{12345}, nil)
	if !errors.Is(err, unix.ENOTTY) {
		t.Fatalf("got %v, want ENOTTY", err)
	}
	var st unix.WaitStatus
	if _, err := unix.Wait4(-1, &st, unix.WNOHANG|unix.WALL, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("a child exists after the failure: %v", err)
	}
}

func openNull(t *testing.T) (*os.File, error) {
	t.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err == nil {
		t.Cleanup(func() { f.Close() })
	}
	return f, err
}
