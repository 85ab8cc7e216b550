package worker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// Rollouts over the wire (graph.Roller): the client's side, which splits a
// rollout into parts of rows that fit a frame and the device, and the
// server's, which runs each part as one rollout of the served backend.

// maxRollSteps bounds the steps of one rollstep request: a client steps in
// segments so that it can show progress and stop.
const maxRollSteps = 1 << 20

func (e *wireEnc) f64s(f []float64) {
	for _, v := range f {
		e.u64(math.Float64bits(v))
	}
}

// f64s decodes n float64s into a new slice, checking n against the bytes
// left before allocating.
func (d *wireDec) f64s(n int, what string) []float64 {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > (len(d.b)-d.off)/8 {
		d.fail("%s needs %d doubles, %d bytes left", what, n, len(d.b)-d.off)
		return nil
	}
	f := make([]float64, n)
	for i := range f {
		f[i] = math.Float64frombits(d.u64(what))
	}
	return f
}

// remoteRollout is a rollout in the worker, as parts: part p holds rows
// lo..hi of every actor's block of states, a rollout of its own there.
type remoteRollout struct {
	rem   *Remote
	k, n  int
	parts []rollPart
	ended bool
}

type rollPart struct {
	id     uint32
	lo, hi int
	live   int
}

// BeginRollout uploads the states to the worker's device for a rollout
// there (graph.Roller); the worker checks that its backend has the
// environment's kernels.
func (rem *Remote) BeginRollout(req graph.RolloutRequest) (graph.Rollout, error) {
	k, n := len(req.Actors), req.N
	if k == 0 || k > maxStack {
		return nil, fmt.Errorf("rollout of %d actors, want 1 to %d", k, maxStack)
	}
	if err := graph.SameArchitecture(req.Actors); err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	if n < 0 || n > 0 && (len(req.States)%(k*n) != 0 || len(req.States) == 0) {
		return nil, fmt.Errorf("rollout: %d state values for %d actors × %d states", len(req.States), k, n)
	}
	sd := 0
	if n > 0 {
		sd = len(req.States) / (k * n)
	}
	rem.mu.Lock()
	defer rem.mu.Unlock()
	ids, err := rem.loadAll(req.Actors...)
	if err != nil {
		return nil, err
	}
	// A state takes 2·sd words going and 4 (a double, two int32s) back.
	step := max(n, 1)
	if n > 0 {
		step = rem.chunkRowsStacked(k, 2*sd, 4, req.Actors[0])
	}
	r := &remoteRollout{rem: rem, k: k, n: n}
	for lo := 0; lo < n || lo == 0 && n == 0; lo += step {
		hi := min(lo+step, n)
		id, err := rem.beginPart(req, ids, sd, lo, hi)
		if err != nil {
			r.endParts(nil)
			return nil, fmt.Errorf("rollout of %d×%d states in %s rows %d..%d: %w", k, n, req.Env, lo, hi, err)
		}
		r.parts = append(r.parts, rollPart{id: id, lo: lo, hi: hi, live: k * (hi - lo)})
		if n == 0 {
			break
		}
	}
	return r, nil
}

// beginPart sends the rollbegin of rows lo..hi of every block; rem.mu is
// held.
func (rem *Remote) beginPart(req graph.RolloutRequest, ids []uint32, sd, lo, hi int) (uint32, error) {
	rem.out.b = rem.out.b[:0]
	rem.out.str(req.Env)
	rem.out.u32(uint32(len(ids)))
	rem.putIDs(ids)
	rem.out.u32(uint32(hi - lo))
	rem.out.u64(math.Float64bits(req.Gamma))
	for j := range ids {
		rem.out.f64s(req.States[(j*req.N+lo)*sd : (j*req.N+hi)*sd])
	}
	p, err := rem.roundTrip(opRollBegin)
	if err != nil {
		return 0, err
	}
	d := &wireDec{b: p}
	id := d.u32("rollout id")
	if err := d.end(); err != nil {
		return 0, rem.breakWith(fmt.Errorf("rollbegin reply: %w", err))
	}
	return id, nil
}

// Step advances every part with live states by steps steps.
func (r *remoteRollout) Step(steps int) (int, error) {
	if r.ended {
		return 0, errors.New("rollout stepped after End")
	}
	if steps < 0 || steps > maxRollSteps {
		return 0, fmt.Errorf("rollout: %d steps at once, want 0 to %d", steps, maxRollSteps)
	}
	rem := r.rem
	live := 0
	for i := range r.parts {
		pt := &r.parts[i]
		if pt.live == 0 {
			continue
		}
		rem.mu.Lock()
		err := rem.check()
		var p []byte
		if err == nil {
			rem.out.b = rem.out.b[:0]
			rem.out.u32(pt.id)
			rem.out.u32(uint32(steps))
			p, err = rem.roundTrip(opRollStep)
		}
		if err == nil {
			d := &wireDec{b: p}
			l := d.u64("live states")
			if err = d.end(); err != nil || l > uint64(r.k*(pt.hi-pt.lo)) {
				err = rem.breakWith(fmt.Errorf("rollstep reply: %d live states of %d, %v", l, r.k*(pt.hi-pt.lo), err))
			}
			pt.live = int(l)
		}
		rem.mu.Unlock()
		if err != nil {
			return 0, fmt.Errorf("rollout rows %d..%d: %w", pt.lo, pt.hi, err)
		}
		live += pt.live
	}
	return live, nil
}

// End frees every part in the worker, first copying its results into res
// unless res is nil.
func (r *remoteRollout) End(res *graph.RolloutResult) error {
	if r.ended {
		return errors.New("rollout ended twice")
	}
	r.ended = true
	if res != nil {
		m := r.k * r.n
		if len(res.Return) < m || len(res.Steps) < m || len(res.Terminated) < m {
			r.endParts(nil)
			return fmt.Errorf("rollout: results sized %d, %d, %d for %d states", len(res.Return), len(res.Steps), len(res.Terminated), m)
		}
	}
	return r.endParts(res)
}

// endParts ends every part, going on past errors so that none is left
// holding device memory.
func (r *remoteRollout) endParts(res *graph.RolloutResult) error {
	var errs []error
	for _, pt := range r.parts {
		if err := r.endPart(pt, res); err != nil {
			errs = append(errs, fmt.Errorf("rollout rows %d..%d: %w", pt.lo, pt.hi, err))
		}
	}
	return errors.Join(errs...)
}

func (r *remoteRollout) endPart(pt rollPart, res *graph.RolloutResult) error {
	rem := r.rem
	rem.mu.Lock()
	defer rem.mu.Unlock()
	if err := rem.check(); err != nil {
		return err
	}
	rem.out.b = rem.out.b[:0]
	rem.out.u32(pt.id)
	rem.out.u32(remoteBool(res != nil))
	p, err := rem.roundTrip(opRollEnd)
	if err != nil || res == nil {
		return err
	}
	d := &wireDec{b: p}
	m, rows := int(d.u32("results")), pt.hi-pt.lo
	if d.err == nil && m != r.k*rows {
		d.fail("%d results for %d states", m, r.k*rows)
	}
	ret := d.f64s(m, "returns")
	steps := d.take(4*m, "steps")
	term := d.take(m, "terminated")
	if err := d.end(); err != nil {
		return rem.breakWith(fmt.Errorf("rollend reply: %w", err))
	}
	for j := range r.k {
		for i := range rows {
			src, dst := j*rows+i, j*r.n+pt.lo+i
			res.Return[dst] = ret[src]
			res.Steps[dst] = int32(binary.LittleEndian.Uint32(steps[4*src:]))
			res.Terminated[dst] = term[src] != 0
		}
	}
	return nil
}

func remoteBool(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

var _ graph.Roller = (*Remote)(nil)

// serverRollout is a rollout of the served backend, of m states.
type serverRollout struct {
	r graph.Rollout
	m int
}

// rollBegin starts a rollout on the served backend.
func (s *wireServer) rollBegin(d *wireDec) (func(*wireEnc), error) {
	rl, ok := s.b.(graph.Roller)
	if !ok {
		return nil, fmt.Errorf("rollbegin: backend %s rolls out no environments on its device", s.b.Name())
	}
	env, k := d.str("environment"), int(d.u32("actors"))
	if d.err == nil && (k <= 0 || k > maxStack) {
		d.fail("%d actors, want 1..%d", k, maxStack)
	}
	if d.err != nil {
		return nil, fmt.Errorf("rollbegin: %w", d.err)
	}
	actors, err := s.netIDs(d, k, "rollout actor", loaders.KindActor, loaders.KindSACActor)
	if err != nil {
		return nil, fmt.Errorf("rollbegin: %w", err)
	}
	n := int(d.u32("states per actor"))
	gamma := math.Float64frombits(d.u64("gamma"))
	left := len(d.b) - d.off
	if d.err == nil && left%8 != 0 {
		d.fail("%d bytes of states, not whole doubles", left)
	}
	states := d.f64s(left/8, "states")
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("rollbegin: %w", err)
	}
	r, err := rl.BeginRollout(graph.RolloutRequest{Env: env, Actors: actors, States: states, N: n, Gamma: gamma})
	if err != nil {
		return nil, fmt.Errorf("rollbegin: %w", err)
	}
	if s.rolls == nil {
		s.rolls = map[uint32]*serverRollout{}
	}
	s.next++
	id := s.next
	s.rolls[id] = &serverRollout{r: r, m: k * n}
	return func(e *wireEnc) { e.u32(id) }, nil
}

func (s *wireServer) rollout(d *wireDec, op string) (uint32, *serverRollout, error) {
	id := d.u32("rollout id")
	if d.err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, d.err)
	}
	r, ok := s.rolls[id]
	if !ok {
		return 0, nil, fmt.Errorf("%s: no rollout %d under way", op, id)
	}
	return id, r, nil
}

// rollStep advances a rollout.
func (s *wireServer) rollStep(d *wireDec) (func(*wireEnc), error) {
	_, r, err := s.rollout(d, "rollstep")
	if err != nil {
		return nil, err
	}
	steps := d.u32("steps")
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("rollstep: %w", err)
	}
	if steps > maxRollSteps {
		return nil, fmt.Errorf("rollstep: %d steps at once, want 0 to %d", steps, maxRollSteps)
	}
	live, err := r.r.Step(int(steps))
	if err != nil {
		return nil, fmt.Errorf("rollstep: %w", err)
	}
	return func(e *wireEnc) { e.u64(uint64(live)) }, nil
}

// rollEnd frees a rollout, answering its results when asked.
func (s *wireServer) rollEnd(d *wireDec) (func(*wireEnc), error) {
	id, r, err := s.rollout(d, "rollend")
	if err != nil {
		return nil, err
	}
	want := d.u32("results")
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("rollend: %w", err)
	}
	delete(s.rolls, id)
	if want == 0 {
		return nil, r.r.End(nil)
	}
	res := &graph.RolloutResult{Return: make([]float64, r.m), Steps: make([]int32, r.m), Terminated: make([]bool, r.m)}
	if err := r.r.End(res); err != nil {
		return nil, fmt.Errorf("rollend: %w", err)
	}
	return func(e *wireEnc) {
		e.u32(uint32(r.m))
		e.f64s(res.Return)
		for _, v := range res.Steps {
			e.u32(uint32(v))
		}
		for _, t := range res.Terminated {
			e.b = append(e.b, byte(remoteBool(t)))
		}
	}, nil
}

// endRollouts frees the rollouts a client left under way.
func (s *wireServer) endRollouts() error {
	var errs []error
	for id, r := range s.rolls {
		errs = append(errs, r.r.End(nil))
		delete(s.rolls, id)
	}
	return errors.Join(errs...)
}
