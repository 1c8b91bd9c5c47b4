package image

import (
	"fmt"
	"syscall"
)

// FormatError is a malformed or truncated image. Offset is the byte of the
// image at which the problem lies.
type FormatError struct {
	Offset int64
	Record string // the record being read, "" between records
	Reason string
}

func (e *FormatError) Error() string {
	if e.Record != "" {
		return fmt.Sprintf("image offset %d (%s record): %s", e.Offset, e.Record, e.Reason)
	}
	return fmt.Sprintf("image offset %d: %s", e.Offset, e.Reason)
}

// ImageError is an error record: the producer's report of a checkpoint that
// failed part way.
type ImageError struct {
	Offset int64 // of the error record
	Errno  syscall.Errno
	Pid    int32
	Pos    uint64 // image position when the checkpoint failed
	Msg    string
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("image offset %d: checkpoint failed (pid %d, pos %d, %v): %s",
		e.Offset, e.Pid, e.Pos, e.Errno, e.Msg)
}

// Unwrap lets errors.Is match the errno of the failed checkpoint.
func (e *ImageError) Unwrap() error { return e.Errno }
