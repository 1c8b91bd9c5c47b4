//go:build kcrguest

package guest

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/uapi"
)

// The leaders that have exited: the session and group ids of an image
// that no task of it has as its pid.
func deadLeaders(pids []uapi.CkptPids) []int32 {
	in := map[int32]bool{}
	for _, p := range pids {
		in[p.Vpid] = true
	}
	var dead []int32
	for _, p := range pids[1:] {
		for _, id := range []int32{p.Vsid, p.Vpgid} {
			if !in[id] && id != pids[0].Vsid && id != pids[0].Vpgid {
				in[id] = true
				dead = append(dead, id)
			}
		}
	}
	return dead
}

// orphansImage checkpoints rt_orphans: a daemon's double fork (session
// and group whose leader has exited) and a group whose leader has
// exited, all adopted by the root, a child subreaper.
func orphansImage(t *testing.T) (*tree, []uapi.CkptPids) {
	t.Helper()
	d := device(t)
	tr := checkpointedTree(t, d, "rt_orphans")
	pids := treePids(t, tr.rt.Image)
	if len(pids) != 6 {
		t.Fatalf("image of %d tasks, want 6 (the root, D1, D2, E, B, N)", len(pids))
	}
	if dead := deadLeaders(pids); len(dead) != 2 {
		t.Fatalf("dead leaders %v in %+v, want 2 (C and A)", dead, pids)
	}
	return tr, pids
}

// requireGhostsGone: the tasks the restart made for the dead leaders
// have exited and been reaped.
func requireGhostsGone(t *testing.T, pids []uapi.CkptPids) {
	t.Helper()
	for _, id := range deadLeaders(pids) {
		if s := procState(int(id)); s != "" {
			t.Errorf("pid %d, a dead leader of the image, is there (state %s)", id, s)
		}
	}
}

// Sessions and groups whose leaders have exited are restored with their
// ids; each process checks its pid, parent, group, session and memory,
// the orphan with a parent death signal that it has it and never got
// it, and the root that nothing else is left for it to reap.
func TestRestartOrphans(t *testing.T) {
	d := device(t)
	tr, pids := orphansImage(t)
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	requireGhostsGone(t, pids)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// The restarted orphans are checkpointed and restarted again.
func TestRestartOrphansTwice(t *testing.T) {
	d := device(t)
	tr, pids := orphansImage(t)
	tr.restartTwice(t, d, true)
	if got := treePids(t, tr.rt.Image); len(got) != len(pids) || len(deadLeaders(got)) != 2 {
		t.Fatalf("second image %+v, first %+v", got, pids)
	}
	requireGhostsGone(t, pids)
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// An image whose root is no child subreaper: the orphans of the dead
// session would go above it, not to their parent. The restart fails
// with a message, and leaves no task.
func TestRestartOrphansNoReaper(t *testing.T) {
	d := device(t)
	tr, pids := orphansImage(t)
	img, err := os.ReadFile(tr.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := reflect.TypeOf(uapi.CkptHdrTask{}).FieldByName("Flags")
	at := recordOf(t, img, uapi.CKPT_HDR_TASK).Offset + int64(f.Offset)
	flags := binary.NativeEndian.Uint32(img[at:])
	if flags&uapi.CKPT_TASK_CHILD_SUBREAPER == 0 {
		t.Fatalf("the root's task flags %#x lack CKPT_TASK_CHILD_SUBREAPER", flags)
	}
	binary.NativeEndian.PutUint32(img[at:], flags&^uapi.CKPT_TASK_CHILD_SUBREAPER)
	rt := &roundTrip{Image: filepath.Join(t.TempDir(), "noreaper.img")}
	if err := os.WriteFile(rt.Image, img, 0o600); err != nil {
		t.Fatal(err)
	}
	err = restartImage(t, d, rt)
	if !errors.Is(err, unix.EOPNOTSUPP) || !strings.Contains(rt.Log, "did not give it to its parent") {
		t.Fatalf("restart with a root that is no subreaper: %v, log %q; want EOPNOTSUPP and a message", err, rt.Log)
	}
	requireNoChildren(t, "no subreaper")
	for _, p := range pids {
		if s := procState(int(p.Vpid)); s != "" {
			t.Errorf("pid %d of the image is there (state %s)", p.Vpid, s)
		}
	}
	requireGhostsGone(t, pids)
}
