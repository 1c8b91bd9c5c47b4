//go:build kcrguest

package guest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

const moduleName = "kcr"

// loadModule inserts kcr.ko with the given parameters.
func loadModule(params string) error {
	f, err := os.Open(guestproto.Module)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.FinitModule(int(f.Fd()), params, 0)
}

// unloadModule removes kcr.ko; a module that is not loaded is not an error.
func unloadModule() error {
	err := unix.DeleteModule(moduleName, unix.O_NONBLOCK)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

// moduleLoaded tells whether kcr is in /proc/modules.
func moduleLoaded(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/modules")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, moduleName+" ") {
			return true
		}
	}
	return false
}

// withModule makes sure kcr.ko is loaded for the test.
func withModule(t *testing.T) {
	t.Helper()
	if moduleLoaded(t) {
		return
	}
	if err := loadModule(""); err != nil {
		t.Fatalf("loading %s: %v", guestproto.Module, err)
	}
}

// kernelLog returns the whole kernel log.
func kernelLog(t *testing.T) string {
	t.Helper()
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil {
		t.Fatalf("klogctl: %v", err)
	}
	buf := make([]byte, n)
	n, err = unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		t.Fatalf("klogctl: %v", err)
	}
	return string(buf[:n])
}
