// Package guestproto is what the host and the guest of kcr's VM tests agree
// on: where things are in the initramfs, the console markers, and what in
// the kernel log is a kernel bug.
package guestproto

import (
	"regexp"
	"strings"
)

// Paths inside the guest's initramfs.
const (
	Dir        = "/kcr"
	Module     = Dir + "/kcr.ko"
	WarnModule = Dir + "/kcr_warn.ko"
	TestDir    = Dir + "/tests"
	BinDir     = Dir + "/bin" // the C workloads of vmtest/workloads
	// The kernel modules that CRIU needs (make bench), NN-name.ko in the
	// order they load in.
	CRIUModuleDir = Dir + "/criu-modules"
)

// Console markers, each alone on a line.
const (
	BeginMarker       = "KCR-GUEST-BEGIN"
	EndMarker         = "KCR-GUEST-END" // followed by the exit code
	DmesgMarker       = "KCR-DMESG-BEGIN"
	DmesgEndMarker    = "KCR-DMESG-END"
	KmemleakMarker    = "KCR-KMEMLEAK-BEGIN"
	KmemleakEndMarker = "KCR-KMEMLEAK-END"
)

// Files carried from one boot to the next (TestCrossSeries: images taken
// on one kernel series, restarted on another). The guest prints CarryDir
// as a gzipped newc cpio archive, in base64 lines that begin with
// CarryPrefix, then CarryEndMarker, a space and the hex SHA-256 of the
// archive; the host appends the archive to the next boot's initramfs.
const (
	CarryDir       = "/xseries"
	CarryPrefix    = "KCR-CARRY "
	CarryEndMarker = "KCR-CARRY-END"
)

// The memory benchmark (make bench) prints each figure on a line
// "BenchMemPrefix MIB COLUMN SECONDS" for the host's plot.
const BenchMemPrefix = "kcr-bench-mem"

// KernelProblem matches the kernel log lines that fail a guest run:
// oopses, BUGs, WARN()s, stack dumps, lockdep and RCU reports, sanitizer
// and kmemleak findings. The host checks the whole log with it, and the
// in-guest fuzzer the lines of each round.
var KernelProblem = regexp.MustCompile(strings.Join([]string{
	`Oops`,
	`\bBUG\b`,
	`WARNING:`,
	`Call Trace`,
	`kmemleak: .*(suspected memory leak|unreferenced)`,
	`unreferenced object 0x`,
	`possible (circular|recursive) locking`,
	`inconsistent lock state`,
	`suspicious RCU usage`,
	`UBSAN:`,
	`KASAN:`,
	// The kernel's own (die() adds "[#n]"), not a user task's "traps:" line.
	`general protection fault.*\[#\d+\]`,
	`Unable to handle kernel`,
	`Kernel panic`,
	`hung_task|blocked for more than`,
	`soft lockup|hard LOCKUP`,
}, "|"))
