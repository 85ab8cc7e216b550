package nettest

import (
	"fmt"
	"math"
	"testing"

	"github.com/rleval/rleval/loaders"
)

func TestRef64AppliesHiddenActivationAndActorHead(t *testing.T) {
	// 1 → 2 → 1: hidden pre-activations 0.5 and -0.5, output 1·h0 + 1·h1 + 0.25.
	layers := []loaders.Linear{
		{In: 1, Out: 2, W: []float32{1, -1}, B: []float32{0, 0}},
		{In: 2, Out: 1, W: []float32{1, 1}, B: []float32{0.25}},
	}
	x := []float32{0.5}
	relu, tanh := 0.25+0.5+0, 0.25+math.Tanh(0.5)+math.Tanh(-0.5)
	tests := []struct {
		kind   loaders.NetKind
		hidden loaders.Activation
		want   float64
	}{
		{loaders.KindCritic, loaders.ReLU, relu},
		{loaders.KindCritic, loaders.Tanh, tanh},
		{loaders.KindActor, loaders.ReLU, -1 + (math.Tanh(relu)+1)*3/2},
	}
	for _, tt := range tests {
		net := &loaders.Network{Kind: tt.kind, Hidden: tt.hidden, Layers: layers, ObsDim: 1, ActDim: 1,
			Low: []float32{-1}, High: []float32{2}}
		if got := Ref64(net, x); len(got) != 1 || math.Abs(got[0]-tt.want) > 1e-12 {
			t.Errorf("%s %s: Ref64 = %v, want [%v]", tt.kind, tt.hidden, got, tt.want)
		}
	}
}

// errCount is a testing.TB that counts Errorf calls instead of failing.
type errCount struct {
	testing.TB
	n int
}

func (c *errCount) Errorf(string, ...any) { c.n++ }

func TestCheckCloseToleranceBoundary(t *testing.T) {
	want := []float64{10, -2, 0}
	// max|want| = 10: |Δ| ≤ 1e-4 + 1e-4·|want|, i.e. 1.1e-3, 3e-4 and 1e-4.
	inside := []float32{10 + 1e-3, -2 - 2.5e-4, 9e-5}
	outside := []float32{10 + 1.5e-3, -2, 0}
	c := &errCount{TB: t}
	CheckClose(c, "inside", inside, want)
	if c.n != 0 {
		t.Errorf("values inside the tolerance: %d errors, want none", c.n)
	}
	c = &errCount{TB: t}
	CheckClose(c, "outside", outside, want)
	if c.n != 2 {
		t.Errorf("one value outside the tolerance: %d errors, want 2 (the value and the count)", c.n)
	}
}

func TestShapeNetsUsesTheKindsAndSeeds(t *testing.T) {
	type call struct {
		kind   loaders.NetKind
		widths []int
		seed   uint64
	}
	var calls []call
	newNet := func(kind loaders.NetKind, widths []int, obsDim, actDim int, seed uint64) *loaders.Network {
		calls = append(calls, call{kind, widths, seed})
		return &loaders.Network{Kind: kind, ObsDim: obsDim, ActDim: actDim}
	}
	for _, s := range Shapes {
		calls = nil
		a, c1, c2 := s.Nets(newNet, 7)
		kind := loaders.KindActor
		if s.SAC {
			kind = loaders.KindSACActor
		}
		if a.Kind != kind || c1.Kind != loaders.KindCritic || c2.Kind != loaders.KindCritic ||
			a.ObsDim != s.ObsDim || a.ActDim != s.ActDim || len(calls) != 3 ||
			calls[0].seed != 7 || calls[1].seed != 8 || calls[2].seed != 9 ||
			fmt.Sprint(calls[0].widths) != fmt.Sprint(s.Actor) || fmt.Sprint(calls[1].widths) != fmt.Sprint(s.Critic) {
			t.Errorf("%s: calls %v", s.Name, calls)
		}
	}
}
