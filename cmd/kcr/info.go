package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
)

func runInfo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: kcr info [--json] [IMAGE|-]")
		return 2
	}
	in := io.Reader(os.Stdin)
	name := "-"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		name = fs.Arg(0)
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "kcr info: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	s, err := image.Summarize(in)
	if *asJSON {
		out := struct {
			*image.Summary
			Error string `json:"error,omitempty"`
		}{Summary: s}
		if err != nil {
			out.Error = err.Error()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(out); jerr != nil {
			fmt.Fprintf(stderr, "kcr info: %v\n", jerr)
			return 1
		}
	} else if s.Format != 0 {
		printSummary(stdout, s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kcr info: %s: %v\n", name, err)
		return 1
	}
	if !s.Complete {
		fmt.Fprintf(stderr, "kcr info: %s: image has no TAIL record\n", name)
		return 1
	}
	return 0
}

func printSummary(w io.Writer, s *image.Summary) {
	state := "complete"
	if !s.Complete {
		state = "INCOMPLETE"
	}
	fmt.Fprintf(w, "image:     kcr format %d, %s, %s, %d records, %d bytes, %s\n",
		s.Format, s.Arch, s.ByteOrder, s.Records, s.Bytes, state)
	fmt.Fprintf(w, "kernel:    %s %s (%s), page size %d\n", s.Kernel, s.KernelVer, s.Machine, s.PageSize)
	fmt.Fprintf(w, "taken:     %s\n", s.Time.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(w, "flags:     %#x\n", s.Uflags)
	var cflags []string
	if s.Container&uapi.CKPT_CONTAINER_PIDNS_INIT != 0 {
		cflags = append(cflags, "pid-namespace init")
	}
	if s.Container&uapi.CKPT_CONTAINER_SUBTREE != 0 {
		cflags = append(cflags, "subtree")
	}
	fmt.Fprintf(w, "container: root pid %d (%s)\n", s.RootPid, strings.Join(cflags, ", "))
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error:     %s\n", e)
	}

	printTree(w, s.Tasks)

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PID\tTGID\tPPID\tSID\tPGID\tCOMM\tVMAS\tPAGES\tPAGE BYTES\tFILES\tHANDLERS\tPENDING\tBYTES\t")
	for _, t := range s.Tasks {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Pid, t.Tgid, t.Ppid,
			t.Sid, t.Pgid, t.Comm, t.VMAs, t.Pages, t.PageData, t.Files, t.Handlers, t.Pending, t.Bytes)
	}
	tw.Flush()

	printNamespaces(w, s.Tasks)

	fmt.Fprintln(w, "\nsections:")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	for _, sec := range s.Sections {
		fmt.Fprintf(tw, "  %s\t%d records\t%d bytes\t\n", sec.Name, sec.Records, sec.Bytes)
	}
	tw.Flush()
}

// printTree draws the tasks as a process tree, one line per task
// indented under its parent, threads under their group leader (marked
// "thread"), with the ids each had.
func printTree(w io.Writer, tasks []*image.TaskSummary) {
	tr := image.NewTree(tasks)
	fmt.Fprintf(w, "\ntasks (%d: %s, %s):\n", len(tasks),
		plural(tr.Processes, "process", "processes"), plural(tr.Threads, "thread", "threads"))
	for _, p := range tr.Problems {
		fmt.Fprintf(w, "  tree problem: %s\n", p)
	}
	type line struct {
		label string
		n     *image.TreeNode
	}
	var lines []line
	var walk func(n *image.TreeNode, prefix, branch string)
	walk = func(n *image.TreeNode, prefix, branch string) {
		label := prefix + branch + strconv.Itoa(int(n.Pid))
		if n.Thread {
			label += " thread"
		}
		lines = append(lines, line{label, n})
		next := prefix
		switch branch {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		for i, c := range n.Children {
			b := "├─ "
			if i == len(n.Children)-1 {
				b = "└─ "
			}
			walk(c, next, b)
		}
	}
	for _, r := range tr.Roots {
		walk(r, "", "")
	}
	width := len("PID")
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l.label))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
	fmt.Fprintf(w, "  %s  %7s %7s %7s  COMM\n", pad("PID"), "PPID", "PGID", "SID")
	for _, l := range lines {
		comm := l.n.Comm
		if l.n.Zombie {
			comm += " (zombie)"
		}
		fmt.Fprintf(w, "  %s  %7d %7d %7d  %s\n", pad(l.label), l.n.Ppid, l.n.Pgid, l.n.Sid, comm)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// printNamespaces shows where each task stood in each kind of namespace:
// "=" in the checkpointer's, "own(n)" in the one the n-th task of the tree
// is in (1: the root's), and the UTS names the image gives it.
func printNamespaces(w io.Writer, tasks []*image.TaskSummary) {
	fmt.Fprintln(w, "\nnamespaces (=: the checkpointer's; own(n): the one task n of the tree is in, 1 the root):")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprint(tw, "  PID\t")
	for _, k := range image.NamespaceKinds {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(k))
	}
	fmt.Fprintln(tw, "HOSTNAME\tDOMAINNAME\t")
	for _, t := range tasks {
		if t.Namespaces == nil {
			continue
		}
		fmt.Fprintf(tw, "  %d\t", t.Pid)
		for _, k := range image.NamespaceKinds {
			if v := t.Namespaces[k]; v == uapi.CKPT_NS_CALLER {
				fmt.Fprint(tw, "=\t")
			} else {
				fmt.Fprintf(tw, "own(%d)\t", v)
			}
		}
		fmt.Fprintf(tw, "%q\t%q\t\n", t.Hostname, t.Domainname)
	}
	tw.Flush()
}
