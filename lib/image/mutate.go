package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"

	"github.com/kcr-dev/kcr/uapi"
)

// A Mutator makes corrupted copies of one valid image, to test that
// whoever reads images (the kernel's restart above all) refuses them
// cleanly. It knows where each record is and, from the uapi structs,
// where each field of a record's struct and of its payload's array is,
// so that besides raw bit flips it can set fields to boundary values,
// break record headers and move, copy, drop and duplicate whole records.
//
// Each mutation is a pure function of the image and a seed number: the
// same image and seed give the same bytes and the same description.
type Mutator struct {
	Name   string // names the image in descriptions of splices
	img    []byte
	order  binary.ByteOrder
	page   uint64
	recs   []span
	donors []*Mutator // images whose records may be spliced in
}

// SetDonors gives the images whose records a mutation may splice into
// this one (a FILE record of one workload into another's file table,
// another process's CPU record): those of the same byte order count.
func (m *Mutator) SetDonors(donors []*Mutator) {
	m.donors = nil
	for _, d := range donors {
		if d != m && d.order == m.order && d.page == m.page {
			m.donors = append(m.donors, d)
		}
	}
}

// span is one record of the image.
type span struct {
	typ      uint32
	off, end int   // bytes of the whole record in img
	body     int   // bytes of its struct (8 for a bare ckpt_hdr)
	fields   []fld // of its struct and payload array, offsets in the record
}

// fld is one integer field (or byte array) of a record.
type fld struct {
	name string
	off  int
	size int // 1, 2, 4, 8; or the length of a byte array
	arr  bool
}

// payloadElem is the element type of the array that follows the struct
// of these records: their fields are mutated as the struct's are.
var payloadElem = map[uint32]reflect.Type{
	uapi.CKPT_HDR_TREE:       t[uapi.CkptPids](),
	uapi.CKPT_HDR_SIGHAND:    t[uapi.CkptSigaction](),
	uapi.CKPT_HDR_SIGPENDING: t[uapi.CkptSiginfo](),
	uapi.CKPT_HDR_USER_NS:    t[uapi.CkptIdExtent](),
	uapi.CKPT_HDR_IPC_SEM:    t[uapi.CkptSem](),
	uapi.CKPT_HDR_GROUPINFO:  t[uint32](),
	uapi.CKPT_HDR_PGARR:      t[uint64](), // the page addresses
	uapi.CKPT_HDR_MM_AUXV:    t[uint64](),
}

// maxPayloadFields bounds the array elements taken as fields (a PGARR
// has up to CKPT_PGARR_MAX_PAGES addresses).
const maxPayloadFields = 64

// NewMutator decodes img, which must be a complete valid image.
func NewMutator(img []byte) (*Mutator, error) {
	d := NewDecoder(bytes.NewReader(img))
	m := &Mutator{img: img}
	for {
		r, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s := span{typ: r.Type, off: int(r.Offset), end: int(r.Offset) + int(r.Len), body: 8}
		if r.Body != nil {
			rt := reflect.TypeOf(r.Body).Elem()
			s.body = int(rt.Size())
			s.fields = fieldsOf(rt, "", 0, nil)
		}
		if et, ok := payloadElem[r.Type]; ok {
			n := (s.end - s.off - s.body) / int(et.Size())
			if r.Type == uapi.CKPT_HDR_PGARR {
				n = int(r.Body.(*uapi.CkptHdrPgarr).NrPages)
			}
			for i := 0; i < n && i < maxPayloadFields; i++ {
				at := s.body + i*int(et.Size())
				s.fields = fieldsOf(et, fmt.Sprintf("[%d]", i), at, s.fields)
			}
		}
		m.recs = append(m.recs, s)
	}
	if len(m.recs) < 2 {
		return nil, errors.New("image: an image to mutate needs at least a HEADER and a TAIL")
	}
	m.order, m.page = d.ByteOrder(), d.PageSize()
	return m, nil
}

// fieldsOf lists the integer fields of type rt at offset base, skipping
// the record header (mutated on its own) and padding.
func fieldsOf(rt reflect.Type, prefix string, base int, out []fld) []fld {
	switch rt.Kind() {
	case reflect.Uint8, reflect.Int8, reflect.Uint16, reflect.Int16,
		reflect.Uint32, reflect.Int32, reflect.Uint64, reflect.Int64:
		return append(out, fld{name: prefix, off: base, size: int(rt.Size())})
	case reflect.Array:
		ek := rt.Elem().Kind()
		if ek == reflect.Uint8 || ek == reflect.Int8 {
			return append(out, fld{name: prefix, off: base, size: rt.Len(), arr: true})
		}
		for i := 0; i < rt.Len(); i++ {
			out = fieldsOf(rt.Elem(), fmt.Sprintf("%s[%d]", prefix, i), base+i*int(rt.Elem().Size()), out)
		}
		return out
	case reflect.Struct:
		if rt == reflect.TypeFor[uapi.CkptHdr]() {
			return out
		}
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if f.Name == "_" {
				continue
			}
			name := f.Name
			if prefix != "" {
				name = prefix + "." + f.Name
			}
			out = fieldsOf(f.Type, name, base+int(f.Offset), out)
		}
	}
	return out
}

// Records is the number of records of the image.
func (m *Mutator) Records() int { return len(m.recs) }

// Mutation is one corrupted image and what was done to make it.
type Mutation struct {
	Seed  uint64
	Desc  string // each change, "; " between them
	Image []byte
}

// Mutate returns the mutation of the image for seed: one change most of
// the time, sometimes two or three on top of each other. It never returns
// the image unchanged.
func (m *Mutator) Mutate(seed uint64) Mutation {
	r := rand.New(rand.NewPCG(seed, 0x6b63722d66757a7a))
	n := 1
	switch x := r.IntN(10); {
	case x == 0:
		n = 3
	case x < 3:
		n = 2
	}
	img := slices.Clone(m.img)
	recs := slices.Clone(m.recs)
	var desc []string
	for i := 0; i < n; i++ {
		for try := 0; try < 16; try++ {
			out, rs, d := m.one(r, slices.Clone(img), recs)
			if !bytes.Equal(out, img) {
				img, recs = out, rs
				desc = append(desc, d)
				break
			}
		}
	}
	if len(desc) == 0 || bytes.Equal(img, m.img) {
		// Sixteen no-op picks in a row: flip a bit of the first header.
		img = slices.Clone(m.img)
		img[16] ^= 1
		desc = []string{"bit 0 of byte 16 flipped"}
	}
	return Mutation{Seed: seed, Desc: strings.Join(desc, "; "), Image: img}
}

// one makes one change to img (whose records are recs) and returns the
// new image, its records and a description; it may change img in place.
func (m *Mutator) one(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	if len(img) < 16 || len(recs) == 0 {
		return img, recs, "" // truncated to almost nothing: leave it so
	}
	switch x := r.IntN(100); {
	case x < 38:
		return m.setField(r, img, recs)
	case x < 48:
		return m.setHeader(r, img, recs)
	case x < 63:
		return m.rawBytes(r, img, recs)
	case x < 68:
		return m.truncate(r, img, recs)
	case x < 90:
		return m.moveRecords(r, img, recs)
	case x < 95 && len(m.donors) > 0:
		return m.splice(r, img, recs)
	default:
		return m.insertRecord(r, img, recs)
	}
}

func recName(recs []span, i int) string {
	return fmt.Sprintf("record %d (%s at %d)", i, TypeName(recs[i].typ), recs[i].off)
}

// pickRecord prefers records with fields, and is not drowned by the many
// page chunks: half of the picks are among the other records.
func pickRecord(r *rand.Rand, recs []span) int {
	if r.IntN(2) == 0 {
		var other []int
		for i, s := range recs {
			if s.typ != uapi.CKPT_HDR_PGARR && s.typ != uapi.CKPT_HDR_VMA {
				other = append(other, i)
			}
		}
		if len(other) > 0 {
			return other[r.IntN(len(other))]
		}
	}
	return r.IntN(len(recs))
}

// setField sets one field of one record to an interesting value.
func (m *Mutator) setField(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	i := pickRecord(r, recs)
	s := recs[i]
	var fs []fld
	for _, f := range s.fields {
		if s.off+f.off+f.size <= s.end && s.off+f.off+f.size <= len(img) {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return m.setHeader(r, img, recs)
	}
	f := fs[r.IntN(len(fs))]
	at := s.off + f.off
	if f.arr {
		return m.setBytes(r, img, recs, i, f)
	}
	old := m.get(img[at:], f.size)
	v, how := m.interesting(r, old, f.size)
	m.put(img[at:], f.size, v)
	return img, recs, fmt.Sprintf("%s: %s %s %#x -> %#x", recName(recs, i), f.name, how, old, v)
}

// setBytes changes a byte array field (a string such as a comm or a
// utsname, or a register file).
func (m *Mutator) setBytes(r *rand.Rand, img []byte, recs []span, i int, f fld) ([]byte, []span, string) {
	at := recs[i].off + f.off
	b := img[at : at+f.size]
	switch r.IntN(4) {
	case 0:
		for j := range b {
			b[j] = 'A'
		}
		return img, recs, fmt.Sprintf("%s: %s filled with 'A' (no NUL)", recName(recs, i), f.name)
	case 1:
		for j := range b {
			b[j] = 0xff
		}
		return img, recs, fmt.Sprintf("%s: %s filled with 0xff", recName(recs, i), f.name)
	default:
		j := r.IntN(len(b))
		bit := r.IntN(8)
		b[j] ^= 1 << bit
		return img, recs, fmt.Sprintf("%s: %s byte %d bit %d flipped", recName(recs, i), f.name, j, bit)
	}
}

// setHeader changes the type or the length of a record.
func (m *Mutator) setHeader(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	i := pickRecord(r, recs)
	s := recs[i]
	if s.off+8 > len(img) {
		return img, recs, ""
	}
	if r.IntN(2) == 0 {
		old := m.order.Uint32(img[s.off:])
		var v uint32
		switch r.IntN(4) {
		case 0:
			v = [...]uint32{0, 7, 9998, 10000, math.MaxUint32, 0x80000000}[r.IntN(6)]
		default:
			ts := Types()
			slices.Sort(ts)
			v = ts[r.IntN(len(ts))]
		}
		m.order.PutUint32(img[s.off:], v)
		return img, recs, fmt.Sprintf("%s: type %d -> %d (%s)", recName(recs, i), old, v, TypeName(v))
	}
	old := m.order.Uint32(img[s.off+4:])
	cands := []uint32{0, 7, 8, uint32(s.body) - 1, uint32(s.body) + 8, old - 1, old + 1,
		old - 8, old + 8, old * 2, old + uint32(m.page), math.MaxInt32, math.MaxUint32, 1 << 24}
	v := cands[r.IntN(len(cands))]
	m.order.PutUint32(img[s.off+4:], v)
	return img, recs, fmt.Sprintf("%s: length %d -> %d", recName(recs, i), old, v)
}

// rawBytes flips bits or overwrites bytes: anywhere in the image, or near
// the start of a record, where the structs are.
func (m *Mutator) rawBytes(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	var at int
	if r.IntN(2) == 0 {
		at = r.IntN(len(img))
	} else {
		s := recs[pickRecord(r, recs)]
		n := min(s.end, len(img)) - s.off
		if n <= 0 {
			return img, recs, ""
		}
		at = s.off + r.IntN(min(n, 256))
	}
	where := m.where(recs, at)
	switch r.IntN(3) {
	case 0:
		n := 1 + r.IntN(4)
		var bits []string
		for k := 0; k < n; k++ {
			bit := r.IntN(8)
			img[at] ^= 1 << bit
			bits = append(bits, fmt.Sprint(bit))
		}
		return img, recs, fmt.Sprintf("byte %d (%s): bits %s flipped", at, where, strings.Join(bits, ","))
	case 1:
		v := [...]byte{0, 0xff, 0x7f, 0x80, 1}[r.IntN(5)]
		old := img[at]
		img[at] = v
		return img, recs, fmt.Sprintf("byte %d (%s): %#x -> %#x", at, where, old, v)
	default:
		n := min(1+r.IntN(16), len(img)-at)
		for k := 0; k < n; k++ {
			img[at+k] = byte(r.Uint32())
		}
		return img, recs, fmt.Sprintf("bytes %d..%d (%s): random", at, at+n, where)
	}
}

// where names the record and field an offset falls in.
func (m *Mutator) where(recs []span, at int) string {
	for i, s := range recs {
		if at < s.off || at >= s.end {
			continue
		}
		rel := at - s.off
		if rel < 8 {
			return recName(recs, i) + " header"
		}
		for _, f := range s.fields {
			if rel >= f.off && rel < f.off+f.size {
				return recName(recs, i) + " " + f.name
			}
		}
		return fmt.Sprintf("%s +%d", recName(recs, i), rel)
	}
	return "past the records"
}

// truncate cuts the image: at a record boundary, just around one, or
// anywhere.
func (m *Mutator) truncate(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	var at int
	i := r.IntN(len(recs))
	switch r.IntN(3) {
	case 0:
		at = recs[i].off
	case 1:
		at = recs[i].off + r.IntN(recs[i].body+8)
	default:
		at = r.IntN(len(img))
	}
	at = min(at, len(img)-1)
	var keep []span
	for _, s := range recs {
		if s.end <= at {
			keep = append(keep, s)
		}
	}
	return img[:at], keep, fmt.Sprintf("truncated at %d (%s)", at, m.where(recs, at))
}

// wholeRecords are the records of recs that lie entirely in img (a
// truncated image ends in part of one).
func wholeRecords(img []byte, recs []span) []span {
	var whole []span
	for _, s := range recs {
		if s.end <= len(img) {
			whole = append(whole, s)
		}
	}
	return whole
}

// moveRecords drops, duplicates, swaps, moves or overwrites whole
// records.
func (m *Mutator) moveRecords(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	whole := wholeRecords(img, recs)
	if len(whole) < 2 {
		return m.rawBytes(r, img, recs)
	}
	recs = whole
	i, j := pickRecord(r, recs), pickRecord(r, recs)
	order := make([]int, len(recs))
	for k := range order {
		order[k] = k
	}
	var desc string
	switch r.IntN(5) {
	case 0:
		order = slices.Delete(order, i, i+1)
		desc = "dropped " + recName(recs, i)
	case 1:
		order = slices.Insert(order, j, i)
		desc = fmt.Sprintf("%s duplicated before %s", recName(recs, i), recName(recs, j))
	case 2:
		if i+1 >= len(recs) {
			i--
		}
		order[i], order[i+1] = order[i+1], order[i]
		desc = fmt.Sprintf("%s swapped with the next", recName(recs, i))
	case 3:
		order = slices.Delete(order, i, i+1)
		order = slices.Insert(order, min(j, len(order)), i)
		desc = fmt.Sprintf("%s moved to position %d", recName(recs, i), j)
	default:
		if i == j {
			j = (i + 1) % len(recs)
		}
		order[j] = i
		desc = fmt.Sprintf("%s copied over %s", recName(recs, i), recName(recs, j))
	}
	return m.assemble(img, recs, order, nil), m.respan(recs, order, nil), desc
}

// assemble writes the records of img in the given order (indexes into
// recs; -1 stands for extra), then whatever followed the last record.
func (m *Mutator) assemble(img []byte, recs []span, order []int, extra []byte) []byte {
	var out []byte
	for _, k := range order {
		if k < 0 {
			out = append(out, extra...)
			continue
		}
		out = append(out, img[recs[k].off:recs[k].end]...)
	}
	return append(out, img[recs[len(recs)-1].end:]...)
}

// respan is the records after assemble.
func (m *Mutator) respan(recs []span, order []int, extra *span) []span {
	var out []span
	off := 0
	for _, k := range order {
		s := span{}
		if k < 0 {
			s = *extra
		} else {
			s = recs[k]
		}
		n := s.end - s.off
		s.off, s.end = off, off+n
		off += n
		out = append(out, s)
	}
	return out
}

// insertRecord inserts a record of a type picked at random, its struct
// zero or with a few fields set, at a random place.
func (m *Mutator) insertRecord(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	whole := wholeRecords(img, recs)
	if len(whole) < 2 {
		return m.rawBytes(r, img, recs)
	}
	recs = whole
	ts := Types()
	slices.Sort(ts)
	typ := ts[r.IntN(len(ts))]
	body := NewBody(typ)
	var buf bytes.Buffer
	e := NewEncoder(&buf, m.order)
	var err error
	if body == nil {
		err = e.Record(typ, nil, make([]byte, 8*r.IntN(3)))
	} else {
		err = e.Record(typ, body)
	}
	if err == nil {
		err = e.Flush()
	}
	if err != nil {
		return img, recs, ""
	}
	rec := buf.Bytes()
	s := span{typ: typ, off: 0, end: len(rec), body: 8}
	if body != nil {
		rt := reflect.TypeOf(body).Elem()
		s.body = int(rt.Size())
		s.fields = fieldsOf(rt, "", 0, nil)
	}
	desc := fmt.Sprintf("a zero %s record", TypeName(typ))
	if len(s.fields) > 0 {
		f := s.fields[r.IntN(len(s.fields))]
		if !f.arr {
			v, how := m.interesting(r, 0, f.size)
			m.put(rec[f.off:], f.size, v)
			desc = fmt.Sprintf("a %s record with %s %s %#x", TypeName(typ), f.name, how, v)
		}
	}
	at := 1 + r.IntN(len(recs)-1)
	order := make([]int, 0, len(recs)+1)
	for k := range recs {
		if k == at {
			order = append(order, -1)
		}
		order = append(order, k)
	}
	return m.assemble(img, recs, order, rec), m.respan(recs, order, &s),
		fmt.Sprintf("%s inserted before %s", desc, recName(recs, at))
}

// splice puts a run of one to three records of a donor image in place of
// one to three records of this one, or between two of them.
func (m *Mutator) splice(r *rand.Rand, img []byte, recs []span) ([]byte, []span, string) {
	whole := wholeRecords(img, recs)
	if len(whole) < 2 {
		return m.rawBytes(r, img, recs)
	}
	recs = whole
	d := m.donors[r.IntN(len(m.donors))]
	di := pickRecord(r, d.recs)
	dn := min(1+r.IntN(3), len(d.recs)-di)
	var donated []byte
	for k := di; k < di+dn; k++ {
		donated = append(donated, d.img[d.recs[k].off:d.recs[k].end]...)
	}
	at := 1 + r.IntN(len(recs)-1)
	replace := 0
	if r.IntN(2) == 0 {
		replace = min(1+r.IntN(3), len(recs)-at)
	}
	var order []int
	for k := range recs {
		if k == at {
			order = append(order, -1)
		}
		if k < at || k >= at+replace {
			order = append(order, k)
		}
	}
	extra := span{typ: d.recs[di].typ, end: len(donated), body: len(donated)}
	out := m.assemble(img, recs, order, donated)
	// The spliced run counts as one record for later mutations.
	desc := fmt.Sprintf("%d records of %s from its record %d (%s) put before %s", dn, d.Name, di,
		TypeName(d.recs[di].typ), recName(recs, at))
	if replace > 0 {
		desc = fmt.Sprintf("%d records of %s from its record %d (%s) put in place of %d from %s", dn, d.Name, di,
			TypeName(d.recs[di].typ), replace, recName(recs, at))
	}
	return out, m.respan(recs, order, &extra), desc
}

// interesting picks a value for a field of size bytes holding old.
func (m *Mutator) interesting(r *rand.Rand, old uint64, size int) (uint64, string) {
	mask := uint64(math.MaxUint64)
	if size < 8 {
		mask = 1<<(8*size) - 1
	}
	signMin := uint64(1) << (8*size - 1)
	var v uint64
	how := "set"
	switch r.IntN(12) {
	case 0:
		v = 0
	case 1:
		v = mask // -1
	case 2:
		v = signMin - 1 // INT_MAX
	case 3:
		v = signMin // INT_MIN
	case 4:
		v, how = old+1, "incremented"
	case 5:
		v, how = old-1, "decremented"
	case 6:
		bit := r.IntN(8 * size)
		v, how = old^1<<bit, fmt.Sprintf("bit %d flipped", bit)
	case 7:
		v = [...]uint64{1, 2, 3, 7, 8, 16, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 1024, 4095, 4096, 65535, 65536}[r.IntN(21)]
	case 8:
		v, how = old+m.page, "plus a page"
	case 9:
		v, how = old-m.page, "minus a page"
	case 10:
		// Addresses: the top of user space, the kernel's half, huge.
		v = [...]uint64{0x7ffffffff000, 0x800000000000, 0xfffffffffffff000, 1 << 47, 1 << 52, 1 << 56,
			0x10000, 0xffff800000000000, math.MaxUint32 + 1}[r.IntN(9)]
	default:
		v, how = old*2+uint64(r.IntN(2)), "doubled"
	}
	return v & mask, how
}

func (m *Mutator) get(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(m.order.Uint16(b))
	case 4:
		return uint64(m.order.Uint32(b))
	}
	return m.order.Uint64(b)
}

func (m *Mutator) put(b []byte, size int, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		m.order.PutUint16(b, uint16(v))
	case 4:
		m.order.PutUint32(b, uint32(v))
	default:
		m.order.PutUint64(b, v)
	}
}
