//go:build kcrguest

package guest

import (
	"os"
	"testing"
	"unsafe"

	"github.com/kcr-dev/kcr/uapi"
)

// POSIX timers of several clocks and notifications (periodic, one-shot,
// SIGEV_NONE, SIGEV_THREAD_ID, an id left free by a deleted timer) come
// back with their ids, settings and time left, and fire: rt_timers
// checks them.
func TestRestartTimers(t *testing.T) {
	rt := selfRoundTrip(t, "rt_timers")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	var h uapi.CkptHdrPosixTimers
	r := recordOf(t, img, uapi.CKPT_HDR_POSIX_TIMERS)
	order := imageOrder(img)
	rec := img[r.Offset:]
	nr := order.Uint32(rec[unsafe.Offsetof(h.NrTimers):])
	next := order.Uint32(rec[unsafe.Offsetof(h.NextId):])
	if nr != 4 || next != 5 {
		t.Errorf("image: %d timers, next id %d; want 4 and 5", nr, next)
	}
	t.Logf("report:\n%s", rt.Report())
}
