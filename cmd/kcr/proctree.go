package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// proc is what /proc/PID/stat tells of a process.
type proc struct {
	pid, ppid int
	comm      string
}

func (p proc) String() string { return fmt.Sprintf("%d (%s)", p.pid, p.comm) }

// readProc reads /proc/PID/stat.
func readProc(pid int) (proc, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, err
	}
	return parseStat(b)
}

// parseStat parses "pid (comm) state ppid ...": comm may hold spaces and
// parentheses, so it ends at the last ')'.
func parseStat(b []byte) (proc, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return proc{}, fmt.Errorf("bad /proc stat line %q", b)
	}
	p := proc{comm: string(b[open+1 : end])}
	f := strings.Fields(string(b[end+1:]))
	var err error
	if p.pid, err = strconv.Atoi(strings.TrimSpace(string(b[:open]))); err != nil || len(f) < 2 {
		return proc{}, fmt.Errorf("bad /proc stat line %q", b)
	}
	if p.ppid, err = strconv.Atoi(f[1]); err != nil {
		return proc{}, fmt.Errorf("bad /proc stat line %q", b)
	}
	return p, nil
}

// procTable is every process of the system (thread groups, not threads:
// a child forked by a thread has its group as parent in /proc).
type procTable map[int]proc

func readProcTable() (procTable, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	t := procTable{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		// A process may end meanwhile: it is simply not listed.
		if p, err := readProc(pid); err == nil {
			t[pid] = p
		}
	}
	return t, nil
}

// readSubtree reads the processes of root's tree only, going down from
// it through each thread's /proc/PID/task/TID/children: its cost follows
// the tree, not the whole system (reading every process of /proc was
// most of the time a tiny checkpoint took). The list of a process that
// forks or exits meanwhile may be stale, as /proc's own is; freezeTree
// reads again once the tree is frozen. Kernels without
// CONFIG_PROC_CHILDREN get the whole table.
func readSubtree(root int) (procTable, error) {
	t := procTable{}
	todo := []int{root}
	for len(todo) > 0 {
		pid := todo[0]
		todo = todo[1:]
		p, err := readProc(pid)
		if err != nil {
			if pid == root {
				return nil, err
			}
			continue // ended meanwhile
		}
		t[pid] = p
		files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/task", pid)); err == nil {
				return readProcTable()
			}
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // the thread ended
			}
			for _, c := range strings.Fields(string(b)) {
				if k, err := strconv.Atoi(c); err == nil && t[k].pid == 0 {
					todo = append(todo, k)
				}
			}
		}
	}
	return t, nil
}

// descendants returns root and every process below it, root first, each
// parent before its children.
func (t procTable) descendants(root int) []int {
	kids := map[int][]int{}
	for _, p := range t {
		if p.pid != p.ppid {
			kids[p.ppid] = append(kids[p.ppid], p.pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		k := kids[out[i]]
		sort.Ints(k)
		out = append(out, k...)
	}
	return out
}

// name names pid with its comm when the table knows it.
func (t procTable) name(pid int) string {
	if p, ok := t[pid]; ok {
		return p.String()
	}
	return strconv.Itoa(pid)
}

// cgroupProcs lists the processes of a cgroup v2 directory.
func cgroupProcs(dir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: bad pid %q", dir, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// treeRoots returns the processes among pids whose parent is not among
// them, in pid order.
func treeRoots(t procTable, pids []int) []int {
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	var roots []int
	for _, p := range pids {
		if pr, ok := t[p]; !ok || !in[pr.ppid] || pr.ppid == p {
			roots = append(roots, p)
		}
	}
	sort.Ints(roots)
	return roots
}
