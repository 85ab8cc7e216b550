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

// Open opens a file of a run and returns its size, mapping absence to
// ErrNotExist and a directory or other non-regular file to ErrInvalid.
func Open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if IsNotExist(err) {
			return nil, 0, fmt.Errorf("load %s: %w", path, ErrNotExist)
		}
		return nil, 0, fmt.Errorf("load %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("load %s: not a regular file: %w", path, ErrInvalid)
	}
	return f, fi.Size(), nil
}
