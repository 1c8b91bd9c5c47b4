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
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// treeRounds: each figure of the library's is the best of this many runs.
const treeRounds = 3

// treeResult is one row of the tree benchmark.
type treeResult struct {
	tasks            int
	imageBytes       int64
	ckpt, restart    time.Duration // through lib, best of treeRounds
	cliCkpt, cliRest time.Duration // kcr checkpoint --cgroup --kill, kcr restart --detach
}

// A benchmark of objects: tasks in a tree of processes
// (vmtest/workloads/bench_tree) or in one process of threads
// (bench_threads), or the mappings or open files of one process
// (bench_objs).
type taskBench struct {
	workload string
	what     string // the objects it makes, for the table's title
	kind     string // bench_objs' KIND argument
	unit     string // what is counted, for the table
	oneTask  bool   // the objects are not tasks: the workload is one
}

var (
	treeBench   = taskBench{workload: "bench_tree", what: "process trees", unit: "tasks"}
	threadBench = taskBench{workload: "bench_threads", what: "processes of many threads", unit: "tasks"}
	vmaBench    = taskBench{workload: "bench_objs", what: "a process of many mappings", kind: "vmas", unit: "VMAs", oneTask: true}
	fileBench   = taskBench{workload: "bench_objs", what: "a process of many open files", kind: "files", unit: "files", oneTask: true}
)

// tasks is how many tasks k's workload of n objects has.
func (k taskBench) tasks(n int) int {
	if k.oneTask {
		return 1
	}
	return n
}

// runTreeBench times the checkpoint and restart of k's workload of the
// given sizes (tasks), through lib's ioctl wrappers and through the kcr
// command, and prints the time per task: it should not grow with the
// number of tasks.
func runTreeBench(k taskBench, sizes []string) int {
	d := benchDevice()
	if d == nil {
		return 1
	}
	defer d.Close()
	fmt.Printf("\ncheckpoint and restart of %s, in this guest (lib: best of %d; CLI: one run):\n",
		k.what, treeRounds)
	per := "per " + strings.TrimSuffix(strings.ToLower(k.unit), "s") + " ms"
	fmt.Printf("%7s %10s %13s %12s %11s %12s %13s %12s %12s %12s\n", k.unit, "image KiB",
		"checkpoint s", per, "restart s", per, "kcr ckpt s", per, "kcr rst s", per)
	for _, s := range sizes {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Printf("kcr-guest: bad number of %s %q\n", k.unit, s)
			return 1
		}
		r, err := benchTree(d, k, n)
		if err != nil {
			fmt.Printf("kcr-guest: %s of %d: %v\n", k.workload, n, err)
			return 1
		}
		per := func(t time.Duration) float64 { return t.Seconds() * 1000 / float64(r.tasks) }
		fmt.Printf("%7d %10d %13.4f %12.3f %11.4f %12.3f %13.4f %12.3f %12.4f %12.3f\n", r.tasks, r.imageBytes>>10,
			r.ckpt.Seconds(), per(r.ckpt), r.restart.Seconds(), per(r.restart),
			r.cliCkpt.Seconds(), per(r.cliCkpt), r.cliRest.Seconds(), per(r.cliRest))
	}
	return 0
}

// benchDevice prepares the guest for a benchmark and opens kcr's device;
// nil (it said why) if it cannot. The killed originals and the restarted
// processes' orphans come to us, to be reaped: their pids must be free
// for the next restart.
func benchDevice() *kcr.Device {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Printf("kcr-guest: subreaper: %v\n", err)
		return nil
	}
	if err := freezer.Mount(); err != nil {
		fmt.Printf("kcr-guest: %v\n", err)
		return nil
	}
	// A checkpoint holds the files it saves, counted against the
	// checkpointer's RLIMIT_NOFILE: room for bench_objs' 10000 and more.
	nofile := &unix.Rlimit{Cur: 1 << 20, Max: 1 << 20}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, nofile); err != nil {
		fmt.Printf("kcr-guest: RLIMIT_NOFILE: %v\n", err)
		return nil
	}
	d, err := kcr.Open()
	if err != nil {
		fmt.Printf("kcr-guest: %v\n", err)
		return nil
	}
	return d
}

func benchTree(d *kcr.Device, k taskBench, n int) (*treeResult, error) {
	r := &treeResult{tasks: n, ckpt: time.Hour, restart: time.Hour}
	img := filepath.Join(os.TempDir(), fmt.Sprintf("bench-tree-%d.img", n))
	defer os.Remove(img)
	for round := 0; round <= treeRounds; round++ {
		cli := round == treeRounds // the last run goes through the kcr command
		cg, root, err := startBenchTree(k, n)
		if err != nil {
			return nil, err
		}
		ckpt, err := checkpointBenchTree(d, cg, root, img, cli)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(img); err == nil {
			r.imageBytes = st.Size()
		}
		rest, err := restartBenchTree(d, cg, img, k.tasks(n), cli)
		if err != nil {
			return nil, err
		}
		if err := cg.Remove(); err != nil {
			return nil, err
		}
		if cli {
			r.cliCkpt, r.cliRest = ckpt, rest
		} else {
			r.ckpt, r.restart = min(r.ckpt, ckpt), min(r.restart, rest)
		}
	}
	return r, nil
}

// startBenchTree starts k's workload in a new cgroup and waits until its
// n tasks are up.
func startBenchTree(k taskBench, n int) (*freezer.Cgroup, int, error) {
	cg, err := freezer.New(fmt.Sprintf("kcr-bench-tree-%d", time.Now().UnixNano()))
	if err != nil {
		return nil, 0, err
	}
	dir, err := os.Open(cg.Path)
	if err != nil {
		return nil, 0, err
	}
	defer dir.Close()
	ready := filepath.Join(os.TempDir(), "bench-tree.ready")
	_ = os.Remove(ready)
	args := []string{ready, strconv.Itoa(n)}
	if k.kind != "" {
		args = append(args, k.kind)
	}
	cmd := exec.Command(filepath.Join(guestproto.BinDir, k.workload), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	if err := waitReady(cmd.Process.Pid, ready); err != nil {
		killAndReap(cg, nil)
		return nil, 0, fmt.Errorf("%s %d %w", k.workload, n, err)
	}
	return cg, cmd.Process.Pid, nil
}

// waitReady waits until the workload pid, started by us, has created the
// file ready; an error if it ended first or took more than 5 minutes.
func waitReady(pid int, ready string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if _, err := os.Stat(ready); err == nil {
			return nil
		}
		var ws unix.WaitStatus
		if p, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); p > 0 || time.Now().After(deadline) {
			return fmt.Errorf("did not get ready (%v)", ws)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkpointBenchTree checkpoints the frozen tree, then kills it and
// reaps it; it returns the time of the checkpoint alone (through lib) or
// of the whole kcr checkpoint --cgroup --kill command.
func checkpointBenchTree(d *kcr.Device, cg *freezer.Cgroup, root int, img string, cli bool) (time.Duration, error) {
	var took time.Duration
	if cli {
		start := time.Now()
		out, err := exec.Command("/bin/kcr", "checkpoint", "--cgroup", cg.Path, "--kill", "-o", img).CombinedOutput()
		took = time.Since(start)
		if err != nil {
			killAndReap(cg, nil)
			return 0, fmt.Errorf("kcr checkpoint: %v\n%s", err, out)
		}
	} else {
		if err := cg.Freeze(); err != nil {
			return 0, err
		}
		f, err := os.Create(img)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		_, err = d.Checkpoint(root, f, kcr.CheckpointOptions{Subtree: true, Log: os.Stdout})
		took = time.Since(start)
		f.Close()
		if err != nil {
			killAndReap(cg, nil)
			return 0, err
		}
	}
	pids, err := imagePids(img)
	if err != nil {
		return 0, err
	}
	return took, killAndReap(cg, pids)
}

// restartBenchTree restarts the image into cg (the restarted tasks are
// born in our cgroup: we move there for the time of the restart), then
// kills and reaps the tree. It returns the time of the restart ioctl or
// of the whole kcr restart --detach command.
func restartBenchTree(d *kcr.Device, cg *freezer.Cgroup, img string, n int, cli bool) (time.Duration, error) {
	home, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, err
	}
	back := &freezer.Cgroup{Path: freezer.Root}
	for _, l := range strings.Split(string(home), "\n") {
		if rel, ok := strings.CutPrefix(l, "0::"); ok {
			back.Path = filepath.Join(freezer.Root, rel)
		}
	}
	if err := cg.Add(os.Getpid()); err != nil {
		return 0, err
	}
	var took time.Duration
	if cli {
		start := time.Now()
		var out []byte
		out, err = exec.Command("/bin/kcr", "restart", "--detach", "-i", img).CombinedOutput()
		took = time.Since(start)
		if err != nil {
			err = fmt.Errorf("kcr restart: %v\n%s", err, out)
		}
	} else {
		var f *os.File
		if f, err = os.Open(img); err == nil {
			start := time.Now()
			_, err = d.Restart(f, kcr.RestartOptions{Log: os.Stdout})
			took = time.Since(start)
			f.Close()
		}
	}
	if berr := back.Add(os.Getpid()); err == nil {
		err = berr
	}
	pids, perr := imagePids(img)
	if err == nil {
		err = perr
	}
	if err == nil {
		if got, _ := cgroupCount(cg); got != n {
			err = fmt.Errorf("restarted %d tasks, want %d", got, n)
		}
	}
	if kerr := killAndReap(cg, pids); err == nil {
		err = kerr
	}
	return took, err
}

// cgroupCount counts the tasks (threads) in cg.
func cgroupCount(cg *freezer.Cgroup) (int, error) {
	b, err := os.ReadFile(filepath.Join(cg.Path, "cgroup.threads"))
	return len(strings.Fields(string(b))), err
}

// imagePids lists the pids of an image's tree.
func imagePids(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := image.Summarize(f)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, t := range s.Tasks {
		pids = append(pids, int(t.Pid))
	}
	return pids, nil
}

// killAndReap kills everything in cg, thaws it, and reaps (as parent or
// subreaper) until it is empty and the given pids are free.
func killAndReap(cg *freezer.Cgroup, pids []int) error {
	_ = os.WriteFile(filepath.Join(cg.Path, "cgroup.kill"), []byte("1"), 0)
	_ = cg.Thaw()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for {
			pid, err := unix.Wait4(-1, nil, unix.WALL|unix.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		left, _ := cgroupCount(cg)
		for _, p := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", p)); err == nil {
				left++
				break
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: processes left after cgroup.kill", cg.Path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
