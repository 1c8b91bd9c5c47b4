//go:build kcrguest

package guest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
)

// ask sends sig to the bench holder at pid and returns its answer.
func ask(t *testing.T, pid int, ready string, sig unix.Signal) string {
	t.Helper()
	res := ready + ".check"
	_ = os.Remove(res)
	if err := unix.Kill(pid, sig); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(res); err == nil && len(b) >= 2 {
			return string(b)
		}
	}
	t.Fatalf("pid %d did not answer %v", pid, sig)
	return ""
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// restartLib restarts img through lib (our child) and returns its pid.
func restartLib(t *testing.T, d *kcr.Device, img string, o kcr.RestartOptions) int {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var log bytes.Buffer
	lr, lw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	o.Log = lw
	pid, err := d.Restart(f, o)
	lw.Close()
	_, _ = log.ReadFrom(lr)
	lr.Close()
	if err != nil {
		t.Fatalf("restart of %s: %v\n%s", img, err, log.String())
	}
	t.Cleanup(func() { _ = unix.Kill(pid, unix.SIGKILL) })
	return pid
}

// TestRestartMapImage: RESTART_MAP_IMAGE maps a process's memory from
// the image file instead of copying it. The restarted process reads its
// pattern, then writes every word of its memory: the image file stays as
// it was (copy-on-write). Checkpointed again, the process's mappings of
// the image are saved as the anonymous memory they stand for: the new
// image restarts with the first one removed.
func TestRestartMapImage(t *testing.T) {
	d := device(t)
	dir := t.TempDir()
	ready := filepath.Join(dir, "hold.ready")
	pid := startBench(t, ready, "hold", "16").Process.Pid

	img := filepath.Join(dir, "hold.img")
	if rc, out := kcrCLI(t, "checkpoint", "--freeze", strconv.Itoa(pid), "-o", img); rc != 0 {
		t.Fatalf("kcr checkpoint: exit %d\n%s", rc, out)
	}
	sum := fileSum(t, img)
	killProcess(t, pid)

	pid2 := restartLib(t, d, img, kcr.RestartOptions{MapImage: true})
	if pid2 != pid {
		t.Errorf("restarted as pid %d, was %d", pid2, pid)
	}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid2))
	if err != nil {
		t.Fatal(err)
	}
	mapped := 0
	for _, l := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(l, img) {
			mapped++
		}
	}
	if mapped == 0 {
		t.Fatalf("nothing of the memory is mapped from the image:\n%s", maps)
	}
	// The pattern is there; then every word is written anew.
	if got := ask(t, pid2, ready, unix.SIGUSR2); got != "ok" {
		t.Fatalf("the restarted process read %q of its memory", got)
	}
	if got := ask(t, pid2, ready, unix.SIGUSR1); got != "ok" {
		t.Fatalf("the restarted process's writes read back %q", got)
	}
	if fileSum(t, img) != sum {
		t.Fatalf("the image changed when the restarted process wrote its memory")
	}

	// Again from a new image, without the first.
	img2 := filepath.Join(dir, "hold2.img")
	if rc, out := kcrCLI(t, "checkpoint", "--freeze", strconv.Itoa(pid2), "-o", img2); rc != 0 {
		t.Fatalf("kcr checkpoint of the restarted process: exit %d\n%s", rc, out)
	}
	killProcess(t, pid2)
	if err := os.Remove(img); err != nil {
		t.Fatal(err)
	}
	pid3 := restartLib(t, d, img2, kcr.RestartOptions{})
	if got := ask(t, pid3, ready, unix.SIGUSR1); got != "ok" {
		t.Fatalf("restarted from the second image, the memory reads %q", got)
	}
	killProcess(t, pid3)
}
