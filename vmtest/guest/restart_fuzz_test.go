//go:build kcrguest

package guest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// Restart fuzzing: valid images of small workloads are mutated (lib/image's
// Mutator: fields set to boundary values, record headers broken, records
// dropped, duplicated, swapped, moved, copied over others, inserted,
// spliced in from another seed image, bit flips, truncation) and restarted. Each restart must end in a clean errno
// with a message on logfd, or in a task that runs (it is killed and
// reaped); never in a hang, a task left behind or a kernel log report.
//
// Mutation number i uses seed image i % len(seeds) and seed i, so a
// failure is reproduced by running that one mutation again on a fresh
// image of the same workload:
//
//	make fuzz-kernel ARCH=... N=1 SEED=i
//
// KCR_FUZZ_N (mutations; 0: no count limit), KCR_FUZZ_TIME (a Go
// duration) and KCR_FUZZ_SEED (the first mutation number) come from the
// kernel command line (kcr.fuzz*); without them the test makes a short
// pass, for `make check`.
func TestRestartFuzz(t *testing.T) {
	cfg := fuzzSettings(t)
	d := device(t)
	f := &fuzzer{t: t, d: d, cfg: cfg, dir: t.TempDir(), counts: map[string]int{}, perSeed: map[string]int{}}
	f.seeds = fuzzSeeds(t, d)
	f.kmsg = openKmsg(t)
	f.baseline = processes()
	f.self = selfState()
	t.Logf("%s: fuzzing restart from %d seed images, mutations %d.. (limit %d, %v)",
		os.Getenv("KCR_ARCH"), len(f.seeds), cfg.start, cfg.n, cfg.d)
	start := time.Now()
	n := 0
	for i := cfg.start; ; i++ {
		if cfg.n > 0 && n >= cfg.n || time.Since(start) >= cfg.d {
			break
		}
		f.one(i)
		n++
		if n%500 == 0 {
			fmt.Printf("restart fuzz: %d mutated images in %v\n", n, time.Since(start).Round(time.Second))
		}
		if len(f.failures) >= 50 {
			t.Errorf("stopping after %d failures", len(f.failures))
			break
		}
	}
	var outcomes []string
	for k, v := range f.counts {
		outcomes = append(outcomes, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(outcomes)
	var per []string
	for _, s := range f.seeds {
		per = append(per, fmt.Sprintf("%s %d", s.name, f.perSeed[s.name]))
	}
	t.Logf("%s: %d mutated images restarted in %v (mutations %d..%d); outcomes: %s; per seed image: %s",
		os.Getenv("KCR_ARCH"), n, time.Since(start).Round(time.Second), cfg.start, cfg.start+uint64(n)-1,
		strings.Join(outcomes, ", "), strings.Join(per, ", "))
	for _, fl := range f.failures {
		t.Error(fl)
	}
}

// fuzzConfig bounds a fuzzing run.
type fuzzConfig struct {
	n     int           // mutations; 0: as many as fit in d
	d     time.Duration // time for the mutations (the seed images not counted)
	start uint64        // number of the first mutation
}

func fuzzSettings(t *testing.T) fuzzConfig {
	t.Helper()
	c := fuzzConfig{d: 40 * time.Second}
	if v := os.Getenv("KCR_FUZZ_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("KCR_FUZZ_N=%q: %v", v, err)
		}
		c.n, c.d = n, 24*time.Hour
	}
	if v := os.Getenv("KCR_FUZZ_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("KCR_FUZZ_TIME=%q: %v", v, err)
		}
		c.d = d
	}
	if v := os.Getenv("KCR_FUZZ_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			t.Fatalf("KCR_FUZZ_SEED=%q: %v", v, err)
		}
		c.start = s
	}
	return c
}

// fuzzSeed is a valid image to mutate.
type fuzzSeed struct {
	name string
	m    *image.Mutator
}

// fuzzSeeds checkpoints the seed workloads, with address space
// randomization off so that a fresh image of a workload has the layout of
// the one a failure was found with.
func fuzzSeeds(t *testing.T, d *kcr.Device) []fuzzSeed {
	t.Helper()
	const aslr = "/proc/sys/kernel/randomize_va_space"
	old, err := os.ReadFile(aslr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(aslr, []byte("0"), 0); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.WriteFile(aslr, old, 0) }()
	unprivAllowed(t) // rt_creds checkpoints itself as user 1000
	regs := map[string]string{"amd64": "rt_regs_x86", "s390x": "rt_regs_s390", "ppc64le": "rt_regs_ppc"}[runtime.GOARCH]
	var seeds []fuzzSeed
	add := func(name string, rt *roundTrip) {
		img, err := os.ReadFile(rt.Image)
		if err != nil {
			t.Fatal(err)
		}
		m, err := image.NewMutator(img)
		if err != nil {
			t.Fatalf("seed image %s: %v", name, err)
		}
		m.Name = name
		seeds = append(seeds, fuzzSeed{name: name, m: m})
	}
	// Self checkpoints: tasks, files, signals with handlers and pending
	// signals, credentials, memory with mlock and a file mapping, the
	// arch's registers, rseq.
	for _, w := range [][]string{{"rt_task"}, {"rt_files"}, {"rt_signals"}, {"rt_creds"},
		{"rt_mem", "1"}, {regs}, {"rt_rseq"}} {
		add(strings.Join(w, " "), selfCheckpoint(t, w[0], w[1:]...))
	}
	// Checkpointed from outside, asleep in a system call.
	add("rt_files external", externalCheckpoint(t, d, "rt_files", "external"))
	// A tree: sessions and groups whose leader exited (ghosts), a
	// child subreaper, a parent death signal.
	tr := checkpointedTree(t, d, "rt_orphans")
	add("rt_orphans tree", tr.rt)
	// Records of each may be spliced into the others.
	var all []*image.Mutator
	for _, s := range seeds {
		all = append(all, s.m)
	}
	for _, s := range seeds {
		s.m.SetDonors(all)
	}
	return seeds
}

// fuzzer is the state of one fuzzing run.
type fuzzer struct {
	t        *testing.T
	d        *kcr.Device
	cfg      fuzzConfig
	dir      string
	seeds    []fuzzSeed
	kmsg     *os.File
	baseline map[int]string
	self     string         // selfState before the run
	counts   map[string]int // outcome -> count
	perSeed  map[string]int
	failures []string
}

// cleanErrnos are the errors a refused image may get: bad or unsupported
// contents, permissions, limits, and what opening a file by a changed path
// or with changed flags, or setting its offset, may give (ESPIPE: an
// offset for a file that cannot seek, from vfs_llseek() as lseek(2) would
// give it).
var cleanErrnos = map[syscall.Errno]bool{
	unix.EINVAL: true, unix.EOPNOTSUPP: true, unix.EPERM: true, unix.EBUSY: true,
	unix.E2BIG: true, unix.ENOMEM: true, unix.ERANGE: true, unix.EOVERFLOW: true,
	unix.EACCES: true, unix.ENOENT: true, unix.ENOTDIR: true, unix.EISDIR: true,
	unix.ENAMETOOLONG: true, unix.ELOOP: true, unix.EEXIST: true, unix.ENXIO: true,
	unix.ENODEV: true, unix.ETXTBSY: true, unix.EROFS: true, unix.EMFILE: true,
	unix.ENFILE: true, unix.EBADF: true, unix.EFAULT: true, unix.ESRCH: true,
	unix.EFBIG: true, unix.ENOSPC: true, unix.ESTALE: true, unix.ESPIPE: true,
}

// restartDeadline: a restart of these small images takes well under a
// second; one still running after this is hung.
const restartDeadline = 60 * time.Second

// one restarts mutation i and checks what came of it.
func (f *fuzzer) one(i uint64) {
	s := f.seeds[i%uint64(len(f.seeds))]
	mut := s.m.Mutate(i)
	what := fmt.Sprintf("mutation %d of %s (%d bytes): %s", i, s.name, len(mut.Image), mut.Desc)
	f.perSeed[s.name]++
	if f.cfg.n > 0 && f.cfg.n <= 10 {
		// Reproducing: say what is tried before the restart, in case it
		// takes the test down.
		fmt.Printf("restart fuzz: trying %s\n", what)
	}
	// Every fourth image comes through a pipe (if it fits in one), the
	// others from a file.
	viaPipe := i%4 == 3
	// Every fifth asks for fresh pids. The seed workloads change some of
	// their files after the checkpoint: most restarts accept that, so
	// that the mutations reach past the file records.
	o := kcr.RestartOptions{NoPids: i%5 == 2, AllowChangedFiles: i%7 != 6}
	pid, err, log := f.restart(mut.Image, viaPipe, o, what)
	switch {
	case err == nil:
		f.counts["ran"]++
		f.reap(pid, what)
	default:
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			f.fail(what, "restart failed with %v, not an errno", err)
			break
		}
		f.counts[errnoName(errno)]++
		if !cleanErrnos[errno] {
			f.fail(what, "restart failed with %s (errno %d); log %q", errnoName(errno), int(errno), log)
		} else if strings.TrimSpace(log) == "" {
			f.fail(what, "restart failed with %s and no message on logfd", errnoName(errno))
		}
	}
	f.checkLeftovers(what)
	if st := selfState(); st != f.self {
		f.fail(what, "the restart changed the coordinator:\nbefore:\n%s\nafter:\n%s", f.self, st)
		f.self = st
	}
	if lines := f.kernelReports(); len(lines) > 0 {
		f.fail(what, "kernel log report after this restart:\n\t%s", strings.Join(lines, "\n\t"))
	}
}

func errnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprintf("errno%d", int(e))
}

func (f *fuzzer) fail(what, format string, args ...any) {
	msg := fmt.Sprintf("%s\n\t%s\n\treproduce: make fuzz-kernel ARCH=%s N=1 SEED=%s",
		fmt.Sprintf(format, args...), what, os.Getenv("KCR_ARCH"), strings.Fields(what)[1])
	f.failures = append(f.failures, msg)
	// At once too: a failure may take the test down before its end.
	fmt.Printf("restart fuzz: FAILURE: %s\n", msg)
}

// selfState is what a restart must not change in the coordinator (this
// process): its signal dispositions, ids, capabilities, umask, comm,
// personality, working directory and descriptors.
func selfState() string {
	var b strings.Builder
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") {
		for _, k := range []string{"Umask", "Uid", "Gid", "Groups", "SigIgn", "SigCgt", "CapInh", "CapPrm",
			"CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"} {
			if strings.HasPrefix(l, k+":") {
				b.WriteString(l + "\n")
			}
		}
	}
	for _, p := range []string{"/proc/self/comm", "/proc/self/personality"} {
		v, _ := os.ReadFile(p)
		b.WriteString(p + " " + strings.TrimSpace(string(v)) + "\n")
	}
	cwd, _ := os.Readlink("/proc/self/cwd")
	root, _ := os.Readlink("/proc/self/root")
	b.WriteString("cwd " + cwd + " root " + root + "\n")
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, e := range fds {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		if strings.Contains(l, "mutated.img") || strings.HasPrefix(l, "pipe:") {
			continue // this restart's image and log, being closed
		}
		if l == "anon_inode:[pidfd]" {
			continue // os/exec's handle of a seed workload, closed when Go gets to it
		}
		b.WriteString("fd " + e.Name() + " " + l + "\n")
	}
	return b.String()
}

// restart restarts img, from a file or through a pipe, and returns the
// restored pid or the error, and the log. A restart that does not return
// by the deadline ends the test binary after showing every task's stack:
// no test timeout can end an ioctl that does not return.
func (f *fuzzer) restart(img []byte, viaPipe bool, o kcr.RestartOptions, what string) (int, error, string) {
	var src *os.File
	if viaPipe {
		src = f.pipeWith(img)
	}
	if src == nil {
		var err error
		src, err = os.Create(filepath.Join(f.dir, "mutated.img"))
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := src.Write(img); err != nil {
			f.t.Fatal(err)
		}
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			f.t.Fatal(err)
		}
	}
	logw, logs := logPipe(f.t)
	type result struct {
		pid int
		err error
	}
	done := make(chan result, 1)
	go func() {
		o.Log = logw
		pid, err := f.d.Restart(src, o)
		done <- result{pid, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(restartDeadline):
		f.hung(what, "the restart ioctl has not returned after %v", restartDeadline)
	}
	src.Close()
	var errno syscall.Errno
	if errors.As(res.err, &errno) {
		return res.pid, errno, logs()
	}
	return res.pid, res.err, logs()
}

// pipeWith returns the read end of a pipe that holds img, its write end
// closed; nil when img does not fit in a pipe. The write end is closed
// before the restart: a restored child is a clone of this process and
// would hold a write end left open, and never see the end of a truncated
// image (a known hang: the child reads forever, the coordinator waits
// for it in D state).
func (f *fuzzer) pipeWith(img []byte) *os.File {
	r, w, err := os.Pipe()
	if err != nil {
		f.t.Fatal(err)
	}
	defer w.Close()
	size, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 1<<20)
	if err != nil || size < len(img) {
		r.Close()
		return nil
	}
	if _, err := w.Write(img); err != nil {
		f.t.Fatal(err)
	}
	return r
}

// hung reports a hang with the mutation and every task's kernel stack,
// and any kernel log report, then ends the test binary.
func (f *fuzzer) hung(what, format string, args ...any) {
	fmt.Printf("--- restart fuzz: HANG: %s\n\t%s\n", fmt.Sprintf(format, args...), what)
	if lines := f.kernelReports(); len(lines) > 0 {
		fmt.Printf("kernel log report:\n\t%s\n", strings.Join(lines, "\n\t"))
	}
	fmt.Printf("tasks:\n%s", taskStacks())
	for _, fl := range f.failures {
		fmt.Printf("earlier failure: %s\n", fl)
	}
	os.Exit(3)
}

// reap kills the restored task, which runs, and waits for it.
func (f *fuzzer) reap(pid int, what string) {
	if pid <= 0 {
		f.fail(what, "restart returned pid %d and no error", pid)
		return
	}
	_ = unix.Kill(pid, unix.SIGKILL)
	done := make(chan error, 1)
	go func() {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			f.fail(what, "wait for the restored pid %d: %v", pid, err)
		}
	case <-time.After(restartDeadline):
		f.hung(what, "the restored pid %d did not die of SIGKILL in %v", pid, restartDeadline)
	}
	// The rest of a restarted tree goes on without its root: end it too
	// (its orphans come to us, the subreaper, to be reaped).
	f.killNew()
}

// killNew kills the processes that were not in the guest before the run,
// and reaps them until none is left (for at most restartDeadline).
func (f *fuzzer) killNew() {
	deadline := time.Now().Add(restartDeadline)
	for time.Now().Before(deadline) {
		left := 0
		for p := range processes() {
			if _, ok := f.baseline[p]; !ok && p != os.Getpid() {
				_ = unix.Kill(p, unix.SIGKILL)
				left++
			}
		}
		for {
			pid, err := unix.Wait4(-1, nil, unix.WNOHANG|unix.WALL, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkLeftovers: no child of ours, no new process in the guest. What is
// found is reported, killed and reaped, so that the run goes on.
func (f *fuzzer) checkLeftovers(what string) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		if err == unix.ECHILD {
			break
		}
		if err != nil || pid == 0 {
			// A child that runs: kill it, then reap it.
			f.fail(what, "a child is left after the restart (wait4: %v)", err)
			for p := range processes() {
				if f.baseline[p] == "" && p != os.Getpid() {
					_ = unix.Kill(p, unix.SIGKILL)
				}
			}
			_, _ = unix.Wait4(-1, &ws, unix.WALL, nil)
			continue
		}
		f.fail(what, "a child is left after the restart: pid %d, %s", pid, describeStatus(ws))
	}
	for p, comm := range processes() {
		if _, ok := f.baseline[p]; ok || p == os.Getpid() {
			continue
		}
		f.fail(what, "a process is left in the guest after the restart: pid %d (%s)", p, comm)
		_ = unix.Kill(p, unix.SIGKILL)
		f.baseline[p] = comm // reported once
	}
}

// processes are the guest's user processes (kernel threads, children of
// kthreadd, come and go by themselves), by pid with their comm.
func processes() map[int]string {
	ps := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 2 {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone
		}
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		rest := strings.Fields(s[close+1:])
		if len(rest) >= 2 && rest[1] == "2" {
			continue // a kernel thread
		}
		ps[pid] = s[open+1 : close]
	}
	return ps
}

// openKmsg opens /dev/kmsg at its end: what is read from it later is what
// the kernel logged during the run.
func openKmsg(t *testing.T) *os.File {
	t.Helper()
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	k := os.NewFile(uintptr(fd), "/dev/kmsg")
	t.Cleanup(func() { k.Close() })
	return k
}

// kernelReports returns the new kernel log lines that report a kernel bug,
// with the lines around them.
func (f *fuzzer) kernelReports() []string {
	var lines []string
	bad := false
	buf := make([]byte, 8192)
	fd := int(f.kmsg.Fd())
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EPIPE {
			lines = append(lines, "(kernel log records were lost)")
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		rec := string(buf[:n])
		if _, msg, ok := strings.Cut(rec, ";"); ok {
			rec = msg
		}
		rec = strings.TrimRight(rec, "\n")
		if guestproto.KernelProblem.MatchString(rec) {
			bad = true
		}
		lines = append(lines, rec)
	}
	if !bad {
		return nil
	}
	if len(lines) > 60 {
		lines = lines[:60]
	}
	return lines
}
