package precopy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent   = 1 << 63
	pmSwapped   = 1 << 62
	pmFile      = 1 << 61 // page cache or shared anonymous
	pmSoftDirty = 1 << 55
)

// copyRun bounds the pages read from /proc/PID/mem at once.
const copyRun = 256

// ClearSoftDirty clears the soft-dirty bits of every page of pid.
func ClearSoftDirty(pid int) error {
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/clear_refs", pid), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteString("4"); err != nil {
		return fmt.Errorf("clearing the soft-dirty bits of pid %d: %w", pid, err)
	}
	return nil
}

// startTime is field 22 of /proc/PID/stat, which tells two processes
// that had the same pid apart.
func startTime(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// comm, in parentheses, may hold spaces and parentheses itself.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: cannot parse %q", pid, b)
	}
	return f[19], nil
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	start, end uint64
	shared     bool
	name       string
}

func readMaps(pid int) ([]mapping, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []mapping
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			return nil, fmt.Errorf("/proc/%d/maps: cannot parse %q", pid, sc.Text())
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || len(fields[1]) != 4 {
			return nil, fmt.Errorf("/proc/%d/maps: cannot parse %q", pid, sc.Text())
		}
		m := mapping{start: start, end: end, shared: fields[1][3] == 's'}
		if len(fields) > 5 {
			m.name = fields[5]
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// Pages lists, in increasing order, the private pages of pid that its
// checkpoint writes: those that hold data of their own (present or
// swapped out, not the page cache of a mapped file). With dirtyOnly,
// only those written since the soft-dirty bits were last cleared. The
// process should be frozen, for the list to be what a checkpoint sees.
func Pages(pid int, dirtyOnly bool) ([]uint64, error) {
	maps, err := readMaps(pid)
	if err != nil {
		return nil, err
	}
	pm, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return nil, err
	}
	defer pm.Close()
	ps := uint64(os.Getpagesize())
	buf := make([]byte, 8*8192)
	var addrs []uint64
	for _, m := range maps {
		// Shared memory is refused by the checkpoint; the vDSO and its
		// data are the running kernel's, never in an image.
		if m.shared || m.name == "[vdso]" || m.name == "[vvar]" || m.name == "[vsyscall]" || m.name == "[vvar_vclock]" {
			continue
		}
		for a := m.start; a < m.end; {
			n := min((m.end-a)/ps, uint64(len(buf)/8))
			b := buf[:8*n]
			if _, err := pm.ReadAt(b, int64(a/ps*8)); err != nil {
				return nil, fmt.Errorf("pid %d: pagemap at %#x: %w", pid, a, err)
			}
			for i := range n {
				e := binary.NativeEndian.Uint64(b[8*i:])
				if e&(pmPresent|pmSwapped) == 0 || e&pmFile != 0 {
					continue
				}
				if dirtyOnly && e&pmSoftDirty == 0 {
					continue
				}
				addrs = append(addrs, a+i*ps)
			}
			a += n * ps
		}
	}
	return addrs, nil
}

// Copy reads the pages of pid (which started at start) at addrs, in
// increasing order, into the store. A page that is gone meanwhile is
// skipped: unmapped, it is not in the checkpoint either; mapped again, it
// comes back written. It returns the number of pages copied.
func (s *Store) Copy(pid int, start string, addrs []uint64) (int, error) {
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return 0, err
	}
	defer mem.Close()
	p := s.proc(pid, start)
	ps := uint64(s.pageSize)
	buf := make([]byte, copyRun*ps)
	copied := 0
	for i := 0; i < len(addrs); {
		n := 1
		for i+n < len(addrs) && n < copyRun && addrs[i+n] == addrs[i]+uint64(n)*ps {
			n++
		}
		b := buf[:uint64(n)*ps]
		got, _ := mem.ReadAt(b, int64(addrs[i]))
		got -= got % int(ps)
		if err := s.put(p, addrs[i], b[:got]); err != nil {
			return copied, err
		}
		copied += got / int(ps)
		// A short read stopped at a page that is gone: the rest of the
		// run page by page.
		for j := got / int(ps); j < n; j++ {
			c, err := s.copy1(mem, p, addrs[i+j], buf[:ps])
			if err != nil {
				return copied, err
			}
			copied += c
		}
		i += n
	}
	return copied, nil
}

// copy1 copies the one page at addr through mem; a page that cannot be
// read is skipped.
func (s *Store) copy1(mem *os.File, p *procPages, addr uint64, buf []byte) (int, error) {
	if n, _ := mem.ReadAt(buf, int64(addr)); n < len(buf) {
		return 0, nil
	}
	return 1, s.put(p, addr, buf)
}
