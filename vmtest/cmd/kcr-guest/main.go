// Command kcr-guest is the uinit of kcr's test guests: u-root's init starts
// it once the root file system is up. It runs what the kernel command line
// asks for (kcr.mode=suite|warn|demo), then prints the kernel log between
// markers so that the host can check it, and powers the guest off.
//
// Everything goes to the console, which is the serial port the host reads:
// 9p and virtio-console are modules on the Debian kernels, so the serial
// line is the one channel every guest has.
package main

import (
	"bufio"
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
	rc := run()
	dumpKernelLog()
	fmt.Printf("\n%s %d\n", guestproto.EndMarker, rc)
	unix.Sync()
	// Let the console drain before the machine goes away: tcdrain where
	// the console is a tty that supports it, then a grace period for the
	// hypervisor consoles (sclp, hvc) that return at once.
	_ = unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1)
	time.Sleep(time.Second)
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Fprintf(os.Stderr, "kcr-guest: power off: %v\n", err)
	}
	select {}
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
	case "demo":
		return runDemo()
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
		args := []string{"-test.v", "-test.timeout=30m"}
		if run := cmdlineValue("kcr.run"); run != "" {
			args = append(args, "-test.run="+run)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		cmd.Dir = guestproto.TestDir
		cmd.Env = append(os.Environ(), "KCR_ARCH="+cmdlineValue("kcr.arch"))
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

// runDemo shows kcr at work: the module's version, then a checkpoint of
// a running process and what its image holds.
func runDemo() int {
	if rc := loadModule(guestproto.Module, ""); rc != 0 {
		return rc
	}
	if rc := demoCommand("/bin/kcr", "version"); rc != 0 {
		return rc
	}
	w := exec.Command(filepath.Join(guestproto.BinDir, "pattern"), "16")
	out, err := w.StdoutPipe()
	if err == nil {
		err = w.Start()
	}
	if err != nil {
		fmt.Printf("kcr-guest: starting the pattern workload: %v\n", err)
		return 1
	}
	defer func() {
		_ = w.Process.Kill()
		_ = w.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fmt.Printf("kcr-guest: pattern workload: %v\n", err)
		return 1
	}
	fmt.Printf("pattern workload (pid %d): %s", w.Process.Pid, line)
	pid := strconv.Itoa(w.Process.Pid)
	if rc := demoCommand("/bin/kcr", "checkpoint", "--freeze", pid, "-o", "/tmp/demo.img"); rc != 0 {
		return rc
	}
	return demoCommand("/bin/kcr", "info", "/tmp/demo.img")
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

// dumpKernelLog asks kmemleak for a scan where the kernel has it, then
// prints the whole kernel log between markers.
func dumpKernelLog() {
	const kmemleak = "/sys/kernel/debug/kmemleak"
	if f, err := os.OpenFile(kmemleak, os.O_WRONLY, 0); err == nil {
		_, _ = f.WriteString("scan")
		f.Close()
		if b, err := os.ReadFile(kmemleak); err == nil && len(b) > 0 {
			fmt.Printf("%s\n%s%s\n", guestproto.KmemleakMarker, b, guestproto.KmemleakEndMarker)
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
	}
	fmt.Printf("\n%s\n", guestproto.DmesgEndMarker)
}
