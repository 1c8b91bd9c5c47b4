//go:build vmtest

package vmtest

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	pairsFlag = flag.String("kcr.pairs", "x86_64/6.1,s390x/6.1,ppc64le/6.1,x86_64/6.12,s390x/6.12,ppc64le/6.12",
		"comma-separated ARCH/SERIES pairs to boot (series 6.1, 6.12, or debug for the debug kernels)")
	buildFlag = flag.String("kcr.build", "../build", "build directory that `make kmod` filled (pairs in <series>/<arch>)")
	runFlag   = flag.String("kcr.run", "", "-test.run pattern for the in-guest tests")
	// make fuzz-kernel: TestRestartFuzz's count, time and first seed.
	fuzzN    = flag.String("kcr.fuzzn", "", "restart fuzzing: mutated images per pair")
	fuzzTime = flag.Duration("kcr.fuzztime", 0, "restart fuzzing: time bound per pair")
	fuzzSeed = flag.String("kcr.fuzzseed", "", "restart fuzzing: number of the first mutation")

	timeFlag = flag.Duration("kcr.timeout", 20*time.Minute, "time limit of one guest boot")
)

// fuzzBoot adds the restart fuzzing settings to a suite boot.
func fuzzBoot(o BootOptions) BootOptions {
	// The guest's test binaries end before the boot's time limit does,
	// so that a slow (debug) guest reports which test ran out of time.
	o.Args = append(o.Args, "kcr.testtimeout="+timeFlag.String())
	for k, v := range map[string]string{"n": *fuzzN, "seed": *fuzzSeed} {
		if v != "" {
			o.Args = append(o.Args, "kcr.fuzz"+k+"="+v)
		}
	}
	if *fuzzTime > 0 {
		o.Args = append(o.Args, "kcr.fuzztime="+fuzzTime.String())
		o.Timeout = *timeFlag + *fuzzTime
		o.Console = os.Stdout // a long run shows its progress
	}
	return o
}

// builds caches one initramfs per pair for all the boots of this run.
var builds sync.Map // ARCH/SERIES -> *pairBuild

type pairBuild struct {
	once sync.Once
	b    Build
	err  error
}

// buildFor returns the pair's kernel and a freshly built initramfs.
func buildFor(t *testing.T, p pair) Build {
	t.Helper()
	v, _ := builds.LoadOrStore(p.String(), &pairBuild{})
	pb := v.(*pairBuild)
	pb.once.Do(func() {
		pb.b, pb.err = LoadBuild(*buildFlag, p.arch, p.series)
		if pb.err == nil {
			pb.err = BuildInitramfs(pb.b, os.Stderr)
		}
	})
	if pb.err != nil {
		t.Fatal(pb.err)
	}
	return pb.b
}

// A pair is one guest arch with one kernel series.
type pair struct{ arch, series string }

func (p pair) String() string { return p.arch + "/" + p.series }

// Name is the pair's subtest name: x86_64-6.12.
func (p pair) Name() string { return p.arch + "-" + p.series }

// pairs are the pairs -kcr.pairs names.
func pairs(t *testing.T) []pair {
	t.Helper()
	var ps []pair
	for _, s := range strings.Split(*pairsFlag, ",") {
		arch, series, ok := strings.Cut(strings.TrimSpace(s), "/")
		if _, err := LookupArch(arch); err != nil || !ok || series == "" {
			t.Fatalf("-kcr.pairs: %q is not ARCH/SERIES with ARCH one of %s", s, strings.Join(ArchNames(), ", "))
		}
		ps = append(ps, pair{arch, series})
	}
	return ps
}

// boot runs one guest and keeps its console in the pair's build directory,
// build/<series>/<arch>/console-<mode>.log.
func boot(t *testing.T, b Build, o BootOptions) *GuestRun {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = *timeFlag
	}
	name := o.Log
	if name == "" {
		name = o.Mode
	}
	// Written as it comes, so that a long (debug) run that is killed
	// leaves what it printed.
	logPath := filepath.Join(b.Dir, "console-"+name+".log")
	f, ferr := os.Create(logPath)
	if ferr != nil {
		t.Errorf("saving the console: %v", ferr)
	} else {
		defer f.Close()
		if o.Console != nil {
			o.Console = io.MultiWriter(o.Console, f)
		} else {
			o.Console = f
		}
	}
	start := time.Now()
	out, err := Boot(context.Background(), b, o)
	t.Logf("%s guest, mode %s: %s from boot to power-off", b.Name(), o.Mode, time.Since(start).Round(time.Second))
	g := ParseConsole(out)
	if err != nil {
		t.Errorf("%v; console in %s", err, logPath)
	}
	if !g.Begun || g.ExitCode == -1 {
		t.Logf("console of the %s guest:\n%s", b.Name(), out)
	}
	return g
}

// TestVM boots each pair once and runs the whole in-guest suite there; each
// in-guest test becomes a subtest named ARCH-SERIES/TestName.
func TestVM(t *testing.T) {
	for _, p := range pairs(t) {
		t.Run(p.Name(), func(t *testing.T) {
			// kcr.ko first: without it the initramfs is built for nothing.
			if b, err := LoadBuild(*buildFlag, p.arch, p.series); err == nil {
				if err := b.HasModule(); err != nil {
					t.Fatal(err)
				}
			}
			b := buildFor(t, p)
			g := boot(t, b, fuzzBoot(BootOptions{Mode: "suite", Run: *runFlag}))
			for _, tr := range g.Tests {
				t.Run(tr.Name, func(t *testing.T) {
					out := strings.Join(tr.Output, "\n")
					switch tr.Result {
					case "PASS":
						if testing.Verbose() && out != "" {
							t.Log(out)
						}
					case "SKIP":
						t.Errorf("skipped in the guest (a skipped test did not run):\n%s", out)
					case "":
						t.Errorf("the guest died during this test:\n%s", out)
					default:
						t.Errorf("failed in the guest:\n%s", out)
					}
				})
			}
			for _, f := range g.Failures(true) {
				t.Error(f)
			}
		})
	}
}

// TestCrossSeries carries images between the kernel series of each arch
// that -kcr.pairs boots on both 6.1 and 6.12, in both directions: the
// guest's TestCrossSeries checkpoints its workloads on one series and
// prints them, and restarts them on the other (see the guest side). Each
// direction makes two trips: one with both kernels booted as they are,
// where every image has a vDSO and must be refused for it, and on
// x86-64 one with both booted with vdso=0, where the images have none and
// must restart with the state their workloads check.
func TestCrossSeries(t *testing.T) {
	have := map[string]bool{}
	for _, p := range pairs(t) {
		have[p.String()] = true
	}
	for _, a := range ArchNames() {
		for _, dir := range [][2]string{{"6.1", "6.12"}, {"6.12", "6.1"}} {
			from, to := pair{a, dir[0]}, pair{a, dir[1]}
			if !have[from.String()] || !have[to.String()] {
				continue
			}
			trips := []string{"vdso"}
			if a == "x86_64" {
				trips = append(trips, "novdso")
			}
			for _, trip := range trips {
				t.Run(from.Name()+"-to-"+dir[1]+"-"+trip, func(t *testing.T) {
					crossSeries(t, from, to, trip)
				})
			}
		}
	}
}

func crossSeries(t *testing.T, from, to pair, trip string) {
	run := func(b Build, o BootOptions) *GuestRun {
		t.Helper()
		o.Mode, o.Run = "suite", "^TestCrossSeries$"
		o.Log += "-" + trip
		if trip == "novdso" {
			o.Args = append(o.Args, "vdso=0")
		}
		g := boot(t, b, o)
		for _, tr := range g.Tests {
			t.Logf("%s, %s: %s\n%s", b.Name(), o.Log, tr.Result, strings.Join(tr.Output, "\n"))
		}
		for _, f := range g.Failures(true) {
			t.Errorf("%s, %s: %s", b.Name(), o.Log, f)
		}
		return g
	}
	save := run(buildFor(t, from), BootOptions{Log: "xseries-save-to-" + to.series, Args: []string{"kcr.xseries=save"}})
	if t.Failed() {
		return
	}
	if save.CarryErr != nil || save.Carried == nil {
		t.Fatalf("%s printed no archive to carry: %v", from, save.CarryErr)
	}
	run(buildFor(t, to), BootOptions{Log: "xseries-restore-from-" + from.series,
		Args: []string{"kcr.xseries=restore"}, Carry: save.Carried})
}

// TestLogGuard proves that the kernel log check works on every pair: a
// guest that loads a module doing WARN_ON(1) must be reported as failed,
// naming the warning. It needs kcr_warn.ko, not kcr.ko.
func TestLogGuard(t *testing.T) {
	for _, p := range pairs(t) {
		t.Run(p.Name(), func(t *testing.T) {
			b := buildFor(t, p)
			g := boot(t, b, BootOptions{Mode: "warn"})
			if g.ExitCode != 0 {
				t.Fatalf("the warn guest did not load kcr_warn.ko (exit %d)", g.ExitCode)
			}
			bad := g.KernelProblems()
			text := strings.Join(bad, "\n")
			if !strings.Contains(text, "WARNING:") || !strings.Contains(text, "kcr_warn") {
				t.Fatalf("the log guard missed the WARN_ON of kcr_warn.ko; it found:\n%s", text)
			}
			if len(g.Failures(false)) == 0 {
				t.Fatal("a guest run with a kernel WARNING was not reported as failed")
			}
			t.Logf("log guard reported, as it should:\n%s", text)
		})
	}
}

// TestLogGuardDebug proves the same for the reports that only the debug
// kernels make: kcr_warn.ko with bugs=1 reads out of bounds, takes two
// mutexes in both orders, sleeps in atomic context and leaks, and the
// run must fail naming each report (the leak through kcr-guest's
// kmemleak scan at the end of the run). It runs for the pairs of series
// debug.
func TestLogGuardDebug(t *testing.T) {
	for _, p := range pairs(t) {
		if p.series != "debug" {
			continue
		}
		t.Run(p.Name(), func(t *testing.T) {
			b := buildFor(t, p)
			g := boot(t, b, BootOptions{Mode: "bugs"})
			if g.ExitCode != 0 {
				t.Fatalf("the bugs guest did not load kcr_warn.ko (exit %d)", g.ExitCode)
			}
			text := strings.Join(g.KernelProblems(), "\n")
			for _, want := range []string{
				"KASAN: slab-out-of-bounds",
				"possible circular locking dependency",
				"sleeping function called from invalid context",
				"kmemleak: unreferenced object",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("the log guard missed %q; it found:\n%s", want, text)
				}
			}
			if len(g.Failures(false)) == 0 {
				t.Fatal("a guest run with KASAN, lockdep and kmemleak reports was not reported as failed")
			}
			t.Logf("log guard reported, as it should:\n%s", text)
		})
	}
}
