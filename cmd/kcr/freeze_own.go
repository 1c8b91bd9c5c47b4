package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kcr-dev/kcr/lib/freezer"
)

// freezeOwnCgroup freezes pid's tree in its own cgroup, where it is, when
// the tree is all that the cgroup holds (a systemd service or scope, a
// container, a job started with clone3's CLONE_INTO_CGROUP). That spares
// the two cgroup moves there and back, the first of which waits for an
// RCU grace period (cgroup_attach_lock()), and a service manager never
// sees its cgroup emptied while the checkpoint runs. It returns nil,
// having changed nothing, when the tree does not own its cgroup or we
// may not freeze it; freezeTree then moves the tree instead.
func freezeOwnCgroup(pid int) *frozenTree {
	rel, err := cgroupOf(pid)
	if err != nil || rel == "/" {
		return nil
	}
	dir := filepath.Join(freezer.Root, rel)
	owns := ownsCgroup(dir, pid)
	timing.mark("own-check")
	if !owns {
		return nil
	}
	t, err := freezeCgroup(dir, pid)
	if err != nil {
		return nil
	}
	timing.mark("freeze-in-place")
	// Checked again while frozen: a process may have joined the cgroup
	// (or left the tree) since; and a cgroup that someone else froze
	// is theirs to thaw, not ours.
	if !t.whole || t.cg == nil {
		_ = t.release(false)
		timing.mark("thaw")
		return nil
	}
	return t
}

// ownsCgroup tells whether the processes of cgroup dir are exactly the
// tree of pid (the test freezeCgroup makes again once frozen), and the
// cgroup has no child cgroup (freezing it would freeze theirs too).
func ownsCgroup(dir string, pid int) bool {
	stat, err := os.ReadFile(filepath.Join(dir, "cgroup.stat"))
	if err != nil || cgroupStat(string(stat), "nr_descendants") != 0 {
		return false
	}
	_, _, all, err := findTree(dir, pid)
	return err == nil && all
}

// cgroupStat returns the value of key in a cgroup.stat text, or -1.
func cgroupStat(text, key string) int {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, key+" "); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}
