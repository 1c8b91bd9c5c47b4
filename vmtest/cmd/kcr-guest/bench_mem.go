package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// memRounds: every figure of the memory benchmark is the best of this
// many runs.
const memRounds = 3

// criuPath is where the harness puts Debian's criu in the bench guest.
const criuPath = "/usr/sbin/criu"

// memResult is one row of the memory benchmark: a process holding mib
// MiB of a pattern (0: a tiny process of a few pages).
type memResult struct {
	mib                      int
	memcpyTouched, memcpyNew time.Duration // bench memcpy
	memcpyRep                time.Duration // bench memcpy's touched copy as the kernel copies (rep movsq)
	write                    time.Duration // bench write: touched memory into a file in /tmp
	ckpt, restart            time.Duration // kcr ioctls through lib, the tree frozen before
	cliCkpt, cliRestart      time.Duration // kcr checkpoint --freeze, kcr restart --detach
	cliCkptOwn               time.Duration // kcr checkpoint --freeze of the tiny process alone in its cgroup
	cliStart                 time.Duration // kcr version: the command's start-up, for the tiny process
	execC                    time.Duration // bench exit: starting any (C) program, for the tiny process
	ckptSteps, restartSteps  string        // KCR_TIMING's steps of the fastest CLI runs
	ckptOwnSteps             string        // and of the fastest cliCkptOwn
	mapRestart               time.Duration // kcr restart ioctl with RESTART_MAP_IMAGE
	criuDump, criuRestore    time.Duration // criu dump -R, criu restore -d
	kcrImage, criuImage      int64         // bytes
}

// A column of the table: its title and where its figure is.
type memColumn struct {
	name string // also the key of the kcr-bench-mem lines the host plots
	get  func(*memResult) time.Duration
}

var memColumns = []memColumn{
	{"memcpy", func(r *memResult) time.Duration { return r.memcpyTouched }},
	{"memcpy-new", func(r *memResult) time.Duration { return r.memcpyNew }},
	{"memcpy-rep", func(r *memResult) time.Duration { return r.memcpyRep }},
	{"write-tmpfs", func(r *memResult) time.Duration { return r.write }},
	{"kcr-ckpt", func(r *memResult) time.Duration { return r.ckpt }},
	{"kcr-cli-ckpt", func(r *memResult) time.Duration { return r.cliCkpt }},
	{"kcr-cli-ckpt-own", func(r *memResult) time.Duration { return r.cliCkptOwn }},
	{"kcr-cli-start", func(r *memResult) time.Duration { return r.cliStart }},
	{"exec-c", func(r *memResult) time.Duration { return r.execC }},
	{"criu-dump", func(r *memResult) time.Duration { return r.criuDump }},
	{"kcr-restart", func(r *memResult) time.Duration { return r.restart }},
	{"kcr-cli-restart", func(r *memResult) time.Duration { return r.cliRestart }},
	{"kcr-restart-map", func(r *memResult) time.Duration { return r.mapRestart }},
	{"criu-restore", func(r *memResult) time.Duration { return r.criuRestore }},
}

// runMemBench measures, for each size, kcr and CRIU checkpointing and
// restoring the same kind of process (vmtest/workloads/bench hold), with
// the images in the same place (/tmp, the initramfs' tmpfs), beside
// memcpy of that much memory and write(2) of it into a file there. It prints a table of seconds and ratios to
// memcpy, and one "kcr-bench-mem MIB COLUMN SECONDS" line per figure for
// the host's plot.
func runMemBench(sizes []string) int {
	// What CRIU needs of the kernel (vmtest.CRIUModuleFiles).
	mods, _ := filepath.Glob(filepath.Join(guestproto.CRIUModuleDir, "*.ko"))
	for _, m := range mods {
		if rc := loadModule(m, ""); rc != 0 {
			return rc
		}
	}
	d := benchDevice()
	if d == nil {
		return 1
	}
	defer d.Close()
	var rows []*memResult
	for _, s := range sizes {
		mib, err := strconv.Atoi(s)
		if err != nil || mib < 0 {
			fmt.Printf("kcr-guest: bad size %q\n", s)
			return 1
		}
		r, err := benchMem(d, mib)
		if err != nil {
			fmt.Printf("kcr-guest: memory benchmark of %d MiB: %v\n", mib, err)
			return 1
		}
		for _, c := range memColumns {
			if t := c.get(r); t > 0 {
				fmt.Printf("%s %d %s %.6f\n", guestproto.BenchMemPrefix, r.mib, c.name, t.Seconds())
			}
		}
		rows = append(rows, r)
	}
	printMemTable(rows)
	return 0
}

func printMemTable(rows []*memResult) {
	fmt.Printf("\nkcr and CRIU on one process holding N MiB, in this guest (seconds, best of %d; x: to memcpy of touched memory):\n", memRounds)
	fmt.Printf("%6s", "MiB")
	for _, c := range memColumns {
		fmt.Printf(" %16s", c.name)
	}
	fmt.Printf(" %10s %10s\n", "kcr MiB", "criu MiB")
	for _, r := range rows {
		fmt.Printf("%6d", r.mib)
		for _, c := range memColumns {
			t := c.get(r)
			switch {
			case t == 0:
				fmt.Printf(" %16s", "-")
			case r.memcpyTouched > 0 && c.name != "memcpy":
				fmt.Printf(" %8.3f %6.2fx", t.Seconds(), t.Seconds()/r.memcpyTouched.Seconds())
			default:
				fmt.Printf(" %16.3f", t.Seconds())
			}
		}
		fmt.Printf(" %10.1f %10.1f\n", float64(r.kcrImage)/(1<<20), float64(r.criuImage)/(1<<20))
	}
	fmt.Printf("\nWhere the fastest kcr command runs spent their time (KCR_TIMING, ms):\n")
	for _, r := range rows {
		fmt.Printf("%6d checkpoint --freeze: %s\n", r.mib, r.ckptSteps)
		if r.ckptOwnSteps != "" {
			fmt.Printf("%6d  in its own cgroup:  %s\n", r.mib, r.ckptOwnSteps)
		}
		fmt.Printf("%6d restart --detach:    %s\n", r.mib, r.restartSteps)
	}
}

func benchMem(d *kcr.Device, mib int) (*memResult, error) {
	r := &memResult{mib: mib}
	if mib > 0 {
		var touched, fresh, rep, write float64
		size := strconv.Itoa(mib)
		if err := benchBaseline("touched %g fresh %g rep %g", []any{&touched, &fresh, &rep}, "memcpy", size); err != nil {
			return nil, err
		}
		if err := benchBaseline("write %g", []any{&write}, "write", size, filepath.Join(os.TempDir(), "bench-write")); err != nil {
			return nil, err
		}
		r.memcpyTouched, r.memcpyNew, r.memcpyRep, r.write = seconds(touched), seconds(fresh), seconds(rep), seconds(write)
	}
	if err := benchKcr(d, r); err != nil {
		return nil, fmt.Errorf("kcr: %w", err)
	}
	if err := benchCRIU(r); err != nil {
		return nil, fmt.Errorf("criu: %w", err)
	}
	return r, nil
}

// benchBaseline runs the bench workload with args and scans its answer,
// the seconds of a baseline, with format into vals.
func benchBaseline(format string, vals []any, args ...string) error {
	out, err := exec.Command(filepath.Join(guestproto.BinDir, "bench"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("bench %s: %v\n%s", args[0], err, out)
	}
	if _, err := fmt.Sscanf(string(out), format, vals...); err != nil {
		return fmt.Errorf("bench %s said %q", args[0], out)
	}
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// A holder: bench hold, started in a session of its own with its stdio
// on /dev/null, as a daemon would be (CRIU wants no terminal).
type holder struct {
	pid   int
	ready string
	steps string // KCR_TIMING's steps of the kcr restart that brought it back
}

func startHolder(mib int) (*holder, error) {
	h := &holder{ready: filepath.Join(os.TempDir(), "bench-hold.ready")}
	_ = os.Remove(h.ready)
	cmd := exec.Command(filepath.Join(guestproto.BinDir, "bench"), "hold", strconv.Itoa(mib), h.ready)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h.pid = cmd.Process.Pid
	if err := waitReady(h.pid, h.ready); err != nil {
		h.kill()
		return nil, fmt.Errorf("bench hold %d %w", mib, err)
	}
	return h, nil
}

// kill kills the holder and reaps it (as parent or subreaper), so that
// its pid is free for the restore.
func (h *holder) kill() error {
	if err := unix.Kill(h.pid, unix.SIGKILL); err != nil {
		return err
	}
	var ws unix.WaitStatus
	_, err := unix.Wait4(h.pid, &ws, unix.WALL, nil)
	return err
}

// check asks the restored holder to check its memory.
func (h *holder) check() error {
	result := h.ready + ".check"
	_ = os.Remove(result)
	if err := unix.Kill(h.pid, unix.SIGUSR1); err != nil {
		return fmt.Errorf("restored holder: %w", err)
	}
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(result); err == nil && len(b) >= 2 {
			if string(b) != "ok" {
				return fmt.Errorf("the restored holder's memory is not what it was")
			}
			return nil
		}
	}
	return fmt.Errorf("the restored holder did not answer")
}

// benchKcr checkpoints and restarts one holder memRounds times through
// lib (frozen by us first; the time of the ioctl alone) and through the
// kcr command (freezing included); each restart brings back the process
// that the next round checkpoints.
func benchKcr(d *kcr.Device, r *memResult) error {
	img := filepath.Join(os.TempDir(), "bench-mem.img")
	defer os.Remove(img)
	h, err := startHolder(r.mib)
	if err != nil {
		return err
	}
	r.ckpt, r.restart, r.cliCkpt, r.cliRestart = time.Hour, time.Hour, time.Hour, time.Hour
	for round := 0; round < memRounds; round++ {
		t, err := kcrCheckpoint(d, h.pid, img)
		if err != nil {
			h.kill()
			return err
		}
		r.ckpt = min(r.ckpt, t)
		if t, err = kcrRestart(d, h, img, false, false); err != nil {
			return err
		}
		r.restart = min(r.restart, t)

		// Not timed: truncating the last image (freeing its pages)
		// is the previous run's cost, and the ioctl's image is
		// created before its timing starts too.
		if err := os.Remove(img); err != nil {
			h.kill()
			return err
		}
		t, _, steps, err := runKcr("checkpoint", "--freeze", strconv.Itoa(h.pid), "-o", img)
		if err != nil {
			h.kill()
			return err
		}
		if t < r.cliCkpt {
			r.cliCkpt, r.ckptSteps = t, steps
		}
		if t, err = kcrRestart(d, h, img, true, false); err != nil {
			return err
		}
		if t < r.cliRestart {
			r.cliRestart, r.restartSteps = t, h.steps
		}
	}
	if r.mib == 0 {
		// What any kcr command costs before it does anything (the Go
		// runtime's start, kcr version's one ioctl), and what starting
		// a C program costs: the floors under the CLI columns.
		r.cliStart, r.execC = time.Hour, time.Hour
		for round := 0; round < memRounds; round++ {
			t, _, _, err := runKcr("version")
			if err != nil {
				h.kill()
				return err
			}
			r.cliStart = min(r.cliStart, t)
			start := time.Now()
			if err := exec.Command(filepath.Join(guestproto.BinDir, "bench"), "exit").Run(); err != nil {
				h.kill()
				return fmt.Errorf("bench exit: %w", err)
			}
			r.execC = min(r.execC, time.Since(start))
		}
		if err := benchOwnCgroup(h.pid, img, r); err != nil {
			h.kill()
			return err
		}
	}
	// Zero-copy restarts last: a process restarted so would make the
	// next checkpoint read its memory from the image's page cache.
	r.mapRestart = time.Hour
	for round := 0; round < memRounds; round++ {
		t, err := kcrRestart(d, h, img, false, true)
		if err != nil {
			return err
		}
		r.mapRestart = min(r.mapRestart, t)
	}
	if st, err := os.Stat(img); err == nil {
		r.kcrImage = st.Size()
	}
	err = h.check()
	if kerr := h.kill(); err == nil {
		err = kerr
	}
	return err
}

// benchOwnCgroup times kcr checkpoint --freeze of pid alone in a cgroup
// of its own, as a service or a container is, which kcr freezes in place.
func benchOwnCgroup(pid int, img string, r *memResult) error {
	cg, err := freezer.New(fmt.Sprintf("kcr-bench-own-%d", time.Now().UnixNano()))
	if err != nil {
		return err
	}
	defer cg.Remove()
	root := &freezer.Cgroup{Path: freezer.Root}
	defer root.Add(pid)
	if err := cg.Add(pid); err != nil {
		return err
	}
	r.cliCkptOwn = time.Hour
	for round := 0; round < memRounds; round++ {
		if err := os.Remove(img); err != nil {
			return err
		}
		t, _, steps, err := runKcr("checkpoint", "--freeze", strconv.Itoa(pid), "-o", img)
		if err != nil {
			return err
		}
		if t < r.cliCkptOwn {
			r.cliCkptOwn, r.ckptOwnSteps = t, steps
		}
	}
	return nil
}

// runKcr times one kcr command with KCR_TIMING set; it returns the time,
// its standard output and the steps it reported.
func runKcr(args ...string) (took time.Duration, out, steps string, err error) {
	var stdout, stderr strings.Builder
	cmd := exec.Command("/bin/kcr", args...)
	cmd.Env = append(os.Environ(), "KCR_TIMING=1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	took = time.Since(start)
	if err != nil {
		return 0, "", "", fmt.Errorf("kcr %s: %v\n%s%s", args[0], err, stdout.String(), stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "kcr-timing: "); ok {
			steps = rest
		}
	}
	return took, stdout.String(), steps, nil
}

// kcrCheckpoint freezes pid in a cgroup of its own, times the checkpoint
// ioctl into img, thaws it and moves it back.
func kcrCheckpoint(d *kcr.Device, pid int, img string) (time.Duration, error) {
	cg, err := freezer.New(fmt.Sprintf("kcr-bench-mem-%d", time.Now().UnixNano()))
	if err != nil {
		return 0, err
	}
	defer cg.Remove()
	root := &freezer.Cgroup{Path: freezer.Root}
	defer root.Add(pid)
	if err := cg.Add(pid); err != nil {
		return 0, err
	}
	if err := cg.Freeze(); err != nil {
		return 0, err
	}
	defer cg.Thaw()
	f, err := os.Create(img)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	_, err = d.Checkpoint(pid, f, kcr.CheckpointOptions{Subtree: true, Log: os.Stdout})
	return time.Since(start), err
}

// kcrRestart kills the holder and times its restart from img, through
// lib (mapping the image with mapImage) or the kcr command.
func kcrRestart(d *kcr.Device, h *holder, img string, cli, mapImage bool) (time.Duration, error) {
	if err := h.kill(); err != nil {
		return 0, err
	}
	var (
		pid  int
		took time.Duration
	)
	if cli {
		var (
			out string
			err error
		)
		took, out, h.steps, err = runKcr("restart", "--detach", "-i", img)
		if err != nil {
			return 0, err
		}
		pid, _ = strconv.Atoi(strings.TrimSpace(out))
	} else {
		f, err := os.Open(img)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		pid, err = d.Restart(f, kcr.RestartOptions{Log: os.Stdout, MapImage: mapImage})
		took = time.Since(start)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("restart: %w", err)
		}
	}
	if pid != h.pid {
		return 0, fmt.Errorf("restarted as pid %d, want %d", pid, h.pid)
	}
	return took, nil
}

// benchCRIU dumps (leaving it running, as kcr checkpoint does) and
// restores a holder memRounds times with Debian's criu.
func benchCRIU(r *memResult) error {
	dir := filepath.Join(os.TempDir(), "bench-criu")
	defer os.RemoveAll(dir)
	h, err := startHolder(r.mib)
	if err != nil {
		return err
	}
	r.criuDump, r.criuRestore = time.Hour, time.Hour
	for round := 0; round < memRounds; round++ {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		t, err := criu(dir, "dump", "-t", strconv.Itoa(h.pid), "--leave-running")
		if err != nil {
			h.kill()
			return err
		}
		r.criuDump = min(r.criuDump, t)
		if err := h.kill(); err != nil {
			return err
		}
		if t, err = criu(dir, "restore", "--restore-detached"); err != nil {
			return err
		}
		r.criuRestore = min(r.criuRestore, t)
	}
	r.criuImage = dirSize(dir)
	err = h.check()
	if kerr := h.kill(); err == nil {
		err = kerr
	}
	return err
}

// criu runs one criu command on the image directory dir and times it;
// its log is shown when it fails.
func criu(dir, op string, args ...string) (time.Duration, error) {
	log := op + ".log"
	args = append([]string{op, "-D", dir, "-o", log, "-v2"}, args...)
	start := time.Now()
	out, err := exec.Command(criuPath, args...).CombinedOutput()
	took := time.Since(start)
	if err != nil {
		l, _ := os.ReadFile(filepath.Join(dir, log))
		return 0, fmt.Errorf("criu %s: %v\n%s%s", op, err, out, l)
	}
	return took, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
