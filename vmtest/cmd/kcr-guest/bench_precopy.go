package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// preCopyRow is one row of the pre-copy benchmark: a process of mib MiB
// that writes permille thousandths of its pages per second, stride pages
// apart.
type preCopyRow struct {
	mib, permille, stride int
	full, pre             time.Duration // frozen, best of memRounds
	rounds, written       int           // of the best pre-copy
}

var (
	frozenLine = regexp.MustCompile(`frozen for ([0-9.]+) s`)
	preLine    = regexp.MustCompile(`pre-copy: (\d+) rounds`)
	writtenRe  = regexp.MustCompile(`(\d+) pages written then`)
)

// runPreCopyBench measures how long `kcr checkpoint --freeze` keeps a
// process that writes its memory frozen, without and with --pre-copy:
// writing 1% and 10% of its pages per second, in order (a moving window,
// as a log or a cache refill writes) and scattered (every write in
// another place: each marks a whole transparent huge page written).
func runPreCopyBench(mib int) int {
	var rows []preCopyRow
	for _, permille := range []int{10, 100} {
		for _, stride := range []int{1, 40503} {
			r, err := benchPreCopy(mib, permille, stride)
			if err != nil {
				fmt.Printf("kcr-guest: pre-copy benchmark of %d MiB at %d‰/s: %v\n", mib, permille, err)
				return 1
			}
			rows = append(rows, r)
		}
	}
	fmt.Printf("\nFrozen time of kcr checkpoint --freeze of one process of %d MiB that keeps writing its pages (seconds, best of %d):\n", mib, memRounds)
	fmt.Printf("%8s %10s %12s %12s %8s %8s %10s\n", "pages/s", "order", "full", "pre-copy", "ratio", "rounds", "written")
	for _, r := range rows {
		order := "in order"
		if r.stride != 1 {
			order = "scattered"
		}
		fmt.Printf("%7.1f%% %10s %12.3f %12.3f %7.1f%% %8d %10d\n", float64(r.permille)/10, order,
			r.full.Seconds(), r.pre.Seconds(), 100*r.pre.Seconds()/r.full.Seconds(), r.rounds, r.written)
	}
	return 0
}

func benchPreCopy(mib, permille, stride int) (preCopyRow, error) {
	r := preCopyRow{mib: mib, permille: permille, stride: stride, full: time.Hour, pre: time.Hour}
	ready := filepath.Join(os.TempDir(), "bench-dirty.ready")
	_ = os.Remove(ready)
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "bench"), "dirty", strconv.Itoa(mib),
		strconv.Itoa(permille), strconv.Itoa(stride), ready)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	pid := cmd.Process.Pid
	defer func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		_ = cmd.Wait()
	}()
	if err := waitReady(pid, ready); err != nil {
		return r, err
	}
	// The image and the pre-copy's store together hold twice the
	// process: more than the root tmpfs has room for at 1 GiB.
	dir := filepath.Join(os.TempDir(), "bench-precopy")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=90%"); err != nil {
		return r, fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	img := filepath.Join(dir, "bench-precopy.img")
	for range memRounds {
		for _, pre := range []bool{false, true} {
			// The last image's pages are freed before, untimed.
			_ = os.Remove(img)
			args := []string{"checkpoint", "--freeze", strconv.Itoa(pid), "-o", img}
			if pre {
				args = append(args, "--pre-copy")
			}
			out, err := exec.Command("/bin/kcr", args...).CombinedOutput()
			if err != nil {
				return r, fmt.Errorf("kcr %v: %v\n%s", args, err, out)
			}
			m := frozenLine.FindSubmatch(out)
			if m == nil {
				return r, fmt.Errorf("kcr %v said %q", args, out)
			}
			s, _ := strconv.ParseFloat(string(m[1]), 64)
			t := seconds(s)
			switch {
			case !pre:
				r.full = min(r.full, t)
			case t < r.pre:
				r.pre = t
				if m := preLine.FindSubmatch(out); m != nil {
					r.rounds, _ = strconv.Atoi(string(m[1]))
				}
				if m := writtenRe.FindSubmatch(out); m != nil {
					r.written, _ = strconv.Atoi(string(m[1]))
				}
			}
		}
	}
	// Still right after six checkpoints.
	h := &holder{pid: pid, ready: ready}
	return r, h.check()
}
