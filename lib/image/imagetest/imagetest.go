// Package imagetest builds small, complete kcr images for tests, fuzz
// seeds and examples.
package imagetest

import (
	"bytes"
	"encoding/binary"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
)

// Task is one task of a sample image.
type Task struct {
	Pid, Ppid int32
	// Tgid, Sid and Pgid default to Pid, 1 and 1 when 0: a thread has a
	// Tgid other than its Pid.
	Tgid, Sid, Pgid int32
	Comm            string
	Pages           int // anonymous pages in its one VMA
	Files           []string
	Pending         []int32 // pending signals
}

// TwoTasks is a parent (pid 1, "init") and its child (pid 2, "worker").
var TwoTasks = []Task{
	{Pid: 1, Ppid: 0, Comm: "init", Pages: 1, Files: []string{"/dev/null", "/tmp/log"}},
	{Pid: 2, Ppid: 1, Comm: "worker", Pages: 2, Files: []string{"/etc/hostname"}, Pending: []int32{10, 34}},
}

// PageSize of the sample images.
const PageSize = 4096

// Image returns a complete image of the tasks in the given byte order, as
// produced on x86-64.
func Image(order binary.ByteOrder, tasks []Task) []byte {
	var buf bytes.Buffer
	if err := Write(image.NewEncoder(&buf, order), tasks); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Write encodes the tasks' image with e and flushes it.
func Write(e *image.Encoder, tasks []Task) error {
	w := &writer{e: e}
	w.header()
	w.tree(tasks)
	for _, t := range tasks {
		w.task(t)
	}
	w.rec(uapi.CKPT_HDR_TAIL, &uapi.CkptHdrTail{Magic: uapi.CKPT_MAGIC_TAIL})
	if w.err != nil {
		return w.err
	}
	return e.Flush()
}

type writer struct {
	e      *image.Encoder
	err    error
	objref int32
	nsRef  int32 // the tasks' NS object, once defined
}

// namespaces: the tasks share a UTS namespace of their own (the root's,
// "kcr-host"); a task other than the root is also in a network namespace
// of its own. The rest are the checkpointer's.
func (w *writer) namespaces(t Task) {
	h := &uapi.CkptHdrTaskNs{}
	if w.nsRef == 0 {
		w.nsRef = w.obj(uapi.CKPT_OBJ_NS)
		uts := w.obj(uapi.CKPT_OBJ_UTS_NS)
		u := &uapi.CkptHdrUtsNs{}
		fixed(u.Sysname[:], "Linux")
		fixed(u.Nodename[:], "kcr-host")
		fixed(u.Release[:], "6.1.0-50-amd64")
		fixed(u.Machine[:], "x86_64")
		fixed(u.Domainname[:], "(none)")
		w.rec(uapi.CKPT_HDR_UTS_NS, u)
		w.rec(uapi.CKPT_HDR_NS, &uapi.CkptHdrNs{UtsRef: uts})
	} else {
		h.Ns[uapi.CKPT_NS_NET] = 2
	}
	h.NsRef = w.nsRef
	h.Ns[uapi.CKPT_NS_UTS] = 1
	w.rec(uapi.CKPT_HDR_TASK_NS, h)
}

func (w *writer) rec(typ uint32, body any, payload ...any) {
	if w.err == nil {
		w.err = w.e.Record(typ, body, payload...)
	}
}

func (w *writer) str(s string) {
	if w.err == nil {
		w.err = w.e.String(s)
	}
}

// obj starts the definition of a new shared object and returns its ref.
func (w *writer) obj(objtype uint32) int32 {
	w.objref++
	w.rec(uapi.CKPT_HDR_OBJREF, &uapi.CkptHdrObjref{Objtype: objtype, Objref: w.objref})
	return w.objref
}

func fixed(dst []uint8, s string) { copy(dst, s) }

func (w *writer) header() {
	h := &uapi.CkptHdrHeader{
		Magic:   uapi.CKPT_MAGIC_HEAD,
		Version: uapi.CKPT_IMAGE_VERSION,
		ArchId:  uapi.CKPT_ARCH_X86_64,
		Major:   6, Minor: 1, Patch: 176,
		Constants: uapi.CkptConst{
			TaskCommLen: uapi.CKPT_TASK_COMM_LEN, UtsLen: uapi.CKPT_UTS_LEN,
			SignalNsig: uapi.CKPT_NSIG, RlimitNlimits: uapi.CKPT_RLIM_NLIMITS,
			PageSize: PageSize, SunPathLen: uapi.CKPT_SUN_PATH_LEN, TtyNcc: uapi.CKPT_TTY_NCC,
		},
		Time: 1795000000 * 1e9, // ns
	}
	fixed(h.UtsRelease[:], "6.1.0-50-amd64")
	fixed(h.UtsVersion[:], "#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1")
	fixed(h.UtsMachine[:], "x86_64")
	w.rec(uapi.CKPT_HDR_HEADER, h)
	w.rec(uapi.CKPT_HDR_HEADER_ARCH, &uapi.CkptHdrHeaderArch{ArchId: uapi.CKPT_ARCH_X86_64, XstateSize: 512})
	w.rec(uapi.CKPT_HDR_CONTAINER, &uapi.CkptHdrContainer{RootPid: 1, Flags: uapi.CKPT_CONTAINER_SUBTREE})
}

func (w *writer) tree(tasks []Task) {
	pids := make([]uapi.CkptPids, len(tasks))
	for i, t := range tasks {
		pids[i] = uapi.CkptPids{Vpid: t.Pid, Vtgid: or(t.Tgid, t.Pid), Vppid: t.Ppid,
			Vsid: or(t.Sid, 1), Vpgid: or(t.Pgid, 1)}
	}
	w.rec(uapi.CKPT_HDR_TREE, &uapi.CkptHdrTree{NrTasks: uint32(len(tasks))}, pids)
}

func (w *writer) task(t Task) {
	task := &uapi.CkptHdrTask{ExitSignal: 17, Personality: 0}
	fixed(task.Comm[:], t.Comm)
	w.rec(uapi.CKPT_HDR_TASK, task)

	cred := w.obj(uapi.CKPT_OBJ_CRED)
	w.rec(uapi.CKPT_HDR_CRED, &uapi.CkptHdrCred{Uid: 1000, Euid: 1000, Suid: 1000, Fsuid: 1000,
		Gid: 1000, Egid: 1000, Sgid: 1000, Fsgid: 1000})
	w.rec(uapi.CKPT_HDR_TASK_CREDS, &uapi.CkptHdrTaskCreds{CredRef: cred, EcredRef: cred})
	w.namespaces(t)

	files := w.obj(uapi.CKPT_OBJ_FILE_TABLE)
	w.rec(uapi.CKPT_HDR_FILE_TABLE, &uapi.CkptHdrFileTable{NrFds: uint32(len(t.Files))})
	for fd, path := range t.Files {
		ref := w.obj(uapi.CKPT_OBJ_FILE)
		w.rec(uapi.CKPT_HDR_FILE, &uapi.CkptHdrFile{Common: uapi.CkptFile{
			FType: uapi.CKPT_FILE_GENERIC, FFlags: 2, FCredRef: cred, FPos: int64(100 * fd)}})
		w.str(path)
		w.rec(uapi.CKPT_HDR_FILE_DESC, &uapi.CkptHdrFileDesc{Fd: int32(fd), FileRef: ref})
	}

	fs := w.obj(uapi.CKPT_OBJ_FS)
	w.rec(uapi.CKPT_HDR_FS, &uapi.CkptHdrFs{Umask: 0o22})
	w.str("/")
	w.str("/tmp")

	mm := w.obj(uapi.CKPT_OBJ_MM)
	const start = 0x7f0000000000
	w.rec(uapi.CKPT_HDR_MM, &uapi.CkptHdrMm{NrVmas: 1, StartStack: start, NrAuxv: 2})
	w.rec(uapi.CKPT_HDR_MM_AUXV, nil, []uint64{6, PageSize})
	w.rec(uapi.CKPT_HDR_VMA, &uapi.CkptHdrVma{VmaType: uapi.CKPT_VMA_ANON, VmStart: start,
		VmEnd: start + uint64(t.Pages+1)*PageSize, VmFlags: 0x73})
	addrs := make([]uint64, t.Pages)
	pages := make([]byte, t.Pages*PageSize)
	for i := range addrs {
		addrs[i] = start + uint64(i)*PageSize
		for j := range PageSize {
			pages[i*PageSize+j] = byte(int(t.Pid) + i + j)
		}
	}
	if t.Pages > 0 {
		w.err = firstErr(w.err, w.e.Pages(addrs, pages))
	}
	w.err = firstErr(w.err, w.e.Pages(nil, nil))

	sighand := w.obj(uapi.CKPT_OBJ_SIGHAND)
	acts := make([]uapi.CkptSigaction, uapi.CKPT_NSIG)
	acts[1] = uapi.CkptSigaction{SaHandler: 0x401000, SaFlags: 0x04000000}
	w.rec(uapi.CKPT_HDR_SIGHAND, &uapi.CkptHdrSighand{NrSigactions: uapi.CKPT_NSIG}, acts)
	signal := w.obj(uapi.CKPT_OBJ_SIGNAL)
	w.rec(uapi.CKPT_HDR_SIGNAL, &uapi.CkptHdrSignal{NrRlimits: uapi.CKPT_RLIM_NLIMITS})
	w.rec(uapi.CKPT_HDR_SIGPENDING, &uapi.CkptHdrSigpending{Shared: 1})

	w.rec(uapi.CKPT_HDR_TASK_OBJS, &uapi.CkptHdrTaskObjs{FilesRef: files, FsRef: fs, MmRef: mm,
		SighandRef: sighand, SignalRef: signal})
	w.rec(uapi.CKPT_HDR_SIGNAL_TASK, &uapi.CkptHdrSignalTask{Blocked: 1 << 9})
	info := make([]uapi.CkptSiginfo, len(t.Pending))
	var set uint64
	for i, s := range t.Pending {
		info[i] = uapi.CkptSiginfo{SiSigno: s}
		set |= 1 << (s - 1)
	}
	w.rec(uapi.CKPT_HDR_SIGPENDING, &uapi.CkptHdrSigpending{NrPending: uint32(len(info)), Signal: set}, info)
	w.rec(uapi.CKPT_HDR_RESTART_BLOCK, &uapi.CkptHdrRestartBlock{})
	w.rec(uapi.CKPT_HDR_THREAD, &uapi.CkptHdrThread{SyscallNr: -1})
	fpu := make([]byte, 512)
	w.rec(uapi.CKPT_HDR_CPU_X86, &uapi.CkptHdrCpuX86{Ip: 0x401234, Sp: start + 0x800, Cs: 0x33, Ss: 0x2b,
		FpuFormat: uapi.CKPT_X86_FPU_FXSAVE, FpuSize: uint32(len(fpu))}, fpu)
	w.rec(uapi.CKPT_HDR_POSIX_TIMERS, &uapi.CkptHdrPosixTimers{})
	w.rec(uapi.CKPT_HDR_SECCOMP, &uapi.CkptHdrSeccomp{Flags: uapi.CKPT_SECCOMP_SPEC_ALLOW})
}

func or(v, def int32) int32 {
	if v != 0 {
		return v
	}
	return def
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
