// Package guestproto is what the host and the guest of kcr's VM tests agree
// on: where things are in the initramfs and the console markers.
package guestproto

// Paths inside the guest's initramfs.
const (
	Dir        = "/kcr"
	Module     = Dir + "/kcr.ko"
	WarnModule = Dir + "/kcr_warn.ko"
	TestDir    = Dir + "/tests"
	BinDir     = Dir + "/bin" // the C workloads of vmtest/workloads
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
