package bench

import (
	"fmt"
	"testing"

	"github.com/rleval/rleval/graph"
)

// BenchmarkCell times one batch of each workload on graph's CPU backend
// with the Pendulum-sized 3-256-256-1 networks, the way Run does.
func BenchmarkCell(b *testing.B) {
	nets := SyntheticNets(3, 1, []int{256, 256}, 1)
	be := graph.NewCPU(graph.Options{})
	chunk, workers := be.Preferred()
	for _, w := range Workloads {
		for _, batch := range []int{1, 64, 1024, 16384} {
			b.Run(fmt.Sprintf("%s/batch=%d", w, batch), func(b *testing.B) {
				c := newCell(be, nets, w, batch, chunk, workers)
				for b.Loop() {
					if err := c.do(); err != nil {
						b.Fatal(err)
					}
				}
				s := b.Elapsed().Seconds()
				b.ReportMetric(float64(b.N*batch)/s, "rows/s")
				b.ReportMetric(float64(b.N*batch)*float64(nets.FLOPsPerRow(w))/s/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkSGEMMCeiling reports the single-thread sgemm rate the ceiling
// is measured with.
func BenchmarkSGEMMCeiling(b *testing.B) {
	m, n, k := ceilingShape[0], ceilingShape[1], ceilingShape[2]
	a, bb, c := fill(make([]float32, m*k), 1), fill(make([]float32, n*k), 2), make([]float32, m*n)
	for b.Loop() {
		sgemmNT(m, n, k, a, k, bb, k, c, n)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
