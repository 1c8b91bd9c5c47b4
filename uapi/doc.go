// Package uapi holds the kcr kernel ABI: the C headers shared with kcr.ko
// and their Go translation.
//
// The headers: linux/checkpoint.h (the ioctls of /dev/checkpoint, their
// argument structs and flags) and linux/checkpoint_hdr.h (the image
// format), which includes the register records of every architecture
// from asm-x86/, asm-s390/ and asm-powerpc/.
//
// The Go files are generated from them by the C compiler of each
// architecture (go generate ./...; see gen/): what all of them render
// alike in ztypes_linux.go, the rest in ztypes_linux_GOARCH.go. struct
// ckpt_hdr_task is CkptHdrTask, its member vm_start is VmStart (each
// _-separated word capitalised, padding members are blank fields), and
// constants keep their C names and are untyped. The structs are the same
// on every architecture; the ioctl numbers are not (powerpc encodes _IO
// differently), nor CKPT_ARCH_ID and CKPT_HDR_CPU, which name the
// architecture the package is built for.
package uapi
