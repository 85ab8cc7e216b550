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
// step the k weight matrices one after another and the k bias vectors
// likewise, so that one strided-batched GEMM (stackGemm) and one bias
// kernel serve the whole stack. On the device the stack's rows are
// interleaved, rows×k×width, which the element-wise kernels see as one
// network k times as wide. The plans' epilogue parameters, head bounds and
// input normalisation (when any) are shared: stackable says so.
type devStack struct {
	nets  []*loaders.Network
	plan  *graph.Plan // the first network's: shapes, epilogues, head
	k     int
	steps []devStep // w: k×out×in, b: k×out; low, half: the shared head's
	mean  buf       // the shared input normalisation
	std   buf
	maxW  int
}

func (s *devStack) free() {
	for i := range s.steps {
		for _, b := range []*buf{&s.steps[i].w, &s.steps[i].b, &s.steps[i].low, &s.steps[i].half} {
			b.free()
		}
	}
	s.mean.free()
	s.std.free()
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
	p := plans[0]
	st := &devStack{nets: append([]*loaders.Network(nil), nets...), plan: p, k: len(nets), maxW: p.In}
	var err error
	up := func(dst *buf, f []float32) {
		if err == nil {
			*dst, err = upload(f)
		}
	}
	if nm := p.Norm; nm != nil {
		up(&st.mean, nm.Mean)
		up(&st.std, nm.Std)
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		var w, b []float32
		for _, q := range plans {
			w, b = append(w, torchLayout(&q.Steps[i])...), append(b, q.Steps[i].B...)
		}
		ds := devStep{in: s.In, out: s.Out, ep: s.Epilogue}
		up(&ds.w, w)
		up(&ds.b, b)
		if s.Epilogue == graph.EpScale {
			up(&ds.low, s.Low)
			up(&ds.half, s.Half)
		}
		st.steps = append(st.steps, ds)
		st.maxW = max(st.maxW, s.In, s.Out)
	}
	if err != nil {
		st.free()
		return nil, fmt.Errorf("stack of %d %s: %w", st.k, p.Name, err)
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

// forwardStack is forward for a stack: x holds n×k interleaved rows, out
// receives n×k interleaved outputs. Every step adds its stacked bias in
// bias_act; a head then runs over the n·k rows with a zero bias, so that
// it computes f(v + 0) = f(v), the single network's value.
func (d *Device) forwardStack(st *devStack, x cu.DevicePtr, n int, out cu.DevicePtr) error {
	p, k := st.plan, st.k
	if err := errors.Join(d.s.h0.ensure(n*k*st.maxW), d.s.h1.ensure(n*k*st.maxW), d.zeros(st.maxW)); err != nil {
		return err
	}
	cur := x
	if nm := p.Norm; nm != nil {
		if err := d.s.xn.ensure(n * k * p.In); err != nil {
			return err
		}
		if err := d.k.normRows(x, st.mean.p, st.std.p, d.s.xn.p, n*k, p.In, nm.Cols, nm.Clip); err != nil {
			return fmt.Errorf("stack of %d %s input normalisation: %w", k, p.Name, err)
		}
		cur = d.s.xn.p
	}
	for i := range st.steps {
		s, ps := &st.steps[i], &p.Steps[i]
		y := d.s.h0.p
		if i%2 == 1 {
			y = d.s.h1.p
		}
		final := i == len(st.steps)-1
		code, elementwise := actCodes[s.ep]
		if final && elementwise {
			y = out
		}
		if !elementwise {
			code = actIdentity
		}
		if err := d.mm.gemm(stackGemm(s.in, s.out, n, k), s.w.p, cur, y); err != nil {
			return fmt.Errorf("stack of %d %s step %d: %w", k, p.Name, i, err)
		}
		if err := d.k.biasActRows(y, s.b.p, n, k*s.out, code, ps.Alpha); err != nil {
			return fmt.Errorf("stack of %d %s step %d bias: %w", k, p.Name, i, err)
		}
		var err error
		switch s.ep {
		case graph.EpScale:
			err = d.k.headRows(y, d.s.zero.p, s.low.p, s.half.p, out, n*k, s.out, len(ps.Low), ps.Clip)
		case graph.EpStd:
			err = d.k.expClampRows(y, d.s.zero.p, out, n*k, s.out, ps.Lo, ps.Hi)
		case graph.EpMean:
			err = d.k.meanOfRows(y, d.s.zero.p, out, n*k, s.out)
		}
		if err != nil {
			return fmt.Errorf("stack of %d %s step %d %s: %w", k, p.Name, i, s.ep, err)
		}
		cur = y
	}
	return nil
}

// zeros makes d.s.zero hold at least n zeros (a head's bias once the
// stacked bias is added; a fresh allocation is not zeroed).
func (d *Device) zeros(n int) error {
	if d.s.zero.n >= n {
		return nil
	}
	d.s.zero.free()
	z, err := upload(make([]float32, n))
	if err != nil {
		return err
	}
	d.s.zero = z
	return nil
}

// actorStack writes the stack's actions (n×k×ActDim, interleaved) into d.s.act.
func (d *Device) actorStack(st *devStack, obs cu.DevicePtr, n int) error {
	if err := d.s.act.ensure(n * st.k * st.nets[0].ActDim); err != nil {
		return err
	}
	return d.forwardStack(st, obs, n, d.s.act.p)
}

// criticsStack evaluates one or two critic stacks at d.s.cat and copies
// their values back into q1 and q2 (blocks per network).
func (d *Device) criticsStack(s1, s2 *devStack, n int, q1, q2 []float32, t *timer) error {
	k := s1.k
	if err := d.s.q1.ensure(n * k); err != nil {
		return err
	}
	if err := d.forwardStack(s1, d.s.cat.p, n, d.s.q1.p); err != nil {
		return err
	}
	if s2 != nil {
		if err := d.s.q2.ensure(n * k); err != nil {
			return err
		}
		if err := d.forwardStack(s2, d.s.cat.p, n, d.s.q2.p); err != nil {
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
