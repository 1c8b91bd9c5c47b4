package image

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"reflect"
	"syscall"

	"github.com/kcr-dev/kcr/uapi"
)

// Limits bound what a Decoder accepts, so that a corrupt length can make it
// neither allocate nor wait for more than these.
type Limits struct {
	MaxRecord int64 // bytes of any record but PGARR (whose size is exact)
	MaxString int   // bytes of a STRING record's string, NUL included
}

// DefaultLimits fit every image the kernel writes.
var DefaultLimits = Limits{MaxRecord: 16 << 20, MaxString: 4096}

// Record is one record of the stream. Body points to the record's struct
// (a *uapi.CkptHdr<Name>) and is valid until the next call to Next: the
// decoder reuses it, so that reading does not allocate per record.
type Record struct {
	Type       uint32
	Len        uint32
	Offset     int64 // of the record's first byte
	Body       any   // nil for BUFFER, STRING and MM_AUXV
	PayloadLen int64 // bytes after the struct
}

// Name returns the record's type name.
func (r *Record) Name() string { return TypeName(r.Type) }

// Decoder reads an image record by record from a stream. It never holds
// more than one record's struct and, for page chunks, their addresses:
// page contents stream through Payload.
type Decoder struct {
	r      *bufio.Reader
	lim    Limits
	order  binary.ByteOrder
	off    int64 // offset of the next byte
	rec    Record
	remain int64 // payload bytes of rec not read yet
	header *uapi.CkptHdrHeader
	page   uint64
	tail   bool
	err    error // sticky: the stream cannot be read further

	hdr    [8]byte
	bodies map[uint32]any
	buf    []byte
	addrs  []uint64
}

// NewDecoder returns a decoder with DefaultLimits.
func NewDecoder(r io.Reader) *Decoder { return NewDecoderLimits(r, DefaultLimits) }

// NewDecoderLimits returns a decoder with the given limits.
func NewDecoderLimits(r io.Reader, lim Limits) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 16<<10), lim: lim, bodies: map[uint32]any{}}
}

// ByteOrder is the image's byte order, known after the first record.
func (d *Decoder) ByteOrder() binary.ByteOrder { return d.order }

// Header is the image header, known after the first record.
func (d *Decoder) Header() *uapi.CkptHdrHeader { return d.header }

// PageSize is the producer's page size, from the header.
func (d *Decoder) PageSize() uint64 { return d.page }

// Offset is the offset of the next byte the decoder reads.
func (d *Decoder) Offset() int64 { return d.off }

func (d *Decoder) fail(off int64, reason string, args ...any) error {
	rec := ""
	if d.rec.Len != 0 {
		rec = d.rec.Name()
	}
	d.err = &FormatError{Offset: off, Record: rec, Reason: fmt.Sprintf(reason, args...)}
	return d.err
}

// read fills p from the stream; running out of data is a truncated image.
func (d *Decoder) read(p []byte) error {
	n, err := io.ReadFull(d.r, p)
	d.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return d.fail(d.off, "image truncated: %d more bytes expected", len(p)-n)
	}
	if err != nil {
		d.err = fmt.Errorf("image offset %d: %w", d.off, err)
		return d.err
	}
	return nil
}

func (d *Decoder) skip(n int64) error {
	for n > 0 {
		chunk := int(min(n, 1<<30))
		m, err := d.r.Discard(chunk)
		d.off += int64(m)
		n -= int64(m)
		if err != nil {
			if err == io.EOF {
				return d.fail(d.off, "image truncated: %d more bytes expected", n)
			}
			d.err = fmt.Errorf("image offset %d: %w", d.off, err)
			return d.err
		}
	}
	return nil
}

// Next reads the next record's header and struct, checking that its length
// is exactly what the struct announces. The payload of the previous record
// is skipped if it was not read. At the end of a complete image Next
// returns io.EOF. An error record comes back as the record and an
// *ImageError; the decoder can go on after it.
func (d *Decoder) Next() (*Record, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.remain > 0 {
		if err := d.skip(d.remain); err != nil {
			return nil, err
		}
		d.remain = 0
	}
	start := d.off
	d.rec = Record{Offset: start}
	if d.tail {
		if _, err := d.r.Peek(1); err == io.EOF {
			d.err = io.EOF
			return nil, io.EOF
		}
		return nil, d.fail(start, "data after the TAIL record")
	}
	if d.header == nil {
		if err := d.detectOrder(); err != nil {
			return nil, err
		}
	}
	if _, err := d.r.Peek(1); err == io.EOF {
		return nil, d.fail(start, "image truncated: it ends without a TAIL record")
	}
	if err := d.read(d.hdr[:]); err != nil {
		return nil, err
	}
	typ, ln := d.order.Uint32(d.hdr[0:]), d.order.Uint32(d.hdr[4:])
	k, ok := kinds[typ]
	if !ok {
		return nil, d.fail(start, "unknown record type %d", typ)
	}
	d.rec.Type, d.rec.Len = typ, ln
	if d.header == nil && typ != uapi.CKPT_HDR_HEADER {
		return nil, d.fail(start, "the image starts with a %s record, not HEADER", k.name)
	}
	if d.header != nil && typ == uapi.CKPT_HDR_HEADER {
		return nil, d.fail(start, "a second HEADER record")
	}
	bodySize := int64(8)
	if k.body != nil {
		bodySize = int64(k.body.Size())
	}
	if int64(ln) < bodySize {
		return nil, d.fail(start+4, "record length %d is shorter than its %d-byte struct", ln, bodySize)
	}
	if typ != uapi.CKPT_HDR_PGARR && int64(ln) > d.lim.MaxRecord {
		return nil, d.fail(start+4, "record length %d is over the limit of %d", ln, d.lim.MaxRecord)
	}
	if k.body != nil {
		body, err := d.readBody(typ, k.body, bodySize)
		if err != nil {
			return nil, err
		}
		d.rec.Body = body
	}
	d.rec.PayloadLen = int64(ln) - bodySize
	d.remain = d.rec.PayloadLen
	if err := d.check(&d.rec, k); err != nil {
		return nil, err
	}
	switch typ {
	case uapi.CKPT_HDR_ERROR:
		return &d.rec, d.imageError()
	case uapi.CKPT_HDR_TAIL:
		d.tail = true
	}
	return &d.rec, nil
}

// detectOrder tells the byte order from the magic of the HEADER record.
func (d *Decoder) detectOrder() error {
	b, err := d.r.Peek(16)
	if len(b) < 16 {
		if err == nil || err == io.EOF {
			return d.fail(d.off+int64(len(b)), "image truncated: %d bytes, too short for a header", len(b))
		}
		return err
	}
	switch {
	case binary.LittleEndian.Uint64(b[8:]) == uapi.CKPT_MAGIC_HEAD:
		d.order = binary.LittleEndian
	case binary.BigEndian.Uint64(b[8:]) == uapi.CKPT_MAGIC_HEAD:
		d.order = binary.BigEndian
	default:
		return d.fail(d.off+8, "not a kcr image: bad magic %#x", binary.LittleEndian.Uint64(b[8:]))
	}
	return nil
}

func (d *Decoder) readBody(typ uint32, rt reflect.Type, size int64) (any, error) {
	body, ok := d.bodies[typ]
	if !ok {
		body = reflect.New(rt).Interface()
		d.bodies[typ] = body
	}
	b := d.scratch(size)
	copy(b, d.hdr[:])
	if err := d.read(b[8:]); err != nil {
		return nil, err
	}
	if _, err := binary.Decode(b, d.order, body); err != nil {
		return nil, d.fail(d.rec.Offset, "decoding: %v", err)
	}
	return body, nil
}

// scratch returns n bytes of the decoder's reused buffer.
func (d *Decoder) scratch(n int64) []byte {
	if int64(cap(d.buf)) < n {
		d.buf = make([]byte, n)
	}
	return d.buf[:n]
}

// check validates what a record says about itself and its payload.
func (d *Decoder) check(r *Record, k kind) error {
	switch b := r.Body.(type) {
	case *uapi.CkptHdrHeader:
		if err := d.checkHeader(b); err != nil {
			return err
		}
	case *uapi.CkptHdrPgarr:
		if b.NrPages > uapi.CKPT_PGARR_MAX_PAGES {
			return d.fail(r.Offset+8, "page chunk of %d pages, more than %d", b.NrPages, uapi.CKPT_PGARR_MAX_PAGES)
		}
		if uint64(b.Pad) >= d.page || (b.Pad != 0 && d.header.Version < 2) {
			return d.fail(r.Offset+12, "page chunk padded by %d bytes", b.Pad)
		}
	case *uapi.CkptHdrPgarrClean:
		if b.NrPages > uapi.CKPT_PGARR_MAX_PAGES {
			return d.fail(r.Offset+8, "clean page chunk of %d pages, more than %d", b.NrPages, uapi.CKPT_PGARR_MAX_PAGES)
		}
	case *uapi.CkptHdrTail:
		if b.Magic != uapi.CKPT_MAGIC_TAIL {
			return d.fail(r.Offset+8, "bad tail magic %#x", b.Magic)
		}
	}
	if r.Type == uapi.CKPT_HDR_STRING && (r.PayloadLen < 1 || r.PayloadLen > int64(d.lim.MaxString)) {
		return d.fail(r.Offset+4, "string of %d bytes (NUL included); 1 to %d allowed", r.PayloadLen, d.lim.MaxString)
	}
	if r.Type == uapi.CKPT_HDR_MM_AUXV && r.PayloadLen%8 != 0 {
		return d.fail(r.Offset+4, "auxv of %d bytes is not a whole number of words", r.PayloadLen)
	}
	if k.body != nil && k.payload == nil && r.PayloadLen != 0 {
		return d.fail(r.Offset+4, "record length %d: the record has %d bytes after its struct, which announces none",
			r.Len, r.PayloadLen)
	}
	if k.payload != nil {
		if want := k.payload(r.Body, d.page); uint64(r.PayloadLen) != want {
			return d.fail(r.Offset+4, "record length %d: its struct announces %d payload bytes, the record has %d",
				r.Len, want, r.PayloadLen)
		}
	}
	return nil
}

func (d *Decoder) checkHeader(h *uapi.CkptHdrHeader) error {
	off := d.rec.Offset
	if h.Version < uapi.CKPT_IMAGE_VERSION_OLDEST || h.Version > uapi.CKPT_IMAGE_VERSION {
		return d.fail(off+16, "image format version %d; this reader knows %d to %d",
			h.Version, uapi.CKPT_IMAGE_VERSION_OLDEST, uapi.CKPT_IMAGE_VERSION)
	}
	switch h.ArchId {
	case uapi.CKPT_ARCH_X86_64, uapi.CKPT_ARCH_S390X, uapi.CKPT_ARCH_PPC64LE:
	default:
		return d.fail(off+20, "unknown architecture id %d", h.ArchId)
	}
	ps := uint64(h.Constants.PageSize)
	if ps < 4096 || ps > 1<<20 || bits.OnesCount64(ps) != 1 {
		return d.fail(off, "page size %d is not a power of two between 4 KiB and 1 MiB", ps)
	}
	d.header = new(uapi.CkptHdrHeader)
	*d.header = *h
	d.page = ps
	return nil
}

func (d *Decoder) imageError() error {
	e := d.rec.Body.(*uapi.CkptHdrError)
	msg := make([]byte, d.remain)
	if err := d.read(msg); err != nil {
		return err
	}
	d.remain = 0
	return &ImageError{
		Offset: d.rec.Offset,
		Errno:  errnoOf(e.Err),
		Pid:    e.Pid,
		Pos:    e.Pos,
		Msg:    string(bytes.TrimRight(msg, "\x00")),
	}
}

func errnoOf(err int32) syscall.Errno {
	if err < 0 {
		err = -err
	}
	return syscall.Errno(err)
}

// Read reads from the payload of the current record; at its end it returns
// io.EOF. It makes the Decoder an io.Reader of page contents and data.
func (d *Decoder) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.remain == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > d.remain {
		p = p[:d.remain]
	}
	n, err := d.r.Read(p)
	d.off += int64(n)
	d.remain -= int64(n)
	if err == io.EOF {
		if d.remain > 0 {
			return n, d.fail(d.off, "image truncated: %d more bytes expected", d.remain)
		}
		err = nil
	}
	return n, err
}

// Payload returns a reader of the current record's unread payload.
func (d *Decoder) Payload() io.Reader { return d }

// ReadPayload decodes the next binary.Size(v) payload bytes into v, a
// pointer to or a slice of fixed-size values (e.g. []uapi.CkptPids).
func (d *Decoder) ReadPayload(v any) error {
	n := int64(binary.Size(v))
	if n < 0 {
		return fmt.Errorf("image: ReadPayload of a %T", v)
	}
	if n > d.remain {
		return d.fail(d.off, "%d payload bytes wanted, %d left in the record", n, d.remain)
	}
	b := d.scratch(n)
	if err := d.read(b); err != nil {
		return err
	}
	d.remain -= n
	_, err := binary.Decode(b, d.order, v)
	return err
}

// String returns the string of the current STRING record.
func (d *Decoder) String() (string, error) {
	if d.rec.Type != uapi.CKPT_HDR_STRING || d.remain != d.rec.PayloadLen {
		return "", errors.New("image: String called off a fresh STRING record")
	}
	b := make([]byte, d.remain)
	at := d.off
	if err := d.read(b); err != nil {
		return "", err
	}
	d.remain = 0
	if i := bytes.IndexByte(b, 0); i != len(b)-1 {
		return "", d.fail(at, "string is not NUL-terminated at its end")
	}
	return string(b[:len(b)-1]), nil
}

// PageAddrs reads the addresses of the current PGARR record, whose pages
// follow through Read, PageSize bytes each (after its pad, skipped here),
// or of a PGARR_CLEAN record.
// The slice is reused by the next call. Addresses must be page-aligned
// and strictly increasing.
func (d *Decoder) PageAddrs() ([]uint64, error) {
	n, pad := -1, 0
	switch p := d.rec.Body.(type) {
	case *uapi.CkptHdrPgarr:
		n, pad = int(p.NrPages), int(p.Pad)
	case *uapi.CkptHdrPgarrClean:
		n = int(p.NrPages)
	}
	if n < 0 || d.remain != d.rec.PayloadLen {
		return nil, errors.New("image: PageAddrs called off a fresh PGARR or PGARR_CLEAN record")
	}
	if cap(d.addrs) < n {
		d.addrs = make([]uint64, n)
	}
	a := d.addrs[:n]
	at := d.off
	// Decoded by hand: ReadPayload would box the slice, one allocation
	// per chunk.
	b := d.scratch(int64(8 * n))
	if err := d.read(b); err != nil {
		return nil, err
	}
	d.remain -= int64(8 * n)
	for i := range a {
		a[i] = d.order.Uint64(b[8*i:])
	}
	for i, v := range a {
		if v%d.page != 0 {
			return nil, d.fail(at+int64(8*i), "page address %#x is not page-aligned", v)
		}
		if i > 0 && v <= a[i-1] {
			return nil, d.fail(at+int64(8*i), "page address %#x does not follow %#x", v, a[i-1])
		}
	}
	if pad > 0 {
		if err := d.skip(int64(pad)); err != nil {
			return nil, err
		}
		d.remain -= int64(pad)
	}
	return a, nil
}
