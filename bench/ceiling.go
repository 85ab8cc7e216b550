package bench

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// ceilingShape is the sgemm the ceiling is measured on, M×N×K: a 4096-row
// chunk through a 256×256 hidden layer, the shape that dominates the
// networks rleval evaluates, large enough that the kernel runs at its peak.
// Tests shrink it.
var ceilingShape = [3]int{4096, 256, 256}

// Ceiling is the sgemm rate the machine reaches with some number of
// threads, each running its own single-threaded sgemm, the way graph's CPU
// plan runs one call per worker.
type Ceiling struct {
	// BLAS names the implementation measured, the one graph uses in this
	// build: "pure Go (gonum)" or "openblas".
	BLAS string `json:"blas"`
	// Threads is the number of concurrent sgemm calls.
	Threads int `json:"threads"`
	// M, N and K give the shape: C(M×N) += A(M×K)·B(N×K)ᵀ.
	M int `json:"m"`
	N int `json:"n"`
	K int `json:"k"`
	// GFLOPS is the aggregate rate, 2·M·N·K operations per call, of every
	// thread's fastest call: a ceiling is what the machine can reach, and on
	// a shared machine the median mostly measures the neighbours.
	GFLOPS float64 `json:"gflops"`
	// MedianGFLOPS is the aggregate rate of every thread's median call.
	MedianGFLOPS float64 `json:"median_gflops"`
	// Reps is the number of timed calls, all threads together.
	Reps int `json:"reps"`
}

// BLASName names the BLAS this build measures and graph evaluates with.
func BLASName() string { return blasName }

// MeasureSGEMMCeiling runs threads goroutines side by side, each calling a
// single-threaded 4096×256×256 sgemm in a loop (after one warm-up call)
// until it has made at least 3 calls and minTime has passed. The ceiling
// is the sum over threads of each one's fastest call rate; MedianGFLOPS
// sums their median call rates. Each thread is timed on its own, so one
// descheduled thread on a shared machine does not stall the others'
// measurement, yet every call ran while the other threads were busy too.
// threads < 1 is treated as 1.
func MeasureSGEMMCeiling(threads int, minTime time.Duration) (Ceiling, error) {
	threads = max(threads, 1)
	m, n, k := ceilingShape[0], ceilingShape[1], ceilingShape[2]
	c := Ceiling{BLAS: blasName, Threads: threads, M: m, N: n, K: k}
	flops := 2 * float64(m) * float64(n) * float64(k)
	best := make([]time.Duration, threads)
	med := make([]time.Duration, threads)
	reps := make([]int, threads)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := fill(make([]float32, m*k), uint32(3*t+1))
			b := fill(make([]float32, n*k), uint32(3*t+2))
			out := make([]float32, m*n)
			sgemmNT(m, n, k, a, k, b, k, out, n) // warm-up: page in, start the BLAS
			var times []time.Duration
			start := time.Now()
			for len(times) < 3 || time.Since(start) < minTime {
				t0 := time.Now()
				sgemmNT(m, n, k, a, k, b, k, out, n)
				times = append(times, time.Since(t0))
			}
			med[t] = medianDuration(times) // sorts times
			best[t], reps[t] = times[0], len(times)
		}()
	}
	wg.Wait()
	for t := range threads {
		if best[t] <= 0 {
			return c, fmt.Errorf("bench: sgemm ceiling: timer resolution too coarse (fastest call %v)", best[t])
		}
		c.GFLOPS += flops / best[t].Seconds() / 1e9
		c.MedianGFLOPS += flops / med[t].Seconds() / 1e9
		c.Reps += reps[t]
	}
	if math.IsInf(c.GFLOPS, 0) || math.IsNaN(c.GFLOPS) {
		return c, fmt.Errorf("bench: sgemm ceiling: rate %v is not finite", c.GFLOPS)
	}
	return c, nil
}

// fill writes deterministic values in [-1, 1) into v (a xorshift stream:
// the values only need to be ordinary, normal floats).
func fill(v []float32, seed uint32) []float32 {
	x := seed*2654435761 + 1
	for i := range v {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v[i] = float32(x>>8)/float32(1<<23) - 1
	}
	return v
}
