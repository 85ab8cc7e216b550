package jobs

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/internal/hostroll"
	"github.com/rleval/rleval/loaders"
)

// listCache is a RolloutCache over a list, counting what it hands out.
type listCache struct {
	mu    sync.Mutex
	reqs  []*RolloutRequest
	res   []*envs.Result
	taken int
}

func (l *listCache) Take(req *RolloutRequest) *envs.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.IndexFunc(l.reqs, req.Same)
	if i < 0 {
		return nil
	}
	r := l.res[i]
	l.reqs, l.res = slices.Delete(l.reqs, i, i+1), slices.Delete(l.res, i, i+1)
	l.taken++
	return r
}

// smallReturns are returns options that evaluate in a second.
func smallReturns() Options {
	opt := DefaultOptions()
	opt.Grid = 12
	opt.Only = []string{"returns"}
	opt.Returns = ReturnsOptions{Enabled: true, Episodes: 40, Horizon: 60, BufferStates: 16, Seed: 5}
	return opt
}

// TestPlannedRolloutsAreTheJobsOwn: PlanRollouts, from the run without
// its buffer, asks for exactly the episodes and grid rollouts the returns
// job does (it takes both from a cache holding them), and a run that
// takes them writes the same files, byte for byte, as one that does its
// own; a cache holding another actor's results hands out none.
func TestPlannedRolloutsAreTheJobsOwn(t *testing.T) {
	run := fixture.Path(t, "runs", demoRun)
	opt := smallReturns()
	reqs, err := PlanRollouts(context.Background(), run, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 || reqs[0].N != 40 || reqs[1].N != 144 {
		t.Fatalf("planned %d rollouts, want the 40 episodes and the 12² grid", len(reqs))
	}
	cpu := graph.NewCPU(graph.Options{})
	cache := &listCache{reqs: reqs}
	for _, q := range reqs {
		r, err := RolloutStacked(context.Background(), cpu, []*RolloutRequest{q}, 0)
		if err != nil {
			t.Fatal(err)
		}
		cache.res = append(cache.res, r[0])
	}
	own := t.TempDir()
	if _, err := Evaluate(context.Background(), run, own, opt); err != nil {
		t.Fatal(err)
	}
	taking := t.TempDir()
	withCache := opt
	withCache.Rollouts = cache
	if _, err := Evaluate(context.Background(), run, taking, withCache); err != nil {
		t.Fatal(err)
	}
	if cache.taken != 2 {
		t.Errorf("the job took %d planned rollouts, want 2", cache.taken)
	}
	for _, name := range []string{"returns.json", "episode_returns.npy", "value_grid.npy", "value_error_grid.npy", "buffer_values.npy"} {
		a, errA := os.ReadFile(filepath.Join(own, name))
		b, errB := os.ReadFile(filepath.Join(taking, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between a run's own rollouts and planned ones (%v, %v)", name, errA, errB)
		}
	}
	// Results of the target actor, planned for the same run, are not the
	// actor's: the job does its own.
	other, _ := PlanRollouts(context.Background(), run, opt)
	target, err := loaders.LoadNetwork(filepath.Join(run, "models", "actor_target.pth"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range other {
		q.Actor = target
	}
	wrong := &listCache{reqs: other, res: cache.res[:0:0]}
	for range other {
		wrong.res = append(wrong.res, &envs.Result{})
	}
	withWrong := opt
	withWrong.Rollouts = wrong
	if _, err := Evaluate(context.Background(), run, t.TempDir(), withWrong); err != nil || wrong.taken != 0 {
		t.Errorf("another actor's rollouts taken %d times (err %v)", wrong.taken, err)
	}
}

// TestRolloutStackedEqualsEachAlone: a stack of a run's actor and its
// target actor gives each the results of its own rollout, bit for bit on
// the CPU (graph.BitReproducible), stepped on the host or, on a backend
// that rolls out on its device (hostroll), as one device rollout of the
// whole stack; requests that do not stack are refused.
func TestRolloutStackedEqualsEachAlone(t *testing.T) {
	run := fixture.Path(t, "runs", demoRun)
	reqs, err := PlanRollouts(context.Background(), run, smallReturns())
	if err != nil {
		t.Fatal(err)
	}
	target, err := loaders.LoadNetwork(filepath.Join(run, "models", "actor_target.pth"))
	if err != nil {
		t.Fatal(err)
	}
	q := reqs[1] // the grid
	t2 := *q
	t2.Actor = target
	cpu := graph.NewCPU(graph.Options{})
	dev := hostroll.New(cpu)
	for _, b := range []graph.Backend{cpu, dev} {
		got, err := RolloutStacked(context.Background(), b, []*RolloutRequest{q, &t2, q}, 2)
		if err != nil {
			t.Fatal(err)
		}
		for j, a := range []*loaders.Network{q.Actor, target, q.Actor} {
			want, err := q.Env.Run(context.Background(), func(obs []float32, n int, act []float32) error { return cpu.Policy(a, obs, n, act) },
				q.States, q.N, envs.Rollout{Steps: q.Steps, Gamma: q.Gamma})
			if err != nil {
				t.Fatal(err)
			}
			if len(got[j].Return) != q.N {
				t.Fatalf("%s: actor %d has %d results, want %d", b.Name(), j, len(got[j].Return), q.N)
			}
			for i := range want.Return {
				g, w := got[j].Return[i], want.Return[i]
				if graph.BitReproducible && g != w || !graph.BitReproducible && !closeRel(g, w, 1e-4) {
					t.Fatalf("%s: actor %d state %d: stacked %v, alone %v", b.Name(), j, i, g, w)
				}
			}
		}
		if slices.Equal(got[0].Return, got[1].Return) {
			t.Error("the actor and its target gave the same returns: the test needs two policies")
		}
	}
	if b, e := dev.Begun.Load(), dev.Ended.Load(); b != 1 || e != 1 {
		t.Errorf("the stack made %d device rollouts (%d ended), want 1", b, e)
	}
	if _, err := RolloutStacked(context.Background(), cpu, []*RolloutRequest{reqs[0], reqs[1]}, 0); err == nil {
		t.Error("episodes and grid stacked: they start from different states")
	}
}

// closeRel reports whether a is within rel of b, relatively (OpenBLAS
// builds, where a row's rounding depends on its position: ANALYSES.md's
// tolerance).
func closeRel(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(b), 1)
}
