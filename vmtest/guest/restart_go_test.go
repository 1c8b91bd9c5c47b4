//go:build kcrguest

package guest

import (
	"testing"
)

// A statically linked Go program (vmtest/workloads/go/rt_go) with
// goroutines busy on every CPU, frozen and checkpointed from outside with
// all its runtime's threads, is restarted and checked by itself: chains
// of integer and floating-point values computed without system calls,
// progress after the restart, its heap, its pid. Then the restarted
// program is checkpointed and restarted again.
func TestRestartGo(t *testing.T) {
	d := device(t)
	tr := startTree(t, "rt_go")
	checkpointTree(t, d, tr.cg, tr.rt.OrigPid, tr.rt.Image)
	_ = tr.cmd.Wait()
	pids := treePids(t, tr.rt.Image)
	if len(pids) < 3 {
		t.Fatalf("image of %d tasks: want the Go runtime's threads", len(pids))
	}
	t.Logf("rt_go: %d threads", len(pids))
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	cg := newCgroup(t, "go2")
	if err := cg.Add(tr.rt.Pid); err != nil {
		t.Fatal(err)
	}
	checkpointTree(t, d, cg, tr.rt.Pid, tr.rt.Image)
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("second restart: %v\n%s", err, tr.rt.Log)
	}
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}
