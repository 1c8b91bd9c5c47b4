//go:build kcrguest

package guest

import "testing"

// The registers of an s390x task (gprs, vector registers and so the
// fprs, fpc, access registers, thread pointer) survive a self checkpoint
// and restart (rt_regs_s390 checks them itself).
func TestRestartRegsS390(t *testing.T) {
	selfRoundTrip(t, "rt_regs_s390")
}
