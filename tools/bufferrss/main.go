// Command bufferrss measures how much a replay buffer's loading grows the
// process's peak resident memory, and fails when it is more than 1.5× the
// file's size: the loader decodes the storages straight into the returned
// slices, reading only the valid rows.
//
//	go run ./tools/bufferrss path/to/replay_buffer.pth
//
// Peak RSS is a property of the whole process, so this is a command of its
// own rather than a test inside a test binary that loads other things.
package main

import (
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/rleval/rleval/loaders"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("bufferrss: ")
	if len(os.Args) != 2 {
		log.Fatal("usage: go run ./tools/bufferrss replay_buffer.pth")
	}
	p := os.Args[1]
	fi, err := os.Stat(p)
	if err != nil {
		log.Fatal(err)
	}
	before := peakRSS()
	start := time.Now()
	b, err := loaders.LoadReplayBuffer(p)
	if err != nil {
		log.Fatal(err)
	}
	took := time.Since(start)
	after := peakRSS()
	fmt.Printf("file %.1f MB, %d valid rows of %d loaded in %v; peak RSS %.1f MB before, %.1f MB after (+%.1f MB = %.2f× the file)\n",
		float64(fi.Size())/1e6, b.Size, b.Capacity, took, float64(before)/1e6, float64(after)/1e6,
		float64(after-before)/1e6, float64(after-before)/float64(fi.Size()))
	if after-before > fi.Size()*3/2 {
		log.Fatalf("peak RSS grew by %d bytes, more than 1.5× the %d-byte file", after-before, fi.Size())
	}
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		log.Fatalf("peak RSS needs Linux's /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb * 1024
		}
	}
	log.Fatal("no VmHWM in /proc/self/status")
	return 0
}
