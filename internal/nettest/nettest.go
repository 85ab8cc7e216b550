// Package nettest holds the test networks, inputs, float64 reference and
// tolerance check that the tests of graph, worker and bench share: the one
// place the parity tests' shapes and the ANALYSES.md tolerance are written.
//
// It must not import graph: graph's own tests import it. Shape.Nets takes
// the network constructor (graph.RandomNetwork) as a parameter instead.
package nettest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rleval/rleval/loaders"
)

// RandomRows returns n×dim values uniform in [-scale, scale].
func RandomRows(n, dim int, scale float64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * scale)
	}
	return v
}

// Ref64 evaluates net on one input row in float64: the plain reference the
// plan and the Gorgonia graph are both checked against. The hidden
// activation is tanh for loaders.Tanh and ReLU otherwise; an actor's first
// ActDim outputs go through tanh and are scaled to [Low, High], a critic's
// come back as they are. A critic whose action enters a later layer
// (ActionAt) gets x's observation first and its action there. MeanClip and
// InputNorm are not applied: the random networks the tests build have
// neither.
func Ref64(net *loaders.Network, x []float32) []float64 {
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	if net.ActionAt > 0 {
		cur = cur[:net.ObsDim]
	}
	for li, l := range net.Layers {
		if li > 0 && li == net.ActionAt {
			for _, v := range x[net.ObsDim:] {
				cur = append(cur, float64(v))
			}
		}
		next := make([]float64, l.Out)
		for o := range next {
			s := float64(l.B[o])
			for k := 0; k < l.In; k++ {
				s += float64(l.W[o*l.In+k]) * cur[k]
			}
			if li < len(net.Layers)-1 {
				if net.Hidden == loaders.Tanh {
					s = math.Tanh(s)
				} else {
					s = math.Max(s, 0)
				}
			}
			next[o] = s
		}
		cur = next
	}
	if net.Kind == loaders.KindCritic {
		return cur
	}
	a := make([]float64, net.ActDim)
	for j := range a {
		lo, hi := float64(net.Low[j]), float64(net.High[j])
		a[j] = lo + (math.Tanh(cur[j])+1)*(hi-lo)/2
	}
	return a
}

// CheckClose compares got with want under the tolerance of ANALYSES.md:
// |Δ| ≤ 1e-5·max(1, max|want|) + 1e-4·|want|.
func CheckClose(t testing.TB, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	m := 1.0
	for _, w := range want {
		m = math.Max(m, math.Abs(w))
	}
	bad := 0
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if !(d <= 1e-5*m+1e-4*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v (|Δ| = %.3g)", what, i, got[i], w, d)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values outside tolerance", what, bad, len(want))
	}
}

// Shape is one network shape the parity tests cover.
type Shape struct {
	Name           string
	Actor, Critic  []int // layer widths, input first
	ObsDim, ActDim int
	SAC            bool
}

// Shapes are the shapes the parity tests cover; tests pick some by index.
var Shapes = []Shape{
	{"td3-256x256", []int{3, 256, 256, 1}, []int{4, 256, 256, 1}, 3, 1, false},
	{"gen2-400x300", []int{4, 400, 300, 1}, []int{5, 400, 300, 1}, 4, 1, false},
	{"legacy-64x64x64", []int{3, 64, 64, 64, 1}, []int{4, 64, 64, 64, 1}, 3, 1, false},
	{"sac-256x256", []int{3, 256, 256, 2}, []int{4, 256, 256, 1}, 3, 1, true},
	{"wide-input-2d-action", []int{11, 32, 2}, []int{13, 48, 1}, 11, 2, false},
	{"one-layer", []int{3, 1}, []int{4, 1}, 3, 1, false},
}

// NewNetwork makes a network of kind with the given layer widths from seed:
// graph.RandomNetwork, which nettest cannot import.
type NewNetwork func(kind loaders.NetKind, widths []int, obsDim, actDim int, seed uint64) *loaders.Network

// Nets returns an actor and two critics of the shape, made by newNet with
// seed, seed+1 and seed+2.
func (s Shape) Nets(newNet NewNetwork, seed uint64) (actor, c1, c2 *loaders.Network) {
	kind := loaders.KindActor
	if s.SAC {
		kind = loaders.KindSACActor
	}
	return newNet(kind, s.Actor, s.ObsDim, s.ActDim, seed),
		newNet(loaders.KindCritic, s.Critic, s.ObsDim, s.ActDim, seed+1),
		newNet(loaders.KindCritic, s.Critic, s.ObsDim, s.ActDim, seed+2)
}
