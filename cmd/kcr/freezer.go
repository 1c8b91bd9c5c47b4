package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kcr-dev/kcr/lib/freezer"
)

// cgroupArg turns a CGROUP argument into a directory: a path as given if
// it is absolute or starts with ".", else relative to the cgroup v2 root.
func cgroupArg(name string) *freezer.Cgroup {
	if filepath.IsAbs(name) || strings.HasPrefix(name, ".") {
		return &freezer.Cgroup{Path: name}
	}
	return &freezer.Cgroup{Path: filepath.Join(freezer.Root, name)}
}

func freezerUsage(cmd string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "usage: kcr %s CGROUP   (a directory of cgroup v2 or of the v1 freezer; relative names are under %s)\n", cmd, freezer.Root)
	return 2
}

// runFreeze: kcr freeze CGROUP freezes the cgroup and waits until every
// task in it has stopped.
func runFreeze(args []string, stdout, stderr io.Writer) int {
	return runFreezerSet("freeze", args, stderr, (*freezer.Cgroup).Freeze)
}

// runThaw: kcr thaw CGROUP thaws it (EBUSY while a checkpoint runs).
func runThaw(args []string, stdout, stderr io.Writer) int {
	return runFreezerSet("thaw", args, stderr, (*freezer.Cgroup).Thaw)
}

func runFreezerSet(cmd string, args []string, stderr io.Writer, set func(*freezer.Cgroup) error) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return freezerUsage(cmd, stderr)
	}
	if err := set(cgroupArg(args[0])); err != nil {
		fmt.Fprintf(stderr, "kcr %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// runState: kcr state CGROUP prints THAWED, FREEZING, FROZEN or
// CHECKPOINTING.
func runState(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return freezerUsage("state", stderr)
	}
	s, err := cgroupArg(args[0]).State()
	if err != nil {
		fmt.Fprintf(stderr, "kcr state: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, s)
	return 0
}
