package jobs

import (
	"os"
	"strconv"
	"testing"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/internal/cputime"
	"github.com/rleval/rleval/internal/fixture"
)

// envInt is an integer from the environment, def when unset.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// BenchmarkRolloutGrid is the returns job's value-grid rollout: Pendulum-v1
// from every state of a 512² plane (RLEVAL_ROLLOUT_GRID), the demo run's
// 256×256 actor, RLEVAL_ROLLOUT_STEPS steps (default 10: the 1000
// takes an hour of a shared 2-core machine; the per-step cost is flat, so
// state-steps/s is the figure), on the CPU plan with one worker per core.
// bench/reference/rollout_torch.py does the same work in PyTorch + numpy:
//
//	/usr/bin/python3 bench/reference/rollout_torch.py --grid 512 --steps 10 --threads 2 \
//	    --run testdata/runs/2026-02-14_13-38-10_pendulum-v1
//
// state-steps/cpu-s is the figure a loaded machine does not distort.
func BenchmarkRolloutGrid(b *testing.B) {
	n, steps := envInt(b, "RLEVAL_ROLLOUT_GRID", 512), envInt(b, "RLEVAL_ROLLOUT_STEPS", 10)
	opt := DefaultOptions()
	opt.Grid = n
	c := returnsContext(b, fixture.Path(b, "runs", demoRun), opt)
	env := envOf(c)
	g := c.Grid()
	states := make([]float64, 0, 2*n*n)
	obs, s := make([]float64, env.ObsDim), make([]float64, env.StateDim)
	for iy := 0; iy < n; iy++ {
		for ix := 0; ix < n; ix++ {
			c.Plane.ObsAt(g.X.At(ix), g.Y.At(iy), obs)
			if !env.FromObs(obs, s) {
				b.Fatal("a cell of the pendulum plane is no state")
			}
			states = append(states, s...)
		}
	}
	if _, err := rollout(c, env, states, 64, 1, 0.99); err != nil { // prepare the plan
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cputime.Used()
	var r *envs.Result
	for b.Loop() {
		var err error
		if r, err = rollout(c, env, states, n*n, steps, 0.99); err != nil {
			b.Fatal(err)
		}
	}
	cpu := (cputime.Used() - cpu0).Seconds()
	work := float64(n*n*steps) * float64(b.N)
	b.ReportMetric(work/b.Elapsed().Seconds(), "state-steps/s")
	if cpu > 0 {
		b.ReportMetric(work/cpu, "state-steps/cpu-s")
		b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	}
	sum := 0.0
	for _, v := range r.Return {
		sum += v
	}
	b.ReportMetric(sum/float64(len(r.Return)), "mean-return")
}
