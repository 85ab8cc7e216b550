package jobs

import (
	"context"
	"fmt"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// segmentStateSteps is about the state-steps of one segment of a device
// rollout: a GPU steps a 512² grid in well under a millisecond, so
// segments of ~2²³ state-steps (32 steps of that grid) keep the progress
// bar moving several times a second and a cancelled rollout stops within
// about that, for a round trip over the worker's pipe (~100 µs) each.
const segmentStateSteps = 1 << 23

// maxSegment bounds a segment's steps for small rollouts.
const maxSegment = 64

// deviceRoller returns the backend's device rollouts when it has them for
// env (graph.Roller, env.Device), and host is unset: else the rollout
// steps the environment on the host (envs.Env.Run).
func deviceRoller(b graph.Backend, env *envs.Env, host bool) graph.Roller {
	r, ok := b.(graph.Roller)
	if !ok || host || env.Device == "" {
		return nil
	}
	return r
}

// deviceRollout rolls the k = len(actors) actors out on the device from
// n states each (states: k blocks of n, block j actor j's), for up to
// steps steps with discount gamma, as envs.Env.Run does on the host: the
// returns Σ γᵗ r_t, the steps taken and the terminations of the k×n
// states. It steps in segments, reporting the steps done to progress
// (as Run: at most once per step) and stopping, its device memory freed,
// when ctx is cancelled or every state has terminated.
func deviceRollout(ctx context.Context, r graph.Roller, env *envs.Env, actors []*loaders.Network, states []float64, n, steps int, gamma float64, progress func(done, total int)) (*envs.Result, error) {
	k := len(actors)
	if len(states) < k*n*env.StateDim || steps < 0 {
		return nil, fmt.Errorf("envs: %d state values for %d×%d states of %d, horizon %d", len(states), k, n, env.StateDim, steps)
	}
	states = states[:k*n*env.StateDim]
	if k*n == 0 {
		return &envs.Result{Return: []float64{}, Steps: []int32{}, Terminated: []bool{}}, nil
	}
	ro, err := r.BeginRollout(graph.RolloutRequest{Env: env.Device, Actors: actors, States: states, N: n, Gamma: gamma})
	if err != nil {
		return nil, fmt.Errorf("rollout in %s on the device: %w", env.Name, err)
	}
	seg := max(1, min(maxSegment, segmentStateSteps/max(1, k*n)))
	live := k * n
	for t := 0; t < steps && live > 0; {
		if ctx.Err() != nil {
			ro.End(nil)
			return nil, fmt.Errorf("rollout in %s on the device: %w", env.Name, ctx.Err())
		}
		m := min(seg, steps-t)
		if live, err = ro.Step(m); err != nil {
			ro.End(nil)
			return nil, fmt.Errorf("rollout in %s on the device: %w", env.Name, err)
		}
		t += m
		if progress != nil && live > 0 && t < steps {
			progress(t, steps)
		}
	}
	res := graph.RolloutResult{Return: make([]float64, k*n), Steps: make([]int32, k*n), Terminated: make([]bool, k*n)}
	if err := ro.End(&res); err != nil {
		return nil, fmt.Errorf("rollout in %s on the device: %w", env.Name, err)
	}
	if progress != nil && k*n > 0 {
		progress(steps, steps)
	}
	return &envs.Result{Return: res.Return, Steps: res.Steps, Terminated: res.Terminated}, nil
}
