//go:build kcrguest

package guest

import (
	"bytes"
	"encoding/binary"
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
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/lib/precopy"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// dirtier is vmtest/workloads/bench dirty: a process that keeps writing
// its memory and checks, on SIGUSR1, that every page holds what it last
// wrote there.
type dirtier struct {
	cmd   *exec.Cmd
	pid   int
	ready string
}

func startDirtier(t *testing.T, mib, permille, stride int) *dirtier {
	t.Helper()
	w := &dirtier{ready: filepath.Join(t.TempDir(), "dirty.ready")}
	w.cmd = startBench(t, w.ready, "dirty", strconv.Itoa(mib), strconv.Itoa(permille), strconv.Itoa(stride))
	w.pid = w.cmd.Process.Pid
	return w
}

// startBench starts vmtest/workloads/bench with args and the ready file
// as its last argument, and waits until the file is there; the process
// is killed at the end of the test. Stdio on /dev/null (nil): a pipe to
// the test could not be restored. A session of its own: kcr restart
// recreates it as it was.
func startBench(t *testing.T, ready string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "bench"), append(args, ready)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("bench %s: no %s after 2 minutes", args[0], ready)
		}
	}
}

// check asks the process now at pid to check its memory.
func (w *dirtier) check(t *testing.T, pid int, what string) {
	t.Helper()
	if got := ask(t, pid, w.ready, unix.SIGUSR1); got != "ok" {
		t.Fatalf("%s: the memory is not what the process wrote (%q)", what, got)
	}
}

var (
	frozenRe = regexp.MustCompile(`frozen for ([0-9.]+) s: (\d+) pages written then, (\d+) taken from the pre-copy`)
	roundsRe = regexp.MustCompile(`pre-copy: \d+ rounds in ([0-9.]+) s`)
)

// TestPreCopy: `kcr checkpoint --freeze --pre-copy` of a process that
// writes a fifth of its pages per second while it is copied makes an
// ordinary image from which the process restarts with every page as it
// last wrote it; and the restarted process, checkpointed the same way
// again, restarts again. Once with the pages written in order, once
// scattered: then every huge page gets written soon (one write marks all
// of a transparent huge page soft-dirty), and most pages are written by
// the frozen checkpoint, but all the same none may be lost.
func TestPreCopy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stride int
	}{{"InOrder", 1}, {"Scattered", 40503}} {
		t.Run(tc.name, func(t *testing.T) { preCopyTrips(t, tc.stride) })
	}
}

func preCopyTrips(t *testing.T, stride int) {
	d := device(t)
	w := startDirtier(t, 32, 200, stride)
	dir := t.TempDir()
	pid := w.pid
	for trip := 1; trip <= 2; trip++ {
		img := filepath.Join(dir, fmt.Sprintf("trip%d.img", trip))
		rc, out := kcrCLI(t, "checkpoint", "--freeze", "--pre-copy", strconv.Itoa(pid), "-o", img,
			"--log", filepath.Join(dir, "ckpt.log"))
		if rc != 0 {
			log, _ := os.ReadFile(filepath.Join(dir, "ckpt.log"))
			t.Fatalf("trip %d: kcr checkpoint --pre-copy: exit %d\n%s\n%s", trip, rc, out, log)
		}
		t.Logf("trip %d: %s", trip, strings.TrimSpace(out))
		m := frozenRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("trip %d: no frozen line in %q", trip, out)
		}
		// The process wrote pages while it was copied: some came
		// from the checkpoint, and most from the pre-copy. Unless the
		// copy took so long (a loaded host) that the writer, at a
		// fifth of its pages per second, rewrote half of them or more
		// meanwhile: then any split is right, and only the contents
		// checked below tell.
		written, _ := strconv.Atoi(m[2])
		copied, _ := strconv.Atoi(m[3])
		var took float64
		if r := roundsRe.FindStringSubmatch(out); r != nil {
			took, _ = strconv.ParseFloat(r[1], 64)
		}
		if stride == 1 && took < 2.5 && (copied == 0 || copied < written) {
			t.Errorf("trip %d: %d pages from the pre-copy, %d written frozen, the copy took %.3f s: the pre-copy did not do its part",
				trip, copied, written, took)
		}
		// Still running, and right.
		w.check(t, pid, fmt.Sprintf("trip %d: the original after its checkpoint", trip))

		f, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := image.Summarize(f)
		f.Close()
		if err != nil {
			t.Fatalf("trip %d: the merged image: %v", trip, err)
		}
		if sum.Uflags&uapi.CHECKPOINT_DIRTY_ONLY != 0 || !sum.Complete {
			t.Fatalf("trip %d: the merged image has flags %#x, complete %v", trip, sum.Uflags, sum.Complete)
		}

		killProcess(t, pid)
		r := startCLIRestart(t, d, 0, img, "--log", filepath.Join(dir, "restart.log"))
		if r.pid != pid {
			t.Errorf("trip %d: restarted with pid %d, was %d", trip, r.pid, pid)
		}
		w.check(t, r.pid, fmt.Sprintf("trip %d: the restarted process", trip))
		pid = r.pid
		t.Cleanup(func() { _ = unix.Kill(r.pid, unix.SIGKILL) })
		if trip == 2 {
			_ = unix.Kill(r.pid, unix.SIGKILL)
			if rc, _ := r.wait(t); rc != 128+int(unix.SIGKILL) {
				t.Errorf("kcr restart: exit %d, want %d", rc, 128+int(unix.SIGKILL))
			}
		} else {
			// kcr restart stays the parent: the next trip's kill
			// reaps through it.
			go func() { _, _ = r.wait(t) }()
		}
	}
}

// killProcess kills pid and waits until it is gone (reaped by its
// parent, the test or a kcr restart).
func killProcess(t *testing.T, pid int) {
	t.Helper()
	_ = unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	_, _ = unix.Wait4(pid, &ws, 0, nil)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still there 30 s after SIGKILL", pid)
		}
	}
}

// TestPreCopyDirtyOnlyImage: the kernel's side alone. After the soft-dirty
// bits are cleared, a frozen process that writes nothing has only clean
// pages: CHECKPOINT_DIRTY_ONLY writes their addresses and no data, and
// restart refuses such an image with a message that says why. A page
// written after the clear comes with its data.
func TestPreCopyDirtyOnlyImage(t *testing.T) {
	d := device(t)
	w := startWorkload(t, "pattern", "8")
	cg := frozenIn(t, w)
	if err := precopy.ClearSoftDirty(w.pid()); err != nil {
		t.Fatal(err)
	}
	all, err := precopy.Pages(w.pid(), false)
	if err != nil {
		t.Fatal(err)
	}
	dirty, err := precopy.Pages(w.pid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirty) != 0 || len(all) == 0 {
		t.Fatalf("after clear_refs: %d pages, %d of them soft-dirty", len(all), len(dirty))
	}
	// Written through /proc/PID/mem (get_user_pages): soft-dirty too.
	mem, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", w.pid()), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A read of a hole maps the zero page, without the soft-dirty bit:
	// neither data nor a clean page that the pre-copy would have read.
	hole := anonHole(t, w.pid())
	var word [8]byte
	if _, err := mem.ReadAt(word[:], int64(hole)); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.ReadAt(word[:], int64(all[len(all)/2])); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.WriteAt(word[:], int64(all[len(all)/2])); err != nil {
		t.Fatal(err)
	}
	mem.Close()

	var buf bytes.Buffer
	img := filepath.Join(t.TempDir(), "dirty.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Checkpoint(w.pid(), f, kcr.CheckpointOptions{Subtree: true, DirtyOnly: true}); err != nil {
		t.Fatalf("checkpoint with CHECKPOINT_DIRTY_ONLY: %v", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	clean, data := map[uint64]bool{}, map[uint64]bool{}
	dec := image.NewDecoder(f)
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch b := rec.Body.(type) {
		case *uapi.CkptHdrPgarrClean:
			if int(b.Pid) != w.pid() {
				t.Errorf("PGARR_CLEAN of pid %d, want %d", b.Pid, w.pid())
			}
			addrs, err := dec.PageAddrs()
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range addrs {
				clean[a] = true
			}
		case *uapi.CkptHdrPgarr:
			addrs, err := dec.PageAddrs()
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range addrs {
				data[a] = true
			}
		}
	}
	f.Close()
	if !data[all[len(all)/2]] || clean[all[len(all)/2]] {
		t.Errorf("the page written through /proc/PID/mem is not in the image with its data")
	}
	if data[hole] || clean[hole] {
		t.Errorf("the zero page read in at %#x is in the image (data %v, clean %v)", hole, data[hole], clean[hole])
	}
	// The write marked its page soft-dirty, or all of its huge page.
	huge := 1
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			huge = n / os.Getpagesize()
		}
	}
	if len(data) > huge+8 || len(clean)+len(data) < len(all)-8 {
		t.Errorf("%d pages with data, %d clean, of %d (huge pages of %d): want all but the written one clean",
			len(data), len(clean), len(all), huge)
	}
	fmt.Fprintf(&buf, "%d clean, %d with data", len(clean), len(data))
	t.Log(buf.String())

	// Restart refuses it, and says why.
	f, err = os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	logr, logw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer logr.Close()
	_, err = d.Restart(f, kcr.RestartOptions{NoPids: true, Log: logw})
	logw.Close()
	msg, _ := io.ReadAll(logr)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(string(msg), "pre-copy") {
		t.Errorf("restart of a CHECKPOINT_DIRTY_ONLY image: %v, log %q; want EINVAL naming the pre-copy", err, msg)
	}
	if err := cg.Thaw(); err != nil {
		t.Fatal(err)
	}
	if !w.alive() {
		t.Errorf("the workload died")
	}
}

// anonHole returns the first page of pid's private anonymous memory that
// was never touched (neither present nor swapped out).
func anonHole(t *testing.T, pid int) uint64 {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	ps := uint64(os.Getpagesize())
	for _, line := range strings.Split(strings.TrimSpace(string(maps)), "\n") {
		f := strings.Fields(line)
		// Private, writable, not a file's (no name, or [heap], [stack]).
		if len(f) < 5 || f[1][1] != 'w' || f[1][3] != 'p' || f[4] != "0" ||
			len(f) > 5 && !strings.HasPrefix(f[5], "[heap") && !strings.HasPrefix(f[5], "[stack") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("/proc/%d/maps: %q", pid, line)
		}
		var e [8]byte
		for a := start; a < end; a += ps {
			if _, err := pm.ReadAt(e[:], int64(a/ps*8)); err != nil {
				t.Fatal(err)
			}
			const present, swapped = 1 << 63, 1 << 62
			if binary.NativeEndian.Uint64(e[:])&(present|swapped) == 0 {
				return a
			}
		}
	}
	t.Fatalf("pid %d has no untouched page of anonymous memory:\n%s", pid, maps)
	return 0
}
