package main

import (
	"fmt"
	"io"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

func runVersion(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "kcr tools: ABI version %d\n", uapi.KCR_ABI_VERSION)
	d, err := kcr.Open()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer d.Close()
	v, err := d.Version()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "kcr.ko:    ABI version %d\n", v)
	if v != uapi.KCR_ABI_VERSION {
		fmt.Fprintf(stderr, "kcr: module ABI %d differs from the tools' ABI %d\n", v, uapi.KCR_ABI_VERSION)
		return 1
	}
	return 0
}
