package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	kcr "github.com/kcr-dev/kcr/lib"
)

const restartUsage = `usage: kcr restart [flags] -i IMAGE

Restarts the processes of IMAGE as children of kcr, which waits for the
restored root process and exits with its status (128+N if signal N killed
it), or with --detach prints its pid and leaves it running. With
--frozen CGROUP the tree is made in that cgroup v2 directory (created if
missing; it must not be frozen) and left frozen there: kcr prints the
root's pid and exits, and "kcr thaw CGROUP" lets the tree go on.
With --map-image, runs of 1 MiB or more of private anonymous memory are
mapped from IMAGE (a regular file) copy-on-write instead of copied: the
restart does not copy them, but those parts of the memory become private
mappings of IMAGE (madvise(MADV_DONTNEED) brings back the image's data
there, not zeros), and IMAGE must not be changed while the processes run.
`

func runRestart(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, restartUsage); fs.PrintDefaults() }
	in := fs.String("i", "", "image file to read (- for stdin)")
	logPath := fs.String("log", "", "file for kcr.ko's messages (default: stderr)")
	noPids := fs.Bool("no-pids", false, "give the processes fresh pids instead of the image's")
	detach := fs.Bool("detach", false, "do not wait: print the restored pid and exit")
	allowChanged := fs.Bool("allow-changed-files", false, "reopen files that changed since the checkpoint instead of failing")
	mapImage := fs.Bool("map-image", false, "map large runs of anonymous memory from IMAGE copy-on-write instead of copying them")
	frozen := fs.String("frozen", "", "cgroup v2 directory to restart the tree in, left frozen (implies --detach)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || *in == "" {
		fs.Usage()
		return 2
	}
	o := kcr.RestartOptions{NoPids: *noPids, AllowChangedFiles: *allowChanged, MapImage: *mapImage}
	if *frozen != "" {
		if err := os.Mkdir(*frozen, 0o755); err != nil && !os.IsExist(err) {
			fmt.Fprintf(stderr, "kcr restart: %v\n", err)
			return 1
		}
		cg, err := os.Open(*frozen)
		if err != nil {
			fmt.Fprintf(stderr, "kcr restart: %v\n", err)
			return 1
		}
		defer cg.Close()
		o.FrozenIn = cg
	}
	timing.mark("args")
	pid, err := restart(*in, *logPath, o)
	timing.print(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kcr restart: %v\n", err)
		return 1
	}
	if *detach || *frozen != "" {
		fmt.Fprintf(stdout, "%d\n", pid)
		return 0
	}
	fmt.Fprintf(stderr, "kcr restart: restarted pid %d\n", pid)
	ws, err := kcr.Wait(pid)
	if err != nil {
		fmt.Fprintf(stderr, "kcr restart: wait for pid %d: %v\n", pid, err)
		return 1
	}
	switch {
	case ws.Exited():
		fmt.Fprintf(stderr, "kcr restart: pid %d exited with status %d\n", pid, ws.ExitStatus())
		return ws.ExitStatus()
	case ws.Signaled():
		fmt.Fprintf(stderr, "kcr restart: pid %d killed by signal %d (%v)\n", pid, ws.Signal(), ws.Signal())
		return 128 + int(ws.Signal())
	}
	return 1
}

func restart(in, logPath string, o kcr.RestartOptions) (pid int, err error) {
	img := os.Stdin
	if in != "-" {
		img, err = os.Open(in)
		if err != nil {
			return 0, err
		}
		defer img.Close()
	}
	logf := os.Stderr
	if logPath != "" {
		logf, err = os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return 0, err
		}
		defer logf.Close()
	}
	dev, err := kcr.Open()
	if err != nil {
		return 0, err
	}
	defer dev.Close()
	timing.mark("open")
	o.Log = logf
	pid, err = dev.Restart(img, o)
	timing.mark("restart")
	if err != nil && logPath != "" {
		err = fmt.Errorf("%w (details in %s)", err, logPath)
	}
	return pid, err
}
