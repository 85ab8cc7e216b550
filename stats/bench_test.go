package stats

import (
	"math/rand/v2"
	"testing"

	"github.com/rleval/rleval/internal/cputime"
)

// BenchmarkAggregates50k is rliable's benchmark shape: 10 runs × 26 tasks,
// 50,000 replicates of mean, median, IQM and optimality gap (rliable 10.9 s,
// its vectorised fork 0.39 s).
func BenchmarkAggregates50k(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := make(Scores, 26)
	for t := range s {
		s[t] = make([]float64, 10)
		for i := range s[t] {
			s[t][i] = rng.NormFloat64()
		}
	}
	bs := Bootstrap{Reps: DefaultReps, Seed: 1}
	b.ReportAllocs()
	cpu0 := cputime.Used()
	for b.Loop() {
		if _, err := bs.Aggregates(s, -3, 3); err != nil {
			b.Fatal(err)
		}
	}
	// CPU seconds of the process per call: on a shared machine the wall
	// time (ns/op) also counts the time other processes held the core.
	b.ReportMetric((cputime.Used()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(DefaultReps*b.N)/b.Elapsed().Seconds(), "reps/s")
}

// BenchmarkImprovement50k: one pair of 5-seed groups, 50,000 replicates.
func BenchmarkImprovement50k(b *testing.B) {
	x := Scores{{1, 2, 3, 4, 5}}
	y := Scores{{1.5, 2, 2.5, 6, 0}}
	bs := Bootstrap{Seed: 1}
	for b.Loop() {
		if _, err := bs.Improvement(x, y); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(DefaultReps*b.N)/b.Elapsed().Seconds(), "reps/s")
}
