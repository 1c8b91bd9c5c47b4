package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// timing records, when KCR_TIMING is set in the environment, how long each
// step of a command took, and prints it on stderr at the end: make bench
// uses it to tell the command's own cost (cgroup moves, the freezer) from
// the kernel's. Unset, mark costs one branch.
var timing = newPhases(os.Getenv("KCR_TIMING") != "")

type phases struct {
	on    bool
	last  time.Time
	steps []string
}

func newPhases(on bool) *phases {
	return &phases{on: on, last: time.Now()}
}

// mark ends the step called name, which began at the previous mark (or
// when the command started).
func (p *phases) mark(name string) {
	if !p.on {
		return
	}
	now := time.Now()
	p.steps = append(p.steps, fmt.Sprintf("%s %.3f", name, now.Sub(p.last).Seconds()*1000))
	p.last = now
}

// print writes one "kcr-timing: STEP MS ..." line, if there is one.
func (p *phases) print(w io.Writer) {
	if p.on && len(p.steps) > 0 {
		fmt.Fprintf(w, "kcr-timing: %s\n", strings.Join(p.steps, " "))
	}
}
