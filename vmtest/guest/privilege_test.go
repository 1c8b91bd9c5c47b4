//go:build kcrguest

package guest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// The privilege matrix of the README ("Who may checkpoint and restart
// what"): every cell, for kernel.ckpt_unpriv_allowed 0 and 1. Callers
// and the processes they act on get their credentials from credrun
// (vmtest/workloads/credrun.c); images are those of rt_creds, whose
// restarted process checks that it has exactly the credentials (ids,
// groups, capability sets, securebits, user namespace maps) it had.

const capCheckpointRestoreMask = "0x10000000000" // 1 << CAP_CHECKPOINT_RESTORE

// The callers of the matrix, as credrun options.
var (
	callerRoot     = []string{}
	callerUser     = userOpts(1000, "-c", capCheckpointRestoreMask)
	callerUserBare = userOpts(1000)
	callerNsRoot   = nsRootOpts()
)

// A checkpoint cell: caller checkpoints a process of target (credrun
// options; nil: root), or itself when self.
type ckptCell struct {
	name   string
	caller []string
	target []string
	self   bool
	want   [2]bool // allowed with the sysctl at 0, at 1
}

var ckptCells = []ckptCell{
	{"root: a process of user 1000", callerRoot, userOpts(1000), false, [2]bool{true, true}},
	{"user 1000: itself", userOpts(1000), nil, true, [2]bool{false, true}},
	{"user 1000: another process of user 1000", userOpts(1000), userOpts(1000), false, [2]bool{false, true}},
	{"user 1000: a process of user 1001", userOpts(1000), userOpts(1001), false, [2]bool{false, false}},
	{"user 1000: a process of root", userOpts(1000), callerRoot, false, [2]bool{false, false}},
	{"root of a user namespace: itself", callerNsRoot, nil, true, [2]bool{false, true}},
	// ptrace's capability rule: a caller in another user namespace
	// than its target's needs CAP_SYS_PTRACE in the target's.
	{"root of a user namespace: a process of user 1000 outside it", callerNsRoot, userOpts(1000), false, [2]bool{false, false}},
}

// A restart cell: caller restarts the image of one of privImages.
type restartCell struct {
	name   string
	caller []string
	image  string
	want   [2]bool
}

// The images, made once: key -> rt_creds maker (credrun options, mode).
var privImages = map[string]struct {
	opts []string
	mode string
}{
	"root":   {callerRoot, "keep"},     // uid 0, every capability
	"u1000":  {userOpts(1000), "keep"}, // uid 1000, none
	"u1001":  {userOpts(1001), "keep"}, // uid 1001, none
	"caps":   {callerRoot, "caps"},     // uid 1000 with CAP_KILL
	"userns": {nsRootOpts(), "keep"},   // uid 0 of a user namespace (kernel uid 1000), every capability there
}

var restartCells = []restartCell{
	{"root: image of root", callerRoot, "root", [2]bool{true, true}},
	{"root: image of user 1000", callerRoot, "u1000", [2]bool{true, true}},
	{"root: image of user 1000 with CAP_KILL", callerRoot, "caps", [2]bool{true, true}},
	{"root: image made in a user namespace", callerRoot, "userns", [2]bool{false, false}},
	{"user 1000 with CAP_CHECKPOINT_RESTORE: its own image", callerUser, "u1000", [2]bool{false, true}},
	{"user 1000 without capabilities: its own image", callerUserBare, "u1000", [2]bool{false, false}},
	{"user 1000 with CAP_CHECKPOINT_RESTORE: image of user 1001", callerUser, "u1001", [2]bool{false, false}},
	{"user 1000 with CAP_CHECKPOINT_RESTORE: image of root", callerUser, "root", [2]bool{false, false}},
	{"user 1000 with CAP_CHECKPOINT_RESTORE: image of user 1000 with CAP_KILL", callerUser, "caps", [2]bool{false, false}},
	{"user 1000 with CAP_CHECKPOINT_RESTORE: image made in a user namespace", callerUser, "userns", [2]bool{false, false}},
	{"root of a user namespace: image made in one with the same maps", callerNsRoot, "userns", [2]bool{false, true}},
	{"root of a user namespace: image of user 1000 made outside", callerNsRoot, "u1000", [2]bool{false, false}},
	{"root of a user namespace: image of root", callerNsRoot, "root", [2]bool{false, false}},
}

// setKnob writes a /proc/sys file, restoring its value at the end.
func setKnob(t *testing.T, path, v string) {
	t.Helper()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(v), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(path, old, 0) })
}

// runCkptCell runs one checkpoint cell; it reports whether the checkpoint
// was made, and what happened.
func runCkptCell(t *testing.T, dir string, i int, c ckptCell) (bool, string) {
	t.Helper()
	name := fmt.Sprintf("ckpt%d", i)
	if c.self {
		img, err := credCheckpoint(t, dir, name, c.caller, "keep")
		if err != nil {
			return false, err.Error()
		}
		st, err := os.Stat(img)
		return err == nil && st.Size() > 0, fmt.Sprintf("image %s: %v", img, err)
	}
	target := startWorkload(t, "credrun", append(append([]string{}, c.target...), "--",
		filepath.Join(guestproto.BinDir, "pattern"), "1", filepath.Join(dir, name+".dat"))...)
	cg := frozenIn(t, target)
	img := filepath.Join(dir, name+".img")
	cmd := credCmd(c.caller, filepath.Join(dir, "kcr"), "checkpoint", strconv.Itoa(target.pid()), "-o", img)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	// Gone before the restart cells, which look for leftover tasks.
	_ = target.cmd.Process.Kill()
	_ = cg.Thaw()
	_ = target.cmd.Wait()
	desc := fmt.Sprintf("kcr checkpoint as %v of a process of %v: %v\n%s", c.caller, c.target, err, out)
	if err != nil && !strings.Contains(string(out), "operation not permitted") {
		t.Errorf("%s: a refusal other than EPERM: %s", c.name, desc)
	}
	return err == nil, desc
}

func TestPrivilegeMatrix(t *testing.T) {
	withModule(t)
	setKnob(t, unprivKnob, "1")
	// Yama's own ptrace rules (scope 1: descendants only) would decide
	// for kcr's: the matrix shows kcr's, on top of ptrace's classic ones.
	if _, err := os.Stat("/proc/sys/kernel/yama/ptrace_scope"); err == nil {
		setKnob(t, "/proc/sys/kernel/yama/ptrace_scope", "0")
	}
	dir := unprivDir(t)
	imgs := map[string]string{}
	for key, m := range privImages {
		imgs[key] = mustCredCheckpoint(t, dir, key, m.opts, m.mode)
	}

	for knob := 0; knob <= 1; knob++ {
		if err := os.WriteFile(unprivKnob, []byte(strconv.Itoa(knob)), 0); err != nil {
			t.Fatal(err)
		}
		for i, c := range ckptCells {
			got, desc := runCkptCell(t, dir, i+100*knob, c)
			if got != c.want[knob] {
				t.Errorf("ckpt_unpriv_allowed=%d, checkpoint, %s: allowed %v, want %v\n%s", knob, c.name, got, c.want[knob], desc)
			}
		}
		for _, c := range restartCells {
			got, desc := credRestart(t, dir, imgs[c.image], c.caller)
			if got != c.want[knob] {
				t.Errorf("ckpt_unpriv_allowed=%d, restart, %s: allowed %v, want %v\n%s", knob, c.name, got, c.want[knob], desc)
			}
			if !got && !strings.Contains(desc, "operation not permitted") {
				t.Errorf("ckpt_unpriv_allowed=%d, restart, %s: a refusal other than EPERM: %s", knob, c.name, desc)
			}
		}
	}
}
