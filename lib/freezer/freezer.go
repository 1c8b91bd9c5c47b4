// Package freezer drives the cgroup freezer that external checkpoints
// need: a target is frozen in its own cgroup, checkpointed, then thawed or
// killed. It works through kcr.ko's CKPT_IOC_FREEZER_GET/SET, which know
// cgroup v2 and the v1 freezer hierarchy and report linux-cr's
// CHECKPOINTING state; without the module (no /dev/checkpoint) it falls
// back to cgroup v2's files.
package freezer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

// Root is where cgroup v2 is mounted.
const Root = "/sys/fs/cgroup"

// State is a freezer state, CKPT_FREEZER_*.
type State uint32

// The freezer states. Freezing and Checkpointing are only read, never set.
const (
	Thawed        State = uapi.CKPT_FREEZER_THAWED
	Freezing      State = uapi.CKPT_FREEZER_FREEZING
	Frozen        State = uapi.CKPT_FREEZER_FROZEN
	Checkpointing State = uapi.CKPT_FREEZER_CHECKPOINTING
)

func (s State) String() string {
	switch s {
	case Thawed:
		return "THAWED"
	case Freezing:
		return "FREEZING"
	case Frozen:
		return "FROZEN"
	case Checkpointing:
		return "CHECKPOINTING"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// ParseState reads a state name as String writes it (any case).
func ParseState(s string) (State, error) {
	for _, st := range []State{Thawed, Freezing, Frozen, Checkpointing} {
		if strings.EqualFold(s, st.String()) {
			return st, nil
		}
	}
	return 0, fmt.Errorf("freezer: unknown state %q", s)
}

// Cgroup is one cgroup directory: cgroup v2, or the v1 freezer hierarchy.
type Cgroup struct {
	Path string
}

// Mount mounts cgroup2 at Root unless it is there already.
func Mount() error {
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return nil
	}
	if err := os.MkdirAll(Root, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("cgroup2", Root, "cgroup2", 0, ""); err != nil {
		return fmt.Errorf("freezer: mounting cgroup2 on %s: %w", Root, err)
	}
	return nil
}

// MountV1 mounts the v1 freezer hierarchy at dir unless it is there.
func MountV1(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.CGROUP_SUPER_MAGIC {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("freezer", dir, "cgroup", 0, "freezer"); err != nil {
		return fmt.Errorf("freezer: mounting the v1 freezer on %s: %w", dir, err)
	}
	return nil
}

// New creates the cgroup Root/name.
func New(name string) (*Cgroup, error) {
	return NewAt(Root, name)
}

// NewAt creates the cgroup dir/name (dir: a cgroup v2 or v1 freezer one).
func NewAt(dir, name string) (*Cgroup, error) {
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("freezer: %w", err)
	}
	return &Cgroup{Path: p}, nil
}

// Add moves a process into the cgroup.
func (c *Cgroup) Add(pid int) error {
	return c.write("cgroup.procs", strconv.Itoa(pid))
}

// Freeze freezes the cgroup and waits until every task in it is frozen.
func (c *Cgroup) Freeze() error { return c.setWait(Frozen) }

// Thaw thaws the cgroup and waits until it is.
func (c *Cgroup) Thaw() error { return c.setWait(Thawed) }

// Remove removes the (empty) cgroup.
func (c *Cgroup) Remove() error { return os.Remove(c.Path) }

// Frozen tells whether every task of the cgroup is frozen (FROZEN, or
// CHECKPOINTING: frozen while a checkpoint runs).
func (c *Cgroup) Frozen() (bool, error) {
	s, err := c.State()
	return s == Frozen || s == Checkpointing, err
}

// State returns the cgroup's freezer state (CKPT_IOC_FREEZER_GET).
func (c *Cgroup) State() (State, error) {
	arg := uapi.CkptIocFreezer{}
	err := c.ioctl(uapi.CKPT_IOC_FREEZER_GET, &arg)
	if errors.Is(err, kcr.ErrNoModule) {
		return c.stateFiles()
	}
	if err != nil {
		return 0, fmt.Errorf("freezer: state of %s: %w", c.Path, err)
	}
	return State(arg.State), nil
}

// Set asks for Thawed or Frozen (CKPT_IOC_FREEZER_SET) and returns at
// once: tasks stop or go on asynchronously (State says Freezing until
// they have). While a checkpoint of the cgroup's tasks runs it fails with
// EBUSY.
func (c *Cgroup) Set(s State) error {
	arg := uapi.CkptIocFreezer{State: uint32(s)}
	err := c.ioctl(uapi.CKPT_IOC_FREEZER_SET, &arg)
	if errors.Is(err, kcr.ErrNoModule) {
		switch s {
		case Frozen:
			return c.write("cgroup.freeze", "1")
		case Thawed:
			return c.write("cgroup.freeze", "0")
		}
		return fmt.Errorf("freezer: setting %s to %v: %w", c.Path, s, unix.EINVAL)
	}
	if err != nil {
		return fmt.Errorf("freezer: setting %s to %v: %w", c.Path, s, err)
	}
	return nil
}

// ioctl issues a freezer ioctl on the cgroup's directory. The kernel's
// message, if any, becomes part of the error.
func (c *Cgroup) ioctl(req uint, arg *uapi.CkptIocFreezer) error {
	dev, err := kcr.Open()
	if err != nil {
		return err
	}
	defer dev.Close()
	dir, err := os.OpenFile(c.Path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	logfd, err := unix.MemfdCreate("kcr-freezer-log", unix.MFD_CLOEXEC)
	if err != nil {
		return err
	}
	log := os.NewFile(uintptr(logfd), "kcr-freezer-log")
	defer log.Close()
	arg.CgroupFd = int32(dir.Fd())
	arg.Logfd = int32(logfd)
	_, err = dev.Ioctl(req, uintptr(unsafe.Pointer(arg)))
	if err != nil {
		if _, serr := log.Seek(0, io.SeekStart); serr == nil {
			if msg, _ := io.ReadAll(log); len(msg) > 0 {
				return &Error{Errno: err, Msg: strings.TrimSpace(string(msg))}
			}
		}
	}
	return err
}

// Error is a failed freezer ioctl with the kernel's message.
type Error struct {
	Errno error
	Msg   string
}

func (e *Error) Error() string { return fmt.Sprintf("%v (%s)", e.Errno, e.Msg) }

// Unwrap gives the errno, for errors.Is(err, unix.EBUSY).
func (e *Error) Unwrap() error { return e.Errno }

// setWait sets the state and waits until the cgroup's tasks are in it.
func (c *Cgroup) setWait(s State) error {
	// cgroup v2 says when the frozen state changes: poll() on
	// cgroup.events wakes with POLLPRI once the file changed since it
	// was last read. Reading it before each check means no change can
	// slip between a check and the sleep. v1 has no such file: there,
	// and if polling fails, sleep in growing steps.
	events, _ := os.Open(filepath.Join(c.Path, "cgroup.events"))
	if events != nil {
		defer events.Close()
	}
	if err := c.Set(s); err != nil {
		return err
	}
	// The tasks stop (or go on) one by one; emulated guests can take
	// a while.
	deadline := time.Now().Add(30 * time.Second)
	pause := time.Millisecond
	var buf [256]byte
	for {
		if events != nil {
			if _, err := events.ReadAt(buf[:], 0); err != nil && !errors.Is(err, io.EOF) {
				events.Close()
				events = nil
			}
		}
		got, err := c.State()
		if err != nil {
			return err
		}
		if got == s || (s == Frozen && got == Checkpointing) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("freezer: %s did not reach %v (%v)", c.Path, s, got)
		}
		if events != nil {
			// Bounded, so that a missed wakeup costs only time.
			fds := []unix.PollFd{{Fd: int32(events.Fd()), Events: unix.POLLPRI}}
			if _, err := unix.Poll(fds, 100); err == nil || errors.Is(err, unix.EINTR) {
				continue
			}
			events.Close()
			events = nil
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}

func (c *Cgroup) write(file, v string) error {
	if err := os.WriteFile(filepath.Join(c.Path, file), []byte(v), 0); err != nil {
		return fmt.Errorf("freezer: %w", err)
	}
	return nil
}

// stateFiles reads cgroup v2's files, without kcr.ko.
func (c *Cgroup) stateFiles() (State, error) {
	b, err := os.ReadFile(filepath.Join(c.Path, "cgroup.events"))
	if err != nil {
		return 0, fmt.Errorf("freezer: %w", err)
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := strings.CutPrefix(string(l), "frozen "); ok {
			if v == "1" {
				return Frozen, nil
			}
			f, err := os.ReadFile(filepath.Join(c.Path, "cgroup.freeze"))
			if err != nil {
				return 0, fmt.Errorf("freezer: %w", err)
			}
			if strings.TrimSpace(string(f)) == "1" {
				return Freezing, nil
			}
			return Thawed, nil
		}
	}
	return 0, fmt.Errorf("freezer: no frozen key in %s/cgroup.events", c.Path)
}
