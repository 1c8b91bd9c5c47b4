package kcr

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/kcr-dev/kcr/uapi"
)

// CheckpointOptions are the flags and the message sink of a checkpoint.
type CheckpointOptions struct {
	// Subtree checkpoints a process subtree; without it the root must be
	// the init of a pid namespace (a container).
	Subtree bool
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
	if o.Log != nil {
		arg.Logfd = int32(o.Log.Fd())
	}
	id, err := d.ioctl(uapi.CKPT_IOC_CHECKPOINT, uintptr(unsafe.Pointer(&arg)))
	if err != nil {
		return 0, fmt.Errorf("kcr: checkpoint of pid %d: %w", pid, err)
	}
	return id, nil
}
