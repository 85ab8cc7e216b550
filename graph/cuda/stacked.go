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

// devStack is a stack of k networks of one architecture on the device: per
// layer the k weight matrices one after another and the k bias vectors
// likewise, so that one strided-batched GEMM (stackGemm) and one bias
// kernel serve the whole stack. On the device the stack's rows are
// interleaved, rows×k×width, which the element-wise kernels see as one
// network k times as wide.
type devStack struct {
	nets      []*loaders.Network
	k         int
	layers    []devLayer // w: k×out×in, b: k×out
	act       int64
	low, half buf // the actors' bounds, equal across the stack
	zero      buf // the head's bias once the output bias is added: zeros
	maxW      int
}

func (s *devStack) free() {
	for i := range s.layers {
		s.layers[i].w.free()
		s.layers[i].b.free()
	}
	s.low.free()
	s.half.free()
	s.zero.free()
}

func stackKey(nets []*loaders.Network) string {
	var b strings.Builder
	for _, n := range nets {
		fmt.Fprintf(&b, "%p,", n)
	}
	return b.String()
}

// prepareStack uploads a stack's weights on first use.
func (d *Device) prepareStack(nets []*loaders.Network) (*devStack, error) {
	key := stackKey(nets)
	if st, ok := d.stacks[key]; ok {
		return st, nil
	}
	if err := graph.SameArchitecture(nets); err != nil {
		return nil, err
	}
	net := nets[0]
	st := &devStack{nets: append([]*loaders.Network(nil), nets...), k: len(nets)}
	switch net.Hidden {
	case loaders.ReLU, "":
		st.act = actReLU
	case loaders.Tanh:
		st.act = actTanh
	default:
		return nil, fmt.Errorf("network %s: activation %q not supported on CUDA", net.Path, net.Hidden)
	}
	for i, l := range net.Layers {
		var w, b []float32
		for _, m := range nets {
			ml := m.Layers[i]
			if len(ml.W) != ml.In*ml.Out || len(ml.B) != ml.Out {
				st.free()
				return nil, fmt.Errorf("network %s: layer %s is %d×%d with %d weights and %d biases", m.Path, ml.Name, ml.Out, ml.In, len(ml.W), len(ml.B))
			}
			w, b = append(w, ml.W...), append(b, ml.B...)
		}
		dw, err := upload(w)
		if err != nil {
			st.free()
			return nil, fmt.Errorf("stack of %d %s: %w", st.k, net.Path, err)
		}
		db, err := upload(b)
		if err != nil {
			dw.free()
			st.free()
			return nil, fmt.Errorf("stack of %d %s: %w", st.k, net.Path, err)
		}
		st.layers = append(st.layers, devLayer{w: dw, b: db, in: l.In, out: l.Out})
		st.maxW = max(st.maxW, l.In, l.Out)
	}
	if net.Kind != loaders.KindCritic {
		if len(net.Low) != net.ActDim || len(net.High) != net.ActDim {
			st.free()
			return nil, fmt.Errorf("network %s: bounds have %d/%d values, want %d", net.Path, len(net.Low), len(net.High), net.ActDim)
		}
		half := make([]float32, net.ActDim)
		for j := range half {
			half[j] = (net.High[j] - net.Low[j]) / 2
		}
		var err error
		if st.low, err = upload(net.Low); err == nil {
			if st.half, err = upload(half); err == nil {
				st.zero, err = upload(make([]float32, net.Layers[len(net.Layers)-1].Out))
			}
		}
		if err != nil {
			st.free()
			return nil, fmt.Errorf("network %s: %w", net.Path, err)
		}
	}
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

// forwardStack is forward for a stack: x holds n×k interleaved rows.
func (d *Device) forwardStack(st *devStack, x cu.DevicePtr, n int, last cu.DevicePtr) (cu.DevicePtr, error) {
	if err := d.s.h0.ensure(n * st.k * st.maxW); err != nil {
		return 0, err
	}
	if err := d.s.h1.ensure(n * st.k * st.maxW); err != nil {
		return 0, err
	}
	cur := x
	for i, l := range st.layers {
		y := d.s.h0.p
		if i%2 == 1 {
			y = d.s.h1.p
		}
		final := i == len(st.layers)-1
		if final && last != 0 {
			y = last
		}
		if err := d.mm.gemm(stackGemm(l.in, l.out, n, st.k), l.w.p, cur, y); err != nil {
			return 0, fmt.Errorf("stack of %d %s layer %d: %w", st.k, st.nets[0].Path, i, err)
		}
		act := st.act
		if final {
			act = actIdentity // the head or the critic's output follows
		}
		if err := d.k.biasActRows(y, l.b.p, n, st.k*l.out, act); err != nil {
			return 0, fmt.Errorf("stack of %d %s layer %d bias: %w", st.k, st.nets[0].Path, i, err)
		}
		cur = y
	}
	return cur, nil
}

// actorStack writes the stack's actions (n×k×ActDim, interleaved) into d.s.act.
func (d *Device) actorStack(st *devStack, obs cu.DevicePtr, n int) error {
	ad := st.nets[0].ActDim
	if err := d.s.act.ensure(n * st.k * ad); err != nil {
		return err
	}
	y, err := d.forwardStack(st, obs, n, 0)
	if err != nil {
		return err
	}
	// The output bias is added; the head's own bias is zero, and
	// tanh(v + 0) = tanh(v): the same values as the single-network head.
	L := st.layers[len(st.layers)-1].out
	if err := d.k.headRows(y, st.zero.p, st.low.p, st.half.p, d.s.act.p, n*st.k, L, ad); err != nil {
		return fmt.Errorf("stack of %d %s head: %w", st.k, st.nets[0].Path, err)
	}
	return nil
}

// criticsStack evaluates one or two critic stacks at d.s.cat and copies
// their values back into q1 and q2 (blocks per network).
func (d *Device) criticsStack(s1, s2 *devStack, n int, q1, q2 []float32, t *timer) error {
	k := s1.k
	if err := d.s.q1.ensure(n * k); err != nil {
		return err
	}
	if _, err := d.forwardStack(s1, d.s.cat.p, n, d.s.q1.p); err != nil {
		return err
	}
	if s2 != nil {
		if err := d.s.q2.ensure(n * k); err != nil {
			return err
		}
		if _, err := d.forwardStack(s2, d.s.cat.p, n, d.s.q2.p); err != nil {
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
