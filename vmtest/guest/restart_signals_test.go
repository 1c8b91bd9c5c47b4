//go:build kcrguest

package guest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/kcr-dev/kcr/uapi"
)

// Handlers, masks, pending signals with their siginfo, the alternate
// stack, resource limits and interval timers, checked by rt_signals.
func TestRestartSignals(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_signals")
	if img, err := os.ReadFile(rt.Image); err == nil {
		t.Logf("pending signals in the image: %s", pendingOf(t, img))
	}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart of rt_signals: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}

// pendingOf describes the SIGPENDING records of an image: per record,
// shared or not, and each queued signal with its si_code.
func pendingOf(t *testing.T, img []byte) string {
	var hp uapi.CkptHdrSigpending
	var si uapi.CkptSiginfo
	order := imageOrder(img)
	var b strings.Builder
	for _, r := range imageRecords(t, img) {
		if r.Type != uapi.CKPT_HDR_SIGPENDING {
			continue
		}
		rec := img[r.Offset : r.Offset+int64(r.Len)]
		fmt.Fprintf(&b, "[shared %d set %#x:", order.Uint32(rec[unsafe.Offsetof(hp.Shared):]),
			order.Uint64(rec[unsafe.Offsetof(hp.Signal):]))
		for p := unsafe.Sizeof(hp); p+unsafe.Sizeof(si) <= uintptr(len(rec)); p += unsafe.Sizeof(si) {
			fmt.Fprintf(&b, " %d/%d", int32(order.Uint32(rec[p+unsafe.Offsetof(si.SiSigno):])),
				int32(order.Uint32(rec[p+unsafe.Offsetof(si.SiCode):])))
		}
		b.WriteString("]")
	}
	return b.String()
}

// nanosleepNr is the number of nanosleep(2) on the guest's arch.
var nanosleepNr = map[string]string{"amd64": "35", "s390x": "162", "ppc64le": "162"}

// inNanosleep tells whether pid sleeps in nanosleep(2) now.
func inNanosleep(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/syscall")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 0 && f[0] == nanosleepNr[runtime.GOARCH]
}

// reportNs is the time in ns that the workload reported as "key NS".
func reportNs(t *testing.T, rt *roundTrip, key string) time.Time {
	t.Helper()
	v, err := strconv.ParseInt(rt.reportLine(key), 10, 64)
	if err != nil {
		t.Fatalf("no %q in the report:\n%s", key, rt.Report())
	}
	return time.Unix(0, v)
}

// A process checkpointed (from outside) in the middle of a 5 s
// nanosleep() sleeps, once restarted, the time it had left: neither 5 s
// again nor nothing.
func TestRestartNanosleep(t *testing.T) {
	sleepRoundTrip(t, "rt_signals", inNanosleep, "sleep")
}

// sleepRoundTrip runs workload name, which reports t0 and sleeps 5 s
// from it, then t1 when woken; once asleep (asleep(pid)) and a second
// later it is checkpointed from outside, killed, and restarted 1.5 s
// later. The restarted process must sleep what was left.
func sleepRoundTrip(t *testing.T, name string, asleep func(pid int) bool, args ...string) {
	t.Helper()
	d := device(t)
	rt, w := startRoundTrip(t, name, args...)
	waitUntil(t, rt, w, name+" did not get to sleep", func() bool { return asleep(rt.OrigPid) })
	time.Sleep(time.Second)
	ckptAt := checkpointFrozen(t, d, rt, w)

	time.Sleep(1500 * time.Millisecond)
	restartAt := time.Now()
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	restartTook := time.Since(restartAt)
	rt.wait(t, false)
	rt.RequirePass(t)

	t0, t1 := reportNs(t, rt, "t0"), reportNs(t, rt, "t1")
	left := t0.Add(5 * time.Second).Sub(ckptAt)
	slept := t1.Sub(restartAt)
	t.Logf("%v left at checkpoint, slept %v after the restart (which took %v)", left, slept, restartTook)
	// The checkpoint took a moment after ckptAt, the restart after
	// restartAt; the sleep resumes somewhere within the restart, which
	// is slow in an emulated guest, and very slow on a debug kernel.
	if slept < left-time.Second || slept > left+1500*time.Millisecond+restartTook {
		t.Fatalf("slept %v after the restart, %v were left at the checkpoint", slept, left)
	}
}

// Corrupted signal records: a clean errno and a message, no task.
func TestRestartSignalsCorrupt(t *testing.T) {
	rt := selfCheckpoint(t, "rt_signals")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var sh uapi.CkptHdrSighand
	var sa uapi.CkptSigaction
	var sg uapi.CkptHdrSignal
	var rl uapi.CkptRlimit
	var st uapi.CkptHdrSignalTask
	var sp uapi.CkptHdrSigpending
	var si uapi.CkptSiginfo
	var rb uapi.CkptHdrRestartBlock
	var th uapi.CkptHdrThread
	action := func(sig int) uintptr { return unsafe.Sizeof(sh) + uintptr(sig-1)*unsafe.Sizeof(sa) }
	const nofile = 7 // RLIMIT_NOFILE on every arch
	// Addresses beyond every arch's user space (s390x has 2^64 - 4 KiB).
	tryEdits(t, img, []recordEdit{
		{"handler flags", uapi.CKPT_HDR_SIGHAND, action(int(syscall.SIGUSR1)) + unsafe.Offsetof(sa.SaFlags), 1 << 40, 8, syscall.EINVAL, "handler flags"},
		{"SIGKILL handler", uapi.CKPT_HDR_SIGHAND, action(int(syscall.SIGKILL)) + unsafe.Offsetof(sa.SaHandler), 0x1000, 8, syscall.EINVAL, "cannot be changed"},
		{"handler address", uapi.CKPT_HDR_SIGHAND, action(int(syscall.SIGUSR2)) + unsafe.Offsetof(sa.SaHandler), ^uint64(0) - 8, 8, syscall.EINVAL, "handler"},
		{"number of handlers", uapi.CKPT_HDR_SIGHAND, unsafe.Offsetof(sh.NrSigactions), 65, 4, syscall.EINVAL, "actions"},
		{"rlimit cur above max", uapi.CKPT_HDR_SIGNAL, unsafe.Offsetof(sg.Rlim) + nofile*unsafe.Sizeof(rl) + unsafe.Offsetof(rl.RlimCur), 1 << 62, 8, syscall.EINVAL, "above hard"},
		{"itimer value", uapi.CKPT_HDR_SIGNAL, unsafe.Offsetof(sg.ItReal) + unsafe.Offsetof(sg.ItReal.Value), 1 << 63, 8, syscall.EINVAL, "interval timer"},
		{"signal number out of range", uapi.CKPT_HDR_SIGPENDING, unsafe.Sizeof(sp) + unsafe.Offsetof(si.SiSigno), 99, 4, syscall.EINVAL, "out of range"},
		{"pending count", uapi.CKPT_HDR_SIGPENDING, unsafe.Offsetof(sp.NrPending), 5000, 4, syscall.EINVAL, "pending signals"},
		{"pending shared", uapi.CKPT_HDR_SIGPENDING, unsafe.Offsetof(sp.Shared), 0, 4, syscall.EINVAL, "shared"},
		{"blocked SIGKILL", uapi.CKPT_HDR_SIGNAL_TASK, unsafe.Offsetof(st.Blocked), 1 << 8, 8, syscall.EINVAL, "blocked"},
		{"sigaltstack size", uapi.CKPT_HDR_SIGNAL_TASK, unsafe.Offsetof(st.SasSsSize), 1, 8, syscall.EINVAL, "sigaltstack"},
		{"restart block type", uapi.CKPT_HDR_RESTART_BLOCK, unsafe.Offsetof(rb.FunctionType), 77, 4, syscall.EINVAL, "function type"},
		{"thread flags", uapi.CKPT_HDR_THREAD, unsafe.Offsetof(th.Flags), 0x80, 4, syscall.EINVAL, "thread: flags"},
	})
}
