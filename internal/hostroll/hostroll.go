// Package hostroll is a graph.Roller on the host: the CUDA device's
// rollout (graph/cuda/rollout_device.go) step for step, with envs' Step
// and Obs for its kernels and a graph.Backend for the actors' plans. The
// tests of the worker's protocol and of the returns job use it as the
// device they have not got; its results are envs.Env.Run's to the bit
// when the backend's are whatever its chunking (the CPU plan's).
package hostroll

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
)

// Roller is a CPU backend that also rolls out on the host, as a device
// would.
type Roller struct {
	*graph.CPU
	// Begun counts the rollouts begun, Ended those ended.
	Begun, Ended atomic.Int32
}

// New returns a Roller over a CPU backend.
func New(cpu *graph.CPU) *Roller { return &Roller{CPU: cpu} }

// rollout holds, as the device does, every state with its alive flag.
type rollout struct {
	r        *Roller
	env      *envs.Env
	req      graph.RolloutRequest
	s        []float64
	obs, act []float32
	rew      []float64
	done     []bool
	alive    []bool
	res      graph.RolloutResult
	disc     float64
	ended    bool
}

// BeginRollout checks the request as the device does and copies the
// states.
func (h *Roller) BeginRollout(req graph.RolloutRequest) (graph.Rollout, error) {
	env := envs.ByDevice(req.Env)
	if env == nil {
		return nil, fmt.Errorf("rollout: no device kernels for environment %q", req.Env)
	}
	k, n := len(req.Actors), req.N
	if k == 0 {
		return nil, errors.New("rollout: no actors")
	}
	if err := graph.SameArchitecture(req.Actors); err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	if a := req.Actors[0]; a.ObsDim != env.ObsDim || a.ActDim != env.ActDim {
		return nil, fmt.Errorf("rollout: actor %s does not fit %s", a.Path, env.Name)
	}
	if n < 0 || len(req.States) != k*n*env.StateDim {
		return nil, fmt.Errorf("rollout: %d state values for %d actors × %d states of %d values", len(req.States), k, n, env.StateDim)
	}
	m := k * n
	r := &rollout{r: h, env: env, req: req, s: append([]float64(nil), req.States...),
		obs: make([]float32, m*env.ObsDim), act: make([]float32, m*env.ActDim), rew: make([]float64, m),
		done: make([]bool, m), alive: make([]bool, m), disc: 1,
		res: graph.RolloutResult{Return: make([]float64, m), Steps: make([]int32, m), Terminated: make([]bool, m)}}
	for i := range r.alive {
		r.alive[i] = true
	}
	h.Begun.Add(1)
	return r, nil
}

// Step runs steps steps: observations of every state, the actors on their
// blocks, the step of each live state, the returns accumulated.
func (r *rollout) Step(steps int) (int, error) {
	if r.ended {
		return 0, errors.New("rollout stepped after End")
	}
	e, sd := r.env, r.env.StateDim
	m := len(r.alive)
	for range steps {
		e.Obs(r.s, m, r.obs)
		if m > 0 {
			if err := r.r.StackedPolicy(r.req.Actors, r.obs, r.req.N, r.act); err != nil {
				return 0, err
			}
		}
		for i := range m {
			if r.alive[i] {
				e.Step(r.s[i*sd:(i+1)*sd], r.act[i*e.ActDim:(i+1)*e.ActDim], 1, r.rew[i:i+1], r.done[i:i+1])
				r.res.Return[i] += r.disc * r.rew[i]
				r.res.Steps[i]++
				if r.done[i] {
					r.alive[i], r.res.Terminated[i] = false, true
				}
			}
		}
		r.disc *= r.req.Gamma
	}
	live := 0
	for _, a := range r.alive {
		if a {
			live++
		}
	}
	return live, nil
}

// End copies the results into res unless it is nil.
func (r *rollout) End(res *graph.RolloutResult) error {
	if r.ended {
		return errors.New("rollout ended twice")
	}
	r.ended = true
	r.r.Ended.Add(1)
	if res != nil {
		copy(res.Return, r.res.Return)
		copy(res.Steps, r.res.Steps)
		copy(res.Terminated, r.res.Terminated)
	}
	return nil
}
