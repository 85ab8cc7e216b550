package batch

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/cputime"
)

// cpuSpin is the fake evaluation's CPU work per run: about 200 ms on an
// idle core, so that the runner's own I/O (a few fsyncs per run) is small
// beside it.
const cpuSpin = 40_000_000

// benchRuns makes n good runs.
func benchRuns(n int) []fixtureRun {
	runs := make([]fixtureRun, n)
	for i := range runs {
		runs[i].rel = fmt.Sprintf("2026-01-01_00-00-%02d_run%03d", i%60, i)
	}
	return runs
}

// BenchmarkBatch measures the runner's parallel speed-up on CPU-bound runs
// (a fake evaluation spinning about 200 ms per run; cpu/runs=20/speedup
// interleaves workers=1 and workers=2 and reports their wall-time ratio)
// and its memory over a long batch (each run holds 16 MiB while it is
// evaluated, as a loaded replay buffer would: peak-heap-growth-MiB must not
// grow with the number of runs, retained-heap-MiB must stay near 0).
func BenchmarkBatch(b *testing.B) {
	for _, bc := range []struct{ runs, workers int }{{20, 1}, {20, 2}} {
		b.Run(fmt.Sprintf("cpu/runs=%d/workers=%d", bc.runs, bc.workers), func(b *testing.B) {
			root := makeExperiments(b, benchRuns(bc.runs))
			out := filepath.Join(b.TempDir(), "results")
			fe := newFakeEval()
			fe.spin = cpuSpin
			batch := &Batch{Root: root, Out: out, Workers: bc.workers, Force: true, Evaluate: fe.Evaluate}
			b.ResetTimer()
			for b.Loop() {
				if _, err := batch.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bc.runs*b.N)/b.Elapsed().Seconds(), "runs/s")
		})
	}
	// Interleaving the two worker counts in one loop exposes both to the
	// same machine load, so their ratio stays meaningful on a busy host.
	b.Run("cpu/runs=20/speedup", func(b *testing.B) {
		root := makeExperiments(b, benchRuns(20))
		fe := newFakeEval()
		fe.spin = cpuSpin
		var t1, t2, cpu1, cpu2 time.Duration
		for b.Loop() {
			for _, w := range []int{1, 2} {
				start, cpu := time.Now(), cputime.Used()
				if _, err := (&Batch{Root: root, Out: filepath.Join(b.TempDir(), "r"), Workers: w, Force: true, Evaluate: fe.Evaluate}).Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				if w == 1 {
					t1 += time.Since(start)
					cpu1 += cputime.Used() - cpu
				} else {
					t2 += time.Since(start)
					cpu2 += cputime.Used() - cpu
				}
			}
		}
		b.ReportMetric(float64(20*b.N)/t1.Seconds(), "runs/s-1worker")
		b.ReportMetric(float64(20*b.N)/t2.Seconds(), "runs/s-2workers")
		b.ReportMetric(t1.Seconds()/t2.Seconds(), "speedup")
		// Cores each batch got: on a busy host the speed-up is bounded by
		// their ratio, not by the runner.
		b.ReportMetric(cpu1.Seconds()/t1.Seconds(), "cores-used-1worker")
		b.ReportMetric(cpu2.Seconds()/t2.Seconds(), "cores-used-2workers")
		b.ReportMetric(cpu1.Seconds()*1000/float64(20*b.N), "cpu-ms/run")
	})
	for _, n := range []int{20, 100} {
		b.Run(fmt.Sprintf("memory/runs=%d/workers=2", n), func(b *testing.B) {
			root := makeExperiments(b, benchRuns(n))
			out := filepath.Join(b.TempDir(), "results")
			var mu sync.Mutex
			var peak uint64
			fe := newFakeEval()
			fe.alloc = 16 << 20
			fe.onPeak = func() {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				mu.Lock()
				peak = max(peak, ms.HeapAlloc)
				mu.Unlock()
			}
			batch := &Batch{Root: root, Out: out, Workers: 2, Force: true, Evaluate: fe.Evaluate}
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			b.ResetTimer()
			for b.Loop() {
				if _, err := batch.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "runs/s")
			b.ReportMetric(float64(peak-min(peak, base.HeapAlloc))/(1<<20), "peak-heap-growth-MiB")
			b.ReportMetric((float64(after.HeapAlloc)-float64(base.HeapAlloc))/(1<<20), "retained-heap-MiB")
		})
	}
}
