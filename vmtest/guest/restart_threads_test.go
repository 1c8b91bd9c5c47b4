//go:build kcrguest

package guest

import (
	"testing"
)

// A process of 64 threads, stopped computing in user mode, in a futex
// wait, in nanosleep() and in sigwaitinfo(), is restarted with its
// thread ids; every thread goes on from where it was and checks its
// state (rt_threads).
func TestRestartThreads(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_threads", "64")
	pids := treePids(t, tr.rt.Image)
	if len(pids) != 65 {
		t.Fatalf("image of %d tasks, want 65 (a leader and 64 threads)", len(pids))
	}
	for _, p := range pids[1:] {
		if p.Vtgid != pids[0].Vpid {
			t.Fatalf("task %d of the tree is in group %d, want %d", p.Vpid, p.Vtgid, pids[0].Vpid)
		}
	}
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// The restarted threads are checkpointed and restarted again.
func TestRestartThreadsTwice(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_threads", "16")
	tr.restartTwice(t, d, true)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}
