//go:build kcrguest

package guest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

// objectDef is the bytes of the first definition of an object of type
// objtype whose body is one record (OBJREF and that record), with its
// objref changed to ref.
func objectDef(t *testing.T, img []byte, objtype uint32, ref int32) []byte {
	t.Helper()
	recs := imageRecords(t, img)
	order := imageOrder(img)
	var o uapi.CkptHdrObjref
	for i, r := range recs[:len(recs)-1] {
		if r.Type != uapi.CKPT_HDR_OBJREF ||
			order.Uint32(img[r.Offset+int64(unsafe.Offsetof(o.Objtype)):]) != objtype {
			continue
		}
		body := recs[i+1]
		def := bytes.Clone(img[r.Offset : body.Offset+int64(body.Len)])
		order.PutUint32(def[unsafe.Offsetof(o.Objref):], uint32(ref))
		return def
	}
	t.Fatalf("no definition of an object of type %d", objtype)
	return nil
}

// insertAt is img with rec inserted at offset off.
func insertAt(img []byte, off int64, rec []byte) []byte {
	out := make([]byte, 0, len(img)+len(rec))
	out = append(out, img[:off]...)
	out = append(out, rec...)
	return append(out, img[off:]...)
}

// Object definitions are refused where the image grammar does not have
// them: before the header, in the records the coordinator reads (where
// restoring them would change the coordinator: signal handlers replaced
// under a Go program), before the task, and before records that do not
// use them. Each is EINVAL with a message, and the coordinator stays
// itself.
func TestRestartObjectsOutOfPlace(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	sighand := objectDef(t, img, uapi.CKPT_OBJ_SIGHAND, 9999)
	// The kernel's struct sigaction for SIGURG (Go's runtime has a
	// handler for it), as raw words.
	handler := func() [8]uint64 {
		var sa [8]uint64
		_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGURG), 0,
			uintptr(unsafe.Pointer(&sa)), 8, 0, 0)
		if e != 0 {
			t.Fatal(e)
		}
		return sa
	}
	urg := handler()
	for _, c := range []struct {
		name string
		at   int64
		msg  string
	}{
		{"before the header", 0, "belong inside a task's records"},
		{"before the tree", recordOf(t, img, uapi.CKPT_HDR_TREE).Offset, "belong inside a task's records"},
		{"before the tail", recordOf(t, img, uapi.CKPT_HDR_TAIL).Offset, "belong inside a task's records"},
		{"before the task", recordOf(t, img, uapi.CKPT_HDR_TASK).Offset, "cannot be defined before a record of type"},
		{"before the credentials", recordOf(t, img, uapi.CKPT_HDR_TASK_CREDS).Offset, "cannot be defined before a record of type"},
		{"before the thread", recordOf(t, img, uapi.CKPT_HDR_THREAD).Offset, "cannot be defined before a record of type"},
	} {
		bad := insertAt(img, c.at, sighand)
		_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(log, c.msg) {
			t.Errorf("a signal-handler definition %s: %v, log %q; want EINVAL and %q", c.name, err, log, c.msg)
		}
		requireNoChildren(t, c.name)
		if now := handler(); now != urg {
			t.Fatalf("%s: the coordinator's SIGURG handler changed: %+v, was %+v", c.name, now, urg)
		}
	}
	// A definition nested where its type does not belong: a signal
	// handler table inside a credentials object.
	cred := recordOf(t, img, uapi.CKPT_HDR_CRED)
	bad := insertAt(img, cred.Offset, sighand)
	_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(log, "cannot be defined inside") {
		t.Errorf("a signal-handler definition inside a credentials object: %v, log %q", err, log)
	}
	requireNoChildren(t, "nested")

	// The image itself still restarts.
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("the image: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}

// setObjectLimit sets the module parameter max_objects for the test.
func setObjectLimit(t *testing.T, n int) {
	t.Helper()
	const p = "/sys/module/kcr/parameters/max_objects"
	old, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(fmt.Sprint(n)), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(p, old, 0) })
}

// What a restart may make the kernel hold is bounded: objects by the
// module parameter max_objects (E2BIG), held files by the restarter's
// RLIMIT_NOFILE (EMFILE); a checkpoint's objects by max_objects too.
func TestRestartObjectLimits(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_files")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	objs := 0
	for _, r := range imageRecords(t, img) {
		if r.Type == uapi.CKPT_HDR_OBJREF {
			objs++
		}
	}
	setObjectLimit(t, objs-1)
	_, err, log := restartBytes(t, d, img, kcr.RestartOptions{})
	if !errors.Is(err, syscall.E2BIG) || !strings.Contains(log, "max_objects") {
		t.Errorf("%d objects with max_objects %d: %v, log %q; want E2BIG", objs, objs-1, err, log)
	}
	requireNoChildren(t, "max_objects")
	setObjectLimit(t, objs)

	files := 0
	order := imageOrder(img)
	var o uapi.CkptHdrObjref
	for _, r := range imageRecords(t, img) {
		if r.Type == uapi.CKPT_HDR_OBJREF &&
			order.Uint32(img[r.Offset+int64(unsafe.Offsetof(o.Objtype)):]) == uapi.CKPT_OBJ_FILE {
			files++
		}
	}
	if files < 2 {
		t.Fatalf("rt_files' image has %d files", files)
	}
	f := imageFile(t, img)
	defer f.Close()
	logw, logs := logPipe(t)
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = uint64(files - 1)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	_, err = d.Restart(f, kcr.RestartOptions{Log: logw})
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if log := logs(); !errors.Is(err, syscall.EMFILE) || !strings.Contains(log, "RLIMIT_NOFILE") {
		t.Errorf("%d files with RLIMIT_NOFILE %d: %v, log %q; want EMFILE", files, files-1, err, log)
	}
	requireNoChildren(t, "RLIMIT_NOFILE")

	// Within both limits it restarts.
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("the image: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)

	// A checkpoint past max_objects fails the same way, cleanly.
	setObjectLimit(t, 2)
	w := startWorkload(t, "pattern", "1")
	cg := frozenIn(t, w)
	out, err := os.Create(workloadImage(t, "limit"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	logw, logs = logPipe(t)
	_, err = d.Checkpoint(w.pid(), out, kcr.CheckpointOptions{Subtree: true, Log: logw})
	if log := logs(); !errors.Is(err, syscall.E2BIG) || !strings.Contains(log, "max_objects") {
		t.Errorf("checkpoint with max_objects 2: %v, log %q; want E2BIG", err, log)
	}
	if err := cg.Thaw(); err != nil {
		t.Fatal(err)
	}
	if !w.alive() {
		t.Fatal("the workload died")
	}
}
