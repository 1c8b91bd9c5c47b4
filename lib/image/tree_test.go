package image_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/lib/image/imagetest"
)

// shape draws a tree as "pid(children...)", threads as "~pid", with
// each node's depth checked against its place.
func shape(t *testing.T, tr *image.Tree) string {
	var b strings.Builder
	var draw func(n *image.TreeNode, depth int)
	draw = func(n *image.TreeNode, depth int) {
		assert.Equal(t, depth, n.Depth, "depth of %d", n.Pid)
		if n.Thread {
			b.WriteString("~")
		}
		fmt.Fprint(&b, n.Pid)
		if len(n.Children) > 0 {
			b.WriteString("(")
			for i, c := range n.Children {
				if i > 0 {
					b.WriteString(" ")
				}
				draw(c, depth+1)
			}
			b.WriteString(")")
		}
	}
	for i, r := range tr.Roots {
		if i > 0 {
			b.WriteString(" ")
		}
		draw(r, 0)
	}
	return b.String()
}

func tasks(spec ...[3]int32) []*image.TaskSummary {
	var ts []*image.TaskSummary
	for _, s := range spec { // pid, tgid, ppid
		ts = append(ts, &image.TaskSummary{Pid: s[0], Tgid: s[1], Ppid: s[2]})
	}
	return ts
}

func TestTreeShapes(t *testing.T) {
	cases := []struct {
		name     string
		tasks    []*image.TaskSummary
		want     string
		procs    int
		threads  int
		problems []string
	}{
		{name: "one", tasks: tasks([3]int32{10, 10, 1}), want: "10", procs: 1},
		{
			name: "three levels",
			tasks: tasks([3]int32{10, 10, 1}, [3]int32{11, 11, 10}, [3]int32{12, 12, 10},
				[3]int32{13, 13, 11}, [3]int32{14, 14, 13}),
			want:  "10(11(13(14)) 12)",
			procs: 5,
		},
		{
			// Threads come first under their leader, whatever their
			// ppid (the leader's parent); a child forked by a thread
			// is the process's child.
			name: "threads",
			tasks: tasks([3]int32{10, 10, 1}, [3]int32{11, 11, 10}, [3]int32{12, 10, 1},
				[3]int32{13, 10, 1}, [3]int32{14, 14, 12}, [3]int32{15, 11, 10}),
			want:    "10(~12 ~13 11(~15) 14)",
			procs:   3,
			threads: 3,
		},
		{
			name:     "missing leader",
			tasks:    tasks([3]int32{10, 10, 1}, [3]int32{12, 11, 10}),
			want:     "10 ~12",
			procs:    1,
			threads:  1,
			problems: []string{"thread 12: its leader 11 is not in the image"},
		},
		{
			name:  "missing parent: two roots",
			tasks: tasks([3]int32{10, 10, 1}, [3]int32{11, 11, 99}, [3]int32{12, 12, 11}),
			want:  "10 11(12)",
			procs: 3,
		},
		{
			name:  "loop",
			tasks: tasks([3]int32{10, 10, 12}, [3]int32{11, 11, 10}, [3]int32{12, 12, 11}, [3]int32{13, 13, 13}),
			want:  "10(11(12)) 13",
			procs: 4,
			// 13 is its own parent: a root, as the kernel's init is.
			problems: []string{"task 10 is its own ancestor (a loop of parents)"},
		},
		{
			name:     "loop below a root",
			tasks:    tasks([3]int32{1, 1, 0}, [3]int32{11, 11, 12}, [3]int32{12, 12, 11}),
			want:     "1 11(12)",
			procs:    3,
			problems: []string{"task 11 is its own ancestor (a loop of parents)"},
		},
		{
			name:     "duplicate pid",
			tasks:    tasks([3]int32{10, 10, 1}, [3]int32{11, 11, 10}, [3]int32{11, 11, 10}),
			want:     "10(11) 11",
			procs:    3,
			problems: []string{"two tasks with pid 11"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := image.NewTree(c.tasks)
			assert.Equal(t, c.want, shape(t, tr))
			assert.Equal(t, c.procs, tr.Processes)
			assert.Equal(t, c.threads, tr.Threads)
			assert.Equal(t, c.problems, tr.Problems)
			n := 0
			tr.Walk(func(*image.TreeNode) { n++ })
			assert.Equal(t, len(c.tasks), n, "every task is shown once")
		})
	}
}

// The tree of a decoded image: TREE pids, TASK comms, zombies.
func TestTreeOfImage(t *testing.T) {
	img := imagetest.Image(orders[1], []imagetest.Task{
		{Pid: 100, Ppid: 7, Sid: 100, Pgid: 100, Comm: "root"},
		{Pid: 101, Ppid: 100, Sid: 100, Pgid: 101, Comm: "child"},
		{Pid: 102, Tgid: 101, Ppid: 100, Sid: 100, Pgid: 101, Comm: "worker"},
		{Pid: 103, Ppid: 101, Sid: 103, Pgid: 103, Comm: "grandchild"},
	})
	s, err := image.Summarize(bytes.NewReader(img))
	require.NoError(t, err)
	tr := image.NewTree(s.Tasks)
	assert.Equal(t, "100(101(~102 103))", shape(t, tr))
	assert.Equal(t, 3, tr.Processes)
	assert.Equal(t, 1, tr.Threads)
	var comms []string
	tr.Walk(func(n *image.TreeNode) { comms = append(comms, n.Comm) })
	assert.Equal(t, []string{"root", "child", "worker", "grandchild"}, comms)
	assert.Equal(t, int32(103), s.Tasks[3].Sid)
	assert.Equal(t, int32(101), s.Tasks[2].Pgid)
}
