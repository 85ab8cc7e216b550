package graph

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

func TestCPUMatchesFloat64Reference(t *testing.T) {
	for _, s := range nettest.Shapes {
		for _, chunk := range []int{1, 7, 64, DefaultCPUChunk} {
			t.Run(fmt.Sprintf("%s/chunk%d", s.Name, chunk), func(t *testing.T) {
				actor, c1, c2 := s.Nets(RandomNetwork, 1)
				const n = 300
				obs := nettest.RandomRows(n, s.ObsDim, 3, 2)
				act := nettest.RandomRows(n, s.ActDim, 2, 3)
				b := NewCPU(Options{Chunk: chunk})
				gotA := make([]float32, n*s.ActDim)
				q1, q2 := make([]float32, n), make([]float32, n)
				if err := b.Policy(actor, obs, n, gotA); err != nil {
					t.Fatal(err)
				}
				if err := b.Q(c1, c2, obs, act, n, q1, q2); err != nil {
					t.Fatal(err)
				}
				wantA, wantQ1, wantQ2 := refAll(actor, c1, c2, obs, act, n)
				nettest.CheckClose(t, "policy", gotA, wantA)
				nettest.CheckClose(t, "q1", q1, wantQ1)
				nettest.CheckClose(t, "q2", q2, wantQ2)

				pa := make([]float32, n*s.ActDim)
				if err := b.QPolicy(actor, c1, c2, obs, n, pa, q1, q2); err != nil {
					t.Fatal(err)
				}
				_, wantQ1, wantQ2 = refAll(nil, c1, c2, obs, pa, n)
				nettest.CheckClose(t, "qpolicy act", pa, wantA)
				nettest.CheckClose(t, "qpolicy q1", q1, wantQ1)
				nettest.CheckClose(t, "qpolicy q2", q2, wantQ2)
			})
		}
	}
}

// TestActionAtCriticMatchesFloat64 checks sfujim/TD3 DDPG.py's critic
// (the action joining the first layer's output at the second layer) on
// the CPU plan and the TapeMachine against plain float64, over chunkings
// that pad the concatenated rows.
func TestActionAtCriticMatchesFloat64(t *testing.T) {
	const od, ad, n = 3, 2, 300
	for _, at := range []int{1, 2} {
		for _, tile := range []int{64, DefaultCPUTile} {
			t.Run(fmt.Sprintf("at%d/tile%d", at, tile), func(t *testing.T) {
				c1 := RandomActionAtCritic([]int{od, 256, 64, 1}, ad, at, 5)
				c2 := RandomActionAtCritic([]int{od, 256, 64, 1}, ad, at, 6)
				if err := Validate(c1); err != nil {
					t.Fatal(err)
				}
				gr, err := Build(c1, 2)
				if err != nil {
					t.Fatal(err)
				}
				if d := gr.Describe(); !strings.Contains(d, "act[2] enters at layer "+c1.Layers[at].Name) || !strings.Contains(d, "Concat action, MatMul") {
					t.Errorf("Describe does not say where the action enters:\n%s", d)
				}
				obs, act := nettest.RandomRows(n, od, 3, 2), nettest.RandomRows(n, ad, 2, 3)
				_, w1, w2 := refAll(nil, c1, c2, obs, act, n)
				ref := NewReference()
				defer ref.Close()
				for _, b := range []Backend{NewCPU(Options{Tile: tile}), ref} {
					q1, q2 := make([]float32, n), make([]float32, n)
					if err := b.Q(c1, c2, obs, act, n, q1, q2); err != nil {
						t.Fatal(err)
					}
					nettest.CheckClose(t, b.Name()+" q1", q1, w1)
					nettest.CheckClose(t, b.Name()+" q2", q2, w2)
				}
			})
		}
	}
}

// refAll evaluates actor (if not nil) on obs and both critics on (obs, act)
// with the float64 reference.
func refAll(actor, c1, c2 *loaders.Network, obs, act []float32, n int) (a, q1, q2 []float64) {
	od, ad := c1.ObsDim, c1.ActDim
	x := make([]float32, od+ad)
	for r := 0; r < n; r++ {
		if actor != nil {
			a = append(a, nettest.Ref64(actor, obs[r*od:(r+1)*od])...)
		}
		copy(x, obs[r*od:(r+1)*od])
		copy(x[od:], act[r*ad:(r+1)*ad])
		q1 = append(q1, nettest.Ref64(c1, x)[0])
		q2 = append(q2, nettest.Ref64(c2, x)[0])
	}
	return a, q1, q2
}

// TestCPUResultsDoNotDependOnChunking pins that a row's value is the same
// bit for bit whether it is evaluated alone or among many rows, so Engine
// results do not depend on chunk size or worker count; in a build that is
// not BitReproducible (OpenBLAS), within ANALYSES.md's tolerance.
func TestCPUResultsDoNotDependOnChunking(t *testing.T) {
	for i, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			actor, c1, c2 := s.Nets(RandomNetwork, uint64(100+i))
			const n = 301
			obs := nettest.RandomRows(n, s.ObsDim, 3, uint64(i))
			whole := NewCPU(Options{})
			wantA, wantQ1, wantQ2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
			if err := whole.QPolicy(actor, c1, c2, obs, n, wantA, wantQ1, wantQ2); err != nil {
				t.Fatal(err)
			}
			for _, step := range []int{1, 3, 37, 64, 65, 200} {
				b := NewCPU(Options{Tile: 64})
				gotA, gotQ1, gotQ2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
				for off := 0; off < n; off += step {
					m := min(step, n-off)
					ad := s.ActDim
					if err := b.QPolicy(actor, c1, c2, obs[off*s.ObsDim:(off+m)*s.ObsDim], m,
						gotA[off*ad:(off+m)*ad], gotQ1[off:off+m], gotQ2[off:off+m]); err != nil {
						t.Fatal(err)
					}
				}
				if !BitReproducible {
					nettest.CheckClose(t, fmt.Sprintf("step %d act", step), gotA, f64(wantA))
					nettest.CheckClose(t, fmt.Sprintf("step %d q1", step), gotQ1, f64(wantQ1))
					nettest.CheckClose(t, fmt.Sprintf("step %d q2", step), gotQ2, f64(wantQ2))
					continue
				}
				for k := range wantA {
					if math.Float32bits(gotA[k]) != math.Float32bits(wantA[k]) {
						t.Fatalf("step %d: act[%d] = %v, want %v", step, k, gotA[k], wantA[k])
					}
				}
				for k := range wantQ1 {
					if math.Float32bits(gotQ1[k]) != math.Float32bits(wantQ1[k]) || math.Float32bits(gotQ2[k]) != math.Float32bits(wantQ2[k]) {
						t.Fatalf("step %d: q[%d] = %v %v, want %v %v", step, k, gotQ1[k], gotQ2[k], wantQ1[k], wantQ2[k])
					}
				}
			}
		})
	}
}

func TestCPUForgetReleasesAPreparedNetwork(t *testing.T) {
	c := NewCPU(Options{Workers: 1})
	net := RandomNetwork(loaders.KindActor, []int{3, 8, 1}, 3, 1, 1)
	obs := make([]float32, 3)
	act := make([]float32, 1)
	if err := c.Policy(net, obs, 1, act); err != nil {
		t.Fatal(err)
	}
	if len(c.nets) != 1 {
		t.Fatalf("%d networks cached, want 1", len(c.nets))
	}
	if err := NewEngine(c, Options{}).Forget(net, nil); err != nil {
		t.Fatal(err)
	}
	if len(c.nets) != 0 {
		t.Fatalf("%d networks cached after Forget, want 0", len(c.nets))
	}
	again := make([]float32, 1)
	if err := c.Policy(net, obs, 1, again); err != nil || again[0] != act[0] {
		t.Fatalf("after Forget: %v, %v want %v", err, again, act)
	}
}
