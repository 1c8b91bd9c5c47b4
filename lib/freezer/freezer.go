// Package freezer drives the cgroup v2 freezer that external checkpoints
// need: a target is frozen in its own cgroup, checkpointed, then thawed or
// killed.
package freezer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Root is where cgroup v2 is mounted.
const Root = "/sys/fs/cgroup"

// Cgroup is one cgroup v2 directory.
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

// New creates the cgroup Root/name.
func New(name string) (*Cgroup, error) {
	p := filepath.Join(Root, name)
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
func (c *Cgroup) Freeze() error { return c.set(true) }

// Thaw thaws the cgroup and waits until it is.
func (c *Cgroup) Thaw() error { return c.set(false) }

// Remove removes the (empty) cgroup.
func (c *Cgroup) Remove() error { return os.Remove(c.Path) }

func (c *Cgroup) write(file, v string) error {
	if err := os.WriteFile(filepath.Join(c.Path, file), []byte(v), 0); err != nil {
		return fmt.Errorf("freezer: %w", err)
	}
	return nil
}

// Frozen reads the "frozen" key of cgroup.events.
func (c *Cgroup) Frozen() (bool, error) {
	b, err := os.ReadFile(filepath.Join(c.Path, "cgroup.events"))
	if err != nil {
		return false, fmt.Errorf("freezer: %w", err)
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := strings.CutPrefix(string(l), "frozen "); ok {
			return v == "1", nil
		}
	}
	return false, fmt.Errorf("freezer: no frozen key in %s/cgroup.events", c.Path)
}

func (c *Cgroup) set(frozen bool) error {
	v := "0"
	if frozen {
		v = "1"
	}
	if err := c.write("cgroup.freeze", v); err != nil {
		return err
	}
	// The kernel reports the state change in cgroup.events once every
	// task has reached it; emulated guests can take a while.
	deadline := time.Now().Add(30 * time.Second)
	for {
		f, err := c.Frozen()
		if err != nil {
			return err
		}
		if f == frozen {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("freezer: %s did not reach frozen=%v", c.Path, frozen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
