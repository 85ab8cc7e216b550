package graph

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rleval/rleval/loaders"
)

// benchRows is the number of buffer rows per benchmark iteration: large
// enough that every worker runs many chunks, small enough for quick runs.
const benchRows = 1 << 18

// benchNets returns the 256×256 TD3 actor and critics the benchmarks use.
func benchNets() (actor, c1, c2 *loaders.Network) { return testShapes[0].nets(42) }

func benchBuffer(b *testing.B) (obs, act *SliceRows) {
	obs, err := NewSliceRows(randomRows(benchRows, 3, 3, 1), 3)
	if err != nil {
		b.Fatal(err)
	}
	act, err = NewSliceRows(randomRows(benchRows, 1, 2, 2), 1)
	if err != nil {
		b.Fatal(err)
	}
	return obs, act
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkEnginePolicy measures the actor alone over buffer rows.
func BenchmarkEnginePolicy(b *testing.B) {
	actor, _, _ := benchNets()
	obs, _ := benchBuffer(b)
	e := NewEngine(NewCPU(Options{}), Options{})
	out := make([]float32, benchRows)
	b.ResetTimer()
	for range b.N {
		if err := e.Policy(actor, obs, out); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}

// BenchmarkEngineFullQ measures the full Q workload over buffer rows: the
// actor and four critic passes, Q1 and Q2 at (s, a) and at (s, π(s)).
func BenchmarkEngineFullQ(b *testing.B) {
	actor, c1, c2 := benchNets()
	obs, act := benchBuffer(b)
	e := NewEngine(NewCPU(Options{}), Options{})
	q1, q2, qm := make([]float32, benchRows), make([]float32, benchRows), make([]float32, benchRows)
	pa, p1, p2, pm := make([]float32, benchRows), make([]float32, benchRows), make([]float32, benchRows), make([]float32, benchRows)
	b.ResetTimer()
	for range b.N {
		if err := e.Q(c1, c2, obs, act, q1, q2, qm); err != nil {
			b.Fatal(err)
		}
		if err := e.QPolicy(actor, c1, c2, obs, pa, p1, p2, pm); err != nil {
			b.Fatal(err)
		}
	}
	reportRows(b, benchRows)
}

// BenchmarkSgemmCeiling measures the BLAS this build links: one 4096×256×256
// sgemm per worker, all workers at once, as GFLOP/s for the machine. The
// full Q workload's 256×256 layers need 5×2×256×256 flops per row, so
// GFLOP/s×1e9/655360 is the rows/s ceiling.
func BenchmarkSgemmCeiling(b *testing.B) {
	const m, n, k = 4096, 256, 256
	workers := runtime.GOMAXPROCS(0)
	a := randomRows(m, k, 1, 1)
	w := randomRows(n, k, 1, 2)
	cs := make([][]float32, workers)
	for i := range cs {
		cs[i] = make([]float32, m*n)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.N {
				sgemmNT(m, n, k, a, k, w, k, cs[i], n)
			}
		}()
	}
	wg.Wait()
	flops := 2.0 * m * n * k * float64(workers) * float64(b.N)
	b.ReportMetric(flops/time.Since(start).Seconds()/1e9, "GFLOP/s")
}
