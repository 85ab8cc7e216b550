//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package flock

import (
	"os"
	"path/filepath"
	"sync"
)

// Without flock(2) the locks exclude holders in this process only: two
// rleval processes writing one output folder may then both evaluate a run
// (the outputs stay whole: every file is written atomically).
var (
	mu   sync.Mutex
	held = map[string]bool{}
)

func key(f *os.File) string {
	if abs, err := filepath.Abs(f.Name()); err == nil {
		return abs
	}
	return f.Name()
}

func tryLock(f *os.File) error {
	mu.Lock()
	defer mu.Unlock()
	if held[key(f)] {
		return ErrBusy
	}
	held[key(f)] = true
	return nil
}

func unlock(f *os.File) error {
	mu.Lock()
	defer mu.Unlock()
	delete(held, key(f))
	return nil
}
