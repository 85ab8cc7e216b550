//go:build !rlcuda

// Without the rlcuda tag this test binary links no CUDA code (see
// kernels_host_test.go), so the host-side parts of the plan evaluation
// are tested anywhere.

package cuda

import (
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

func lower(t *testing.T, net *loaders.Network) *graph.Plan {
	t.Helper()
	p, err := graph.Lower(net)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTorchLayoutIsTheTransposedPlanWeight checks that the weights the
// device multiplies as x·Wᵀ (layerGemm) give the plan's x·W.
func TestTorchLayoutIsTheTransposedPlanWeight(t *testing.T) {
	net := graph.RandomNetwork(loaders.KindSACActor, []int{3, 5, 4}, 3, 2, 1)
	p := lower(t, net)
	for i := range p.Steps {
		s := &p.Steps[i]
		wt := torchLayout(s)
		x := make([]float32, s.In)
		for k := range x {
			x[k] = float32(k) - 1.5
		}
		for o := 0; o < s.Out; o++ {
			var plan, dev float32
			for k := 0; k < s.In; k++ {
				plan += x[k] * s.W[k*s.Out+o]
				dev += x[k] * wt[o*s.In+k]
			}
			if plan != dev {
				t.Errorf("step %d output %d: x·W = %v, x·Wᵀ of the device layout = %v", i, o, plan, dev)
			}
		}
	}
	// The SAC head's step holds the mean half only: its weights are the
	// first ActDim rows of torch's last layer.
	last := &p.Steps[len(p.Steps)-1]
	l := net.Layers[len(net.Layers)-1]
	wt := torchLayout(last)
	for i, v := range wt {
		if v != l.W[i] {
			t.Fatalf("SAC mean head weight %d = %v, torch's = %v", i, v, l.W[i])
		}
	}
}

// TestStackableNeedsEqualEpiloguesAndNorms checks which plans the device
// stacks: a sweep's (other weights, same architecture, bounds, epilogue
// parameters and normalisation) do; others run one at a time.
func TestStackableNeedsEqualEpiloguesAndNorms(t *testing.T) {
	norm := func(m float32) *loaders.InputNorm {
		return &loaders.InputNorm{Mean: []float32{m, 0, 0}, Std: []float32{1, 2, 3}, Clip: 5}
	}
	mk := func(seed uint64, tweak func(*loaders.Network)) *graph.Plan {
		n := graph.RandomNetwork(loaders.KindActor, []int{3, 8, 1}, 3, 1, seed)
		n.InputNorm, n.Hidden = norm(0), loaders.LeakyReLU
		if tweak != nil {
			tweak(n)
		}
		return lower(t, n)
	}
	base := mk(1, nil)
	for _, c := range []struct {
		name  string
		other *graph.Plan
		ok    bool
	}{
		{"other weights", mk(2, nil), true},
		{"other norm", mk(3, func(n *loaders.Network) { n.InputNorm = norm(1) }), false},
		{"no norm", mk(4, func(n *loaders.Network) { n.InputNorm = nil }), false},
		{"other activation", mk(5, func(n *loaders.Network) { n.Hidden = loaders.ELU }), false},
		{"mean clamp", mk(6, func(n *loaders.Network) { n.MeanClip = 1 }), false},
		{"other bounds", mk(7, func(n *loaders.Network) { n.High = []float32{3} }), false},
	} {
		err := stackable([]*graph.Plan{base, c.other})
		if (err == nil) != c.ok {
			t.Errorf("%s: stackable = %v, want stackable %v", c.name, err, c.ok)
		}
	}
}
