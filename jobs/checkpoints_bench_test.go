package jobs

import (
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// BenchmarkCheckpoints is the speed criterion for --checkpoints:
// 20 checkpoints of a 256×256 actor with twin critics on a 200×200 grid.
//
//   - stacked-20 is what the checkpoints job evaluates: the 20 checkpoints'
//     policy and Q maps, stacked (Engine.StackedQPolicy).
//
//   - one-at-a-time-20 is the same maps one checkpoint after another
//     (Engine.QPolicy per checkpoint): what stacking gains.
//
//   - run-core-x20 is the grid work of one `run` of the final model's core
//     arrays (policy_grid and q_grid from one QPolicy pass, target_grid,
//     policy_1d), 20 times: the anchor, which stacked-20 must stay within
//     1.5× of.
//
//     go test ./jobs -run '^$' -bench Checkpoints -benchtime 3x
func BenchmarkCheckpoints(b *testing.B) {
	const k, side = 20, 200
	g, err := graph.NewCoordGrid([]float64{0, 0, 0}, 0, graph.Axis{Lo: -1, Hi: 1, N: side}, 2, graph.Axis{Lo: -8, Hi: 8, N: side})
	if err != nil {
		b.Fatal(err)
	}
	line, err := graph.NewCoordGrid([]float64{0, 0, 0}, 0, graph.Axis{Lo: -1, Hi: 1, N: 500}, 2, graph.Axis{Lo: 0, Hi: 0, N: 1})
	if err != nil {
		b.Fatal(err)
	}
	sets := make([]ckptNets, k)
	targets := make([]*loaders.Network, k)
	for j := range sets {
		seed := uint64(100 * (j + 1))
		sets[j] = ckptNets{graph.RandomNetwork(loaders.KindActor, []int{3, 256, 256, 1}, 3, 1, seed),
			graph.RandomNetwork(loaders.KindCritic, []int{4, 256, 256, 1}, 3, 1, seed+1),
			graph.RandomNetwork(loaders.KindCritic, []int{4, 256, 256, 1}, 3, 1, seed+2)}
		targets[j] = graph.RandomNetwork(loaders.KindActor, []int{3, 256, 256, 1}, 3, 1, seed+3)
	}
	eng := graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{})
	n := g.Len()
	act, q1, q2, qm := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	rows := float64(k * n)
	b.Run("stacked-20", func(b *testing.B) {
		for range b.N {
			if _, err := evalCheckpointGrids(eng, g, sets); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("one-at-a-time-20", func(b *testing.B) {
		for range b.N {
			for _, s := range sets {
				if err := eng.QPolicy(s.actor, s.c1, s.c2, g, act, q1, q2, qm); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("run-core-x20", func(b *testing.B) {
		s, t := sets[k-1], targets[k-1]
		la := make([]float32, line.Len())
		for range b.N {
			for range k {
				if err := eng.QPolicy(s.actor, s.c1, s.c2, g, act, q1, q2, qm); err != nil {
					b.Fatal(err)
				}
				if err := eng.Policy(t, g, q1); err != nil {
					b.Fatal(err)
				}
				if err := eng.Policy(s.actor, line, la); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
