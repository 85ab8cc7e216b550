package envs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

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
// results do not depend on Chunk or Workers when pol does not.
func (e *Env) Run(ctx context.Context, pol Policy, states []float64, n int, r Rollout) (*Result, error) {
	if len(states) < n*e.StateDim {
		return nil, fmt.Errorf("envs: %d state values for %d states of %d", len(states), n, e.StateDim)
	}
	if r.Steps < 0 {
		return nil, fmt.Errorf("envs: horizon %d", r.Steps)
	}
	chunk := r.Chunk
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := &Result{Return: make([]float64, n), Steps: make([]int32, n), Terminated: make([]bool, n)}
	nchunks := (n + chunk - 1) / chunk
	workers = max(1, min(workers, nchunks))
	var (
		next     atomic.Int64
		stepped  atomic.Int64 // state-steps done
		reported atomic.Int64
		progMu   sync.Mutex
		errOnce  sync.Once
		firstErr error
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err; failed.Store(true) }) }
	report := func() {
		if r.Progress == nil || n == 0 {
			return
		}
		done := int(stepped.Load() / int64(n))
		if int64(done) <= reported.Load() {
			return
		}
		progMu.Lock()
		if int64(done) > reported.Load() {
			reported.Store(int64(done))
			r.Progress(done, r.Steps)
		}
		progMu.Unlock()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBuffers(e, chunk)
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks || failed.Load() {
					return
				}
				lo, hi := c*chunk, min((c+1)*chunk, n)
				if err := e.runChunk(ctx, pol, b, states[lo*e.StateDim:hi*e.StateDim], hi-lo, r, res, lo, &stepped, report); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	report()
	return res, nil
}

// buffers are one worker's chunk arrays.
type buffers struct {
	s     []float64
	obs   []float32
	act   []float32
	rew   []float64
	done  []bool
	alive []int32 // indices (in the chunk) of live states
}

func newBuffers(e *Env, chunk int) *buffers {
	return &buffers{
		s: make([]float64, chunk*e.StateDim), obs: make([]float32, chunk*e.ObsDim), act: make([]float32, chunk*e.ActDim),
		rew: make([]float64, chunk), done: make([]bool, chunk), alive: make([]int32, chunk),
	}
}

var errCancelled = errors.New("envs: rollout cancelled")

// runChunk rolls out m states. Live states are kept packed at the front of
// the chunk: a terminal state is swapped out, so the policy and the step
// only ever see states still running.
func (e *Env) runChunk(ctx context.Context, pol Policy, b *buffers, states []float64, m int, r Rollout, res *Result, base int, stepped *atomic.Int64, report func()) error {
	sd, od, ad := e.StateDim, e.ObsDim, e.ActDim
	copy(b.s, states[:m*sd])
	for i := 0; i < m; i++ {
		b.alive[i] = int32(i)
	}
	live := m
	disc := 1.0
	ret := res.Return[base : base+m]
	t := 0
	for ; t < r.Steps && live > 0; t++ {
		if t%16 == 0 && ctx.Err() != nil {
			return errCancelled
		}
		e.Obs(b.s, live, b.obs)
		if err := pol(b.obs[:live*od], live, b.act[:live*ad]); err != nil {
			return err
		}
		e.Step(b.s, b.act, live, b.rew, b.done)
		for k := 0; k < live; k++ {
			ret[b.alive[k]] += disc * b.rew[k]
		}
		// Retire terminal states: the last live state takes their place.
		for k := 0; k < live; {
			if !b.done[k] {
				k++
				continue
			}
			i := b.alive[k]
			res.Steps[base+int(i)] = int32(t + 1)
			res.Terminated[base+int(i)] = true
			live--
			b.alive[k] = b.alive[live]
			b.done[k] = b.done[live]
			copy(b.s[k*sd:(k+1)*sd], b.s[live*sd:(live+1)*sd])
		}
		disc *= r.Gamma
		stepped.Add(int64(m))
		report()
	}
	for k := 0; k < live; k++ {
		res.Steps[base+int(b.alive[k])] = int32(r.Steps)
	}
	if t < r.Steps { // every state terminated early: the rest is done
		stepped.Add(int64(m) * int64(r.Steps-t))
		report()
	}
	return nil
}
