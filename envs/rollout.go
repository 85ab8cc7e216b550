package envs

import "context"

// Policy writes the actions of n observations (ObsDim float32 values each)
// into act (ActDim each). It is called from several goroutines at once.
type Policy func(obs []float32, n int, act []float32) error

// DefaultChunk is the states a worker steps together: its observations,
// actions and a 256-wide actor's activations (about 1 MiB) stay in cache
// from one step to the next.
const DefaultChunk = 1024

// Rollout configures Run.
type Rollout struct {
	// Steps is the horizon: at most Steps steps from each state.
	Steps int
	// Gamma discounts reward t by Gamma^t (1 for undiscounted returns).
	Gamma float64
	// Chunk is the states stepped together (0: DefaultChunk); Workers the
	// chunks stepped at once (0: GOMAXPROCS).
	Chunk, Workers int
	// Progress, when set, is called with the steps done of every state
	// so far (the state-steps over the states, rounded down) and Steps,
	// one call at a time, at most once per step.
	Progress func(done, total int)
}

// Result is the rollout of each state.
type Result struct {
	// Return is Σ_{t<T} γ^t r_t, T the steps taken.
	Return []float64
	// Steps is T: Steps, or fewer when a terminal state came first.
	Steps []int32
	// Terminated says whether the state reached a terminal state.
	Terminated []bool
}

// Run rolls the policy out from n states (StateDim values each, not
// modified) for up to r.Steps steps, stopping a state at a terminal one:
// the states are cut into chunks, and each worker steps a chunk's states
// together, the policy called once per step for the whole chunk. The
// results do not depend on Chunk or Workers when pol does not. It is
// RunStacked with one policy.
func (e *Env) Run(ctx context.Context, pol Policy, states []float64, n int, r Rollout) (*Result, error) {
	res, err := e.RunStacked(ctx, func(obs []float32, _, n int, act []float32) error { return pol(obs, n, act) }, 1, states, n, r)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}
