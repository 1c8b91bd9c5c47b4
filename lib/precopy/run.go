package precopy

import (
	"fmt"
	"time"
)

// Freezer stops and resumes the processes being pre-copied, all at once
// (a cgroup's freezer).
type Freezer interface {
	Freeze() error
	Thaw() error
}

// Options tune Run.
type Options struct {
	// MaxRounds bounds the rounds of copying (the first, of all pages,
	// included); 0 means DefaultRounds.
	MaxRounds int
	// Enough is the number of written pages at a freeze below which Run
	// stops: the checkpoint writes that many while frozen. 0 means
	// DefaultEnough.
	Enough int
}

// Defaults of Options.
const (
	DefaultRounds = 8
	DefaultEnough = 1024
)

// Stats tell what Run did.
type Stats struct {
	Rounds  int           // rounds of copying while the processes ran
	Copied  int           // pages copied while they ran, all rounds
	Dirty   int           // pages written since the last copy, at the end
	Paused  time.Duration // longest freeze between two rounds
	Running time.Duration // time the processes ran during Run
}

// todo is what one round copies of one process.
type todo struct {
	pid   int
	start string
	addrs []uint64
}

// Run copies the memory of the processes that pids lists into s while
// they run, in rounds: the first copies every page, each next one the
// pages written during the one before. It is called, and returns, with
// the processes frozen by fz; what the store then holds of each page
// whose soft-dirty bit is clear is what the page holds, so a checkpoint
// with CHECKPOINT_DIRTY_ONLY made before they run again can be merged
// with s. pids is called while they are frozen: a process that appears
// during Run is copied whole, at the latest at the end (while frozen).
func (s *Store) Run(fz Freezer, pids func() ([]int, error), o Options) (Stats, error) {
	if o.MaxRounds <= 0 {
		o.MaxRounds = DefaultRounds
	}
	if o.Enough <= 0 {
		o.Enough = DefaultEnough
	}
	var st Stats
	work, err := s.plan(pids, true)
	if err != nil {
		return st, err
	}
	prev := -1
	for {
		began := time.Now()
		if err := fz.Thaw(); err != nil {
			return st, err
		}
		for _, t := range work {
			n, err := s.Copy(t.pid, t.start, t.addrs)
			if err != nil {
				_ = fz.Freeze()
				return st, fmt.Errorf("pre-copy of pid %d: %w", t.pid, err)
			}
			st.Copied += n
		}
		if err := fz.Freeze(); err != nil {
			return st, err
		}
		st.Running += time.Since(began)
		st.Rounds++

		paused := time.Now()
		// Written since their bits were cleared: still frozen, so
		// counted before deciding whether to go on.
		last := st.Rounds >= o.MaxRounds
		dirty, err := s.count(pids)
		if err != nil {
			return st, err
		}
		st.Dirty = dirty
		// Done when little is left for the frozen checkpoint, or when
		// the processes write faster than the rounds copy.
		if last || dirty < o.Enough || (prev >= 0 && dirty > prev/2) {
			break
		}
		prev = dirty
		if work, err = s.plan(pids, false); err != nil {
			return st, err
		}
		st.Paused = max(st.Paused, time.Since(paused))
	}
	// Processes that appeared since the last plan: whole, now. The bits
	// of the others stay as they are, for the checkpoint to read.
	list, err := pids()
	if err != nil {
		return st, err
	}
	for _, pid := range list {
		start, err := startTime(pid)
		if err != nil {
			continue
		}
		if known, err := s.Has(pid); err != nil || known {
			continue
		}
		addrs, err := Pages(pid, false)
		if err == nil {
			_, err = s.Copy(pid, start, addrs)
		}
		if err != nil {
			return st, fmt.Errorf("copy of pid %d: %w", pid, err)
		}
	}
	return st, nil
}

// plan lists, with the processes frozen, what the next round copies: for
// a process copied before, the pages written since (all, with all); for
// a new one, every page. The soft-dirty bits are cleared after they are
// read, so that the round's copies are good until the page is written
// again.
func (s *Store) plan(pids func() ([]int, error), all bool) (work []todo, err error) {
	list, err := pids()
	if err != nil {
		return nil, err
	}
	for _, pid := range list {
		start, err := startTime(pid)
		if err != nil {
			continue // exited while frozen: killed
		}
		known, err := s.Has(pid)
		if err != nil {
			continue
		}
		addrs, err := Pages(pid, known && !all)
		if err != nil {
			return nil, err
		}
		if err := ClearSoftDirty(pid); err != nil {
			return nil, err
		}
		work = append(work, todo{pid: pid, start: start, addrs: addrs})
	}
	return work, nil
}

// count is the number of pages written since the last plan, of the
// processes copied before.
func (s *Store) count(pids func() ([]int, error)) (int, error) {
	list, err := pids()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pid := range list {
		if known, err := s.Has(pid); err != nil || !known {
			continue
		}
		addrs, err := Pages(pid, true)
		if err != nil {
			return 0, err
		}
		n += len(addrs)
	}
	return n, nil
}
