package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/kcr-dev/kcr/uapi"
)

// Summary is what `kcr info` shows of an image.
type Summary struct {
	ByteOrder  string         `json:"byte_order"`
	Format     uint32         `json:"format_version"`
	Arch       string         `json:"arch"`
	Kernel     string         `json:"kernel"` // uts release
	KernelVer  string         `json:"kernel_version"`
	Machine    string         `json:"machine"`
	Time       time.Time      `json:"time"`
	Uflags     uint64         `json:"uflags"`
	PageSize   uint64         `json:"page_size"`
	RootPid    int32          `json:"root_pid"`
	Container  uint32         `json:"container_flags"`
	Tasks      []*TaskSummary `json:"tasks"`
	Sections   []*Section     `json:"sections"`
	Records    int            `json:"records"`
	Bytes      int64          `json:"bytes"`
	Complete   bool           `json:"complete"` // the TAIL record was read
	Errors     []string       `json:"checkpoint_errors,omitempty"`
	sectionIdx map[string]*Section
}

// TaskSummary counts what the image holds for one task. Shared objects
// count for the first task that refers to them, where they are defined.
type TaskSummary struct {
	Pid  int32  `json:"pid"`
	Tgid int32  `json:"tgid"`
	Ppid int32  `json:"ppid"`
	Sid  int32  `json:"sid"`
	Pgid int32  `json:"pgid"`
	Comm string `json:"comm"`
	// Zombie: the task had exited and waited to be reaped (its TASK
	// record's exit_state).
	Zombie   bool  `json:"zombie,omitempty"`
	VMAs     int   `json:"vmas"`
	Pages    int64 `json:"pages"`
	PageData int64 `json:"page_bytes"`
	Files    int   `json:"files"`
	Handlers int   `json:"signal_handlers"`
	Pending  int   `json:"pending_signals"`
	Bytes    int64 `json:"bytes"`
	// Namespaces says, by kind (NamespaceKinds), where the task stood:
	// 0 (uapi.CKPT_NS_CALLER) in the checkpointer's namespace, n > 0 in
	// the namespace the n-th task of the tree is in (1: the root's).
	Namespaces map[string]int32 `json:"namespaces,omitempty"`
	// Hostname and Domainname are the UTS names the image gives the task.
	Hostname   string `json:"hostname,omitempty"`
	Domainname string `json:"domainname,omitempty"`
}

// NamespaceKinds names the kinds of namespace by their CKPT_NS_* index.
var NamespaceKinds = [uapi.CKPT_NS_NKINDS]string{
	uapi.CKPT_NS_UTS:               "uts",
	uapi.CKPT_NS_IPC:               "ipc",
	uapi.CKPT_NS_MNT:               "mnt",
	uapi.CKPT_NS_NET:               "net",
	uapi.CKPT_NS_CGROUP:            "cgroup",
	uapi.CKPT_NS_TIME:              "time",
	uapi.CKPT_NS_TIME_FOR_CHILDREN: "time_for_children",
	uapi.CKPT_NS_PID:               "pid",
	uapi.CKPT_NS_PID_FOR_CHILDREN:  "pid_for_children",
	uapi.CKPT_NS_USER:              "user",
}

// Section totals the records of one part of the format.
type Section struct {
	Name    string `json:"name"`
	Records int    `json:"records"`
	Bytes   int64  `json:"bytes"`
}

var sectionNames = map[uint32]string{
	0: "image", 1: "tasks", 2: "cpu", 3: "files", 4: "memory",
	5: "ipc", 6: "signals", 7: "sockets", 90: "tail", 99: "errors",
}

func (s *Summary) section(typ uint32) *Section {
	name := sectionNames[typ/100]
	if sec, ok := s.sectionIdx[name]; ok {
		return sec
	}
	sec := &Section{Name: name}
	s.sectionIdx[name] = sec
	s.Sections = append(s.Sections, sec)
	return sec
}

var archNames = map[uint32]string{
	uapi.CKPT_ARCH_X86_64: "x86_64", uapi.CKPT_ARCH_S390X: "s390x", uapi.CKPT_ARCH_PPC64LE: "ppc64le",
}

func cstr(b []uint8) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Summarize reads a whole image. On a broken image it returns what it read
// up to the problem together with the error, which names the offset.
func Summarize(r io.Reader) (*Summary, error) {
	d := NewDecoder(r)
	s := &Summary{sectionIdx: map[string]*Section{}}
	var cur *TaskSummary
	next := 0
	// Object definitions being read (objtype -> objref), and what the
	// namespace objects hold, to name each task's UTS names.
	defining := map[uint32]int32{}
	utsNames := map[int32]*uapi.CkptHdrUtsNs{}
	nsUts := map[int32]int32{}
	for {
		rec, err := d.Next()
		if err == io.EOF {
			return s, nil
		}
		var ie *ImageError
		if errors.As(err, &ie) {
			s.Errors = append(s.Errors, ie.Error())
		} else if err != nil {
			return s, err
		}
		s.Records++
		s.Bytes += int64(rec.Len)
		sec := s.section(rec.Type)
		sec.Records++
		sec.Bytes += int64(rec.Len)
		switch b := rec.Body.(type) {
		case *uapi.CkptHdrHeader:
			s.Format = b.Version
			s.Arch = archNames[b.ArchId]
			s.Kernel = cstr(b.UtsRelease[:])
			s.KernelVer = cstr(b.UtsVersion[:])
			s.Machine = cstr(b.UtsMachine[:])
			s.Time = time.Unix(0, int64(b.Time)).UTC() // ns since the epoch
			s.Uflags = b.Uflags
			s.PageSize = d.PageSize()
			s.ByteOrder = "little-endian"
			if d.ByteOrder() == binary.BigEndian {
				s.ByteOrder = "big-endian"
			}
		case *uapi.CkptHdrContainer:
			s.RootPid, s.Container = b.RootPid, b.Flags
		case *uapi.CkptHdrTree:
			if s.Tasks != nil {
				return s, &FormatError{Offset: rec.Offset, Record: rec.Name(), Reason: "a second TREE record"}
			}
			pids := make([]uapi.CkptPids, b.NrTasks)
			if err := d.ReadPayload(pids); err != nil {
				return s, err
			}
			s.Tasks = make([]*TaskSummary, len(pids))
			for i, p := range pids {
				s.Tasks[i] = &TaskSummary{Pid: p.Vpid, Tgid: p.Vtgid, Ppid: p.Vppid, Sid: p.Vsid, Pgid: p.Vpgid}
			}
		case *uapi.CkptHdrTask:
			if next >= len(s.Tasks) {
				return s, &FormatError{Offset: rec.Offset, Record: rec.Name(),
					Reason: "more TASK records than tasks in the TREE"}
			}
			cur = s.Tasks[next]
			next++
			cur.Comm = cstr(b.Comm[:])
			cur.Zombie = b.ExitState != 0
		case *uapi.CkptHdrObjref:
			defining[b.Objtype] = b.Objref
		case *uapi.CkptHdrUtsNs:
			utsNames[defining[uapi.CKPT_OBJ_UTS_NS]] = b
		case *uapi.CkptHdrNs:
			nsUts[defining[uapi.CKPT_OBJ_NS]] = b.UtsRef
		case *uapi.CkptHdrTaskNs:
			if cur != nil {
				cur.Namespaces = map[string]int32{}
				for k, v := range b.Ns {
					cur.Namespaces[NamespaceKinds[k]] = v
				}
				if u, ok := utsNames[nsUts[b.NsRef]]; ok {
					cur.Hostname, cur.Domainname = cstr(u.Nodename[:]), cstr(u.Domainname[:])
				}
			}
		case *uapi.CkptHdrVma:
			if cur != nil {
				cur.VMAs++
			}
		case *uapi.CkptHdrPgarr:
			if _, err := d.PageAddrs(); err != nil {
				return s, err
			}
			if cur != nil {
				cur.Pages += int64(b.NrPages)
				cur.PageData += int64(b.NrPages) * int64(d.PageSize())
			}
		case *uapi.CkptHdrFileDesc:
			if cur != nil {
				cur.Files++
			}
		case *uapi.CkptHdrSighand:
			acts := make([]uapi.CkptSigaction, b.NrSigactions)
			if err := d.ReadPayload(acts); err != nil {
				return s, err
			}
			for _, a := range acts {
				if a.SaHandler > 1 && cur != nil { // neither SIG_DFL nor SIG_IGN
					cur.Handlers++
				}
			}
		case *uapi.CkptHdrSigpending:
			if cur != nil {
				cur.Pending += int(b.NrPending)
			}
		case *uapi.CkptHdrTail:
			s.Complete = true
		}
		if rec.Type == uapi.CKPT_HDR_STRING {
			if _, err := d.String(); err != nil {
				return s, err
			}
		}
		if cur != nil {
			cur.Bytes += int64(rec.Len)
		}
	}
}
