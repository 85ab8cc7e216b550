package batch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/cputime"
	"github.com/rleval/rleval/jobs"
)

// BenchmarkBatchRollouts compares a batch of 8 pendulum runs of one
// actor architecture (256×256) evaluated with the returns job alone
// (grid 50, horizon 200, 200 episodes, 64 buffer states), their rollouts
// stacked (Batch.Rollouts) and each run's its own, interleaved so that
// both see the same machine load: CPU-seconds and wall seconds per batch
// and their ratios (own / stacked). On the CPU a stacked policy call is a
// loop over the actors: expect about 1.
func BenchmarkBatchRollouts(b *testing.B) {
	root := filepath.Join(b.TempDir(), "experiments")
	pendulumRuns(b, root, "2026-05-01_00-00-0%d_pend-%c", 8)
	opt := jobs.DefaultOptions()
	opt.Grid, opt.Only = 50, []string{"returns"}
	opt.Returns = jobs.ReturnsOptions{Enabled: true, Episodes: 200, Horizon: 200, BufferStates: 64}
	const workers = 2
	cpu := graph.NewCPU(graph.Options{Workers: jobs.ThreadsPerRun(0, workers)})
	batchOf := func(stacked bool) *Batch {
		o := opt
		var rs *Rollouts
		if stacked {
			// NewRollouts leaves the CPU to each run's own: force it.
			rs = &Rollouts{Options: opt, Backend: cpu}
			o.Rollouts = rs
		}
		eval := func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
			o := o
			o.Engine = graph.NewEngine(cpu, graph.Options{})
			return jobs.Evaluate(ctx, runDir, outDir, o)
		}
		return &Batch{Root: root, Out: filepath.Join(b.TempDir(), "out"), Workers: workers, Force: true, Evaluate: eval, Options: "bench", Rollouts: rs}
	}
	var wall, cpus [2]time.Duration // own, stacked
	for b.Loop() {
		for k, stacked := range []bool{false, true} {
			start, c := time.Now(), cputime.Used()
			res, err := batchOf(stacked).Run(context.Background())
			if err != nil || res.OK != 8 {
				b.Fatalf("batch: %v, %d of 8 ok", err, res.OK)
			}
			wall[k] += time.Since(start)
			cpus[k] += cputime.Used() - c
		}
	}
	n := float64(b.N)
	b.ReportMetric(cpus[0].Seconds()/n, "cpu-s/batch-own")
	b.ReportMetric(cpus[1].Seconds()/n, "cpu-s/batch-stacked")
	b.ReportMetric(wall[0].Seconds()/n, "s/batch-own")
	b.ReportMetric(wall[1].Seconds()/n, "s/batch-stacked")
	b.ReportMetric(cpus[0].Seconds()/cpus[1].Seconds(), "cpu-ratio")
	b.ReportMetric(wall[0].Seconds()/wall[1].Seconds(), "wall-ratio")
}
