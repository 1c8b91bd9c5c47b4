//go:build kcrguest

package guest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// The names rt_ns gives its own UTS namespace.
const (
	nsHost   = "kcr-ns-host"
	nsDomain = "kcr-ns-domain"
)

// nsKinds are the entries of /proc/PID/ns, by CKPT_NS_* index.
var nsKinds = image.NamespaceKinds

// nsLinks reads the /proc/PID/ns links ("self" for ours), by kind.
func nsLinks(t *testing.T, pid string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, k := range nsKinds {
		l, err := os.Readlink(filepath.Join("/proc", pid, "ns", k))
		if err != nil {
			t.Fatal(err)
		}
		m[k] = l
	}
	return m
}

// hostname is this process's UTS nodename and domainname.
func hostname(t *testing.T) (string, string) {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	return unix.ByteSliceToString(u.Nodename[:]), unix.ByteSliceToString(u.Domainname[:])
}

// startNs starts rt_ns in mode and waits until the process to checkpoint
// is set up; it returns that process's pid (a child of the workload in
// the pid and time modes).
func startNs(t *testing.T, mode string, args ...string) (*roundTrip, *workload, int) {
	t.Helper()
	rt, w := startRoundTrip(t, "rt_ns", append([]string{mode}, args...)...)
	var pid int
	waitUntil(t, rt, w, "rt_ns "+mode+" did not get ready", func() bool {
		if _, err := os.Stat(rt.Image + ".ready"); err != nil {
			return false
		}
		b, err := os.ReadFile(rt.Image + ".pid")
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return rt, w, pid
}

// freezePid freezes pid in a cgroup of its own until the test ends.
func freezePid(t *testing.T, pid int) *freezer.Cgroup {
	t.Helper()
	if err := freezer.Mount(); err != nil {
		t.Fatal(err)
	}
	cg, err := freezer.New(fmt.Sprintf("kcr-test-ns-%d", pid))
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.Add(pid); err != nil {
		t.Fatal(err)
	}
	if err := cg.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cg.Thaw(); _ = unix.Kill(pid, unix.SIGKILL); _ = cg.Remove() })
	return cg
}

// A process in a namespace of a kind whose contents are not saved
// (issue 13) is refused at checkpoint with EOPNOTSUPP and a message
// naming the kind; it is left running as it was: thawed and woken, it
// finds its namespaces and their state (the SysV message queue and
// semaphore of its IPC namespace) unchanged.
func TestCheckpointNamespaceRefused(t *testing.T) {
	d := device(t)
	for _, c := range []struct{ mode, msg string }{
		{"ipc", "task %d is in its own IPC namespace: not supported yet"},
		{"mnt", "task %d is in its own mount namespace: not supported yet"},
		{"net", "task %d is in its own network namespace: not supported yet"},
		{"cgroup", "task %d is in its own cgroup namespace: not supported yet"},
		{"user", "task %d is in its own user namespace: not supported yet"},
		{"time", "task %d is in its own time namespace: not supported yet"},
		// A pid namespace of its own is restored (restart_pidns_test.go);
		// one prepared for its next children is not.
		{"pid-children", "task %d has its own pid namespace for its children (unshare(CLONE_NEWPID)): not supported yet"},
		{"time-children", "task %d has its own time namespace (unshared for its children): not supported yet"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			rt, w, pid := startNs(t, c.mode)
			cg := freezePid(t, pid)
			img, err := os.Create(rt.Image)
			if err != nil {
				t.Fatal(err)
			}
			logw, logs := logPipe(t)
			_, err = d.Checkpoint(pid, img, kcr.CheckpointOptions{Subtree: true, Log: logw})
			img.Close()
			log := logs()
			want := fmt.Sprintf(c.msg, pid)
			if !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(log, want) {
				t.Fatalf("checkpoint: %v, log %q; want EOPNOTSUPP and %q", err, log, want)
			}
			if err := cg.Thaw(); err != nil {
				t.Fatal(err)
			}
			if err := unix.Kill(pid, unix.SIGUSR1); err != nil {
				t.Fatal(err)
			}
			if err := w.cmd.Wait(); err != nil {
				t.Fatalf("rt_ns %s after the refused checkpoint: %v\nreport:\n%s", c.mode, err, rt.Report())
			}
			if !strings.Contains(rt.Report(), "PASS: 0 failures") {
				t.Fatalf("report:\n%s", rt.Report())
			}
		})
	}
}

// taskNs is the TASK_NS summary of the image's only task.
func taskNs(t *testing.T, path string) *image.TaskSummary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := image.Summarize(f)
	if err != nil || len(s.Tasks) != 1 || s.Tasks[0].Namespaces == nil {
		t.Fatalf("summary of %s: %v %+v", path, err, s)
	}
	return s.Tasks[0]
}

// requireNs checks the namespaces of the image's task: own in the kinds
// of own (the root's: 1), the checkpointer's in the others.
func requireNs(t *testing.T, ts *image.TaskSummary, own ...string) {
	t.Helper()
	for _, k := range nsKinds {
		want := int32(uapi.CKPT_NS_CALLER)
		for _, o := range own {
			if o == k {
				want = 1
			}
		}
		if ts.Namespaces[k] != want {
			t.Errorf("image: %s namespace %d, want %d (all: %v)", k, ts.Namespaces[k], want, ts.Namespaces)
		}
	}
}

// requireSameNs checks that pid is in our namespaces except those of
// kinds own, where it must be in others.
func requireSameNs(t *testing.T, pid int, own ...string) {
	t.Helper()
	ours, theirs := nsLinks(t, "self"), nsLinks(t, strconv.Itoa(pid))
	for _, k := range nsKinds {
		isOwn := false
		for _, o := range own {
			isOwn = isOwn || o == k
		}
		if (ours[k] != theirs[k]) != isOwn {
			t.Errorf("restarted pid %d: %s namespace %s, ours %s (own: %v)", pid, k, theirs[k], ours[k], isOwn)
		}
	}
}

// A process in the checkpointer's namespaces comes back in the
// restarter's, all of them, with the same names.
func TestRestartNamespacesCaller(t *testing.T) {
	d := device(t)
	host, domain := hostname(t)
	rt := externalCheckpoint(t, d, "rt_ns", "caller")
	ts := taskNs(t, rt.Image)
	requireNs(t, ts)
	if ts.Hostname != host || ts.Domainname != domain {
		t.Errorf("image: hostname %q domainname %q, want %q %q", ts.Hostname, ts.Domainname, host, domain)
	}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	requireSameNs(t, rt.Pid)
	rt.wait(t, true)
	rt.RequirePass(t)
	if got := rt.reportLine("hostname:"); got != host {
		t.Errorf("restarted hostname %q, want %q", got, host)
	}
}

// A process with a UTS namespace of its own gets one again, with its
// hostname and domainname; the restarter's names stay as they were,
// also when the restored process changes its hostname.
func TestRestartUTS(t *testing.T) {
	d := device(t)
	host, domain := hostname(t)
	rt := externalCheckpoint(t, d, "rt_ns", "uts", nsHost, nsDomain)
	ts := taskNs(t, rt.Image)
	requireNs(t, ts, "uts")
	if ts.Hostname != nsHost || ts.Domainname != nsDomain {
		t.Errorf("image: hostname %q domainname %q", ts.Hostname, ts.Domainname)
	}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	requireSameNs(t, rt.Pid, "uts")
	rt.wait(t, true)
	rt.RequirePass(t)
	if h, dn := hostname(t); h != host || dn != domain {
		t.Errorf("the restarter's names changed: %q %q, were %q %q", h, dn, host, domain)
	}
}

// The same for a self-checkpointed process, restarted by a coordinator
// and with RESTART_TASKSELF (the caller then unshares its UTS namespace,
// as the image asks).
func TestRestartUTSSelf(t *testing.T) {
	host, domain := hostname(t)
	rt := selfRoundTrip(t, "rt_ns", "uts-self", nsHost, nsDomain)
	if got := rt.reportLine("hostname:"); got != nsHost {
		t.Errorf("restarted hostname %q", got)
	}

	rt = selfCheckpoint(t, "rt_ns", "uts-self", nsHost, nsDomain)
	if err := os.Truncate(rt.Image+".report", 0); err != nil {
		t.Fatal(err)
	}
	log := rt.Image + ".restartlog"
	out, err := exec.Command(filepath.Join(guestproto.BinDir, "selfrestart"), rt.Image, log).CombinedOutput()
	restartLog, _ := os.ReadFile(log)
	if err != nil || !strings.Contains(rt.Report(), "PASS: 0 failures") {
		t.Fatalf("selfrestart: %v\n%s\nrestart log:\n%s\nreport:\n%s", err, out, restartLog, rt.Report())
	}
	if h, dn := hostname(t); h != host || dn != domain {
		t.Errorf("the restarter's names changed: %q %q, were %q %q", h, dn, host, domain)
	}
}

// utsImage is img with the nodename of its UTS_NS record replaced.
func utsImage(t *testing.T, img []byte, name string) []byte {
	t.Helper()
	r := recordOf(t, img, uapi.CKPT_HDR_UTS_NS)
	bad := bytes.Clone(img)
	f := bad[r.Offset+int64(unsafe.Offsetof(uapi.CkptHdrUtsNs{}.Nodename)):][:uapi.CKPT_UTS_LEN]
	clear(f)
	copy(f, name)
	return bad
}

// An image taken in the checkpointer's UTS namespace whose hostname is
// not the restarter's: the task gets a UTS namespace of its own with the
// image's name (rt_ns, which expects the namespace it had, reports that
// one change).
func TestRestartUTSOtherHost(t *testing.T) {
	d := device(t)
	host, _ := hostname(t)
	rt := externalCheckpoint(t, d, "rt_ns", "caller")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rt.Image, utsImage(t, img, "kcr-elsewhere"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("restart: %v\n%s", err, rt.Log)
	}
	requireSameNs(t, rt.Pid, "uts")
	rt.wait(t, true)
	rep := rt.Report()
	if rt.reportLine("hostname:") != "kcr-elsewhere" || !strings.Contains(rep, "uts namespace was") ||
		!strings.Contains(rep, "FAIL: 1 failures") {
		t.Errorf("report:\n%s", rep)
	}
	if h, _ := hostname(t); h != host {
		t.Errorf("the restarter's hostname changed: %q, was %q", h, host)
	}
}

// A UTS namespace of its own needs CAP_SYS_ADMIN of the restarter (the
// kernel's unshare check): without it EPERM, a message, no task left.
func TestRestartUTSNeedsCapSysAdmin(t *testing.T) {
	unprivAllowed(t)
	d := device(t)
	rt := externalCheckpoint(t, d, "rt_ns", "uts", nsHost, nsDomain)
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	_, err, log := restartWithoutCap(t, d, img, unix.CAP_SYS_ADMIN)
	if !errors.Is(err, syscall.EPERM) || !strings.Contains(log, "creating one needs CAP_SYS_ADMIN") {
		t.Errorf("restart without CAP_SYS_ADMIN: %v, log %q", err, log)
	}
	requireNoChildren(t, "restart without CAP_SYS_ADMIN")

	// In the checkpointer's UTS namespace with the same names: allowed.
	rt = externalCheckpoint(t, d, "rt_ns", "caller")
	img, err = os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	pid, err, log := restartWithoutCap(t, d, img, unix.CAP_SYS_ADMIN)
	if err != nil {
		t.Fatalf("restart of a caller-namespace image without CAP_SYS_ADMIN: %v\n%s", err, log)
	}
	rt.Pid = pid
	requireSameNs(t, pid)
	rt.wait(t, true)
	rt.RequirePass(t)
}

// A restarter whose children go to another pid or time namespace (it
// unshared them) would put the task elsewhere than the image says: the
// restart is refused.
func TestRestartNamespacesRestarter(t *testing.T) {
	d := device(t)
	rt := externalCheckpoint(t, d, "rt_ns", "caller")
	for _, c := range []struct{ kind, mode, ns string }{
		{"pid", "", "pid"},
		{"time", "", "time"},
		// RESTART_TASKSELF: the caller is the task, in its own pid and
		// time namespaces, but its children would not be.
		{"pid", "self", "pid-for-children"},
		{"time", "self", "time-for-children"},
	} {
		log := rt.Image + "." + c.kind + c.mode + ".log"
		out, err := exec.Command(filepath.Join(guestproto.BinDir, "rt_ns"), rt.Image, "restart-in", c.kind, log, c.mode).CombinedOutput()
		klog, _ := os.ReadFile(log)
		want := fmt.Sprintf("the restarted task would be in a %s namespace other than the restarter's", c.ns)
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("restart: errno %d", unix.EOPNOTSUPP)) ||
			!strings.Contains(string(klog), want) {
			t.Errorf("restart %s from a restarter with a %s namespace for its children: %v\n%s\nlog %q; want EOPNOTSUPP and %q",
				c.mode, c.kind, err, out, klog, want)
		}
	}
}

// Corrupted or unsupported namespace records: a clean errno, a message,
// no task.
func TestRestartNamespacesCorrupt(t *testing.T) {
	d := device(t)
	rt := externalCheckpoint(t, d, "rt_ns", "caller")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var tn uapi.CkptHdrTaskNs
	var hn uapi.CkptHdrNs
	nsOff := func(k int) uintptr { return unsafe.Offsetof(tn.Ns) + uintptr(k)*4 }
	tryEdits(t, img, []recordEdit{
		{"own IPC namespace", uapi.CKPT_HDR_TASK_NS, nsOff(uapi.CKPT_NS_IPC), 1, 4, syscall.EOPNOTSUPP,
			"the image's task is in its own IPC namespace: not supported yet"},
		{"own user namespace", uapi.CKPT_HDR_TASK_NS, nsOff(uapi.CKPT_NS_USER), 1, 4, syscall.EOPNOTSUPP,
			"the image's task is in its own user namespace"},
		{"namespace of task 2", uapi.CKPT_HDR_TASK_NS, nsOff(uapi.CKPT_NS_UTS), 2, 4, syscall.EINVAL,
			"UTS namespace 2"},
		{"negative namespace", uapi.CKPT_HDR_TASK_NS, nsOff(uapi.CKPT_NS_PID), 0xffffffff, 4, syscall.EINVAL,
			"pid namespace -1"},
		{"task ns padding", uapi.CKPT_HDR_TASK_NS, unsafe.Offsetof(tn.NsRef) + 4, 1, 4, syscall.EINVAL,
			"task namespaces: padding"},
		{"ns objref", uapi.CKPT_HDR_TASK_NS, unsafe.Offsetof(tn.NsRef), 99, 4, syscall.EINVAL,
			"objref 99"},
		{"NS ipc_ref", uapi.CKPT_HDR_NS, unsafe.Offsetof(hn.IpcRef), 7, 4, syscall.EOPNOTSUPP,
			"only the UTS namespace is restored"},
		{"NS uts_ref", uapi.CKPT_HDR_NS, unsafe.Offsetof(hn.UtsRef), 0, 4, syscall.EINVAL,
			"objref 0"},
	})

	// A name without its NUL.
	r := recordOf(t, img, uapi.CKPT_HDR_UTS_NS)
	bad := bytes.Clone(img)
	f := bad[r.Offset+int64(unsafe.Offsetof(uapi.CkptHdrUtsNs{}.Domainname)):][:uapi.CKPT_UTS_LEN]
	for i := range f {
		f[i] = 'x'
	}
	_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
	if !errors.Is(err, syscall.EINVAL) || !strings.Contains(log, "UTS namespace record") {
		t.Errorf("domainname without NUL: %v, log %q", err, log)
	}
	requireNoChildren(t, "domainname without NUL")
}
