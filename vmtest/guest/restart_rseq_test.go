//go:build kcrguest

package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// threadRseq returns the rseq fields of the image's first THREAD record.
func threadRseq(t *testing.T, img []byte) (addr uint64, length, sig uint32) {
	t.Helper()
	var th uapi.CkptHdrThread
	r := recordOf(t, img, uapi.CKPT_HDR_THREAD)
	if uintptr(r.Len) != unsafe.Sizeof(th) {
		t.Fatalf("THREAD record of %d bytes, want %d", r.Len, unsafe.Sizeof(th))
	}
	rec := img[r.Offset:]
	order := imageOrder(img)
	return order.Uint64(rec[unsafe.Offsetof(th.Rseq):]),
		order.Uint32(rec[unsafe.Offsetof(th.RseqLen):]),
		order.Uint32(rec[unsafe.Offsetof(th.RseqSig):])
}

// glibc's rseq registration: recorded at checkpoint, registered again at
// restart (rt_rseq checks that a second rseq() is EBUSY and that the
// kernel keeps the area's cpu_id up to date).
func TestRestartRseq(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_rseq")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	addr, length, sig := threadRseq(t, img)
	t.Logf("rseq area %#x length %d signature %#x", addr, length, sig)
	if addr == 0 || addr%32 != 0 || length != 32 {
		t.Fatalf("image records rseq area %#x length %d", addr, length)
	}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart of rt_rseq: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
	t.Logf("report:\n%s", rt.Report())
}

// RESTART_TASKSELF: the caller's own registration (its glibc's, in the
// memory the restart replaces) gives way to the image's.
func TestRestartRseqTaskSelf(t *testing.T) {
	withModule(t)
	rt := selfCheckpoint(t, "rt_rseq")
	if err := os.Truncate(rt.Image+".report", 0); err != nil {
		t.Fatal(err)
	}
	log := rt.Image + ".restartlog"
	out, err := combinedOutput(exec.Command(filepath.Join(guestproto.BinDir, "selfrestart"), rt.Image, log))
	restartLog, _ := os.ReadFile(log)
	if err != nil || !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("selfrestart: %v\n%s\nrestart log:\n%s\nreport:\n%s", err, out, restartLog, rt.Report())
	}
	t.Logf("report:\n%s", rt.Report())
}

// A corrupted rseq registration: a clean errno and a message, no task.
func TestRestartRseqCorrupt(t *testing.T) {
	rt := selfCheckpoint(t, "rt_rseq")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := threadRseq(t, img)
	var th uapi.CkptHdrThread
	tryEdits(t, img, []recordEdit{
		{"unaligned rseq area", uapi.CKPT_HDR_THREAD, unsafe.Offsetof(th.Rseq), addr + 8, 8, syscall.EINVAL, "thread: rseq area"},
		// Beyond every arch's user space (s390x has 2^64 - 4 KiB).
		{"rseq area beyond user space", uapi.CKPT_HDR_THREAD, unsafe.Offsetof(th.Rseq), ^uint64(0) &^ 31, 8, syscall.EINVAL, "thread: rseq area"},
		{"rseq length", uapi.CKPT_HDR_THREAD, unsafe.Offsetof(th.RseqLen), 64, 4, syscall.EINVAL, "thread: rseq area"},
		{"rseq signature without an area", uapi.CKPT_HDR_THREAD, unsafe.Offsetof(th.Rseq), 0, 8, syscall.EINVAL, "without an rseq area"},
	})
}
