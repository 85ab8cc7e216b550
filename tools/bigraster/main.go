// Command bigraster writes the very large state-grid raster users ask for
// (16384² by default) through plotting.RenderRaster, and reports its time,
// size and the process's peak memory: the raster is streamed row by row, so
// memory stays at a few rows whatever n is.
//
//	go run ./tools/bigraster [-n 16384] [-out huge.png]
//
// It takes tens of seconds, so it is a command rather than a test.
package main

import (
	"flag"
	"fmt"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rleval/rleval/plotting"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("bigraster: ")
	n := flag.Int("n", 16384, "N of the N×N raster")
	out := flag.String("out", "", "PNG to write (default: a temporary file, removed afterwards)")
	flag.Parse()
	path := *out
	if path == "" {
		dir, err := os.MkdirTemp("", "bigraster")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "huge.png")
	}
	start := time.Now()
	err := plotting.RenderRaster(path, *n, *n, func(y int, dst []float32) error {
		for x := range dst {
			dst[x] = float32(x^y) / float32(*n)
		}
		return nil
	}, 0, 1, plotting.Viridis())
	if err != nil {
		log.Fatal(err)
	}
	took := time.Since(start)
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != *n || cfg.Height != *n {
		log.Fatalf("%s: DecodeConfig = %+v, %v; want %d×%[4]d", path, cfg, err, *n)
	}
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d² raster: %.1f MiB in %v (%.0f rows/s), peak RSS %s\n", *n, float64(st.Size())/(1<<20), took,
		float64(*n)/took.Seconds(), peakRSS())
}

// peakRSS returns VmHWM from /proc/self/status, or "unknown".
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
