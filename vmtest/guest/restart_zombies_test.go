//go:build kcrguest

package guest

import (
	"testing"
)

// Children that exited (one with a status, one killed by a signal, one
// the leader of a process group that lives on) are restarted as zombies:
// the parent's wait() after the restart reports them as they ended, no
// SIGCHLD that the image does not hold is pending, and the surviving
// group member is in the zombie's group (rt_zombies).
func TestRestartZombies(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_zombies")
	if n := len(treePids(t, tr.rt.Image)); n != 5 {
		t.Fatalf("image of %d tasks, want 5 (a parent, three zombies, one orphan)", n)
	}
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// The restarted zombies are checkpointed and restarted again.
func TestRestartZombiesTwice(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_zombies")
	tr.restartTwice(t, d, true)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}
