//go:build kcrguest && (s390x || ppc64le)

package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
)

// A CPU record with a field that no user task can have, or of the wrong
// length, fails the restart with EINVAL and a message; no task is left.
func TestRestartRegsCorrupt(t *testing.T) {
	type edit struct {
		name string
		off  uintptr // in the CPU record
		// The field's new value from its old one.
		set  func(old uint64) uint64
		size int // bytes: 4 or 8
	}
	var edits []edit
	var cpuType uint32
	var prefix string
	switch runtime.GOARCH {
	case "s390x":
		var h uapi.CkptHdrCpuS390
		cpuType, prefix = uapi.CKPT_HDR_CPU_S390, "s390:"
		const (
			pstate = 0x0001000000000000 // PSW_MASK_PSTATE
			asc    = 0x0000C00000000000 // PSW_MASK_ASC
			ea     = 0x0000000100000000 // PSW_MASK_EA
			key    = 0x00F0000000000000 // PSW_MASK_KEY
		)
		edits = []edit{
			{"supervisor state", unsafe.Offsetof(h.PswMask), func(v uint64) uint64 { return v &^ pstate }, 8},
			{"home space", unsafe.Offsetof(h.PswMask), func(v uint64) uint64 { return v | asc }, 8},
			{"31-bit addressing", unsafe.Offsetof(h.PswMask), func(v uint64) uint64 { return v &^ ea }, 8},
			{"storage key", unsafe.Offsetof(h.PswMask), func(v uint64) uint64 { return v | key }, 8},
			{"odd PSW address", unsafe.Offsetof(h.PswAddr), func(v uint64) uint64 { return v | 1 }, 8},
			{"reserved fpc bit", unsafe.Offsetof(h.Fpc), func(v uint64) uint64 { return v | 0x80 }, 4},
			{"unknown flags", unsafe.Offsetof(h.Flags), func(v uint64) uint64 { return v | 0x100 }, 4},
			{"fpr and vector register differ", unsafe.Offsetof(h.Fprs), func(v uint64) uint64 { return v ^ 1 }, 8},
			{"svc instruction length", unsafe.Offsetof(h.SystemCall), func(v uint64) uint64 { return 0x30036 }, 4},
			// 1 is "no address", else a PSW address (even).
			{"odd restart block address", unsafe.Offsetof(h.RestartAddr), func(v uint64) uint64 { return 0x1003 }, 8},
		}
	case "ppc64le":
		var h uapi.CkptHdrCpuPpc64
		cpuType, prefix = uapi.CKPT_HDR_CPU_PPC64, "ppc64:"
		const (
			msrPR = 1 << 14
			msrHV = 1 << 60
			msrSF = 1 << 63
			msrTS = 3 << 33 // transactional state
		)
		edits = []edit{
			{"MSR_PR clear", unsafe.Offsetof(h.Msr), func(v uint64) uint64 { return v &^ msrPR }, 8},
			{"MSR_HV", unsafe.Offsetof(h.Msr), func(v uint64) uint64 { return v | msrHV }, 8},
			{"32-bit MSR", unsafe.Offsetof(h.Msr), func(v uint64) uint64 { return v &^ msrSF }, 8},
			{"transaction", unsafe.Offsetof(h.Msr), func(v uint64) uint64 { return v | msrTS }, 8},
			{"unaligned nip", unsafe.Offsetof(h.Nip), func(v uint64) uint64 { return v | 2 }, 8},
			{"kernel nip", unsafe.Offsetof(h.Nip), func(v uint64) uint64 { return 0xc000000000000000 }, 8},
			{"trap", unsafe.Offsetof(h.Trap), func(v uint64) uint64 { return v | 0x4 }, 8},
			{"no trap", unsafe.Offsetof(h.Trap), func(v uint64) uint64 { return 0 }, 8},
			{"64-bit CR", unsafe.Offsetof(h.Ccr), func(v uint64) uint64 { return v | 1<<40 }, 8},
			{"VSCR", unsafe.Offsetof(h.Vscr), func(v uint64) uint64 { return v | 0x100 }, 4},
			{"unknown flags", unsafe.Offsetof(h.Flags), func(v uint64) uint64 { return v | 0x100 }, 4},
			// Priorities above medium (4) are privileged.
			{"PPR medium high", unsafe.Offsetof(h.Ppr), func(v uint64) uint64 { return 5 << 50 }, 8},
			{"PPR very high", unsafe.Offsetof(h.Ppr), func(v uint64) uint64 { return 7 << 50 }, 8},
		}
	default:
		t.Fatalf("no CPU record edits for %s", runtime.GOARCH)
	}

	d := device(t)
	rt := selfCheckpoint(t, "rt_task")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if runtime.GOARCH == "s390x" {
		order = binary.BigEndian
	}
	var cpu *recordPos
	for _, r := range imageRecords(t, img) {
		if r.Type == cpuType {
			r := r
			cpu = &r
			break
		}
	}
	if cpu == nil {
		t.Fatalf("no %s record", image.TypeName(cpuType))
	}

	try := func(name string, bad []byte) {
		t.Helper()
		_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
		if !errors.Is(err, syscall.EINVAL) || !strings.Contains(log, prefix) {
			t.Errorf("%s: %v, log %q; want EINVAL and a %s message", name, err, log, prefix)
		}
		requireNoChildren(t, name)
	}
	for _, e := range edits {
		bad := bytes.Clone(img)
		at := cpu.Offset + int64(e.off)
		if e.size == 8 {
			order.PutUint64(bad[at:], e.set(order.Uint64(bad[at:])))
		} else {
			order.PutUint32(bad[at:], uint32(e.set(uint64(order.Uint32(bad[at:])))))
		}
		try(e.name, bad)
	}

	// A record longer than the struct is refused by its reader.
	bad := bytes.Clone(img)
	order.PutUint32(bad[cpu.Offset+4:], cpu.Len+8)
	_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
	if !errors.Is(err, syscall.EINVAL) || log == "" {
		t.Errorf("CPU record length %d: %v, log %q; want EINVAL and a message", cpu.Len+8, err, log)
	}
	requireNoChildren(t, "CPU record length")

	// The unpatched image restarts.
	rt2 := &roundTrip{Image: rt.Image, OrigPid: rt.OrigPid}
	if err := restartImage(t, d, rt2); err != nil {
		t.Fatalf("restart of the good image: %v\n%s", err, rt2.Log)
	}
	rt2.wait(t, false)
	rt2.RequirePass(t)
}
