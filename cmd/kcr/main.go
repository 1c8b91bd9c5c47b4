// Command kcr checkpoints and restarts Linux processes through kcr.ko.
package main

import (
	"fmt"
	"os"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

const usage = `usage: kcr COMMAND [ARGS]

commands:
  version    print the version of kcr and of the loaded kcr.ko ABI
  help       print this message
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "version":
		err = version()
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "kcr: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func version() error {
	fmt.Printf("kcr tools: ABI version %d\n", uapi.KCR_ABI_VERSION)
	d, err := kcr.Open()
	if err != nil {
		return err
	}
	defer d.Close()
	v, err := d.Version()
	if err != nil {
		return err
	}
	fmt.Printf("kcr.ko:    ABI version %d\n", v)
	if v != uapi.KCR_ABI_VERSION {
		return fmt.Errorf("kcr: module ABI %d differs from the tools' ABI %d", v, uapi.KCR_ABI_VERSION)
	}
	return nil
}
