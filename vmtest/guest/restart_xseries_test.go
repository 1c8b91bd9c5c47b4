//go:build kcrguest

package guest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// An image taken on one kernel series restarts on the other (6.1 and
// 6.12 of the same arch): the host's TestCrossSeries boots one series
// with KCR_XSERIES=save, where this test checkpoints its workloads into
// guestproto.CarryDir and prints that directory on the console, and then
// the other series with the directory in its initramfs and
// KCR_XSERIES=restore, where it restarts each image and checks the
// restored state. In the ordinary suite both halves run in one boot.
//
// The workloads' files come back with new inodes and times (and their
// executables from another initramfs), so the restarts accept changed
// files; pids are fresh, as another boot may have given the old ones
// away. What is checked is the state the workloads check themselves:
// floating-point and vector registers in the middle of a computation
// (rt_spin), every user register (rt_regs_*), memory contents (rt_mem).
//
// One state does not carry: the vDSO. Its code differs between kernels,
// and a process keeps the addresses of its functions (libc looks them up
// at startup), so an image that has a vDSO restarts only on a kernel with
// the same vDSO, and elsewhere is refused with EOPNOTSUPP naming it. The
// host boots both series with vdso=0 (x86-64) for the trip that proves
// the rest of the state, and as they are for the one that proves the
// refusal.
func TestCrossSeries(t *testing.T) {
	switch mode := os.Getenv("KCR_XSERIES"); mode {
	case "save":
		xseriesSave(t)
		carryOut(t, guestproto.CarryDir)
	case "restore":
		xseriesRestore(t)
	case "":
		xseriesSave(t)
		xseriesRestore(t)
	default:
		t.Fatalf("KCR_XSERIES=%q: want save, restore or nothing", mode)
	}
}

// xseriesWorkload is one image carried across: dir under CarryDir, the
// workload and its arguments, and whether it is checkpointed frozen from
// outside (in the middle of its loop) or checkpoints itself.
type xseriesWorkload struct {
	dir, name string
	args      []string
	external  bool
}

func xseriesWorkloads() []xseriesWorkload {
	regs := map[string]string{"amd64": "rt_regs_x86", "s390x": "rt_regs_s390", "ppc64le": "rt_regs_ppc"}[runtime.GOARCH]
	return []xseriesWorkload{
		{dir: "spin-fp", name: "rt_spin", args: []string{"fp"}, external: true},
		{dir: "spin-vec", name: "rt_spin", args: []string{"vec"}, external: true},
		{dir: "regs", name: regs},
		{dir: "mem", name: "rt_mem", args: []string{"1"}},
	}
}

func (w xseriesWorkload) image() string {
	return filepath.Join(guestproto.CarryDir, w.dir, w.name+".img")
}

// xseriesSave checkpoints each workload into its directory of CarryDir.
func xseriesSave(t *testing.T) {
	d := device(t)
	for _, w := range xseriesWorkloads() {
		if err := os.MkdirAll(filepath.Dir(w.image()), 0o755); err != nil {
			t.Fatal(err)
		}
		if w.external {
			rt, wl := startSpinAt(t, w.image(), w.args[0])
			checkpointFrozen(t, d, rt, wl)
		} else {
			selfCheckpointAt(t, w.image(), w.name, w.args...)
		}
		t.Logf("%s: %s checkpointed", w.dir, w.image())
	}
}

// xseriesRestore restarts each image of CarryDir and requires that the
// workload's own checks pass.
func xseriesRestore(t *testing.T) {
	d := device(t)
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		t.Fatal(err)
	}
	for _, w := range xseriesWorkloads() {
		rt := &roundTrip{Image: w.image()}
		rt.Opts.NoPids = true
		rt.Opts.AllowChangedFiles = true
		made, vdso, page := imageKernel(t, rt.Image)
		err := restartImage(t, d, rt)
		if page != uint32(os.Getpagesize()) {
			// Debian builds ppc64le 6.1 with 64 KiB pages and 6.12
			// with 4 KiB ones: no image carries across, and restart
			// must say why before anything else.
			if !errors.Is(err, unix.EINVAL) || !strings.Contains(rt.Log, "the page size") {
				t.Fatalf("%s: restart on %s (page size %d) of an image of %s (page size %d): %v, log %q; want EINVAL naming the page size",
					w.dir, unix.ByteSliceToString(uts.Release[:]), os.Getpagesize(), made, page, err, rt.Log)
			}
			t.Logf("%s: refused, as it should be: %s", w.dir, strings.TrimSpace(rt.Log))
			continue
		}
		if vdso && made != unix.ByteSliceToString(uts.Release[:]) {
			if !errors.Is(err, unix.EOPNOTSUPP) || !strings.Contains(rt.Log, "vDSO") {
				t.Fatalf("%s: restart on %s of an image with the vDSO of %s: %v, log %q; want EOPNOTSUPP naming the vDSO",
					w.dir, unix.ByteSliceToString(uts.Release[:]), made, err, rt.Log)
			}
			lines := strings.Split(strings.TrimSpace(rt.Log), "\n")
			t.Logf("%s: refused, as it should be: %s", w.dir, lines[len(lines)-1])
			continue
		}
		if err != nil {
			t.Fatalf("%s: restart of %s: %v\n%s", w.dir, rt.Image, err, rt.Log)
		}
		rt.wait(t, false)
		rt.RequirePass(t)
		if w.name == "rt_spin" && rt.reportLine("done: pid") == "" {
			t.Fatalf("%s: the restarted rt_spin did not finish its loop\n%s", w.dir, rt.Report())
		}
		t.Logf("%s: restarted as pid %d and passed its checks", w.dir, rt.Pid)
	}
}

// imageKernel returns the kernel release that made the image at path,
// whether the image has a vDSO mapping, and that kernel's page size.
func imageKernel(t *testing.T, path string) (release string, vdso bool, page uint32) {
	t.Helper()
	forEachRecord(t, path, func(r *image.Record) bool {
		switch h := r.Body.(type) {
		case *uapi.CkptHdrHeader:
			release = unix.ByteSliceToString(h.UtsRelease[:])
			page = h.Constants.PageSize
		case *uapi.CkptHdrVma:
			vdso = vdso || h.VmaType == uapi.CKPT_VMA_VDSO
		}
		return true
	})
	return release, vdso, page
}

// carryOut prints dir on the console for the host (guestproto.CarryDir):
// a gzipped newc cpio archive in base64 lines, then its SHA-256.
func carryOut(t *testing.T, dir string) {
	var recs []cpio.Record
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path, "/")
		switch {
		case e.IsDir():
			recs = append(recs, cpio.Directory(name, uint64(info.Mode().Perm())))
		case e.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			recs = append(recs, cpio.StaticRecord(b, cpio.Info{
				Name: name, Mode: cpio.S_IFREG | uint64(info.Mode().Perm()),
				MTime: uint64(info.ModTime().Unix()),
			}))
		default:
			return fmt.Errorf("%s: neither a directory nor a regular file", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var arch bytes.Buffer
	zw := gzip.NewWriter(&arch)
	w := cpio.Newc.Writer(zw)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(arch.Bytes())
	var out strings.Builder
	for len(enc) > 0 {
		n := min(len(enc), 96)
		out.WriteString(guestproto.CarryPrefix + enc[:n] + "\n")
		enc = enc[n:]
	}
	fmt.Fprintf(&out, "%s %x\n", guestproto.CarryEndMarker, sha256.Sum256(arch.Bytes()))
	os.Stdout.WriteString(out.String())
	t.Logf("carried %s: %d files and directories, %d bytes compressed", dir, len(recs), arch.Len())
}
