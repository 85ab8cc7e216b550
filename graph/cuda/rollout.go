package cuda

// Host-side parts of the device's rollouts (graph.Roller): pure Go, built
// with or without the rlcuda tag, so they are tested without a GPU
// (rollout_test.go). The kernels themselves are checked on the host by
// envs' tests (envs/device_test.go, testdata/envs_host.cpp), which also
// run the device's loop of launches there.

import (
	"errors"
	"fmt"

	"github.com/rleval/rleval/graph"
)

// devEnv is an environment whose steps the device runs: its sizes and the
// names of its two kernels in kernels.cu.
type devEnv struct {
	stateDim, obsDim, actDim int
	obs, step                string
}

// devEnvs are the environments with kernels, by envs.Env.Device name.
var devEnvs = map[string]devEnv{
	"pendulum":               {2, 3, 1, "pendulum_obs", "pendulum_step"},
	"mountaincar_continuous": {2, 2, 1, "mountaincar_obs", "mountaincar_step"},
}

// maxRolloutStates bounds K×N of one rollout on the device: int32 state
// indices in the kernels' buffers, far above the 512² grid × hundreds of
// runs a rollout holds.
const maxRolloutStates = 1 << 30

// checkRollout validates r and returns its environment.
func checkRollout(r graph.RolloutRequest) (devEnv, error) {
	env, ok := devEnvs[r.Env]
	if !ok {
		return env, fmt.Errorf("rollout: no device kernels for environment %q", r.Env)
	}
	if len(r.Actors) == 0 {
		return env, errors.New("rollout: no actors")
	}
	if err := graph.SameArchitecture(r.Actors); err != nil {
		return env, fmt.Errorf("rollout: %w", err)
	}
	if a := r.Actors[0]; a.ObsDim != env.obsDim || a.ActDim != env.actDim {
		return env, fmt.Errorf("rollout: actor %s maps %d observation values to %d actions, environment %s has %d and %d",
			a.Path, a.ObsDim, a.ActDim, r.Env, env.obsDim, env.actDim)
	}
	k := len(r.Actors)
	if r.N < 0 || int64(k)*int64(r.N) > maxRolloutStates {
		return env, fmt.Errorf("rollout: %d actors × %d states, want 0 to %d in all", k, r.N, maxRolloutStates)
	}
	if len(r.States) != k*r.N*env.stateDim {
		return env, fmt.Errorf("rollout: %d state values for %d actors × %d states of %d values", len(r.States), k, r.N, env.stateDim)
	}
	return env, nil
}

// rollLayout places the request's states on the device: a stacked
// rollout (one plan for the K actors, graph/cuda/stacked.go) interleaves
// their rows, n×k, as the stack's GEMMs read them; otherwise block j of n
// rows is actor j's, which its own plan reads.
type rollLayout struct {
	k, n        int
	interleaved bool
}

// row is the device row of state i of actor j.
func (l rollLayout) row(j, i int) int {
	if l.interleaved {
		return i*l.k + j
	}
	return j*l.n + i
}

// toDeviceOrder reorders w-value rows from the request's order (blocks) into
// the device's.
func toDeviceOrder[T any](l rollLayout, dst, src []T, w int) {
	for j := range l.k {
		for i := range l.n {
			r := l.row(j, i)
			copy(dst[r*w:(r+1)*w], src[(j*l.n+i)*w:(j*l.n+i+1)*w])
		}
	}
}

// fromDeviceOrder reorders one value per row from the device's order into
// the request's.
func fromDeviceOrder[T any](l rollLayout, dst, src []T) {
	for j := range l.k {
		for i := range l.n {
			dst[j*l.n+i] = src[l.row(j, i)]
		}
	}
}
