package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/freezer"
)

const checkpointUsage = `usage: kcr checkpoint [flags] PID -o IMAGE

Writes the image of process PID. The process must be frozen (cgroup
freezer) unless --freeze is given, which freezes it in a cgroup of its own
for the time of the checkpoint and then thaws it (or kills it with --kill).
`

func runCheckpoint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checkpoint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkpointUsage); fs.PrintDefaults() }
	out := fs.String("o", "", "image file to write (- for stdout)")
	logPath := fs.String("log", "", "file for kcr.ko's messages (default: stderr)")
	container := fs.Bool("container", false, "PID is a pid-namespace init: checkpoint the whole container (no CHECKPOINT_SUBTREE)")
	freeze := fs.Bool("freeze", false, "freeze the process for the checkpoint, thaw it after")
	kill := fs.Bool("kill", false, "with --freeze: kill the process after a successful checkpoint")
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
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	pidArg := pos[0]
	pid, err := strconv.Atoi(pidArg)
	if err != nil || pid < 0 {
		fmt.Fprintf(stderr, "kcr checkpoint: bad pid %q\n", pidArg)
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "kcr checkpoint: -o IMAGE is required")
		return 2
	}
	if err := checkpoint(pid, *out, *logPath, !*container, *freeze, *kill, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "kcr checkpoint: %v\n", err)
		return 1
	}
	return 0
}

func checkpoint(pid int, out, logPath string, subtree, freeze, kill bool, stdout, stderr io.Writer) (err error) {
	img := os.Stdout
	if out != "-" {
		img, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
	if logPath != "" {
		logf, err = os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
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
	if freeze {
		undo, ferr := freezeProcess(pid)
		if ferr != nil {
			return ferr
		}
		defer func() {
			if err == nil && kill {
				err = killProcess(pid)
			}
			if uerr := undo(); err == nil {
				err = uerr
			}
		}()
	}
	id, err := dev.Checkpoint(pid, img, kcr.CheckpointOptions{Subtree: subtree, Log: logf})
	if err != nil {
		if logPath != "" {
			err = fmt.Errorf("%w (details in %s)", err, logPath)
		}
		return err
	}
	if out != "-" {
		fmt.Fprintf(stdout, "checkpoint %d of pid %d written to %s\n", id, pid, out)
	}
	return nil
}

// freezeProcess moves pid into a cgroup of its own and freezes it; the
// returned function thaws it and moves it back.
func freezeProcess(pid int) (func() error, error) {
	if err := freezer.Mount(); err != nil {
		return nil, err
	}
	orig, err := cgroupOf(pid)
	if err != nil {
		return nil, err
	}
	cg, err := freezer.New(fmt.Sprintf("kcr-checkpoint-%d", pid))
	if err != nil {
		return nil, err
	}
	back := &freezer.Cgroup{Path: filepath.Join(freezer.Root, orig)}
	undo := func() error {
		terr := cg.Thaw()
		// A process killed after its checkpoint (--kill) is gone: ESRCH.
		if err := back.Add(pid); err != nil && !errors.Is(err, os.ErrNotExist) &&
			!errors.Is(err, syscall.ESRCH) && terr == nil {
			terr = err
		}
		_ = cg.Remove()
		return terr
	}
	if err := cg.Add(pid); err != nil {
		_ = cg.Remove()
		return nil, err
	}
	if err := cg.Freeze(); err != nil {
		_ = undo()
		return nil, err
	}
	return undo, nil
}

// cgroupOf returns pid's cgroup v2 path, relative to the cgroup root.
func cgroupOf(pid int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("pid %d is in no cgroup v2 group", pid)
}

func killProcess(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
