package graph

import (
	"errors"
	"fmt"
	"sync"

	"github.com/rleval/rleval/loaders"
)

// Rows is a source of input rows produced chunk by chunk, so a large grid
// never holds all its inputs in memory.
type Rows interface {
	// Len is the number of rows.
	Len() int
	// Dim is the number of values per row.
	Dim() int
	// Fill writes rows start..start+n-1 into dst (n×Dim values, row-major).
	Fill(start, n int, dst []float32)
}

// ChunkFunc receives one finished chunk: the rows start..start+n-1 of each
// output, in the order the workload documents. Calls come one at a time and
// in row order; the slices are reused once it returns.
type ChunkFunc func(start int, vals ...[]float32) error

// Engine evaluates workloads over Rows on a Backend: it cuts the rows into
// chunks and runs Workers chunks at once, each worker with its own buffers
// (kept between calls, so a call allocates nothing per chunk). An Engine
// runs one workload at a time; concurrent calls wait, and callbacks must not
// call back into the same Engine.
type Engine struct {
	b              Backend
	chunk, workers int

	// Progress, when set, is called after every chunk with the rows done so
	// far and the total, one call at a time.
	Progress func(done, total int)

	mu    sync.Mutex
	state []*engineWorker
	// stdCPU evaluates PolicyStd when the backend is no StdBackend.
	stdCPU *CPU
}

// engineWorker holds one worker's chunk buffers.
type engineWorker struct {
	in  [2][]float32
	out [6][]float32
}

// NewEngine returns an Engine over b. Options left zero take the backend's
// preference (see Preferences), else DefaultCPUChunk rows and one worker.
func NewEngine(b Backend, opts Options) *Engine {
	e := &Engine{b: b, chunk: opts.Chunk, workers: opts.Workers}
	pc, pw := DefaultCPUChunk, 1
	if p, ok := b.(Preferences); ok {
		pc, pw = p.Preferred()
	}
	if e.chunk <= 0 {
		e.chunk = pc
	}
	if e.workers <= 0 {
		e.workers = pw
	}
	return e
}

// Forget tells the backend that nets will not be evaluated again, so it can
// release what it prepared for them (see Forgetter).
func (e *Engine) Forget(nets ...*loaders.Network) error {
	f, ok := e.b.(Forgetter)
	if !ok {
		return nil
	}
	var errs []error
	for _, n := range nets {
		if n != nil {
			errs = append(errs, f.Forget(n))
		}
	}
	return errors.Join(errs...)
}

// Backend returns the backend the engine runs on.
func (e *Engine) Backend() Backend { return e.b }

// job is one workload: its inputs, output widths and per-chunk evaluation.
type job struct {
	srcs   []Rows
	widths []int       // values per row of each output; 0 = not produced
	dst    [][]float32 // caller's full outputs, nil entries use worker buffers
	stream ChunkFunc
	eval   func(in, out [][]float32, n int) error
	// delivered is how many leading outputs the stream receives; the rest
	// are per-worker temporaries. 0 means all.
	delivered int
}

func (e *Engine) run(j *job) error {
	total := j.srcs[0].Len()
	for _, s := range j.srcs[1:] {
		if s.Len() != total {
			return fmt.Errorf("graph: inputs have %d and %d rows", total, s.Len())
		}
	}
	for i, w := range j.widths {
		if j.dst[i] != nil && len(j.dst[i]) < total*w {
			return fmt.Errorf("graph: output %d has %d values, want %d (%d rows × %d)", i, len(j.dst[i]), total*w, total, w)
		}
	}
	if total == 0 {
		return nil
	}
	nchunks := (total + e.chunk - 1) / e.chunk
	workers := min(e.workers, nchunks)

	e.mu.Lock()
	for len(e.state) < workers {
		e.state = append(e.state, &engineWorker{})
	}
	ws := e.state[:workers]
	defer e.mu.Unlock()

	var (
		mu       sync.Mutex
		cond     = sync.NewCond(&mu)
		next     int // next chunk to hand out
		turn     int // next chunk to deliver
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	work := func(w *engineWorker) {
		defer wg.Done()
		in := make([][]float32, len(j.srcs))
		out := make([][]float32, len(j.widths))
		for {
			mu.Lock()
			k := next
			next++
			stop := firstErr != nil
			mu.Unlock()
			if stop || k >= nchunks {
				return
			}
			start := k * e.chunk
			n := min(e.chunk, total-start)
			for i, s := range j.srcs {
				w.in[i] = growF32(w.in[i], e.chunk*s.Dim())
				in[i] = w.in[i][:n*s.Dim()]
				s.Fill(start, n, in[i])
			}
			for i, wd := range j.widths {
				switch {
				case wd == 0:
					out[i] = nil
				case j.dst[i] != nil:
					out[i] = j.dst[i][start*wd : (start+n)*wd]
				default:
					w.out[i] = growF32(w.out[i], e.chunk*wd)
					out[i] = w.out[i][:n*wd]
				}
			}
			err := j.eval(in, out, n)

			mu.Lock()
			if j.stream != nil {
				for turn != k && firstErr == nil {
					cond.Wait()
				}
			}
			if err == nil && firstErr == nil && j.stream != nil {
				vals := out
				if j.delivered > 0 {
					vals = out[:j.delivered]
				}
				err = j.stream(start, vals...)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			done += n
			if firstErr == nil && e.Progress != nil {
				e.Progress(done, total)
			}
			turn++
			cond.Broadcast()
			mu.Unlock()
		}
	}
	wg.Add(workers)
	for _, w := range ws[1:] {
		go work(w)
	}
	work(ws[0])
	wg.Wait()
	return firstErr
}

// combineQ writes the twin critics' Q into m: min(q1, q2) for critics
// (TD3 and SAC's clipped double Q), their mean for quantile critics (TQC's
// Q is the mean of all quantiles of all critics).
func combineQ(kind loaders.NetKind, q1, q2, m []float32) {
	m = m[:len(q1)]
	q2 = q2[:len(q1)]
	if kind == loaders.KindQuantileCritic {
		for i, v := range q1 {
			m[i] = (v + q2[i]) / 2
		}
		return
	}
	for i, v := range q1 {
		m[i] = min(v, q2[i])
	}
}

func checkDims(what string, r Rows, dim int) error {
	if r.Dim() != dim {
		return fmt.Errorf("graph: %s rows have %d values, the network reads %d", what, r.Dim(), dim)
	}
	return nil
}

// Policy writes the actor's action for every row of obs into act
// (Len×ActDim values).
func (e *Engine) Policy(actor *loaders.Network, obs Rows, act []float32) error {
	if act == nil {
		return fmt.Errorf("graph: Policy needs an output slice")
	}
	return e.policy(actor, obs, act, nil)
}

// PolicyStream evaluates the actor chunk by chunk and hands each chunk's
// actions to fn as fn(start, act).
func (e *Engine) PolicyStream(actor *loaders.Network, obs Rows, fn ChunkFunc) error {
	return e.policy(actor, obs, nil, fn)
}

func (e *Engine) policy(actor *loaders.Network, obs Rows, act []float32, fn ChunkFunc) error {
	if actor == nil {
		return fmt.Errorf("graph: Policy needs an actor")
	}
	if err := checkDims("observation", obs, actor.ObsDim); err != nil {
		return err
	}
	return e.run(&job{
		srcs:   []Rows{obs},
		widths: []int{actor.ActDim},
		dst:    [][]float32{act},
		stream: fn,
		eval: func(in, out [][]float32, n int) error {
			return e.b.Policy(actor, in[0], n, out[0])
		},
	})
}

// PolicyStd writes a SAC actor's policy standard deviation,
// exp(clamp(log_std, LogStdMin, LogStdMax)) of the log_std half of its last
// layer (its 2×ActDim outputs are the mean, then log_std), for every row of
// obs into std (Len×ActDim values, row-major). Other kinds are an error.
func (e *Engine) PolicyStd(actor *loaders.Network, obs Rows, std []float32) error {
	if actor == nil {
		return fmt.Errorf("graph: PolicyStd needs an actor")
	}
	if actor.Kind != loaders.KindSACActor {
		return fmt.Errorf("graph: %s is a %s: only a SAC actor has a policy std", actor.Path, actor.Kind)
	}
	if std == nil {
		return fmt.Errorf("graph: PolicyStd needs an output slice")
	}
	if err := checkDims("observation", obs, actor.ObsDim); err != nil {
		return err
	}
	sb, ok := e.b.(StdBackend)
	if !ok {
		e.mu.Lock()
		if e.stdCPU == nil {
			e.stdCPU = NewCPU(Options{Workers: e.workers, Chunk: e.chunk})
		}
		sb = e.stdCPU
		e.mu.Unlock()
	}
	return e.run(&job{
		srcs:   []Rows{obs},
		widths: []int{actor.ActDim},
		dst:    [][]float32{std},
		eval: func(in, out [][]float32, n int) error {
			return sb.PolicyStd(actor, in[0], n, out[0])
		},
	})
}

// Q writes the critics' values at (obs, act) into q1, q2 and their
// combination into qmin (Len values each): the minimum, or for quantile
// critics the mean (see combineQ). c2 may be nil (then q2 and qmin are not
// written); any output may be nil when not wanted.
func (e *Engine) Q(c1, c2 *loaders.Network, obs, act Rows, q1, q2, qmin []float32) error {
	return e.q(c1, c2, obs, act, [][]float32{q1, q2, qmin}, nil)
}

// QStream evaluates the critics at (obs, act) chunk by chunk and hands each
// chunk to fn as fn(start, q1, q2, qmin); with c2 nil, q2 and qmin are nil.
func (e *Engine) QStream(c1, c2 *loaders.Network, obs, act Rows, fn ChunkFunc) error {
	return e.q(c1, c2, obs, act, [][]float32{nil, nil, nil}, fn)
}

func (e *Engine) q(c1, c2 *loaders.Network, obs, act Rows, dst [][]float32, fn ChunkFunc) error {
	if c1 == nil {
		return fmt.Errorf("graph: Q needs a critic")
	}
	if err := checkDims("observation", obs, c1.ObsDim); err != nil {
		return err
	}
	if err := checkDims("action", act, c1.ActDim); err != nil {
		return err
	}
	widths := []int{1, 1, 1}
	if c2 == nil {
		widths[1], widths[2] = 0, 0
	}
	return e.run(&job{
		srcs:   []Rows{obs, act},
		widths: widths,
		dst:    dst,
		stream: fn,
		eval: func(in, out [][]float32, n int) error {
			if err := e.b.Q(c1, c2, in[0], in[1], n, out[0], out[1]); err != nil {
				return err
			}
			if c2 != nil {
				combineQ(c1.Kind, out[0], out[1], out[2])
			}
			return nil
		},
	})
}

// QPolicy computes a = actor(obs) and the critics at (obs, a) for every row:
// act gets Len×ActDim values, q1, q2 and qmin Len values each. c2 may be
// nil (then q2 and qmin are not written); any output may be nil.
func (e *Engine) QPolicy(actor, c1, c2 *loaders.Network, obs Rows, act, q1, q2, qmin []float32) error {
	return e.qpolicy(actor, c1, c2, obs, [][]float32{act, q1, q2, qmin}, nil)
}

// QPolicyStream is QPolicy chunk by chunk: fn receives (start, act, q1, q2,
// qmin); with c2 nil, q2 and qmin are nil.
func (e *Engine) QPolicyStream(actor, c1, c2 *loaders.Network, obs Rows, fn ChunkFunc) error {
	return e.qpolicy(actor, c1, c2, obs, [][]float32{nil, nil, nil, nil}, fn)
}

func (e *Engine) qpolicy(actor, c1, c2 *loaders.Network, obs Rows, dst [][]float32, fn ChunkFunc) error {
	if actor == nil || c1 == nil {
		return fmt.Errorf("graph: QPolicy needs an actor and a critic")
	}
	if err := checkDims("observation", obs, actor.ObsDim); err != nil {
		return err
	}
	widths := []int{actor.ActDim, 1, 1, 1}
	if c2 == nil {
		widths[2], widths[3] = 0, 0
	}
	return e.run(&job{
		srcs:   []Rows{obs},
		widths: widths,
		dst:    dst,
		stream: fn,
		eval: func(in, out [][]float32, n int) error {
			if err := e.b.QPolicy(actor, c1, c2, in[0], n, out[0], out[1], out[2]); err != nil {
				return err
			}
			if c2 != nil {
				combineQ(c1.Kind, out[1], out[2], out[3])
			}
			return nil
		},
	})
}

// QFull writes, for every row, the twin critics' Q (min(Q1, Q2), or their
// mean for quantile critics) at the row's (obs, act) into qBuffer and at
// (obs, actor(obs)) into qPolicy: the full Q workload of a replay buffer
// (an actor and four critic passes). With c2 nil, Q1 alone.
func (e *Engine) QFull(actor, c1, c2 *loaders.Network, obs, act Rows, qBuffer, qPolicy []float32) error {
	return e.qfull(actor, c1, c2, obs, act, [][]float32{qBuffer, qPolicy}, nil)
}

// QFullStream is QFull chunk by chunk: fn receives (start, qBuffer, qPolicy).
func (e *Engine) QFullStream(actor, c1, c2 *loaders.Network, obs, act Rows, fn ChunkFunc) error {
	return e.qfull(actor, c1, c2, obs, act, [][]float32{nil, nil}, fn)
}

func (e *Engine) qfull(actor, c1, c2 *loaders.Network, obs, act Rows, dst [][]float32, fn ChunkFunc) error {
	if actor == nil || c1 == nil {
		return fmt.Errorf("graph: QFull needs an actor and a critic")
	}
	if err := checkDims("observation", obs, actor.ObsDim); err != nil {
		return err
	}
	if err := checkDims("action", act, actor.ActDim); err != nil {
		return err
	}
	j := &job{srcs: []Rows{obs, act}, widths: []int{1, 1}, dst: dst, stream: fn}
	if fq, ok := e.b.(FullQ); ok {
		j.eval = func(in, out [][]float32, n int) error {
			return fq.QFull(actor, c1, c2, in[0], in[1], n, out[0], out[1])
		}
		return e.run(j)
	}
	// Temporaries: q1, q2 and the policy's actions.
	j.widths = append(j.widths, 1, 1, actor.ActDim)
	j.dst = append(j.dst, nil, nil, nil)
	j.delivered = 2
	j.eval = func(in, out [][]float32, n int) error {
		q1, q2, pa := out[2], out[3], out[4]
		var c2q []float32
		if c2 != nil {
			c2q = q2
		}
		if err := e.b.Q(c1, c2, in[0], in[1], n, q1, c2q); err != nil {
			return err
		}
		copy(out[0], q1)
		if c2 != nil {
			combineQ(c1.Kind, q1, q2, out[0])
		}
		if err := e.b.QPolicy(actor, c1, c2, in[0], n, pa, q1, c2q); err != nil {
			return err
		}
		copy(out[1], q1)
		if c2 != nil {
			combineQ(c1.Kind, q1, q2, out[1])
		}
		return nil
	}
	return e.run(j)
}

// StackedQPolicy evaluates k actors that share an architecture, and their
// critics (c1[j], c2[j] for actor j; c2 may be nil), on the same rows obs:
// per chunk one stacked call of the backend (Stacked, AsStacked) serves
// all k, so a GPU runs one strided-batched GEMM per layer for the k
// networks (checkpoints of one run along training) and the CPU evaluates
// them one after another on the chunk while it is in cache; chunks run on
// the Engine's workers. act[j] gets Len×ActDim values, q1[j], q2[j] and
// qmin[j] Len values (min(Q1, Q2), or their mean for quantile critics);
// q2 and qmin are not written with c2 nil.
func (e *Engine) StackedQPolicy(actors, c1, c2 []*loaders.Network, obs Rows, act, q1, q2, qmin [][]float32) error {
	k := len(actors)
	if k == 0 || len(c1) != k || (c2 != nil && len(c2) != k) {
		return fmt.Errorf("graph: stacked QPolicy of %d actors, %d and %d critics", k, len(c1), len(c2))
	}
	if err := checkDims("observation", obs, actors[0].ObsDim); err != nil {
		return err
	}
	od, ad, n := actors[0].ObsDim, actors[0].ActDim, obs.Len()
	for j := range k {
		if len(act[j]) < n*ad || len(q1[j]) < n || c2 != nil && (len(q2[j]) < n || len(qmin[j]) < n) {
			return fmt.Errorf("graph: stacked QPolicy outputs of network %d are short for %d rows", j, n)
		}
	}
	st := AsStacked(e.b)
	widths := []int{k * ad, k, k, k}
	if c2 == nil {
		widths[2], widths[3] = 0, 0
	}
	var pool sync.Pool // the chunk's rows, repeated once per network
	return e.run(&job{
		srcs:   []Rows{obs},
		widths: widths,
		dst:    make([][]float32, 4),
		eval: func(in, out [][]float32, m int) error {
			var rep []float32
			if p, ok := pool.Get().(*[]float32); ok {
				rep = *p
			}
			rep = growF32(rep, k*m*od)
			defer pool.Put(&rep)
			for j := range k {
				copy(rep[j*m*od:(j+1)*m*od], in[0][:m*od])
			}
			if err := st.StackedQPolicy(actors, c1, c2, rep, m, out[0], out[1], out[2]); err != nil {
				return err
			}
			if c2 != nil {
				combineQ(c1[0].Kind, out[1], out[2], out[3])
			}
			return nil
		},
		stream: func(start int, vals ...[]float32) error {
			m := len(vals[1]) / k
			for j := range k {
				copy(act[j][start*ad:(start+m)*ad], vals[0][j*m*ad:(j+1)*m*ad])
				copy(q1[j][start:start+m], vals[1][j*m:(j+1)*m])
				if c2 != nil {
					copy(q2[j][start:start+m], vals[2][j*m:(j+1)*m])
					copy(qmin[j][start:start+m], vals[3][j*m:(j+1)*m])
				}
			}
			return nil
		},
	})
}
