package batch

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/loaders"
)

// countingCPU is the CPU backend posing as a GPU (DeviceInfo), recording
// its stacked policy calls, and failing every evaluation of the actors
// whose path holds failOn (a device that cannot evaluate one run's
// actor).
type countingCPU struct {
	*graph.CPU
	failOn string

	mu     sync.Mutex
	stacks map[string]int // calls by "k=K obs=D"
}

func newCountingCPU(failOn string) *countingCPU {
	return &countingCPU{CPU: graph.NewCPU(graph.Options{}), failOn: failOn, stacks: map[string]int{}}
}

func (c *countingCPU) DeviceInfo() graph.DeviceInfo { return graph.DeviceInfo{Name: "counting CPU"} }

func (c *countingCPU) fails(a *loaders.Network) error {
	if c.failOn != "" && strings.Contains(a.Path, c.failOn) {
		return fmt.Errorf("device cannot evaluate %s", a.Path)
	}
	return nil
}

func (c *countingCPU) Policy(a *loaders.Network, obs []float32, n int, act []float32) error {
	if err := c.fails(a); err != nil {
		return err
	}
	return c.CPU.Policy(a, obs, n, act)
}

func (c *countingCPU) StackedPolicy(actors []*loaders.Network, obs []float32, n int, act []float32) error {
	c.mu.Lock()
	c.stacks[fmt.Sprintf("k=%d obs=%d", len(actors), actors[0].ObsDim)]++
	c.mu.Unlock()
	for _, a := range actors {
		if err := c.fails(a); err != nil {
			return err
		}
	}
	return c.CPU.StackedPolicy(actors, obs, n, act)
}

// stackExperiments builds runs for the stacked rollouts: four pendulum
// runs of one architecture (two with the demo's actor, two with its
// target actor as theirs), a run of another architecture, one whose actor
// file is truncated, and two mountain car runs.
func stackExperiments(t *testing.T) string {
	root := filepath.Join(t.TempDir(), "experiments")
	pendulumRuns(t, root, "2026-05-01_00-00-0%d_pend-%c", 4)
	dir := filepath.Join(root, "2026-05-01_00-00-04_pend-truncated")
	copyTree(t, fixture.Path(t, "runs", demoRun), dir)
	copyFile(t, fixture.Path(t, "bad", "ckpt_truncated_half.pth"), filepath.Join(dir, "models", "actor.pth"))
	copyTree(t, fixture.Path(t, "runs", "2026-03-01_10-00-00_pendulum-legacy"), filepath.Join(root, "2026-05-02_00-00-00_legacy"))
	for _, name := range []string{"mc-a", "mc-b"} {
		copyTree(t, fixture.Path(t, "runs-rollout", "2026-09-01_10-00-00_mountaincar-pump"), filepath.Join(root, "2026-05-03_00-00-00_"+name))
	}
	return root
}

// pendulumRuns makes n copies of the demo run under root, named by
// format with their index and a letter, the odd ones with the demo's
// target actor as their actor: two policies of one architecture.
func pendulumRuns(t testing.TB, root, format string, n int) {
	demo := fixture.Path(t, "runs", demoRun)
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, fmt.Sprintf(format, i, 'a'+i))
		copyTree(t, demo, dir)
		if i%2 == 1 {
			copyFile(t, filepath.Join(demo, "models", "actor_target.pth"), filepath.Join(dir, "models", "actor.pth"))
		}
	}
}

// stackOptions are small returns-only evaluations.
func stackOptions() jobs.Options {
	opt := jobs.DefaultOptions()
	opt.Grid = 12
	opt.Only = []string{"returns"}
	opt.Returns = jobs.ReturnsOptions{Enabled: true, Episodes: 40, Horizon: 60, BufferStates: 16, Seed: 5}
	return opt
}

// stackedBatch is a batch over root whose rollouts are done ahead on b.
func stackedBatch(root, out string, b graph.Backend, wave int) (*Batch, *Rollouts) {
	opt := stackOptions()
	rs := NewRollouts(opt, b)
	rs.Wave = wave
	opt.Rollouts = rs
	eval := func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
		o := opt
		o.Engine = graph.NewEngine(b, graph.Options{})
		return jobs.Evaluate(ctx, runDir, outDir, o)
	}
	return &Batch{Root: root, Out: out, Workers: 2, Evaluate: eval, Options: "test", Rollouts: rs, Force: true}, rs
}

// rolloutFiles are the returns job's outputs.
var rolloutFiles = []string{"returns.json", "episode_returns.npy", "value_grid.npy", "value_error_grid.npy", "buffer_values.npy"}

// sameRolloutFiles compares run name's returns outputs in two batch
// outputs: byte for byte where the CPU is bit-reproducible, else the
// arrays within 1e-4 relative (OpenBLAS rounds by a row's position).
func sameRolloutFiles(t *testing.T, name, got, want string) {
	t.Helper()
	for _, f := range rolloutFiles {
		a, errA := os.ReadFile(filepath.Join(got, name, f))
		b, errB := os.ReadFile(filepath.Join(want, name, f))
		if os.IsNotExist(errA) && os.IsNotExist(errB) {
			continue // a run without a buffer or critics
		}
		if errA != nil || errB != nil {
			t.Errorf("%s/%s: %v, %v", name, f, errA, errB)
			continue
		}
		if graph.BitReproducible {
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s differs from the run's own rollouts", name, f)
			}
			continue
		}
		if strings.HasSuffix(f, ".npy") {
			x, _ := fixture.ReadNPY(t, filepath.Join(got, name, f))
			y, _ := fixture.ReadNPY(t, filepath.Join(want, name, f))
			for i := range y {
				if d := math.Abs(float64(x[i] - y[i])); d > 1e-4*math.Max(1, math.Abs(float64(y[i]))) {
					t.Errorf("%s/%s[%d] = %v, own rollouts %v", name, f, i, x[i], y[i])
					break
				}
			}
		}
	}
}

// TestBatchStacksCompatibleRunsRollouts: a batch does the rollouts of
// runs that share environment, actor architecture, γ, horizon, episodes,
// seed and plane together, one stacked policy call per step for all their
// actors (here four pendulum runs and two mountain car runs, two stacks),
// leaves the others to their own (another architecture, a truncated
// actor), and every run writes the same files as when it does its own
// rollouts; a device that fails one actor of a stack fails that run
// alone, the rest of its stack doing their own.
func TestBatchStacksCompatibleRunsRollouts(t *testing.T) {
	root := stackExperiments(t)
	opt := stackOptions()
	own := filepath.Join(t.TempDir(), "own")
	ownEval := func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
		return jobs.Evaluate(ctx, runDir, outDir, opt)
	}
	ownRes := mustRun(t, &Batch{Root: root, Out: own, Workers: 2, Evaluate: ownEval, Options: "test"})
	ownRows := rowsByName(ownRes.Runs)

	cpu := newCountingCPU("")
	out := filepath.Join(t.TempDir(), "stacked")
	b, rs := stackedBatch(root, out, cpu, 0)
	res := mustRun(t, b)
	if cpu.stacks["k=4 obs=3"] == 0 || cpu.stacks["k=2 obs=2"] == 0 || len(cpu.stacks) != 2 {
		t.Errorf("stacked policy calls %v, want stacks of the 4 pendulum and the 2 mountain car actors only", cpu.stacks)
	}
	if got := rs.Taken(); got != 2*6 {
		t.Errorf("runs took %d stacked rollouts, want 12 (episodes and grid of 6 runs)", got)
	}
	if len(rs.ready) != 0 {
		t.Errorf("%d runs' stacked rollouts left after the batch", len(rs.ready))
	}
	for _, r := range res.Runs {
		if want := ownRows[r.Out]; r.Status != want.Status {
			t.Errorf("%s: status %s (%s), on its own %s", r.Name, r.Status, r.Error, want.Status)
		}
		sameRolloutFiles(t, r.Out, out, own)
	}
	if r := rowsByName(res.Runs)["2026-05-01_00-00-04_pend-truncated"]; r.Status != jobs.StatusFailed || !strings.Contains(r.Error, "actor.pth") {
		t.Errorf("truncated actor's run: %s %q", r.Status, r.Error)
	}

	// One actor of the pendulum stack fails on the device, in waves of 3.
	bad := newCountingCPU("pend-c")
	out2 := filepath.Join(t.TempDir(), "failing")
	b2, rs2 := stackedBatch(root, out2, bad, 3)
	// Results wait only for the runs of the wave being fed and those
	// still running: at most Wave + Workers runs' at any time.
	held, eval := 0, b2.Evaluate
	b2.Evaluate = func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
		rs2.mu.Lock()
		held = max(held, len(rs2.keys))
		rs2.mu.Unlock()
		return eval(ctx, runDir, outDir)
	}
	res2 := mustRun(t, b2)
	if held == 0 || held > 3+b2.Workers {
		t.Errorf("results of %d runs held at once, want 1 to %d (a wave and the runs running)", held, 3+b2.Workers)
	}
	if bad.stacks["k=3 obs=3"] == 0 {
		t.Errorf("stacked policy calls %v, want the first wave's three pendulum actors stacked", bad.stacks)
	}
	if got := rs2.Taken(); got != 2*2 {
		t.Errorf("runs took %d stacked rollouts, want 4 (the mountain car runs')", got)
	}
	for _, r := range res2.Runs {
		if strings.HasSuffix(r.Out, "pend-c") {
			if r.Status != jobs.StatusFailed || !strings.Contains(r.Error, "device cannot evaluate") {
				t.Errorf("%s: status %s %q, want its returns job failed by the device", r.Name, r.Status, r.Error)
			}
			continue
		}
		if want := ownRows[r.Out]; r.Status != want.Status {
			t.Errorf("%s: status %s (%s) beside a failing actor, on its own %s", r.Name, r.Status, r.Error, want.Status)
		}
		sameRolloutFiles(t, r.Out, out2, own)
	}
}

// TestRolloutsAheadOnlyOnAGPU: a batch does its runs' rollouts ahead only
// on a GPU and with the returns job on; on the CPU, where a stack is a
// loop over the actors, each run does its own.
func TestRolloutsAheadOnlyOnAGPU(t *testing.T) {
	opt := stackOptions()
	if NewRollouts(opt, graph.NewCPU(graph.Options{})) != nil {
		t.Error("rollouts done ahead on the CPU")
	}
	if NewRollouts(opt, newCountingCPU("")) == nil {
		t.Error("no rollouts done ahead on a GPU")
	}
	opt.Returns.Enabled = false
	if NewRollouts(opt, newCountingCPU("")) != nil {
		t.Error("rollouts done ahead with --no-returns")
	}
	var none *Rollouts
	if none.Take(&jobs.RolloutRequest{}) != nil {
		t.Error("a nil Rollouts handed out a result")
	}
}
