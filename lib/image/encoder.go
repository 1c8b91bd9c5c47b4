package image

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"reflect"

	"github.com/kcr-dev/kcr/uapi"
)

// Encoder writes an image record by record. It fills in each record's
// struct ckpt_hdr and checks nothing else: tests build broken images with
// it on purpose.
type Encoder struct {
	w     *bufio.Writer
	order binary.ByteOrder
	off   int64
	buf   []byte
}

// NewEncoder writes records in the given byte order.
func NewEncoder(w io.Writer, order binary.ByteOrder) *Encoder {
	return &Encoder{w: bufio.NewWriterSize(w, 64<<10), order: order}
}

// Offset is the number of bytes written so far.
func (e *Encoder) Offset() int64 { return e.off }

// Record writes a record of type typ: body (a pointer to its uapi struct,
// whose H is set here; nil for a bare struct ckpt_hdr) and then each
// payload item ([]byte, string, or fixed-size values such as
// []uapi.CkptPids).
func (e *Encoder) Record(typ uint32, body any, payload ...any) error {
	size := int64(8)
	if body != nil {
		size = int64(binary.Size(body))
		if size < 8 {
			return fmt.Errorf("image: record body %T is not a fixed-size struct", body)
		}
	}
	for _, p := range payload {
		n, err := payloadSize(p)
		if err != nil {
			return err
		}
		size += n
	}
	if size > math.MaxUint32 {
		return fmt.Errorf("image: %s record of %d bytes is too long", TypeName(typ), size)
	}
	h := uapi.CkptHdr{Type: typ, Len: uint32(size)}
	if body != nil {
		reflect.ValueOf(body).Elem().Field(0).Set(reflect.ValueOf(h))
		if err := e.put(body); err != nil {
			return err
		}
	} else if err := e.put(&h); err != nil {
		return err
	}
	for _, p := range payload {
		if err := e.put(p); err != nil {
			return err
		}
	}
	return nil
}

func payloadSize(p any) (int64, error) {
	switch v := p.(type) {
	case []byte:
		return int64(len(v)), nil
	case string:
		return int64(len(v)), nil
	}
	n := binary.Size(p)
	if n < 0 {
		return 0, fmt.Errorf("image: payload of type %T is not fixed-size data", p)
	}
	return int64(n), nil
}

func (e *Encoder) put(v any) error {
	var n int
	var err error
	switch b := v.(type) {
	case []byte:
		n, err = e.w.Write(b)
	case string:
		n, err = e.w.WriteString(b)
	default:
		e.buf, err = binary.Append(e.buf[:0], e.order, v)
		if err == nil {
			n, err = e.w.Write(e.buf)
		}
	}
	e.off += int64(n)
	return err
}

// String writes a STRING record.
func (e *Encoder) String(s string) error {
	return e.Record(uapi.CKPT_HDR_STRING, nil, s, []byte{0})
}

// Pages writes a PGARR record of len(addrs) pages; pages holds their
// contents back to back. An empty addrs writes the chunk that ends a VMA.
func (e *Encoder) Pages(addrs []uint64, pages []byte) error {
	return e.Record(uapi.CKPT_HDR_PGARR, &uapi.CkptHdrPgarr{NrPages: uint32(len(addrs))}, addrs, pages)
}

// Flush writes out what is buffered.
func (e *Encoder) Flush() error { return e.w.Flush() }
