// Package kcr is the Go interface to kcr.ko: the linux-cr checkpoint/restart
// system calls, emulated as ioctls on /dev/checkpoint.
package kcr

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/uapi"
)

// DevicePath is where kcr.ko's misc device appears.
const DevicePath = "/dev/" + uapi.CKPT_DEVICE_NAME

// ErrNoModule tells that /dev/checkpoint is missing: kcr.ko is not loaded.
var ErrNoModule = errors.New("kcr: " + DevicePath + " not found (is kcr.ko loaded?)")

// Device is an open /dev/checkpoint.
type Device struct {
	f *os.File
}

// Open opens /dev/checkpoint.
func Open() (*Device, error) {
	f, err := os.OpenFile(DevicePath, os.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoModule
	}
	if err != nil {
		return nil, fmt.Errorf("kcr: %w", err)
	}
	return &Device{f: f}, nil
}

// Close closes the device.
func (d *Device) Close() error { return d.f.Close() }

// Fd returns the device's file descriptor.
func (d *Device) Fd() uintptr { return d.f.Fd() }

// ioctl issues an argument-less ioctl and returns its non-negative result.
func (d *Device) ioctl(req uint, arg uintptr) (int, error) {
	conn, err := d.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var r uintptr
	var errno unix.Errno
	cerr := conn.Control(func(fd uintptr) {
		var e unix.Errno
		r, _, e = unix.Syscall(unix.SYS_IOCTL, fd, uintptr(req), arg)
		errno = e
	})
	if cerr != nil {
		return 0, cerr
	}
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// ioctlSignalsBlocked is ioctl with every signal that can be blocked
// blocked on the calling thread. A checkpoint that streams its image
// into a full pipe waits in the pipe, where any signal with a handler
// ends the wait, and the checkpoint with EINTR: an image cannot go on
// from the middle. A Go program has handlers for every signal (SIGCHLD,
// SIGURG, ...); meanwhile those sent to the process go to its other
// threads, and SIGKILL still ends the call.
func (d *Device) ioctlSignalsBlocked(req uint, arg uintptr) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, old unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^all.Val[i]
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &all, &old); err != nil {
		return 0, fmt.Errorf("kcr: blocking signals: %w", err)
	}
	defer func() { _ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }()
	return d.ioctl(req, arg)
}

// Version returns the ABI version that the loaded kcr.ko speaks.
func (d *Device) Version() (int, error) {
	v, err := d.ioctl(uapi.CKPT_IOC_VERSION, 0)
	if err != nil {
		return 0, fmt.Errorf("kcr: version ioctl: %w", err)
	}
	return v, nil
}

// Ioctl issues a raw ioctl on the device; tests use it to probe the ABI.
func (d *Device) Ioctl(req uint, arg uintptr) (int, error) { return d.ioctl(req, arg) }
