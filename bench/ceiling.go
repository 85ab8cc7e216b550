package bench

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// ceilingShape is the GEMM the ceiling is measured on, M×N×K: 4096-row
// chunks through 256×256 layers, the shape that dominates the networks
// rleval evaluates, large enough that the kernel runs at its peak. Tests
// shrink it (N must equal K).
var ceilingShape = [3]int{4096, 256, 256}

// Ceiling is the GEMM rate the machine reaches with some number of threads,
// each evaluating its own chunks the way graph's CPU plan runs one call per
// worker.
type Ceiling struct {
	// BLAS names the kernels graph's CPU plan runs in this build, e.g.
	// "pure Go, Go+AVX2 kernels" or "openblas, C loops".
	BLAS string `json:"blas"`
	// Threads is the number of concurrent calls.
	Threads int `json:"threads"`
	// M, N and K give the GEMM shape: C(M×N) += A(M×K)·B(N×K)ᵀ.
	M int `json:"m"`
	N int `json:"n"`
	K int `json:"k"`
	// GFLOPS is the aggregate rate of every thread's fastest call: a
	// ceiling is what the machine can reach, and on a shared machine the
	// median mostly measures the neighbours.
	GFLOPS float64 `json:"gflops"`
	// MedianGFLOPS is the aggregate rate of every thread's median call.
	MedianGFLOPS float64 `json:"median_gflops"`
	// Reps is the number of timed calls, all threads together.
	Reps int `json:"reps"`
}

// BLASName names the kernels graph's CPU plan runs in this build.
func BLASName() string {
	return blasOf(graph.NewCPU(graph.Options{Workers: 1}).Name())
}

// blasOf strips "cpu (" and ", N workers)" (", 1 worker)") from a CPU backend's name.
func blasOf(name string) string {
	s, ok := strings.CutPrefix(name, "cpu (")
	if !ok {
		return name
	}
	s = strings.TrimSuffix(s, ")")
	if i := strings.LastIndex(s, ", "); i >= 0 && (strings.HasSuffix(s, " workers") || strings.HasSuffix(s, " worker")) {
		s = s[:i]
	}
	return s
}

// ceilingNet returns the network the ceiling evaluates: a critic reading
// K values through two N-wide ReLU layers to one output, so that all but
// 1/(2N+1) of its operations are the two N×K GEMMs.
func ceilingNet() *loaders.Network {
	n := ceilingShape[1]
	_, c, _ := Synthetic(n-1, 1, []int{n, n}, 99)
	return c
}

// MeasureSGEMMCeiling measures the rate of the GEMM kernel graph's CPU plan
// runs in this build (OpenBLAS, gonum, or graph's own AVX2 kernel): threads
// goroutines side by side, each evaluating 4096-row chunks of a critic made
// of two 256×256 layers in a loop (after one warm-up call) until it has
// made at least 3 calls and minTime has passed. The ceiling is the sum over
// threads of each one's fastest call rate, counting the critic's FLOPs per
// row as Nets.FLOPsPerRow does; MedianGFLOPS sums their median call rates.
// Each thread is timed on its own, so one descheduled thread on a shared
// machine does not stall the others' measurement, yet every call ran while
// the other threads were busy too. threads < 1 is treated as 1.
func MeasureSGEMMCeiling(threads int, minTime time.Duration) (Ceiling, error) {
	threads = max(threads, 1)
	m, n, k := ceilingShape[0], ceilingShape[1], ceilingShape[2]
	be := graph.NewCPU(graph.Options{Workers: threads, Chunk: m})
	defer be.Close()
	c := Ceiling{BLAS: blasOf(be.Name()), Threads: threads, M: m, N: n, K: k}
	net := ceilingNet()
	flops := float64(m) * float64(FLOPsPerRow(net))
	best := make([]time.Duration, threads)
	med := make([]time.Duration, threads)
	reps := make([]int, threads)
	errs := make([]error, threads)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs := fill(make([]float32, m*net.ObsDim), uint32(2*t+1))
			act := fill(make([]float32, m*net.ActDim), uint32(2*t+2))
			q := make([]float32, m)
			call := func() error { return be.Q(net, nil, obs, act, m, q, nil) }
			if errs[t] = call(); errs[t] != nil { // warm-up: plan, page in
				return
			}
			var times []time.Duration
			start := time.Now()
			for len(times) < 3 || time.Since(start) < minTime {
				t0 := time.Now()
				if errs[t] = call(); errs[t] != nil {
					return
				}
				times = append(times, time.Since(t0))
			}
			med[t] = medianDuration(times) // sorts times
			best[t], reps[t] = times[0], len(times)
		}()
	}
	wg.Wait()
	for t := range threads {
		if errs[t] != nil {
			return c, fmt.Errorf("bench: GEMM ceiling: %w", errs[t])
		}
		if best[t] <= 0 {
			return c, fmt.Errorf("bench: GEMM ceiling: timer resolution too coarse (fastest call %v)", best[t])
		}
		c.GFLOPS += flops / best[t].Seconds() / 1e9
		c.MedianGFLOPS += flops / med[t].Seconds() / 1e9
		c.Reps += reps[t]
	}
	if math.IsInf(c.GFLOPS, 0) || math.IsNaN(c.GFLOPS) {
		return c, fmt.Errorf("bench: GEMM ceiling: rate %v is not finite", c.GFLOPS)
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
