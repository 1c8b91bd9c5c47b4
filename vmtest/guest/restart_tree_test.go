//go:build kcrguest

package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// A tree of processes born in a cgroup of its own, so that freezing the
// cgroup freezes all of it.
type tree struct {
	rt  *roundTrip
	cmd *exec.Cmd
	cg  *freezer.Cgroup
}

// subreaper makes this process the reaper of orphans until the test
// ends: the killed originals of a tree must be reaped (their pids freed)
// before the tree is restarted with the same pids.
func subreaper(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
}

// newCgroup is a fresh cgroup v2 directory, removed at the end.
func newCgroup(t *testing.T, what string) *freezer.Cgroup {
	t.Helper()
	if err := freezer.Mount(); err != nil {
		t.Fatal(err)
	}
	cg, err := freezer.New(fmt.Sprintf("kcr-%s-%d", what, time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = killAndReap(t, cg, 10*time.Second)
		_ = cg.Remove()
	})
	return cg
}

// startTree starts workload name (rt_tree) in a new cgroup and waits
// until its whole tree is set up.
func startTree(t *testing.T, name string, args ...string) *tree {
	t.Helper()
	subreaper(t)
	cg := newCgroup(t, "tree")
	dir, err := os.Open(cg.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	rt := &roundTrip{Image: workloadImage(t, name)}
	cmd := exec.Command(filepath.Join(guestproto.BinDir, name), append([]string{rt.Image}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rt.OrigPid = cmd.Process.Pid
	tr := &tree{rt: rt, cmd: cmd, cg: cg}
	waitUntil(t, rt, &workload{cmd: cmd}, name+" did not get ready", func() bool {
		_, err := os.Stat(rt.Image + ".ready")
		return err == nil
	})
	return tr
}

// cgroupPids lists the processes of a cgroup.
func cgroupPids(cg *freezer.Cgroup) []string {
	b, _ := os.ReadFile(filepath.Join(cg.Path, "cgroup.procs"))
	return strings.Fields(string(b))
}

// killAndReap kills every process of cg and reaps our dead children
// until each of those processes is dead: a zombie or gone. An empty
// cgroup is not enough: a task leaves it early in its exit, before its
// children are handed to their reaper (us, a subreaper) and before it is
// a zombie, so waiting for the cgroup alone left zombies that a later
// test found. Once a task is a zombie its children have their new parent:
// a last pass reaps those that came to us.
func killAndReap(t *testing.T, cg *freezer.Cgroup, limit time.Duration) error {
	t.Helper()
	pids := cgroupPids(cg)
	err := os.WriteFile(filepath.Join(cg.Path, "cgroup.kill"), []byte("1"), 0)
	_ = cg.Thaw()
	deadline := time.Now().Add(limit)
	for {
		reapDead()
		left := cgroupPids(cg)
		for _, p := range pids {
			pid, _ := strconv.Atoi(p)
			if st := procState(pid); st != "" && st != "Z" && st != "X" {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			reapDead()
			return err
		}
		if time.Now().After(deadline) {
			t.Errorf("cgroup %s: processes %v still alive", cg.Path, left)
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reapDead reaps every dead child of ours, without waiting.
func reapDead() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// checkpointTree freezes the tree's cgroup, checkpoints the root with
// its descendants to path (CHECKPOINT_SUBTREE), then kills and reaps the
// whole tree.
func checkpointTree(t *testing.T, d *kcr.Device, cg *freezer.Cgroup, root int, path string) {
	t.Helper()
	checkpointTreeAs(t, d, cg, root, path, true)
}

// checkpointedTree starts workload name (with args) in a cgroup of its
// own, checkpoints its tree (subtree mode) into its image and ends it:
// the image is ready to restart with the original pids.
func checkpointedTree(t *testing.T, d *kcr.Device, name string, args ...string) *tree {
	t.Helper()
	tr := startTree(t, name, args...)
	checkpointTree(t, d, tr.cg, tr.rt.OrigPid, tr.rt.Image)
	_ = tr.cmd.Wait()
	return tr
}

// checkpointTreeAs is checkpointTree in either mode: subtree, or
// container (the root is a pid namespace's init).
func checkpointTreeAs(t *testing.T, d *kcr.Device, cg *freezer.Cgroup, root int, path string, subtree bool) {
	t.Helper()
	if err := cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	_, err = d.Checkpoint(root, img, kcr.CheckpointOptions{Subtree: subtree, Log: logw})
	img.Close()
	log := logs()
	if werr := killAndReap(t, cg, 30*time.Second); werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatalf("checkpoint of the tree of pid %d: %v\n%s", root, err, log)
	}
	// Dead is not enough: the pids are free once reaped. The image's
	// pids are ours only when its root is not a pid namespace's init.
	tp := treePids(t, path)
	if int(tp[0].Vpid) != root {
		return
	}
	var pids []int
	for _, p := range tp {
		pids = append(pids, int(p.Vpid))
	}
	killTree(t, pids)
}

// treePids is the pids of an image's TREE record, in TREE order.
func treePids(t *testing.T, path string) []uapi.CkptPids {
	t.Helper()
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := recordOf(t, img, uapi.CKPT_HDR_TREE)
	body := bytes.NewReader(img[r.Offset : r.Offset+int64(r.Len)])
	var h uapi.CkptHdrTree
	if err := binary.Read(body, binary.NativeEndian, &h); err != nil {
		t.Fatal(err)
	}
	pids := make([]uapi.CkptPids, h.NrTasks)
	if err := binary.Read(body, binary.NativeEndian, pids); err != nil {
		t.Fatal(err)
	}
	return pids
}

// restartTwice is c/r twice: it restarts tr's image, moves the
// restarted root and its descendants (as we see them) into a cgroup of
// their own, checkpoints them there (subtree or container mode) into the
// same image path, and restarts that second image.
func (tr *tree) restartTwice(t *testing.T, d *kcr.Device, subtree bool) {
	t.Helper()
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("first restart: %v\n%s", err, tr.rt.Log)
	}
	cg := newCgroup(t, "again")
	for _, p := range append([]int{tr.rt.Pid}, childrenTree(t, tr.rt.Pid)...) {
		// Any live thread moves its process; a zombie, which has left
		// its cgroup, cannot be moved, but a zombie leader's threads
		// can.
		tids, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p))
		for _, dir := range tids {
			tid, _ := strconv.Atoi(filepath.Base(dir))
			if procState(tid) == "Z" {
				continue
			}
			if err := cg.Add(tid); err != nil {
				t.Fatalf("moving restarted task %d into %s: %v", tid, cg.Path, err)
			}
			break
		}
	}
	checkpointTreeAs(t, d, cg, tr.rt.Pid, tr.rt.Image, subtree)
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("second restart: %v\n%s", err, tr.rt.Log)
	}
}

// requireNewPidNs: the restarted root pid is in a pid namespace that is
// not ours.
func requireNewPidNs(t *testing.T, pid int) {
	t.Helper()
	mine, _ := os.Readlink("/proc/self/ns/pid")
	theirs, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	if mine == theirs || theirs == "" {
		t.Errorf("restarted root %d: pid namespace %q, ours %q", pid, theirs, mine)
	}
}

// A tree of 53 processes, three levels below its root, with a session
// and groups of its own, is checkpointed frozen and restarted with its
// pids; each process checks its pid, parent, group, session and memory,
// and the root's exit status sums them up.
func TestRestartTree(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_tree")
	pids := treePids(t, tr.rt.Image)
	if len(pids) != 53 {
		t.Fatalf("image of %d tasks, want 53", len(pids))
	}
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	if tr.rt.Pid != tr.rt.OrigPid {
		t.Errorf("restarted root has pid %d, was %d", tr.rt.Pid, tr.rt.OrigPid)
	}
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// The restarted tree is checkpointed and restarted again.
func TestRestartTreeTwice(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_tree", "3", "2", "2")
	pids := treePids(t, tr.rt.Image)
	tr.restartTwice(t, d, true)
	if got := len(treePids(t, tr.rt.Image)); got != len(pids) {
		t.Fatalf("second image of %d tasks, want %d", got, len(pids))
	}
	tr.rt.wait(t, true)
	tr.rt.RequirePass(t)
}

// Without the original pids the tree has the same shape, sessions and
// groups (the workload checks pids against its own notes, so it is not
// woken; the restarted tasks are counted and their relations checked).
func TestRestartTreeNoPids(t *testing.T) {
	d := device(t)
	tr := startTree(t, "rt_tree", "2", "3")
	// The originals stay, frozen: the restarted tree needs fresh pids.
	if err := tr.cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	img, err := os.Create(tr.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Checkpoint(tr.rt.OrigPid, img, kcr.CheckpointOptions{Subtree: true})
	img.Close()
	if err != nil {
		t.Fatal(err)
	}
	tr.rt.Opts.NoPids = true
	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	root := tr.rt.Pid
	kids := childrenOf(t, root)
	all := append([]int{root}, kids...)
	for _, k := range kids {
		all = append(all, childrenOf(t, k)...)
	}
	defer killTree(t, all)
	if len(kids) != 2 {
		t.Fatalf("restarted root %d has children %v, want 2", root, kids)
	}
	if len(all) != 9 {
		t.Errorf("restarted tree of %d processes, want 9", len(all))
	}
	// The root's first child leads a session of its own; the second
	// leads a group in the root's session. Fresh pids need not come in
	// the original order (pid numbers wrap), so tell them apart by that.
	sess, grp := kids[0], kids[1]
	if sid, _ := unix.Getsid(grp); sid == grp {
		sess, grp = grp, sess
	}
	if sid, _ := unix.Getsid(sess); sid != sess {
		t.Errorf("no child of %d leads a session: children %v", root, kids)
	}
	pg, _ := unix.Getpgid(grp)
	sid, _ := unix.Getsid(grp)
	rootSid, _ := unix.Getsid(root)
	if pg != grp || sid != rootSid {
		t.Errorf("child %d: group %d session %d, want group %d session %d",
			grp, pg, sid, grp, rootSid)
	}
}

// childrenOf lists the children of pid, in pid order.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces.
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		var state string
		var self, ppid int
		fmt.Sscan(string(b), &self)
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil && ppid == pid {
			kids = append(kids, self)
		}
	}
	sort.Ints(kids)
	return kids
}

// killTree kills pids and reaps them (as their parent or, for orphans,
// as the subreaper) until none is left.
func killTree(t *testing.T, pids []int) {
	t.Helper()
	for _, p := range pids {
		// Never one of our own threads, should a pid be reused.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil &&
			bytes.Contains(b, []byte(fmt.Sprintf("\nTgid:\t%d\n", os.Getpid()))) {
			t.Fatalf("pid %d is a thread of the test", p)
		}
		_ = unix.Kill(p, unix.SIGKILL)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range pids {
		for procState(p) != "" && time.Now().Before(deadline) {
			_, _ = unix.Wait4(-1, nil, unix.WALL|unix.WNOHANG, nil)
			time.Sleep(5 * time.Millisecond)
		}
		if procState(p) != "" {
			t.Errorf("pid %d still there after SIGKILL", p)
		}
	}
}

// treeImage checkpoints a small rt_tree (1 + 2 + 4 + 8 processes) and
// returns the image, the offset of the TREE payload and the pids.
func treeImage(t *testing.T, d *kcr.Device) ([]byte, int64, []uapi.CkptPids) {
	t.Helper()
	tr := checkpointedTree(t, d, "rt_tree", "2", "2", "2")
	img, err := os.ReadFile(tr.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	r := recordOf(t, img, uapi.CKPT_HDR_TREE)
	return img, r.Offset + int64(unsafe.Sizeof(uapi.CkptHdrTree{})), treePids(t, tr.rt.Image)
}

// A corrupted tree fails with a clean errno and a message, leaving no
// task: neither a child of ours nor any of the image's pids.
func TestRestartTreeCorrupt(t *testing.T) {
	d := device(t)
	img, off, pids := treeImage(t, d)
	sz := int64(unsafe.Sizeof(uapi.CkptPids{}))
	field := func(i int, name string) int64 {
		f, ok := reflect.TypeOf(uapi.CkptPids{}).FieldByName(name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		return off + int64(i)*sz + int64(f.Offset)
	}
	last := len(pids) - 1
	// A process below the root that leads neither a session nor a
	// group, and the leader of a session other than the root's.
	member, leader := -1, -1
	for i, p := range pids {
		if i > 0 && p.Vsid == p.Vpid && leader < 0 {
			leader = i
		}
	}
	for i, p := range pids {
		if i > 0 && leader >= 0 && p.Vsid != p.Vpid && p.Vpgid != p.Vpid &&
			p.Vsid != pids[leader].Vpid && i != last && member < 0 {
			member = i
		}
	}
	if member < 0 {
		t.Fatalf("no plain member outside a session leader's session in %+v", pids)
	}
	cases := []struct {
		name  string
		at    int64
		val   int32
		want  []syscall.Errno
		trunc bool // cut the image in the middle of the last task instead
	}{
		{name: "parent missing", at: field(3, "Vppid"), val: 99999, want: []syscall.Errno{unix.EINVAL}},
		{name: "parent after child", at: field(1, "Vppid"), val: pids[last].Vpid, want: []syscall.Errno{unix.EINVAL}},
		{name: "two tasks one pid", at: field(4, "Vpid"), val: pids[3].Vpid, want: []syscall.Errno{unix.EINVAL}},
		{name: "thread without leader", at: field(2, "Vtgid"), val: 99999, want: []syscall.Errno{unix.EINVAL, unix.EOPNOTSUPP}},
		{name: "root with a parent", at: field(0, "Vppid"), val: pids[1].Vpid, want: []syscall.Errno{unix.EINVAL}},
		{name: "session of a living leader", at: field(member, "Vsid"), val: pids[leader].Vpid, want: []syscall.Errno{unix.EOPNOTSUPP}},
		{name: "group of a later task", at: field(member, "Vpgid"), val: pids[last].Vpid, want: []syscall.Errno{unix.EOPNOTSUPP}},
		{name: "negative pid", at: field(5, "Vpid"), val: -7, want: []syscall.Errno{unix.EINVAL}},
		{name: "truncated in the last task", trunc: true, want: []syscall.Errno{unix.EINVAL, unix.EIO, unix.ENODATA}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			bad := append([]byte(nil), img...)
			if c.trunc {
				bad = bad[:len(bad)-len(bad)/20]
			} else {
				binary.NativeEndian.PutUint32(bad[c.at:], uint32(c.val))
			}
			rt := &roundTrip{Image: filepath.Join(t.TempDir(), "bad.img")}
			if err := os.WriteFile(rt.Image, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			err := restartImage(t, d, rt)
			if err == nil {
				t.Fatalf("restart of a tree with %s succeeded", c.name)
			}
			ok := false
			for _, e := range c.want {
				ok = ok || errors.Is(err, e)
			}
			if !ok || rt.Log == "" {
				t.Errorf("restart of a tree with %s: %v (want one of %v), log %q", c.name, err, c.want, rt.Log)
			}
			requireNoChildren(t, c.name)
			for _, p := range pids {
				if s := procState(int(p.Vpid)); s != "" {
					t.Errorf("%s: pid %d of the image is there (state %s)", c.name, p.Vpid, s)
				}
			}
		})
	}
}

// RESTART_FROZEN: the restarted tree is made in the given cgroup and
// left frozen there, every task of it; thawed, it goes on and passes its
// checks. A frozen cgroup, a v1 one or a missing fd is refused.
func TestRestartTreeFrozen(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_tree", "2", "2")
	pids := treePids(t, tr.rt.Image)

	into := newCgroup(t, "frozen")
	dir, err := os.Open(into.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	// Already frozen: refused, nothing made.
	if err := into.Freeze(); err != nil {
		t.Fatal(err)
	}
	tr.rt.Opts.FrozenIn = dir
	if err := restartImage(t, d, tr.rt); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("restart into a frozen cgroup: %v, want EBUSY\n%s", err, tr.rt.Log)
	}
	requireNoChildren(t, "restart into a frozen cgroup")
	if err := into.Thaw(); err != nil {
		t.Fatal(err)
	}

	if err := restartImage(t, d, tr.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, tr.rt.Log)
	}
	if got := len(cgroupPids(into)); got != len(pids) {
		t.Errorf("cgroup %s holds %d processes, want %d", into.Path, got, len(pids))
	}
	requireFrozen(t, into.Path)
	for _, p := range pids {
		if s := procState(int(p.Vpid)); s != "S" && s != "D" {
			t.Errorf("restarted pid %d in state %q while frozen", p.Vpid, s)
		}
	}
	// SIGUSR1 waits until the thaw.
	if err := unix.Kill(tr.rt.Pid, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if s := procState(tr.rt.Pid); s == "Z" || s == "" {
		t.Fatalf("the frozen root ran: state %q", s)
	}
	if err := into.Thaw(); err != nil {
		t.Fatal(err)
	}
	tr.rt.wait(t, false)
	tr.rt.RequirePass(t)
}

// kcr restart --frozen CGROUP leaves the tree frozen in CGROUP and
// prints the root's pid; kcr thaw CGROUP lets it go on.
func TestRestartTreeFrozenCLI(t *testing.T) {
	d := device(t)
	tr := checkpointedTree(t, d, "rt_tree", "2")
	cgPath := filepath.Join(freezer.Root, fmt.Sprintf("kcr-cli-frozen-%d", time.Now().UnixNano()))
	t.Cleanup(func() { _ = os.Remove(cgPath) })
	out, err := exec.Command("/bin/kcr", "restart", "-i", tr.rt.Image, "--frozen", cgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("kcr restart --frozen: %v\n%s", err, out)
	}
	root, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || root != tr.rt.OrigPid {
		t.Fatalf("kcr restart --frozen printed %q, want %d", out, tr.rt.OrigPid)
	}
	requireFrozen(t, cgPath)
	if out, err := exec.Command("/bin/kcr", "thaw", cgPath).CombinedOutput(); err != nil {
		t.Fatalf("kcr thaw: %v\n%s", err, out)
	}
	// The root was the CLI's child; it is ours now (subreaper).
	if err := unix.Kill(root, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	tr.rt.Pid = root
	tr.rt.wait(t, false)
	tr.rt.RequirePass(t)
}

// requireFrozen waits until cgroup.events says frozen: the kernel says so
// once every task has stopped in the freezer's trap, which the restarted
// tasks reach on their own way out of the restart, after it returned.
func requireFrozen(t *testing.T, cg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, err := os.ReadFile(filepath.Join(cg, "cgroup.events"))
		if err == nil && strings.Contains(string(ev), "frozen 1") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cgroup.events of %s after the restart: %q %v, want frozen 1", cg, ev, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
