//go:build kcrguest

package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// Issue 8, defect 11 (user space): a restored process keeps the exit
// signal of its image. With 0 (a clone() child that signals no one) it
// is not a SIGCHLD child, and wait4() sees it only with __WALL: kcr
// restart must still wait for it and exit with its status.
func TestRestartCLIExitSignal(t *testing.T) {
	device(t)
	dir := t.TempDir()
	img, log, res := dir+"/img", dir+"/log", dir+"/res"
	if out, err := exec.Command(filepath.Join(guestproto.BinDir, "selfckpt"), img, log, res).CombinedOutput(); err != nil {
		t.Fatalf("selfckpt: %v\n%s", err, out)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	var h uapi.CkptHdrTask
	b = recordEdit{name: "exit signal 0", rec: uapi.CKPT_HDR_TASK, off: unsafe.Offsetof(h.ExitSignal), val: 0, size: 4}.apply(t, b)
	if err := os.WriteFile(img, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/kcr", "restart", "--no-pids", "-i", img).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "exited with status 0") {
		r, _ := os.ReadFile(res)
		t.Fatalf("kcr restart of a process with exit signal 0: %v\n%s\nresult %q", err, out, r)
	}
	requireNoChildren(t, "kcr restart")
}
