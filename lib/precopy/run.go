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
	whole bool // not copied before: addrs are all its pages
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
	work, _, err := s.look(pids, true)
	if err == nil {
		err = clearBits(work)
	}
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
		dirty := 0
		if work, dirty, err = s.look(pids, false); err != nil {
			return st, err
		}
		st.Dirty = dirty
		// Done when little is left for the frozen checkpoint, or when
		// the processes write faster than the rounds copy.
		if st.Rounds >= o.MaxRounds || dirty < o.Enough || (prev >= 0 && dirty > prev/2) {
			break
		}
		prev = dirty
		if err := clearBits(work); err != nil {
			return st, err
		}
		st.Paused = max(st.Paused, time.Since(paused))
	}
	// Processes that appeared since the last round: whole, now. The
	// bits of the others stay as they are, for the checkpoint to read.
	for _, t := range work {
		if !t.whole {
			continue
		}
		if _, err := s.Copy(t.pid, t.start, t.addrs); err != nil {
			return st, fmt.Errorf("copy of pid %d: %w", t.pid, err)
		}
	}
	return st, nil
}

// look lists, with the processes frozen, what the next round would copy:
// for a process copied before, the pages written since (all, with all);
// for a new one, every page. dirty counts the pages written since of the
// processes copied before: what a checkpoint made now would write.
func (s *Store) look(pids func() ([]int, error), all bool) (work []todo, dirty int, err error) {
	list, err := pids()
	if err != nil {
		return nil, 0, err
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
			return nil, 0, err
		}
		if known {
			dirty += len(addrs)
		}
		work = append(work, todo{pid: pid, start: start, addrs: addrs, whole: !known})
	}
	return work, dirty, nil
}

// clearBits clears the soft-dirty bits of the processes look listed, so
// that the round's copies stay good until a page is written again.
func clearBits(work []todo) error {
	for _, t := range work {
		if err := ClearSoftDirty(t.pid); err != nil {
			return err
		}
	}
	return nil
}
