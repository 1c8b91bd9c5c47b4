// Package uapi holds the kcr kernel ABI: the C headers in linux/ (shared with
// kcr.ko) and their Go translation.
package uapi
