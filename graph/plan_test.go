package graph

import (
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// TestLowerPicksDirectLoopsGEMMsAndOutputDots pins the plan's shape: a narrow
// first layer as direct loops, hidden layers as GEMMs, a one-output layer as
// a dot, an actor's head scaled and a SAC actor cut to its mean.
func TestLowerPicksDirectLoopsGEMMsAndOutputDots(t *testing.T) {
	for _, tc := range []struct {
		shape int
		kind  string
		want  []Op
		out   int
	}{
		{0, "actor", []Op{OpDirect, OpGEMM, OpGEMV}, 1},
		{0, "critic", []Op{OpDirect, OpGEMM, OpGEMV}, 1},
		{2, "actor", []Op{OpDirect, OpGEMM, OpGEMM, OpGEMV}, 1},
		{3, "actor", []Op{OpDirect, OpGEMM, OpGEMV}, 1},
		{4, "actor", []Op{OpGEMM, OpGEMM}, 2},
		{5, "critic", []Op{OpGEMV}, 1},
	} {
		s := nettest.Shapes[tc.shape]
		t.Run(s.Name+"/"+tc.kind, func(t *testing.T) {
			actor, c1, _ := s.Nets(RandomNetwork, 1)
			net := actor
			if tc.kind == "critic" {
				net = c1
			}
			p, err := Lower(net)
			if err != nil {
				t.Fatal(err)
			}
			var got []Op
			for _, st := range p.Steps {
				got = append(got, st.Op)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ops %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ops %v, want %v", got, tc.want)
				}
			}
			if p.Out != tc.out {
				t.Errorf("plan writes %d outputs, want %d", p.Out, tc.out)
			}
			last := p.Steps[len(p.Steps)-1].Epilogue
			if (tc.kind == "actor") != (last == EpScale) {
				t.Errorf("last epilogue %s for a %s", last, tc.kind)
			}
			if !strings.Contains(p.String(), net.Layers[0].Name) {
				t.Errorf("plan text lacks layer names:\n%s", p)
			}
		})
	}
}

// TestValidateRejectsInconsistentNetworks pins errors, not panics, for
// networks whose shapes disagree.
func TestValidateRejectsInconsistentNetworks(t *testing.T) {
	base, critic, _ := nettest.Shapes[0].Nets(RandomNetwork, 1)
	mut := func(f func(n *loaders.Network)) *loaders.Network {
		n := *base
		n.Layers = append([]loaders.Linear(nil), base.Layers...)
		f(&n)
		return &n
	}
	cmut := func(f func(n *loaders.Network)) *loaders.Network {
		n := *critic
		f(&n)
		return &n
	}
	for name, tc := range map[string]struct {
		net  *loaders.Network
		want string
	}{
		"nil":              {nil, "nil network"},
		"no layers":        {mut(func(n *loaders.Network) { n.Layers = nil }), "no Linear layers"},
		"short bias":       {mut(func(n *loaders.Network) { n.Layers[1].B = n.Layers[1].B[:3] }), "bias"},
		"broken chain":     {mut(func(n *loaders.Network) { n.Layers[1].In, n.Layers[1].W = 128, n.Layers[1].W[:128*256] }), "reads"},
		"wrong obs":        {mut(func(n *loaders.Network) { n.ObsDim = 4 }), "observation size"},
		"no bounds":        {mut(func(n *loaders.Network) { n.Low = nil }), "action bounds"},
		"sac outputs":      {mut(func(n *loaders.Network) { n.Kind = loaders.KindSACActor }), "want 2"},
		"unknown kind":     {mut(func(n *loaders.Network) { n.Kind = "vae" }), "unknown network kind"},
		"gelu":             {mut(func(n *loaders.Network) { n.Hidden = "gelu" }), "not supported"},
		"critic split":     {cmut(func(n *loaders.Network) { n.ObsDim, n.ActDim = 0, 0 }), "LoadNetworkAs"},
		"critic mismatch":  {cmut(func(n *loaders.Network) { n.ActDim = 2 }), "want observation 3 + action 2"},
		"critic 2 outputs": {cmut(func(n *loaders.Network) { n.Kind = loaders.KindCritic; n.Layers = base.Layers[:2] }), "outputs"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Validate(tc.net)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
