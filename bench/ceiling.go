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
	// GFLOPS is the best repetition's aggregate rate, 2·M·N·K operations
	// per call, all threads together: a ceiling is what the machine can
	// reach, and on a shared machine the median mostly measures the
	// neighbours.
	GFLOPS float64 `json:"gflops"`
	// MedianGFLOPS is the median repetition's rate.
	MedianGFLOPS float64 `json:"median_gflops"`
	// Reps is the number of timed repetitions.
	Reps int `json:"reps"`
}

// BLASName names the BLAS this build measures and graph evaluates with.
func BLASName() string { return blasName }

// MeasureSGEMMCeiling times threads concurrent single-threaded sgemm calls of
// 4096×256×256 (after one warm-up call each) until at least 3 repetitions
// and minTime have passed, and returns the best and the median aggregate
// GFLOP/s. threads < 1 is treated as 1.
func MeasureSGEMMCeiling(threads int, minTime time.Duration) (Ceiling, error) {
	threads = max(threads, 1)
	ceilingM, ceilingN, ceilingK := ceilingShape[0], ceilingShape[1], ceilingShape[2]
	c := Ceiling{BLAS: blasName, Threads: threads, M: ceilingM, N: ceilingN, K: ceilingK}
	type mats struct{ a, b, c []float32 }
	ms := make([]mats, threads)
	for i := range ms {
		ms[i] = mats{
			a: fill(make([]float32, ceilingM*ceilingK), uint32(3*i+1)),
			b: fill(make([]float32, ceilingN*ceilingK), uint32(3*i+2)),
			c: make([]float32, ceilingM*ceilingN),
		}
	}
	round := func() time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for i := range ms {
			wg.Add(1)
			go func(m mats) {
				defer wg.Done()
				sgemmNT(ceilingM, ceilingN, ceilingK, m.a, ceilingK, m.b, ceilingK, m.c, ceilingN)
			}(ms[i])
		}
		wg.Wait()
		return time.Since(start)
	}
	round() // warm-up: page in the matrices, start the BLAS
	var times []time.Duration
	var total time.Duration
	for len(times) < 3 || total < minTime {
		d := round()
		times = append(times, d)
		total += d
	}
	med := medianDuration(times)
	if times[0] <= 0 {
		return c, fmt.Errorf("bench: sgemm ceiling: timer resolution too coarse (fastest %v)", times[0])
	}
	flops := 2 * float64(ceilingM) * float64(ceilingN) * float64(ceilingK) * float64(threads)
	c.GFLOPS = flops / times[0].Seconds() / 1e9
	c.MedianGFLOPS = flops / med.Seconds() / 1e9
	c.Reps = len(times)
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
