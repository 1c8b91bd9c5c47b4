//go:build kcrguest

package guest

import "testing"

// The same on ppc64le: non-volatile GPRs, LR, CR, FP/VMX/VSX registers,
// FPSCR, VSCR, VRSAVE, TAR and r13 (rt_regs_ppc).
func TestRestartRegsPPC(t *testing.T) {
	selfRoundTrip(t, "rt_regs_ppc")
}
