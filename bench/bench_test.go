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

// BenchmarkSGEMMCeiling reports the one-thread GEMM ceiling.
func BenchmarkSGEMMCeiling(b *testing.B) {
	for b.Loop() {
		c, err := MeasureSGEMMCeiling(1, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(c.GFLOPS, "GFLOP/s")
	}
}
