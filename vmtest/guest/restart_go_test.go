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
	tr := checkpointedTree(t, d, "rt_go")
	pids := treePids(t, tr.rt.Image)
	if len(pids) < 3 {
		t.Fatalf("image of %d tasks: want the Go runtime's threads", len(pids))
	}
	t.Logf("rt_go: %d threads", len(pids))
	tr.restartTwice(t, d, true)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}
