// Package precopy copies the memory of running processes ahead of their
// checkpoint, so that the checkpoint itself, made with
// CHECKPOINT_DIRTY_ONLY, only has to write what they changed since: their
// frozen time then follows the pages they write, not the memory they hold.
//
// The pages written meanwhile are told by the kernel's soft-dirty bits
// (Documentation/admin-guide/mm/soft-dirty.rst): clearing them
// (/proc/PID/clear_refs 4) write-protects every page, so the next write
// to any page, by the process or through get_user_pages(), sets its bit
// again. A copy of a page is good for the checkpoint if the page's bit
// was cleared before the copy was made and is still clear at the freeze.
// Merge then turns the checkpoint's PGARR_CLEAN records (addresses of the
// pages whose bit is clear) back into pages, from the Store.
package precopy

import (
	"bytes"
	"fmt"
	"os"
)

// Store holds the pages copied from processes, by pid and address, in an
// unlinked temporary file: nothing is left behind if kcr dies.
type Store struct {
	f        *os.File
	size     int64
	pageSize int
	procs    map[int]*procPages
	zero     []byte
}

// procPages are the pages of one process. start is the process's start
// time (field 22 of /proc/PID/stat), so that a pid reused by another
// process is not taken for the one copied.
type procPages struct {
	start string
	at    map[uint64]int64 // address -> offset in the file; -1: zeros
}

// NewStore makes an empty store in a temporary file of dir ("" for the
// default temporary directory).
func NewStore(dir string) (*Store, error) {
	f, err := os.CreateTemp(dir, ".kcr-precopy-")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	ps := os.Getpagesize()
	return &Store{f: f, pageSize: ps, procs: map[int]*procPages{}, zero: make([]byte, ps)}, nil
}

// Close releases the store's file.
func (s *Store) Close() error { return s.f.Close() }

// Bytes is the size of the store's file: the non-zero pages it holds, and
// the room of pages that became zero.
func (s *Store) Bytes() int64 { return s.size }

// Pages is the number of pages the store holds for pid.
func (s *Store) Pages(pid int) int {
	if p := s.procs[pid]; p != nil {
		return len(p.at)
	}
	return 0
}

// proc returns the pages of pid, started at start, forgetting those of an
// earlier process that had the same pid.
func (s *Store) proc(pid int, start string) *procPages {
	p := s.procs[pid]
	if p == nil || p.start != start {
		p = &procPages{start: start, at: map[uint64]int64{}}
		s.procs[pid] = p
	}
	return p
}

// Has tells whether the store holds pages of the process that now has
// pid, rather than of an earlier one that had it.
func (s *Store) Has(pid int) (bool, error) {
	start, err := startTime(pid)
	if err != nil {
		return false, err
	}
	p := s.procs[pid]
	return p != nil && p.start == start, nil
}

// put stores the pages of pid at addr, addr+pageSize, ... held back to
// back in buf. Pages of zeros take no room: a restart leaves them holes.
func (s *Store) put(p *procPages, addr uint64, buf []byte) error {
	ps := s.pageSize
	// New pages that follow each other in buf go out in one write.
	runStart, runOff := -1, int64(0)
	flush := func(end int) error {
		if runStart < 0 {
			return nil
		}
		_, err := s.f.WriteAt(buf[runStart:end], runOff)
		runStart = -1
		return err
	}
	for i := 0; i+ps <= len(buf); i += ps {
		page := buf[i : i+ps]
		a := addr + uint64(i)
		off, known := p.at[a]
		switch {
		case bytes.Equal(page, s.zero):
			if err := flush(i); err != nil {
				return err
			}
			p.at[a] = -1
		case known && off >= 0:
			if err := flush(i); err != nil {
				return err
			}
			if _, err := s.f.WriteAt(page, off); err != nil {
				return err
			}
		default:
			if runStart < 0 {
				runStart, runOff = i, s.size
			}
			p.at[a] = s.size
			s.size += int64(ps)
		}
	}
	return flush(len(buf) - len(buf)%ps)
}

// lookup returns where the page of pid at addr is: its offset in the
// store's file, or -1 for a page of zeros.
func (s *Store) lookup(pid int, addr uint64) (int64, error) {
	p := s.procs[pid]
	if p == nil {
		return 0, fmt.Errorf("pre-copy: no pages of pid %d were copied", pid)
	}
	off, ok := p.at[addr]
	if !ok {
		return 0, fmt.Errorf("pre-copy: page %#x of pid %d was not copied", addr, pid)
	}
	return off, nil
}
