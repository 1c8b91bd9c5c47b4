// Command kcr checkpoints and restarts Linux processes through kcr.ko and
// inspects checkpoint images.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: kcr COMMAND [ARGS]

commands:
  checkpoint PID -o IMAGE   checkpoint a (frozen) process tree; --freeze freezes it
  checkpoint --cgroup CG -o IMAGE
                            freeze cgroup CG, checkpoint its process tree, thaw (or --kill)
  restart -i IMAGE          restart the processes of an image, wait for the root,
                            exit with its status (--detach: do not wait)
  info [--json] [IMAGE|-]   describe a checkpoint image (- or none: stdin)
  freeze CGROUP             freeze a cgroup (v2, or the v1 freezer) and wait until it is frozen
  thaw CGROUP               thaw it (EBUSY while a checkpoint of its tasks runs)
  state CGROUP              print its freezer state: THAWED, FREEZING, FROZEN or CHECKPOINTING
  version                   print the ABI version of kcr and of the loaded kcr.ko
  help                      print this message
`

// A command runs with its arguments and returns the exit status.
type command func(args []string, stdout, stderr io.Writer) int

var commands = map[string]command{
	"checkpoint": runCheckpoint,
	"freeze":     runFreeze,
	"state":      runState,
	"thaw":       runThaw,
	"info":       runInfo,
	"restart":    runRestart,
	"version":    runVersion,
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kcr: unknown command %q\n%s", args[0], usage)
		return 2
	}
	return cmd(args[1:], stdout, stderr)
}
