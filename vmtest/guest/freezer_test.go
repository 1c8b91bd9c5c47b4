//go:build kcrguest

package guest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
	"github.com/kcr-dev/kcr/uapi"
)

// The freezer ioctls (CKPT_IOC_FREEZER_GET/SET) on cgroup v2 and on the
// v1 freezer hierarchy, and linux-cr's CHECKPOINTING state: while a
// checkpoint of frozen tasks runs, their cgroup reads CHECKPOINTING and
// refuses every SET with EBUSY; afterwards it is FROZEN, whatever the
// outcome. A direct write to cgroup.freeze cannot be refused: the
// checkpoint then fails with EBUSY. rt_count counts in user mode, so its
// counter (read through /proc/PID/mem) shows whether it ever ran.

// freezerCall is CKPT_IOC_FREEZER_GET or SET on the directory open as
// dirfd, with the module's messages.
func freezerCall(t *testing.T, d *kcr.Device, req uint, dirfd int, state uint32, flags uint64) (freezer.State, error, string) {
	t.Helper()
	logw, logs := logPipe(t)
	arg := uapi.CkptIocFreezer{CgroupFd: int32(dirfd), State: state, Flags: flags, Logfd: int32(logw.Fd())}
	_, err := d.Ioctl(req, uintptr(unsafe.Pointer(&arg)))
	return freezer.State(arg.State), err, logs()
}

func openDir(t *testing.T, path string) int {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func requireState(t *testing.T, cg *freezer.Cgroup, want freezer.State) {
	t.Helper()
	got, err := cg.State()
	if err != nil || got != want {
		t.Fatalf("%s: state %v (%v), want %v", cg.Path, got, err, want)
	}
}

// thawDirect thaws a cgroup v2 group by writing its cgroup.freeze, as
// root may while a checkpoint holds it CHECKPOINTING, and waits until it
// reads THAWED.
func thawDirect(t *testing.T, cg *freezer.Cgroup) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(cg.Path, "cgroup.freeze"), []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for s, err := cg.State(); s != freezer.Thawed; s, err = cg.State() {
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("%s after writing 0 to cgroup.freeze: %v (%v), want THAWED", cg.Path, s, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// holds is the module's number of running checkpoints of frozen tasks.
func holds(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/sys/module/kcr/parameters/checkpointing")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// v2Cgroup makes a cgroup v2 group for the test, removed at the end.
func v2Cgroup(t *testing.T, name string) *freezer.Cgroup {
	t.Helper()
	if err := freezer.Mount(); err != nil {
		t.Fatal(err)
	}
	cg, err := freezer.New(fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cg.Thaw(); _ = cg.Remove() })
	return cg
}

// counted is a running rt_count and where its counter is.
type counted struct {
	rt   *roundTrip
	w    *workload
	addr uint64
}

func startCounted(t *testing.T) *counted {
	t.Helper()
	rt, w := startRoundTrip(t, "rt_count")
	var b []byte
	waitUntil(t, rt, w, "rt_count did not get ready", func() bool {
		b, _ = os.ReadFile(rt.Image + ".ready")
		return strings.HasSuffix(string(b), "\n")
	})
	addr, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return &counted{rt: rt, w: w, addr: addr}
}

func (c *counted) pid() int { return c.rt.OrigPid }

// count reads the counter of the (frozen or running) process.
func (c *counted) count(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", c.pid()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [8]byte
	if _, err := f.ReadAt(b[:], int64(c.addr)); err != nil {
		t.Fatalf("reading the counter: %v", err)
	}
	return binary.NativeEndian.Uint64(b[:])
}

// frozenCounted starts rt_count in a cgroup v2 group of its own, counting
// and then frozen.
func frozenCounted(t *testing.T) (*counted, *freezer.Cgroup) {
	t.Helper()
	c := startCounted(t)
	cg := v2Cgroup(t, "kcr-freezer")
	if err := cg.Add(c.pid()); err != nil {
		t.Fatal(err)
	}
	// It counts.
	a := c.count(t)
	deadline := time.Now().Add(time.Minute)
	for c.count(t) == a {
		if time.Now().After(deadline) {
			t.Fatal("rt_count does not count")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cg.Thaw(); _ = c.w.cmd.Process.Kill(); _ = c.w.cmd.Wait() })
	return c, cg
}

// restartCounted checkpoints the frozen process to its image, restarts
// it and checks that the restarted one passes its checks and counts on
// from at least from.
func (c *counted) checkpointAndRestart(t *testing.T, d *kcr.Device, from uint64) {
	t.Helper()
	img, err := os.Create(c.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	_, err = d.Checkpoint(c.pid(), img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	img.Close()
	if log := logs(); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, log)
	}
	c.restart(t, d, from)
}

func (c *counted) restart(t *testing.T, d *kcr.Device, from uint64) {
	t.Helper()
	// The original must go: the restart takes its pid.
	_ = c.w.cmd.Process.Kill()
	_ = c.w.cmd.Wait()
	if err := restartImage(t, d, c.rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, c.rt.Log)
	}
	c.rt.wait(t, true)
	c.rt.RequirePass(t)
	n, err := strconv.ParseUint(c.rt.reportLine("count"), 10, 64)
	if err != nil || n < from {
		t.Fatalf("the restarted process counted to %q, want at least %d\nreport:\n%s", c.rt.reportLine("count"), from, c.rt.Report())
	}
}

// GET/SET round trip on cgroup v2, with a nested group frozen through
// its parent and the CLI.
func TestFreezerV2RoundTrip(t *testing.T) {
	d := device(t)
	c := startCounted(t)
	cg := v2Cgroup(t, "kcr-freezer-v2")
	child, err := freezer.NewAt(cg.Path, "child")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Remove() })
	if err := child.Add(c.pid()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cg.Thaw(); _ = c.w.cmd.Process.Kill(); _ = c.w.cmd.Wait() })
	requireState(t, cg, freezer.Thawed)
	fd := openDir(t, cg.Path)
	if _, err, log := freezerCall(t, d, uapi.CKPT_IOC_FREEZER_SET, fd, uapi.CKPT_FREEZER_FROZEN, 0); err != nil {
		t.Fatalf("SET FROZEN: %v %s", err, log)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		s, err, log := freezerCall(t, d, uapi.CKPT_IOC_FREEZER_GET, fd, 0, 0)
		if err != nil {
			t.Fatalf("GET: %v %s", err, log)
		}
		if s == freezer.Frozen {
			break
		}
		if s != freezer.Freezing || time.Now().After(deadline) {
			t.Fatalf("GET after SET FROZEN: %v, want FREEZING then FROZEN", s)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The child is frozen through its parent.
	requireState(t, child, freezer.Frozen)
	a := c.count(t)
	time.Sleep(300 * time.Millisecond)
	if b := c.count(t); b != a {
		t.Fatalf("frozen, the counter moved from %d to %d", a, b)
	}
	if err := cg.Thaw(); err != nil {
		t.Fatal(err)
	}
	requireState(t, cg, freezer.Thawed)
	requireState(t, child, freezer.Thawed)
	deadline = time.Now().Add(time.Minute)
	for c.count(t) == a {
		if time.Now().After(deadline) {
			t.Fatal("thawed, the counter does not move")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The CLI.
	for _, step := range []struct{ args, want string }{
		{"freeze " + cg.Path, ""},
		{"state " + cg.Path, "FROZEN\n"},
		{"thaw " + cg.Path, ""},
		{"state " + cg.Path, "THAWED\n"},
	} {
		out, err := exec.Command("/bin/kcr", strings.Fields(step.args)...).CombinedOutput()
		if err != nil || string(out) != step.want {
			t.Fatalf("kcr %s: %v, output %q, want %q", step.args, err, out, step.want)
		}
	}
}

// The caller's permission is the kernel's: write access to cgroup.freeze.
func TestFreezerPermission(t *testing.T) {
	withModule(t)
	cg := v2Cgroup(t, "kcr-freezer-perm")
	kcrAs := func(uid uint32, args ...string) (string, error) {
		cmd := exec.Command("/bin/kcr", args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := kcrAs(1000, "freeze", cg.Path)
	if err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("kcr freeze as uid 1000 of root's cgroup: %v, %q; want permission denied", err, out)
	}
	requireState(t, cg, freezer.Thawed)
	if out, err := kcrAs(1000, "state", cg.Path); err != nil || out != "THAWED\n" {
		t.Fatalf("kcr state as uid 1000: %v, %q", err, out)
	}
	// Delegated to uid 1000 as the cgroup v2 documentation says.
	if err := os.Chown(filepath.Join(cg.Path, "cgroup.freeze"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if out, err := kcrAs(1000, "freeze", cg.Path); err != nil {
		t.Fatalf("kcr freeze as uid 1000 with cgroup.freeze delegated: %v, %q", err, out)
	}
	requireState(t, cg, freezer.Frozen)
}

// GET/SET round trip on the v1 freezer hierarchy, mounted for the test,
// and CHECKPOINTING there: the legacy freezer stops tasks wherever they
// are (TASK_FROZEN).
func TestFreezerV1RoundTrip(t *testing.T) {
	d := device(t)
	root := filepath.Join(t.TempDir(), "freezer")
	if err := freezer.MountV1(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(root, 0); err != nil {
			t.Errorf("unmounting the v1 freezer: %v", err)
		}
	})
	cg, err := freezer.NewAt(root, "kcr-v1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cg.Remove(); err != nil {
			t.Errorf("removing %s: %v", cg.Path, err)
		}
	})
	c := startCounted(t)
	t.Cleanup(func() { _ = cg.Thaw(); _ = c.w.cmd.Process.Kill(); _ = c.w.cmd.Wait() })
	if err := cg.Add(c.pid()); err != nil {
		t.Fatal(err)
	}
	// The root of a hierarchy has no freezer.state.
	if _, err, log := freezerCall(t, d, uapi.CKPT_IOC_FREEZER_GET, openDir(t, root), 0, 0); !errors.Is(err, unix.EINVAL) || !strings.Contains(log, "freezer") {
		t.Fatalf("GET on the v1 root: %v, %q; want EINVAL and a message", err, log)
	}
	requireState(t, cg, freezer.Thawed)
	if err := cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	requireState(t, cg, freezer.Frozen)
	b, err := os.ReadFile(filepath.Join(cg.Path, "freezer.state"))
	if err != nil || string(b) != "FROZEN\n" {
		t.Fatalf("freezer.state: %q %v", b, err)
	}
	a := c.count(t)

	// CHECKPOINTING in v1, while a checkpoint stalls on a full pipe.
	r, w := smallPipe(t)
	call := checkpointAsync(t, d, c.pid(), w)
	waitPipeWriter(t, "the checkpoint", call.threads(t))
	requireState(t, cg, freezer.Checkpointing)
	if err := cg.Set(freezer.Thawed); !errors.Is(err, unix.EBUSY) {
		t.Fatalf("SET THAWED while CHECKPOINTING: %v, want EBUSY", err)
	}
	img, err := os.Create(c.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	copied := make(chan error, 1)
	go func() { _, err := io.Copy(img, r); copied <- err }()
	if err, log := call.result(t); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, log)
	}
	w.Close()
	requireState(t, cg, freezer.Frozen)
	if n := c.count(t); n != a {
		t.Fatalf("the counter moved from %d to %d while frozen", a, n)
	}
	if err := cg.Thaw(); err != nil {
		t.Fatal(err)
	}
	requireState(t, cg, freezer.Thawed)
	if h := holds(t); h != 0 {
		t.Fatalf("%d checkpoint holds left in the module", h)
	}
	if err := <-copied; err != nil {
		t.Fatal(err)
	}
	img.Close()
	c.restart(t, d, a)
}

// Bad input: EBADF, ENOTDIR, EINVAL with a message; nothing changes.
func TestFreezerBadInput(t *testing.T) {
	d := device(t)
	cg := v2Cgroup(t, "kcr-freezer-bad")
	if err := cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	cgfd := openDir(t, cg.Path)
	file, err := os.Open("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, c := range []struct {
		what  string
		req   uint
		fd    int
		state uint32
		flags uint64
		want  syscall.Errno
		msg   string
	}{
		{"a closed fd", uapi.CKPT_IOC_FREEZER_GET, 1000, 0, 0, unix.EBADF, "not open"},
		{"a regular file", uapi.CKPT_IOC_FREEZER_GET, int(file.Fd()), 0, 0, unix.ENOTDIR, "not a directory"},
		{"a directory that is not a cgroup", uapi.CKPT_IOC_FREEZER_SET, openDir(t, "/tmp"), uapi.CKPT_FREEZER_THAWED, 0, unix.EINVAL, "not a cgroup"},
		{"the v2 root", uapi.CKPT_IOC_FREEZER_SET, openDir(t, freezer.Root), uapi.CKPT_FREEZER_FROZEN, 0, unix.EINVAL, "no cgroup.freeze"},
		{"GET with flags", uapi.CKPT_IOC_FREEZER_GET, cgfd, 0, 1, unix.EINVAL, "flags"},
		{"SET with flags", uapi.CKPT_IOC_FREEZER_SET, cgfd, uapi.CKPT_FREEZER_THAWED, 1 << 63, unix.EINVAL, "flags"},
		{"state 0", uapi.CKPT_IOC_FREEZER_SET, cgfd, 0, 0, unix.EINVAL, "unknown freezer state"},
		{"state 5", uapi.CKPT_IOC_FREEZER_SET, cgfd, 5, 0, unix.EINVAL, "unknown freezer state"},
		{"state ~0", uapi.CKPT_IOC_FREEZER_SET, cgfd, ^uint32(0), 0, unix.EINVAL, "unknown freezer state"},
		{"SET FREEZING", uapi.CKPT_IOC_FREEZER_SET, cgfd, uapi.CKPT_FREEZER_FREEZING, 0, unix.EINVAL, "not set"},
		{"SET CHECKPOINTING", uapi.CKPT_IOC_FREEZER_SET, cgfd, uapi.CKPT_FREEZER_CHECKPOINTING, 0, unix.EINVAL, "not set"},
	} {
		_, err, log := freezerCall(t, d, c.req, c.fd, c.state, c.flags)
		if !errors.Is(err, c.want) || !strings.Contains(log, c.msg) {
			t.Errorf("%s: %v, log %q; want %v and a message with %q", c.what, err, log, c.want, c.msg)
		}
		requireState(t, cg, freezer.Frozen)
	}
	// A bad logfd is EBADF before anything else.
	arg := uapi.CkptIocFreezer{CgroupFd: int32(cgfd), State: uapi.CKPT_FREEZER_THAWED, Logfd: 1000}
	if _, err := d.Ioctl(uapi.CKPT_IOC_FREEZER_SET, uintptr(unsafe.Pointer(&arg))); !errors.Is(err, unix.EBADF) {
		t.Errorf("SET with a closed logfd: %v, want EBADF", err)
	}
	requireState(t, cg, freezer.Frozen)
	if _, err := d.Ioctl(uapi.CKPT_IOC_FREEZER_GET, 8); !errors.Is(err, unix.EFAULT) {
		t.Errorf("GET with a bad pointer: %v, want EFAULT", err)
	}
}

// A slow checkpoint (8 MiB through a one-page pipe read slowly) with
// thaws through the ioctl: EBUSY, the cgroup reads CHECKPOINTING, the
// target never runs, the checkpoint succeeds and its image restarts.
func TestFreezerCheckpointingRefusesThaw(t *testing.T) {
	d := device(t)
	c, cg := frozenCounted(t)
	a := c.count(t)
	r, w := smallPipe(t)
	call := checkpointAsync(t, d, c.pid(), w)
	waitPipeWriter(t, "the checkpoint", call.threads(t))

	requireState(t, cg, freezer.Checkpointing)
	if h := holds(t); h != 1 {
		t.Fatalf("%d checkpoint holds, want 1", h)
	}
	fd := openDir(t, cg.Path)
	for _, s := range []uint32{uapi.CKPT_FREEZER_THAWED, uapi.CKPT_FREEZER_FROZEN} {
		_, err, log := freezerCall(t, d, uapi.CKPT_IOC_FREEZER_SET, fd, s, 0)
		if !errors.Is(err, unix.EBUSY) || !strings.Contains(log, "CHECKPOINTING") {
			t.Fatalf("SET %v while CHECKPOINTING: %v, %q; want EBUSY and a message", freezer.State(s), err, log)
		}
	}
	if out, err := exec.Command("/bin/kcr", "thaw", cg.Path).CombinedOutput(); err == nil || !strings.Contains(string(out), "busy") {
		t.Fatalf("kcr thaw while CHECKPOINTING: %v, %q; want it refused", err, out)
	}
	if out, err := exec.Command("/bin/kcr", "state", cg.Path).CombinedOutput(); err != nil || string(out) != "CHECKPOINTING\n" {
		t.Fatalf("kcr state while CHECKPOINTING: %v, %q", err, out)
	}

	// Read the image slowly; thaws keep being refused while the first
	// half of it streams (the checkpoint cannot end before its reader
	// has read all but a pipe's worth).
	img, err := os.Create(c.rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	copied := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := img.Write(buf[:n]); werr != nil {
					copied <- werr
					return
				}
				read.Add(int64(n))
			}
			if err != nil {
				copied <- nil
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for read.Load() < 4<<20 {
		if err := cg.Set(freezer.Thawed); !errors.Is(err, unix.EBUSY) {
			t.Fatalf("SET THAWED during the checkpoint, %d bytes of the image read: %v, want EBUSY", read.Load(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err, log := call.result(t); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, log)
	}
	w.Close()
	if err := <-copied; err != nil {
		t.Fatal(err)
	}
	img.Close()
	requireState(t, cg, freezer.Frozen)
	if h := holds(t); h != 0 {
		t.Fatalf("%d checkpoint holds left", h)
	}
	if n := c.count(t); n != a {
		t.Fatalf("the counter moved from %d to %d during the checkpoint", a, n)
	}
	c.restart(t, d, a)
}

// A direct write of 0 to cgroup.freeze during the checkpoint cannot be
// refused by the module: the target runs (its counter moves), and the
// checkpoint fails with EBUSY instead of writing its image; then the
// cgroup is as the writes left it and the next checkpoint works.
func TestFreezerDirectThawDuringCheckpoint(t *testing.T) {
	d := device(t)
	c, cg := frozenCounted(t)
	a := c.count(t)
	r, w := smallPipe(t)
	call := checkpointAsync(t, d, c.pid(), w)
	waitPipeWriter(t, "the checkpoint", call.threads(t))
	requireState(t, cg, freezer.Checkpointing)

	thawDirect(t, cg)
	deadline := time.Now().Add(time.Minute)
	for c.count(t) == a {
		if time.Now().After(deadline) {
			t.Fatal("thawed through cgroup.freeze, the counter does not move")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(cg.Path, "cgroup.freeze"), []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for s, _ := cg.State(); s != freezer.Checkpointing; s, _ = cg.State() {
		if time.Now().After(deadline) {
			t.Fatalf("frozen again through cgroup.freeze: %v, want CHECKPOINTING", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	err, log := call.result(t)
	requireFailed(t, "thawed and frozen through cgroup.freeze", err, log, syscall.EBUSY, "ran during checkpoint")
	requireState(t, cg, freezer.Frozen)
	if h := holds(t); h != 0 {
		t.Fatalf("%d checkpoint holds left", h)
	}
	b := c.count(t)
	c.checkpointAndRestart(t, d, b)
}

// The checkpointing process (kcr checkpoint) is killed while its image
// stalls: the cgroup is FROZEN again, the module holds nothing, the
// target never ran, the next checkpoint works.
func TestFreezerCheckpointerKilled(t *testing.T) {
	d := device(t)
	c, cg := frozenCounted(t)
	a := c.count(t)
	cli := startStalledCLI(t, c.pid())
	requireState(t, cg, freezer.Checkpointing)
	cli.kill(t)
	requireState(t, cg, freezer.Frozen)
	if h := holds(t); h != 0 {
		t.Fatalf("%d checkpoint holds left after the checkpointer was killed", h)
	}
	if n := c.count(t); n != a {
		t.Fatalf("the counter moved from %d to %d", a, n)
	}
	c.checkpointAndRestart(t, d, a)
}
