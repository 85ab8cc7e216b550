package graph

import (
	"fmt"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rleval/rleval/loaders"
)

// Reference is the reference Backend (--device gorgonia): every network is
// run as its Gorgonia graph on a TapeMachine, the executor the fast plans
// are checked against. It is slow, serialises calls and keeps one graph per
// network and batch size, so the Engine over it should use one chunk size.
type Reference struct {
	mu       sync.Mutex
	machines map[refKey]*refMachine
}

type refKey struct {
	net   *loaders.Network
	batch int
}

// refMachine is a built graph with its TapeMachine and input tensor.
type refMachine struct {
	gr *Graph
	vm G.VM
	in *tensor.Dense
}

// NewReference returns the TapeMachine reference backend.
func NewReference() *Reference {
	return &Reference{machines: map[refKey]*refMachine{}}
}

// Name implements Backend.
func (r *Reference) Name() string { return "gorgonia (TapeMachine reference)" }

// Close implements Backend.
func (r *Reference) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for k, m := range r.machines {
		if err := m.vm.Close(); err != nil && first == nil {
			first = err
		}
		delete(r.machines, k)
	}
	return first
}

// run evaluates net's graph (its Std output when std is set) on n rows of
// x, writing n×Out values into out. Graphs are built per batch size;
// callers hold r.mu.
func (r *Reference) run(net *loaders.Network, std bool, x []float32, n int, out []float32) error {
	if n == 0 {
		return nil
	}
	k := refKey{net, n}
	m := r.machines[k]
	if m == nil {
		gr, err := Build(net, n)
		if err != nil {
			return err
		}
		in := tensor.New(tensor.WithShape(n, net.InputWidth()), tensor.Of(tensor.Float32))
		gorgoniaMu.Lock()
		err = G.Let(gr.Input, in)
		if err == nil {
			m = &refMachine{gr: gr, vm: G.NewTapeMachine(gr.G), in: in}
		}
		gorgoniaMu.Unlock()
		if err != nil {
			return fmt.Errorf("graph: reference %s: %w", net.Path, err)
		}
		r.machines[k] = m
	}
	node := m.gr.Output
	if std {
		if node = m.gr.Std; node == nil {
			return fmt.Errorf("graph: %s is a %s: only a SAC actor has a policy std", net.Path, net.Kind)
		}
	}
	width := net.InputWidth()
	copy(m.in.Data().([]float32), x[:n*width])
	gorgoniaMu.Lock()
	defer gorgoniaMu.Unlock()
	defer m.vm.Reset()
	if err := m.vm.RunAll(); err != nil {
		return fmt.Errorf("graph: reference %s: %w", net.Path, err)
	}
	copy(out, node.Value().Data().([]float32))
	return nil
}

// eval runs net (or its std) on n rows of x under the lock.
func (r *Reference) eval(net *loaders.Network, std bool, x []float32, n int, out []float32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.run(net, std, x, n, out)
}

// Policy implements Backend.
func (r *Reference) Policy(actor *loaders.Network, obs []float32, n int, act []float32) error {
	return r.policy(actor, false, obs, n, act)
}

// PolicyStd implements StdBackend.
func (r *Reference) PolicyStd(actor *loaders.Network, obs []float32, n int, std []float32) error {
	return r.policy(actor, true, obs, n, std)
}

func (r *Reference) policy(actor *loaders.Network, std bool, obs []float32, n int, act []float32) error {
	if err := Validate(actor); err != nil {
		return err
	}
	if isCritic(actor.Kind) {
		return fmt.Errorf("graph: %s is a critic, not an actor", actor.Path)
	}
	if err := checkLen("obs", obs, n*actor.ObsDim); err != nil {
		return err
	}
	if err := checkLen("act", act, n*actor.ActDim); err != nil {
		return err
	}
	return r.eval(actor, std, obs, n, act)
}

// Q implements Backend.
func (r *Reference) Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	for _, c := range []*loaders.Network{c1, c2} {
		if c == nil {
			continue
		}
		if err := Validate(c); err != nil {
			return err
		}
		if !isCritic(c.Kind) {
			return fmt.Errorf("graph: %s is a %s, not a critic", c.Path, c.Kind)
		}
	}
	od, ad := c1.ObsDim, c1.ActDim
	if err := checkLen("obs", obs, n*od); err != nil {
		return err
	}
	if err := checkLen("act", act, n*ad); err != nil {
		return err
	}
	x := make([]float32, n*(od+ad))
	for i := 0; i < n; i++ {
		copy(x[i*(od+ad):], obs[i*od:(i+1)*od])
		copy(x[i*(od+ad)+od:], act[i*ad:(i+1)*ad])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.run(c1, false, x, n, q1); err != nil {
		return err
	}
	if c2 != nil {
		return r.run(c2, false, x, n, q2)
	}
	return nil
}

// QPolicy implements Backend.
func (r *Reference) QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	if err := r.Policy(actor, obs, n, act); err != nil {
		return err
	}
	return r.Q(c1, c2, obs, act, n, q1, q2)
}
