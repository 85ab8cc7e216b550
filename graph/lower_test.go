package graph

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// variantNets returns an actor and twin critics of every kind and hidden
// activation the graph builder knows, with and without an input
// normalisation and (for actors) a mean clamp.
type variant struct {
	name          string
	actor, c1, c2 *loaders.Network
}

func variants() []variant {
	var vs []variant
	acts := []loaders.Activation{loaders.ReLU, loaders.Tanh, loaders.ELU, loaders.SiLU, loaders.LeakyReLU}
	for i, a := range acts {
		for _, sac := range []bool{false, true} {
			for _, quantile := range []bool{false, true} {
				for _, norm := range []bool{false, true} {
					seed := uint64(10*i + 1)
					od, ad := 3, 2
					kind, aw := loaders.KindActor, []int{od, 48, 32, ad}
					if sac {
						kind, aw = loaders.KindSACActor, []int{od, 48, 32, 2 * ad}
					}
					ck, cw := loaders.KindCritic, []int{od + ad, 40, 1}
					if quantile {
						ck, cw = loaders.KindQuantileCritic, []int{od + ad, 40, 25}
					}
					actor := RandomNetwork(kind, aw, od, ad, seed)
					c1 := RandomNetwork(ck, cw, od, ad, seed+1)
					c2 := RandomNetwork(ck, cw, od, ad, seed+2)
					for _, n := range []*loaders.Network{actor, c1, c2} {
						n.Hidden = a
						if norm {
							n.InputNorm = &loaders.InputNorm{Mean: []float32{0.5, -1, 2}, Std: []float32{0.5, 2, 1.5}, Clip: 1.5}
						}
					}
					if sac && norm {
						actor.MeanClip = 0.3
					}
					vs = append(vs, variant{fmt.Sprintf("%s/%s/%s/norm=%v", a, kind, ck, norm), actor, c1, c2})
				}
			}
		}
		// sfujim/TD3 DDPG.py's critic: the action enters at the second
		// layer (or the third).
		for _, norm := range []bool{false, true} {
			for _, at := range []int{1, 2} {
				seed := uint64(10*i + 7)
				actor := RandomNetwork(loaders.KindActor, []int{3, 48, 32, 2}, 3, 2, seed)
				c1 := RandomActionAtCritic([]int{3, 40, 24, 1}, 2, at, seed+1)
				c2 := RandomActionAtCritic([]int{3, 40, 24, 1}, 2, at, seed+2)
				for _, n := range []*loaders.Network{actor, c1, c2} {
					n.Hidden = a
					if norm {
						n.InputNorm = &loaders.InputNorm{Mean: []float32{0.5, -1, 2}, Std: []float32{0.5, 2, 1.5}, Clip: 1.5}
					}
				}
				vs = append(vs, variant{fmt.Sprintf("%s/critic-action-at-%d/norm=%v", a, at, norm), actor, c1, c2})
			}
		}
	}
	return vs
}

// TestLowerFusesEveryKindAndActivation pins that the lowering walks every
// graph Build writes into a plan with the expected epilogues, no
// TapeMachine fallback, and that the plan equals the Gorgonia TapeMachine
// (the gorgonia device) within ANALYSES.md's tolerance.
func TestLowerFusesEveryKindAndActivation(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			for _, net := range []*loaders.Network{v.actor, v.c1} {
				p, err := Lower(net)
				if err != nil {
					t.Fatalf("%s: %v", net.Kind, err)
				}
				hidden := activations[net.Hidden].ep
				for i, s := range p.Steps[:len(p.Steps)-1] {
					if s.Epilogue != hidden {
						t.Errorf("%s step %d: epilogue %s, want %s", net.Kind, i, s.Epilogue, hidden)
					}
				}
				last := p.Steps[len(p.Steps)-1]
				want := map[loaders.NetKind]Epilogue{loaders.KindActor: EpScale, loaders.KindSACActor: EpScale,
					loaders.KindCritic: EpNone, loaders.KindQuantileCritic: EpMean}[net.Kind]
				if last.Epilogue != want || last.Clip != net.MeanClip {
					t.Errorf("%s head %s clip %g, want %s clip %g", net.Kind, last.Epilogue, last.Clip, want, net.MeanClip)
				}
				if (p.Norm != nil) != (net.InputNorm != nil) || (p.Norm != nil && p.Norm.Cols != net.ObsDim) {
					t.Errorf("%s: norm %+v for %+v", net.Kind, p.Norm, net.InputNorm)
				}
				if err := CheckPlan(p, net.ObsDim, net.ActDim); err != nil {
					t.Errorf("%s: CheckPlan: %v", net.Kind, err)
				}
				for i, s := range p.Steps {
					var from, to int // the input columns the step reads
					switch {
					case net.ActionAt > 0 && i == 0:
						to = net.ObsDim
					case net.ActionAt > 0 && i == net.ActionAt:
						from, to = net.ObsDim, net.ObsDim+net.ActDim
					}
					if s.XFrom != from || s.XTo != to {
						t.Errorf("%s step %d reads input columns %d:%d, want %d:%d", net.Kind, i, s.XFrom, s.XTo, from, to)
					}
				}
			}
			var lines []string
			cpu := NewCPU(Options{Tile: 64, Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }})
			comparePlanWithTape(t, cpu, v.actor, v.c1, v.c2, 300)
			if len(lines) != 0 {
				t.Errorf("fell back to the TapeMachine: %v", lines)
			}
		})
	}
}

// comparePlanWithTape evaluates Policy, PolicyStd (SAC), Q, QPolicy and
// QFull over n rows on b and on the gorgonia device, and compares them.
func comparePlanWithTape(t *testing.T, b Backend, actor, c1, c2 *loaders.Network, n int) {
	t.Helper()
	ref, err := Open("gorgonia", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	od, ad := actor.ObsDim, actor.ActDim
	obs, _ := NewSliceRows(nettest.RandomRows(n, od, 3, 7), od)
	act, _ := NewSliceRows(nettest.RandomRows(n, ad, 2, 8), ad)
	eval := func(b Backend) map[string][]float32 {
		e := NewEngine(b, Options{Chunk: 100})
		out := map[string][]float32{}
		f := func(name string, w int) []float32 { out[name] = make([]float32, n*w); return out[name] }
		if err := e.Policy(actor, obs, f("act", ad)); err != nil {
			t.Fatal(err)
		}
		if actor.Kind == loaders.KindSACActor {
			if err := e.PolicyStd(actor, obs, f("std", ad)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Q(c1, c2, obs, act, f("q1", 1), f("q2", 1), f("q", 1)); err != nil {
			t.Fatal(err)
		}
		if err := e.QPolicy(actor, c1, c2, obs, f("pact", ad), f("pq1", 1), f("pq2", 1), f("pq", 1)); err != nil {
			t.Fatal(err)
		}
		if err := e.QFull(actor, c1, c2, obs, act, f("qbuf", 1), f("qpol", 1)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got, want := eval(b), eval(ref)
	for name, w := range want {
		nettest.CheckClose(t, name, got[name], f64(w))
	}
	if c2 != nil && c1.Kind == loaders.KindQuantileCritic {
		q1, q2 := want["q1"], want["q2"]
		for i, q := range got["q"] {
			if m := (q1[i] + q2[i]) / 2; math.Abs(float64(q-m)) > 1e-5*math.Max(1, math.Abs(float64(m))) {
				t.Fatalf("quantile critics combined to %v at row %d, want their mean %v", q, i, m)
			}
		}
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestUnknownOpEvaluatesOnTheTapeMachine pins the fallback: a hidden
// activation with no kernel is not lowered, and the CPU backend evaluates
// that network on the TapeMachine, saying so in exactly one line.
func TestUnknownOpEvaluatesOnTheTapeMachine(t *testing.T) {
	for _, a := range []loaders.Activation{Sigmoid, Softplus} {
		t.Run(string(a), func(t *testing.T) {
			actor, c1, c2 := nettest.Shapes[4].Nets(RandomNetwork, 3)
			for _, n := range []*loaders.Network{actor, c1, c2} {
				n.Hidden = a
			}
			if _, err := Lower(actor); !errors.Is(err, ErrNotLowered) {
				t.Fatalf("Lower: %v, want ErrNotLowered", err)
			}
			var lines []string
			cpu := NewCPU(Options{Logf: func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }})
			e := NewEngine(cpu, Options{Chunk: 64})
			obs, _ := NewSliceRows(nettest.RandomRows(200, actor.ObsDim, 3, 1), actor.ObsDim)
			out := make([]float32, 200*actor.ActDim)
			for range 3 {
				if err := e.Policy(actor, obs, out); err != nil {
					t.Fatal(err)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "TapeMachine") || !strings.Contains(lines[0], actor.Path) {
				t.Errorf("notices %q, want one line naming the network and the TapeMachine", lines)
			}
			comparePlanWithTape(t, cpu, actor, c1, c2, 150)
		})
	}
}

// TestGorgoniaDeviceEqualsPlanOnFixtureRuns pins --device gorgonia (the
// TapeMachine) to the default plan on every fixture run's networks.
func TestGorgoniaDeviceEqualsPlanOnFixtureRuns(t *testing.T) {
	names := fixture.Runs(t)
	if len(names) < 4 {
		t.Fatalf("fixture runs %v, want the TD3, legacy, gen2 and SAC runs", names)
	}
	for _, name := range names {
		run := fixture.Path(t, "runs", name)
		t.Run(name, func(t *testing.T) {
			nets := fixtureNets(t, run)
			actor, c1, c2 := nets["actor"], nets["critic1"], nets["critic2"]
			if actor == nil || c1 == nil {
				t.Fatalf("run has networks %v", keys(nets))
			}
			if _, err := Lower(actor); err != nil {
				t.Fatal(err)
			}
			comparePlanWithTape(t, NewCPU(Options{}), actor, c1, c2, 500)
			if at, ct := nets["actor_target"], nets["critic1_target"]; at != nil && ct != nil {
				comparePlanWithTape(t, NewCPU(Options{}), at, ct, nets["critic2_target"], 200)
			}
		})
	}
}

func keys(m map[string]*loaders.Network) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// TestGraphPlanWalksTheGraph pins that Graph.Plan lowers the graph's own
// nodes: changing a weight in the graph changes the plan.
func TestGraphPlanWalksTheGraph(t *testing.T) {
	actor, _, _ := nettest.Shapes[0].Nets(RandomNetwork, 1)
	gr, err := Build(actor, 2)
	if err != nil {
		t.Fatal(err)
	}
	w := gr.G.ByName(actor.Layers[1].Name + weightSuffix)
	if len(w) != 1 {
		t.Fatalf("%d weight nodes named %s", len(w), actor.Layers[1].Name+weightSuffix)
	}
	w[0].Value().Data().([]float32)[5] = 1234
	p, err := gr.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[1].W[5] != 1234 || p.Steps[1].Name != actor.Layers[1].Name {
		t.Errorf("plan step 1 has W[5] = %v (%s), want the graph's 1234", p.Steps[1].W[5], p.Steps[1].Name)
	}
}

// TestGorgoniaEvaluatesOneRowChunks pins that the graphs stay matrices
// when a slice leaves one column and the batch is one row (a SAC actor
// with one action, a critic's one action column after its normalised
// observations): the TapeMachine evaluates them chunk by chunk of 1.
func TestGorgoniaEvaluatesOneRowChunks(t *testing.T) {
	s := nettest.Shapes[3]
	actor, c1, c2 := s.Nets(RandomNetwork, 2)
	actor.MeanClip = 0.5
	for _, n := range []*loaders.Network{actor, c1, c2} {
		n.InputNorm = &loaders.InputNorm{Mean: []float32{0, 0.5, -1}, Std: []float32{1, 2, 3}, Clip: 2}
	}
	const n = 5
	obs, _ := NewSliceRows(nettest.RandomRows(n, s.ObsDim, 3, 1), s.ObsDim)
	act, _ := NewSliceRows(nettest.RandomRows(n, s.ActDim, 2, 2), s.ActDim)
	run := func(b Backend) [][]float32 {
		e := NewEngine(b, Options{Chunk: 1})
		a, sd, q1, q2, q := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		if err := e.Policy(actor, obs, a); err != nil {
			t.Fatal(err)
		}
		if err := e.PolicyStd(actor, obs, sd); err != nil {
			t.Fatal(err)
		}
		if err := e.Q(c1, c2, obs, act, q1, q2, q); err != nil {
			t.Fatal(err)
		}
		return [][]float32{a, sd, q1, q2, q}
	}
	got, want := run(NewCPU(Options{})), run(NewReference())
	for i, name := range []string{"act", "std", "q1", "q2", "q"} {
		nettest.CheckClose(t, name, got[i], f64(want[i]))
	}
}
