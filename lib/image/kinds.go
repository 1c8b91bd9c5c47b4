// Package image reads and writes kcr checkpoint images: the record stream
// of uapi/linux/checkpoint_hdr.h, in the byte order of the machine that
// produced it.
package image

import (
	"fmt"
	"reflect"

	"github.com/kcr-dev/kcr/uapi"
)

// kind describes one record type: its name, the struct that starts it and
// how many payload bytes must follow that struct.
type kind struct {
	name string
	body reflect.Type // nil: the record is a bare struct ckpt_hdr
	// payload returns the exact payload size the body announces; nil
	// means the payload is free-form (BUFFER, STRING, MM_AUXV) or absent.
	payload func(body any, pageSize uint64) uint64
}

func t[T any]() reflect.Type { return reflect.TypeFor[T]() }

// kinds holds every record type of the format. Record types that are not
// here are unknown to this reader: it refuses them, since it could not
// check them.
var kinds = map[uint32]kind{
	uapi.CKPT_HDR_HEADER:      {"HEADER", t[uapi.CkptHdrHeader](), nil},
	uapi.CKPT_HDR_HEADER_ARCH: {"HEADER_ARCH", t[uapi.CkptHdrHeaderArch](), nil},
	uapi.CKPT_HDR_CONTAINER:   {"CONTAINER", t[uapi.CkptHdrContainer](), nil},
	uapi.CKPT_HDR_BUFFER:      {"BUFFER", nil, nil},
	uapi.CKPT_HDR_STRING:      {"STRING", nil, nil},
	uapi.CKPT_HDR_OBJREF:      {"OBJREF", t[uapi.CkptHdrObjref](), nil},
	uapi.CKPT_HDR_TREE: {"TREE", t[uapi.CkptHdrTree](), func(b any, _ uint64) uint64 {
		h := b.(*uapi.CkptHdrTree)
		return uint64(h.NrTasks)*uint64(sizeOf[uapi.CkptPids]()) + uint64(h.NrVpids)*4
	}},
	uapi.CKPT_HDR_TASK:          {"TASK", t[uapi.CkptHdrTask](), nil},
	uapi.CKPT_HDR_TASK_NS:       {"TASK_NS", t[uapi.CkptHdrTaskNs](), nil},
	uapi.CKPT_HDR_TASK_OBJS:     {"TASK_OBJS", t[uapi.CkptHdrTaskObjs](), nil},
	uapi.CKPT_HDR_RESTART_BLOCK: {"RESTART_BLOCK", t[uapi.CkptHdrRestartBlock](), nil},
	uapi.CKPT_HDR_THREAD:        {"THREAD", t[uapi.CkptHdrThread](), nil},
	uapi.CKPT_HDR_NS:            {"NS", t[uapi.CkptHdrNs](), nil},
	uapi.CKPT_HDR_UTS_NS:        {"UTS_NS", t[uapi.CkptHdrUtsNs](), nil},
	uapi.CKPT_HDR_IPC_NS:        {"IPC_NS", t[uapi.CkptHdrIpcNs](), nil},
	uapi.CKPT_HDR_USER_NS: {"USER_NS", t[uapi.CkptHdrUserNs](), func(b any, _ uint64) uint64 {
		h := b.(*uapi.CkptHdrUserNs)
		return (uint64(h.NrUidExtents) + uint64(h.NrGidExtents)) * uint64(sizeOf[uapi.CkptIdExtent]())
	}},
	uapi.CKPT_HDR_CRED: {"CRED", t[uapi.CkptHdrCred](), nil},
	uapi.CKPT_HDR_USER: {"USER", t[uapi.CkptHdrUser](), nil},
	uapi.CKPT_HDR_GROUPINFO: {"GROUPINFO", t[uapi.CkptHdrGroupinfo](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrGroupinfo).Ngroups) * 4
	}},
	uapi.CKPT_HDR_TASK_CREDS: {"TASK_CREDS", t[uapi.CkptHdrTaskCreds](), nil},
	uapi.CKPT_HDR_FS:         {"FS", t[uapi.CkptHdrFs](), nil},
	uapi.CKPT_HDR_SECCOMP:    {"SECCOMP", t[uapi.CkptHdrSeccomp](), nil},
	uapi.CKPT_HDR_SECCOMP_FILTER: {"SECCOMP_FILTER", t[uapi.CkptHdrSeccompFilter](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrSeccompFilter).Len) * 8 // struct sock_filter
	}},
	uapi.CKPT_HDR_CPU_X86: {"CPU_X86", t[uapi.CkptHdrCpuX86](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrCpuX86).FpuSize)
	}},
	uapi.CKPT_HDR_CPU_S390:    {"CPU_S390", t[uapi.CkptHdrCpuS390](), nil},
	uapi.CKPT_HDR_CPU_PPC64:   {"CPU_PPC64", t[uapi.CkptHdrCpuPpc64](), nil},
	uapi.CKPT_HDR_FILE_TABLE:  {"FILE_TABLE", t[uapi.CkptHdrFileTable](), nil},
	uapi.CKPT_HDR_FILE_DESC:   {"FILE_DESC", t[uapi.CkptHdrFileDesc](), nil},
	uapi.CKPT_HDR_FILE:        {"FILE", t[uapi.CkptHdrFile](), nil},
	uapi.CKPT_HDR_FILE_PIPE:   {"FILE_PIPE", t[uapi.CkptHdrFilePipe](), nil},
	uapi.CKPT_HDR_FILE_FIFO:   {"FILE_FIFO", t[uapi.CkptHdrFilePipe](), nil},
	uapi.CKPT_HDR_FILE_SOCKET: {"FILE_SOCKET", t[uapi.CkptHdrFileSocket](), nil},
	uapi.CKPT_HDR_FILE_TTY:    {"FILE_TTY", t[uapi.CkptHdrFileTty](), nil},
	uapi.CKPT_HDR_PIPE_BUF: {"PIPE_BUF", t[uapi.CkptHdrPipeBuf](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrPipeBuf).DataLen)
	}},
	uapi.CKPT_HDR_TTY: {"TTY", t[uapi.CkptHdrTty](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrTty).DataLen)
	}},
	uapi.CKPT_HDR_MM:  {"MM", t[uapi.CkptHdrMm](), nil},
	uapi.CKPT_HDR_VMA: {"VMA", t[uapi.CkptHdrVma](), nil},
	uapi.CKPT_HDR_PGARR: {"PGARR", t[uapi.CkptHdrPgarr](), func(b any, pageSize uint64) uint64 {
		p := b.(*uapi.CkptHdrPgarr)
		n := uint64(p.NrPages)
		return n*8 + uint64(p.Pad) + n*pageSize
	}},
	uapi.CKPT_HDR_PGARR_CLEAN: {"PGARR_CLEAN", t[uapi.CkptHdrPgarrClean](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrPgarrClean).NrPages) * 8
	}},
	uapi.CKPT_HDR_MM_AUXV: {"MM_AUXV", nil, nil},
	uapi.CKPT_HDR_SHMEM:   {"SHMEM", t[uapi.CkptHdrShmem](), nil},
	uapi.CKPT_HDR_IPC_SHM: {"IPC_SHM", t[uapi.CkptHdrIpcShm](), nil},
	uapi.CKPT_HDR_IPC_MSG: {"IPC_MSG", t[uapi.CkptHdrIpcMsg](), nil},
	uapi.CKPT_HDR_IPC_MSG_MSG: {"IPC_MSG_MSG", t[uapi.CkptHdrIpcMsgMsg](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrIpcMsgMsg).MTs)
	}},
	uapi.CKPT_HDR_IPC_SEM: {"IPC_SEM", t[uapi.CkptHdrIpcSem](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrIpcSem).SemNsems) * uint64(sizeOf[uapi.CkptSem]())
	}},
	uapi.CKPT_HDR_SIGHAND: {"SIGHAND", t[uapi.CkptHdrSighand](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrSighand).NrSigactions) * uint64(sizeOf[uapi.CkptSigaction]())
	}},
	uapi.CKPT_HDR_SIGNAL:      {"SIGNAL", t[uapi.CkptHdrSignal](), nil},
	uapi.CKPT_HDR_SIGNAL_TASK: {"SIGNAL_TASK", t[uapi.CkptHdrSignalTask](), nil},
	uapi.CKPT_HDR_SIGPENDING: {"SIGPENDING", t[uapi.CkptHdrSigpending](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrSigpending).NrPending) * uint64(sizeOf[uapi.CkptSiginfo]())
	}},
	uapi.CKPT_HDR_POSIX_TIMERS: {"POSIX_TIMERS", t[uapi.CkptHdrPosixTimers](), nil},
	uapi.CKPT_HDR_POSIX_TIMER:  {"POSIX_TIMER", t[uapi.CkptHdrPosixTimer](), nil},
	uapi.CKPT_HDR_SOCKET_UNIX:  {"SOCKET_UNIX", t[uapi.CkptHdrSocketUnix](), nil},
	uapi.CKPT_HDR_SOCKET_BUFFER: {"SOCKET_BUFFER", t[uapi.CkptHdrSocketBuffer](), func(b any, _ uint64) uint64 {
		h := b.(*uapi.CkptHdrSocketBuffer)
		return uint64(h.DataLen) + uint64(h.NrFiles)*4
	}},
	uapi.CKPT_HDR_TAIL: {"TAIL", t[uapi.CkptHdrTail](), nil},
	uapi.CKPT_HDR_ERROR: {"ERROR", t[uapi.CkptHdrError](), func(b any, _ uint64) uint64 {
		return uint64(b.(*uapi.CkptHdrError).MsgLen)
	}},
}

// TypeName returns the name of a record type, as in CKPT_HDR_<name>.
func TypeName(typ uint32) string {
	if k, ok := kinds[typ]; ok {
		return k.name
	}
	return fmt.Sprintf("unknown(%d)", typ)
}

// Types returns every record type this package knows.
func Types() []uint32 {
	var ts []uint32
	for k := range kinds {
		ts = append(ts, k)
	}
	return ts
}

// NewBody returns a pointer to a zero struct of the record type, or nil
// for records that have no struct beyond struct ckpt_hdr.
func NewBody(typ uint32) any {
	k, ok := kinds[typ]
	if !ok || k.body == nil {
		return nil
	}
	return reflect.New(k.body).Interface()
}

func sizeOf[T any]() int { return int(reflect.TypeFor[T]().Size()) }
