// Command kcr-guest is the uinit of kcr's test guests: u-root's init starts
// it once the root file system is up. It runs what the kernel command line
// asks for (kcr.mode=suite|warn|demo|bench|kallsyms), then prints the kernel log between
// markers so that the host can check it, and powers the guest off.
//
// Everything goes to the console, which is the serial port the host reads:
// 9p and virtio-console are modules on the Debian kernels, so the serial
// line is the one channel every guest has.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

func main() {
	useConsole()
	rc := run()
	n := dumpKernelLog()
	fmt.Printf("\n%s %d\n", guestproto.EndMarker, rc)
	unix.Sync()
	// Let the console drain before the machine goes away: tcdrain, then
	// a grace period for the hypervisor consoles (sclp) that take data
	// into buffers of their own. On the debug kernels (kmemleak) the log
	// is long: give it a second more per 8 KiB.
	_ = unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1)
	grace := time.Second
	if _, err := os.Stat(kmemleakFile); err == nil {
		grace += time.Duration(n/8192) * time.Second
	}
	time.Sleep(grace)
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Fprintf(os.Stderr, "kcr-guest: power off: %v\n", err)
	}
	select {}
}

// useConsole makes the console itself this process's stdout and stderr,
// and so its children's. u-root's init gives us a pipe that one of its
// goroutines copies to the consoles: whatever was still in that pipe and
// in the copy's buffer when we power off was lost, and tcdrain cannot
// wait for a pipe. The ppc64le console (hvc, 16 bytes per hypervisor
// call) fell 60 KiB behind a cross-series image being printed, and the
// run lost that much of its end. Written to the tty, a write returns as
// the console takes it, and tcdrain means drained.
func useConsole() {
	if _, err := unix.IoctlGetTermios(1, unix.TCGETS); err == nil {
		return // a tty already
	}
	fd, err := unix.Open("/dev/console", unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Printf("kcr-guest: /dev/console: %v (output goes through init's pipe)\n", err)
		return
	}
	for _, to := range []int{1, 2} {
		if err := unix.Dup3(fd, to, 0); err != nil {
			fmt.Printf("kcr-guest: dup3 /dev/console to %d: %v\n", to, err)
		}
	}
	unix.Close(fd)
}

func run() int {
	fmt.Printf("%s\n", guestproto.BeginMarker)
	// The initramfs root comes up 0700; tests that run as other users
	// need it as a real system has it.
	if err := os.Chmod("/", 0o755); err != nil {
		fmt.Printf("kcr-guest: chmod /: %v\n", err)
	}
	// debugfs holds kmemleak on debug kernels; failure is harmless.
	_ = unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, "")
	switch mode := cmdlineValue("kcr.mode"); mode {
	case "suite", "":
		return runSuite()
	case "warn":
		return loadModule(guestproto.WarnModule, "")
	case "bugs":
		// The debug kernels' log guard proof: KASAN, lockdep,
		// atomic-sleep and kmemleak reports besides the warning.
		return loadModule(guestproto.WarnModule, "bugs=1")
	case "demo":
		return runDemo()
	case "bench":
		return runBench(strings.Split(cmdlineValue("kcr.bench"), ","))
	case "kallsyms":
		return printSymbols(strings.Split(cmdlineValue("kcr.syms"), ","))
	default:
		fmt.Printf("kcr-guest: unknown kcr.mode=%q\n", mode)
		return 2
	}
}

// cmdlineValue returns the value of key=value on the kernel command line.
func cmdlineValue(key string) string {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// runSuite runs every in-guest test binary with -test.v; the host parses
// their output.
func runSuite() int {
	bins, _ := filepath.Glob(filepath.Join(guestproto.TestDir, "*.test"))
	if len(bins) == 0 {
		fmt.Printf("kcr-guest: no test binaries in %s\n", guestproto.TestDir)
		return 1
	}
	rc := 0
	for _, bin := range bins {
		timeout := 30 * time.Minute
		// A minute short of the boot's limit (debug kernels have more).
		if d, err := time.ParseDuration(cmdlineValue("kcr.testtimeout")); err == nil && d > 2*time.Minute {
			timeout = d - time.Minute
		}
		// A long restart fuzzing run (make fuzz-kernel) has time of its own.
		if d, err := time.ParseDuration(cmdlineValue("kcr.fuzztime")); err == nil {
			timeout += d
		}
		args := []string{"-test.v", "-test.timeout=" + timeout.String()}
		if run := cmdlineValue("kcr.run"); run != "" {
			args = append(args, "-test.run="+run)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		cmd.Dir = guestproto.TestDir
		cmd.Env = append(os.Environ(), "KCR_ARCH="+cmdlineValue("kcr.arch"))
		for _, k := range []string{"n", "time", "seed"} {
			if v := cmdlineValue("kcr.fuzz" + k); v != "" {
				cmd.Env = append(cmd.Env, "KCR_FUZZ_"+strings.ToUpper(k)+"="+v)
			}
		}
		// TestCrossSeries: which half of a carried image's trip this is.
		if v := cmdlineValue("kcr.xseries"); v != "" {
			cmd.Env = append(cmd.Env, "KCR_XSERIES="+v)
		}
		if err := cmd.Run(); err != nil {
			fmt.Printf("kcr-guest: %s: %v\n", filepath.Base(bin), err)
			rc = 1
		}
	}
	return rc
}

// printSymbols prints the /proc/kallsyms lines of the named symbols: which
// kernel functions exist (and are not inlined) on this guest's kernel.
func printSymbols(names []string) int {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	b, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		fmt.Printf("kcr-guest: %v\n", err)
		return 1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && want[f[2]] {
			fmt.Println("kallsyms:", l)
		}
	}
	return 0
}

// runDemo shows kcr at work: a counting program is checkpointed, killed
// and restarted from its image, and goes on counting from where it
// stopped, with its pid. It fails if it does not.
func runDemo() int {
	const out, img = "/tmp/count.txt", "/tmp/counter.img"
	if rc := loadModule(guestproto.Module, ""); rc != 0 {
		return rc
	}
	if rc := demoCommand("/bin/kcr", "version"); rc != 0 {
		return rc
	}
	// Stdio of the counter is /dev/null: it counts into its file.
	w := exec.Command(filepath.Join(guestproto.BinDir, "counter"), out)
	if err := w.Start(); err != nil {
		fmt.Printf("kcr-guest: starting the counter: %v\n", err)
		return 1
	}
	pid := w.Process.Pid
	done := make(chan struct{})
	go func() { _ = w.Wait(); close(done) }()
	fmt.Printf("$ counter %s &   # pid %d\n", out, pid)
	time.Sleep(2 * time.Second)
	showTail(out)
	if rc := demoCommand("/bin/kcr", "checkpoint", "--freeze", "--kill", strconv.Itoa(pid), "-o", img); rc != 0 {
		return rc
	}
	<-done
	before := lastCount(out)
	fmt.Printf("the counter is gone (killed at count %d)\n", before)
	if rc := demoCommand("/bin/kcr", "info", img); rc != 0 {
		return rc
	}
	if rc := demoCommand("/bin/kcr", "restart", "--detach", "-i", img); rc != 0 {
		return rc
	}
	time.Sleep(2 * time.Second)
	showTail(out)
	after := lastCount(out)
	_ = unix.Kill(pid, unix.SIGKILL)
	b, _ := os.ReadFile(out)
	next := fmt.Sprintf("count %d pid %d\n", before+1, pid)
	if after <= before || !strings.Contains(string(b), next) {
		fmt.Printf("kcr-guest: the restarted counter did not go on from %d with pid %d\n", before, pid)
		return 1
	}
	fmt.Printf("the restarted counter went on from %d to %d with pid %d\n", before+1, after, pid)
	return 0
}

// runBench runs the memory benchmark for the sizes (MiB) asked for, then
// the process tree benchmark (kcr.benchtree: tree sizes, default
// 10,100,1000), the thread benchmark (kcr.benchthreads: threads of one
// process, default 1,16,256) and those of the mappings and open files of
// one process (kcr.benchobjs: how many, default 10,100,1000,10000). The
// frozen time of a pre-copy is measured at the largest size, or at
// kcr.benchprecopy MiB (0: not measured). With kcr.benchtmpfs=OPTIONS
// every image and the write baseline go to a tmpfs of its own mounted
// with them (huge=always: page cache in 2 MiB pages) instead of the
// initramfs' /tmp.
func runBench(sizes []string) int {
	if rc := loadModule(guestproto.Module, ""); rc != 0 {
		return rc
	}
	if opts := cmdlineValue("kcr.benchtmpfs"); opts != "" {
		const dir = "/bench-tmpfs"
		if err := os.MkdirAll(dir, 0o1777); err != nil {
			fmt.Printf("kcr-guest: %v\n", err)
			return 1
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
			fmt.Printf("kcr-guest: mounting a tmpfs with %s on %s: %v\n", opts, dir, err)
			return 1
		}
		os.Setenv("TMPDIR", dir)
		fmt.Printf("kcr-guest: images and the write baseline go to %s, a tmpfs mounted with %s\n", dir, opts)
	}
	if rc := runMemBench(sizes); rc != 0 {
		return rc
	}
	// Pre-copy at the largest size, unless asked for another.
	largest := 0
	for _, s := range sizes {
		if n, err := strconv.Atoi(s); err == nil {
			largest = max(largest, n)
		}
	}
	if v := cmdlineValue("kcr.benchprecopy"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Printf("kcr-guest: kcr.benchprecopy=%q: want MiB\n", v)
			return 1
		}
		largest = n
	}
	if largest > 0 {
		if rc := runPreCopyBench(largest); rc != 0 {
			return rc
		}
	}
	for _, b := range []struct {
		k            taskBench
		param, sizes string
	}{
		{treeBench, "kcr.benchtree", "10,100,1000"},
		{threadBench, "kcr.benchthreads", "1,16,256"},
		{vmaBench, "kcr.benchobjs", "10,100,1000,10000"},
		{fileBench, "kcr.benchobjs", "10,100,1000,10000"},
	} {
		sizes := cmdlineValue(b.param)
		if sizes == "" {
			sizes = b.sizes
		}
		if rc := runTreeBench(b.k, strings.Split(sizes, ",")); rc != 0 {
			return rc
		}
	}
	return 0
}

// showTail prints the last lines of the counter's file.
func showTail(path string) {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	fmt.Printf("$ tail -n 3 %s\n%s\n", path, strings.Join(lines, "\n"))
}

// lastCount is the number of the counter file's last line.
func lastCount(path string) int {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var n, pid int
	_, _ = fmt.Sscanf(lines[len(lines)-1], "count %d pid %d", &n, &pid)
	return n
}

// demoCommand runs a command of the demo, showing it and its output.
func demoCommand(name string, args ...string) int {
	fmt.Printf("$ %s %s\n", filepath.Base(name), strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Printf("kcr-guest: %s: %v\n", filepath.Base(name), err)
		return 1
	}
	return 0
}

func loadModule(path, params string) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Printf("kcr-guest: %v\n", err)
		return 1
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), params, 0); err != nil {
		fmt.Printf("kcr-guest: loading %s: %v\n", path, err)
		return 1
	}
	fmt.Printf("kcr-guest: loaded %s\n", path)
	return 0
}

const kmemleakFile = "/sys/kernel/debug/kmemleak"

// dumpKernelLog asks kmemleak for a scan where the kernel has it, then
// prints the whole kernel log between markers; it returns how many bytes
// it printed.
func dumpKernelLog() int {
	const kmemleak = kmemleakFile
	printed := 0
	if _, err := os.Stat(kmemleak); err == nil {
		// kmemleak reports only objects older than 5 s, and an object
		// that one scan finds unreferenced but the next one finds
		// referenced (a pointer in flight) is no longer listed: wait,
		// then scan twice so that what is listed is a leak.
		time.Sleep(6 * time.Second)
		for i := 0; i < 2; i++ {
			if err := os.WriteFile(kmemleak, []byte("scan"), 0); err != nil {
				fmt.Printf("kcr-guest: kmemleak scan: %v\n", err)
			}
		}
		if b, err := os.ReadFile(kmemleak); err == nil && len(b) > 0 {
			fmt.Printf("%s\n%s%s\n", guestproto.KmemleakMarker, b, guestproto.KmemleakEndMarker)
			printed += len(b)
		}
	}
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil || n <= 0 {
		n = 1 << 20
	}
	buf := make([]byte, n)
	n, err = unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	fmt.Printf("%s\n", guestproto.DmesgMarker)
	if err != nil {
		fmt.Printf("kcr-guest: reading the kernel log: %v\n", err)
	} else {
		os.Stdout.Write(buf[:n])
		printed += n
	}
	fmt.Printf("\n%s\n", guestproto.DmesgEndMarker)
	return printed
}
