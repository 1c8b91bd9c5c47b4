//go:build kcrguest

package guest

import (
	"os"
	"testing"
	"time"
)

// restartTrickled restarts rt.Image from a pipe that the test feeds in
// small pieces with pauses: every read of the restart may wait for data,
// while the restored task's timers and signals are live.
func restartTrickled(t *testing.T, rt *roundTrip, piece int, pause time.Duration) error {
	t.Helper()
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		defer w.Close()
		for off := 0; off < len(img); off += piece {
			end := min(off+piece, len(img))
			if _, err := w.Write(img[off:end]); err != nil {
				return
			}
			time.Sleep(pause)
		}
	}()
	return restartFrom(t, device(t), rt, r)
}

// A periodic interval timer firing every 2 ms does not interrupt a
// restart whose image arrives slowly: timers are armed, and the task's
// signal mask set, after its last record is read.
func TestRestartSlowStreamWithTimer(t *testing.T) {
	rt := selfCheckpoint(t, "rt_itimer")
	if err := restartTrickled(t, rt, 512, time.Millisecond); err != nil {
		t.Fatalf("restart from a slow pipe: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}
