//go:build unix

// Package cputime measures the CPU time this process has used, for the
// benchmarks that report CPU-seconds beside wall time.
package cputime

import (
	"syscall"
	"time"
)

// Used is the CPU time (user + system) this process has used.
func Used() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
