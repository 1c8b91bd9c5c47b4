// Command kcr-vm boots one kcr test guest and shows its console: `make demo`
// uses it, and so can a developer who wants to watch a suite run.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kcr-dev/kcr/vmtest"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

func main() {
	arch := flag.String("arch", "x86_64", "guest architecture: "+strings.Join(vmtest.ArchNames(), ", "))
	series := flag.String("series", "6.1", "kernel series: 6.1, 6.12, or debug (the debug kernels)")
	mode := flag.String("mode", "demo", "what the guest runs: demo, suite, warn, bugs (debug kernels), bench or kallsyms")
	run := flag.String("run", "", "-test.run pattern for -mode suite")
	build := flag.String("build", "build", "build directory that `make kmod` filled (pairs in <series>/<arch>)")
	verbose := flag.Bool("v", false, "also show the guest's kernel log")
	syms := flag.String("syms", "", "for -mode kallsyms: comma-separated kernel symbols to look up")
	bench := flag.String("bench", "0,64,256,1024", "for -mode bench: comma-separated sizes in MiB")
	benchTree := flag.String("benchtree", "", "for -mode bench: processes per tree, comma-separated (default: the guest's)")
	benchThreads := flag.String("benchthreads", "", "for -mode bench: threads per process, comma-separated (default: the guest's)")
	benchObjs := flag.String("benchobjs", "", "for -mode bench: mappings and open files of one process, comma-separated (default: the guest's)")
	benchPreCopy := flag.String("benchprecopy", "", "for -mode bench: MiB of the pre-copy benchmark's process (default: the largest -bench size; 0: none)")
	benchTmpfs := flag.String("benchtmpfs", "", "for -mode bench: mount options of a tmpfs of its own for the images (e.g. huge=always; default: the initramfs' /tmp)")
	mem := flag.Int("mem", 0, "guest memory in MiB (default: the harness's)")
	flag.Parse()

	b, err := vmtest.LoadBuild(*build, *arch, *series)
	if err != nil {
		fail(err)
	}
	if *mode != "warn" && *mode != "bugs" {
		if err := b.HasModule(); err != nil {
			fail(err)
		}
	}
	fmt.Fprintf(os.Stderr, "kcr-vm: building the %s initramfs\n", b.Name())
	var extra []string
	if *mode == "bench" {
		// CRIU runs beside kcr in the memory benchmark.
		if extra, err = vmtest.CRIUFiles(b.Arch); err != nil {
			fail(err)
		}
		mods, err := vmtest.CRIUModuleFiles(b)
		if err != nil {
			fail(err)
		}
		extra = append(extra, mods...)
	}
	if err := vmtest.BuildInitramfs(b, os.Stderr, extra...); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "kcr-vm: booting %s\n", b.Kernel)
	cons, flush := console(*verbose)
	out, err := vmtest.Boot(context.Background(), b, vmtest.BootOptions{Mode: *mode, Run: *run,
		Args: []string{"kcr.syms=" + *syms, "kcr.bench=" + *bench, "kcr.benchtree=" + *benchTree,
			"kcr.benchthreads=" + *benchThreads, "kcr.benchobjs=" + *benchObjs, "kcr.benchprecopy=" + *benchPreCopy, "kcr.benchtmpfs=" + *benchTmpfs}, MemMiB: *mem, Console: cons})
	flush()
	if err != nil {
		fail(err)
	}
	g := vmtest.ParseConsole(out)
	if f := g.Failures(*mode == "suite"); len(f) > 0 {
		fail(fmt.Errorf("guest run failed:\n  %s", strings.Join(f, "\n  ")))
	}
	if *mode == "bench" {
		// The memory benchmark's plot, beside the build it measured.
		path := filepath.Join(*build, "bench-memory.svg")
		title := fmt.Sprintf("kcr and CRIU, %s guest under %s", b.Name(), "QEMU")
		switch err := vmtest.PlotBench(vmtest.ParseBenchFigures(out), title, path); {
		case errors.Is(err, vmtest.ErrNothingToPlot):
			fmt.Fprintf(os.Stderr, "kcr-vm: no plot: %v\n", err)
		case err != nil:
			fail(err)
		default:
			fmt.Fprintf(os.Stderr, "kcr-vm: wrote %s\n", path)
		}
	}
	fmt.Fprintf(os.Stderr, "kcr-vm: %s guest finished cleanly\n", b.Name())
}

// console is where the guest's console goes: all of it with -v, else all
// but the kernel log dump (the harness still checks that log). flush
// waits until every line the guest printed is shown.
func console(verbose bool) (w io.Writer, flush func()) {
	if verbose {
		return os.Stdout, func() {}
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		inLog := false
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			switch line {
			case guestproto.DmesgMarker:
				inLog = true
				fmt.Println("[kernel log checked by the harness; -v shows it]")
			case guestproto.DmesgEndMarker:
				inLog = false
			default:
				if !inLog {
					fmt.Println(line)
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr) // lines too long for the scanner
	}()
	return pw, func() {
		pw.Close()
		<-done
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "kcr-vm: %v\n", err)
	os.Exit(1)
}
