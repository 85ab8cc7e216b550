package graph

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// benchRows is the number of buffer rows per benchmark iteration: large
// enough that every worker runs many chunks, small enough for quick runs.
const benchRows = 1 << 18

// benchNets returns the 256×256 TD3 actor and critics the benchmarks use.
func benchNets() (actor, c1, c2 *loaders.Network) { return nettest.Shapes[0].Nets(RandomNetwork, 42) }

func benchBuffer(b *testing.B) (obs, act *SliceRows) {
	obs, err := NewSliceRows(nettest.RandomRows(benchRows, 3, 3, 1), 3)
	if err != nil {
		b.Fatal(err)
	}
	act, err = NewSliceRows(nettest.RandomRows(benchRows, 1, 2, 2), 1)
	if err != nil {
		b.Fatal(err)
	}
	return obs, act
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// cpuClock measures the process's CPU time, so a benchmark run on a busy
// machine can also report rows per CPU-second, which other processes
// disturb far less than wall time.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{cpuNow()} }

func (c cpuClock) report(b *testing.B, rows int) {
	if d := cpuNow() - c.start; d > 0 {
		b.ReportMetric(float64(rows)*float64(b.N)/d.Seconds(), "rows/cpu-s")
	}
}

// BenchmarkEnginePolicy measures the actor alone over buffer rows.
func BenchmarkEnginePolicy(b *testing.B) {
	actor, _, _ := benchNets()
	obs, _ := benchBuffer(b)
	e := NewEngine(NewCPU(Options{}), Options{})
	out := make([]float32, benchRows)
	b.ResetTimer()
	clock := startCPU()
	for range b.N {
		if err := e.Policy(actor, obs, out); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
	clock.report(b, benchRows)
}

// BenchmarkEngineFullQ measures the full Q workload over buffer rows: the
// actor and four critic passes, Q1 and Q2 at (s, a) and at (s, π(s)), as
// QFull (both inputs stacked per critic layer) and as Q then QPolicy, for
// several CPU tile sizes.
func BenchmarkEngineFullQ(b *testing.B) {
	actor, c1, c2 := benchNets()
	obs, act := benchBuffer(b)
	q1, q2, qm := make([]float32, benchRows), make([]float32, benchRows), make([]float32, benchRows)
	pa, p1, p2, pm := make([]float32, benchRows), make([]float32, benchRows), make([]float32, benchRows), make([]float32, benchRows)
	for _, tile := range []int{256, DefaultCPUTile, 1024, 4096} {
		e := NewEngine(NewCPU(Options{Tile: tile}), Options{})
		b.Run("stacked/tile"+strconv.Itoa(tile), func(b *testing.B) {
			clock := startCPU()
			for range b.N {
				if err := e.QFull(actor, c1, c2, obs, act, qm, pm); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, benchRows)
			clock.report(b, benchRows)
		})
		b.Run("separate/tile"+strconv.Itoa(tile), func(b *testing.B) {
			clock := startCPU()
			for range b.N {
				if err := e.Q(c1, c2, obs, act, q1, q2, qm); err != nil {
					b.Fatal(err)
				}
				if err := e.QPolicy(actor, c1, c2, obs, pa, p1, p2, pm); err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, benchRows)
			clock.report(b, benchRows)
		})
	}
}

// BenchmarkSgemmCeiling measures the GEMM this build's plan runs: one
// 4096×256×256 sgemm per worker, all workers at once, as GFLOP/s for the
// machine ("blas": OpenBLAS or gonum; "packed": the pure-Go build's AVX2
// kernel). The full Q workload's 256×256 layers need 5×2×256×256 flops per
// row, so GFLOP/s×1e9/655360 is the rows/s ceiling.
func BenchmarkSgemmCeiling(b *testing.B) {
	const m, n, k = 4096, 256, 256
	workers := runtime.GOMAXPROCS(0)
	a := nettest.RandomRows(m, k, 1, 1)
	w := nettest.RandomRows(n, k, 1, 2)
	bt, ldb := packWeights(w, n, k)
	kernels := map[string]func(c []float32){
		"blas": func(c []float32) { sgemmNN(m, n, k, a, k, w, n, c, n) },
	}
	if bt != nil {
		kernels["packed"] = func(c []float32) { sgemmPacked(m, n, k, a, k, bt, ldb, c, n) }
	}
	for name, gemm := range kernels {
		b.Run(name, func(b *testing.B) {
			cs := make([][]float32, workers)
			for i := range cs {
				cs[i] = make([]float32, m*n)
			}
			b.ResetTimer()
			clock := startCPU()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range b.N {
						gemm(cs[i])
					}
				}()
			}
			wg.Wait()
			flops := 2.0 * m * n * k * float64(workers) * float64(b.N)
			b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
			if d := cpuNow() - clock.start; d > 0 {
				b.ReportMetric(flops/d.Seconds()/1e9*float64(workers), "GFLOP/s-at-full-cores")
			}
		})
	}
}

// BenchmarkReferenceFullQ measures the full Q workload on the Gorgonia
// TapeMachine (the reference executor), on fewer rows: it is slow.
func BenchmarkReferenceFullQ(b *testing.B) {
	const rows = 1 << 15
	actor, c1, c2 := benchNets()
	obs, _ := NewSliceRows(nettest.RandomRows(rows, 3, 3, 1), 3)
	act, _ := NewSliceRows(nettest.RandomRows(rows, 1, 2, 2), 1)
	ref := NewReference()
	defer ref.Close()
	e := NewEngine(ref, Options{Chunk: 4096, Workers: 1})
	qb, qp := make([]float32, rows), make([]float32, rows)
	b.ResetTimer()
	clock := startCPU()
	for range b.N {
		if err := e.QFull(actor, c1, c2, obs, act, qb, qp); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, rows)
	clock.report(b, rows)
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes, or 0
// where /proc is missing.
func peakRSS() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// BenchmarkGridQPolicyStream evaluates QPolicy over an N×N Pendulum grid,
// streaming chunks to a callback that keeps only a running minimum, as a
// job writing .npy files chunk by chunk would. Run one size per process
// (-bench 'GridQPolicyStream/n4096') for a meaningful peak-RSS.
func BenchmarkGridQPolicyStream(b *testing.B) {
	actor, c1, c2 := benchNets()
	for _, n := range []int{1024, 4096} {
		b.Run("n"+strconv.Itoa(n), func(b *testing.B) {
			g := PendulumGrid(n)
			e := NewEngine(NewCPU(Options{}), Options{})
			lowest := float32(math.Inf(1))
			b.ResetTimer()
			clock := startCPU()
			for range b.N {
				err := e.QPolicyStream(actor, c1, c2, g, func(start int, v ...[]float32) error {
					for _, q := range v[3] {
						lowest = min(lowest, q)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			reportRows(b, g.Len())
			clock.report(b, g.Len())
			b.ReportMetric(peakRSS()/(1<<20), "peak-RSS-MiB")
		})
	}
}
