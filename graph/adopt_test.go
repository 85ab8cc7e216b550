package graph

import (
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/loaders"
)

// TestAdoptedPlanEvaluatesAsItsNetwork checks that a plan adopted under a
// PlanNetwork handle (what the CUDA worker's protocol serves) gives the
// network's own CPU values bit for bit, stacked too.
func TestAdoptedPlanEvaluatesAsItsNetwork(t *testing.T) {
	actor := RandomNetwork(loaders.KindSACActor, []int{3, 16, 2}, 3, 1, 1)
	actor.InputNorm = &loaders.InputNorm{Mean: []float32{1, 0, -1}, Std: []float32{2, 1, 0.5}, Clip: 1}
	actor.MeanClip, actor.Hidden = 0.3, loaders.SiLU
	critic := RandomNetwork(loaders.KindQuantileCritic, []int{4, 16, 7}, 3, 1, 2)
	critic.Hidden = loaders.ELU
	c := NewCPU(Options{})
	handles := map[*loaders.Network]*loaders.Network{}
	for _, net := range []*loaders.Network{actor, critic} {
		p, err := Lower(net)
		if err != nil {
			t.Fatal(err)
		}
		h := PlanNetwork(p, net.ObsDim, net.ActDim)
		if err := c.Adopt(h, p); err != nil {
			t.Fatal(err)
		}
		handles[net] = h
	}
	n := 50
	obs := make([]float32, n*3)
	for i := range obs {
		obs[i] = float32(math.Sin(float64(i))) * 3
	}
	want := [3][]float32{make([]float32, n), make([]float32, n), nil}
	got := [3][]float32{make([]float32, n), make([]float32, n), nil}
	if err := c.QPolicy(actor, critic, nil, obs, n, want[0], want[1], nil); err != nil {
		t.Fatal(err)
	}
	if err := c.StackedQPolicy([]*loaders.Network{handles[actor]}, []*loaders.Network{handles[critic]}, nil, obs, n, got[0], got[1], nil); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for r := range n {
			if math.Float32bits(got[i][r]) != math.Float32bits(want[i][r]) {
				t.Fatalf("output %d row %d: adopted plan %v, network %v", i, r, got[i][r], want[i][r])
			}
		}
	}
	if err := c.Forget(handles[actor]); err != nil {
		t.Fatal(err)
	}
	if err := c.Policy(handles[actor], obs, n, got[0]); err == nil {
		t.Error("a forgotten handle still evaluates: it has no layers to lower")
	}
}

// TestCheckPlanRefusesInconsistentPlans checks what a received plan must
// hold before a backend adopts it.
func TestCheckPlanRefusesInconsistentPlans(t *testing.T) {
	actor := RandomNetwork(loaders.KindActor, []int{3, 8, 8, 1}, 3, 1, 1)
	good, err := Lower(actor)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPlan(good, 3, 1); err != nil {
		t.Fatalf("a lowered plan: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"short weights", func(p *Plan) { p.Steps[1].W = p.Steps[1].W[:3] }, "weights"},
		{"widths do not chain", func(p *Plan) { p.Steps[1].In = 7 }, "previous width"},
		{"head mid-plan", func(p *Plan) { p.Steps[0].Epilogue = EpScale }, "head"},
		{"critic head on an actor", func(p *Plan) { p.Steps[2].Epilogue = EpNone }, "ends in none"},
		{"unknown epilogue", func(p *Plan) { p.Steps[0].Epilogue = "gelu" }, "gelu"},
		{"unknown op", func(p *Plan) { p.Steps[0].Op = "fft" }, "unknown op"},
		{"bounds", func(p *Plan) { p.Steps[2].Low = nil }, "bounds"},
		{"norm", func(p *Plan) { p.Norm = &Norm{Cols: 4, Mean: make([]float32, 4), Std: make([]float32, 4), Clip: 1} }, "normalisation"},
		{"max width", func(p *Plan) { p.MaxWidth = 1 }, "widest"},
		{"kind", func(p *Plan) { p.Kind = "value" }, "unknown network kind"},
	} {
		p := *good
		p.Steps = append([]Step(nil), good.Steps...)
		c.edit(&p)
		if err := CheckPlan(&p, 3, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckPlan = %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// TestCheckPlanRefusesBadInputColumns: a DDPG.py critic's plan (the first
// step reading the observation columns, the second its input joined with
// the action's) passes, and columns that do not fit the steps' widths, the
// input, or that a normalisation changes after a first step, are refused.
func TestCheckPlanRefusesBadInputColumns(t *testing.T) {
	good, err := Lower(RandomActionAtCritic([]int{3, 8, 8, 1}, 2, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPlan(good, 3, 2); err != nil {
		t.Fatalf("a lowered DDPG.py critic: %v", err)
	}
	if h := PlanNetwork(good, 3, 2); h.ActionAt != 1 || h.InputWidth() != 5 {
		t.Errorf("plan handle: action at %d, input width %d; want 1, 5", h.ActionAt, h.InputWidth())
	}
	for _, c := range []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"first step wider than its columns", func(p *Plan) { p.Steps[0].XTo = 2 }, "previous width"},
		{"columns past the input", func(p *Plan) { p.Steps[1].XFrom, p.Steps[1].XTo = 4, 6 }, "input columns 4:6"},
		{"empty range", func(p *Plan) { p.Steps[1].XFrom = 5 }, "input columns 5:5"},
		{"start without end", func(p *Plan) { p.Steps[2].XFrom = 1 }, "without an end"},
		{"columns normalised after a step", func(p *Plan) {
			p.Norm = &Norm{Cols: 5, Mean: make([]float32, 5), Std: []float32{1, 1, 1, 1, 1}, Clip: 1}
		}, "normalised input columns"},
		{"join dropped", func(p *Plan) { p.Steps[1].XTo, p.Steps[1].XFrom = 0, 0 }, "previous width"},
	} {
		p := *good
		p.Steps = append([]Step(nil), good.Steps...)
		c.edit(&p)
		if err := CheckPlan(&p, 3, 2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckPlan = %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
