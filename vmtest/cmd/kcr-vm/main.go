// Command kcr-vm boots one kcr test guest and shows its console: `make demo`
// uses it, and so can a developer who wants to watch a suite run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kcr-dev/kcr/vmtest"
)

func main() {
	arch := flag.String("arch", "x86_64", "guest architecture: "+strings.Join(vmtest.ArchNames(), ", "))
	mode := flag.String("mode", "demo", "what the guest runs: demo, suite or warn")
	run := flag.String("run", "", "-test.run pattern for -mode suite")
	build := flag.String("build", "build", "build directory that `make kmod` filled")
	flag.Parse()

	b, err := vmtest.LoadBuild(*build, *arch)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "kcr-vm: building the %s initramfs\n", *arch)
	if err := vmtest.BuildInitramfs(b, os.Stderr); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "kcr-vm: booting %s\n", b.Kernel)
	out, err := vmtest.Boot(context.Background(), b, vmtest.BootOptions{Mode: *mode, Run: *run, Console: os.Stdout})
	if err != nil {
		fail(err)
	}
	g := vmtest.ParseConsole(out)
	if f := g.Failures(*mode == "suite"); len(f) > 0 {
		fail(fmt.Errorf("guest run failed:\n  %s", strings.Join(f, "\n  ")))
	}
	fmt.Fprintf(os.Stderr, "kcr-vm: %s guest finished cleanly\n", *arch)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "kcr-vm: %v\n", err)
	os.Exit(1)
}
