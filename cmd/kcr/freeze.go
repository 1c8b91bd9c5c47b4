package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kcr-dev/kcr/lib/freezer"
)

// frozenTree is a process tree frozen for its checkpoint: the kernel
// checkpoints the root with all its descendants, so every one of them
// must be frozen.
type frozenTree struct {
	root int
	// release undoes the freezing after the checkpoint; with kill (after
	// a successful checkpoint) it kills the tree instead and returns once
	// every process of it has exited.
	release func(kill bool) error
	// cg is the freezer kcr may thaw and freeze again before the
	// checkpoint (for --pre-copy), and procs lists the tree's processes
	// while it is frozen; nil when the tree was frozen by someone else.
	cg    *freezer.Cgroup
	procs func() ([]int, error)
	// frozen is when the freeze that the checkpoint runs in began.
	frozen time.Time
	// whole: the tree is all that its cgroup held when it was frozen.
	whole bool
}

// emptyWait bounds the wait for killed processes to exit.
const emptyWait = 30 * time.Second

// cgroupDir resolves a cgroup given as a path under the cgroup v2 root
// (absolute, or relative to the root).
func cgroupDir(path string) (string, error) {
	dir := path
	if !filepath.IsAbs(dir) {
		if err := freezer.Mount(); err != nil {
			return "", err
		}
		dir = filepath.Join(freezer.Root, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.freeze")); err != nil {
		return "", fmt.Errorf("%s is not a cgroup v2 directory with a freezer: %w", dir, err)
	}
	return dir, nil
}

// freezeCgroup freezes the cgroup at path and finds the tree to
// checkpoint in it: the tree of pid, or (pid 0) the one tree the cgroup
// holds. Every process of that tree must be in the cgroup. The cgroup
// is thawed afterwards unless it was frozen already; with kill the tree
// is killed (the whole cgroup with cgroup.kill when the tree is all it
// holds).
func freezeCgroup(path string, pid int) (*frozenTree, error) {
	dir, err := cgroupDir(path)
	if err != nil {
		return nil, err
	}
	cg := &freezer.Cgroup{Path: dir}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze"))
	if err != nil {
		return nil, err
	}
	wasFrozen := strings.TrimSpace(string(b)) == "1"
	thaw := func() error {
		if wasFrozen {
			return nil
		}
		return cg.Thaw()
	}
	frozen := time.Now()
	if err := cg.Freeze(); err != nil {
		return nil, err
	}
	root, tree, all, err := findTree(dir, pid)
	if err != nil {
		_ = thaw()
		return nil, err
	}
	release := func(kill bool) error {
		if !kill {
			return thaw()
		}
		var kerr error
		if all {
			kerr = killCgroup(cg)
		} else {
			kerr = killPids(tree)
		}
		if terr := thaw(); kerr == nil {
			kerr = terr
		}
		return kerr
	}
	t := &frozenTree{root: root, release: release, frozen: frozen, whole: all}
	if !wasFrozen {
		t.cg = cg
		t.procs = func() ([]int, error) {
			_, tree, _, err := findTree(dir, root)
			return tree, err
		}
	}
	return t, nil
}

// findTree finds, in the frozen cgroup dir, the tree rooted at pid (0:
// the only tree there). It returns its root, its processes, and whether
// they are all the cgroup holds.
func findTree(dir string, pid int) (root int, tree []int, all bool, err error) {
	procs, err := cgroupProcs(dir)
	if err != nil {
		return 0, nil, false, err
	}
	if len(procs) == 0 {
		return 0, nil, false, fmt.Errorf("cgroup %s holds no process", dir)
	}
	table, err := readProcTable()
	if err != nil {
		return 0, nil, false, err
	}
	in := map[int]bool{}
	for _, p := range procs {
		in[p] = true
	}
	root = pid
	if root == 0 {
		roots := treeRoots(table, procs)
		if len(roots) != 1 {
			var names []string
			for _, r := range roots {
				names = append(names, table.name(r))
			}
			return 0, nil, false, fmt.Errorf("cgroup %s holds %d process trees, with roots %s: "+
				"name the root to checkpoint (kcr checkpoint --cgroup %s PID)",
				dir, len(roots), strings.Join(names, ", "), dir)
		}
		root = roots[0]
	} else if !in[root] {
		return 0, nil, false, fmt.Errorf("pid %d is not in cgroup %s", root, dir)
	}
	tree = table.descendants(root)
	var outside []string
	for _, p := range tree {
		if !in[p] {
			outside = append(outside, table.name(p))
		}
	}
	if len(outside) > 0 {
		return 0, nil, false, fmt.Errorf("pid %d has descendants outside cgroup %s, "+
			"so they are not frozen: %s", root, dir, strings.Join(outside, ", "))
	}
	return root, tree, len(tree) == len(procs), nil
}

// freezeTree freezes pid and all its descendants: where they are when
// they are all that their cgroup holds, else in a cgroup of their own
// that they are moved into; release moves each back to where it was and
// removes that cgroup, or kills the tree.
func freezeTree(pid int) (*frozenTree, error) {
	if err := freezer.Mount(); err != nil {
		return nil, err
	}
	if _, err := readProc(pid); err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	if t := freezeOwnCgroup(pid); t != nil {
		return t, nil
	}
	cg, err := freezer.New(fmt.Sprintf("kcr-checkpoint-%d", pid))
	if err != nil {
		return nil, err
	}
	timing.mark("mkdir")
	m := &mover{cg: cg, root: pid, orig: map[int]string{}}
	release := func(kill bool) error {
		var err error
		if kill {
			err = killCgroup(cg)
		} else {
			// Moved back while still frozen: a process that is
			// thawed by its move forks into its own cgroup, and
			// those still here cannot fork.
			err = m.moveBack()
		}
		timing.mark("move-back")
		if terr := cg.Thaw(); err == nil {
			err = terr
		}
		timing.mark("thaw")
		if rerr := cg.Remove(); err == nil && rerr != nil {
			err = fmt.Errorf("removing %s: %w", cg.Path, rerr)
		}
		timing.mark("rmdir")
		return err
	}
	// Until the cgroup is frozen a process of the tree may fork outside
	// it; once frozen, none can. So: move, freeze, and move again until
	// a pass finds nothing new (a process moved into a frozen cgroup is
	// frozen by the move).
	var frozen time.Time
	for pass := 0; ; pass++ {
		moved, err := m.moveIn()
		timing.mark("move-in")
		if err == nil && pass > 0 && !moved {
			return &frozenTree{root: pid, release: release, cg: cg, frozen: frozen,
				procs: func() ([]int, error) { return cgroupProcs(cg.Path) }}, nil
		}
		if err == nil && pass >= 100 {
			err = fmt.Errorf("the tree of pid %d keeps growing: cannot freeze it", pid)
		}
		if err == nil {
			if pass == 0 {
				frozen = time.Now()
			}
			err = cg.Freeze()
			timing.mark("freeze")
		}
		if err != nil {
			_ = release(false)
			return nil, err
		}
	}
}

// mover moves a process tree into a cgroup and back.
type mover struct {
	cg   *freezer.Cgroup
	root int
	orig map[int]string // pid -> the cgroup directory it came from
}

// moveIn moves what of the tree is not in the cgroup yet; it tells
// whether it found any such process.
func (m *mover) moveIn() (bool, error) {
	table, err := readSubtree(m.root)
	if err != nil {
		return false, err
	}
	moved := false
	for _, p := range table.descendants(m.root) {
		if _, ok := m.orig[p]; ok {
			continue
		}
		rel, err := cgroupOf(p)
		if gone(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		dir := filepath.Join(freezer.Root, rel)
		if dir == m.cg.Path {
			// Born here from a moved parent: it goes back with it.
			dir = m.origOf(table[p].ppid)
		}
		m.orig[p] = dir
		if err := m.cg.Add(p); err != nil && !gone(err) {
			return false, fmt.Errorf("moving pid %d into %s: %w", p, m.cg.Path, err)
		}
		moved = true
	}
	return moved, nil
}

// origOf is where pid came from, or the root's cgroup for a process we
// did not move.
func (m *mover) origOf(pid int) string {
	if d, ok := m.orig[pid]; ok {
		return d
	}
	return m.orig[m.root]
}

// moveBack moves every process in the cgroup back to where it came
// from (children born here go with their parent).
func (m *mover) moveBack() error {
	var first error
	for range 10 {
		procs, err := cgroupProcs(m.cg.Path)
		if err != nil || len(procs) == 0 {
			return errors.Join(first, err)
		}
		for _, p := range procs {
			dir, ok := m.orig[p]
			if !ok {
				pr, _ := readProc(p)
				dir = m.origOf(pr.ppid)
			}
			back := &freezer.Cgroup{Path: dir}
			if err := back.Add(p); err != nil && !gone(err) && first == nil {
				first = fmt.Errorf("moving pid %d back to %s: %w", p, dir, err)
			}
		}
	}
	if first == nil {
		first = fmt.Errorf("%s still holds processes", m.cg.Path)
	}
	return first
}

// gone tells whether err says the process no longer exists.
func gone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// killCgroup kills every process of the cgroup and waits until they have
// all exited (their parents reap them).
func killCgroup(cg *freezer.Cgroup) error {
	if err := os.WriteFile(filepath.Join(cg.Path, "cgroup.kill"), []byte("1"), 0); err != nil {
		return fmt.Errorf("killing %s: %w", cg.Path, err)
	}
	deadline := time.Now().Add(emptyWait)
	for {
		procs, err := cgroupProcs(cg.Path)
		if err != nil {
			return err
		}
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still holds %v %v after cgroup.kill", cg.Path, procs, emptyWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killPids kills the processes and waits until each has exited (is gone
// or a zombie).
func killPids(pids []int) error {
	for _, p := range pids {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !gone(err) {
			return fmt.Errorf("killing pid %d: %w", p, err)
		}
	}
	deadline := time.Now().Add(emptyWait)
	for _, p := range pids {
		for !exited(p) {
			if time.Now().After(deadline) {
				return fmt.Errorf("pid %d still runs %v after SIGKILL", p, emptyWait)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// exited tells whether pid is gone or a zombie.
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}

// cgroupOf returns pid's cgroup v2 path, relative to the cgroup root.
func cgroupOf(pid int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("pid %d is in no cgroup v2 group", pid)
}
