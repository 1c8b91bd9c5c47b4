//go:build kcrguest

package guest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"testing"
	"unsafe"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/uapi"
)

// Memory of a self-checkpointed process: a 256 MiB pattern, a file
// mapping with a copied-on-write page, heap, stack, protections, mm
// fields, auxv, exe, the mapping list and the vDSO, checked by rt_mem.
func TestRestartMemory(t *testing.T) {
	selfRoundTrip(t, "rt_mem", "256")
}

// The same state checkpointed from outside while frozen.
func TestRestartMemoryExternal(t *testing.T) {
	externalRoundTrip(t, "rt_mem", "16", "external")
}

// imageOrder is the byte order of an image, told by its magic.
func imageOrder(img []byte) binary.ByteOrder {
	if img[8] == 0 && img[9] == 0xfe {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// A corrupted field of the memory records fails the restart with a
// clean errno and a message, and leaves no task.
func TestRestartMemoryCorrupt(t *testing.T) {
	d := device(t)
	rt := selfCheckpoint(t, "rt_mem", "1")
	img, err := os.ReadFile(rt.Image)
	if err != nil {
		t.Fatal(err)
	}
	order := imageOrder(img)
	recs := imageRecords(t, img)
	var mm uapi.CkptHdrMm
	var vma uapi.CkptHdrVma
	var pa uapi.CkptHdrPgarr
	var mmRec, vmaRec, vdsoRec, pgRec recordPos
	for i, r := range recs {
		switch r.Type {
		case uapi.CKPT_HDR_MM:
			mmRec = r
		case uapi.CKPT_HDR_VMA:
			typ := order.Uint32(img[r.Offset+int64(unsafe.Offsetof(vma.VmaType)):])
			if vmaRec.Len == 0 {
				vmaRec = r
			}
			if typ == uapi.CKPT_VMA_VDSO {
				vdsoRec = r
			}
			// The first chunk of pages of an anonymous mapping.
			if pgRec.Len == 0 && typ == uapi.CKPT_VMA_ANON && i+1 < len(recs) &&
				recs[i+1].Type == uapi.CKPT_HDR_PGARR && recs[i+1].Len > uint32(unsafe.Sizeof(pa)) {
				pgRec = recs[i+1]
			}
		}
	}
	if mmRec.Len == 0 || vmaRec.Len == 0 || vdsoRec.Len == 0 || pgRec.Len == 0 {
		t.Fatalf("image lacks MM, VMA, vDSO or page records: %+v %+v %+v %+v", mmRec, vmaRec, vdsoRec, pgRec)
	}
	vdsoStart := order.Uint64(img[vdsoRec.Offset+int64(unsafe.Offsetof(vma.VmStart)):])
	type edit struct {
		name string
		at   int64 // in the image
		val  uint64
		size int
		want syscall.Errno
	}
	mmAt := func(off uintptr) int64 { return mmRec.Offset + int64(off) }
	vmaAt := func(off uintptr) int64 { return vmaRec.Offset + int64(off) }
	edits := []edit{
		{"one VMA more", mmAt(unsafe.Offsetof(mm.NrVmas)), uint64(order.Uint32(img[mmAt(unsafe.Offsetof(mm.NrVmas)):]) + 1), 4, syscall.EINVAL},
		{"brk below its start", mmAt(unsafe.Offsetof(mm.Brk)), 0x1000, 8, syscall.EINVAL},
		{"code end beyond user space", mmAt(unsafe.Offsetof(mm.EndCode)), 1 << 63, 8, syscall.EINVAL},
		{"no executable", mmAt(unsafe.Offsetof(mm.ExeRef)), 0, 4, syscall.EINVAL},
		{"undefined executable", mmAt(unsafe.Offsetof(mm.ExeRef)), 9999, 4, syscall.EINVAL},
		{"odd auxv", mmAt(unsafe.Offsetof(mm.NrAuxv)), 7, 4, syscall.EINVAL},
		{"root-only dumpable", mmAt(unsafe.Offsetof(mm.Flags)), 2, 8, syscall.EPERM},
		{"unaligned VMA", vmaAt(unsafe.Offsetof(vma.VmStart)), order.Uint64(img[vmaAt(unsafe.Offsetof(vma.VmStart)):]) + 1, 8, syscall.EINVAL},
		{"VMA in kernel space", vmaAt(unsafe.Offsetof(vma.VmEnd)), 1 << 63, 8, syscall.EINVAL},
		{"VMA type", vmaAt(unsafe.Offsetof(vma.VmaType)), 99, 4, syscall.EINVAL},
		{"shared VMA type", vmaAt(unsafe.Offsetof(vma.VmaType)), uapi.CKPT_VMA_ANON_SHARED, 4, syscall.EOPNOTSUPP},
		{"VM_SHARED", vmaAt(unsafe.Offsetof(vma.VmFlags)), 0x8 | 0x3, 8, syscall.EINVAL},
		{"vDSO size", vdsoRec.Offset + int64(unsafe.Offsetof(vma.VmEnd)), vdsoStart + 1<<30, 8, syscall.EOPNOTSUPP},
		{"page count", pgRec.Offset + int64(unsafe.Offsetof(pa.NrPages)), uapi.CKPT_PGARR_MAX_PAGES + 1, 4, syscall.EINVAL},
		{"page address", pgRec.Offset + int64(unsafe.Sizeof(pa)), 0x1001, 8, syscall.EINVAL},
	}
	for _, e := range edits {
		bad := bytes.Clone(img)
		if e.size == 8 {
			order.PutUint64(bad[e.at:], e.val)
		} else {
			order.PutUint32(bad[e.at:], uint32(e.val))
		}
		_, err, log := restartBytes(t, d, bad, kcr.RestartOptions{})
		if !errors.Is(err, e.want) || log == "" {
			t.Errorf("%s: %v, log %q; want %v and a message", e.name, err, log, e.want)
		}
		requireNoChildren(t, e.name)
	}
	// The image itself is fine.
	if err := restartImage(t, d, rt); err != nil {
		t.Fatalf("the unchanged image: %v\n%s", err, rt.Log)
	}
	rt.wait(t, false)
	rt.RequirePass(t)
}
