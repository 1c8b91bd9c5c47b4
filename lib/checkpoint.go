package kcr

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/kcr-dev/kcr/uapi"
)

// CheckpointOptions are the flags and the message sink of a checkpoint.
type CheckpointOptions struct {
	// Subtree checkpoints a process subtree; without it the root must be
	// the init of a pid namespace (a container).
	Subtree bool
	// DirtyOnly writes only the pages written since the soft-dirty bits
	// were cleared, and the addresses of the others (PGARR_CLEAN): the
	// last step of a pre-copy, whose image lib/precopy merges.
	DirtyOnly bool
	// Log receives kcr.ko's messages (logfd); nil for none.
	Log *os.File
	// Flags are raw CHECKPOINT_* flags added to the above (tests use them
	// to probe the ABI).
	Flags uint64
}

// Checkpoint writes the image of the process tree rooted at pid to image,
// as sys_checkpoint did. pid 0 checkpoints the calling thread itself; an
// external target must be frozen and ptrace-attachable by the caller. It
// returns the checkpoint id (> 0).
func (d *Device) Checkpoint(pid int, image *os.File, o CheckpointOptions) (int, error) {
	arg := uapi.CkptIocCheckpoint{
		Pid:   int32(pid),
		Fd:    int32(image.Fd()),
		Flags: o.Flags,
		Logfd: uapi.CHECKPOINT_FD_NONE,
	}
	if o.Subtree {
		arg.Flags |= uapi.CHECKPOINT_SUBTREE
	}
	if o.DirtyOnly {
		arg.Flags |= uapi.CHECKPOINT_DIRTY_ONLY
	}
	if o.Log != nil {
		arg.Logfd = int32(o.Log.Fd())
	}
	id, err := d.ioctlSignalsBlocked(uapi.CKPT_IOC_CHECKPOINT, uintptr(unsafe.Pointer(&arg)))
	if err != nil {
		return 0, fmt.Errorf("kcr: checkpoint of pid %d: %w", pid, err)
	}
	return id, nil
}

// RestartOptions are the flags and the message sink of a restart.
type RestartOptions struct {
	// NoPids gives the restarted tasks fresh pids instead of the image's.
	NoPids bool
	// TaskSelf makes the calling thread turn into the image's task Pid
	// (0: the one with the caller's pid, or the only one). Only for
	// single-threaded C callers: a Go program has several threads.
	TaskSelf bool
	Pid      int
	// AllowChangedFiles reopens files that changed since the checkpoint
	// (another inode at the path, another size, mtime or ctime) instead
	// of failing the restart with ESTALE.
	AllowChangedFiles bool
	// MapImage maps large runs of anonymous memory straight from the
	// image file, copy-on-write, instead of copying them
	// (RESTART_MAP_IMAGE, with what that means for those mappings).
	MapImage bool
	// Log receives kcr.ko's messages (logfd); nil for none.
	Log *os.File
	// FrozenIn, a cgroup v2 directory that is not frozen, is where the
	// restarted tree is made; it is frozen once the tree is restored,
	// before any task runs (RESTART_FROZEN). The caller thaws it.
	FrozenIn *os.File
	// Flags are raw RESTART_* flags added to the above.
	Flags uint64
}

// Restart restores the image read from image, as sys_restart did. The
// caller is the coordinator: the restored root task becomes its child,
// and Restart returns that task's pid once it is fully restored and on
// its way back to user mode; the caller waits for it like for any child.
func (d *Device) Restart(image *os.File, o RestartOptions) (int, error) {
	arg := uapi.CkptIocRestart{
		Pid:   int32(o.Pid),
		Fd:    int32(image.Fd()),
		Flags: o.Flags,
		Logfd: uapi.CHECKPOINT_FD_NONE,
	}
	if o.NoPids {
		arg.Flags |= uapi.RESTART_NO_PIDS
	}
	if o.TaskSelf {
		arg.Flags |= uapi.RESTART_TASKSELF
	}
	if o.AllowChangedFiles {
		arg.Flags |= uapi.RESTART_ALLOW_CHANGED_FILES
	}
	if o.MapImage {
		arg.Flags |= uapi.RESTART_MAP_IMAGE
	}
	if o.Log != nil {
		arg.Logfd = int32(o.Log.Fd())
	}
	if o.FrozenIn != nil {
		arg.Flags |= uapi.RESTART_FROZEN
		arg.Cgroup = int32(o.FrozenIn.Fd())
	}
	pid, err := d.ioctl(uapi.CKPT_IOC_RESTART, uintptr(unsafe.Pointer(&arg)))
	if err != nil {
		return 0, fmt.Errorf("kcr: restart from %s: %w", image.Name(), err)
	}
	return pid, nil
}

// Wait waits for the restarted process pid (a child of the caller) to
// end and returns its status. A restored process keeps the exit signal
// of its image, which need not be SIGCHLD: wait4() without __WALL would
// not see it (ECHILD), so Wait always passes WALL. It retries on EINTR.
func Wait(pid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if err != unix.EINTR {
			return ws, err
		}
	}
}
