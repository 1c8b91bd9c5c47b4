package kcr

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/uapi"
)

// childExitStatus is the status of a child that failed before its
// execve() (after it sent the errno to the parent), as syscall's 253.
const childExitStatus = 253

// fork does CKPT_IOC_CLONE_WITH_PIDS on dev and, in the child, sets up
// what s asks for and execs. Between runtimeBeforeFork() and the execve()
// it may call nothing but nosplit functions (syscall.RawSyscall*): the
// runtime made stack growth fatal, and in the child no other thread of
// the runtime exists. Modelled on syscall.forkAndExecInChild1.
//
//go:noinline
//go:norace
//go:nocheckptr
func (s *spawn) fork(dev int) (pid int, err syscall.Errno) {
	argp := uintptr(unsafe.Pointer(&s.args))

	runtimeBeforeFork()
	r, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(dev), uapi.CKPT_IOC_CLONE_WITH_PIDS, argp)
	if e != 0 || r != 0 {
		runtimeAfterFork()
		return int(r), e
	}

	// The child.
	runtimeAfterForkInChild()
	a := &s.attr
	if a.Setsid {
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETSID, 0, 0, 0); e != 0 {
			childFail(s.errfd[1], e)
		}
	}
	if a.Setpgid {
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETPGID, 0, uintptr(a.Pgid), 0); e != 0 {
			childFail(s.errfd[1], e)
		}
	}
	if a.Pdeathsig != 0 {
		if _, _, e = syscall.RawSyscall6(syscall.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(a.Pdeathsig), 0, 0, 0, 0); e != 0 {
			childFail(s.errfd[1], e)
		}
	}
	if s.dir != nil {
		if _, _, e = syscall.RawSyscall(syscall.SYS_CHDIR, uintptr(unsafe.Pointer(s.dir)), 0, 0); e != 0 {
			childFail(s.errfd[1], e)
		}
	}

	// Descriptors, as syscall does it: first move every fds[i] < i and
	// the error pipe above all of them, then dup each onto its place.
	fds := s.fds
	errw := s.errfd[1]
	next := len(fds)
	for _, fd := range fds {
		if fd >= next {
			next = fd + 1
		}
	}
	if errw >= next {
		next = errw + 1
	}
	if errw < len(fds) {
		if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(errw), uintptr(next), syscall.O_CLOEXEC); e != 0 {
			childFail(errw, e)
		}
		errw = next
		next++
	}
	for i := 0; i < len(fds); i++ {
		if fds[i] >= 0 && fds[i] < i {
			if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(fds[i]), uintptr(next), syscall.O_CLOEXEC); e != 0 {
				childFail(errw, e)
			}
			fds[i] = next
			next++
		}
	}
	for i := 0; i < len(fds); i++ {
		switch {
		case fds[i] == -1:
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(i), 0, 0)
		case fds[i] == i:
			// dup3(i, i) would not clear close-on-exec.
			if _, _, e = syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(i), syscall.F_SETFD, 0); e != 0 {
				childFail(errw, e)
			}
		default:
			if _, _, e = syscall.RawSyscall(syscall.SYS_DUP3, uintptr(fds[i]), uintptr(i), 0); e != 0 {
				childFail(errw, e)
			}
		}
	}

	_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE,
		uintptr(unsafe.Pointer(s.path)),
		uintptr(unsafe.Pointer(&s.argv[0])),
		uintptr(unsafe.Pointer(&s.envv[0])))
	childFail(errw, e)
	return 0, 0 // not reached
}

// childFail sends errno to the parent and ends the child.
//
//go:nosplit
//go:norace
func childFail(fd int, errno syscall.Errno) {
	v := uint32(errno)
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v))
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, childExitStatus, 0, 0)
	}
}
