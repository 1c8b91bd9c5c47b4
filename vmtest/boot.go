package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hugelgupf/vmtest/qemu"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// Paths of one (arch, kernel series) pair's build products, as `make kmod`
// leaves them.
type Build struct {
	Arch   Arch
	Series string // the kernel series: 6.1, 6.12, or debug (the debug kernels)
	Dir    string // build/<series>/<arch>
	Kernel string // the kernel image QEMU boots
}

// Name names the pair as test names and messages do: x86_64-6.12.
func (b Build) Name() string { return b.Arch.Name + "-" + b.Series }

// Module is the kcr.ko built for the pair.
func (b Build) Module() string { return filepath.Join(b.Dir, "kmod", "kcr.ko") }

// WarnModule is the test-only module whose init does WARN_ON(1).
func (b Build) WarnModule() string { return filepath.Join(b.Dir, "testmod", "kcr_warn.ko") }

// Initramfs is where BuildInitramfs writes the guest's initramfs.
func (b Build) Initramfs() string { return filepath.Join(b.Dir, "initramfs.cpio") }

// HasModule says whether kcr.ko was built for the pair: a guest that is
// to load it needs it (the log guard's guest does not).
func (b Build) HasModule() error {
	if _, err := os.Stat(b.Module()); err != nil {
		return fmt.Errorf("%w (run `%s` first)", err, kmodCommand(b.Arch.Name, b.Series))
	}
	return nil
}

// kmodCommand is the make command that builds the pair.
func kmodCommand(arch, series string) string {
	if series == "debug" {
		return "make kmod DEBUG=1 ARCH=" + arch
	}
	return "make kmod ARCH=" + arch + " KSERIES=" + series
}

// LoadBuild finds what `make kmod` left for the arch and kernel series in
// buildDir/<series>/<arch> (series "debug": the debug kernels'): the
// modules and, in kernel.env, the kernel image to boot.
func LoadBuild(buildDir, name, series string) (Build, error) {
	a, err := LookupArch(name)
	if err != nil {
		return Build{}, err
	}
	if series == "" || strings.ContainsAny(series, "/ ") {
		return Build{}, fmt.Errorf("bad kernel series %q", series)
	}
	dir, err := filepath.Abs(filepath.Join(buildDir, series, name))
	if err != nil {
		return Build{}, err
	}
	env, err := os.ReadFile(filepath.Join(dir, "kernel.env"))
	if err != nil {
		return Build{}, fmt.Errorf("%w (run `%s` first)", err, kmodCommand(name, series))
	}
	for _, l := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(l, "KERNEL="); ok && v != "" {
			return Build{Arch: a, Series: series, Dir: dir, Kernel: v}, nil
		}
	}
	return Build{}, fmt.Errorf("%s/kernel.env names no KERNEL", dir)
}

// moduleRoot is the directory of kcr's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the kcr Go module")
	}
	return filepath.Dir(mod), nil
}

// BuildInitramfs compiles the in-guest test binaries, u-root's init, the
// guest runner and the kcr tool for the arch and packs them with the
// modules into one initramfs. kcr_warn.ko must exist; kcr.ko goes in if
// it does (see HasModule). extra are more files, as uimage specs
// (host:guest paths).
func BuildInitramfs(b Build, log io.Writer, extra ...string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if _, err := os.Stat(b.WarnModule()); err != nil {
		return fmt.Errorf("%w (run `%s` first)", err, kmodCommand(b.Arch.Name, b.Series))
	}
	modules := []string{b.WarnModule() + ":" + strings.TrimPrefix(guestproto.WarnModule, "/")}
	if b.HasModule() == nil {
		modules = append(modules, b.Module()+":"+strings.TrimPrefix(guestproto.Module, "/"))
	}
	tests := filepath.Join(b.Dir, "tests")
	if err := os.MkdirAll(tests, 0o755); err != nil {
		return err
	}
	guestTest := filepath.Join(tests, "guest.test")
	cmd := exec.Command("go", "test", "-c", "-tags", "kcrguest", "-o", guestTest, "./vmtest/guest")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+b.Arch.GOARCH, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the in-guest tests for %s: %v\n%s", b.Arch.Name, err, out)
	}
	workloads, err := buildWorkloads(b, root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kcr-uimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	l := llog.New(slog.LevelWarn, llog.WritePrintf(log))
	err = uimage.Create(l,
		uimage.WithEnv(golang.DisableCGO(), golang.WithGOARCH(b.Arch.GOARCH), golang.WithWorkingDir(root)),
		uimage.WithTempDir(tmp),
		uimage.WithCPIOOutput(b.Initramfs()),
		uimage.WithSkipLDD(),
		uimage.WithBinaryCommands(
			"github.com/u-root/u-root/cmds/core/init",
			"github.com/kcr-dev/kcr/vmtest/cmd/kcr-guest",
			"github.com/kcr-dev/kcr/cmd/kcr",
		),
		uimage.WithInit("init"),
		uimage.WithUinit("kcr-guest"),
		uimage.WithFiles(workloads...),
		uimage.WithFiles(modules...),
		uimage.WithFiles(extra...),
		uimage.WithFiles(guestTest+":"+strings.TrimPrefix(guestproto.TestDir, "/")+"/guest.test"),
	)
	if err != nil {
		return fmt.Errorf("building the initramfs for %s: %w", b.Name(), err)
	}
	return nil
}

// buildWorkloads compiles the C programs of vmtest/workloads and the Go
// programs of vmtest/workloads/go statically for the arch and returns
// their uimage file specs (host:guest paths).
func buildWorkloads(b Build, root string) ([]string, error) {
	srcs, err := filepath.Glob(filepath.Join(root, "vmtest", "workloads", "*.c"))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.Dir, "workloads")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cc := b.Arch.Cross + "gcc"
	if b.Arch.GOARCH == runtime.GOARCH {
		cc = "gcc"
	}
	var files []string
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		out := filepath.Join(dir, name)
		cmd := exec.Command(cc, "-static", "-O2", "-Wall", "-Werror",
			"-I", filepath.Join(root, "uapi"), "-o", out, src)
		if o, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building workload %s for %s: %v\n%s", name, b.Arch.Name, err, o)
		}
		files = append(files, out+":"+strings.TrimPrefix(guestproto.BinDir, "/")+"/"+name)
	}
	// Go programs, statically linked as Go links them without cgo.
	progs, err := filepath.Glob(filepath.Join(root, "vmtest", "workloads", "go", "*", "main.go"))
	if err != nil {
		return nil, err
	}
	for _, prog := range progs {
		name := filepath.Base(filepath.Dir(prog))
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, "./vmtest/workloads/go/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+b.Arch.GOARCH, "CGO_ENABLED=0")
		if o, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building Go workload %s for %s: %v\n%s", name, b.Arch.Name, err, o)
		}
		files = append(files, out+":"+strings.TrimPrefix(guestproto.BinDir, "/")+"/"+name)
	}
	return files, nil
}

// BootOptions say what one guest boot does.
type BootOptions struct {
	Mode    string        // kcr.mode: suite, warn or demo
	Log     string        // the console log's name, console-<Log>.log (default: Mode)
	Run     string        // -test.run for the suite ("" runs all)
	Args    []string      // more kernel command line arguments
	MemMiB  int           // guest memory; 2048 by default
	Timeout time.Duration // for the whole boot; 20 minutes by default
	Console io.Writer     // also receives the console as it comes (may be nil)
	// Carry is an archive a guest printed (GuestRun.Carried), appended to
	// the initramfs of this boot so that its files are there.
	Carry []byte
}

// withCarry writes the initramfs followed by the carried archive (the
// kernel unpacks concatenated archives, compressed or not, skipping the
// zeros between them) to a temporary file and returns its path.
func withCarry(initramfs string, carry []byte) (string, error) {
	base, err := os.ReadFile(initramfs)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "kcr-initramfs-carry-")
	if err != nil {
		return "", err
	}
	defer f.Close()
	pad := make([]byte, (512-len(base)%512)%512)
	for _, b := range [][]byte{base, pad, carry} {
		if _, err := f.Write(b); err != nil {
			os.Remove(f.Name())
			return "", err
		}
	}
	return f.Name(), nil
}

// Boot starts the pair's kernel with its initramfs in QEMU, waits for the
// guest to power off and returns everything it printed.
func Boot(ctx context.Context, b Build, o BootOptions) ([]byte, error) {
	if o.MemMiB == 0 {
		o.MemMiB = 2048
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Minute
	}
	args := []string{
		"console=" + b.Arch.Console, "quiet", "panic=-1",
		"kcr.mode=" + o.Mode, "kcr.arch=" + b.Arch.Name,
	}
	if o.Run != "" {
		args = append(args, "kcr.run="+o.Run)
	}
	args = append(args, o.Args...)
	var out lockedBuffer
	sinks := []io.WriteCloser{&out}
	if o.Console != nil {
		sinks = append(sinks, nopCloser{o.Console})
	}
	initramfs := b.Initramfs()
	if o.Carry != nil {
		p, err := withCarry(initramfs, o.Carry)
		if err != nil {
			return nil, fmt.Errorf("adding the carried archive to the initramfs: %w", err)
		}
		defer os.Remove(p)
		initramfs = p
	}
	opts := &qemu.Options{
		QEMUCommand:  strings.Join(b.Arch.qemuCommand(o.MemMiB), " "),
		Kernel:       b.Kernel,
		Initramfs:    initramfs,
		KernelArgs:   strings.Join(args, " "),
		SerialOutput: sinks,
		VMTimeout:    o.Timeout,
	}
	vm, err := opts.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting QEMU for %s: %w", b.Name(), err)
	}
	err = vm.Wait()
	if err != nil {
		err = fmt.Errorf("QEMU for %s: %w (command: %s)", b.Name(), err, vm.CmdlineQuoted())
	}
	return out.Bytes(), err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Close() error { return nil }

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
