package worker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// TestRemoteStackedMatchesPerNetworkBitForBit sends stacks of networks
// over the protocol to a CPU server and compares every block with the
// CPU's evaluation of that network alone.
func TestRemoteStackedMatchesPerNetworkBitForBit(t *testing.T) {
	for _, chunk := range []int{0, 7} {
		for i, s := range []nettest.Shape{nettest.Shapes[0], nettest.Shapes[3], nettest.Shapes[4]} {
			t.Run(fmt.Sprintf("%s/chunk%d", s.Name, chunk), func(t *testing.T) {
				const k, n = 4, 45
				var actors, c1, c2 []*loaders.Network
				for j := range k {
					a, q1, q2 := s.Nets(graph.RandomNetwork, uint64(40*i+3*j))
					actors, c1, c2 = append(actors, a), append(c1, q1), append(c2, q2)
				}
				od, ad := s.ObsDim, s.ActDim
				obs := nettest.RandomRows(k*n, od, 3, uint64(i))
				act := nettest.RandomRows(k*n, ad, 2, uint64(i+9))
				cpu := graph.NewCPU(graph.Options{})
				rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{MaxChunkRows: chunk})

				want := map[string][]float32{}
				for j := range k {
					got := evalAll(t, cpu, actors[j], c1[j], c2[j], obs[j*n*od:(j+1)*n*od], act[j*n*ad:(j+1)*n*ad], n)
					for name, v := range got {
						want[name] = append(want[name], v...)
					}
				}
				got := map[string][]float32{
					"policy": make([]float32, k*n*ad), "q1": make([]float32, k*n), "q2": make([]float32, k*n),
					"q1only": make([]float32, k*n), "qp.act": make([]float32, k*n*ad), "qp.q1": make([]float32, k*n), "qp.q2": make([]float32, k*n),
				}
				if err := rem.StackedPolicy(actors, obs, n, got["policy"]); err != nil {
					t.Fatal(err)
				}
				if err := rem.StackedQ(c1, c2, obs, act, n, got["q1"], got["q2"]); err != nil {
					t.Fatal(err)
				}
				if err := rem.StackedQ(c1, nil, obs, act, n, got["q1only"], nil); err != nil {
					t.Fatal(err)
				}
				if err := rem.StackedQPolicy(actors, c1, c2, obs, n, got["qp.act"], got["qp.q1"], got["qp.q2"]); err != nil {
					t.Fatal(err)
				}
				for name := range want {
					sameBits(t, name, got[name], want[name])
				}
				st := rem.Stats()
				if st.Loads != 3*k {
					t.Errorf("uploaded %d networks, want %d (each once)", st.Loads, 3*k)
				}
				if chunk > 0 {
					if wantReq := int64(4 * ((n + chunk - 1) / chunk)); st.Requests != wantReq {
						t.Errorf("%d requests, want %d: one per chunk for the whole stack", st.Requests, wantReq)
					}
				}
				if st.Rows != int64(4*k*n) {
					t.Errorf("%d rows sent, want %d", st.Rows, 4*k*n)
				}
			})
		}
	}
}

func TestServeWireChecksStackedRequests(t *testing.T) {
	actor, c1, c2 := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	other, _, _ := nettest.Shapes[2].Nets(graph.RandomNetwork, 2)
	load := append(append(append(loadFrame(1, actor), loadFrame(2, c1)...), loadFrame(3, c2)...), loadFrame(4, other)...)
	for _, tc := range []struct {
		name string
		fill func(e *wireEnc)
		want string
	}{
		{"unknown what", func(e *wireEnc) { e.u32(9); e.u32(1) }, "unknown stacked evaluation 9"},
		{"no networks", func(e *wireEnc) { e.u32(stackPolicy); e.u32(0) }, "0 networks"},
		{"too many networks", func(e *wireEnc) { e.u32(stackPolicy); e.u32(1 << 30) }, "networks, want 1.."},
		{"mixed architectures", func(e *wireEnc) {
			e.u32(stackPolicy)
			e.u32(2)
			e.u32(1)
			e.u32(4)
			e.u32(1)
			e.floats(make([]float32, 6))
		}, "differ"},
		{"some second critics", func(e *wireEnc) {
			e.u32(stackQ)
			e.u32(2)
			e.u32(2)
			e.u32(2)
			e.u32(3)
			e.u32(0)
			e.u32(1)
			e.floats(make([]float32, 8))
		}, "all or none"},
		{"rows beyond payload", func(e *wireEnc) {
			e.u32(stackPolicy)
			e.u32(2)
			e.u32(1)
			e.u32(1)
			e.u32(1 << 20)
			e.floats(make([]float32, 6))
		}, "payload has 24"},
		{"ok", func(e *wireEnc) {
			e.u32(stackQPolicy)
			e.u32(2)
			e.u32(1)
			e.u32(1)
			e.u32(2)
			e.u32(2)
			e.u32(3)
			e.u32(3)
			e.u32(1)
			e.floats(make([]float32, 6))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, msgs, err := replies(t, append(append([]byte(nil), load...), frame(opStacked, tc.fill)...))
			if err != nil || len(ops) != 5 {
				t.Fatalf("Serve = %v with %d replies, want nil and 5", err, len(ops))
			}
			if tc.want == "" {
				if ops[4] != opStacked|opReply {
					t.Errorf("reply %v %q, want success", ops[4], msgs[4])
				}
			} else if ops[4] != opError || !strings.Contains(msgs[4], tc.want) {
				t.Errorf("reply %v %q, want an error saying %q", ops[4], msgs[4], tc.want)
			}
		})
	}
}

// BenchmarkRemoteStackedQPolicy compares 64 runs' networks evaluated over
// the protocol one request per network with one stacked request, on a
// server that answers at no cost (nullBackend): the per-request overhead
// that stacking removes, apart from any device.
func BenchmarkRemoteStackedQPolicy(b *testing.B) {
	s := nettest.Shapes[0]
	const k, n = 64, 1024
	var actors, c1, c2 []*loaders.Network
	for j := range k {
		a, q1, q2 := s.Nets(graph.RandomNetwork, uint64(j))
		actors, c1, c2 = append(actors, a), append(c1, q1), append(c2, q2)
	}
	obs := nettest.RandomRows(k*n, s.ObsDim, 2, 1)
	act, q1, q2 := make([]float32, k*n), make([]float32, k*n), make([]float32, k*n)
	b.Run("per-network", func(b *testing.B) {
		rem := pipeRemote(b, nullBackend{}, Options{})
		for b.Loop() {
			for j := range k {
				if err := rem.QPolicy(actors[j], c1[j], c2[j], obs[j*n*3:(j+1)*n*3], n, act[j*n:(j+1)*n], q1[j*n:(j+1)*n], q2[j*n:(j+1)*n]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(k*n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("stacked", func(b *testing.B) {
		rem := pipeRemote(b, nullBackend{}, Options{})
		for b.Loop() {
			if err := rem.StackedQPolicy(actors, c1, c2, obs, n, act, q1, q2); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(k*n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// TestEngineStacksCheckpointsThroughTheWorker runs the Engine's stacked
// workload (a run's checkpoints on one grid, DDPG.py critics among them)
// through the wire protocol as stacked requests, and checks it against
// the CPU bit for bit.
func TestEngineStacksCheckpointsThroughTheWorker(t *testing.T) {
	const k = 3
	g, err := graph.NewCoordGrid([]float64{0, 0, 0.5}, 0, graph.Axis{Lo: -3, Hi: 3, N: 23}, 1, graph.Axis{Lo: -8, Hi: 8, N: 19})
	if err != nil {
		t.Fatal(err)
	}
	var actors, c1, c2 []*loaders.Network
	for j := range k {
		actors = append(actors, graph.RandomNetwork(loaders.KindActor, []int{3, 16, 16, 1}, 3, 1, uint64(60+j)))
		c1 = append(c1, graph.RandomActionAtCritic([]int{3, 16, 16, 1}, 1, 1, uint64(70+j)))
		c2 = append(c2, graph.RandomActionAtCritic([]int{3, 16, 16, 1}, 1, 1, uint64(80+j)))
	}
	n := g.Len()
	eval := func(b graph.Backend) [4][][]float32 {
		var out [4][][]float32
		for i := range out {
			for range k {
				out[i] = append(out[i], make([]float32, n))
			}
		}
		e := graph.NewEngine(b, graph.Options{Chunk: 100, Workers: 1})
		if err := e.StackedQPolicy(actors, c1, c2, g, out[0], out[1], out[2], out[3]); err != nil {
			t.Fatal(err)
		}
		return out
	}
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	want, got := eval(graph.NewCPU(graph.Options{})), eval(rem)
	for i, name := range []string{"act", "q1", "q2", "qmin"} {
		for j := range k {
			sameBits(t, fmt.Sprintf("%s[%d]", name, j), got[i][j], want[i][j])
		}
	}
	if st := rem.Stats(); st.Requests == 0 {
		t.Error("no request reached the worker")
	}
}
