package uapi

// The Go types and constants of this package are generated from the C
// headers in linux/ and asm-*/ by the C compiler of each architecture;
// gen/ explains how. Run `go generate ./...` after changing a header.
//go:generate go run ../gen
