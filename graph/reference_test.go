package graph

import (
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// TestReferenceAndPlanMatchFloat64 cross-checks the three executors on every
// test shape: the Gorgonia TapeMachine, the CPU plan, and plain float64.
func TestReferenceAndPlanMatchFloat64(t *testing.T) {
	for _, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			actor, c1, c2 := s.Nets(RandomNetwork, 21)
			const n = 97
			obs := nettest.RandomRows(n, s.ObsDim, 3, 4)
			ref := NewReference()
			defer ref.Close()
			cpu := NewCPU(Options{})
			for _, b := range []Backend{ref, cpu} {
				a := make([]float32, n*s.ActDim)
				q1, q2 := make([]float32, n), make([]float32, n)
				if err := b.QPolicy(actor, c1, c2, obs, n, a, q1, q2); err != nil {
					t.Fatalf("%s: %v", b.Name(), err)
				}
				wantA, wantQ1, wantQ2 := refAll(actor, c1, c2, obs, a, n)
				nettest.CheckClose(t, b.Name()+" act", a, wantA)
				nettest.CheckClose(t, b.Name()+" q1", q1, wantQ1)
				nettest.CheckClose(t, b.Name()+" q2", q2, wantQ2)
			}
		})
	}
}

// TestGraphDescribesEveryLayer pins what inspect prints: kind, widths and
// one line per layer with its ops.
func TestGraphDescribesEveryLayer(t *testing.T) {
	for _, s := range nettest.Shapes {
		actor, c1, _ := s.Nets(RandomNetwork, 1)
		for _, net := range []*struct{ kind, head string }{{"actor", "Tanh"}, {"critic", "q"}} {
			n := actor
			if net.kind == "critic" {
				n = c1
			}
			g, err := Build(n, 1)
			if err != nil {
				t.Fatal(err)
			}
			d := g.Describe()
			if !strings.Contains(d, "MatMul, BroadcastAdd") || !strings.Contains(d, net.head) {
				t.Errorf("%s %s description lacks ops:\n%s", s.Name, net.kind, d)
			}
			if got := strings.Count(d, "Linear"); got != len(n.Layers) {
				t.Errorf("%s %s: %d layer lines, want %d:\n%s", s.Name, net.kind, got, len(n.Layers), d)
			}
			if s.SAC && net.kind == "actor" && !strings.Contains(d, "mean") {
				t.Errorf("SAC actor description lacks the mean head:\n%s", d)
			}
		}
	}
}

func TestBuildRejectsBrokenNetworks(t *testing.T) {
	actor, _, _ := nettest.Shapes[0].Nets(RandomNetwork, 1)
	broken := *actor
	broken.Layers = append(broken.Layers[:0:0], actor.Layers...)
	broken.Layers[1].W = broken.Layers[1].W[:10]
	for name, tc := range map[string]struct {
		net   any
		batch int
	}{
		"short weight": {&broken, 1},
		"zero batch":   {actor, 0},
		"action into an actor": {func() *loaders.Network {
			a := *actor
			a.ActionAt = 1
			return &a
		}(), 1},
		"action past the last layer": {func() *loaders.Network {
			c := RandomActionAtCritic([]int{3, 8, 8, 1}, 1, 1, 2)
			c.ActionAt = 3
			return c
		}(), 1},
		"action layer too narrow": {func() *loaders.Network {
			c := RandomActionAtCritic([]int{3, 8, 8, 1}, 1, 1, 2)
			c.ActDim = 2
			return c
		}(), 1},
	} {
		t.Run(name, func(t *testing.T) {
			n := tc.net.(*loaders.Network)
			if _, err := Build(n, tc.batch); err == nil {
				t.Error("built")
			}
		})
	}
}
