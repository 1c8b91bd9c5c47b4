package image_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
)

// pagesImage is an image holding chunks full page chunks of one VMA.
func pagesImage(tb testing.TB, chunks int) []byte {
	var buf bytes.Buffer
	e := image.NewEncoder(&buf, binary.LittleEndian)
	if err := e.Record(uapi.CKPT_HDR_HEADER, header()); err != nil {
		tb.Fatal(err)
	}
	const n = uapi.CKPT_PGARR_MAX_PAGES
	addrs := make([]uint64, n)
	pages := make([]byte, n*4096)
	for i := range pages {
		pages[i] = byte(i * 7)
	}
	for c := 0; c < chunks; c++ {
		for i := range addrs {
			addrs[i] = uint64(c*n+i+1) * 4096
		}
		if err := e.Pages(addrs, pages); err != nil {
			tb.Fatal(err)
		}
	}
	if err := e.Pages(nil, nil); err != nil {
		tb.Fatal(err)
	}
	if err := e.Record(uapi.CKPT_HDR_TAIL, &uapi.CkptHdrTail{Magic: uapi.CKPT_MAGIC_TAIL}); err != nil {
		tb.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// decodePages reads every page of img into buf, as a restart would copy it
// into the restored address space.
func decodePages(tb testing.TB, img []byte, buf []byte) int64 {
	d := image.NewDecoder(bytes.NewReader(img))
	var total int64
	for {
		rec, err := d.Next()
		if err == io.EOF {
			return total
		}
		if err != nil {
			tb.Fatal(err)
		}
		if rec.Type != uapi.CKPT_HDR_PGARR {
			continue
		}
		if _, err := d.PageAddrs(); err != nil {
			tb.Fatal(err)
		}
		for {
			n, err := io.ReadFull(d, buf)
			total += int64(n)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func BenchmarkDecodePages(b *testing.B) {
	img := pagesImage(b, 8) // 256 MiB of pages
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(img)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		decodePages(b, img, buf)
	}
}

// The decoder's memory must not grow with the image: the same number of
// allocations for 1 chunk as for 4.
func TestDecodeAllocationsIndependentOfSize(t *testing.T) {
	buf := make([]byte, 1<<20)
	small, large := pagesImage(t, 1), pagesImage(t, 4)
	a1 := testing.AllocsPerRun(3, func() { decodePages(t, small, buf) })
	a4 := testing.AllocsPerRun(3, func() { decodePages(t, large, buf) })
	if a4 != a1 {
		t.Fatalf("decoding 4 page chunks made %v allocations, 1 chunk %v", a4, a1)
	}
}
