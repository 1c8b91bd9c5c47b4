// Command rt_go is a Go program for external checkpoint and restart, as
// a user would run one: the Go runtime's threads (sysmon, idle Ms parked
// in futexes, the signal handling M, one M per running goroutine), its
// signal handlers and alternate stacks, its garbage-collected heap, and
// goroutines busy on every CPU in integer and floating-point loops with
// no system calls.
//
// Usage: rt_go IMAGE. It writes IMAGE.ready once every worker runs, and
// on SIGUSR1 (sent to the restarted process) stops the workers and
// checks that each one's chain of values is still the one its loop
// computes, that each made progress after the restart, that its heap
// still holds what was put there, and that its pid is the original one.
// It exits 0 only if all holds; failures go to IMAGE.report.
//
// It uses the syscall package for its few files: the os package would
// start the runtime's network poller (an epoll instance), which kcr does
// not checkpoint yet. So do its timers: there are none.
package main

import (
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// worker advances a chain of values with no system call; done counts
// its steps, so that the chain can be recomputed from the start.
type worker struct {
	id    uint64
	steps atomic.Uint64
	x     uint64  // integer chain, after steps steps
	f     float64 // floating-point chain, after steps steps
	mu    sync.Mutex
	stop  atomic.Bool
}

func next(id, x uint64, f float64) (uint64, float64) {
	x = x*6364136223846793005 + 1442695040888963407 + id
	f = math.Mod(f*1.000001+math.Sqrt(float64(x>>40)+1), 1e6)
	return x, f
}

func (w *worker) run() {
	x, f := w.id, float64(w.id)
	for n := uint64(1); !w.stop.Load(); n++ {
		x, f = next(w.id, x, f)
		if n%4096 == 0 {
			w.mu.Lock()
			w.x, w.f = x, f
			w.steps.Store(n)
			w.mu.Unlock()
		}
	}
}

// check recomputes the chain up to the last published step.
func (w *worker) check() error {
	w.mu.Lock()
	n, x0, f0 := w.steps.Load(), w.x, w.f
	w.mu.Unlock()
	x, f := w.id, float64(w.id)
	for i := uint64(0); i < n; i++ {
		x, f = next(w.id, x, f)
	}
	if x != x0 || f != f0 {
		return fmt.Errorf("worker %d: after %d steps x=%#x f=%v, recomputed x=%#x f=%v", w.id, n, x0, f0, x, f)
	}
	return nil
}

var report int = -1

func say(format string, a ...any) {
	s := fmt.Sprintf(format+"\n", a...)
	_, _ = syscall.Write(report, []byte(s))
}

func main() {
	if len(os.Args) != 2 {
		os.Exit(2)
	}
	img := os.Args[1]
	var err error
	report, err = syscall.Open(img+".report", syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_APPEND, 0o600)
	if err != nil {
		os.Exit(2)
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	pid := os.Getpid()

	// A heap that the collector moves nothing of but keeps scanning.
	heap := make([][]uint64, 256)
	for i := range heap {
		heap[i] = make([]uint64, 512)
		for j := range heap[i] {
			heap[i][j] = uint64(i)<<32 | uint64(j)
		}
	}
	workers := make([]*worker, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &worker{id: uint64(i + 1)}
		wg.Add(1)
		go func(w *worker) { defer wg.Done(); w.run() }(workers[i])
	}
	for _, w := range workers {
		for w.steps.Load() == 0 {
			runtime.Gosched()
		}
	}
	runtime.GC()
	fd, err := syscall.Open(img+".ready", syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o600)
	if err != nil {
		say("setup: ready file: %v", err)
		os.Exit(2)
	}
	syscall.Close(fd)

	<-usr1
	at := make([]uint64, len(workers))
	for i, w := range workers {
		at[i] = w.steps.Load()
	}
	// Every worker goes on after the restart.
	for i, w := range workers {
		for w.steps.Load() == at[i] {
			runtime.Gosched()
		}
	}
	for _, w := range workers {
		w.stop.Store(true)
	}
	wg.Wait()
	failures := 0
	fail := func(format string, a ...any) {
		failures++
		say("FAIL "+format, a...)
	}
	for _, w := range workers {
		if err := w.check(); err != nil {
			fail("%v", err)
		}
	}
	runtime.GC()
	for i := range heap {
		for j := range heap[i] {
			if heap[i][j] != uint64(i)<<32|uint64(j) {
				fail("heap[%d][%d] = %#x", i, j, heap[i][j])
			}
		}
	}
	if os.Getpid() != pid {
		fail("pid %d, was %d", os.Getpid(), pid)
	}
	if failures > 0 {
		say("FAIL: %d failures", failures)
		os.Exit(1)
	}
	say("PASS: %d workers on %d CPUs", len(workers), runtime.GOMAXPROCS(0))
}
