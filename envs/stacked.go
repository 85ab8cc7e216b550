package envs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// StackedPolicy writes the actions of k policies, each for its own block
// of n observations: obs holds k blocks of n×ObsDim values, block j
// policy j's, and act k blocks of n×ActDim. It is called from several
// goroutines at once. (graph.Stacked's StackedPolicy over k actors is
// one.)
type StackedPolicy func(obs []float32, k, n int, act []float32) error

// RunStacked rolls k policies out at once, policy j from block j of
// states (k blocks of n states, StateDim values each, not modified), for
// up to r.Steps steps each, stopping a state at a terminal one. Chunk i
// of every block is stepped by one worker, the policy called once per
// step for the live states of all k blocks of it; a block with fewer
// live states than another is padded with rows whose actions are not
// used, so that every call has k blocks of one size (a GPU keeps one
// stack of the k actors). Result j is block j's: Run's with policy j
// alone, bit for bit, when a row's action does not depend on the other
// rows of the call (as on rleval's CPU backend, graph.BitReproducible).
// Progress counts the steps of all k·n states.
func (e *Env) RunStacked(ctx context.Context, pol StackedPolicy, k int, states []float64, n int, r Rollout) ([]*Result, error) {
	if k < 1 || n < 0 {
		return nil, fmt.Errorf("envs: %d blocks of %d states", k, n)
	}
	if len(states) < k*n*e.StateDim {
		return nil, fmt.Errorf("envs: %d state values for %d blocks of %d states of %d", len(states), k, n, e.StateDim)
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
	res := make([]*Result, k)
	for j := range res {
		res[j] = &Result{Return: make([]float64, n), Steps: make([]int32, n), Terminated: make([]bool, n)}
	}
	nchunks := (n + chunk - 1) / chunk
	workers = max(1, min(workers, nchunks))
	run := &stackRun{e: e, pol: pol, k: k, n: n, r: r, states: states, res: res}
	var (
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBuffers(e, k, chunk)
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks || failed.Load() {
					return
				}
				if err := run.chunk(ctx, b, c*chunk, min((c+1)*chunk, n)); err != nil {
					errOnce.Do(func() { firstErr = err; failed.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	run.report()
	return res, nil
}

// stackRun is one RunStacked call: what its workers share.
type stackRun struct {
	e      *Env
	pol    StackedPolicy
	k, n   int
	r      Rollout
	states []float64
	res    []*Result

	stepped  atomic.Int64 // state-steps done, over all blocks
	reported atomic.Int64
	progMu   sync.Mutex
}

// report calls Progress when the steps done of every state have grown.
func (s *stackRun) report() {
	total := int64(s.k) * int64(s.n)
	if s.r.Progress == nil || total == 0 {
		return
	}
	done := s.stepped.Load() / total
	if done <= s.reported.Load() {
		return
	}
	s.progMu.Lock()
	if done > s.reported.Load() {
		s.reported.Store(done)
		s.r.Progress(int(done), s.r.Steps)
	}
	s.progMu.Unlock()
}

// buffers are one worker's chunk arrays, one block per policy: states,
// rewards, terminal flags and live indices of block j start at
// j×chunk states; observations and actions are packed per step, block j
// at j×(the step's rows).
type buffers struct {
	chunk int
	s     []float64
	obs   []float32
	act   []float32
	rew   []float64
	done  []bool
	alive []int32 // indices (in the chunk) of live states
	live  []int   // live states per block
}

func newBuffers(e *Env, k, chunk int) *buffers {
	m := k * chunk
	return &buffers{
		chunk: chunk, s: make([]float64, m*e.StateDim), obs: make([]float32, m*e.ObsDim), act: make([]float32, m*e.ActDim),
		rew: make([]float64, m), done: make([]bool, m), alive: make([]int32, m), live: make([]int, k),
	}
}

var errCancelled = errors.New("envs: rollout cancelled")

// chunk rolls out states lo to hi of every block. Live states are kept
// packed at the front of their block: a terminal state is swapped out,
// so the step only ever sees states still running.
func (s *stackRun) chunk(ctx context.Context, b *buffers, lo, hi int) error {
	e, k := s.e, s.k
	sd, od, ad := e.StateDim, e.ObsDim, e.ActDim
	m := hi - lo
	for j := 0; j < k; j++ {
		copy(b.s[j*b.chunk*sd:], s.states[(j*s.n+lo)*sd:(j*s.n+hi)*sd])
		alive := b.alive[j*b.chunk : j*b.chunk+m]
		for i := range alive {
			alive[i] = int32(i)
		}
		b.live[j] = m
	}
	disc := 1.0
	t := 0
	for ; t < s.r.Steps; t++ {
		rows := 0 // the step's rows per block: its most live states
		for _, l := range b.live {
			rows = max(rows, l)
		}
		if rows == 0 {
			break
		}
		if t%16 == 0 && ctx.Err() != nil {
			return errCancelled
		}
		for j := 0; j < k; j++ {
			e.Obs(b.s[j*b.chunk*sd:], b.live[j], b.obs[j*rows*od:])
		}
		if err := s.pol(b.obs[:k*rows*od], k, rows, b.act[:k*rows*ad]); err != nil {
			return err
		}
		for j := 0; j < k; j++ {
			s.step(b, j, lo, t, disc, b.act[j*rows*ad:])
		}
		disc *= s.r.Gamma
		s.stepped.Add(int64(k * m))
		s.report()
	}
	for j := 0; j < k; j++ {
		for _, i := range b.alive[j*b.chunk : j*b.chunk+b.live[j]] {
			s.res[j].Steps[lo+int(i)] = int32(s.r.Steps)
		}
	}
	if t < s.r.Steps { // every state terminated early: the rest is done
		s.stepped.Add(int64(k*m) * int64(s.r.Steps-t))
		s.report()
	}
	return nil
}

// step advances block j's live states by step t's actions, adds the
// discounted rewards to their returns and retires the terminal ones: the
// last live state takes each one's place.
func (s *stackRun) step(b *buffers, j, lo, t int, disc float64, act []float32) {
	live := b.live[j]
	if live == 0 {
		return
	}
	sd := s.e.StateDim
	off := j * b.chunk
	st := b.s[off*sd:]
	rew, done, alive := b.rew[off:off+live], b.done[off:off+live], b.alive[off:off+live]
	s.e.Step(st, act, live, rew, done)
	res := s.res[j]
	ret := res.Return[lo:]
	for i := range alive {
		ret[alive[i]] += disc * rew[i]
	}
	for i := 0; i < live; {
		if !done[i] {
			i++
			continue
		}
		res.Steps[lo+int(alive[i])] = int32(t + 1)
		res.Terminated[lo+int(alive[i])] = true
		live--
		alive[i], done[i] = alive[live], done[live]
		copy(st[i*sd:(i+1)*sd], st[live*sd:(live+1)*sd])
	}
	b.live[j] = live
}
