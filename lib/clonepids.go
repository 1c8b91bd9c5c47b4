package kcr

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/uapi"
)

// MaxPidLevels is the most pids CKPT_IOC_CLONE_WITH_PIDS takes: one per
// pid-namespace level, and the kernel nests at most 32 (MAX_PID_NS_LEVEL).
const MaxPidLevels = 32

// SpawnAttr is what StartWithPids sets up in the child before the
// execve(). The zero value (or nil) starts the program with the caller's
// standard input, output and error, directory and namespaces.
type SpawnAttr struct {
	// Dir is the child's working directory ("" for the caller's).
	Dir string
	// Files are the child's descriptors: Files[i] becomes descriptor i,
	// -1 closes it; every other descriptor is closed at the execve()
	// unless it lacks close-on-exec. nil means stdin, stdout, stderr.
	Files []int
	// Setsid makes the child a session leader; Setpgid puts it into
	// process group Pgid (0: a new group of its own).
	Setsid  bool
	Setpgid bool
	Pgid    int
	// Pdeathsig is sent to the child when its parent thread exits.
	Pdeathsig syscall.Signal
	// Cloneflags are namespace flags for the child (CLONE_NEWPID,
	// CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET,
	// CLONE_NEWCGROUP). With CLONE_NEWPID the child is its namespace's
	// init: its pids then end with 1.
	Cloneflags uintptr
}

// spawnCloneflags are the Cloneflags StartWithPids accepts. A user
// namespace is not among them: its id maps must be written by the parent
// while the child waits, which a vfork()ed child cannot.
const spawnCloneflags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP

// StartWithPids starts the program path with argv and env (nil: the
// caller's environment) as a child whose pids are pids, outermost first,
// one per pid-namespace level of the child, the last one the pid it sees
// itself (fewer than the levels: the outer levels get free pids; none:
// all are free). It returns the child's pid in the caller's namespace;
// the caller waits for it like for any child (exit signal SIGCHLD).
// Choosing a pid needs CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN) in the
// user namespace owning that level's pid namespace. Errors: EBUSY when
// a pid is taken, EINVAL for more pids than levels, EPERM without the
// capability or under a seccomp filter, or the execve()'s error (the
// child is reaped then).
//
// Why a spawn and not a fork: after a fork only the calling thread of a
// Go program exists in the child, while its runtime believes in all of
// them; the child can run nothing but system calls. So the child is made
// as syscall.ForkExec makes it: signals blocked and stack growth made
// fatal (the runtime's fork hooks), CKPT_IOC_CLONE_WITH_PIDS with
// CLONE_VFORK, and in the child only raw system calls up to the execve().
// Unlike ForkExec it does not add CLONE_VM: with CLONE_VM the child would
// run on the parent's stack, which only a per-arch assembly system call
// stub can survive (syscall.rawVforkSyscall, which a package outside the
// standard library cannot call). Without it the child has a copy of the
// address space (the kernel copies the page tables, as for fork()), so
// nothing it does reaches the parent, and CLONE_VFORK still holds the
// parent until the execve() or the child's exit.
//
// A Go CloneWithPids (fork-like, returning 0 in the child) is not
// offered for that reason: the child of a Go program cannot safely
// return into Go code. C programs call the ioctl themselves
// (vmtest/workloads/clonepids.c does).
func (d *Device) StartWithPids(path string, argv, env []string, pids []int, attr *SpawnAttr) (int, error) {
	if attr == nil {
		attr = &SpawnAttr{}
	}
	if env == nil {
		env = os.Environ()
	}
	s, err := newSpawn(path, argv, env, pids, attr)
	if err != nil {
		return 0, fmt.Errorf("kcr: start %s: %w", path, err)
	}
	conn, err := d.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var pid int
	cerr := conn.Control(func(fd uintptr) { pid, err = s.start(int(fd)) })
	if cerr != nil {
		return 0, cerr
	}
	if err != nil {
		return 0, fmt.Errorf("kcr: start %s with pids %v: %w", path, pids, err)
	}
	return pid, nil
}

// spawn is everything the child needs, made before the fork: the child
// must not allocate.
type spawn struct {
	args  uapi.CkptIocCloneWithPids
	pids  [MaxPidLevels]int32
	path  *byte
	argv  []*byte
	envv  []*byte
	dir   *byte
	fds   []int
	attr  SpawnAttr
	errfd [2]int
}

// newSpawn checks the arguments (what can be checked without the
// kernel) and converts them for the child.
func newSpawn(path string, argv, env []string, pids []int, attr *SpawnAttr) (*spawn, error) {
	s := &spawn{attr: *attr}
	if len(pids) > MaxPidLevels {
		return nil, fmt.Errorf("%d pids, at most %d pid-namespace levels: %w", len(pids), MaxPidLevels, unix.EINVAL)
	}
	for i, p := range pids {
		if p < 1 || p > 1<<22 {
			return nil, fmt.Errorf("pid %d: %w", p, unix.EINVAL)
		}
		s.pids[i] = int32(p)
	}
	if attr.Cloneflags&^spawnCloneflags != 0 {
		return nil, fmt.Errorf("clone flags %#x: only namespace flags (not CLONE_NEWUSER): %w", attr.Cloneflags&^spawnCloneflags, unix.EINVAL)
	}
	if attr.Pdeathsig < 0 || attr.Pdeathsig > 64 {
		return nil, fmt.Errorf("pdeathsig %d: %w", attr.Pdeathsig, unix.EINVAL)
	}
	var err error
	if s.path, err = unix.BytePtrFromString(path); err != nil {
		return nil, err
	}
	if s.argv, err = syscall.SlicePtrFromStrings(argv); err != nil {
		return nil, err
	}
	if s.envv, err = syscall.SlicePtrFromStrings(env); err != nil {
		return nil, err
	}
	if attr.Dir != "" {
		if s.dir, err = unix.BytePtrFromString(attr.Dir); err != nil {
			return nil, err
		}
	}
	s.fds = append([]int(nil), attr.Files...)
	if attr.Files == nil {
		s.fds = []int{0, 1, 2}
	}
	for _, fd := range s.fds {
		if fd < -1 || fd > 1<<20 {
			return nil, fmt.Errorf("descriptor %d: %w", fd, unix.EBADF)
		}
	}
	s.args = uapi.CkptIocCloneWithPids{
		Flags:      uint64(attr.Cloneflags) | unix.CLONE_VFORK,
		ExitSignal: uint64(unix.SIGCHLD),
		NrPids:     uint32(len(pids)),
	}
	if len(pids) > 0 {
		s.args.Pids = uint64(uintptr(unsafe.Pointer(&s.pids[0])))
	}
	return s, nil
}

// start makes the child with the device descriptor dev and waits for its
// execve(): a child that failed before it reports the errno through the
// close-on-exec pipe errfd and exits, and is reaped here.
func (s *spawn) start(dev int) (int, error) {
	syscall.ForkLock.Lock()
	err := unix.Pipe2(s.errfd[:], unix.O_CLOEXEC)
	if err != nil {
		syscall.ForkLock.Unlock()
		return 0, err
	}
	pid, errno := s.fork(dev)
	syscall.ForkLock.Unlock()
	unix.Close(s.errfd[1])
	defer unix.Close(s.errfd[0])
	if errno != 0 {
		return 0, errno
	}
	var buf [4]byte
	n, err := readFull(s.errfd[0], buf[:])
	if err == nil && n == 0 {
		return pid, nil
	}
	var status unix.WaitStatus
	for {
		_, werr := unix.Wait4(pid, &status, unix.WALL, nil)
		if !errors.Is(werr, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	if n != len(buf) {
		return 0, fmt.Errorf("child sent %d bytes of an errno", n)
	}
	return 0, unix.Errno(*(*uint32)(unsafe.Pointer(&buf[0])))
}

func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

//go:linkname runtimeAfterForkInChild syscall.runtime_AfterForkInChild
func runtimeAfterForkInChild()
