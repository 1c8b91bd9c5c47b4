package vmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A kernel package that the archive does not have must be named in the
// error.
func TestKernelsMissingPackage(t *testing.T) {
	cmd := exec.Command("./kernels.sh", "x86_64")
	cmd.Env = append(os.Environ(), "KCR_KERNEL_META_x86_64=linux-image-kcr-no-such-flavour")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "linux-image-kcr-no-such-flavour:amd64")
}

// The same for the 6.12 series, whose meta package has its own variable;
// a meta package chosen by hand does not fall back to Debian 13.
func TestKernelsMissingPackage612(t *testing.T) {
	cmd := exec.Command("./kernels.sh", "-s", "6.12", "x86_64")
	cmd.Env = append(os.Environ(), "KCR_KERNEL_META_x86_64_6_12=linux-image-kcr-no-such-flavour")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "linux-image-kcr-no-such-flavour:amd64")
	assert.NotContains(t, string(out), "trixie")
}

func TestKernelsRefusesUnknownSeries(t *testing.T) {
	out, err := exec.Command("./kernels.sh", "-s", "5.10", "x86_64").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "valid: 6.1 6.12")
}

// An unreachable archive (apt pointed at a closed local port, with an empty
// cache) must also end in an error naming the package.
func TestKernelsUnreachableArchive(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "apt.conf")
	require.NoError(t, os.WriteFile(conf, []byte(
		"Acquire::http::Proxy \"http://127.0.0.1:9\";\nAcquire::https::Proxy \"http://127.0.0.1:9\";\nAcquire::Retries \"0\";\n"), 0o644))
	cmd := exec.Command("./kernels.sh", "s390x")
	cmd.Env = append(os.Environ(), "APT_CONFIG="+conf, "KCR_CACHE="+filepath.Join(dir, "cache"))
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	assert.Contains(t, string(out), "linux-image-s390x:s390x")
}

func TestBuildKmodRefusesUnknownArch(t *testing.T) {
	out, err := exec.Command("./build-kmod.sh", "foo").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "valid: ppc64le s390x x86_64")
}

func TestDebugKernelRefusesUnknownArch(t *testing.T) {
	out, err := exec.Command("./debug-kernel.sh", "foo").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "valid: x86_64 s390x ppc64le")
}
