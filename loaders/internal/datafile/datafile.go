// Package datafile holds what every format reader of a run's files shares:
// the errors callers branch on (package loaders re-exports them) and the
// opening of a data file.
package datafile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

var (
	// ErrNotExist means a file of the run is absent. It matches
	// fs.ErrNotExist too.
	ErrNotExist error = notExist{}
	// ErrInvalid means a file exists but is not what its name promises:
	// truncated, corrupt, or of an unexpected layout.
	ErrInvalid = errors.New("invalid file")
)

type notExist struct{}

func (notExist) Error() string        { return "file does not exist" }
func (notExist) Is(target error) bool { return target == fs.ErrNotExist }

// IsNotExist reports a file that is absent, including a path that runs
// through a file (model.zip/log_alpha.pt: ENOTDIR), which a network held
// inside an archive gives to callers looking beside it.
func IsNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// formatError is a description of a broken file; it matches ErrInvalid.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }
func (e *formatError) Unwrap() error { return ErrInvalid }

// Invalidf describes a broken file; the error matches ErrInvalid.
func Invalidf(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// Open opens a file of a run for reading and returns its size, mapping
// absence to ErrNotExist. Only a regular file is opened: a FIFO blocks its
// reader until a writer comes (forever, in a batch), a device such as
// /dev/zero never ends and a socket cannot be read at all, so each is
// refused, naming the file, with ErrInvalid. The mode is checked before
// opening (opening a FIFO for reading blocks), and again on the open file,
// which is opened non-blocking in case the path became a FIFO in between.
func Open(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, openError(path, err)
	}
	if err := checkRegular(path, st); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, openError(path, err)
	}
	st, err = f.Stat()
	if err == nil {
		err = checkRegular(path, st)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func openError(path string, err error) error {
	if IsNotExist(err) {
		return fmt.Errorf("load %s: %w", path, ErrNotExist)
	}
	return fmt.Errorf("load %s: %w", path, err)
}

// checkRegular refuses everything but a regular file, saying what it is.
func checkRegular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "a special file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO), which would block its reader"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("load %s: is %s, not a regular file; rleval reads only regular files: %w", path, what, ErrInvalid)
}
