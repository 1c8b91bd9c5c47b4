//go:build kcrguest

package guest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startPidns starts rt_pidns (with args) and returns the tree with the
// pid of its root C, the init of a pid namespace.
func startPidns(t *testing.T, args ...string) (*tree, int) {
	t.Helper()
	tr := startTree(t, "rt_pidns", args...)
	// The tree is ready once C and its children are; the parent writes
	// C's pid after it spawned C, and may not have yet.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(tr.rt.Image + ".root")
		if root, aerr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && aerr == nil {
			return tr, root
		}
		if time.Now().After(deadline) {
			t.Fatalf("rt_pidns wrote no root pid to %s.root: %v", tr.rt.Image, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A tree whose root is the init of a pid namespace, with a namespace
// nested two levels below the restarter's, is restarted into new
// namespaces with the same pids at every level (rt_pidns checks them,
// and its memory, in every process).
func TestRestartPidNamespaces(t *testing.T) {
	d := device(t)
	tr, root := startPidns(t)
	checkpointTree(t, d, tr.cg, root, tr.rt.Image)
	_ = tr.cmd.Wait()
	pids := treePids(t, tr.rt.Image)
	if len(pids) != 5 || pids[0].Vpid != 1 {
		t.Fatalf("image tree %+v: want 5 tasks under a pid-1 root", pids)
	}
	nested := 0
	for _, p := range pids {
		if p.Depth == 1 {
			nested++
		}
	}
	if nested != 2 {
		t.Fatalf("image tree %+v: want 2 tasks one namespace deeper", pids)
	}
	tr.rt.OrigPid = root
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	// The restarted init is our child; its namespace is a new one.
	requireNewPidNs(t, tr.rt.Pid)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// Killing the restarted init ends its namespace, nested one included.
func TestRestartPidNamespaceInitDeath(t *testing.T) {
	d := device(t)
	tr, root := startPidns(t)
	checkpointTree(t, d, tr.cg, root, tr.rt.Image)
	_ = tr.cmd.Wait()
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	// Every task of the namespace, as we see them.
	var members []int
	for _, p := range childrenTree(t, tr.rt.Pid) {
		members = append(members, p)
	}
	if len(members) != 4 {
		t.Fatalf("restarted init %d has descendants %v, want 4", tr.rt.Pid, members)
	}
	if err := unix.Kill(tr.rt.Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(tr.rt.Pid, &ws, 0, nil); err != nil || !ws.Signaled() {
		t.Fatalf("restarted init: %v, %s", err, describeStatus(ws))
	}
	killTree(t, members) // they are gone: this only reaps and checks
}

// childrenTree lists every descendant of pid.
func childrenTree(t *testing.T, pid int) []int {
	t.Helper()
	var all []int
	for _, k := range childrenOf(t, pid) {
		all = append(all, k)
		all = append(all, childrenTree(t, k)...)
	}
	return all
}
