//go:build kcrguest

package guest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

const unprivKnob = "/proc/sys/kernel/ckpt_unpriv_allowed"

// unprivAllowed sets kernel.ckpt_unpriv_allowed for the test: rt_creds
// checkpoints itself once it is no longer root, and user 1000 restarts.
func unprivAllowed(t *testing.T) {
	t.Helper()
	withModule(t)
	if err := os.WriteFile(unprivKnob, []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(unprivKnob, []byte("0"), 0) })
}

// recordOf is the first record of type typ in img.
func recordOf(t *testing.T, img []byte, typ uint32) recordPos {
	t.Helper()
	for _, r := range imageRecords(t, img) {
		if r.Type == typ {
			return r
		}
	}
	t.Fatalf("no record of type %s", image.TypeName(typ))
	return recordPos{}
}

// recordEdit changes one field of the first record of a type.
type recordEdit struct {
	name string
	rec  uint32
	off  uintptr // in the record
	val  uint64
	size int // bytes: 4 or 8
	want syscall.Errno
	msg  string // in the log
}

// apply returns a copy of img with the edit made.
func (e recordEdit) apply(t *testing.T, img []byte) []byte {
	t.Helper()
	r := recordOf(t, img, e.rec)
	bad := bytes.Clone(img)
	at := r.Offset + int64(e.off)
	if at+int64(e.size) > r.Offset+int64(r.Len) {
		t.Fatalf("%s: offset %d beyond the %d bytes of %s", e.name, e.off, r.Len, image.TypeName(e.rec))
	}
	order := imageOrder(img)
	if e.size == 8 {
		order.PutUint64(bad[at:], e.val)
	} else {
		order.PutUint32(bad[at:], uint32(e.val))
	}
	return bad
}

// tryEdits restarts each edited image as root: each must fail with its
// errno and message, and leave no task.
func tryEdits(t *testing.T, img []byte, edits []recordEdit) {
	t.Helper()
	d := device(t)
	for _, e := range edits {
		_, err, log := restartBytes(t, d, e.apply(t, img), kcr.RestartOptions{})
		if !errors.Is(err, e.want) || !strings.Contains(log, e.msg) {
			t.Errorf("%s: %v, log %q; want %v and %q", e.name, err, log, e.want, e.msg)
		}
		requireNoChildren(t, e.name)
	}
}

// unprivDir is a directory that user 1000 can use, with a copy of kcr.
func unprivDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kcr-creds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile("/bin/kcr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kcr"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tasksOf lists the pids of the processes whose real uid is uid.
func tasksOf(uid string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		f, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		s := bufio.NewScanner(f)
		for s.Scan() {
			if v, ok := strings.CutPrefix(s.Text(), "Uid:"); ok {
				if fs := strings.Fields(v); len(fs) > 0 && fs[0] == uid {
					pids = append(pids, e.Name())
				}
				break
			}
		}
		f.Close()
	}
	return pids
}

// unprivRestart runs `kcr restart --no-pids` as uid and gid 1000, with
// the ambient capabilities caps, on the image img (a file that user may
// read) and returns its exit status (0 when it succeeded), its output
// and the module's messages.
func unprivRestart(t *testing.T, dir, img string, caps ...uintptr) (int, string, string) {
	t.Helper()
	logPath := filepath.Join(dir, "restart.log")
	_ = os.Remove(logPath)
	cmd := exec.Command(filepath.Join(dir, "kcr"), "restart", "--no-pids", "-i", img, "--log", logPath)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}, AmbientCaps: caps}
	out, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(logPath)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kcr restart as uid 1000: %v\n%s", err, out)
	}
	if pids := tasksOf("1000"); len(pids) > 0 {
		t.Errorf("processes of uid 1000 left after kcr restart: %v", pids)
	}
	return code, string(out), string(log)
}

// requireUnprivRefused: user 1000 restarting img must fail with EPERM
// and a message containing msg, and no task must be left.
func requireUnprivRefused(t *testing.T, dir, name string, img []byte, msg string) {
	t.Helper()
	p := filepath.Join(dir, name+".img")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, log := unprivRestart(t, dir, p)
	if code != 1 || !strings.Contains(out, "operation not permitted") || !strings.Contains(log, msg) {
		t.Errorf("%s: uid 1000 restart exited %d\n%s\nlog %q; want EPERM and %q", name, code, out, log, msg)
	}
}

// A process that became user 1000 with groups, capabilities, ambient
// and bounding sets and securebits is restarted by root as that user.
func TestRestartCreds(t *testing.T) {
	unprivAllowed(t)
	// The restored task reopens its files as itself (fsuid 1002): they
	// are in a directory that it may search.
	rt := &roundTrip{Image: filepath.Join(unprivDir(t), "full.img")}
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "rt_creds"), rt.Image)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rt_creds: %v\n%s\nreport:\n%s", err, out, rt.Report())
	}
	rt.OrigPid = cmd.Process.Pid
	if err := restartImage(t, device(t), rt); err != nil {
		t.Fatalf("restart of rt_creds: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}

// What user 1000 may not restart: a root process, one with a
// capability it lacks, and images whose uid or gid was changed.
func TestRestartCredsUnprivileged(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)

	root := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(root.Image)
	if err != nil {
		t.Fatal(err)
	}
	requireUnprivRefused(t, dir, "root", img, "lacks CAP_SETGID")

	caps := selfCheckpoint(t, "rt_creds", "caps")
	img, err = os.ReadFile(caps.Image)
	if err != nil {
		t.Fatal(err)
	}
	requireUnprivRefused(t, dir, "caps", img, "permitted capabilities")

	var c uapi.CkptHdrCred
	var u uapi.CkptHdrUser
	plain := selfCheckpoint(t, "rt_creds", "plain")
	img, err = os.ReadFile(plain.Image)
	if err != nil {
		t.Fatal(err)
	}
	cred := func(off uintptr, val uint64, size int) recordEdit {
		return recordEdit{rec: uapi.CKPT_HDR_CRED, off: off, val: val, size: size}
	}
	for _, e := range []struct {
		name  string
		edits []recordEdit
		msg   string
	}{
		// The real uid and its user_struct, which must agree.
		{"uid 0", []recordEdit{cred(unsafe.Offsetof(c.Uid), 0, 4),
			{rec: uapi.CKPT_HDR_USER, off: unsafe.Offsetof(u.Uid), size: 4}}, "lacks CAP_SETUID"},
		{"euid 0", []recordEdit{cred(unsafe.Offsetof(c.Euid), 0, 4)}, "lacks CAP_SETUID"},
		{"fsgid 0", []recordEdit{cred(unsafe.Offsetof(c.Fsgid), 0, 4)}, "lacks CAP_SETGID"},
		{"securebits", []recordEdit{cred(unsafe.Offsetof(c.Securebits), 0x4, 4)}, "lacks CAP_SETPCAP"},
		{"permitted", []recordEdit{cred(unsafe.Offsetof(c.Caps)+unsafe.Offsetof(c.Caps.CapPermitted), 1<<21, 8)}, "permitted capabilities"},
	} {
		bad := img
		for _, ed := range e.edits {
			ed.name = e.name
			bad = ed.apply(t, bad)
		}
		requireUnprivRefused(t, dir, strings.ReplaceAll(e.name, " ", "-"), bad, e.msg)
	}
}

// User 1000 restarts a process of its own (uid and gid 1000, no
// capabilities). Setting the executable of the restored mm needs
// CAP_CHECKPOINT_RESTORE (as prctl(PR_SET_MM_MAP) does), which the
// restarter has as its only capability.
func TestRestartCredsUnprivilegedOwn(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := filepath.Join(dir, "plain.img")
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "rt_creds"), img, "plain")
	if out, err := cmd.CombinedOutput(); err != nil {
		rep, _ := os.ReadFile(img + ".report")
		t.Fatalf("rt_creds plain: %v\n%s\nreport:\n%s", err, out, rep)
	}
	const capCheckpointRestore = 40
	code, out, log := unprivRestart(t, dir, img, capCheckpointRestore)
	if code != 0 || !strings.Contains(out, "exited with status 0") {
		rep, _ := os.ReadFile(img + ".report")
		t.Fatalf("uid 1000 restart of its own process exited %d\n%s\nlog %q\nreport:\n%s", code, out, log, rep)
	}
}

// Corrupted credential records: a clean errno and a message, no task.
func TestRestartCredsCorrupt(t *testing.T) {
	unprivAllowed(t)
	rt := selfCheckpoint(t, "rt_creds")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var c uapi.CkptHdrCred
	var u uapi.CkptHdrUser
	var g uapi.CkptHdrGroupinfo
	var ns uapi.CkptHdrUserNs
	tryEdits(t, img, []recordEdit{
		{"uid unmapped", uapi.CKPT_HDR_CRED, unsafe.Offsetof(c.Uid), 0xffffffff, 4, syscall.EINVAL, "no mapping"},
		{"gid unmapped", uapi.CKPT_HDR_CRED, unsafe.Offsetof(c.Sgid), 0xffffffff, 4, syscall.EINVAL, "no mapping"},
		{"unknown capability", uapi.CKPT_HDR_CRED, unsafe.Offsetof(c.Caps) + unsafe.Offsetof(c.Caps.CapBset), 1 << 63, 8, syscall.EINVAL, "unknown capabilities"},
		{"effective beyond permitted", uapi.CKPT_HDR_CRED, unsafe.Offsetof(c.Caps) + unsafe.Offsetof(c.Caps.CapEffective), 1 << 21, 8, syscall.EINVAL, "beyond permitted"},
		{"securebits", uapi.CKPT_HDR_CRED, unsafe.Offsetof(c.Securebits), 0x10000, 4, syscall.EINVAL, "securebits"},
		{"user ref", uapi.CKPT_HDR_CRED, unsafe.Offsetof(c.UserRef), 999, 4, syscall.EINVAL, "not defined"},
		{"user of another uid", uapi.CKPT_HDR_USER, unsafe.Offsetof(u.Uid), 4242, 4, syscall.EINVAL, "user_struct of uid 4242"},
		{"group count", uapi.CKPT_HDR_GROUPINFO, unsafe.Offsetof(g.Ngroups), 70000, 4, syscall.EINVAL, "groups in"},
		{"nested user namespace", uapi.CKPT_HDR_USER_NS, unsafe.Offsetof(ns.Level), 1, 4, syscall.EINVAL, "nested user namespaces"},
	})
}

// credCmd runs the command name with args as credrun makes its caller
// (vmtest/workloads/credrun.c: opts are its options).
func credCmd(opts []string, name string, args ...string) *exec.Cmd {
	all := append(append(append([]string{}, opts...), "--", name), args...)
	return exec.Command(filepath.Join(guestproto.BinDir, "credrun"), all...)
}

// userOpts are credrun options for uid and gid uid, no supplementary
// groups, and then more.
func userOpts(uid int, more ...string) []string {
	ids := fmt.Sprintf("%d,%d,%d", uid, uid, uid)
	return append([]string{"-G", "", "-g", ids, "-u", ids}, more...)
}

// nsRootOpts: root of a user namespace of its own, where uid and gid 0
// are kernel ids 1000, setgroups denied (what an unprivileged user
// gets), and then more.
func nsRootOpts(more ...string) []string { return userOpts(1000, append([]string{"-U"}, more...)...) }

// credCheckpoint runs rt_creds MODE as opts make it, with its image
// dir/name.img, which it checkpoints itself. It returns the image path
// and, when the checkpoint failed, the error with the workload's output,
// report and checkpoint log. The files are made everyone's.
func credCheckpoint(t *testing.T, dir, name string, opts []string, mode string) (string, error) {
	t.Helper()
	img := filepath.Join(dir, name+".img")
	out, err := credCmd(opts, filepath.Join(guestproto.BinDir, "rt_creds"), img, mode).CombinedOutput()
	if err != nil {
		rep, _ := os.ReadFile(img + ".report")
		log, _ := os.ReadFile(img + ".ckptlog")
		return img, fmt.Errorf("rt_creds %s as %v: %v\n%s\nreport:\n%s\ncheckpoint log:\n%s", mode, opts, err, out, rep, log)
	}
	for _, f := range []string{img, img + ".report", img + ".ckptlog"} {
		if err := os.Chmod(f, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return img, nil
}

// mustCredCheckpoint is credCheckpoint failing the test on error.
func mustCredCheckpoint(t *testing.T, dir, name string, opts []string, mode string) string {
	t.Helper()
	img, err := credCheckpoint(t, dir, name, opts, mode)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// credRestart runs `kcr restart --no-pids` of img as opts make it; it
// returns whether the restart succeeded and the restored process passed
// its checks, and a description of what happened. No process of uid 1000
// may be left.
func credRestart(t *testing.T, dir, img string, opts []string) (bool, string) {
	t.Helper()
	logPath := filepath.Join(dir, "restart.log")
	_ = os.Remove(logPath)
	cmd := credCmd(opts, filepath.Join(dir, "kcr"), "restart", "--no-pids", "-i", img, "--log", logPath)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	log, _ := os.ReadFile(logPath)
	if pids := tasksOf("1000"); len(pids) > 0 {
		t.Errorf("processes of uid 1000 left after kcr restart: %v", pids)
	}
	rep, _ := os.ReadFile(img + ".report")
	desc := fmt.Sprintf("kcr restart as %v: %v\n%s\nlog %q\nreport:\n%s", opts, err, out, log, rep)
	return err == nil && strings.Contains(string(out), "exited with status 0"), desc
}

// requireCredRefused: restarting img as opts make it fails with EPERM and
// a message containing msg.
func requireCredRefused(t *testing.T, dir, img string, opts []string, msg string) {
	t.Helper()
	ok, desc := credRestart(t, dir, img, opts)
	if ok || !strings.Contains(desc, "operation not permitted") || !strings.Contains(desc, msg) {
		t.Errorf("want EPERM and %q: %s", msg, desc)
	}
}

// requireCredRestarts: restarting img as opts make it succeeds, and the
// restored process has the credentials it had (rt_creds checks).
func requireCredRestarts(t *testing.T, dir, img string, opts []string) {
	t.Helper()
	if ok, desc := credRestart(t, dir, img, opts); !ok {
		t.Errorf("want a restart that passes: %s", desc)
	}
}

// Supplementary groups cannot be dropped in a user namespace where
// setgroups is denied, even by its root (CVE-2014-8989): there a
// group can only deny access. Where the restarter has the image's groups
// the restart goes on.
func TestRestartCredsSetgroupsDenied(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := mustCredCheckpoint(t, dir, "ns", nsRootOpts(), "keep")
	requireCredRefused(t, dir, img, append([]string{"-G", "2000"}, nsRootOpts()[2:]...), "setgroups")
	requireCredRestarts(t, dir, img, nsRootOpts())
}

// SECBIT_NO_CAP_AMBIENT_RAISE: a restarter that may not raise ambient
// capabilities (locked) does not get them through an image.
func TestRestartCredsAmbientLocked(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := mustCredCheckpoint(t, dir, "noambient", nil, "noambient")
	requireCredRefused(t, dir, img, []string{"-s", "0xc0"}, "PR_CAP_AMBIENT_RAISE")
	requireCredRestarts(t, dir, img, nil)
}

// The capabilities of an image are checked against what setresuid()
// leaves the restarter: root whose securebits lock SECBIT_KEEP_CAPS off
// and the setuid fixup on loses every capability becoming uid 1000, so
// it cannot restore a uid 1000 process with CAP_KILL. Root without
// those locks can.
func TestRestartCredsSetuidDrop(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := mustCredCheckpoint(t, dir, "lockedcaps", nil, "lockedcaps")
	requireCredRefused(t, dir, img, []string{"-s", "0x28"}, "capset()")
	requireCredRestarts(t, dir, img, nil)
}

// The fs uid is checked against the uids setresuid() gave, not the
// restarter's: uids 1000/1001/1002 may become 1000/1000/1000, but then
// not take fs uid 1001. credrun restarts itself (-R): an execve() would
// set the saved and fs uids to the effective one, and drop the ambient
// CAP_CHECKPOINT_RESTORE the restart needs for /proc/self/exe.
func TestRestartCredsFsuid(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := mustCredCheckpoint(t, dir, "fsuid", nil, "fsuid")
	opts := []string{"-G", "", "-g", "1000,1000,1000", "-u", "1000,1001,1002", "-c", capCheckpointRestoreMask, "-R", img}
	out, err := exec.Command(filepath.Join(guestproto.BinDir, "credrun"), opts...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "restart: Operation not permitted") ||
		!strings.Contains(string(out), "setfsuid(1001)") {
		rep, _ := os.ReadFile(img + ".report")
		t.Errorf("credrun %v: %v\n%s\nreport:\n%s\nwant EPERM and setfsuid(1001)", opts, err, out, rep)
	}
	if pids := tasksOf("1000"); len(pids) > 0 {
		t.Errorf("processes of uid 1000 left after the restart: %v", pids)
	}
	requireCredRestarts(t, dir, img, nil)
}

// The restored task has none of its restarter's keyrings: rt_creds
// checks that its session keyring is not kcr-restarter.
func TestRestartCredsKeyrings(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := mustCredCheckpoint(t, dir, "keep", nil, "keep")
	requireCredRestarts(t, dir, img, []string{"-K", "kcr-restarter"})
	img = mustCredCheckpoint(t, dir, "plain", userOpts(1000), "keep")
	requireCredRestarts(t, dir, img, userOpts(1000, "-K", "kcr-restarter", "-c", "0x10000000000"))
}

// An image made in a user namespace (uid 0 there is kernel uid 1000) is
// bound to it: restarted elsewhere its ids would name other users (uid
// 0: the real root). Root of another namespace with the same maps may
// restart it.
func TestRestartCredsUserNamespace(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	img := mustCredCheckpoint(t, dir, "ns", nsRootOpts(), "keep")
	requireCredRefused(t, dir, img, nil, "maps otherwise")
	requireCredRefused(t, dir, img, userOpts(1000, "-c", "0x10000000000"), "maps otherwise")
	requireCredRestarts(t, dir, img, nsRootOpts())
	// And the other way round: an image of uid 1000 made outside.
	img = mustCredCheckpoint(t, dir, "u1000", userOpts(1000), "keep")
	requireCredRefused(t, dir, img, nsRootOpts(), "maps otherwise")
}

// An id without a mapping in the checkpoint's user namespace (here a
// supplementary group from outside it) is refused at checkpoint: written
// as the overflow id it would be taken for a real one.
func TestCheckpointCredsUnmappedIds(t *testing.T) {
	unprivAllowed(t)
	dir := unprivDir(t)
	_, err := credCheckpoint(t, dir, "unmapped", append([]string{"-G", "2000"}, nsRootOpts()[2:]...), "keep")
	if err == nil || !strings.Contains(err.Error(), "Operation not supported") ||
		!strings.Contains(err.Error(), "supplementary group (kernel gid 2000) has no mapping") {
		t.Errorf("checkpoint with an unmapped group: %v", err)
	}
}
