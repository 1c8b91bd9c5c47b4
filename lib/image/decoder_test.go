package image_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"sort"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kcr-dev/kcr/lib/image"
	"github.com/kcr-dev/kcr/lib/image/imagetest"
	"github.com/kcr-dev/kcr/uapi"
)

var orders = []binary.ByteOrder{binary.LittleEndian, binary.BigEndian}

// fill sets every settable integer field of v (a pointer to struct) to a
// pseudo-random value.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		fill(r, v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name != "_" {
				fill(r, v.Field(i))
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(r, v.Index(i))
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(r.Uint64())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(r.Uint64()))
	}
}

func header() *uapi.CkptHdrHeader {
	return &uapi.CkptHdrHeader{Magic: uapi.CKPT_MAGIC_HEAD, Version: uapi.CKPT_IMAGE_VERSION,
		ArchId: uapi.CKPT_ARCH_S390X, Constants: uapi.CkptConst{PageSize: 4096}}
}

// sample returns a random body for typ with a consistent payload.
func sample(r *rand.Rand, typ uint32) (body any, payload []byte) {
	body = image.NewBody(typ)
	if body != nil {
		fill(r, reflect.ValueOf(body))
		reflect.ValueOf(body).Elem().Field(0).Set(reflect.Zero(reflect.TypeFor[uapi.CkptHdr]()))
	}
	n := r.IntN(5)
	switch b := body.(type) {
	case *uapi.CkptHdrHeader:
		body = header()
	case *uapi.CkptHdrTail:
		b.Magic = uapi.CKPT_MAGIC_TAIL
	case *uapi.CkptHdrTree:
		b.NrTasks, b.NrVpids = uint32(n), uint32(n+1)
		payload = make([]byte, n*24+(n+1)*4)
	case *uapi.CkptHdrUserNs:
		b.NrUidExtents, b.NrGidExtents = uint32(n), 1
		payload = make([]byte, (n+1)*binary.Size(uapi.CkptIdExtent{}))
	case *uapi.CkptHdrGroupinfo:
		b.Ngroups = uint32(n)
		payload = make([]byte, 4*n)
	case *uapi.CkptHdrCpuX86:
		b.FpuSize = uint32(n * 64)
		payload = make([]byte, n*64)
	case *uapi.CkptHdrPipeBuf:
		b.DataLen = uint32(n)
		payload = make([]byte, n)
	case *uapi.CkptHdrTty:
		b.DataLen = uint32(n)
		payload = make([]byte, n)
	case *uapi.CkptHdrPgarr:
		b.NrPages, b.Pad = uint32(n), 16
		payload = make([]byte, n*8+16+n*4096)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint64(payload[8*i:], uint64(i+1)*4096)
		}
	case *uapi.CkptHdrPgarrClean:
		b.NrPages = uint32(n)
		payload = make([]byte, n*8)
	case *uapi.CkptHdrSeccompFilter:
		b.Len = uint32(n)
		payload = make([]byte, 8*n)
	case *uapi.CkptHdrIpcMsgMsg:
		b.MTs = uint32(n)
		payload = make([]byte, n)
	case *uapi.CkptHdrIpcSem:
		b.SemNsems = uint32(n)
		payload = make([]byte, n*binary.Size(uapi.CkptSem{}))
	case *uapi.CkptHdrSighand:
		b.NrSigactions = uint32(n)
		payload = make([]byte, n*binary.Size(uapi.CkptSigaction{}))
	case *uapi.CkptHdrSigpending:
		b.NrPending = uint32(n)
		payload = make([]byte, n*binary.Size(uapi.CkptSiginfo{}))
	case *uapi.CkptHdrSocketBuffer:
		b.DataLen, b.NrFiles = uint32(n), 2
		payload = make([]byte, n+8)
	case *uapi.CkptHdrError:
		msg := "checkpoint failed\x00"
		b.Err, b.MsgLen = -int32(syscall.EBUSY), uint32(len(msg))
		payload = []byte(msg)
	case nil:
		payload = []byte("payload\x00")
	}
	return body, payload
}

func TestRoundTripEveryRecordType(t *testing.T) {
	types := image.Types()
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, order := range orders {
		for _, typ := range types {
			if typ == uapi.CKPT_HDR_HEADER || typ == uapi.CKPT_HDR_TAIL {
				continue // every image below has them
			}
			t.Run(order.String()+"/"+image.TypeName(typ), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(typ), 1))
				body, payload := sample(r, typ)
				want := reflect.ValueOf(body)
				if body != nil {
					want = reflect.New(want.Elem().Type())
					want.Elem().Set(reflect.ValueOf(body).Elem())
				}
				var buf bytes.Buffer
				e := image.NewEncoder(&buf, order)
				require.NoError(t, e.Record(uapi.CKPT_HDR_HEADER, header()))
				require.NoError(t, e.Record(typ, body, payload))
				require.NoError(t, e.Record(uapi.CKPT_HDR_TAIL, &uapi.CkptHdrTail{Magic: uapi.CKPT_MAGIC_TAIL}))
				require.NoError(t, e.Flush())

				d := image.NewDecoder(&buf)
				rec, err := d.Next()
				require.NoError(t, err)
				require.Equal(t, uint32(uapi.CKPT_HDR_HEADER), rec.Type)
				assert.Equal(t, order, d.ByteOrder())

				rec, err = d.Next()
				if typ == uapi.CKPT_HDR_ERROR {
					var ie *image.ImageError
					require.ErrorAs(t, err, &ie)
					assert.Equal(t, "checkpoint failed", ie.Msg)
					assert.ErrorIs(t, err, syscall.EBUSY)
				} else {
					require.NoError(t, err)
					got, err := io.ReadAll(d)
					require.NoError(t, err)
					if typ == uapi.CKPT_HDR_PGARR && len(payload) > 0 {
						// addresses went through the byte order
						assert.Equal(t, payload[8*body.(*uapi.CkptHdrPgarr).NrPages:],
							got[8*body.(*uapi.CkptHdrPgarr).NrPages:])
					} else {
						assert.True(t, bytes.Equal(payload, got), "payload %x, decoded %x", payload, got)
					}
				}
				require.Equal(t, typ, rec.Type)
				if body != nil {
					// H was filled in by the encoder
					want.Elem().Field(0).Set(reflect.ValueOf(rec.Body).Elem().Field(0))
					assert.Equal(t, want.Interface(), rec.Body)
				}
				rec, err = d.Next()
				require.NoError(t, err)
				require.Equal(t, uint32(uapi.CKPT_HDR_TAIL), rec.Type)
				_, err = d.Next()
				require.Equal(t, io.EOF, err)
			})
		}
	}
}

func TestSummaryTwoTasks(t *testing.T) {
	for _, order := range orders {
		img := imagetest.Image(order, imagetest.TwoTasks)
		s, err := image.Summarize(bytes.NewReader(img))
		require.NoError(t, err)
		assert.True(t, s.Complete)
		assert.Equal(t, "x86_64", s.Arch)
		assert.Equal(t, "6.1.0-50-amd64", s.Kernel)
		assert.Equal(t, int64(1795000000), s.Time.Unix())
		require.Len(t, s.Tasks, 2)
		assert.Equal(t, "init", s.Tasks[0].Comm)
		assert.Equal(t, int32(2), s.Tasks[1].Pid)
		assert.Equal(t, int32(1), s.Tasks[1].Ppid)
		assert.Equal(t, "worker", s.Tasks[1].Comm)
		assert.Equal(t, int64(2), s.Tasks[1].Pages)
		assert.Equal(t, int64(2*4096), s.Tasks[1].PageData)
		assert.Equal(t, 2, s.Tasks[0].Files)
		assert.Equal(t, 2, s.Tasks[1].Pending)
		assert.Equal(t, 1, s.Tasks[1].VMAs)
		assert.Equal(t, 1, s.Tasks[0].Handlers)
		for _, ts := range s.Tasks {
			assert.Equal(t, "kcr-host", ts.Hostname)
			assert.Equal(t, "(none)", ts.Domainname)
			assert.Len(t, ts.Namespaces, uapi.CKPT_NS_NKINDS)
			assert.Equal(t, int32(1), ts.Namespaces["uts"])
			assert.Equal(t, int32(uapi.CKPT_NS_CALLER), ts.Namespaces["ipc"])
		}
		assert.Equal(t, int32(uapi.CKPT_NS_CALLER), s.Tasks[0].Namespaces["net"])
		assert.Equal(t, int32(2), s.Tasks[1].Namespaces["net"])
		assert.Equal(t, int64(len(img)), s.Bytes)
		var secBytes int64
		for _, sec := range s.Sections {
			secBytes += sec.Bytes
		}
		assert.Equal(t, s.Bytes, secBytes)
	}
}

// Every prefix of an image is a broken image: the decoder must say where,
// and never panic.
func TestTruncatedAtEveryOffset(t *testing.T) {
	for _, order := range orders {
		img := imagetest.Image(order, imagetest.TwoTasks)
		for cut := 0; cut < len(img); cut++ {
			_, err := image.Summarize(bytes.NewReader(img[:cut]))
			var fe *image.FormatError
			require.ErrorAs(t, err, &fe, "cut at %d", cut)
			assert.LessOrEqual(t, fe.Offset, int64(cut), "cut at %d: %v", cut, err)
		}
	}
}

func TestCorruptFields(t *testing.T) {
	img := imagetest.Image(binary.LittleEndian, imagetest.TwoTasks)
	put32 := func(b []byte, off int, v uint32) []byte {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	// offset of the second record (HEADER_ARCH)
	second := int(binary.LittleEndian.Uint32(img[4:]))
	for name, tc := range map[string]struct {
		img  []byte
		want string
	}{
		"magic":        {put32(img, 8, 0x12345678), "bad magic"},
		"version":      {put32(img, 16, 99), "format version 99"},
		"arch":         {put32(img, 20, 42), "architecture id 42"},
		"short len":    {put32(img, second+4, 8), "shorter than its"},
		"huge len":     {put32(img, second+4, 0xfffffff0), "over the limit"},
		"unknown type": {put32(img, second, 4242), "unknown record type 4242"},
		"second type":  {put32(img, second, uapi.CKPT_HDR_HEADER), "second HEADER"},
		"long len":     {put32(img, second+4, 40), "announces none"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := image.Summarize(bytes.NewReader(tc.img))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "offset")
		})
	}
}

func TestErrorRecordSurfaces(t *testing.T) {
	var buf bytes.Buffer
	e := image.NewEncoder(&buf, binary.BigEndian)
	require.NoError(t, e.Record(uapi.CKPT_HDR_HEADER, header()))
	msg := "[err -16][pos 80][pid 7 sleep] task not frozen\x00"
	require.NoError(t, e.Record(uapi.CKPT_HDR_ERROR, &uapi.CkptHdrError{Err: -16, Pid: 7, Pos: 80,
		MsgLen: uint32(len(msg))}, msg))
	require.NoError(t, e.Flush())
	s, err := image.Summarize(&buf)
	require.Error(t, err) // no TAIL after the error
	require.Len(t, s.Errors, 1)
	assert.Contains(t, s.Errors[0], "task not frozen")
	assert.False(t, s.Complete)
	assert.True(t, errors.Is(err, err))
}

// Version 1 images are still read; their page chunks have no pad, and
// version 2 ones may.
func TestPageChunkPadByVersion(t *testing.T) {
	for _, tc := range []struct {
		version, pad uint32
		ok           bool
	}{{1, 0, true}, {1, 8, false}, {2, 0, true}, {2, 8, true}, {2, 4096, false}, {3, 0, false}} {
		var buf bytes.Buffer
		e := image.NewEncoder(&buf, binary.LittleEndian)
		h := header()
		h.Version = tc.version
		require.NoError(t, e.Record(uapi.CKPT_HDR_HEADER, h))
		addr := binary.LittleEndian.AppendUint64(nil, 4096)
		require.NoError(t, e.Record(uapi.CKPT_HDR_PGARR, &uapi.CkptHdrPgarr{NrPages: 1, Pad: tc.pad},
			addr, make([]byte, tc.pad), bytes.Repeat([]byte{7}, 4096)))
		require.NoError(t, e.Record(uapi.CKPT_HDR_TAIL, &uapi.CkptHdrTail{Magic: uapi.CKPT_MAGIC_TAIL}))
		require.NoError(t, e.Flush())
		d := image.NewDecoder(&buf)
		_, err := d.Next()
		if err == nil {
			_, err = d.Next()
		}
		if err == nil {
			var addrs []uint64
			if addrs, err = d.PageAddrs(); err == nil {
				require.Equal(t, []uint64{4096}, addrs)
				page, rerr := io.ReadAll(d)
				require.NoError(t, rerr)
				require.Equal(t, bytes.Repeat([]byte{7}, 4096), page)
			}
		}
		if tc.ok {
			require.NoError(t, err, "version %d, pad %d", tc.version, tc.pad)
		} else {
			require.Error(t, err, "version %d, pad %d", tc.version, tc.pad)
		}
	}
}
