package main

import (
	"bytes"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	p, err := parseStat([]byte("42 (a (b) c) S 7 42 42 0 -1 4194560 ...\n"))
	require.NoError(t, err)
	assert.Equal(t, proc{pid: 42, ppid: 7, comm: "a (b) c"}, p)
	_, err = parseStat([]byte("42 rt_tree S 7"))
	assert.Error(t, err)
}

func TestProcTableTrees(t *testing.T) {
	tab := procTable{}
	for _, p := range []proc{{1, 0, "init"}, {10, 1, "sh"}, {11, 10, "a"}, {12, 10, "b"},
		{13, 12, "c"}, {20, 1, "other"}, {21, 20, "d"}} {
		tab[p.pid] = p
	}
	assert.Equal(t, []int{10, 11, 12, 13}, tab.descendants(10))
	assert.Equal(t, []int{13}, tab.descendants(13))
	assert.Equal(t, []int{10}, treeRoots(tab, []int{13, 12, 11, 10}))
	assert.Equal(t, []int{10, 20}, treeRoots(tab, []int{10, 11, 20, 21}))
	assert.Equal(t, "12 (b)", tab.name(12))
	assert.Equal(t, "99", tab.name(99))
}

func TestCheckpointUsage(t *testing.T) {
	for _, args := range [][]string{
		{"checkpoint", "-o", "img"},
		{"checkpoint", "1", "2", "-o", "img"},
		{"checkpoint", "1"},
		{"checkpoint", "--kill", "1", "-o", "img"},
		{"checkpoint", "--freeze", "--cgroup", "x", "-o", "img"},
		{"checkpoint", "0", "-o", "img"},
	} {
		var out, errb bytes.Buffer
		assert.Equal(t, 2, run(args, &out, &errb), "%v: %s", args, errb.String())
	}
}

// readSubtree finds the same tree as the whole table does.
func TestReadSubtree(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30 & wait")
	require.NoError(t, cmd.Start())
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	pid := cmd.Process.Pid
	var sub procTable
	require.Eventually(t, func() bool {
		var err error
		sub, err = readSubtree(pid)
		return err == nil && len(sub.descendants(pid)) == 3
	}, 10*time.Second, 10*time.Millisecond)
	all, err := readProcTable()
	require.NoError(t, err)
	assert.Equal(t, all.descendants(pid), sub.descendants(pid))
	_, err = readSubtree(1 << 30)
	assert.Error(t, err)
}
