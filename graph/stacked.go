package graph

import (
	"errors"
	"fmt"
	"math"

	"github.com/rleval/rleval/loaders"
)

// Stacked is implemented by backends that evaluate the networks of many
// runs that share an architecture in one call: a sweep's runs, whose
// weights a GPU stacks per layer so that one strided-batched GEMM per layer
// serves them all instead of one small launch per run and layer.
//
// Slices hold one block per network, in order: with k networks and n rows
// each, obs holds k blocks of n×ObsDim values (block j is network j's
// input), act k blocks of n×ActDim, q1 and q2 k blocks of n values. The
// networks of one argument must share an architecture (SameArchitecture);
// c2 and q2 may be nil, as in Backend.
type Stacked interface {
	// StackedPolicy writes actors[j]'s deterministic actions for block j
	// of obs into block j of act.
	StackedPolicy(actors []*loaders.Network, obs []float32, n int, act []float32) error
	// StackedQ writes c1[j]'s and c2[j]'s values at block j of (obs, act)
	// into block j of q1 and q2.
	StackedQ(c1, c2 []*loaders.Network, obs, act []float32, n int, q1, q2 []float32) error
	// StackedQPolicy computes block j of act = actors[j](obs) and the
	// critics c1[j], c2[j] at it.
	StackedQPolicy(actors, c1, c2 []*loaders.Network, obs []float32, n int, act, q1, q2 []float32) error
}

// AsStacked returns b's own stacked evaluation when it has one, and
// otherwise a loop over b's per-network calls, which gives the same
// results bit for bit.
func AsStacked(b Backend) Stacked {
	if s, ok := b.(Stacked); ok {
		return s
	}
	return stackLoop{b}
}

// StackedPolicy evaluates each actor on its own block, one after another.
func (c *CPU) StackedPolicy(actors []*loaders.Network, obs []float32, n int, act []float32) error {
	return stackLoop{c}.StackedPolicy(actors, obs, n, act)
}

// StackedQ evaluates each pair of critics on its own block, one after
// another.
func (c *CPU) StackedQ(c1, c2 []*loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	return stackLoop{c}.StackedQ(c1, c2, obs, act, n, q1, q2)
}

// StackedQPolicy evaluates each actor and its critics on its own block,
// one after another.
func (c *CPU) StackedQPolicy(actors, c1, c2 []*loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	return stackLoop{c}.StackedQPolicy(actors, c1, c2, obs, n, act, q1, q2)
}

// SameArchitecture reports why nets cannot be evaluated as one stack, or
// nil when they can: the same kind, activation, input and output
// dimensions, layer shapes and, for actors, action bounds (the bounds are
// part of the action head every network of a stack shares).
func SameArchitecture(nets []*loaders.Network) error {
	if len(nets) == 0 {
		return errors.New("empty stack")
	}
	a := nets[0]
	if a == nil {
		return errors.New("stack: network 0 is nil")
	}
	for j, b := range nets[1:] {
		j++
		if b == nil {
			return fmt.Errorf("stack: network %d is nil", j)
		}
		if b.Kind != a.Kind || b.Hidden != a.Hidden || b.ObsDim != a.ObsDim || b.ActDim != a.ActDim || len(b.Layers) != len(a.Layers) {
			return fmt.Errorf("stack: %s (%s, %s, %d→%d, %d layers) and %s (%s, %s, %d→%d, %d layers) differ",
				a.Path, a.Kind, a.Hidden, a.ObsDim, a.ActDim, len(a.Layers), b.Path, b.Kind, b.Hidden, b.ObsDim, b.ActDim, len(b.Layers))
		}
		if b.ActionAt != a.ActionAt {
			return fmt.Errorf("stack: the action enters layer %d of %s but layer %d of %s", a.ActionAt, a.Path, b.ActionAt, b.Path)
		}
		for i := range a.Layers {
			if a.Layers[i].In != b.Layers[i].In || a.Layers[i].Out != b.Layers[i].Out {
				return fmt.Errorf("stack: layer %d is %d×%d in %s, %d×%d in %s", i,
					a.Layers[i].Out, a.Layers[i].In, a.Path, b.Layers[i].Out, b.Layers[i].In, b.Path)
			}
		}
		if !SameFloats(a.Low, b.Low) || !SameFloats(a.High, b.High) {
			return fmt.Errorf("stack: %s and %s have different action bounds", a.Path, b.Path)
		}
	}
	return nil
}

// SameFloats reports whether a and b hold the same float32 values bit for
// bit (NaNs of one payload are equal, 0 and -0 are not).
func SameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// CheckStack validates a stacked request: the networks of each argument
// share an architecture, the critics' inputs match the actors', c2 is nil
// or as long as c1, and every slice holds len(blocks)×n rows. actors or
// c1 may be nil for requests without them. It returns the number of
// networks per argument.
func CheckStack(actors, c1, c2 []*loaders.Network, n int, obs, act, q1, q2 []float32) (int, error) {
	k := max(len(actors), len(c1))
	if k == 0 {
		return 0, errors.New("stack: no networks")
	}
	var od, ad int
	for _, s := range []struct {
		name string
		nets []*loaders.Network
	}{{"actors", actors}, {"critic 1", c1}, {"critic 2", c2}} {
		if s.nets == nil {
			continue
		}
		if len(s.nets) != k {
			return 0, fmt.Errorf("stack: %d %s for %d networks", len(s.nets), s.name, k)
		}
		if err := SameArchitecture(s.nets); err != nil {
			return 0, fmt.Errorf("%s: %w", s.name, err)
		}
		if od == 0 {
			od, ad = s.nets[0].ObsDim, s.nets[0].ActDim
		} else if s.nets[0].ObsDim != od || s.nets[0].ActDim != ad {
			return 0, fmt.Errorf("stack: %s take %d+%d inputs, want %d+%d", s.name, s.nets[0].ObsDim, s.nets[0].ActDim, od, ad)
		}
	}
	if c2 != nil && c1 == nil {
		return 0, errors.New("stack: second critics without first")
	}
	if n < 0 {
		return 0, fmt.Errorf("stack: %d rows", n)
	}
	err := errors.Join(stackLen("obs", obs, k*n*od))
	if act != nil || actors != nil {
		err = errors.Join(err, stackLen("act", act, k*n*ad))
	}
	if c1 != nil {
		err = errors.Join(err, stackLen("q1", q1, k*n))
	}
	if c2 != nil {
		err = errors.Join(err, stackLen("q2", q2, k*n))
	}
	if err != nil {
		return 0, fmt.Errorf("stack of %d: %w", k, err)
	}
	return k, nil
}

// stackLoop evaluates a stack one network at a time on a Backend.
type stackLoop struct{ b Backend }

// block returns block j of s, blocks of size per, or nil for a nil s.
func block(s []float32, j, per int) []float32 {
	if s == nil {
		return nil
	}
	return s[j*per : (j+1)*per]
}

func (l stackLoop) StackedPolicy(actors []*loaders.Network, obs []float32, n int, act []float32) error {
	k, err := CheckStack(actors, nil, nil, n, obs, act, nil, nil)
	if err != nil {
		return err
	}
	od, ad := actors[0].ObsDim, actors[0].ActDim
	for j := range k {
		if err := l.b.Policy(actors[j], block(obs, j, n*od), n, block(act, j, n*ad)); err != nil {
			return fmt.Errorf("stack network %d: %w", j, err)
		}
	}
	return nil
}

func (l stackLoop) StackedQ(c1, c2 []*loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	k, err := CheckStack(nil, c1, c2, n, obs, act, q1, q2)
	if err != nil {
		return err
	}
	if c2 == nil {
		q2 = nil
	}
	od, ad := c1[0].ObsDim, c1[0].ActDim
	for j := range k {
		var cj2 *loaders.Network
		if c2 != nil {
			cj2 = c2[j]
		}
		if err := l.b.Q(c1[j], cj2, block(obs, j, n*od), block(act, j, n*ad), n, block(q1, j, n), block(q2, j, n)); err != nil {
			return fmt.Errorf("stack network %d: %w", j, err)
		}
	}
	return nil
}

func (l stackLoop) StackedQPolicy(actors, c1, c2 []*loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	k, err := CheckStack(actors, c1, c2, n, obs, act, q1, q2)
	if err != nil {
		return err
	}
	if c2 == nil {
		q2 = nil
	}
	od, ad := actors[0].ObsDim, actors[0].ActDim
	for j := range k {
		var cj2 *loaders.Network
		if c2 != nil {
			cj2 = c2[j]
		}
		if err := l.b.QPolicy(actors[j], c1[j], cj2, block(obs, j, n*od), n, block(act, j, n*ad), block(q1, j, n), block(q2, j, n)); err != nil {
			return fmt.Errorf("stack network %d: %w", j, err)
		}
	}
	return nil
}

func stackLen(what string, s []float32, want int) error {
	if len(s) < want {
		return fmt.Errorf("%s has %d values, want %d", what, len(s), want)
	}
	return nil
}
