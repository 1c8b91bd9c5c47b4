//go:build kcrguest

package guest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/lib/freezer"
)

// kcrTimed runs /bin/kcr with KCR_TIMING set; it returns the exit status,
// the output and the names of the steps kcr timed.
func kcrTimed(t *testing.T, args ...string) (int, string, []string) {
	t.Helper()
	rc, out := kcrCLIEnv(t, []string{"KCR_TIMING=1"}, args...)
	var steps []string
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "kcr-timing: "); ok {
			f := strings.Fields(rest)
			for i := 0; i+1 < len(f); i += 2 {
				steps = append(steps, f[i])
			}
		}
	}
	return rc, out, steps
}

// counts returns the numbers a counter wrote to file, in order.
func counts(t *testing.T, file string, pid int) []int {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil // not started yet
	}
	if err != nil {
		t.Fatal(err)
	}
	var n []int
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var c, p int
		if _, err := fmt.Sscanf(l, "count %d pid %d", &c, &p); err == nil && p == pid {
			n = append(n, c)
		}
	}
	return n
}

// requireCounting fails unless the counter writing file as pid writes
// another line within two seconds (it writes five a second).
func requireCounting(t *testing.T, what, file string, pid int) {
	t.Helper()
	before := len(counts(t, file, pid))
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(counts(t, file, pid)) > before {
			return
		}
	}
	t.Fatalf("%s: counter %d wrote nothing more to %s", what, pid, file)
}

// requireThawedIn fails unless cg holds exactly pids and is not frozen.
func requireThawedIn(t *testing.T, what string, cg *freezer.Cgroup, pids ...int) {
	t.Helper()
	var got []int
	for _, p := range cgroupPids(cg) {
		n, _ := strconv.Atoi(p)
		got = append(got, n)
	}
	slices.Sort(got)
	slices.Sort(pids)
	if !slices.Equal(got, pids) {
		t.Errorf("%s: %s holds %v, want %v", what, cg.Path, got, pids)
	}
	if f, _ := os.ReadFile(filepath.Join(cg.Path, "cgroup.freeze")); strings.TrimSpace(string(f)) != "0" {
		t.Errorf("%s: %s left with cgroup.freeze %q", what, cg.Path, f)
	}
}

// kcr checkpoint --freeze of a process that is all its cgroup holds
// freezes it there: no cgroup of kcr's own, no moves. The image restarts
// the counter from the number it had reached. With another process beside
// it in the cgroup, or a child cgroup below, freezing the cgroup would
// freeze them too, so kcr moves the tree into a cgroup of its own instead.
// Either way the process ends thawed in the cgroup it started in.
func TestCLIFreezeOwnCgroup(t *testing.T) {
	device(t)
	subreaper(t)
	dir := t.TempDir()
	own := newCgroup(t, "own")
	aFile := filepath.Join(dir, "a")
	a := startInCgroup(t, own, "counter", aFile)
	pid := a.Process.Pid
	requireCounting(t, "before the checkpoint", aFile, pid)
	beforeCheckpoint := counts(t, aFile, pid)

	img := filepath.Join(dir, "img")
	rc, out, steps := kcrTimed(t, "checkpoint", "--freeze", strconv.Itoa(pid), "-o", img)
	if rc != 0 {
		t.Fatalf("kcr checkpoint --freeze of a process alone in its cgroup: exit %d\n%s", rc, out)
	}
	atCheckpoint := counts(t, aFile, pid)
	if !slices.Contains(steps, "freeze-in-place") || slices.Contains(steps, "mkdir") || slices.Contains(steps, "move-in") {
		t.Errorf("alone in its cgroup: steps %v, want freeze-in-place and no mkdir or move-in\n%s", steps, out)
	}
	if !strings.Contains(out, "frozen for ") {
		t.Errorf("no frozen time reported:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(freezer.Root, fmt.Sprintf("kcr-checkpoint-%d", pid))); err == nil {
		t.Error("kcr checkpoint --freeze made a cgroup of its own for a process that owns one")
	}
	requireThawedIn(t, "after the checkpoint in place", own, pid)
	requireCounting(t, "after the checkpoint in place", aFile, pid)
	if n := len(treePids(t, img)); n != 1 {
		t.Errorf("image of %d tasks, want 1", n)
	}

	// Beside another process, the tree is moved and the other is left
	// running.
	b := startInCgroup(t, own, "counter", filepath.Join(dir, "b"))
	rc, out, steps = kcrTimed(t, "checkpoint", "--freeze", strconv.Itoa(pid), "-o", img+"2")
	if rc != 0 {
		t.Fatalf("kcr checkpoint --freeze of a process beside another: exit %d\n%s", rc, out)
	}
	if slices.Contains(steps, "freeze-in-place") || !slices.Contains(steps, "move-in") {
		t.Errorf("beside another process: steps %v, want move-in and no freeze-in-place\n%s", steps, out)
	}
	requireThawedIn(t, "after the checkpoint beside another", own, pid, b.Process.Pid)
	_ = b.Process.Kill()
	_ = b.Wait()

	// Above a child cgroup, even an empty one, the tree is moved.
	inner := &freezer.Cgroup{Path: filepath.Join(own.Path, "inner")}
	if err := os.Mkdir(inner.Path, 0o755); err != nil {
		t.Fatal(err)
	}
	rc, out, steps = kcrTimed(t, "checkpoint", "--freeze", strconv.Itoa(pid), "-o", img+"3")
	if err := inner.Remove(); err != nil {
		t.Error(err)
	}
	if rc != 0 {
		t.Fatalf("kcr checkpoint --freeze of a process above a child cgroup: exit %d\n%s", rc, out)
	}
	if slices.Contains(steps, "freeze-in-place") || !slices.Contains(steps, "move-in") {
		t.Errorf("above a child cgroup: steps %v, want move-in and no freeze-in-place\n%s", steps, out)
	}
	requireThawedIn(t, "after the checkpoint above a child cgroup", own, pid)

	// The image of the checkpoint in place restarts the counter at the
	// number after the one it had written when frozen.
	_ = a.Process.Kill()
	_ = a.Wait()
	last := counts(t, aFile, pid)
	rc, out = kcrCLI(t, "restart", "--detach", "-i", img)
	if rc != 0 {
		t.Fatalf("kcr restart --detach: exit %d\n%s", rc, out)
	}
	t.Cleanup(func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WALL, nil)
	})
	if !strings.Contains(" "+strings.Join(strings.Fields(out), " ")+" ", " "+strconv.Itoa(pid)+" ") {
		t.Fatalf("kcr restart --detach printed %q, want pid %d", out, pid)
	}
	var after []int
	for deadline := time.Now().Add(5 * time.Second); len(after) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		after = counts(t, aFile, pid)[len(last):]
	}
	if len(after) == 0 {
		t.Fatal("the restarted counter wrote nothing")
	}
	// The counter was frozen after writing at least the lines there
	// were before kcr started and at most those there were when it
	// returned: it goes on from one of those numbers.
	if first := after[0]; first < len(beforeCheckpoint)+1 || first > len(atCheckpoint)+1 {
		t.Errorf("restarted counter went on at %d; it had written %d lines before the checkpoint, %d when it returned, %d when killed",
			first, len(beforeCheckpoint), len(atCheckpoint), len(last))
	}
}
