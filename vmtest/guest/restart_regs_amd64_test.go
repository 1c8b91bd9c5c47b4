//go:build kcrguest

package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

// The x86-64 user registers survive a restart (rt_regs_x86): general
// registers, flags, XMM/YMM, x87, MXCSR, PKRU, segment selectors, the FS
// and GS bases, with the vDSO working after. "self" checkpoints itself
// from inline assembly with the registers live across the ioctl;
// "external" is frozen and checkpointed in the middle of a user-mode
// loop, so that every register is in the image. "corrupt" restarts
// images whose CPU record or arch header is damaged: a clean errno, a
// message, no task left.
func TestRestartRegsX86(t *testing.T) {
	t.Run("self", func(t *testing.T) {
		rt := selfRoundTrip(t, "rt_regs_x86")
		requireRegsTested(t, rt)
	})
	t.Run("external", func(t *testing.T) {
		d := device(t)
		rt := externalCheckpoint(t, d, "rt_regs_x86", "external")
		if err := restartLogFile(t, d, rt); err != nil {
			t.Fatalf("restart: %v\n%s", err, rt.Log)
		}
		releaseRegsLoop(t, rt)
		rt.wait(t, false)
		rt.RequirePass(t)
		requireRegsTested(t, rt)
	})
	t.Run("corrupt", testRestartRegsX86Corrupt)
}

// requireRegsTested fails if the workload skipped a register group that
// this CPU has (AVX: YMM; OSPKE: PKRU; FSGSBASE for user mode).
func requireRegsTested(t *testing.T, rt *roundTrip) {
	t.Helper()
	tested := " " + rt.reportLine("tested:") + " "
	flags := cpuFlags(t)
	for _, c := range []struct{ cpu, group string }{
		{"avx", "ymm"}, {"ospke", "pkru"}, {"fsgsbase", "fsgsbase"},
	} {
		if strings.Contains(flags, " "+c.cpu+" ") && !strings.Contains(tested, " "+c.group+" ") {
			t.Errorf("the CPU has %s but the workload did not test %s (tested:%s)", c.cpu, c.group, tested)
		}
	}
	t.Logf("tested:%s", tested)
}

// cpuFlags is the flags line of /proc/cpuinfo, with a blank before and
// after every flag.
func cpuFlags(t *testing.T) string {
	t.Helper()
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(l, "flags"); ok {
			return " " + strings.TrimLeft(v, "\t :") + " "
		}
	}
	t.Fatal("no flags in /proc/cpuinfo")
	return ""
}

// taskSizeMax is the kernel's TASK_SIZE_MAX: the first address above
// user space (5-level paging keeps la57 in the flags).
func taskSizeMax(t *testing.T) uint64 {
	if strings.Contains(cpuFlags(t), " la57 ") {
		return 1<<56 - 4096
	}
	return 1<<47 - 4096
}

// restartLogFile is restartImage with the module's messages going to a
// file rather than a pipe: the restarted workload spins until we write
// its flag, and while the restarted task still holds our descriptors
// (they are inherited through kernel_clone until the file table is
// restored), it would hold the pipe open.
func restartLogFile(t *testing.T, d *kcr.Device, rt *roundTrip) error {
	t.Helper()
	img, err := os.Open(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	logf, err := os.CreateTemp(t.TempDir(), "restart-log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	o := rt.Opts
	o.Log = logf
	rt.Pid, err = d.Restart(img, o)
	b, _ := os.ReadFile(logf.Name())
	rt.Log = string(b)
	if err == nil {
		pid := rt.Pid
		t.Cleanup(func() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			_, _ = syscall.Wait4(pid, nil, 0, nil)
		})
	}
	return err
}

// releaseRegsLoop ends the restarted workload's spinning loop: it writes
// the flag the loop polls through /proc/PID/mem.
func releaseRegsLoop(t *testing.T, rt *roundTrip) {
	t.Helper()
	addr, err := strconv.ParseUint(rt.reportLine("go-flag"), 0, 64)
	if err != nil {
		t.Fatalf("no go-flag address in the report: %v\n%s", err, rt.Report())
	}
	mem, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", rt.Pid), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if _, err := mem.WriteAt([]byte{1}, int64(addr)); err != nil {
		t.Fatalf("writing the go flag of pid %d at %#x: %v", rt.Pid, addr, err)
	}
}

func testRestartRegsX86Corrupt(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_regs_x86")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	recs := imageRecords(t, img)
	find := func(typ uint32) recordPos {
		for _, r := range recs {
			if r.Type == typ {
				return r
			}
		}
		t.Fatalf("no record of type %d", typ)
		return recordPos{}
	}
	le := binary.LittleEndian
	cpu := find(uapi.CKPT_HDR_CPU_X86)
	arch := find(uapi.CKPT_HDR_HEADER_ARCH)
	var c uapi.CkptHdrCpuX86
	var ha uapi.CkptHdrHeaderArch
	var fx struct {
		Cwd, Swd, Twd, Fop uint16
		Rip, Rdp           uint64
		Mxcsr              uint32
	}
	payload := int64(unsafe.Sizeof(c))
	fpuFormat := le.Uint32(img[cpu.Offset+int64(unsafe.Offsetof(c.FpuFormat)):])
	fpuSize := le.Uint32(img[cpu.Offset+int64(unsafe.Offsetof(c.FpuSize)):])
	xfeatures := le.Uint64(img[arch.Offset+int64(unsafe.Offsetof(ha.Xfeatures)):])
	xstateSize := le.Uint32(img[arch.Offset+int64(unsafe.Offsetof(ha.XstateSize)):])
	t.Logf("FPU format %d, %d bytes; XCR0 %#x, XSAVE area %d bytes", fpuFormat, fpuSize, xfeatures, xstateSize)

	type edit struct {
		name string
		rec  recordPos
		off  int64 // in the record
		val  uint64
		size int // 4 or 8
		want syscall.Errno
	}
	edits := []edit{
		{"kernel cs", cpu, int64(unsafe.Offsetof(c.Cs)), 0x10, 8, syscall.EINVAL},
		{"kernel ss", cpu, int64(unsafe.Offsetof(c.Ss)), 0x18, 8, syscall.EINVAL},
		{"null ss", cpu, int64(unsafe.Offsetof(c.Ss)), 0, 8, syscall.EINVAL},
		{"kernel ds", cpu, int64(unsafe.Offsetof(c.Ds)), 0x18, 8, syscall.EINVAL},
		{"kernel fs", cpu, int64(unsafe.Offsetof(c.Fs)), 0x10, 8, syscall.EINVAL},
		{"gs beyond 16 bits", cpu, int64(unsafe.Offsetof(c.Gs)), 0x1002b, 8, syscall.EINVAL},
		{"kernel fs base", cpu, int64(unsafe.Offsetof(c.FsBase)), 0xffff888000000000, 8, syscall.EINVAL},
		{"fs base at TASK_SIZE_MAX", cpu, int64(unsafe.Offsetof(c.FsBase)), taskSizeMax(t), 8, syscall.EINVAL},
		{"non-canonical gs base", cpu, int64(unsafe.Offsetof(c.GsBase)), 1 << 60, 8, syscall.EINVAL},
		{"FPU format", cpu, int64(unsafe.Offsetof(c.FpuFormat)), 7, 4, syscall.EINVAL},
		{"FPU size larger than the payload", cpu, int64(unsafe.Offsetof(c.FpuSize)), uint64(fpuSize) + 64, 4, syscall.EINVAL},
		{"FPU size smaller than the payload", cpu, int64(unsafe.Offsetof(c.FpuSize)), uint64(fpuSize) - 64, 4, syscall.EINVAL},
		{"MXCSR reserved bits", cpu, payload + int64(unsafe.Offsetof(fx.Mxcsr)), 0xffff1f80, 4, syscall.EINVAL},
		{"unknown CPU capability", arch, int64(unsafe.Offsetof(ha.CpuCaps)), 0x100 | uint64(le.Uint64(img[arch.Offset+int64(unsafe.Offsetof(ha.CpuCaps)):])), 8, syscall.EINVAL},
	}
	if fpuFormat == uapi.CKPT_X86_FPU_XSAVE {
		hdr := payload + 512 // the XSAVE header: XSTATE_BV, XCOMP_BV, reserved
		bv := le.Uint64(img[cpu.Offset+hdr:])
		missing := uint64(0)
		for b := 2; b < 63; b++ {
			if xfeatures&(1<<b) == 0 {
				missing = 1 << b
				break
			}
		}
		edits = append(edits,
			edit{"XSAVE compacted format", cpu, hdr + 8, 1<<63 | bv, 8, syscall.EINVAL},
			edit{"XSAVE header reserved bytes", cpu, hdr + 16, 1, 8, syscall.EINVAL},
			edit{"XSTATE_BV beyond XCR0", cpu, hdr, bv | missing, 8, syscall.EINVAL},
			edit{"XSAVE feature this CPU lacks", arch, int64(unsafe.Offsetof(ha.Xfeatures)), xfeatures | missing, 8, syscall.EOPNOTSUPP},
			edit{"XSAVE area larger than this CPU's", arch, int64(unsafe.Offsetof(ha.XstateSize)), uint64(xstateSize) + 4096, 4, syscall.EOPNOTSUPP},
			edit{"XSAVE without x87", arch, int64(unsafe.Offsetof(ha.Xfeatures)), xfeatures &^ 1, 8, syscall.EINVAL},
		)
	}
	for _, e := range edits {
		bad := bytes.Clone(img)
		at := e.rec.Offset + e.off
		if e.size == 8 {
			le.PutUint64(bad[at:], e.val)
		} else {
			le.PutUint32(bad[at:], uint32(e.val))
		}
		_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
		if !errors.Is(err, e.want) || !strings.Contains(log, "x86") {
			t.Errorf("%s: %v, log %q; want %v and an x86 message", e.name, err, log, e.want)
		} else {
			t.Logf("%s: %v: %s", e.name, err, strings.TrimSpace(log))
		}
		requireNoChildren(t, e.name)
	}
	// The unchanged image restarts.
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("the unchanged image: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}
