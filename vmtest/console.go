package vmtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kcr-dev/kcr/vmtest/guestproto"
)

// TestResult is one top-level Go test that ran in the guest.
type TestResult struct {
	Name   string
	Result string // PASS, FAIL or SKIP; "" when the guest died during it
	Output []string
}

// GuestRun is what a guest printed on its console, taken apart.
type GuestRun struct {
	Begun    bool
	ExitCode int // -1 when the guest never printed its end marker
	Tests    []TestResult
	Dmesg    []string
	Kmemleak []string
	// Carried is the archive the guest printed for the next boot
	// (guestproto.CarryDir), nil if none; CarryErr says why one that was
	// printed could not be taken back.
	Carried  []byte
	CarryErr error
}

var (
	runRe    = regexp.MustCompile(`^=== RUN\s+(\S+)`)
	resultRe = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+)`)
)

// ParseConsole splits a guest's console output into test results, the
// kernel log and kmemleak's report.
func ParseConsole(out []byte) *GuestRun {
	g := &GuestRun{ExitCode: -1}
	byName := map[string]int{}
	current := -1
	section := ""
	var carry strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, guestproto.CarryPrefix):
			carry.WriteString(strings.TrimPrefix(line, guestproto.CarryPrefix))
			continue
		case strings.HasPrefix(line, guestproto.CarryEndMarker+" "):
			g.Carried, g.CarryErr = decodeCarried(carry.String(),
				strings.TrimSpace(strings.TrimPrefix(line, guestproto.CarryEndMarker)))
			carry.Reset()
			continue
		case line == guestproto.BeginMarker:
			g.Begun = true
			continue
		case line == guestproto.DmesgMarker:
			section = "dmesg"
			continue
		case line == guestproto.KmemleakMarker:
			section = "kmemleak"
			continue
		case line == guestproto.DmesgEndMarker, line == guestproto.KmemleakEndMarker:
			section = ""
			continue
		case strings.HasPrefix(line, guestproto.EndMarker+" "):
			if n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, guestproto.EndMarker))); err == nil {
				g.ExitCode = n
			}
			continue
		}
		switch section {
		case "dmesg":
			g.Dmesg = append(g.Dmesg, line)
			continue
		case "kmemleak":
			g.Kmemleak = append(g.Kmemleak, line)
			continue
		}
		if m := runRe.FindStringSubmatch(line); m != nil {
			top, _, _ := strings.Cut(m[1], "/")
			if i, ok := byName[top]; ok {
				current = i
			} else {
				g.Tests = append(g.Tests, TestResult{Name: top})
				current = len(g.Tests) - 1
				byName[top] = current
			}
			continue
		}
		if m := resultRe.FindStringSubmatch(line); m != nil && !strings.Contains(m[2], "/") {
			if i, ok := byName[m[2]]; ok {
				g.Tests[i].Result = m[1]
				current = i
				continue
			}
		}
		if current >= 0 {
			g.Tests[current].Output = append(g.Tests[current].Output, line)
		}
	}
	return g
}

// decodeCarried decodes the base64 lines of a carried archive and checks
// them against the SHA-256 the guest printed after them: a kernel message
// in the middle of a line would otherwise go unnoticed.
func decodeCarried(b64, sum string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("the carried archive is not base64 (a kernel message among its lines?): %w", err)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != sum {
		return nil, fmt.Errorf("the carried archive has SHA-256 %s, the guest printed %s", got, sum)
	}
	return b, nil
}

// KernelProblems returns the lines of the kernel log (and of kmemleak's
// report) that show a kernel bug.
func (g *GuestRun) KernelProblems() []string {
	var bad []string
	for _, l := range g.Dmesg {
		if guestproto.KernelProblem.MatchString(l) {
			bad = append(bad, l)
		}
	}
	for _, l := range g.Kmemleak {
		if strings.TrimSpace(l) != "" {
			bad = append(bad, "kmemleak: "+l)
		}
	}
	return bad
}

// Failures returns why a guest run has failed: the guest never started or
// never finished its run, its runner reported an error, a test failed or
// did not run (a skip in the guest is a test that did not run), or the
// kernel log shows a kernel bug. wantTests says whether the run was meant
// to run tests.
func (g *GuestRun) Failures(wantTests bool) []string {
	var f []string
	if !g.Begun {
		f = append(f, "the guest runner never started (see the console log)")
	}
	if g.ExitCode == -1 {
		f = append(f, "the guest never reached the end of its run (crash, hang or timeout)")
	} else if g.ExitCode != 0 {
		f = append(f, "the guest runner exited with status "+strconv.Itoa(g.ExitCode))
	}
	if wantTests && len(g.Tests) == 0 {
		f = append(f, "no test ran in the guest")
	}
	for _, t := range g.Tests {
		switch t.Result {
		case "PASS":
		case "":
			f = append(f, t.Name+" never finished")
		default:
			f = append(f, t.Name+": "+t.Result)
		}
	}
	if len(g.Dmesg) == 0 && g.ExitCode != -1 {
		f = append(f, "the guest printed no kernel log")
	}
	if bad := g.KernelProblems(); len(bad) > 0 {
		f = append(f, "kernel log shows problems:\n\t"+strings.Join(bad, "\n\t"))
	}
	return f
}
