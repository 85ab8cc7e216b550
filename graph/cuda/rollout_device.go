//go:build rlcuda

package cuda

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// devRollout is a rollout on the device (graph.Rollout): every buffer it
// steps lives there from BeginRollout to End. Per step: the environment's
// observation kernel (float64 states → float32 observations), the actors'
// plans (one stacked plan, or one per actor on its block of rows), the
// environment's step kernel for the live states, and rollout_accumulate
// adding γᵗ·r to their returns and retiring the terminal ones. A segment
// of steps ends with count_alive, the only value copied back.
type devRollout struct {
	d      *Device
	actors []*loaders.Network
	env    devEnv
	lay    rollLayout
	obsFn  cu.Function
	stepFn cu.Function
	stack  *devStack // the actors' stacked plan, or nil
	nets   []*devNet // else one plan per actor
	gamma  float64
	disc   float64 // γᵗ of the next step, multiplied up as envs.Run does

	// s and rew hold float64s, steps, alive, term and done int32s, count
	// one uint64: buf counts 4-byte words.
	s, obs, act, rew, ret    buf
	steps, alive, term, done buf
	count                    buf
	ended                    bool
}

// countThreads is the threads count_alive runs.
const countThreads = 1 << 14

// BeginRollout uploads the states of a rollout and allocates its buffers
// (graph.Roller).
func (d *Device) BeginRollout(req graph.RolloutRequest) (graph.Rollout, error) {
	env, err := checkRollout(req)
	if err != nil {
		return nil, err
	}
	r := &devRollout{d: d, actors: req.Actors, env: env, gamma: req.Gamma, disc: 1}
	k, n := len(req.Actors), req.N
	r.lay = rollLayout{k: k, n: n}
	if k > 1 {
		if r.stack, err = d.prepareStack(req.Actors); err != nil {
			return nil, fmt.Errorf("rollout: %w", err)
		}
		r.lay.interleaved = r.stack != nil
	}
	if r.stack == nil {
		for _, a := range req.Actors {
			dn, err := d.prepare(a)
			if err != nil {
				return nil, fmt.Errorf("rollout: %w", err)
			}
			r.nets = append(r.nets, dn)
		}
	}
	if r.obsFn, err = d.k.mod.Function(env.obs); err == nil {
		r.stepFn, err = d.k.mod.Function(env.step)
	}
	if err != nil {
		return nil, fmt.Errorf("rollout: PTX module lacks the kernels of %s: %w", req.Env, err)
	}
	if err := r.alloc(req.States); err != nil {
		r.free()
		return nil, fmt.Errorf("rollout of %d×%d states in %s: %w", k, n, req.Env, err)
	}
	if d.rollouts == nil {
		d.rollouts = map[*devRollout]bool{}
	}
	d.rollouts[r] = true
	return r, nil
}

// rollingWith refuses to forget an actor of a rollout under way: its plan
// is the rollout's until End.
func (d *Device) rollingWith(net *loaders.Network) error {
	for r := range d.rollouts {
		if slices.Contains(r.actors, net) {
			return fmt.Errorf("forget %s: a rollout under way uses it", net.Path)
		}
	}
	return nil
}

// alloc allocates the rollout's buffers, uploads the states in the
// device's order and sets every state alive with nothing accumulated.
func (r *devRollout) alloc(states []float64) error {
	rows := r.lay.k * r.lay.n
	err := errors.Join(r.s.ensure(2*rows*r.env.stateDim), r.obs.ensure(rows*r.env.obsDim), r.act.ensure(rows*r.env.actDim),
		r.rew.ensure(2*rows), r.ret.ensure(2*rows), r.steps.ensure(rows), r.alive.ensure(rows), r.term.ensure(rows),
		r.done.ensure(rows), r.count.ensure(2))
	if err != nil || rows == 0 {
		return err
	}
	host := make([]float64, len(states))
	toDeviceOrder(r.lay, host, states, r.env.stateDim)
	if err := cu.MemcpyHtoD(r.s.p, unsafe.Pointer(&host[0]), int64(len(host))*8); err != nil {
		return fmt.Errorf("copy the states: %w", err)
	}
	return errors.Join(cu.MemsetD32(r.ret.p, 0, int64(2*rows)), cu.MemsetD32(r.steps.p, 0, int64(rows)),
		cu.MemsetD32(r.term.p, 0, int64(rows)), cu.MemsetD32(r.alive.p, 1, int64(rows)))
}

func (r *devRollout) free() {
	for _, b := range []*buf{&r.s, &r.obs, &r.act, &r.rew, &r.ret, &r.steps, &r.alive, &r.term, &r.done, &r.count} {
		b.free()
	}
}

// policy writes the actors' actions for every row's observation.
func (r *devRollout) policy() error {
	d, n := r.d, r.lay.n
	if r.stack != nil {
		return d.forward(r.stack.devPlan, r.obs.p, n, r.act.p)
	}
	od, ad := int64(r.env.obsDim)*4, int64(r.env.actDim)*4
	for j, dn := range r.nets {
		off := int64(j) * int64(n)
		if err := d.forward(dn.devPlan, r.obs.p+cu.DevicePtr(off*od), n, r.act.p+cu.DevicePtr(off*ad)); err != nil {
			return err
		}
	}
	return nil
}

// Step runs steps steps on the device and returns the live states left.
func (r *devRollout) Step(steps int) (int, error) {
	if r.ended {
		return 0, errors.New("rollout stepped after End")
	}
	rows := int64(r.lay.k * r.lay.n)
	if rows == 0 {
		return 0, nil
	}
	k := r.d.k
	for range steps {
		if err := launch(r.obsFn, rows, r.s.p, r.obs.p, rows); err != nil {
			return 0, fmt.Errorf("rollout: %s: %w", r.env.obs, err)
		}
		if err := r.policy(); err != nil {
			return 0, fmt.Errorf("rollout: %w", err)
		}
		if err := launch(r.stepFn, rows, r.s.p, r.act.p, r.alive.p, r.rew.p, r.done.p, rows); err != nil {
			return 0, fmt.Errorf("rollout: %s: %w", r.env.step, err)
		}
		if err := launch(k.accumulate, rows, r.ret.p, r.steps.p, r.alive.p, r.term.p, r.rew.p, r.done.p, rows, r.disc); err != nil {
			return 0, fmt.Errorf("rollout: accumulate: %w", err)
		}
		r.disc *= r.gamma
	}
	if err := cu.MemsetD32(r.count.p, 0, 2); err != nil {
		return 0, err
	}
	// A few thousand threads, each summing many flags, so that few atomic
	// adds meet on the one counter.
	if err := launch(k.countAlive, min(rows, countThreads), r.alive.p, r.count.p, rows); err != nil {
		return 0, fmt.Errorf("rollout: count: %w", err)
	}
	if err := r.d.sync(); err != nil {
		return 0, err
	}
	var live uint64
	if err := cu.MemcpyDtoH(unsafe.Pointer(&live), r.count.p, 8); err != nil {
		return 0, fmt.Errorf("rollout: copy the live count: %w", err)
	}
	return int(live), nil
}

// End copies the results back (unless res is nil) and frees the rollout.
func (r *devRollout) End(res *graph.RolloutResult) error {
	if r.ended {
		return errors.New("rollout ended twice")
	}
	r.ended = true
	delete(r.d.rollouts, r)
	defer r.free()
	rows := r.lay.k * r.lay.n
	if res == nil || rows == 0 {
		return nil
	}
	if len(res.Return) < rows || len(res.Steps) < rows || len(res.Terminated) < rows {
		return fmt.Errorf("rollout: results sized %d, %d, %d for %d states", len(res.Return), len(res.Steps), len(res.Terminated), rows)
	}
	ret, steps, term := make([]float64, rows), make([]int32, rows), make([]int32, rows)
	err := errors.Join(cu.MemcpyDtoH(unsafe.Pointer(&ret[0]), r.ret.p, int64(rows)*8),
		cu.MemcpyDtoH(unsafe.Pointer(&steps[0]), r.steps.p, int64(rows)*4),
		cu.MemcpyDtoH(unsafe.Pointer(&term[0]), r.term.p, int64(rows)*4))
	if err != nil {
		return fmt.Errorf("rollout: copy the results: %w", err)
	}
	fromDeviceOrder(r.lay, res.Return, ret)
	fromDeviceOrder(r.lay, res.Steps, steps)
	terminated := make([]bool, rows)
	for i, t := range term {
		terminated[i] = t != 0
	}
	fromDeviceOrder(r.lay, res.Terminated, terminated)
	return nil
}

var _ graph.Roller = (*Device)(nil)
