//go:build kcrguest

package guest

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
)

// A container checkpoint of a tree that shares open files (its stdio and
// report, opened by the parent outside the tree before it made the
// namespace)
// fails with EBUSY naming the file and a task holding it; the tree is
// left as it was, and CHECKPOINT_SUBTREE takes it.
func TestCheckpointContainerLeak(t *testing.T) {
	d := device(t)
	tr, root := startPidns(t)
	if err := tr.cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	img, err := os.Create(tr.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	logw, logs := logPipe(t)
	_, err = d.Checkpoint(root, img, kcr.CheckpointOptions{Log: logw})
	log := logs()
	// Its stdio (/dev/null) and report, opened by the parent.
	if !errors.Is(err, unix.EBUSY) || !strings.Contains(log, "shared with a task outside") ||
		!strings.Contains(log, "file /") || !strings.Contains(log, "of pid 1)") {
		t.Fatalf("container checkpoint of a tree sharing files with its parent: %v, log %q; want EBUSY naming a file and pid 1", err, log)
	}
	t.Logf("container checkpoint: %v; log %q", err, log)
	if frozen, err := tr.cg.Frozen(); err != nil || !frozen {
		t.Fatalf("the tree is no longer frozen (%v, %v)", frozen, err)
	}
	if h := holds(t); h != 0 {
		t.Fatalf("%d checkpoint holds left in the module", h)
	}
	checkpointTreeAs(t, d, tr.cg, root, tr.rt.Image, true)
	_ = tr.cmd.Wait()
	if n := len(treePids(t, tr.rt.Image)); n != 5 {
		t.Fatalf("subtree image of %d tasks, want 5", n)
	}
}

// A container that shares nothing with the outside is checkpointed in
// container mode and restarted into a new pid namespace with its pids;
// the restarted container is checkpointed and restarted again.
func TestRestartContainer(t *testing.T) {
	d := device(t)
	tr, root := startPidns(t, "private")
	checkpointTreeAs(t, d, tr.cg, root, tr.rt.Image, false)
	_ = tr.cmd.Wait()
	if pids := treePids(t, tr.rt.Image); len(pids) != 5 || pids[0].Vpid != 1 {
		t.Fatalf("container image tree %+v: want 5 tasks under pid 1", pids)
	}
	tr.rt.OrigPid = root
	tr.restartTwice(t, d, false)
	requireNewPidNs(t, tr.rt.Pid)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// The same through the command: kcr checkpoint --container fails with
// the module's message, and without it (a subtree) succeeds.
func TestCheckpointContainerCLI(t *testing.T) {
	withModule(t)
	tr, root := startPidns(t)
	if err := tr.cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/kcr", "checkpoint", "--container", strconv.Itoa(root), "-o", tr.rt.Image).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "shared with a task outside") {
		t.Fatalf("kcr checkpoint --container of a tree sharing files: %v\n%s", err, out)
	}
	if out, err := exec.Command("/bin/kcr", "checkpoint", strconv.Itoa(root), "-o", tr.rt.Image).CombinedOutput(); err != nil {
		t.Fatalf("kcr checkpoint (subtree) of the same tree: %v\n%s", err, out)
	}
}
