//go:build kcrguest

package guest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

const patternXor = 0x5a5aa5a5c3c33c3c

// workload is a running C workload of vmtest/workloads.
type workload struct {
	cmd   *exec.Cmd
	ready []string // the fields of its "ready" line
}

// startWorkload runs /kcr/bin/NAME and waits for its "ready" line.
func startWorkload(t *testing.T, name string, args ...string) *workload {
	t.Helper()
	cmd := exec.Command(filepath.Join(guestproto.BinDir, name), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workload{cmd: cmd}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: no ready line: %v", name, err)
	}
	w.ready = strings.Fields(line)
	if len(w.ready) == 0 || w.ready[0] != "ready" {
		t.Fatalf("%s: unexpected first line %q", name, line)
	}
	return w
}

func (w *workload) pid() int { return w.cmd.Process.Pid }

// alive tells whether the workload still runs (not a zombie).
func (w *workload) alive() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", w.pid()))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// frozenIn freezes the workload in a cgroup of its own for the test.
func frozenIn(t *testing.T, w *workload) *freezer.Cgroup {
	t.Helper()
	if err := freezer.Mount(); err != nil {
		t.Fatal(err)
	}
	cg, err := freezer.New(fmt.Sprintf("kcr-test-%d", w.pid()))
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.Add(w.pid()); err != nil {
		t.Fatal(err)
	}
	if err := cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cg.Thaw()
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
		_ = cg.Remove()
	})
	return cg
}

func device(t *testing.T) *kcr.Device {
	t.Helper()
	withModule(t)
	d, err := kcr.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// logPipe returns the write end for logfd and a function that returns
// everything written to it.
func logPipe(t *testing.T) (*os.File, func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		r.Close()
		done <- string(b)
	}()
	return w, func() string {
		w.Close()
		return <-done
	}
}

func TestCheckpointBadInput(t *testing.T) {
	d := device(t)
	img, err := os.CreateTemp("", "img")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(img.Name())
	w := startWorkload(t, "pattern", "1")

	logw, logs := logPipe(t)
	_, err = d.Checkpoint(w.pid(), img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	if !errors.Is(err, unix.EBUSY) {
		t.Errorf("checkpoint of a running task: %v, want EBUSY", err)
	}
	if l := logs(); !strings.Contains(l, "not frozen") || !strings.Contains(l, "[err -16]") {
		t.Errorf("logfd of the unfrozen checkpoint: %q", l)
	}
	if !w.alive() {
		t.Error("the workload died in a refused checkpoint")
	}

	for _, tc := range []struct {
		name string
		pid  int
		opts kcr.CheckpointOptions
		want unix.Errno
	}{
		{"unknown flag", w.pid(), kcr.CheckpointOptions{Flags: 1 << 40}, unix.EINVAL},
		{"no such pid", 999999, kcr.CheckpointOptions{Subtree: true}, unix.ESRCH},
	} {
		if _, err := d.Checkpoint(tc.pid, img, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	ro, err := os.Open(img.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	frozenIn(t, w)
	if _, err := d.Checkpoint(w.pid(), ro, kcr.CheckpointOptions{Subtree: true}); !errors.Is(err, unix.EBADF) {
		t.Errorf("image fd open read-only: %v, want EBADF", err)
	}
	if !w.alive() {
		t.Error("the workload died in a refused checkpoint")
	}
}

// A caller without ptrace rights over the target is refused even where
// unprivileged checkpoints are allowed.
func TestCheckpointNeedsPtraceRights(t *testing.T) {
	withModule(t)
	w := startWorkload(t, "pattern", "1")
	frozenIn(t, w)
	const knob = "/proc/sys/kernel/ckpt_unpriv_allowed"
	if err := os.WriteFile(knob, []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(knob, []byte("0"), 0)
	// A directory and a copy of kcr that uid 1000 can reach.
	dir, err := os.MkdirTemp("", "unpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := os.ReadFile("/bin/kcr")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kcr"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "kcr"), "checkpoint", strconv.Itoa(w.pid()), "-o", filepath.Join(dir, "img"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("uid 1000 checkpointed a root process:\n%s", out)
	}

	if !strings.Contains(string(out), "operation not permitted") {
		t.Errorf("uid 1000: %v\n%s", err, out)
	}
}

// checkpointImage freezes the workload, checkpoints it and returns the
// image bytes.
func checkpointImage(t *testing.T, w *workload) []byte {
	t.Helper()
	d := device(t)
	frozenIn(t, w)
	path := filepath.Join(t.TempDir(), "img")
	img, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	id, err := d.Checkpoint(w.pid(), img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	img.Close()
	if l := logs(); err != nil || l != "" {
		t.Logf("logfd: %s", l)
	}
	if err != nil {
		t.Fatal(err)
	}
	if id <= 0 {
		t.Fatalf("checkpoint id %d, want > 0", id)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckpointFrozenProcess(t *testing.T) {
	w := startWorkload(t, "pattern", "8")
	addr, _ := strconv.ParseUint(w.ready[1], 0, 64)
	size, _ := strconv.ParseUint(w.ready[2], 0, 64)
	fd, _ := strconv.Atoi(w.ready[3])
	b := checkpointImage(t, w)

	s, err := image.Summarize(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding the kernel's image: %v", err)
	}
	if !s.Complete || len(s.Tasks) != 1 || s.Tasks[0].Pid != int32(w.pid()) || s.Tasks[0].Comm != "pattern" {
		t.Fatalf("summary: complete %v, tasks %+v", s.Complete, s.Tasks)
	}
	if d := time.Since(s.Time); d < -time.Minute || d > time.Minute {
		t.Errorf("image time %v, now %v", s.Time, time.Now())
	}

	d := image.NewDecoder(bytes.NewReader(b))
	var (
		inVMA, sawVMA, sawCPU bool
		pages                 uint64
		lastFile              *uapi.CkptHdrFile
		filePos               = map[string]int64{}
		fileRefs              = map[int32]string{}
		objref                int32
		fds                   = map[int32]int32{}
		buf                   []byte
		exeRef                int32
		mappedRefs            []int32
	)
	for {
		rec, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch body := rec.Body.(type) {
		case *uapi.CkptHdrHeader:
			if body.ArchId != uapi.CKPT_ARCH_ID {
				t.Errorf("arch id %d, want %d", body.ArchId, uapi.CKPT_ARCH_ID)
			}
			if uint64(body.Constants.PageSize) != uint64(os.Getpagesize()) {
				t.Errorf("page size %d", body.Constants.PageSize)
			}
		case *uapi.CkptHdrObjref:
			objref = body.Objref
		case *uapi.CkptHdrMm:
			exeRef = body.ExeRef
		case *uapi.CkptHdrVma:
			inVMA = body.VmStart <= addr && addr+size <= body.VmEnd
			sawVMA = sawVMA || inVMA
			if body.VmaType == uapi.CKPT_VMA_FILE {
				mappedRefs = append(mappedRefs, body.FileRef)
			}
		case *uapi.CkptHdrPgarr:
			addrs, err := d.PageAddrs()
			if err != nil {
				t.Fatal(err)
			}
			ps := d.PageSize()
			if len(buf) < int(ps) {
				buf = make([]byte, ps)
			}
			for _, a := range addrs {
				if _, err := io.ReadFull(d, buf[:ps]); err != nil {
					t.Fatal(err)
				}
				if !inVMA || a < addr || a >= addr+size {
					continue
				}
				pages++
				for off := uint64(0); off < ps; off += 8 {
					got := d.ByteOrder().Uint64(buf[off:])
					if want := (a + off) ^ patternXor; got != want {
						t.Fatalf("word at %#x: %#x, want %#x", a+off, got, want)
					}
				}
			}
		case *uapi.CkptHdrFile:
			c := *body
			lastFile = &c
			fileRefs[objref] = ""
		case *uapi.CkptHdrFileDesc:
			fds[body.Fd] = body.FileRef
		case nil:
			if rec.Type == uapi.CKPT_HDR_STRING && lastFile != nil {
				p, err := d.String()
				if err != nil {
					t.Fatal(err)
				}
				filePos[p] = lastFile.Common.FPos
				fileRefs[objref] = p
				lastFile = nil
			}
		}
		if rec.Type == uapi.CKPT_HDR_CPU {
			sawCPU = true
		}
	}
	if !sawVMA {
		t.Errorf("no VMA covers the pattern at %#x+%#x", addr, size)
	}
	if want := size / uint64(os.Getpagesize()); pages != want {
		t.Errorf("%d pattern pages in the image, want %d", pages, want)
	}
	if pos, ok := filePos["/tmp/kcr-pattern.dat"]; !ok || pos != 1234 {
		t.Errorf("file /tmp/kcr-pattern.dat: offset %d (found %v); files %v", pos, ok, filePos)
	}
	if ref, ok := fds[int32(fd)]; !ok || fileRefs[ref] != "/tmp/kcr-pattern.dat" {
		t.Errorf("fd %d refers to %d (%q); fds %v", fd, ref, fileRefs[ref], fds)
	}
	if !sawCPU {
		t.Errorf("no CPU record of type %d", uapi.CKPT_HDR_CPU)
	}
	// The executable and its file mappings are FILE objects by objref.
	bin := filepath.Join(guestproto.BinDir, "pattern")
	if fileRefs[exeRef] != bin {
		t.Errorf("mm exe_ref %d names %q, want %s", exeRef, fileRefs[exeRef], bin)
	}
	if len(mappedRefs) == 0 {
		t.Error("no file-backed VMA")
	}
	for _, r := range mappedRefs {
		if fileRefs[r] != bin {
			t.Errorf("file VMA refers to objref %d (%q), want %s", r, fileRefs[r], bin)
		}
	}
	if !w.alive() {
		t.Error("the workload did not survive its checkpoint")
	}
}

func TestSelfCheckpoint(t *testing.T) {
	withModule(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "self.img")
	logPath, resPath := filepath.Join(dir, "log"), filepath.Join(dir, "result")
	err := exec.Command(filepath.Join(guestproto.BinDir, "selfckpt"), path, logPath, resPath).Run()
	res, _ := os.ReadFile(resPath)
	logText, _ := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("selfckpt: %v: %s\nlogfd: %s", err, res, logText)
	}
	var ret, errno int
	if _, err := fmt.Sscanf(string(res), "checkpoint returned %d errno %d", &ret, &errno); err != nil || ret <= 0 {
		t.Fatalf("selfckpt wrote %q, want a positive checkpoint id; logfd: %s", res, logText)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := image.Summarize(f)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Complete || len(s.Tasks) != 1 || s.Tasks[0].Comm != "selfckpt" || s.Tasks[0].Pages == 0 {
		t.Fatalf("self image: complete %v, tasks %+v", s.Complete, s.Tasks[0])
	}
}

func TestCheckpointCLI(t *testing.T) {
	withModule(t)
	w := startWorkload(t, "pattern", "1")
	img := filepath.Join(t.TempDir(), "img")
	out, err := exec.Command("/bin/kcr", "checkpoint", "--freeze", strconv.Itoa(w.pid()), "-o", img).CombinedOutput()
	if err != nil {
		t.Fatalf("kcr checkpoint --freeze: %v\n%s", err, out)
	}
	out, err = exec.Command("/bin/kcr", "info", img).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(" pattern")) {
		t.Fatalf("kcr info: %v\n%s", err, out)
	}
	if !w.alive() {
		t.Error("the workload did not survive kcr checkpoint --freeze")
	}
}

// refusedCheckpoint starts workload name (rt_external protocol) with
// args, checkpoints it frozen and requires EOPNOTSUPP with msg in the
// log; then thaws and wakes it, and requires its own checks to pass: a
// refused checkpoint leaves the target as it was.
func refusedCheckpoint(t *testing.T, d *kcr.Device, msg, name string, args ...string) {
	t.Helper()
	rt, w := startRoundTrip(t, name, args...)
	waitUntil(t, rt, w, name+" did not get ready", func() bool {
		_, err := os.Stat(rt.Image + ".ready")
		return err == nil
	})
	cg := frozenIn(t, w)
	img, err := os.Create(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	logw, logs := logPipe(t)
	_, err = d.Checkpoint(rt.OrigPid, img, kcr.CheckpointOptions{Subtree: true, Log: logw})
	img.Close()
	log := logs()
	if !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(log, msg) {
		t.Errorf("checkpoint: %v, log %q; want EOPNOTSUPP and %q", err, log, msg)
	}
	if err := cg.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(rt.OrigPid, unix.SIGUSR1); err != nil {
		t.Fatalf("SIGUSR1 to pid %d after the refused checkpoint: %v", rt.OrigPid, err)
	}
	err = w.cmd.Wait()
	if err != nil || !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("the target after the refusal: %v\nreport:\n%s", err, rt.Report())
	}
}
