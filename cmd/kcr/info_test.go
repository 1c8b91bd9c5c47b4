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
		assert.Contains(t, s, "  1 init\n")
		assert.Contains(t, s, "  └─ 2 worker\n")
		assert.Contains(t, s, "x86_64")
		assert.Contains(t, s, "complete")
		assert.Contains(t, s, "memory")
		assert.Regexp(t, `(?m)^  PID +UTS +IPC +MNT +NET +CGROUP +TIME +TIME_FOR_CHILDREN +PID +PID_FOR_CHILDREN +USER +HOSTNAME +DOMAINNAME`, s)
		assert.Regexp(t, `(?m)^  1 +own\(1\) += += += += += += += += += +"kcr-host" +"\(none\)"`, s)
		assert.Regexp(t, `(?m)^  2 +own\(1\) += += +own\(2\) += += += += += += +"kcr-host" +"\(none\)"`, s)
		assert.Empty(t, errb.String())
	}
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
