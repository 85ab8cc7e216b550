package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// TestEvaluateMatchesPyTorch runs the whole evaluation on every fixture run
// and compares each analysis of ANALYSES.md with what PyTorch and numpy
// computed on the same files (tools/make_fixtures.py wrote testdata/expected/).
// It reads only the files Evaluate writes, so it holds whatever shape the
// jobs take inside.
func TestEvaluateMatchesPyTorch(t *testing.T) {
	for _, name := range fixture.Runs(t) {
		t.Run(name, func(t *testing.T) {
			exp := fixture.Path(t, "expected", name)
			var meta struct {
				GridN       int              `json:"grid_n"`
				Algorithm   string           `json:"algorithm"`
				ParamCounts map[string]int   `json:"param_counts"`
				Widths      map[string][]int `json:"widths"`
			}
			fixture.DecodeJSON(t, filepath.Join(exp, "meta.json"), &meta)
			out := t.TempDir()
			opt := DefaultOptions()
			opt.Grid = meta.GridN
			sum, err := Evaluate(context.Background(), fixture.Path(t, "runs", name), out, opt)
			if err != nil {
				t.Fatal(err)
			}
			// A job may be skipped where the run lacks its input (SAC's
			// analyses on a TD3 run); the comparisons below fail when an
			// output they need is missing.
			for _, j := range sum.Jobs {
				if j.Status == "failed" {
					t.Errorf("job %s failed: %s", j.Name, j.Reason)
				}
			}
			p := parity{exp: exp, out: out}
			t.Run("01 run summary", p.runSummary)
			t.Run("02-07 curves", p.curves)
			t.Run("08 models", func(t *testing.T) { p.models(t, meta.ParamCounts, meta.Widths) })
			t.Run("09 weight histograms", p.weightHistograms)
			t.Run("10 policy 1-D", p.arrays("policy_1d.npy"))
			t.Run("11 policy grid", p.arrays("policy_grid.npy"))
			if meta.Algorithm == "td3" {
				t.Run("12 actor-target L2", p.json("l2.json"))
				t.Run("13 target policy", p.arrays("target_grid.npy", "policy_diff.npy"))
			}
			t.Run("14 buffer statistics", p.bufferStats)
			t.Run("15 buffer histograms", func(t *testing.T) { p.bufferHistograms(t, name) })
			t.Run("16 phase portrait", func(t *testing.T) { p.phaseDensity(t, name) })
			t.Run("17 coverage", p.coverage)
			t.Run("18 Q over the buffer", func(t *testing.T) {
				p.arrays("q_buffer.npy", "q_policy.npy")(t)
				p.json("q.json")(t)
			})
			t.Run("19 Q histograms", p.qHistograms)
			t.Run("20 Q grid", p.arrays("q_grid.npy", "q1_grid.npy", "q2_grid.npy", "q1_target_grid.npy", "q2_target_grid.npy"))
		})
	}
}

// parity compares one run's outputs (out) with its expected files (exp).
type parity struct{ exp, out string }

func (p parity) arrays(names ...string) func(*testing.T) {
	return func(t *testing.T) {
		for _, n := range names {
			fixture.CloseNPY(t, filepath.Join(p.out, n), fixture.Path(t, "expected", filepath.Base(p.exp), n), fixture.Analyses)
		}
	}
}

func (p parity) json(name string) func(*testing.T) {
	return func(t *testing.T) {
		want := fixture.ReadJSON(t, filepath.Join(p.exp, name))
		fixture.CloseJSON(t, name, fixture.ReadJSON(t, filepath.Join(p.out, name)), want, 1e-4)
	}
}

// obsLabels are the names the pendulum preset gives the observation's
// dimensions in buffer.json, for the identifiers tools/make_fixtures.py uses.
var obsLabels = map[string]string{"cos_theta": "cos θ", "sin_theta": "sin θ", "theta_dot": "θ̇"}

// bufferStats: analysis 14, statistics of the buffer's valid rows.
func (p parity) bufferStats(t *testing.T) {
	want := fixture.ReadJSON(t, filepath.Join(p.exp, "buffer.json"))
	obs, _ := want.(map[string]any)["obs"].([]any)
	if len(obs) == 0 {
		t.Fatalf("expected buffer.json has no obs statistics")
	}
	for _, o := range obs {
		o := o.(map[string]any)
		label, ok := obsLabels[o["name"].(string)]
		if !ok {
			t.Fatalf("expected buffer.json: no label for observation %v", o["name"])
		}
		o["name"] = label
	}
	fixture.CloseJSON(t, "buffer.json", fixture.ReadJSON(t, filepath.Join(p.out, "buffer.json")), want, 1e-4)
}

// renumber turns a Go value into what fixture.ReadJSON returns for its JSON,
// so outputs can be reshaped to an expected file's layout and compared.
func renumber(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// runSummary: analysis 1, summary.json against the config as the notebook
// reads it and the log as its load_jsonl sees it.
func (p parity) runSummary(t *testing.T) {
	all := fixture.ReadJSON(t, filepath.Join(p.out, "summary.json")).(map[string]any)
	fixture.CloseJSON(t, "summary.json config", all["config"], fixture.ReadJSON(t, filepath.Join(p.exp, "config_summary.json")), 0)

	log := all["log"].(map[string]any)
	rng := func(key string) any {
		r, ok := log[key].(map[string]any)
		if !ok {
			t.Fatalf("summary.json log.%s: %v", key, log[key])
		}
		return []any{r["step_min"], r["step_max"]}
	}
	count := func(key string) any { return log[key].(map[string]any)["count"] }
	actorLoss, _ := fixture.ReadNPY(t, filepath.Join(p.out, "curve_step_actor_loss.npy"))
	got := map[string]any{
		"step_records":             count("steps"),
		"evaluation_records":       count("evaluations"),
		"final_evaluation_records": count("final_evaluations"),
		"lines_skipped":            log["skipped_lines"],
		"other_records":            log["other_records"],
		"step_range":               rng("steps"),
		"evaluation_range":         rng("evaluations"),
		"actor_loss_rows":          json.Number(fmt.Sprint(len(actorLoss) / 2)),
	}
	fixture.CloseJSON(t, "summary.json log", got, fixture.ReadJSON(t, filepath.Join(p.exp, "log_summary.json")), 0)
}

// curves: analyses 2–7, (step, value) arrays of the evaluation rewards,
// losses and buffer size, NaN and ±Inf of a damaged log kept as logged.
func (p parity) curves(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(p.exp, "curve_*.npy"))
	if err != nil || len(files) != 8 {
		t.Fatalf("expected curves %v (%v), want 8", files, err)
	}
	for _, f := range files {
		// Steps and logged values pass through float32 on both sides.
		fixture.CloseNPY(t, filepath.Join(p.out, filepath.Base(f)), f, fixture.Exact)
	}
}

// models: analysis 8, widths and parameter counts of every network.
func (p parity) models(t *testing.T, params map[string]int, widths map[string][]int) {
	var m struct {
		Networks []struct {
			Role   string `json:"role"`
			Widths []int  `json:"widths"`
			Params int    `json:"params"`
		} `json:"networks"`
	}
	fixture.DecodeJSON(t, filepath.Join(p.out, "models.json"), &m)
	got := map[string]any{}
	gotW := map[string]any{}
	for _, n := range m.Networks {
		got[n.Role] = n.Params
		gotW[n.Role] = n.Widths
	}
	fixture.CloseJSON(t, "models.json params", renumber(t, got), renumber(t, params), 0)
	fixture.CloseJSON(t, "models.json widths", renumber(t, gotW), renumber(t, widths), 0)
}

// weightHistograms: analysis 9, numpy.histogram of every Linear layer's
// weights (80 bins) and biases (40 bins), actor and critic1.
func (p parity) weightHistograms(t *testing.T) {
	type hist struct {
		Counts []int     `json:"counts"`
		Edges  []float64 `json:"edges"`
	}
	var m struct {
		Networks []struct {
			Role   string `json:"role"`
			Layers []struct {
				Name       string `json:"name"`
				In         int    `json:"in"`
				Out        int    `json:"out"`
				WeightHist hist   `json:"weight_hist"`
				BiasHist   hist   `json:"bias_hist"`
			} `json:"layers"`
		} `json:"networks"`
	}
	fixture.DecodeJSON(t, filepath.Join(p.out, "models.json"), &m)
	got := map[string]any{}
	for _, n := range m.Networks {
		if n.Role != "actor" && n.Role != "critic1" {
			continue
		}
		var layers []any
		for _, l := range n.Layers {
			layers = append(layers, map[string]any{"layer": l.Name, "in": l.In, "out": l.Out,
				"weight_counts": l.WeightHist.Counts, "weight_edges": l.WeightHist.Edges,
				"bias_counts": l.BiasHist.Counts, "bias_edges": l.BiasHist.Edges})
		}
		got[n.Role] = layers
	}
	// The same float32 weights on both sides: counts exact, edges to float32.
	n := fixture.CloseJSON(t, "models.json histograms", renumber(t, got), fixture.ReadJSON(t, filepath.Join(p.exp, "hist.json")), 1e-6)
	if n < 2*(80+81+40+41) {
		t.Errorf("compared %d histogram values, want at least two layers' worth", n)
	}
}

// npHist is a histogram as tools/make_fixtures.py writes it.
type npHist struct {
	Counts []int     `json:"counts"`
	Edges  []float64 `json:"edges"`
}

// bufferHistograms: analysis 15, 100-bin histograms of cos θ, sin θ, the
// action and the reward over the buffer's valid rows. rleval writes them
// only as a figure; the figure's counts come from plotting.Histogram on the
// buffer's columns, compared here with numpy.histogram on the same float32
// values: equal counts, equal edges.
func (p parity) bufferHistograms(t *testing.T, run string) {
	b, err := loaders.LoadReplayBuffer(fixture.Path(t, "runs", run, "data", "replay_buffer.pth"))
	if err != nil {
		t.Fatal(err)
	}
	col := func(data []float32, stride, j int) []float32 {
		out := make([]float32, 0, b.Size)
		for i := 0; i < b.Size; i++ {
			out = append(out, data[i*stride+j])
		}
		return out
	}
	var want map[string]npHist
	fixture.DecodeJSON(t, filepath.Join(p.exp, "buffer_hist.json"), &want)
	for name, values := range map[string][]float32{
		"cos_theta": col(b.Obs, b.ObsDim, 0), "sin_theta": col(b.Obs, b.ObsDim, 1),
		"action": col(b.Actions, b.ActDim, 0), "reward": b.Rewards[:b.Size],
	} {
		w, ok := want[name]
		if !ok {
			t.Fatalf("buffer_hist.json has no %s", name)
		}
		counts, edges := plotting.Histogram(values, len(w.Counts))
		fixture.CloseArrays(t, name+" counts", ints(counts), ints(w.Counts), fixture.Exact)
		fixture.CloseArrays(t, name+" edges", edges, w.Edges, fixture.Exact)
	}
}

// phaseDensity: analysis 16. The phase portrait plots every buffer row at
// (θ in degrees, θ̇) coloured by its action; from plotting.DensityThreshold
// rows on it draws plotting.MeanGrid, the mean action per cell. It writes
// no array, so the test computes θ as the notebook does (arctan2 of the
// float32 columns, in float32) and compares MeanGrid over a 100×100 grid
// with numpy's binned mean of the same rows.
func (p parity) phaseDensity(t *testing.T, run string) {
	b, err := loaders.LoadReplayBuffer(fixture.Path(t, "runs", run, "data", "replay_buffer.pth"))
	if err != nil {
		t.Fatal(err)
	}
	x, y, a := make([]float32, b.Size), make([]float32, b.Size), make([]float32, b.Size)
	for i := range b.Size {
		o := b.Obs[i*b.ObsDim:]
		th := float32(math.Atan2(float64(o[1]), float64(o[0])))
		x[i], y[i], a[i] = th*(180/math.Pi), o[2], b.Actions[i*b.ActDim]
	}
	got := plotting.MeanGrid(x, y, a, 100, 100, -180, 180, -8, 8)
	want, shape := fixture.ReadNPY(t, filepath.Join(p.exp, "phase_mean.npy"))
	if fmt.Sprint(shape) != "[100 100]" {
		t.Fatalf("phase_mean.npy shape %v", shape)
	}
	// θ is arctan2 in float32 on both sides, but numpy's atan2f and Go's
	// float64 atan2 rounded may differ by an ulp, so a point on a cell edge
	// may change cells and move two cells' means: allow 0.5% of the cells.
	differ, filled := 0, 0
	for i := range want {
		if !math.IsNaN(float64(want[i])) {
			filled++
		}
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || !math.IsNaN(w) && math.Abs(g-w) > 1e-5*2+1e-4*math.Abs(w) {
			differ++
		}
	}
	t.Logf("%d of %d cells differ from numpy's (%d filled)", differ, len(want), filled)
	if filled == 0 || differ > len(want)/200 {
		t.Errorf("%d of %d cells differ from numpy's binned mean (%d filled)", differ, len(want), filled)
	}
}

// qHistograms: analysis 19, 100-bin histograms of Q(s, a_buffer) and
// Q(s, π(s)): plotting.Histogram on PyTorch's arrays equals numpy's, and on
// rleval's arrays it stays as close as those arrays allow. The arrays agree within ANALYSES.md's tolerance, not bit for
// bit, so the edges get that tolerance and a value that lies within it of an
// edge may fall on either side: the counts may differ by two for each such
// value (one bin loses it, its neighbour gains it), and by no more.
func (p parity) qHistograms(t *testing.T) {
	var want map[string]npHist
	fixture.DecodeJSON(t, filepath.Join(p.exp, "q_hist.json"), &want)
	for _, name := range []string{"q_buffer", "q_policy"} {
		w, ok := want[name]
		if !ok {
			t.Fatalf("q_hist.json has no %s", name)
		}
		got, _ := fixture.ReadNPY(t, filepath.Join(p.out, name+".npy"))
		ref, _ := fixture.ReadNPY(t, filepath.Join(p.exp, name+".npy"))
		// On PyTorch's own values the histogram is numpy's, exactly.
		rc, re := plotting.Histogram(ref, len(w.Counts))
		fixture.CloseArrays(t, name+" counts of PyTorch's values", ints(rc), ints(w.Counts), fixture.Exact)
		fixture.CloseArrays(t, name+" edges of PyTorch's values", re, w.Edges, fixture.Exact)
		counts, edges := plotting.Histogram(got, len(w.Counts))
		fixture.CloseArrays(t, name+" edges", edges, w.Edges, fixture.Analyses)
		scale := 1.0
		for _, v := range ref {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		onEdge := 0
		for _, v := range ref {
			for _, e := range w.Edges {
				if math.Abs(float64(v)-e) <= 1e-5*scale+1e-4*math.Abs(float64(v)) {
					onEdge++
					break
				}
			}
		}
		moved := 0
		for i := range w.Counts {
			moved += absInt(counts[i] - w.Counts[i])
		}
		if moved > 2*onEdge {
			t.Errorf("%s: counts differ by %d, but only %d values lie within tolerance of an edge", name, moved, onEdge)
		}
		if n := total(counts); n != len(ref) || n == 0 {
			t.Errorf("%s: %d values counted, want %d", name, n, len(ref))
		}
	}
}

// coverage: analysis 17, the 100×100 state-coverage histogram.
func (p parity) coverage(t *testing.T) {
	want, ws := fixture.ReadNPY(t, filepath.Join(p.exp, "coverage.npy"))
	got, gs := fixture.ReadNPY(t, filepath.Join(p.out, "coverage.npy"))
	if fmt.Sprint(gs) != fmt.Sprint(ws) {
		t.Fatalf("coverage shape %v, want %v", gs, ws)
	}
	diff, total := 0.0, 0.0
	for i := range want {
		diff += math.Abs(float64(got[i] - want[i]))
		total += float64(want[i])
	}
	// θ is computed in float32 here and in numpy's float64 there: a point
	// exactly on a bin edge may land on either side. Allow 0.1%.
	if total == 0 || diff > 0.001*total {
		t.Errorf("coverage differs in %v of %v counts", diff, total)
	}
}

func ints(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func absInt(x int) int { return max(x, -x) }

func total(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}
