package image

import "fmt"

// TreeNode is one task of an image's process tree.
type TreeNode struct {
	*TaskSummary
	// Depth is the number of ancestors shown above the task (0: a root).
	Depth int
	// Thread: the task is a thread (Tgid != Pid) of the process it is
	// shown under, its group leader.
	Thread bool
	// Children are the task's threads, then its child processes, each in
	// image order.
	Children []*TreeNode
}

// Tree is the shape of an image's tasks: processes under their parent,
// threads under their group leader. It never drops a task: one whose
// parent or leader is missing, or that sits in a loop or shares its pid
// with an earlier task, becomes a root and is named in Problems.
type Tree struct {
	Roots     []*TreeNode
	Processes int
	Threads   int
	Problems  []string
}

// NewTree arranges tasks (in TREE order, as Summary.Tasks) as a tree. The
// parent of a process is the task Ppid names, or that task's leader when
// Ppid names a thread (the kernel records the thread that forked); a task
// whose parent is outside the image (Ppid 0 or unknown) is a root.
func NewTree(tasks []*TaskSummary) *Tree {
	t := &Tree{}
	nodes := make([]*TreeNode, len(tasks))
	byPid := make(map[int32]*TreeNode, len(tasks))
	for i, ts := range tasks {
		n := &TreeNode{TaskSummary: ts, Thread: ts.Tgid != 0 && ts.Tgid != ts.Pid}
		nodes[i] = n
		if n.Thread {
			t.Threads++
		} else {
			t.Processes++
		}
		if _, dup := byPid[ts.Pid]; dup {
			t.problem("two tasks with pid %d", ts.Pid)
			continue
		}
		byPid[ts.Pid] = n
	}
	parent := make(map[*TreeNode]*TreeNode, len(nodes))
	for _, n := range nodes {
		if byPid[n.Pid] != n { // a duplicate: shown as a root
			continue
		}
		var p *TreeNode
		if n.Thread {
			p = byPid[n.Tgid]
			if p == nil || p.Thread {
				t.problem("thread %d: its leader %d is not in the image", n.Pid, n.Tgid)
				continue
			}
		} else if n.Ppid != 0 && n.Ppid != n.Pid {
			p = byPid[n.Ppid]
			if p != nil && p.Thread {
				p = byPid[p.Tgid] // nil when that thread was orphaned above
			}
		}
		if p != nil {
			parent[n] = p
		}
	}
	// A loop of parents has no root above it: break it at its first
	// task in image order, which becomes a root.
	state := make(map[*TreeNode]int, len(nodes)) // 1: on the path, 2: done
	for _, n := range nodes {
		var path []*TreeNode
		for c := n; c != nil && state[c] == 0; c = parent[c] {
			state[c] = 1
			path = append(path, c)
			if p := parent[c]; p != nil && state[p] == 1 {
				t.problem("task %d is its own ancestor (a loop of parents)", p.Pid)
				delete(parent, p)
				break
			}
		}
		for _, c := range path {
			state[c] = 2
		}
	}
	for _, n := range nodes {
		if p := parent[n]; p != nil && n.Thread {
			p.Children = append(p.Children, n)
		}
	}
	for _, n := range nodes {
		if p := parent[n]; p == nil {
			t.Roots = append(t.Roots, n)
		} else if !n.Thread {
			p.Children = append(p.Children, n)
		}
	}
	t.Walk(func(n *TreeNode) {
		for _, c := range n.Children {
			c.Depth = n.Depth + 1
		}
	})
	return t
}

func (t *Tree) problem(format string, args ...any) {
	t.Problems = append(t.Problems, fmt.Sprintf(format, args...))
}

// Walk calls fn for every task, each before its children (depth first,
// in the order of Roots and Children).
func (t *Tree) Walk(fn func(n *TreeNode)) {
	var walk func(n *TreeNode)
	walk = func(n *TreeNode) {
		fn(n)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range t.Roots {
		walk(r)
	}
}
