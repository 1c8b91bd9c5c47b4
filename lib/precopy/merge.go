package precopy

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/uapi"
)

// MergeStats count the pages of a merged image by where they came from.
type MergeStats struct {
	Written int // written by the frozen checkpoint
	Copied  int // taken from the pre-copy
	Zero    int // pre-copied pages of zeros, left holes
}

// page is one page of a VMA in the merged image: its data at off in the
// delta image (store false) or in the store.
type page struct {
	addr  uint64
	off   int64
	store bool
}

// Merge writes to w the image delta (written with CHECKPOINT_DIRTY_ONLY)
// with its PGARR_CLEAN records replaced by the pages s holds: an ordinary
// image, which restart takes. The pages of each VMA are written in
// address order, in chunks of at most CKPT_PGARR_MAX_PAGES.
func Merge(w io.Writer, delta *os.File, s *Store) (MergeStats, error) {
	var st MergeStats
	d := image.NewDecoder(delta)
	out := bufio.NewWriterSize(w, 1<<20)
	m := merger{d: d, delta: delta, s: s, out: out, st: &st}
	for {
		rec, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		switch b := rec.Body.(type) {
		case *uapi.CkptHdrHeader:
			if b.Uflags&uapi.CHECKPOINT_DIRTY_ONLY == 0 {
				return st, fmt.Errorf("pre-copy: the image was not written with CHECKPOINT_DIRTY_ONLY")
			}
			err = m.header(rec)
		case *uapi.CkptHdrPgarr:
			err = m.pgarr(b)
		case *uapi.CkptHdrPgarrClean:
			err = m.clean(b)
		default:
			if len(m.pages) > 0 {
				return st, fmt.Errorf("pre-copy: %s record at offset %d among the pages of a mapping", rec.Name(), rec.Offset)
			}
			err = m.copy(rec.Offset, int64(rec.Len))
		}
		if err != nil {
			return st, err
		}
	}
	if len(m.pages) > 0 {
		return st, fmt.Errorf("pre-copy: the image ends among the pages of a mapping")
	}
	return st, out.Flush()
}

type merger struct {
	d     *image.Decoder
	delta *os.File
	s     *Store
	out   *bufio.Writer
	st    *MergeStats
	pages []page // of the VMA being read
	buf   []byte
	off   int64 // bytes written to out, for the page alignment
}

// copy copies n bytes at off of the delta image.
func (m *merger) copy(off, n int64) error {
	c, err := io.Copy(m.out, io.NewSectionReader(m.delta, off, n))
	m.off += c
	return err
}

// header copies the HEADER record without CHECKPOINT_DIRTY_ONLY.
func (m *merger) header(rec *image.Record) error {
	b := make([]byte, rec.Len)
	if _, err := m.delta.ReadAt(b, rec.Offset); err != nil {
		return err
	}
	at := unsafe.Offsetof(uapi.CkptHdrHeader{}.Uflags)
	order := m.d.ByteOrder()
	order.PutUint64(b[at:], order.Uint64(b[at:])&^uapi.CHECKPOINT_DIRTY_ONLY)
	n, err := m.out.Write(b)
	m.off += int64(n)
	return err
}

// pgarr takes the pages of a PGARR record; the empty one that ends a
// VMA's pages writes them all out, sorted.
func (m *merger) pgarr(b *uapi.CkptHdrPgarr) error {
	if b.NrPages == 0 {
		return m.flush()
	}
	addrs, err := m.d.PageAddrs()
	if err != nil {
		return err
	}
	off := m.d.Offset()
	ps := int64(m.d.PageSize())
	for i, a := range addrs {
		m.pages = append(m.pages, page{addr: a, off: off + int64(i)*ps})
	}
	m.st.Written += len(addrs)
	return nil
}

// clean takes the pages of a PGARR_CLEAN record from the store.
func (m *merger) clean(b *uapi.CkptHdrPgarrClean) error {
	if m.d.PageSize() != uint64(m.s.pageSize) {
		return fmt.Errorf("pre-copy: the image has pages of %d bytes, the store of %d", m.d.PageSize(), m.s.pageSize)
	}
	addrs, err := m.d.PageAddrs()
	if err != nil {
		return err
	}
	for _, a := range addrs {
		off, err := m.s.lookup(int(b.Pid), a)
		if err != nil {
			return err
		}
		if off < 0 {
			m.st.Zero++
			continue
		}
		m.pages = append(m.pages, page{addr: a, off: off, store: true})
		m.st.Copied++
	}
	return nil
}

// flush writes the pages of the VMA in order, then the empty PGARR.
func (m *merger) flush() error {
	slices.SortFunc(m.pages, func(a, b page) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		}
		return 0
	})
	for i := 1; i < len(m.pages); i++ {
		if m.pages[i].addr == m.pages[i-1].addr {
			return fmt.Errorf("pre-copy: page %#x is both written and clean", m.pages[i].addr)
		}
	}
	ps := int(m.d.PageSize())
	order := m.d.ByteOrder()
	for len(m.pages) > 0 {
		n := min(len(m.pages), uapi.CKPT_PGARR_MAX_PAGES)
		chunk := m.pages[:n]
		m.pages = m.pages[n:]
		// As the kernel writes it: the pages at a multiple of the
		// page size from the start, for a restart that maps them.
		alen := 16 + 8*n
		pad := int(-(m.off + int64(alen)) & int64(ps-1))
		hdr := make([]byte, alen+pad)
		order.PutUint32(hdr[0:], uapi.CKPT_HDR_PGARR)
		order.PutUint32(hdr[4:], uint32(alen+pad+n*ps))
		order.PutUint32(hdr[8:], uint32(n))
		order.PutUint32(hdr[12:], uint32(pad))
		for i, p := range chunk {
			order.PutUint64(hdr[16+8*i:], p.addr)
		}
		if _, err := m.out.Write(hdr); err != nil {
			return err
		}
		if err := m.pagesOut(chunk, ps); err != nil {
			return err
		}
		m.off += int64(len(hdr) + n*ps)
	}
	m.pages = m.pages[:0]
	end := make([]byte, 16)
	order.PutUint32(end[0:], uapi.CKPT_HDR_PGARR)
	order.PutUint32(end[4:], 16)
	_, err := m.out.Write(end)
	m.off += 16
	return err
}

// pagesOut writes the data of chunk, reading runs that follow each other
// in their file at once.
func (m *merger) pagesOut(chunk []page, ps int) error {
	for i := 0; i < len(chunk); {
		n := 1
		for i+n < len(chunk) && n < 256 && chunk[i+n].store == chunk[i].store &&
			chunk[i+n].off == chunk[i].off+int64(n*ps) {
			n++
		}
		if cap(m.buf) < n*ps {
			m.buf = make([]byte, 256*ps)
		}
		b := m.buf[:n*ps]
		f := m.delta
		if chunk[i].store {
			f = m.s.f
		}
		if _, err := f.ReadAt(b, chunk[i].off); err != nil {
			return fmt.Errorf("pre-copy: reading pages: %w", err)
		}
		if _, err := m.out.Write(b); err != nil {
			return err
		}
		i += n
	}
	return nil
}
