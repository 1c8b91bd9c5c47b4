//go:build kcrguest

package guest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

func TestModuleLoads(t *testing.T) {
	if err := unloadModule(); err != nil {
		t.Fatalf("rmmod before the test: %v", err)
	}
	if err := loadModule(""); err != nil {
		t.Fatalf("insmod kcr.ko: %v", err)
	}
	if !moduleLoaded(t) {
		t.Fatal("kcr is not in /proc/modules after insmod")
	}
	if !strings.Contains(kernelLog(t), "kcr: loaded, ABI version") {
		t.Error("no load message in the kernel log")
	}
}

func TestDevicePresent(t *testing.T) {
	withModule(t)
	fi, err := os.Stat(kcr.DevicePath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is %v, not a character device", kcr.DevicePath, fi.Mode())
	}
	var st unix.Stat_t
	if err := unix.Stat(kcr.DevicePath, &st); err != nil {
		t.Fatal(err)
	}
	// misc devices have major 10
	if maj := unix.Major(st.Rdev); maj != 10 {
		t.Errorf("%s has major %d, want the misc major 10", kcr.DevicePath, maj)
	}
}

func TestVersionIoctl(t *testing.T) {
	withModule(t)
	d, err := kcr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v, err := d.Version()
	if err != nil {
		t.Fatal(err)
	}
	if v != uapi.KCR_ABI_VERSION {
		t.Fatalf("version ioctl = %d, want %d", v, uapi.KCR_ABI_VERSION)
	}
}

func TestUnknownIoctl(t *testing.T) {
	withModule(t)
	d, err := kcr.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, req := range []uint{
		uapi.CKPT_IOC_MAGIC<<8 | 0xff, // our magic, unknown number
		0x5401,                        // TCGETS: a tty ioctl
		0x40086601,                    // FS_IOC_GETFLAGS-like, other magic
		0,
	} {
		_, err := d.Ioctl(req, 0)
		if !errors.Is(err, unix.ENOTTY) {
			t.Errorf("ioctl %#x: got %v, want ENOTTY", req, err)
		}
	}
}

func TestReloadTenTimes(t *testing.T) {
	for i := 0; i < 10; i++ {
		if err := unloadModule(); err != nil {
			t.Fatalf("rmmod #%d: %v", i, err)
		}
		if _, err := os.Stat(kcr.DevicePath); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("after rmmod #%d: %s still there (%v)", i, kcr.DevicePath, err)
		}
		if err := loadModule(""); err != nil {
			t.Fatalf("insmod #%d: %v", i, err)
		}
		d, err := kcr.Open()
		if err != nil {
			t.Fatalf("after insmod #%d: %v", i, err)
		}
		v, err := d.Version()
		d.Close()
		if err != nil || v != uapi.KCR_ABI_VERSION {
			t.Fatalf("after insmod #%d: version %d, %v", i, v, err)
		}
	}
}

// A symbol that kallsyms cannot resolve must fail the load with a message
// naming it.
func TestMissingSymbolFailsLoad(t *testing.T) {
	if err := unloadModule(); err != nil {
		t.Fatal(err)
	}
	const sym = "kcr_no_such_symbol_for_test"
	err := loadModule("kcr_test_missing_symbol=" + sym)
	if err == nil {
		t.Fatal("insmod with an unresolvable symbol succeeded")
	}
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("insmod error = %v, want ENOENT", err)
	}
	if moduleLoaded(t) {
		t.Error("module is loaded after a failed init")
	}
	if want := "kcr: cannot resolve kernel symbol " + sym; !strings.Contains(kernelLog(t), want) {
		t.Errorf("kernel log lacks %q", want)
	}
	if err := loadModule(""); err != nil {
		t.Fatalf("insmod after the failed one: %v", err)
	}
}
