package graph

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// TestEngineChunkBoundaries pins that every row is evaluated exactly once
// whatever the chunking: n a multiple of the chunk or not, n < chunk, n = 1.
func TestEngineChunkBoundaries(t *testing.T) {
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(RandomNetwork, 5)
	for _, tc := range []struct{ n, chunk, workers int }{
		{1, 64, 2}, {63, 64, 2}, {64, 64, 2}, {65, 64, 2}, {1000, 64, 3}, {1000, 128, 1}, {129, 4096, 2},
	} {
		t.Run(fmt.Sprintf("n%d-chunk%d-workers%d", tc.n, tc.chunk, tc.workers), func(t *testing.T) {
			obsv := nettest.RandomRows(tc.n, s.ObsDim, 3, 9)
			actv := nettest.RandomRows(tc.n, s.ActDim, 2, 10)
			obs, _ := NewSliceRows(obsv, s.ObsDim)
			act, _ := NewSliceRows(actv, s.ActDim)
			e := NewEngine(NewCPU(Options{}), Options{Chunk: tc.chunk, Workers: tc.workers})
			var progress []int
			e.Progress = func(done, total int) {
				if total != tc.n {
					t.Errorf("progress total %d, want %d", total, tc.n)
				}
				progress = append(progress, done)
			}
			pa := make([]float32, tc.n)
			if err := e.Policy(actor, obs, pa); err != nil {
				t.Fatal(err)
			}
			if got := progress[len(progress)-1]; got != tc.n {
				t.Errorf("progress ended at %d, want %d", got, tc.n)
			}
			q1, q2, qm := make([]float32, tc.n), make([]float32, tc.n), make([]float32, tc.n)
			if err := e.Q(c1, c2, obs, act, q1, q2, qm); err != nil {
				t.Fatal(err)
			}
			wantA, wantQ1, wantQ2 := refAll(actor, c1, c2, obsv, actv, tc.n)
			nettest.CheckClose(t, "policy", pa, wantA)
			nettest.CheckClose(t, "q1", q1, wantQ1)
			nettest.CheckClose(t, "q2", q2, wantQ2)
			nettest.CheckClose(t, "qmin", qm, minOf(wantQ1, wantQ2))

			pa2 := make([]float32, tc.n)
			if err := e.QPolicy(actor, c1, c2, obs, pa2, q1, q2, qm); err != nil {
				t.Fatal(err)
			}
			_, wantQ1, wantQ2 = refAll(nil, c1, c2, obsv, pa2, tc.n)
			nettest.CheckClose(t, "qpolicy act", pa2, wantA)
			nettest.CheckClose(t, "qpolicy qmin", qm, minOf(wantQ1, wantQ2))

			// The stream delivers the same values, in row order.
			next := 0
			err := e.QPolicyStream(actor, c1, c2, obs, func(start int, v ...[]float32) error {
				if start != next {
					t.Fatalf("chunk at %d, want %d", start, next)
				}
				if len(v) != 4 {
					t.Fatalf("stream gave %d outputs, want 4", len(v))
				}
				for i, x := range v[3] {
					if x != qm[start+i] {
						t.Fatalf("streamed qmin[%d] = %v, want %v", start+i, x, qm[start+i])
					}
				}
				next += len(v[3])
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if next != tc.n {
				t.Errorf("stream delivered %d rows, want %d", next, tc.n)
			}
		})
	}
}

func minOf(a, b []float64) []float64 {
	m := make([]float64, len(a))
	for i := range a {
		m[i] = min(a[i], b[i])
	}
	return m
}

// TestEngineOneCriticLeavesQ2Unwritten pins that a nil second critic gives
// q1 only, and nil outputs in the stream.
func TestEngineOneCriticLeavesQ2Unwritten(t *testing.T) {
	s := nettest.Shapes[2]
	actor, c1, _ := s.Nets(RandomNetwork, 3)
	const n = 100
	obsv := nettest.RandomRows(n, s.ObsDim, 3, 1)
	obs, _ := NewSliceRows(obsv, s.ObsDim)
	e := NewEngine(NewCPU(Options{}), Options{Chunk: 32})
	err := e.QPolicyStream(actor, c1, nil, obs, func(start int, v ...[]float32) error {
		if v[2] != nil || v[3] != nil {
			t.Errorf("q2/qmin given without a second critic")
		}
		if len(v[1]) == 0 {
			t.Errorf("q1 missing")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEngineStopsOnCallbackError pins that the first callback error ends the
// workload and is returned.
func TestEngineStopsOnCallbackError(t *testing.T) {
	s := nettest.Shapes[0]
	actor, _, _ := s.Nets(RandomNetwork, 3)
	e := NewEngine(NewCPU(Options{}), Options{Chunk: 16, Workers: 2})
	stop := errors.New("stop")
	calls := 0
	err := e.PolicyStream(actor, PendulumGrid(64), func(start int, v ...[]float32) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want %v", err, stop)
	}
	if calls != 3 {
		t.Errorf("callback ran %d times after the error, want it to stop at 3", calls)
	}
}

// TestEngineRejectsMismatchedInputs pins errors instead of panics on bad
// shapes.
func TestEngineRejectsMismatchedInputs(t *testing.T) {
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(RandomNetwork, 3)
	e := NewEngine(NewCPU(Options{}), Options{})
	obs4, _ := NewSliceRows(make([]float32, 40), 4)
	obs3, _ := NewSliceRows(make([]float32, 30), 3)
	act1, _ := NewSliceRows(make([]float32, 9), 1)
	for name, run := range map[string]func() error{
		"obs width":       func() error { return e.Policy(actor, obs4, make([]float32, 10)) },
		"short output":    func() error { return e.Policy(actor, obs3, make([]float32, 9)) },
		"row counts":      func() error { return e.Q(c1, c2, obs3, act1, nil, nil, make([]float32, 10)) },
		"critic as actor": func() error { return e.Policy(c1, obs4, make([]float32, 10)) },
		"actor as critic": func() error { return e.QPolicy(actor, actor, nil, obs3, nil, nil, nil, nil) },
		"nil actor":       func() error { return e.Policy(nil, obs3, make([]float32, 10)) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestCPUAllocatesNothingAfterWarmUp pins the hot path's zero allocations.
func TestCPUAllocatesNothingAfterWarmUp(t *testing.T) {
	for _, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			actor, c1, c2 := s.Nets(RandomNetwork, 3)
			const n = 1000
			b := NewCPU(Options{Chunk: 256})
			obs := nettest.RandomRows(n, s.ObsDim, 3, 1)
			act := make([]float32, n*s.ActDim)
			q1, q2 := make([]float32, n), make([]float32, n)
			allocs := testing.AllocsPerRun(5, func() {
				if err := b.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
					t.Fatal(err)
				}
				if err := b.Q(c1, c2, obs, act, n, q1, q2); err != nil {
					t.Fatal(err)
				}
				if err := b.Policy(actor, obs, n, act); err != nil {
					t.Fatal(err)
				}
				if err := b.QFull(actor, c1, c2, obs, act, n, q1, q2); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
		})
	}
}

// TestEngineAllocationsDoNotGrowWithChunks pins that the Engine allocates per
// call, never per chunk.
func TestEngineAllocationsDoNotGrowWithChunks(t *testing.T) {
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(RandomNetwork, 3)
	e := NewEngine(NewCPU(Options{}), Options{Chunk: 64, Workers: 2})
	count := func(n int) float64 {
		g := PendulumGrid(n)
		return testing.AllocsPerRun(5, func() {
			if err := e.QPolicyStream(actor, c1, c2, g, func(int, ...[]float32) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
	few, many := count(12), count(64) // 3 chunks vs 64 chunks
	// Something allocating per chunk adds at least 61 allocations a call.
	// The runtime now and then allocates for a goroutine of the call
	// itself (a g when its free list is empty): about 1 in 20 runs under
	// -race counted 17 against 16, so a few are allowed.
	if many > few+4 {
		t.Errorf("%v allocations for 64 chunks vs %v for 3: something allocates per chunk", many, few)
	}
}

// TestQFullMatchesQAndQPolicy pins that the stacked full-Q pass gives the
// same bits as Q and QPolicy run apart, on the CPU (stacked) and on the
// reference (the Engine's fallback), whole and streamed; on the CPU of a
// build that is not BitReproducible, within ANALYSES.md's tolerance.
func TestQFullMatchesQAndQPolicy(t *testing.T) {
	for i, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			actor, c1, c2 := s.Nets(RandomNetwork, uint64(30+i))
			const n = 333
			obsv := nettest.RandomRows(n, s.ObsDim, 3, 1)
			actv := nettest.RandomRows(n, s.ActDim, 2, 2)
			obs, _ := NewSliceRows(obsv, s.ObsDim)
			act, _ := NewSliceRows(actv, s.ActDim)
			for _, b := range []Backend{NewCPU(Options{Tile: 64}), NewReference()} {
				for _, two := range []bool{true, false} {
					cc2 := c2
					if !two {
						cc2 = nil
					}
					e := NewEngine(b, Options{Chunk: 100, Workers: 2})
					q1, q2, wantB, wantP := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
					var q2p []float32
					if two {
						q2p = q2
					}
					if err := e.Q(c1, cc2, obs, act, q1, q2p, wantB); err != nil {
						t.Fatal(err)
					}
					if !two {
						copy(wantB, q1)
					}
					if err := e.QPolicy(actor, c1, cc2, obs, nil, q1, q2p, wantP); err != nil {
						t.Fatal(err)
					}
					if !two {
						copy(wantP, q1)
					}
					gotB, gotP := make([]float32, n), make([]float32, n)
					if err := e.QFull(actor, c1, cc2, obs, act, gotB, gotP); err != nil {
						t.Fatal(err)
					}
					if _, cpu := b.(*CPU); cpu && !BitReproducible {
						// OpenBLAS rounds a row by its place in the stacked tile.
						nettest.CheckClose(t, "QFull buffer", gotB, f64(wantB))
						nettest.CheckClose(t, "QFull policy", gotP, f64(wantP))
						copy(wantB, gotB) // the stream must still match QFull
						copy(wantP, gotP)
					}
					for k := range wantB {
						if gotB[k] != wantB[k] || gotP[k] != wantP[k] {
							t.Fatalf("%s two=%v row %d: QFull %v %v, Q/QPolicy %v %v", b.Name(), two, k, gotB[k], gotP[k], wantB[k], wantP[k])
						}
					}
					rows := 0
					err := e.QFullStream(actor, c1, cc2, obs, act, func(start int, v ...[]float32) error {
						if len(v) != 2 {
							t.Fatalf("stream gave %d outputs, want 2", len(v))
						}
						for k := range v[0] {
							if v[0][k] != wantB[start+k] || v[1][k] != wantP[start+k] {
								t.Fatalf("streamed row %d differs", start+k)
							}
						}
						rows += len(v[0])
						return nil
					})
					if err != nil || rows != n {
						t.Fatalf("stream: %d rows, %v", rows, err)
					}
				}
			}
		})
	}
}

// TestPolicyStdIsExpOfClampedLogStd checks PolicyStd against a hand
// computation: a one-layer SAC actor whose log_std outputs are chosen to
// fall below, inside and above the clamp.
func TestPolicyStdIsExpOfClampedLogStd(t *testing.T) {
	// 2 observations → mean (2) then log_std (2). log_std0 = 3·o0 - 1,
	// log_std1 = -o1 + 0.5.
	actor := &loaders.Network{Path: "hand", Kind: loaders.KindSACActor, Hidden: loaders.ReLU,
		ObsDim: 2, ActDim: 2, Low: []float32{-1, -1}, High: []float32{1, 1},
		Layers: []loaders.Linear{{Name: "mu", In: 2, Out: 4,
			W: []float32{1, 0, 0, 1, 3, 0, 0, -1},
			B: []float32{0, 0, -1, 0.5}}}}
	obsv := []float32{
		0, 0, // log_std (-1, 0.5)
		2, 30, // (5 → 2, -29.5 → -20)
		-0.5, -1, // (-2.5, 1.5)
	}
	want := []float64{
		math.Exp(-1), math.Exp(0.5),
		math.Exp(2), math.Exp(-20),
		math.Exp(-2.5), math.Exp(1.5),
	}
	obs, _ := NewSliceRows(obsv, 2)
	for _, b := range []Backend{NewCPU(Options{}), NewReference()} {
		got := make([]float32, 6)
		if err := NewEngine(b, Options{Chunk: 2}).PolicyStd(actor, obs, got); err != nil {
			t.Fatalf("%s: %v", b.Name(), err)
		}
		nettest.CheckClose(t, b.Name(), got, want)
	}
	// A deeper random SAC actor agrees with the float64 reference's log_std.
	s := nettest.Shapes[3]
	sac, c1, _ := s.Nets(RandomNetwork, 7)
	const n = 200
	ov := nettest.RandomRows(n, s.ObsDim, 3, 4)
	rows, _ := NewSliceRows(ov, s.ObsDim)
	got := make([]float32, n*s.ActDim)
	if err := NewEngine(NewCPU(Options{}), Options{Chunk: 64}).PolicyStd(sac, rows, got); err != nil {
		t.Fatal(err)
	}
	var wantDeep []float64
	for r := 0; r < n; r++ {
		raw := ref64Raw(sac, ov[r*s.ObsDim:(r+1)*s.ObsDim])
		for j := 0; j < s.ActDim; j++ {
			wantDeep = append(wantDeep, math.Exp(math.Min(math.Max(raw[s.ActDim+j], -20), 2)))
		}
	}
	nettest.CheckClose(t, "deep std", got, wantDeep)
	if err := NewEngine(NewCPU(Options{}), Options{}).PolicyStd(c1, rows, got); err == nil {
		t.Error("PolicyStd of a critic gave no error")
	}
	td3, _, _ := nettest.Shapes[0].Nets(RandomNetwork, 1)
	if err := NewEngine(NewCPU(Options{}), Options{}).PolicyStd(td3, rows, got); err == nil {
		t.Error("PolicyStd of a deterministic actor gave no error")
	}
}

// ref64Raw evaluates net's layers on one row in float64, without any head.
func ref64Raw(net *loaders.Network, x []float32) []float64 {
	c := *net
	c.Kind = loaders.KindCritic
	return nettest.Ref64(&c, x)
}
