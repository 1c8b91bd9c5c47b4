//go:build kcrguest

package guest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// kcrCLI runs /bin/kcr and returns its exit status and output.
func kcrCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return kcrCLIEnv(t, nil, args...)
}

// kcrCLIEnv is kcrCLI with env added to our environment.
func kcrCLIEnv(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("/bin/kcr", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("kcr %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

// cliRestart is a `kcr restart` running in the background, our child.
type cliRestart struct {
	kcr    int // kcr's pid
	pid    int // the restored root, from kcr's "restarted pid" line
	stderr chan string
}

var restartedRe = regexp.MustCompile(`kcr restart: restarted pid (\d+)`)

// startCLIRestart runs `kcr restart -i img args...`, as pid kcrPid
// unless 0, and returns once it has restored the tree (its "restarted
// pid N" line).
func startCLIRestart(t *testing.T, d *kcr.Device, kcrPid int, img string, args ...string) *cliRestart {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	argv := append([]string{"/bin/kcr", "restart", "-i", img}, args...)
	r := &cliRestart{stderr: make(chan string, 1)}
	if kcrPid != 0 {
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		r.kcr, err = d.StartWithPids(argv[0], argv, os.Environ(), []int{kcrPid},
			&kcr.SpawnAttr{Files: []int{int(null.Fd()), int(pw.Fd()), int(pw.Fd())}})
	} else {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = pw, pw
		err = cmd.Start()
		if err == nil {
			r.kcr = cmd.Process.Pid
		}
	}
	pw.Close()
	if err != nil {
		t.Fatalf("starting kcr restart: %v", err)
	}
	t.Cleanup(func() {
		_ = unix.Kill(r.kcr, unix.SIGKILL)
		_, _ = unix.Wait4(r.kcr, nil, unix.WALL, nil)
	})
	found := make(chan int, 1)
	rd, err := dupFile(pr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer rd.Close()
		var all strings.Builder
		sc := bufio.NewScanner(rd)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := restartedRe.FindStringSubmatch(sc.Text()); m != nil {
				pid, _ := strconv.Atoi(m[1])
				found <- pid
			}
		}
		_, _ = io.Copy(io.Discard, rd)
		close(found)
		r.stderr <- all.String()
	}()
	select {
	case pid, ok := <-found:
		if !ok {
			_, _ = unix.Wait4(r.kcr, nil, 0, nil)
			t.Fatalf("kcr restart ended without restoring:\n%s", <-r.stderr)
		}
		r.pid = pid
	case <-time.After(2 * time.Minute):
		t.Fatalf("kcr restart did not restore %s in 2 minutes", img)
	}
	return r
}

func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// wait waits for kcr restart to end and returns its exit status and
// output.
func (r *cliRestart) wait(t *testing.T) (int, string) {
	t.Helper()
	done := make(chan error, 1)
	var ws unix.WaitStatus
	go func() {
		_, err := unix.Wait4(r.kcr, &ws, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait for kcr restart: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("kcr restart still waits for pid %d after 2 minutes", r.pid)
	}
	out := <-r.stderr
	if !ws.Exited() {
		t.Fatalf("kcr restart ended with %s\n%s", describeStatus(ws), out)
	}
	return ws.ExitStatus(), out
}

// launchEnv names the cgroup, program and arguments that
// TestCLITreeLauncher starts, one per line.
const launchEnv = "KCR_CLI_TREE_LAUNCH"

// TestCLITreeLauncher is a helper, not a test: run with launchEnv set,
// this binary is the original parent of the tree of TestCLITree. It
// starts the program in the cgroup and waits for it. The restarted
// tree's root then checks its parent pid against a `kcr restart`
// started with this helper's pid, as the root of a tree restarted by
// the kcr command must have kcr as its parent.
func TestCLITreeLauncher(t *testing.T) {
	spec := os.Getenv(launchEnv)
	if spec == "" {
		return
	}
	f := strings.Split(spec, "\n")
	dir, err := os.Open(f[0])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(f[1], f[2:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dir.Close()
	_ = cmd.Wait()
	os.Exit(0)
}

// launchTree starts rt_tree with args in a new cgroup below a launcher
// (TestCLITreeLauncher) and waits until the tree is set up.
func launchTree(t *testing.T, args ...string) (tr *tree, launcher *exec.Cmd) {
	t.Helper()
	subreaper(t)
	cg := newCgroup(t, "clitree")
	rt := &roundTrip{Image: workloadImage(t, "rt_tree")}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	launcher = exec.Command(self, "-test.run=^TestCLITreeLauncher$")
	spec := append([]string{cg.Path, filepath.Join(guestproto.BinDir, "rt_tree"), rt.Image}, args...)
	launcher.Env = append(os.Environ(), launchEnv+"="+strings.Join(spec, "\n"))
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = launcher.Process.Kill(); _ = launcher.Wait() })
	waitUntil(t, rt, &workload{cmd: launcher}, "rt_tree did not get ready", func() bool {
		_, err := os.Stat(rt.Image + ".ready")
		return err == nil
	})
	kids := childrenOf(t, launcher.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("launcher %d has children %v, want the tree's root", launcher.Process.Pid, kids)
	}
	rt.OrigPid = kids[0]
	return &tree{rt: rt, cg: cg}, launcher
}

// The whole CLI on a tree: kcr checkpoint --cgroup --kill, kcr info,
// kcr restart waiting for the root and exiting with its status; then
// the same image again, its root killed by a signal: 128+signal.
func TestCLITree(t *testing.T) {
	d := device(t)
	tr, launcher := launchTree(t, "3", "2", "2")
	img := tr.rt.Image
	dir := filepath.Dir(img)
	rc, out := kcrCLI(t, "checkpoint", "--cgroup", tr.cg.Path, "--kill", "-o", img,
		"--log", filepath.Join(dir, "ckpt.log"))
	if rc != 0 {
		log, _ := os.ReadFile(filepath.Join(dir, "ckpt.log"))
		t.Fatalf("kcr checkpoint --cgroup --kill: exit %d\n%s\n%s", rc, out, log)
	}
	if want := fmt.Sprintf("of pid %d written", tr.rt.OrigPid); !strings.Contains(out, want) {
		t.Errorf("kcr checkpoint said %q, want %q", out, want)
	}
	// --kill returns once the cgroup is empty.
	if left := cgroupPids(tr.cg); len(left) != 0 {
		t.Errorf("cgroup still holds %v after kcr checkpoint --kill", left)
	}
	_ = launcher.Wait() // it ends with the tree's root: its pid is free
	pids := treePids(t, img)
	if len(pids) != 22 {
		t.Fatalf("image of %d tasks, want 22", len(pids))
	}
	var all []int
	for _, p := range pids {
		all = append(all, int(p.Vpid))
	}
	killTree(t, all) // reaps the orphans: their pids are free again

	// kcr info: one line per task, indented by depth, with its ids.
	rc, out = kcrCLI(t, "info", img)
	if rc != 0 {
		t.Fatalf("kcr info: exit %d\n%s", rc, out)
	}
	if !strings.Contains(out, "tasks (22: 22 processes, 0 threads):\n") {
		t.Errorf("kcr info: no task count line\n%s", out)
	}
	depth := map[int32]int{}
	for _, p := range pids {
		if p.Vpid != int32(tr.rt.OrigPid) {
			depth[p.Vpid] = depth[p.Vppid] + 1
		}
		// The tree drawing takes 3 columns per level.
		re := fmt.Sprintf(`(?m)^  [ │├└─]{%d}%d +%d +%d +%d  rt_tree$`,
			3*depth[p.Vpid], p.Vpid, p.Vppid, p.Vpgid, p.Vsid)
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("kcr info: no line for pid %d at depth %d (%s)\n%s", p.Vpid, depth[p.Vpid], re, out)
		}
	}
	if t.Failed() {
		return
	}

	// kcr restart waits for the root, which checks the whole tree. It
	// runs with the launcher's pid: the root checks its parent's.
	r := startCLIRestart(t, d, launcher.Process.Pid, img, "--log", filepath.Join(dir, "restart.log"))
	if r.pid != tr.rt.OrigPid {
		t.Errorf("restarted root has pid %d, was %d", r.pid, tr.rt.OrigPid)
	}
	tr.rt.Pid = r.pid
	if err := unix.Kill(r.pid, unix.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	rc, stderr := r.wait(t)
	if rc != 0 {
		log, _ := os.ReadFile(filepath.Join(dir, "restart.log"))
		t.Fatalf("kcr restart: exit %d\n%s\nreport:\n%s\nrestart log:\n%s", rc, stderr, tr.rt.Report(), log)
	}
	if !strings.Contains(stderr, "exited with status 0") {
		t.Errorf("kcr restart said %q", stderr)
	}
	killTree(t, all) // all gone already: the tree waited for itself

	// Once more, the root killed by SIGTERM: kcr exits 128+15. Its
	// children, orphaned, come to us (subreaper) and are killed.
	r = startCLIRestart(t, d, 0, img, "--log", filepath.Join(dir, "restart2.log"))
	if err := unix.Kill(r.pid, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rc, stderr = r.wait(t)
	killTree(t, all)
	if rc != 128+int(unix.SIGTERM) || !strings.Contains(stderr, "killed by signal 15") {
		t.Errorf("kcr restart of a root killed by SIGTERM: exit %d, want %d\n%s", rc, 128+int(unix.SIGTERM), stderr)
	}
}

// startInCgroup starts workload name with args in cg.
func startInCgroup(t *testing.T, cg *freezer.Cgroup, name string, args ...string) *exec.Cmd {
	t.Helper()
	dir, err := os.Open(cg.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	cmd := exec.Command(filepath.Join(guestproto.BinDir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// A cgroup of two trees: kcr names both roots and checkpoints nothing;
// given one root, it checkpoints that tree, and --kill kills only it,
// leaving the other running and the cgroup thawed.
func TestCLITreeCgroupRoots(t *testing.T) {
	device(t)
	subreaper(t)
	cg := newCgroup(t, "roots")
	dir := t.TempDir()
	a := startInCgroup(t, cg, "counter", filepath.Join(dir, "a"))
	b := startInCgroup(t, cg, "counter", filepath.Join(dir, "b"))
	img := filepath.Join(dir, "img")
	rc, out := kcrCLI(t, "checkpoint", "--cgroup", cg.Path, "-o", img)
	want := fmt.Sprintf("holds 2 process trees, with roots %d (counter), %d (counter)",
		min(a.Process.Pid, b.Process.Pid), max(a.Process.Pid, b.Process.Pid))
	if rc != 1 || !strings.Contains(out, want) {
		t.Errorf("kcr checkpoint --cgroup of two trees: exit %d, want 1 and %q\n%s", rc, want, out)
	}
	if f, _ := os.ReadFile(filepath.Join(cg.Path, "cgroup.freeze")); strings.TrimSpace(string(f)) != "0" {
		t.Errorf("cgroup left with cgroup.freeze %q after a refusal", f)
	}
	rc, out = kcrCLI(t, "checkpoint", "--cgroup", cg.Path, "--kill", strconv.Itoa(a.Process.Pid), "-o", img)
	if rc != 0 {
		t.Fatalf("kcr checkpoint --cgroup --kill PID: exit %d\n%s", rc, out)
	}
	_ = a.Wait()
	if got := cgroupPids(cg); len(got) != 1 || got[0] != strconv.Itoa(b.Process.Pid) {
		t.Errorf("cgroup holds %v after killing the tree of %d, want only %d", got, a.Process.Pid, b.Process.Pid)
	}
	if f, _ := os.ReadFile(filepath.Join(cg.Path, "cgroup.freeze")); strings.TrimSpace(string(f)) != "0" {
		t.Errorf("cgroup left with cgroup.freeze %q", f)
	}
	if n := len(treePids(t, img)); n != 1 {
		t.Errorf("image of %d tasks, want 1", n)
	}
}

// A tree with a child outside the cgroup is refused (that child would
// not be frozen); kcr checkpoint --freeze PID takes such a tree whole
// into its own cgroup and puts every process back where it was.
func TestCLITreeOutsideCgroup(t *testing.T) {
	device(t)
	tr := startTree(t, "rt_tree", "2", "2")
	pids := cgroupPids(tr.cg)
	if len(pids) != 7 {
		t.Fatalf("tree of %v, want 7 processes", pids)
	}
	kids := childrenOf(t, tr.rt.OrigPid)
	if len(kids) != 2 {
		t.Fatalf("root %d has children %v", tr.rt.OrigPid, kids)
	}
	other := newCgroup(t, "other")
	if err := other.Add(kids[1]); err != nil {
		t.Fatal(err)
	}
	img := tr.rt.Image
	rc, out := kcrCLI(t, "checkpoint", "--cgroup", tr.cg.Path, strconv.Itoa(tr.rt.OrigPid), "-o", img)
	if want := fmt.Sprintf("descendants outside cgroup %s, so they are not frozen: %d (rt_tree)",
		tr.cg.Path, kids[1]); rc != 1 || !strings.Contains(out, want) {
		t.Errorf("kcr checkpoint --cgroup with a child outside: exit %d, want 1 and %q\n%s", rc, want, out)
	}

	rc, out = kcrCLI(t, "checkpoint", "--freeze", strconv.Itoa(tr.rt.OrigPid), "-o", img)
	if rc != 0 {
		t.Fatalf("kcr checkpoint --freeze of a tree: exit %d\n%s", rc, out)
	}
	if n := len(treePids(t, img)); n != 7 {
		t.Errorf("image of %d tasks, want 7", n)
	}
	if got := cgroupPids(tr.cg); len(got) != 6 {
		t.Errorf("%s holds %v after kcr checkpoint --freeze, want the 6 it had", tr.cg.Path, got)
	}
	if got := cgroupPids(other); len(got) != 1 || got[0] != strconv.Itoa(kids[1]) {
		t.Errorf("%s holds %v after kcr checkpoint --freeze, want %d", other.Path, got, kids[1])
	}
	if _, err := os.Stat(filepath.Join(freezer.Root, fmt.Sprintf("kcr-checkpoint-%d", tr.rt.OrigPid))); err == nil {
		t.Error("kcr checkpoint --freeze left its cgroup behind")
	}
	for _, p := range append(pids, strconv.Itoa(kids[1])) {
		pid, _ := strconv.Atoi(p)
		if st := procState(pid); st == "" || st == "Z" {
			t.Errorf("pid %d did not survive kcr checkpoint --freeze (state %q)", pid, st)
		}
	}
}
