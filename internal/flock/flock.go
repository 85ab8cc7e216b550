// Package flock holds advisory locks on files, so that two rleval
// processes writing one output folder do not do the same work twice.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrBusy is TryLock's answer when another holder has the lock.
var ErrBusy = errors.New("locked by another rleval")

// Lock is a held lock; Unlock releases it.
type Lock struct {
	f    *os.File
	path string
}

// TryLock takes the exclusive lock on the file at path, creating it (and
// its folder) if needed, or returns ErrBusy at once when another holder,
// in this process or another, has it. The lock file is left in place when
// released: removing it would let two holders lock two different files.
func TryLock(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, ErrBusy) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// poll is how often Acquire retries a busy lock: short against the
// seconds a run's evaluation takes.
const poll = 50 * time.Millisecond

// Acquire waits for the exclusive lock on path until it is free or ctx is
// done (then it returns ctx.Err()).
func Acquire(ctx context.Context, path string) (*Lock, error) {
	for {
		l, err := TryLock(path)
		if !errors.Is(err, ErrBusy) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
