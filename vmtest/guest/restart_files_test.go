//go:build kcrguest

package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// The file table, cwd and umask of rt_files survive a restart: the
// workload checks each descriptor's number, path, offset and flags, that
// they work, that no other descriptor is open, its cwd and umask.
func TestRestartFiles(t *testing.T) {
	t.Run("self", func(t *testing.T) {
		rt := selfRoundTrip(t, "rt_files")
		t.Logf("report:\n%s", rt.Report())
	})
	t.Run("external", func(t *testing.T) {
		rt := externalRoundTrip(t, "rt_files", "external")
		t.Logf("report:\n%s", rt.Report())
	})
}

// The records of rt_files's image that the corruption tests change.
type filesImage struct {
	img   []byte
	order binary.ByteOrder
	files map[string][]recordPos // FILE records by path, in image order
	strs  map[int64]recordPos    // the STRING record after each FILE and FS
	descs map[int32]recordPos    // FILE_DESC records by fd
	table recordPos              // FILE_TABLE
	fs    recordPos              // FS
	cwd   recordPos              // its second STRING
}

func recString(img []byte, r recordPos) string {
	s := img[r.Offset+8 : r.Offset+int64(r.Len)]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

func parseFilesImage(t *testing.T, img []byte) *filesImage {
	t.Helper()
	fi := &filesImage{img: img, order: binary.LittleEndian,
		files: map[string][]recordPos{}, strs: map[int64]recordPos{},
		descs: map[int32]recordPos{}}
	if img[8] == 0 && img[9] == 0xfe {
		fi.order = binary.BigEndian
	}
	recs := imageRecords(t, img)
	var fd uapi.CkptHdrFileDesc
	for i, r := range recs {
		switch r.Type {
		case uapi.CKPT_HDR_FILE:
			if i+1 < len(recs) && recs[i+1].Type == uapi.CKPT_HDR_STRING {
				p := recString(img, recs[i+1])
				fi.files[p] = append(fi.files[p], r)
				fi.strs[r.Offset] = recs[i+1]
			}
		case uapi.CKPT_HDR_FILE_DESC:
			n := int32(fi.order.Uint32(img[r.Offset+int64(unsafe.Offsetof(fd.Fd)):]))
			fi.descs[n] = r
		case uapi.CKPT_HDR_FILE_TABLE:
			fi.table = r
		case uapi.CKPT_HDR_FS:
			fi.fs = r
			if i+2 < len(recs) && recs[i+2].Type == uapi.CKPT_HDR_STRING {
				fi.strs[r.Offset] = recs[i+1]
				fi.cwd = recs[i+2]
			}
		}
	}
	if fi.fs.Len == 0 || fi.table.Len == 0 || fi.cwd.Len == 0 {
		t.Fatalf("no file table, fs or cwd in the image")
	}
	return fi
}

// file is the first FILE record of path.
func (fi *filesImage) file(t *testing.T, path string) recordPos {
	t.Helper()
	r, ok := fi.files[path]
	if !ok {
		t.Fatalf("no FILE record of %s in the image", path)
	}
	return r[0]
}

func (fi *filesImage) desc(t *testing.T, fd int32) recordPos {
	t.Helper()
	r, ok := fi.descs[fd]
	if !ok {
		t.Fatalf("no FILE_DESC record of fd %d in the image", fd)
	}
	return r
}

// put returns a copy of the image with size bytes of val at off.
func (fi *filesImage) put(off int64, val uint64, size int) []byte {
	bad := bytes.Clone(fi.img)
	switch size {
	case 8:
		fi.order.PutUint64(bad[off:], val)
	case 4:
		fi.order.PutUint32(bad[off:], uint32(val))
	default:
		panic("size")
	}
	return bad
}

// lastByte returns a copy of the image whose string record s has its
// last character replaced by c.
func (fi *filesImage) lastByte(s recordPos, c byte) []byte {
	bad := bytes.Clone(fi.img)
	str := recString(fi.img, s)
	bad[s.Offset+8+int64(len(str))-1] = c
	return bad
}

// replaceString returns a copy of the image whose STRING record s holds
// str instead (records are not aligned: the rest just moves).
func (fi *filesImage) replaceString(s recordPos, str string) []byte {
	rec := make([]byte, 8+len(str)+1)
	fi.order.PutUint32(rec[0:], uapi.CKPT_HDR_STRING)
	fi.order.PutUint32(rec[4:], uint32(len(rec)))
	copy(rec[8:], str)
	out := append(bytes.Clone(fi.img[:s.Offset]), rec...)
	return append(out, fi.img[s.Offset+int64(s.Len):]...)
}

// restartWithoutCap restarts img from a thread that lacks capability
// c in its effective set (the restored task inherits that thread's
// credentials); the thread is thrown away after.
func restartWithoutCap(t *testing.T, d *kcr.Device, img []byte, c int) (int, error, string) {
	t.Helper()
	f := imageFile(t, img)
	defer f.Close()
	logw, logs := logPipe(t)
	var pid int
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err = unix.Capget(&hdr, &data[0]); err != nil {
			return
		}
		data[c/32].Effective &^= 1 << (c % 32)
		if err = unix.Capset(&hdr, &data[0]); err != nil {
			return
		}
		pid, err = d.Restart(f, kcr.RestartOptions{Log: logw})
	}()
	<-done
	if err == nil {
		t.Cleanup(func() {
			_ = unix.Kill(pid, unix.SIGKILL)
			_, _ = unix.Wait4(pid, nil, 0, nil)
		})
	}
	return pid, err, logs()
}

// A root that is not the restarter's: only a restarter that may chroot
// gets it. The restored task then has it as its root, while its files
// and cwd were opened by their paths from the restarter's root (image
// paths are relative to the root of the checkpoint): rt_files, which
// expects its old root, reports the cwd it sees from the new one.
func TestRestartFilesRoot(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_files")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	fi := parseFilesImage(t, img)
	dir := filepath.Dir(rt.Image)
	chrooted := fi.replaceString(fi.strs[fi.fs.Offset], dir)

	_, err, log := restartWithoutCap(t, d, chrooted, unix.CAP_SYS_CHROOT)
	if !errors.Is(err, syscall.EPERM) || !strings.Contains(log, "CAP_SYS_CHROOT") {
		t.Errorf("root %s without CAP_SYS_CHROOT: %v, log %q; want EPERM and a message", dir, err, log)
	}
	requireNoChildren(t, "root without CAP_SYS_CHROOT")

	r := &roundTrip{Image: filepath.Join(t.TempDir(), "root.img"), OrigPid: rt.OrigPid}
	if err := os.WriteFile(r.Image, chrooted, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := restartImage(t, d, r); err != nil {
		t.Fatalf("restart with root %s: %v\n%s", dir, err, r.Log)
	}
	r.wait(t, false)
	r.Image = rt.Image // its report
	rep := r.Report()
	if want := "cwd /cwd, want " + dir + "/cwd"; !strings.Contains(rep, want) {
		t.Errorf("the restarted process does not report %q (%s)\nreport:\n%s", want, describeStatus(r.Status), rep)
	}
}

// Bad file records, descriptors and fs: a clean errno, a message that
// says what is wrong, no task left. O_CREAT and O_TRUNC in an image are
// never applied: the restarted workload finds its file intact.
func TestRestartFilesCorrupt(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_files")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	fi := parseFilesImage(t, img)
	dir := filepath.Dir(rt.Image)

	var hf uapi.CkptHdrFile
	var hd uapi.CkptHdrFileDesc
	var ht uapi.CkptHdrFileTable
	var hfs uapi.CkptHdrFs
	common := int64(unsafe.Offsetof(hf.Common))
	fMode := common + int64(unsafe.Offsetof(hf.Common.IMode))
	fRdev := common + int64(unsafe.Offsetof(hf.Common.IRdev))
	fPos := common + int64(unsafe.Offsetof(hf.Common.FPos))
	fType := common + int64(unsafe.Offsetof(hf.Common.FType))
	fFlags := common + int64(unsafe.Offsetof(hf.Common.FFlags))
	fIFlags := common + int64(unsafe.Offsetof(hf.Common.IFlags))
	dFd := int64(unsafe.Offsetof(hd.Fd))
	dRef := int64(unsafe.Offsetof(hd.FileRef))
	dExec := int64(unsafe.Offsetof(hd.CloseOnExec))

	data := fi.file(t, dir+"/data")
	zero := fi.file(t, "/dev/zero")
	appendFile := fi.file(t, dir+"/append")
	flagsOf := func(r recordPos) uint64 {
		return uint64(fi.order.Uint32(img[r.Offset+fFlags:]))
	}

	cases := []struct {
		name string
		bad  []byte
		want syscall.Errno
		msg  string // in the log
	}{
		{"missing file", fi.lastByte(fi.strs[data.Offset], 'X'), syscall.ENOENT, dir + "/datX"},
		{"directory recorded as a regular file", fi.put(data.Offset+fMode, unix.S_IFDIR|0o755, 4), syscall.EINVAL, "not the same kind"},
		{"other device", fi.put(zero.Offset+fRdev, 0x107, 4), syscall.EINVAL, "/dev/zero"},
		{"negative offset", fi.put(data.Offset+fPos, 1<<63, 8), syscall.EINVAL, "negative offset"},
		{"file type", fi.put(data.Offset+fType, uapi.CKPT_FILE_PIPE, 4), syscall.EINVAL, "type 2"},
		{"O_TMPFILE", fi.put(data.Offset+fFlags, flagsOf(data)|unix.O_TMPFILE, 4), syscall.EOPNOTSUPP, "O_TMPFILE"},
		{"identity flags", fi.put(data.Offset+fIFlags, 0x80, 4), syscall.EINVAL, "identity flags 0x80"},
		{"huge fd", fi.put(fi.desc(t, 57).Offset+dFd, 0x7fffffff, 4), syscall.EMFILE, "RLIMIT_NOFILE"},
		{"negative fd", fi.put(fi.desc(t, 57).Offset+dFd, 0xfffffffb, 4), syscall.EINVAL, "fd -5"},
		{"fd twice", fi.put(fi.desc(t, 4).Offset+dFd, 3, 4), syscall.EINVAL, "out of order or twice"},
		{"fd out of order", fi.put(fi.desc(t, 23).Offset+dFd, 2, 4), syscall.EINVAL, "out of order or twice"},
		{"file objref", fi.put(fi.desc(t, 9).Offset+dRef, 9999, 4), syscall.EINVAL, "objref 9999"},
		{"close-on-exec", fi.put(fi.desc(t, 9).Offset+dExec, 2, 4), syscall.EINVAL, "close-on-exec 2"},
		{"descriptor count", fi.put(fi.table.Offset+int64(unsafe.Offsetof(ht.NrFds)), 0xffffffff, 4), syscall.EMFILE, "RLIMIT_NOFILE"},
		{"missing cwd", fi.lastByte(fi.cwd, 'X'), syscall.ENOENT, dir + "/cwX"},
		{"relative root", fi.lastByte(fi.strs[fi.fs.Offset], 'x'), syscall.EINVAL, "not absolute"},
		{"umask", fi.put(fi.fs.Offset+int64(unsafe.Offsetof(hfs.Umask)), 0o1000, 4), syscall.EINVAL, "umask"},
	}
	for _, c := range cases {
		_, err, log := restartBytes(t, d, c.bad, kcr.RestartOptions{})
		if !errors.Is(err, c.want) || !strings.Contains(log, c.msg) {
			t.Errorf("%s: %v, log %q; want %v and a message with %q", c.name, err, log, c.want, c.msg)
		}
		requireNoChildren(t, c.name)
	}

	// Last, as the workload then runs and appends to its file: O_CREAT,
	// O_EXCL and O_TRUNC of an image are not applied.
	bad := fi.put(appendFile.Offset+fFlags, flagsOf(appendFile)|unix.O_TRUNC|unix.O_CREAT|unix.O_EXCL, 4)
	ok := &roundTrip{Image: filepath.Join(t.TempDir(), "trunc.img"), OrigPid: rt.OrigPid}
	if err := os.WriteFile(ok.Image, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := restartImage(t, d, ok); err != nil {
		t.Fatalf("restart with O_TRUNC in a file's flags: %v\n%s", err, ok.Log)
	}
	ok.wait(t, false)
	// The report is the original's, next to its image.
	ok.Image = rt.Image
	ok.RequirePass(t)
}

// restartChanged restarts the image of rt, whose file path changed since
// its checkpoint as what says (msg): refused with ESTALE and a message
// naming path, no task left; then, with AllowChangedFiles, restarted
// with a note in the log. It returns the restarted round trip, ended.
func restartChanged(t *testing.T, d *kcr.Device, rt *roundTrip, path, msg string) *roundTrip {
	t.Helper()
	r := &roundTrip{Image: rt.Image, OrigPid: rt.OrigPid}
	err := restartImage(t, d, r)
	if !errors.Is(err, syscall.ESTALE) || !strings.Contains(r.Log, path+" (objref") || !strings.Contains(r.Log, msg) {
		t.Fatalf("restart after %s changed: %v, log %q; want ESTALE and a message naming it with %q", path, err, r.Log, msg)
	}
	requireNoChildren(t, path+" changed")
	r.Opts.AllowChangedFiles = true
	if err := restartImage(t, d, r); err != nil {
		t.Fatalf("restart with AllowChangedFiles after %s changed: %v\n%s", path, err, r.Log)
	}
	if !strings.Contains(r.Log, "reopened anyway") {
		t.Errorf("restart with AllowChangedFiles: no note about %s in the log %q", path, r.Log)
	}
	r.wait(t, false)
	return r
}

// Issue 8, defect 10: a file of the image that is not the checkpointed
// one any more (replaced by another inode, written, touched, its inode
// changed) is refused unless the restart accepts changed files.
func TestRestartFilesChanged(t *testing.T) {
	d := device(t)
	for _, c := range []struct {
		name   string
		change func(t *testing.T, data string)
		msg    string
		pass   bool // the workload's own checks pass on the changed file
	}{
		{"replaced", func(t *testing.T, data string) {
			b, err := os.ReadFile(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(data+".new", b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(data+".new", data); err != nil {
				t.Fatal(err)
			}
		}, "another file", false},
		{"grown", func(t *testing.T, data string) {
			f, err := os.OpenFile(data, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("more"); err != nil {
				t.Fatal(err)
			}
		}, "size differs", false},
		{"touched", func(t *testing.T, data string) {
			when := time.Now().Add(time.Hour)
			if err := os.Chtimes(data, when, when); err != nil {
				t.Fatal(err)
			}
		}, "modification time differs", true},
		{"chmod", func(t *testing.T, data string) {
			// The same mode: only the ctime moves.
			time.Sleep(10 * time.Millisecond)
			if err := os.Chmod(data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "change time (ctime) differs", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := selfCheckpoint(t, "rt_files")
			data := filepath.Join(filepath.Dir(rt.Image), "data")
			c.change(t, data)
			r := restartChanged(t, d, rt, data, c.msg)
			if c.pass {
				r.RequirePass(t)
			} else if c.name == "replaced" && !strings.Contains(r.Report(), "inode") {
				// The restarted process has the new file, and its
				// own check of the inode number says so.
				t.Errorf("the restarted process did not notice the new inode of %s (%s)\nreport:\n%s", data, describeStatus(r.Status), r.Report())
			}
		})
	}
}

// The executable replaced by another file (a rebuilt program) since the
// checkpoint: refused; accepted with AllowChangedFiles (the copy is the
// same program: it runs and passes).
func TestRestartFilesExeReplaced(t *testing.T) {
	d := device(t)
	dir := t.TempDir()
	exe := filepath.Join(dir, "rt_files")
	bin, err := os.ReadFile(filepath.Join(guestproto.BinDir, "rt_files"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	rt := &roundTrip{Image: filepath.Join(dir, "exe.img")}
	cmd := exec.Command(exe, rt.Image)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\nreport:\n%s", exe, err, out, rt.Report())
	}
	rt.OrigPid = cmd.Process.Pid
	if err := os.WriteFile(exe+".new", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(exe+".new", exe); err != nil {
		t.Fatal(err)
	}
	r := restartChanged(t, d, rt, exe, "another file")
	r.RequirePass(t)
}

// Issue 8, defect 13: a root restarter opens the files of an image of
// uid 1000 as uid 1000. The report of rt_creds (plain: uid 1000, no
// capabilities) made readable by root alone is refused with EACCES
// instead of being handed to the restored process; readable by
// everyone, the same image restarts.
func TestRestartFilesOpenedAsTask(t *testing.T) {
	unprivAllowed(t)
	d := device(t)
	rt := selfCheckpoint(t, "rt_creds", "plain")
	dir := filepath.Dir(rt.Image)
	for _, p := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	report := rt.Image + ".report"
	if err := os.Chmod(report, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &roundTrip{Image: rt.Image, OrigPid: rt.OrigPid}
	err := restartImage(t, d, r)
	if !errors.Is(err, syscall.EACCES) || !strings.Contains(r.Log, report) {
		t.Fatalf("root restart of a uid 1000 image with a root-only file: %v, log %q; want EACCES and a message naming %s", err, r.Log, report)
	}
	requireNoChildren(t, "root-only file")
	if err := os.Chmod(report, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := restartImage(t, d, r); err != nil {
		t.Fatalf("restart of the uid 1000 image: %v\n%s", err, r.Log)
	}
	r.wait(t, false)
	r.RequirePass(t)
}
