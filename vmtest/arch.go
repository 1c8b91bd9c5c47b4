// Package vmtest boots Debian kernels for x86-64, s390x and ppc64le in QEMU
// with a u-root initramfs holding kcr.ko, the kcr tools and the in-guest
// tests, and turns what the guest prints into Go test results.
package vmtest

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
)

// Arch describes one guest architecture.
type Arch struct {
	Name    string   // kcr's name, as in `make vmtest ARCH=`
	GOARCH  string   // Go's name
	Kbuild  string   // the kernel's ARCH=
	Cross   string   // CROSS_COMPILE= prefix on an x86-64 host
	QEMU    []string // QEMU binary and machine options
	Console string   // the console= the kernel needs
}

// Arches are the supported guests. The machine options are the ones seen
// booting the Debian kernels under plain emulation: TCG's "max" CPUs on x86
// and s390x (AVX and the vector facility for the register tests), POWER9
// on pseries.
var Arches = map[string]Arch{
	"x86_64": {
		Name: "x86_64", GOARCH: "amd64", Kbuild: "x86", Cross: "",
		QEMU:    []string{"qemu-system-x86_64", "-cpu", "max"},
		Console: "ttyS0",
	},
	"s390x": {
		Name: "s390x", GOARCH: "s390x", Kbuild: "s390", Cross: "s390x-linux-gnu-",
		QEMU:    []string{"qemu-system-s390x", "-M", "s390-ccw-virtio", "-cpu", "max"},
		Console: "ttysclp0",
	},
	"ppc64le": {
		Name: "ppc64le", GOARCH: "ppc64le", Kbuild: "powerpc", Cross: "powerpc64le-linux-gnu-",
		QEMU: []string{"qemu-system-ppc64", "-cpu", "power9",
			// The spectre capabilities default to "workaround" states
			// that TCG cannot provide; asking for them only warns.
			"-M", "pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off"},
		Console: "hvc0",
	},
}

// ArchNames returns the supported architecture names, sorted.
func ArchNames() []string {
	var n []string
	for k := range Arches {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// LookupArch returns the named architecture or an error listing the valid
// choices.
func LookupArch(name string) (Arch, error) {
	a, ok := Arches[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown arch %q: valid choices are %s", name, strings.Join(ArchNames(), ", "))
	}
	return a, nil
}

// qemuCommand is the QEMU command line for a guest with memMiB of memory.
// Guests run emulated (TCG) unless KCR_ACCEL=kvm asks for KVM on a host of
// the same arch: a /dev/kvm node alone says nothing about whether KVM
// works (on the nested hosts we run on it exists and QEMU aborts setting
// MSRs the CPU model needs), and emulation is what CI measures.
func (a Arch) qemuCommand(memMiB int) []string {
	cmd := append([]string{}, a.QEMU...)
	cmd = append(cmd, "-m", fmt.Sprint(memMiB), "-smp", "2", "-nographic", "-no-reboot")
	if a.GOARCH == runtime.GOARCH && os.Getenv("KCR_ACCEL") == "kvm" {
		cmd = append(cmd, "-accel", "kvm")
	}
	return cmd
}
