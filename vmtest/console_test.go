package vmtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleConsole = `[    0.000000] Linux version 6.1.0
init: Welcome to u-root!
KCR-GUEST-BEGIN
=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestB
=== RUN   TestB/sub
    b_test.go:10: something went wrong
    --- FAIL: TestB/sub (0.00s)
--- FAIL: TestB (0.01s)
=== RUN   TestC
    c_test.go:5: no module
--- SKIP: TestC (0.00s)
FAIL
kcr-guest: guest.test: exit status 1
KCR-DMESG-BEGIN
<6>[    1.0] kcr: loaded, ABI version 1, /dev/checkpoint
<4>[    2.0] WARNING: CPU: 0 PID: 71 at kcr_warn.c:9 init+0x10/0x20 [kcr_warn]
<4>[    2.0] Call Trace:

KCR-DMESG-END

KCR-GUEST-END 1
`

func TestParseConsole(t *testing.T) {
	g := ParseConsole([]byte(sampleConsole))
	require.True(t, g.Begun)
	assert.Equal(t, 1, g.ExitCode)
	require.Len(t, g.Tests, 3)
	assert.Equal(t, "TestA", g.Tests[0].Name)
	assert.Equal(t, "PASS", g.Tests[0].Result)
	assert.Equal(t, "FAIL", g.Tests[1].Result)
	assert.Contains(t, strings.Join(g.Tests[1].Output, "\n"), "something went wrong")
	assert.Equal(t, "SKIP", g.Tests[2].Result)
	assert.Len(t, g.KernelProblems(), 2)

	f := strings.Join(g.Failures(true), "\n")
	for _, want := range []string{"status 1", "TestB: FAIL", "TestC: SKIP", "WARNING: CPU: 0", "Call Trace"} {
		assert.Contains(t, f, want)
	}
}

func TestParseConsoleCutOff(t *testing.T) {
	cut := sampleConsole[:strings.Index(sampleConsole, "--- PASS: TestA")]
	g := ParseConsole([]byte(cut))
	assert.Equal(t, -1, g.ExitCode)
	f := strings.Join(g.Failures(true), "\n")
	assert.Contains(t, f, "never reached the end")
	assert.Contains(t, f, "TestA never finished")
}

func TestKernelProblemsClean(t *testing.T) {
	g := ParseConsole([]byte("KCR-GUEST-BEGIN\n=== RUN   TestA\n--- PASS: TestA (0.00s)\nKCR-DMESG-BEGIN\n" +
		"<6>[0.1] kmemleak: Kernel memory leak detector initialized (mem pool available: 15682)\n" +
		"<6>[0.2] Freeing unused kernel image (initmem) memory: 2000K\nKCR-DMESG-END\nKCR-GUEST-END 0\n"))
	assert.Empty(t, g.Failures(true))
}

// A restored task's user-mode fault is logged by the kernel ("traps:"),
// and is no kernel bug; the kernel's own general protection fault is.
func TestKernelProblemsUserFault(t *testing.T) {
	user := "<6>[9.1] traps: rt_signals[52] general protection fault ip:401b54 sp:7fffffffe790 error:0 in rt_signals[401000+7a000]"
	kernel := "<4>[9.2] general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI"
	g := ParseConsole([]byte("KCR-GUEST-BEGIN\n=== RUN   TestA\n--- PASS: TestA (0.00s)\nKCR-DMESG-BEGIN\n" +
		user + "\n" + kernel + "\nKCR-DMESG-END\nKCR-GUEST-END 0\n"))
	assert.Equal(t, []string{kernel}, g.KernelProblems())
}

func TestLookupArch(t *testing.T) {
	for _, n := range []string{"x86_64", "s390x", "ppc64le"} {
		a, err := LookupArch(n)
		require.NoError(t, err)
		assert.Equal(t, n, a.Name)
	}
	_, err := LookupArch("foo")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ppc64le, s390x, x86_64")
}
