//go:build rlcuda

package cuda

import (
	"errors"
	"fmt"
	"strings"

	"gorgonia.org/cu"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// devStack is a stack of k networks whose plans stack (stackable) on the
// device: one strided-batched GEMM (stackGemm) and one bias kernel per
// step serve the whole stack. On the device the stack's rows are
// interleaved, rows×k×width, which the element-wise kernels see as one
// network k times as wide.
type devStack struct {
	nets []*loaders.Network
	*devPlan
}

func stackKey(nets []*loaders.Network) string {
	var b strings.Builder
	for _, n := range nets {
		fmt.Fprintf(&b, "%p,", n)
	}
	return b.String()
}

// prepareStack uploads a stack's weights on first use. It returns nil and
// no error when the networks' plans do not stack (see stackable): the
// caller evaluates them one at a time.
func (d *Device) prepareStack(nets []*loaders.Network) (*devStack, error) {
	key := stackKey(nets)
	if st, ok := d.stacks[key]; ok {
		return st, nil
	}
	if err := graph.SameArchitecture(nets); err != nil {
		return nil, err
	}
	plans := make([]*graph.Plan, len(nets))
	for j, net := range nets {
		dn, err := d.prepare(net)
		if err != nil {
			return nil, err
		}
		plans[j] = dn.plan
	}
	if stackable(plans) != nil {
		return nil, nil
	}
	dp, err := uploadPlans(plans)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	st := &devStack{nets: append([]*loaders.Network(nil), nets...), devPlan: dp}
	if d.stacks == nil {
		d.stacks = map[string]*devStack{}
	}
	d.stacks[key] = st
	return st, nil
}

// forgetStacks frees every stack holding net.
func (d *Device) forgetStacks(net *loaders.Network) {
	for key, st := range d.stacks {
		for _, m := range st.nets {
			if m == net {
				st.free()
				delete(d.stacks, key)
				break
			}
		}
	}
}

// actorStack writes the stack's actions (n×k×ActDim, interleaved) into d.s.act.
func (d *Device) actorStack(st *devStack, obs cu.DevicePtr, n int) error {
	if err := d.s.act.ensure(n * st.k * st.nets[0].ActDim); err != nil {
		return err
	}
	return d.forward(st.devPlan, obs, n, d.s.act.p)
}

// criticsStack evaluates one or two critic stacks at d.s.cat and copies
// their values back into q1 and q2 (blocks per network).
func (d *Device) criticsStack(s1, s2 *devStack, n int, q1, q2 []float32, t *timer) error {
	k := s1.k
	if err := d.s.q1.ensure(n * k); err != nil {
		return err
	}
	if err := d.forward(s1.devPlan, d.s.cat.p, n, d.s.q1.p); err != nil {
		return err
	}
	if s2 != nil {
		if err := d.s.q2.ensure(n * k); err != nil {
			return err
		}
		if err := d.forward(s2.devPlan, d.s.cat.p, n, d.s.q2.p); err != nil {
			return err
		}
	}
	if err := d.sync(); err != nil {
		return err
	}
	t.lap(&t.t.Compute)
	if err := d.fromDeviceBlocks(q1, d.s.q1, k, n, 1); err != nil {
		return fmt.Errorf("copy q1: %w", err)
	}
	if s2 != nil {
		if err := d.fromDeviceBlocks(q2, d.s.q2, k, n, 1); err != nil {
			return fmt.Errorf("copy q2: %w", err)
		}
	}
	t.lap(&t.t.DeviceToHost)
	return nil
}

// toDeviceInterleaved copies k blocks of n rows of w floats (block j is
// network j's) into dst as n×k×w interleaved rows.
func (d *Device) toDeviceInterleaved(dst *buf, src []float32, k, n, w int) error {
	if err := dst.ensure(k * n * w); err != nil {
		return err
	}
	d.host = growHost(d.host, k*n*w)
	for j := range k {
		for r := range n {
			copy(d.host[(r*k+j)*w:(r*k+j+1)*w], src[(j*n+r)*w:(j*n+r+1)*w])
		}
	}
	return toDevice(*dst, d.host[:k*n*w])
}

// fromDeviceBlocks copies n×k×w interleaved rows from src into dst as k
// blocks of n rows.
func (d *Device) fromDeviceBlocks(dst []float32, src buf, k, n, w int) error {
	d.host = growHost(d.host, k*n*w)
	if err := toHost(d.host[:k*n*w], src); err != nil {
		return err
	}
	for j := range k {
		for r := range n {
			copy(dst[(j*n+r)*w:(j*n+r+1)*w], d.host[(r*k+j)*w:(r*k+j+1)*w])
		}
	}
	return nil
}

func growHost(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// prepareStacks prepares a stack per list (nil lists give nil stacks);
// it returns nil stacks when one list's plans do not stack, so that the
// caller evaluates the networks one at a time.
func (d *Device) prepareStacks(lists ...[]*loaders.Network) ([]*devStack, error) {
	out := make([]*devStack, len(lists))
	for i, nets := range lists {
		if nets == nil {
			continue
		}
		st, err := d.prepareStack(nets)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return nil, nil
		}
		out[i] = st
	}
	return out, nil
}

// StackedPolicy evaluates k actors with one strided-batched GEMM per layer.
func (d *Device) StackedPolicy(actors []*loaders.Network, obs []float32, n int, act []float32) error {
	k, err := graph.CheckStack(actors, nil, nil, n, obs, act, nil, nil)
	if err != nil || n == 0 {
		return err
	}
	sts, err := d.prepareStacks(actors)
	if err != nil {
		return err
	}
	if sts == nil {
		return graph.StackLoop(d).StackedPolicy(actors, obs, n, act)
	}
	od, ad := actors[0].ObsDim, actors[0].ActDim
	t := d.startTimer()
	if err := d.toDeviceInterleaved(&d.s.obs, obs, k, n, od); err != nil {
		return fmt.Errorf("stacked policy: copy obs: %w", err)
	}
	t.lap(&t.t.HostToDevice)
	if err := d.actorStack(sts[0], d.s.obs.p, n); err != nil {
		return err
	}
	if err := d.sync(); err != nil {
		return err
	}
	t.lap(&t.t.Compute)
	if err := d.fromDeviceBlocks(act, d.s.act, k, n, ad); err != nil {
		return fmt.Errorf("stacked policy: copy actions: %w", err)
	}
	t.lap(&t.t.DeviceToHost)
	return nil
}

// StackedQ evaluates k pairs of critics with one strided-batched GEMM per
// layer and critic.
func (d *Device) StackedQ(c1, c2 []*loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	k, err := graph.CheckStack(nil, c1, c2, n, obs, act, q1, q2)
	if err != nil || n == 0 {
		return err
	}
	sts, err := d.prepareStacks(c1, c2)
	if err != nil {
		return err
	}
	if sts == nil {
		return graph.StackLoop(d).StackedQ(c1, c2, obs, act, n, q1, q2)
	}
	od, ad := c1[0].ObsDim, c1[0].ActDim
	t := d.startTimer()
	if err := errors.Join(d.toDeviceInterleaved(&d.s.obs, obs, k, n, od), d.toDeviceInterleaved(&d.s.act, act, k, n, ad)); err != nil {
		return fmt.Errorf("stacked q: copy inputs: %w", err)
	}
	t.lap(&t.t.HostToDevice)
	if err := d.s.cat.ensure(n * k * (od + ad)); err != nil {
		return err
	}
	if err := d.k.concatRows(d.s.obs.p, d.s.act.p, d.s.cat.p, n*k, od, ad); err != nil {
		return fmt.Errorf("stacked q: concat: %w", err)
	}
	return d.criticsStack(sts[0], sts[1], n, q1, q2, &t)
}

// StackedQPolicy evaluates k actors and their critics; the actions stay on
// the device in between.
func (d *Device) StackedQPolicy(actors, c1, c2 []*loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	k, err := graph.CheckStack(actors, c1, c2, n, obs, act, q1, q2)
	if err != nil || n == 0 {
		return err
	}
	sts, err := d.prepareStacks(actors, c1, c2)
	if err != nil {
		return err
	}
	if sts == nil {
		return graph.StackLoop(d).StackedQPolicy(actors, c1, c2, obs, n, act, q1, q2)
	}
	od, ad := actors[0].ObsDim, actors[0].ActDim
	t := d.startTimer()
	if err := d.toDeviceInterleaved(&d.s.obs, obs, k, n, od); err != nil {
		return fmt.Errorf("stacked qpolicy: copy obs: %w", err)
	}
	t.lap(&t.t.HostToDevice)
	if err := d.actorStack(sts[0], d.s.obs.p, n); err != nil {
		return err
	}
	if err := d.s.cat.ensure(n * k * (od + ad)); err != nil {
		return err
	}
	if err := d.k.concatRows(d.s.obs.p, d.s.act.p, d.s.cat.p, n*k, od, ad); err != nil {
		return fmt.Errorf("stacked qpolicy: concat: %w", err)
	}
	if err := d.criticsStack(sts[1], sts[2], n, q1, q2, &t); err != nil {
		return err
	}
	if err := d.fromDeviceBlocks(act, d.s.act, k, n, ad); err != nil {
		return fmt.Errorf("stacked qpolicy: copy actions: %w", err)
	}
	t.lap(&t.t.DeviceToHost)
	return nil
}

var _ graph.Stacked = (*Device)(nil)
