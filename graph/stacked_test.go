package graph

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// stackOf returns k actors and 2k critics of shape s, each network with
// its own weights, as a sweep's runs have.
func stackOf(s nettest.Shape, k int, seed uint64) (actors, c1, c2 []*loaders.Network) {
	for j := range k {
		a, q1, q2 := s.Nets(RandomNetwork, seed+uint64(10*j))
		actors, c1, c2 = append(actors, a), append(c1, q1), append(c2, q2)
	}
	return actors, c1, c2
}

func sameBitsStack(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v bit for bit", what, i, got[i], want[i])
		}
	}
}

// TestCPUStackedEqualsPerNetworkBitForBit pins the contract of Stacked on
// the CPU: block j of every output is what network j alone gives.
func TestCPUStackedEqualsPerNetworkBitForBit(t *testing.T) {
	for i, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			const k, n = 5, 97
			actors, c1, c2 := stackOf(s, k, uint64(300+i))
			obs := nettest.RandomRows(k*n, s.ObsDim, 3, uint64(i))
			act := nettest.RandomRows(k*n, s.ActDim, 2, uint64(i+7))
			od, ad := s.ObsDim, s.ActDim
			cpu := NewCPU(Options{})

			want := map[string][]float32{}
			for j := range k {
				o, a := obs[j*n*od:(j+1)*n*od], act[j*n*ad:(j+1)*n*ad]
				pa, q1, q2 := make([]float32, n*ad), make([]float32, n), make([]float32, n)
				qa, qp1, qp2 := make([]float32, n*ad), make([]float32, n), make([]float32, n)
				if err := cpu.Policy(actors[j], o, n, pa); err != nil {
					t.Fatal(err)
				}
				if err := cpu.Q(c1[j], c2[j], o, a, n, q1, q2); err != nil {
					t.Fatal(err)
				}
				if err := cpu.QPolicy(actors[j], c1[j], c2[j], o, n, qa, qp1, qp2); err != nil {
					t.Fatal(err)
				}
				for name, v := range map[string][]float32{"policy": pa, "q1": q1, "q2": q2, "qp.act": qa, "qp.q1": qp1, "qp.q2": qp2} {
					want[name] = append(want[name], v...)
				}
			}

			got := map[string][]float32{
				"policy": make([]float32, k*n*ad), "q1": make([]float32, k*n), "q2": make([]float32, k*n),
				"q1only": make([]float32, k*n), "qp.act": make([]float32, k*n*ad), "qp.q1": make([]float32, k*n), "qp.q2": make([]float32, k*n),
			}
			var st Stacked = cpu
			if err := st.StackedPolicy(actors, obs, n, got["policy"]); err != nil {
				t.Fatal(err)
			}
			if err := st.StackedQ(c1, c2, obs, act, n, got["q1"], got["q2"]); err != nil {
				t.Fatal(err)
			}
			if err := st.StackedQ(c1, nil, obs, act, n, got["q1only"], nil); err != nil {
				t.Fatal(err)
			}
			if err := st.StackedQPolicy(actors, c1, c2, obs, n, got["qp.act"], got["qp.q1"], got["qp.q2"]); err != nil {
				t.Fatal(err)
			}
			want["q1only"] = want["q1"]
			for name := range got {
				sameBitsStack(t, name, got[name], want[name])
			}
		})
	}
}

// TestAsStackedLoopsOverAnyBackend checks that a Backend without its own
// stacked evaluation gets the loop, with the same results as the CPU's.
func TestAsStackedLoopsOverAnyBackend(t *testing.T) {
	s := nettest.Shapes[4]
	const k, n = 3, 11
	actors, c1, c2 := stackOf(s, k, 1)
	obs := nettest.RandomRows(k*n, s.ObsDim, 1, 2)
	var plain struct{ Backend }
	plain.Backend = NewCPU(Options{})
	loop := AsStacked(plain)
	if _, ok := loop.(*CPU); ok {
		t.Fatal("AsStacked of a wrapped backend returned the CPU itself")
	}
	if got := AsStacked(NewCPU(Options{})); got == nil {
		t.Fatal("AsStacked(CPU) = nil")
	}
	got := [3][]float32{make([]float32, k*n*s.ActDim), make([]float32, k*n), make([]float32, k*n)}
	want := [3][]float32{make([]float32, k*n*s.ActDim), make([]float32, k*n), make([]float32, k*n)}
	if err := loop.StackedQPolicy(actors, c1, c2, obs, n, got[0], got[1], got[2]); err != nil {
		t.Fatal(err)
	}
	if err := NewCPU(Options{}).StackedQPolicy(actors, c1, c2, obs, n, want[0], want[1], want[2]); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		sameBitsStack(t, fmt.Sprint("output ", i), got[i], want[i])
	}
}

func TestStackRejectsMixedArchitecturesAndShortSlices(t *testing.T) {
	a, c1, c2 := nettest.Shapes[0].Nets(RandomNetwork, 1)
	b, d1, _ := nettest.Shapes[2].Nets(RandomNetwork, 2)
	wide, _, _ := nettest.Shapes[4].Nets(RandomNetwork, 3)
	moved, _, _ := nettest.Shapes[0].Nets(RandomNetwork, 4)
	moved.High = []float32{7}
	cpu := NewCPU(Options{})
	n := 4
	obs, act := make([]float32, 2*n*3), make([]float32, 2*n)
	q1, q2 := make([]float32, 2*n), make([]float32, 2*n)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"layers", cpu.StackedPolicy([]*loaders.Network{a, b}, obs, n, act), "differ"},
		{"dims", cpu.StackedPolicy([]*loaders.Network{a, wide}, obs, n, act), "differ"},
		{"bounds", cpu.StackedPolicy([]*loaders.Network{a, moved}, obs, n, act), "action bounds"},
		{"critics", cpu.StackedQ([]*loaders.Network{c1, d1}, nil, obs, act, n, q1, nil), "differ"},
		{"count", cpu.StackedQPolicy([]*loaders.Network{a, a}, []*loaders.Network{c1}, nil, obs, n, act, q1, nil), "1 critic 1 for 2"},
		{"short obs", cpu.StackedPolicy([]*loaders.Network{a, a}, obs[:5], n, act), "obs has 5 values"},
		{"short q2", cpu.StackedQ([]*loaders.Network{c1, c1}, []*loaders.Network{c2, c2}, obs, act, n, q1, q2[:1]), "q2 has 1 values"},
		{"empty", cpu.StackedPolicy(nil, obs, n, act), "no networks"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, tc.err, tc.want)
		}
	}
}

// TestEngineStackedQPolicyEqualsOneAtATime checks the Engine's stacked
// workload (checkpoints of a run on one grid) against each network's own
// QPolicy, bit for bit on the CPU, over chunks that do not divide the
// rows, with and without second critics.
func TestEngineStackedQPolicyEqualsOneAtATime(t *testing.T) {
	const k = 4
	g, err := NewCoordGrid([]float64{0, 0, 0.5}, 0, Axis{Lo: -3, Hi: 3, N: 37}, 1, Axis{Lo: -8, Hi: 8, N: 29})
	if err != nil {
		t.Fatal(err)
	}
	var actors, c1, c2 []*loaders.Network
	for j := range k {
		actors = append(actors, RandomNetwork(loaders.KindActor, []int{3, 32, 32, 1}, 3, 1, uint64(10+j)))
		c1 = append(c1, RandomNetwork(loaders.KindCritic, []int{4, 32, 32, 1}, 3, 1, uint64(20+j)))
		c2 = append(c2, RandomNetwork(loaders.KindCritic, []int{4, 32, 32, 1}, 3, 1, uint64(30+j)))
	}
	e := NewEngine(NewCPU(Options{}), Options{Chunk: 100, Workers: 3})
	n := g.Len()
	for _, twin := range []bool{true, false} {
		mk := func() [][]float32 {
			out := make([][]float32, k)
			for j := range out {
				out[j] = make([]float32, n)
			}
			return out
		}
		act, q1, q2, qm := mk(), mk(), mk(), mk()
		sc2 := c2
		if !twin {
			sc2, q2, qm = nil, nil, nil
		}
		if err := e.StackedQPolicy(actors, c1, sc2, g, act, q1, q2, qm); err != nil {
			t.Fatal(err)
		}
		for j := range k {
			wa, w1, w2, wm := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			var cj2 *loaders.Network
			if twin {
				cj2 = c2[j]
			}
			if err := e.QPolicy(actors[j], c1[j], cj2, g, wa, w1, w2, wm); err != nil {
				t.Fatal(err)
			}
			same := func(what string, got, want []float32) {
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("twin=%v network %d %s[%d] = %v, alone %v", twin, j, what, i, got[i], want[i])
					}
				}
			}
			same("act", act[j], wa)
			same("q1", q1[j], w1)
			if twin {
				same("q2", q2[j], w2)
				same("qmin", qm[j], wm)
			}
		}
	}
}
