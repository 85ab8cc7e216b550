package jobs

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
)

// rolloutRef is testdata/rollout/<env>.json, written by
// tools/make_rollout_fixtures.py with numpy + PyTorch.
type rolloutRef struct {
	Gamma     float64   `json:"gamma"`
	Horizon   int       `json:"horizon"`
	Grid      int       `json:"grid"`
	ValueGrid []float64 `json:"value_grid"`
	Episodes  struct {
		N         int         `json:"n"`
		TimeLimit int         `json:"time_limit"`
		Init      [][]float64 `json:"init"`
		Returns   []float64   `json:"returns"`
		Mean      float64     `json:"mean"`
		Lo        float64     `json:"lo"`
		Hi        float64     `json:"hi"`
	} `json:"episodes"`
}

// returnsContext loads a run and sets up what the returns job sees.
func returnsContext(t testing.TB, dir string, opt Options) *Context {
	t.Helper()
	r, err := loaders.LoadRun(dir, loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &Context{Run: r, Opt: opt, Out: t.TempDir(), Engine: graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{})}
	c.Plane, c.PlaneErr = ResolvePlane(r, opt.Plane)
	if c.Plane == nil {
		t.Fatal(c.PlaneErr)
	}
	c.shared = newShared(c)
	return c
}

// closeShare counts how many of got are within rel of want (relative,
// with a 1e-6 floor for values near 0).
func closeShare(got, want []float64, rel float64) (share float64, worst int) {
	ok := 0
	worstErr := -1.0
	for i := range want {
		d := math.Abs(got[i]-want[i]) / math.Max(math.Abs(want[i]), 1e-6/rel)
		if d <= rel {
			ok++
		}
		if d > worstErr {
			worstErr, worst = d, i
		}
	}
	return float64(ok) / float64(len(want)), worst
}

// TestReturnsMatchTorchReference holds the value grid of a 32×32 plane
// and the episode returns to a numpy + PyTorch rollout of the same
// equations (tools/make_rollout_fixtures.py): 1e-4 relative on ≥ 99 % of
// cells and episodes (chaos near the pendulum's separatrix may move a
// few), the reference's mean within the bootstrap interval of the same
// episodes here, and this job's own seeded episodes' interval overlapping
// the reference's (an independent sample of the same distribution).
func TestReturnsMatchTorchReference(t *testing.T) {
	for _, tc := range []struct{ name, run string }{
		{"pendulum", filepath.Join("runs", demoRun)},
		{"mountaincar", filepath.Join("runs-rollout", "2026-09-01_10-00-00_mountaincar-pump")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ref rolloutRef
			fixture.DecodeJSON(t, fixture.Path(t, "rollout", tc.name+".json"), &ref)
			opt := DefaultOptions()
			opt.Grid = ref.Grid
			opt.Returns = DefaultReturnsOptions()
			opt.Returns.Horizon = ref.Horizon
			c := returnsContext(t, fixture.Path(t, tc.run), opt)
			env := envOf(c)
			if env == nil || env.MaxSteps != ref.Episodes.TimeLimit {
				t.Fatalf("environment %v, want one with time limit %d", env, ref.Episodes.TimeLimit)
			}
			gamma, err := configGamma(c.Run.Dir)
			if err != nil || gamma != ref.Gamma {
				t.Fatalf("gamma %v (%v), want %v", gamma, err, ref.Gamma)
			}
			gv, err := gridValues(c, env, opt.Returns, gamma, &Output{})
			if err != nil {
				t.Fatal(err)
			}
			if gv.States != gv.Cells {
				t.Errorf("%d of %d cells are states, want all", gv.States, gv.Cells)
			}
			v32, shape := fixture.ReadNPY(t, filepath.Join(c.Out, "value_grid.npy"))
			if len(shape) != 2 || shape[0] != ref.Grid || shape[1] != ref.Grid {
				t.Fatalf("value_grid.npy shape %v", shape)
			}
			v := make([]float64, len(v32))
			for i, x := range v32 {
				v[i] = float64(x)
			}
			share, worst := closeShare(v, ref.ValueGrid, 1e-4)
			t.Logf("value grid: %.2f%% of cells within 1e-4; worst cell %d: %v vs %v", 100*share, worst, v[worst], ref.ValueGrid[worst])
			if share < 0.99 {
				t.Errorf("value grid: %.2f%% of cells within 1e-4 relative of the reference, want ≥ 99%%", 100*share)
			}

			// The reference's own initial states.
			n := ref.Episodes.N
			init := make([]float64, 0, 2*n)
			for _, s := range ref.Episodes.Init {
				init = append(init, s...)
			}
			r, err := rollout(c, env, init, n, env.MaxSteps, 1)
			if err != nil {
				t.Fatal(err)
			}
			share, worst = closeShare(r.Return, ref.Episodes.Returns, 1e-4)
			if share < 0.99 {
				t.Errorf("episodes from the reference's states: %.2f%% within 1e-4, want ≥ 99%% (worst %d: %v vs %v)", 100*share, worst, r.Return[worst], ref.Episodes.Returns[worst])
			}
			same := &episodes{}
			if same, err = summarizeEpisodes(r, n, 0); err != nil {
				t.Fatal(err)
			}
			if m := same.sum.Mean; ref.Episodes.Mean < float64(m.Lo) || ref.Episodes.Mean > float64(m.Hi) {
				t.Errorf("reference mean %v outside the interval [%v, %v] of the same episodes here", ref.Episodes.Mean, m.Lo, m.Hi)
			}

			// Independently seeded episodes.
			ep, err := episodeReturns(c, env, opt.Returns)
			if err != nil {
				t.Fatal(err)
			}
			m := ep.sum.Mean
			t.Logf("episodes: mean %v [%v, %v]; reference %v [%v, %v]", m.Value, m.Lo, m.Hi, ref.Episodes.Mean, ref.Episodes.Lo, ref.Episodes.Hi)
			if float64(m.Hi) < ref.Episodes.Lo || float64(m.Lo) > ref.Episodes.Hi {
				t.Errorf("seeded episodes' interval [%v, %v] does not meet the reference's [%v, %v]", m.Lo, m.Hi, ref.Episodes.Lo, ref.Episodes.Hi)
			}
			if !(m.Lo <= m.Value && m.Value <= m.Hi) || ep.sum.N != opt.Returns.Episodes {
				t.Errorf("episode summary %+v", ep.sum)
			}
		})
	}
}

// TestReturnsJobWritesItsFiles runs the whole job through Evaluate, small:
// every file, value_error_grid = q_grid − value_grid, a NaN for every cell
// that is no state, and returns.json's numbers.
func TestReturnsJobWritesItsFiles(t *testing.T) {
	opt := DefaultOptions()
	opt.Grid, opt.Line = 9, 8
	opt.Returns = ReturnsOptions{Enabled: true, Episodes: 40, Horizon: 30, BufferStates: 16, Seed: 3}
	// A plane over (cos θ, sin θ) at θ̇ = 0.5: only cells near the unit
	// circle (here the four of (±1, 0) and (0, ±1)) are pendulum states.
	opt.Plane = PlaneSpec{Preset: "none", Axes: []AxisSpec{{Dim: "0", Lo: -1, Hi: 1, Ranged: true}, {Dim: "1", Lo: -1, Hi: 1, Ranged: true}},
		Fix: map[string]float64{"2": 0.5}}
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), fixture.Path(t, "runs", demoRun), out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st := jobStatus(sum)["returns"]; st.Status != StatusOK {
		t.Fatalf("returns job: %+v", st)
	}
	var res Returns
	b, err := os.ReadFile(filepath.Join(out, "returns.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Env != "Pendulum-v1" || res.Episodes.N != 40 || res.Grid == nil || res.Buffer == nil || len(res.Definitions) == 0 {
		t.Fatalf("returns.json: %s", b)
	}
	if tr, m := MetricTrueReturn.Get(sum), res.Episodes.Mean; tr != float64(m.Value) || !(m.Lo <= m.Value && m.Value <= m.Hi) {
		t.Errorf("summary true return %v, returns.json %+v", tr, m)
	}
	v, _ := fixture.ReadNPY(t, filepath.Join(out, "value_grid.npy"))
	q, _ := fixture.ReadNPY(t, filepath.Join(out, "q_grid.npy"))
	e, _ := fixture.ReadNPY(t, filepath.Join(out, "value_error_grid.npy"))
	g := graph.Axis{Lo: -1, Hi: 1, N: 9}
	states := 0
	for i := range v {
		cs, sn := g.At(i%9), g.At(i/9)
		isState := math.Abs(math.Hypot(cs, sn)-1) <= 0.01
		if isState != !math.IsNaN(float64(v[i])) {
			t.Errorf("cell %d (%v, %v): value %v", i, cs, sn, v[i])
		}
		if isState {
			states++
			if e[i] != q[i]-v[i] || v[i] > 0 {
				t.Errorf("cell %d: value %v, error %v, q %v", i, v[i], e[i], q[i])
			}
		}
	}
	if states != 4 || res.Grid.States != states || res.Grid.Cells != 81 {
		t.Errorf("%d cells are states, returns.json says %d of %d", states, res.Grid.States, res.Grid.Cells)
	}
	bv, shape := fixture.ReadNPY(t, filepath.Join(out, "buffer_values.npy"))
	if res.Buffer.States == 0 || len(shape) != 2 || shape[0] != res.Buffer.States || shape[1] != 3 || len(res.Buffer.Rows) != res.Buffer.States {
		t.Fatalf("buffer_values.npy %v, returns.json buffer %+v", shape, res.Buffer)
	}
	// The pendulum's rewards are ≤ 0, so is every value.
	for i := 0; i < len(bv); i += 3 {
		if bv[i] > 0 {
			t.Errorf("buffer state %d: V = %v > 0", i/3, bv[i])
		}
	}
	for _, f := range []string{"episode_returns.npy", "plots/value_grid.png", "plots/value_error_grid.png", "plots/episode_returns.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestReturnsJobAppliesToKnownEnvironments: off unless enabled, and only
// for environments rleval has.
func TestReturnsJobAppliesToKnownEnvironments(t *testing.T) {
	opt := DefaultOptions()
	c := returnsContext(t, fixture.Path(t, "runs", demoRun), opt)
	if returnsJob.Applies(c) {
		t.Error("the returns job runs only when enabled")
	}
	c.Opt.Returns.Enabled = true
	if !returnsJob.Applies(c) || envOf(c) != envs.Pendulum {
		t.Error("a Pendulum-v1 run's returns job must apply")
	}
	c.Run.Config.V.Env.Name = "HalfCheetah-v4"
	if returnsJob.Applies(c) {
		t.Error("an environment rleval does not have cannot be rolled out")
	}
}
