//go:build kcrguest

package guest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// A process with an LDT, a TLS descriptor in the GDT or an allocated
// protection key is refused with EOPNOTSUPP and a message naming the
// state (the image has no record for it); the process is left as it was
// and goes on once thawed.
func TestCheckpointX86Unsupported(t *testing.T) {
	for _, c := range []struct{ mode, msg string }{
		{"ldt", "LDT (modify_ldt)"},
		{"tls", "(set_thread_area)"},
		{"pkey", "protection keys are allocated"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			refusedCheckpoint(t, device(t), c.msg, "rt_regs_x86ldt", "hold", c.mode)
		})
	}
}

// A restarted process has no LDT, no TLS descriptor and only pkey 0,
// whatever its restarter had: the restarter itself turns into the image's
// process (RESTART_TASKSELF) after giving itself TLS descriptors or
// protection keys. A restarter with an LDT is refused (its mm, which the
// restored process keeps, holds the LDT).
func TestRestartX86NotInherited(t *testing.T) {
	for _, c := range []struct {
		mode   string
		status int // of rt_regs_x86ldt restart
	}{
		{"none", 0},
		{"tls", 0},
		{"pkey", 0},
		{"ldt", 4},
	} {
		t.Run(c.mode, func(t *testing.T) {
			withModule(t)
			rt := selfCheckpoint(t, "rt_regs_x86ldt", "clean")
			if err := os.Truncate(rt.Image+".report", 0); err != nil {
				t.Fatal(err)
			}
			log := rt.Image + ".restartlog"
			out, err := exec.Command(filepath.Join(guestproto.BinDir, "rt_regs_x86ldt"),
				rt.Image, "restart", c.mode, log).CombinedOutput()
			restartLog, _ := os.ReadFile(log)
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != c.status {
				t.Fatalf("restart with %s: exit status %d, want %d\n%s\nrestart log:\n%s\nreport:\n%s",
					c.mode, status, c.status, out, restartLog, rt.Report())
			}
			if c.status == 4 {
				if !strings.Contains(string(restartLog), "restarter has an LDT") {
					t.Fatalf("restart log %q: want the LDT named", restartLog)
				}
				return
			}
			if !strings.Contains(rt.Report(), "PASS: 0 failures") {
				t.Fatalf("restarted after %s:\n%s\nrestart log:\n%s\nreport:\n%s", c.mode, out, restartLog, rt.Report())
			}
		})
	}
	// The coordinator mode: a Go restarter has none of them.
	t.Run("coordinator", func(t *testing.T) {
		selfRoundTrip(t, "rt_regs_x86ldt", "clean")
	})
}
