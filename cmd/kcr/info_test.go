package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kcr-dev/kcr/lib/image/imagetest"
)

func writeImage(t *testing.T, img []byte) string {
	p := filepath.Join(t.TempDir(), "img")
	require.NoError(t, os.WriteFile(p, img, 0o644))
	return p
}

func TestInfoTwoTasks(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		p := writeImage(t, imagetest.Image(order, imagetest.TwoTasks))
		var out, errb bytes.Buffer
		require.Equal(t, 0, run([]string{"info", p}, &out, &errb), errb.String())
		s := out.String()
		assert.Contains(t, s, "tasks (2: 2 processes, 0 threads):\n")
		assert.Regexp(t, `(?m)^  1 +0 +1 +1  init$`, s)
		assert.Regexp(t, `(?m)^  └─ 2 +1 +1 +1  worker$`, s)
		assert.Contains(t, s, "x86_64")
		assert.Contains(t, s, "complete")
		assert.Contains(t, s, "memory")
		assert.Regexp(t, `(?m)^  PID +UTS +IPC +MNT +NET +CGROUP +TIME +TIME_FOR_CHILDREN +PID +PID_FOR_CHILDREN +USER +HOSTNAME +DOMAINNAME`, s)
		assert.Regexp(t, `(?m)^  1 +own\(1\) += += += += += += += += += +"kcr-host" +"\(none\)"`, s)
		assert.Regexp(t, `(?m)^  2 +own\(1\) += += +own\(2\) += += += += += += +"kcr-host" +"\(none\)"`, s)
		assert.Empty(t, errb.String())
	}
}

// A tree with a thread: one line per task, indented under its parent,
// the thread under its leader, with ppid, pgid, sid and comm.
func TestInfoTree(t *testing.T) {
	p := writeImage(t, imagetest.Image(binary.LittleEndian, []imagetest.Task{
		{Pid: 100, Ppid: 7, Sid: 100, Pgid: 100, Comm: "root"},
		{Pid: 101, Ppid: 100, Sid: 100, Pgid: 101, Comm: "child"},
		{Pid: 102, Tgid: 101, Ppid: 100, Sid: 100, Pgid: 101, Comm: "worker"},
		{Pid: 103, Ppid: 101, Sid: 103, Pgid: 103, Comm: "grandchild"},
		{Pid: 104, Ppid: 100, Sid: 100, Pgid: 100, Comm: "second"},
	}))
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"info", p}, &out, &errb), errb.String())
	want := "" +
		"tasks (5: 4 processes, 1 thread):\n" +
		"  PID                  PPID    PGID     SID  COMM\n" +
		"  100                     7     100     100  root\n" +
		"  ├─ 101                100     101     100  child\n" +
		"  │  ├─ 102 thread      100     101     100  worker\n" +
		"  │  └─ 103             101     103     103  grandchild\n" +
		"  └─ 104                100     100     100  second\n"
	assert.Contains(t, out.String(), want)
}

func TestInfoJSON(t *testing.T) {
	p := writeImage(t, imagetest.Image(binary.BigEndian, imagetest.TwoTasks))
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"info", "--json", p}, &out, &errb), errb.String())
	var v struct {
		ByteOrder string `json:"byte_order"`
		Tasks     []struct {
			Pid   int    `json:"pid"`
			Comm  string `json:"comm"`
			Pages int    `json:"pages"`
		} `json:"tasks"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &v))
	assert.Equal(t, "big-endian", v.ByteOrder)
	require.Len(t, v.Tasks, 2)
	assert.Equal(t, "worker", v.Tasks[1].Comm)
	assert.Equal(t, 2, v.Tasks[1].Pages)
}

// The image cut at every byte offset: exit status 1 and the offset named,
// never a panic.
func TestInfoTruncatedEverywhere(t *testing.T) {
	img := imagetest.Image(binary.LittleEndian, imagetest.TwoTasks)
	dir := t.TempDir()
	p := filepath.Join(dir, "cut")
	for cut := 0; cut < len(img); cut++ {
		require.NoError(t, os.WriteFile(p, img[:cut], 0o644))
		var out, errb bytes.Buffer
		rc := run([]string{"info", p}, &out, &errb)
		require.Equal(t, 1, rc, "cut at %d", cut)
		require.Contains(t, errb.String(), "image offset ", "cut at %d: %s", cut, errb.String())
	}
}

func TestInfoUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"info", "a", "b"}, &out, &errb))
	assert.Equal(t, 1, run([]string{"info", "/nonexistent/image"}, &out, &errb))
	assert.Equal(t, 2, run([]string{"nosuch"}, &out, &errb))
}
