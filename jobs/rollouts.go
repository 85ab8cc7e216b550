package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// RolloutRequest is one rollout the returns job does: the deterministic
// policy of a run's actor from N states of Env, Steps steps each,
// rewards discounted by Gamma.
type RolloutRequest struct {
	// Run is the run's folder (loaders.Run.Dir).
	Run    string
	Env    *envs.Env
	Actor  *loaders.Network
	States []float64 // N×Env.StateDim
	N      int
	Steps  int
	Gamma  float64
	// HostSteps steps the environment on the host even when the backend
	// could on its device (ReturnsOptions.HostSteps).
	HostSteps bool
}

// RolloutCache holds rollouts done before a run's evaluation (see
// Options.Rollouts).
type RolloutCache interface {
	// Take returns the result of the rollout req asks for, done before,
	// and forgets it; nil when it holds none. A result is req's only if
	// it was done for req's run from the same states, horizon and
	// discount, with an actor of the same weights.
	Take(req *RolloutRequest) *envs.Result
}

// StacksWith says why q and o cannot be done as one stacked rollout
// (RolloutStacked), or nil when they can: the same environment, states,
// horizon and discount, and actors of one architecture
// (graph.SameArchitecture).
func (q *RolloutRequest) StacksWith(o *RolloutRequest) error {
	switch {
	case q.Env != o.Env:
		return fmt.Errorf("%s rolls out in %s, %s in %s", q.Run, q.Env.Name, o.Run, o.Env.Name)
	case q.N != o.N || q.Steps != o.Steps || math.Float64bits(q.Gamma) != math.Float64bits(o.Gamma):
		return fmt.Errorf("%s rolls out %d states %d steps with γ = %v, %s %d states %d steps with γ = %v", q.Run, q.N, q.Steps, q.Gamma, o.Run, o.N, o.Steps, o.Gamma)
	case !sameStates(q.States[:q.N*q.Env.StateDim], o.States[:o.N*o.Env.StateDim]):
		return fmt.Errorf("%s and %s roll out from different states", q.Run, o.Run)
	}
	return graph.SameArchitecture([]*loaders.Network{q.Actor, o.Actor})
}

// Same reports whether q and o ask for the same rollout: the same run,
// StacksWith, and actors equal in every field and weight.
func (q *RolloutRequest) Same(o *RolloutRequest) bool {
	return q.Run == o.Run && q.StacksWith(o) == nil && reflect.DeepEqual(q.Actor, o.Actor)
}

// sameStates compares states bit for bit.
func sameStates(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// PlanRollouts returns the rollouts the returns job will do when it
// evaluates the run in runDir with opt, of those that do not depend on
// the run's replay buffer: its episodes and, when its maps' plane is its
// preset's own (every observation on the preset's axes), its grid. It
// loads the run without its buffer and logs. None, and no error, when the
// job would not run; an error when the run cannot be loaded (its
// evaluation then says why).
func PlanRollouts(ctx context.Context, runDir string, opt Options) ([]*RolloutRequest, error) {
	load := opt.Load
	load.SkipBuffer, load.LogsLater = true, true
	r, err := loadRun(ctx, runDir, load)
	if err != nil {
		return nil, err
	}
	c := &Context{Run: r, Opt: opt, ctx: ctx}
	j := returnsJob
	if opt.CoreOnly && !j.Core || len(opt.Only) > 0 && !slices.Contains(opt.Only, j.Name) || !j.Applies(c) || j.Needs(c) != nil {
		return nil, nil
	}
	gamma, err := configGamma(r.Dir)
	if err != nil {
		return nil, err
	}
	env, o, actor := envOf(c), opt.Returns.orDefaults(), r.Net(loaders.RoleActor)
	reqs := []*RolloutRequest{{Run: r.Dir, Env: env, Actor: actor, States: env.ResetStates(o.Seed, o.Episodes), N: o.Episodes, Steps: env.MaxSteps, Gamma: 1, HostSteps: o.HostSteps}}
	if pl, err := ResolvePlane(r, opt.Plane); err == nil && presetPlane(pl) {
		c.Plane = pl
		states, at := gridStates(c, env)
		reqs = append(reqs, &RolloutRequest{Run: r.Dir, Env: env, Actor: actor, States: states, N: len(at), Steps: o.Horizon, Gamma: gamma, HostSteps: o.HostSteps})
	}
	return reqs, nil
}

// presetPlane reports whether every observation of pl's points follows
// from the axes of its preset alone: the plane, and so the grid's states,
// are then the same with or without the run's buffer (which sets the
// values off the plane and the ranges of other axes).
func presetPlane(pl *Plane) bool {
	p := PresetByName(pl.Preset)
	if p == nil || len(pl.Fixed) > 0 {
		return false
	}
	axis := func(key string) bool {
		return slices.ContainsFunc(p.Axes[:], func(a PresetAxis) bool { return a.Key == key })
	}
	return axis(pl.X.Key) && axis(pl.Y.Key)
}

// RolloutStacked does the rollouts reqs ask for, which must stack
// (StacksWith), as one envs.RunStacked: the backend's stacked policy
// (graph.AsStacked) is called once per step and chunk for every actor,
// workers chunks at once (0: GOMAXPROCS). Result j is reqs[j]'s, the same
// bit for bit as its own rollout's on the CPU; on a GPU each step's
// GEMMs serve all the actors. The caller forgets the actors on the
// backend when it is done with them.
func RolloutStacked(ctx context.Context, b graph.Backend, reqs []*RolloutRequest, workers int) ([]*envs.Result, error) {
	if len(reqs) == 0 {
		return nil, errors.New("stacked rollout of no runs")
	}
	q0 := reqs[0]
	k, n := len(reqs), q0.N
	sd := q0.Env.StateDim
	actors := make([]*loaders.Network, k)
	states := make([]float64, 0, k*n*sd)
	for j, q := range reqs {
		if err := q0.StacksWith(q); err != nil {
			return nil, fmt.Errorf("stacked rollout: %w", err)
		}
		actors[j] = q.Actor
		states = append(states, q.States[:n*sd]...)
	}
	if r := deviceRoller(b, q0.Env, q0.HostSteps); r != nil { // the environment stepped on the device too
		res, err := deviceRollout(ctx, r, q0.Env, actors, states, n, q0.Steps, q0.Gamma, nil)
		if err != nil {
			return nil, err
		}
		return splitResult(res, k, n), nil
	}
	st := graph.AsStacked(b)
	pol := func(obs []float32, _, n int, act []float32) error { return st.StackedPolicy(actors, obs, n, act) }
	return q0.Env.RunStacked(ctx, pol, k, states, n, envs.Rollout{Steps: q0.Steps, Gamma: q0.Gamma, Workers: workers})
}

// splitResult cuts the result of k blocks of n states into one per block.
func splitResult(r *envs.Result, k, n int) []*envs.Result {
	out := make([]*envs.Result, k)
	for j := range out {
		lo, hi := j*n, (j+1)*n
		out[j] = &envs.Result{Return: r.Return[lo:hi:hi], Steps: r.Steps[lo:hi:hi], Terminated: r.Terminated[lo:hi:hi]}
	}
	return out
}
