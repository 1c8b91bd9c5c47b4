package main

import (
	"fmt"
	"io"
	"os"
	"time"

	kcr "github.com/kcr-dev/kcr/lib"
	"github.com/kcr-dev/kcr/lib/precopy"
)

// timedFreezer notes when the last freeze began: the checkpoint's.
type timedFreezer struct {
	t *frozenTree
}

func (f timedFreezer) Freeze() error {
	began := time.Now()
	err := f.t.cg.Freeze()
	f.t.frozen = began
	return err
}

func (f timedFreezer) Thaw() error { return f.t.cg.Thaw() }

// checkpointPreCopy copies the frozen tree's memory while it runs
// (lib/precopy), checkpoints what it wrote since with CHECKPOINT_DIRTY_ONLY
// into a temporary file in dir, releases the tree, and merges the two
// into img. The tree is released in every case: killed only with kill,
// once the merged image is written.
func checkpointPreCopy(dev *kcr.Device, tree *frozenTree, img *os.File, dir string,
	o ckptOptions, logf *os.File, report io.Writer) (id int, err error) {
	if tree.cg == nil {
		_ = tree.release(false)
		return 0, fmt.Errorf("--pre-copy: the cgroup was frozen before kcr came: the tree cannot run during the copy")
	}
	if o.out == "-" {
		dir = ""
	}
	released := false
	release := func(kill bool) error {
		if released {
			return nil
		}
		released = true
		return tree.release(kill)
	}
	defer func() {
		if rerr := release(false); err == nil {
			err = rerr
		}
	}()
	store, err := precopy.NewStore(dir)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	st, err := store.Run(timedFreezer{tree}, tree.procs, precopy.Options{})
	if err != nil {
		return 0, err
	}
	delta, err := os.CreateTemp(dir, ".kcr-dirty-")
	if err != nil {
		return 0, err
	}
	os.Remove(delta.Name())
	defer delta.Close()
	id, err = dev.Checkpoint(tree.root, delta, kcr.CheckpointOptions{Subtree: o.subtree, DirtyOnly: true, Log: logf})
	if err != nil {
		return 0, err
	}
	// Thawed before the merge, which is the point; but killed only
	// once the merged image is there.
	if !o.kill {
		if err := release(false); err != nil {
			return 0, err
		}
	}
	frozen := time.Since(tree.frozen)
	if _, err := delta.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	ms, err := precopy.Merge(img, delta, store)
	if err != nil {
		return 0, err
	}
	if o.kill {
		if err := release(true); err != nil {
			return 0, err
		}
	}
	fmt.Fprintf(report, "pre-copy: %d rounds in %.3f s, %d pages copied while running, longest pause %.3f s\n",
		st.Rounds, st.Running.Seconds(), st.Copied, st.Paused.Seconds())
	fmt.Fprintf(report, "frozen for %.3f s: %d pages written then, %d taken from the pre-copy, %d of zeros\n",
		frozen.Seconds(), ms.Written, ms.Copied, ms.Zero)
	return id, nil
}
