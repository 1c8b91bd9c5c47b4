package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/lib/image/imagetest"
)

// FuzzSummarize feeds arbitrary bytes to the decoder: it must never panic,
// and every failure must be a FormatError or an ImageError with an offset
// inside the input.
func FuzzSummarize(f *testing.F) {
	for _, order := range orders {
		img := imagetest.Image(order, imagetest.TwoTasks)
		f.Add(img)
		f.Add(img[:len(img)/2])
		f.Add(img[:200])
		// Small seeds keep the fuzzer fast: no pages, no files.
		f.Add(imagetest.Image(order, []imagetest.Task{{Pid: 1, Comm: "a"}}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := image.Summarize(bytes.NewReader(data))
		if err == nil {
			return
		}
		var fe *image.FormatError
		var ie *image.ImageError
		switch {
		case errors.As(err, &fe):
			if fe.Offset < 0 || fe.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside a %d-byte input: %v", fe.Offset, len(data), err)
			}
		case errors.As(err, &ie):
		default:
			t.Fatalf("error of type %T: %v", err, err)
		}
	})
}

// FuzzRecordStream decodes records one by one and reads each payload the
// way a restart would, in both byte orders of the seed.
func FuzzRecordStream(f *testing.F) {
	f.Add(imagetest.Image(binary.BigEndian, imagetest.TwoTasks))
	f.Add(imagetest.Image(binary.LittleEndian, []imagetest.Task{{Pid: 1, Comm: "a", Pages: 1}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := image.NewDecoder(bytes.NewReader(data))
		buf := make([]byte, 4096)
		for i := 0; i < 10000; i++ {
			rec, err := d.Next()
			if err != nil {
				var ie *image.ImageError
				if errors.As(err, &ie) {
					continue
				}
				return
			}
			if d.Offset() > int64(len(data)) {
				t.Fatalf("decoder offset %d past the %d-byte input", d.Offset(), len(data))
			}
			switch rec.Name() {
			case "STRING":
				_, _ = d.String()
			case "PGARR":
				if _, err := d.PageAddrs(); err != nil {
					return
				}
				for {
					if _, err := d.Read(buf); err != nil {
						break
					}
				}
			}
		}
	})
}
