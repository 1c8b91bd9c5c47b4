package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	kcr "github.com/kcr-dev/kcr/lib"
)

const checkpointUsage = `usage: kcr checkpoint [flags] PID -o IMAGE
       kcr checkpoint --cgroup CGROUP [flags] [PID] -o IMAGE

Writes the image of process PID and all its descendants. They must be
frozen (cgroup freezer) unless --freeze or --cgroup is given:
  --freeze         moves PID and its descendants into a cgroup of their own
                   and freezes it for the time of the checkpoint, then moves
                   each back where it was;
  --cgroup CGROUP  freezes that cgroup v2 group (a path under /sys/fs/cgroup,
                   absolute or relative) and checkpoints the process tree it
                   holds: the tree of PID, or without PID the one process of
                   the cgroup whose parent is not in it. Every descendant of
                   the root must be in the cgroup. The cgroup is thawed after,
                   unless it was frozen before.
With --kill the tree is killed after a successful checkpoint instead of
thawed (with --cgroup: the whole cgroup, through cgroup.kill, when the tree
is all it holds), and kcr returns once every process of it has exited.

With --pre-copy (and --freeze, or --cgroup of a cgroup that is not frozen)
the tree's memory is copied while it runs, in rounds that each copy what the
one before saw written (soft-dirty bits), and the tree is frozen only for
the checkpoint of what changed since the last round; IMAGE is an ordinary
image all the same. The copy is kept in a temporary file beside IMAGE.
`

func runCheckpoint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checkpoint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkpointUsage); fs.PrintDefaults() }
	var o ckptOptions
	fs.StringVar(&o.out, "o", "", "image file to write (- for stdout)")
	fs.StringVar(&o.logPath, "log", "", "file for kcr.ko's messages (default: stderr)")
	container := fs.Bool("container", false, "PID is a pid-namespace init: checkpoint the whole container (no CHECKPOINT_SUBTREE), refused if it shares an object with a task outside it")
	fs.BoolVar(&o.freeze, "freeze", false, "freeze the process tree for the checkpoint, thaw it after")
	fs.StringVar(&o.cgroup, "cgroup", "", "freeze this cgroup v2 group and checkpoint the process tree in it")
	fs.BoolVar(&o.kill, "kill", false, "with --freeze or --cgroup: kill the tree after a successful checkpoint")
	fs.BoolVar(&o.preCopy, "pre-copy", false, "with --freeze or --cgroup: copy memory while the tree runs, freeze only for what it wrote since")
	// Flags may come before and after the pid: kcr checkpoint --freeze 42 -o img.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	o.subtree = !*container
	switch {
	case len(pos) > 1 || (len(pos) == 0 && o.cgroup == ""):
		fs.Usage()
		return 2
	case len(pos) == 1:
		pid, err := strconv.Atoi(pos[0])
		if err != nil || pid <= 0 {
			fmt.Fprintf(stderr, "kcr checkpoint: bad pid %q\n", pos[0])
			return 2
		}
		o.pid = pid
	}
	if o.out == "" {
		fmt.Fprintln(stderr, "kcr checkpoint: -o IMAGE is required")
		return 2
	}
	if o.freeze && o.cgroup != "" {
		fmt.Fprintln(stderr, "kcr checkpoint: --freeze and --cgroup exclude each other")
		return 2
	}
	if o.kill && !o.freeze && o.cgroup == "" {
		fmt.Fprintln(stderr, "kcr checkpoint: --kill needs --freeze or --cgroup")
		return 2
	}
	if o.preCopy && !o.freeze && o.cgroup == "" {
		fmt.Fprintln(stderr, "kcr checkpoint: --pre-copy needs --freeze or --cgroup")
		return 2
	}
	timing.mark("args")
	err := checkpoint(o, stdout)
	timing.print(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kcr checkpoint: %v\n", err)
		return 1
	}
	return 0
}

// ckptOptions are the command line of kcr checkpoint.
type ckptOptions struct {
	pid                            int // 0: the root of --cgroup's tree
	out, logPath, cgroup           string
	subtree, freeze, kill, preCopy bool
}

func checkpoint(o ckptOptions, stdout io.Writer) (err error) {
	img := os.Stdout
	if o.out != "-" {
		img, err = os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := img.Close(); err == nil {
				err = cerr
			}
		}()
	}
	logf := os.Stderr
	if o.logPath != "" {
		logf, err = os.OpenFile(o.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer logf.Close()
	}
	dev, err := kcr.Open()
	if err != nil {
		return err
	}
	defer dev.Close()
	timing.mark("open")
	tree := &frozenTree{root: o.pid, release: func(bool) error { return nil }}
	switch {
	case o.cgroup != "":
		tree, err = freezeCgroup(o.cgroup, o.pid)
	case o.freeze:
		tree, err = freezeTree(o.pid)
	}
	if err != nil {
		return err
	}
	report := stdout
	if o.out == "-" {
		report = os.Stderr
	}
	var id int
	if o.preCopy {
		id, err = checkpointPreCopy(dev, tree, img, filepath.Dir(o.out), o, logf, report)
	} else {
		id, err = dev.Checkpoint(tree.root, img, kcr.CheckpointOptions{Subtree: o.subtree, Log: logf})
		timing.mark("checkpoint")
		if err == nil {
			err = tree.release(o.kill)
			reportFrozen(report, tree)
		} else {
			// A failed checkpoint leaves the tree as it was: thawed,
			// never killed.
			_ = tree.release(false)
		}
	}
	if err != nil && o.logPath != "" {
		err = fmt.Errorf("%w (details in %s)", err, o.logPath)
	}
	if err != nil {
		return err
	}
	if o.out != "-" {
		fmt.Fprintf(stdout, "checkpoint %d of pid %d written to %s\n", id, tree.root, o.out)
	}
	return nil
}

// reportFrozen tells how long the tree was frozen for the checkpoint,
// when kcr froze it.
func reportFrozen(w io.Writer, tree *frozenTree) {
	if !tree.frozen.IsZero() {
		fmt.Fprintf(w, "frozen for %.3f s\n", time.Since(tree.frozen).Seconds())
	}
}
