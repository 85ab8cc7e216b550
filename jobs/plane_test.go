package jobs

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
)

// obsCase is testdata/expected-obs/<run>/<case>/case.json, written by
// tools/make_obs_fixtures.py with PyTorch's maps beside it.
type obsCase struct {
	Grid int    `json:"grid"`
	Axes string `json:"axes"`
	Fix  string `json:"fix"`
	X, Y struct {
		Index  int
		Lo, Hi float64
	}
	Fixed         map[string]float64   `json:"fixed"`
	Alpha         *float64             `json:"alpha"`
	StdBuffer     []map[string]float64 `json:"std_buffer"`
	TargetEntropy *float64             `json:"target_entropy"`
}

// obsCases lists every case of the fixtures; a missing fixture fails.
func obsCases(t *testing.T) []string {
	t.Helper()
	cases, err := filepath.Glob(filepath.Join(testdata, "expected-obs", "*", "*", "case.json"))
	if err != nil || len(cases) < 7 {
		t.Fatalf("expected-obs fixtures: %d cases (%v); run tools/make_obs_fixtures.py", len(cases), err)
	}
	return cases
}

func readCase(t *testing.T, path string) (obsCase, PlaneSpec) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c obsCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	var spec PlaneSpec
	if spec.Axes, err = ParseAxes(c.Axes); err != nil {
		t.Fatal(err)
	}
	if spec.Fix, err = ParseFix(c.Fix); err != nil {
		t.Fatal(err)
	}
	return c, spec
}

// TestMapsOverAnyObservationSpaceMatchPyTorch evaluates TD3 and SAC runs
// with 2, 3, 4 and 17 observations on the planes PyTorch was given
// (--axes/--fix, or the defaults from the buffer and the preset) and
// compares every map.
func TestMapsOverAnyObservationSpaceMatchPyTorch(t *testing.T) {
	for _, cj := range obsCases(t) {
		dir := filepath.Dir(cj)
		run := filepath.Base(filepath.Dir(dir))
		t.Run(run+"/"+filepath.Base(dir), func(t *testing.T) {
			c, spec := readCase(t, cj)
			runDir := filepath.Join(testdata, "runs-obs", run)
			r, err := loaders.LoadRun(runDir, loaders.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pl, err := ResolvePlane(r, spec)
			if err != nil {
				t.Fatal(err)
			}
			checkPlane(t, pl, c)
			opt := DefaultOptions()
			opt.Grid, opt.CoreOnly, opt.Plane = c.Grid, true, spec
			out := t.TempDir()
			if _, err := Evaluate(context.Background(), runDir, out, opt); err != nil {
				t.Fatal(err)
			}
			want, _ := filepath.Glob(filepath.Join(dir, "*.npy"))
			if len(want) < 2 {
				t.Fatalf("%s: %d expected arrays", dir, len(want))
			}
			for _, w := range want {
				name := filepath.Base(w)
				got, gs := fixture.ReadNPY(t, filepath.Join(out, name))
				exp, es := fixture.ReadNPY(t, w)
				if !slices.Equal(gs, es) {
					t.Fatalf("%s: shape %v, want %v", name, gs, es)
				}
				fixture.CloseArrays(t, name, got, exp, fixture.Analyses)
			}
		})
	}
}

func checkPlane(t *testing.T, pl *Plane, c obsCase) {
	t.Helper()
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for _, ax := range []struct {
		got  PlaneAxis
		want struct {
			Index  int
			Lo, Hi float64
		}
	}{{pl.X, c.X}, {pl.Y, c.Y}} {
		if ax.got.From.Obs[0] != ax.want.Index || !near(ax.got.Lo, ax.want.Lo) || !near(ax.got.Hi, ax.want.Hi) {
			t.Errorf("axis %+v, want obs %d over [%v, %v]", ax.got, ax.want.Index, ax.want.Lo, ax.want.Hi)
		}
	}
	if len(pl.Fixed) != len(c.Fixed) {
		t.Fatalf("fixed %+v, want %v", pl.Fixed, c.Fixed)
	}
	for _, f := range pl.Fixed {
		if w, ok := c.Fixed[strconv.Itoa(f.Index)]; !ok || !near(f.Value, w) {
			t.Errorf("fixed obs %d = %v, want %v", f.Index, f.Value, w)
		}
	}
}

// TestSummarySaysWhichPlaneWasUsed runs every analysis on the 4-observation
// SAC run and reads the plane, alpha and target entropy back.
func TestSummarySaysWhichPlaneWasUsed(t *testing.T) {
	run := filepath.Join(testdata, "runs-obs", "2026-08-01_10-00-00_obs4-sac")
	c, spec := readCase(t, filepath.Join(testdata, "expected-obs", filepath.Base(run), "example", "case.json"))
	opt := DefaultOptions()
	opt.Grid, opt.Line, opt.Plane = 16, 16, spec
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), run, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range sum.Jobs {
		if j.Status != "ok" {
			t.Errorf("job %s: %s %s", j.Name, j.Status, j.Reason)
		}
	}
	var s struct {
		Preset string
		Plane  struct {
			X, Y  PlaneAxis
			Fixed []FixedValue
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Preset != "generic" || s.Plane.X.Key != "0" || s.Plane.X.Lo != -1 || s.Plane.X.Hi != 1 || s.Plane.Y.Key != "2" ||
		s.Plane.Y.Lo != -0.5 || len(s.Plane.Fixed) != 2 || s.Plane.Fixed[0].Value != 0.25 || s.Plane.Fixed[1].Value != -0.1 {
		t.Errorf("summary.json plane: %s", b)
	}
	var sac sacStats
	b, err = os.ReadFile(filepath.Join(out, "sac.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sac); err != nil {
		t.Fatal(err)
	}
	if sac.Alpha == nil || math.Abs(float64(*sac.Alpha)-*c.Alpha) > 1e-6 || sac.TargetEntropy == nil || float64(*sac.TargetEntropy) != *c.TargetEntropy {
		t.Errorf("sac.json: %s", b)
	}
	// The policy's std over the buffer: statistics within 1e-4 relative.
	if len(sac.StdBuffer) != len(c.StdBuffer) || len(c.StdBuffer) == 0 {
		t.Fatalf("sac.json policy_std_buffer %+v, want %d action values", sac.StdBuffer, len(c.StdBuffer))
	}
	for d, want := range c.StdBuffer {
		got := sac.StdBuffer[d].Stats
		for k, g := range map[string]num{"mean": got.Mean, "std": got.Std, "min": got.Min, "max": got.Max} {
			if w := want[k]; math.Abs(float64(g)-w) > 1e-4*math.Abs(w)+1e-7 {
				t.Errorf("std[%d] %s = %v, want %v", d, k, g, w)
			}
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "fixed obs[1] = 0.25, obs[3] = -0.1") {
		t.Error("the report does not say which values were fixed")
	}
}

// TestPendulumPresetGridIsRowMajorWithThetaDotAsRows pins the layout the
// jobs and the fixtures share: row i is θ̇_i, column j is θ_j, and the
// observation is [cos θ, sin θ, θ̇].
func TestPendulumPresetGridIsRowMajorWithThetaDotAsRows(t *testing.T) {
	pl, err := ResolvePlane(&loaders.Run{Nets: map[loaders.Role]loaders.Part[*loaders.Network]{loaders.RoleActor: {V: &loaders.Network{ObsDim: 3}}}}, PlaneSpec{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 7
	g := pl.Grid(n)
	if r, c := g.Shape(); r != n || c != n || g.Dim() != 3 || g.X.Lo != -math.Pi || g.Y.Hi != 8 {
		t.Fatalf("grid %+v", g)
	}
	th, td := g.X.Values(), g.Y.Values()
	all := make([]float32, n*n*3)
	g.Fill(0, n*n, all)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			o := all[(i*n+j)*3:]
			want := []float32{float32(math.Cos(th[j])), float32(math.Sin(th[j])), float32(td[i])}
			if !slices.Equal(o[:3], want) {
				t.Fatalf("cell (%d,%d) = %v, want %v", i, j, o[:3], want)
			}
		}
	}
	lg, xOf := pl.LineGrid(500)
	buf := make([]float32, 500*3)
	lg.Fill(0, 500, buf)
	if buf[2] != 0 || buf[0] != float32(math.Cos(-math.Pi)) || buf[499*3+1] != float32(math.Sin(math.Pi)) || xOf(0) != -180 {
		t.Errorf("line endpoints %v %v, x0 %v", buf[:3], buf[499*3:], xOf(0))
	}
	// Projection is the notebook's float32 arctan2 in degrees.
	x, y := pl.Project([]float32{0, 1, 2.5})
	if x != float32(math.Atan2(1, 0))*float32(180/math.Pi) || y != 2.5 {
		t.Errorf("project = %v, %v", x, y)
	}
}

func TestPresetForPicksByEnvironmentName(t *testing.T) {
	run := func(env string) *loaders.Run {
		r := &loaders.Run{}
		if env != "-" {
			r.Config.V = &loaders.Config{}
			r.Config.V.Env.Name = env
		}
		return r
	}
	for _, tc := range []struct {
		env  string
		dim  int
		want string
	}{
		{"Pendulum-v1", 3, "pendulum"}, {"pendulum-v1", 3, "pendulum"}, {"-", 3, "pendulum"}, {"", 3, "pendulum"},
		{"MountainCarContinuous-v0", 2, "mountaincar"}, {"Custom3-v0", 3, ""}, {"Pendulum-v1", 4, ""}, {"-", 2, ""},
	} {
		got := ""
		if p := PresetFor(run(tc.env), tc.dim); p != nil {
			got = p.Name
		}
		if got != tc.want {
			t.Errorf("env %q, %d obs: preset %q, want %q", tc.env, tc.dim, got, tc.want)
		}
	}
}

func TestPlaneFlagsRejectBadValuesNamingThem(t *testing.T) {
	for _, s := range []string{"0", "0:1:2", "0:1:2,1:2", "0:2:1,1:0:1", "0:x:1,1:0:1", "0:0:1,0:0:1", ":0:1,1:0:1", "0:0:1,1:0:1,2:0:1"} {
		if _, err := ParseAxes(s); err == nil || !strings.Contains(err.Error(), "--axes") {
			t.Errorf("--axes %q: %v", s, err)
		}
	}
	for _, s := range []string{"1", "=2", "1=x", "1=NaN", "1=2,1=3"} {
		if _, err := ParseFix(s); err == nil || !strings.Contains(err.Error(), "--fix") {
			t.Errorf("--fix %q: %v", s, err)
		}
	}
	r, err := loaders.LoadRun(filepath.Join(testdata, "runs-obs", "2026-08-01_11-00-00_obs3-td3"), loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec PlaneSpec
		want string
	}{
		{PlaneSpec{Axes: []AxisSpec{{Dim: "0"}, {Dim: "3"}}}, "observation \"3\""},
		{PlaneSpec{Axes: []AxisSpec{{Dim: "0"}, {Dim: "theta"}}}, "observation \"theta\""},
		{PlaneSpec{Axes: []AxisSpec{{Dim: "0"}, {Dim: "1"}}, Fix: map[string]float64{"1": 2}}, "on the plane"},
		{PlaneSpec{Preset: "cartpole"}, "unknown"},
		{PlaneSpec{Preset: "mountaincar"}, "describes 2 observation values"},
	} {
		if _, err := ResolvePlane(r, tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.spec, err, tc.want)
		}
	}
	// The pendulum's plane is asked for by its own axes' names.
	pend := &loaders.Run{Nets: map[loaders.Role]loaders.Part[*loaders.Network]{loaders.RoleActor: {V: &loaders.Network{ObsDim: 3}}}}
	pl, err := ResolvePlane(pend, PlaneSpec{Axes: []AxisSpec{{Dim: "theta_dot", Lo: -4, Hi: 4, Ranged: true}, {Dim: "theta"}}})
	if err != nil {
		t.Fatal(err)
	}
	obs := make([]float32, 3)
	pl.Grid(3).Fill(1, 1, obs) // x = θ̇ = 0, y = θ = -π
	if pl.X.Key != "theta_dot" || pl.X.Lo != -4 || obs[2] != 0 || obs[0] != float32(math.Cos(-math.Pi)) {
		t.Errorf("swapped pendulum plane %+v: obs %v", pl.X, obs)
	}
}

// TestOneCriticIsQ1 evaluates a run whose second critic is absent, as a
// DDPG run has: Q is Q1, compared with PyTorch's Q1 map.
func TestOneCriticIsQ1(t *testing.T) {
	const name = "2026-06-20_09-15-00_pendulum-gen2"
	dir := copyRun(t, name)
	for _, f := range []string{"critic2.pt", "critic2_target.pt"} {
		if err := os.Remove(filepath.Join(dir, "agent_td3", f)); err != nil {
			t.Fatal(err)
		}
	}
	opt := DefaultOptions()
	opt.Grid, opt.CoreOnly = 64, true
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), dir, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st := jobStatus(sum)["qvalues"]; st.Status != "ok" {
		t.Fatalf("qvalues: %+v", st)
	}
	got, _ := fixture.ReadNPY(t, filepath.Join(out, "q_grid.npy"))
	want, _ := fixture.ReadNPY(t, filepath.Join(testdata, "expected", name, "q1_grid.npy"))
	fixture.CloseArrays(t, "q_grid (one critic)", got, want, fixture.Analyses)
}

// TestRenderBigMapUsesThePlane draws the high-resolution Q map of the
// 17-observation run on the plane of --axes/--fix and compares it with
// PyTorch's q_grid on that plane.
func TestRenderBigMapUsesThePlane(t *testing.T) {
	const name = "2026-08-01_12-00-00_obs17-td3"
	c, spec := readCase(t, filepath.Join(testdata, "expected-obs", name, "axes", "case.json"))
	r, err := loaders.LoadRun(filepath.Join(testdata, "runs-obs", name), loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !PlaneNeedsBuffer(r, spec) { // 15 values off the plane, 2 fixed: the rest are the buffer's means
		t.Error("PlaneNeedsBuffer = false, want true")
	}
	eng := graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{})
	res, err := RenderBigMap(context.Background(), r, BigMap{What: "q", N: c.Grid, Plane: spec, Out: filepath.Join(t.TempDir(), "q.png"), Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := fixture.ReadNPY(t, res.NPY)
	want, _ := fixture.ReadNPY(t, filepath.Join(testdata, "expected-obs", name, "axes", "q_grid.npy"))
	fixture.CloseArrays(t, "q", got, want, fixture.Analyses)
	full := spec
	full.Fix = map[string]float64{}
	for i := 0; i < 17; i++ {
		if i != 16 && i != 3 {
			full.Fix[strconv.Itoa(i)] = 0
		}
	}
	if PlaneNeedsBuffer(r, full) {
		t.Error("PlaneNeedsBuffer = true with both axes ranged and every other value fixed")
	}
}

func TestPlotLabelSpellsDotsAsDerivatives(t *testing.T) {
	for in, want := range map[string]string{"θ̇ (rad/s)": "dθ/dt (rad/s)", "x\u0307": "dx/dt", "θ (degrees)": "θ (degrees)", "": ""} {
		if got := plotLabel(in); got != want {
			t.Errorf("plotLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeGivesRangesInPlotUnits(t *testing.T) {
	pl, err := ResolvePlane(&loaders.Run{Nets: map[loaders.Role]loaders.Part[*loaders.Network]{loaders.RoleActor: {V: &loaders.Network{ObsDim: 3}}}}, PlaneSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pl.Describe(), "preset pendulum; x = θ (degrees) over [-180, 180], y = θ̇ (rad/s) over [-8, 8]"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
}

// TestPlaneWithoutBufferComesFromTheObservationSpace: with no preset and
// no buffer, an SB3 run's plane is the two observation values of widest
// finite range in the observation_space its data member records, over
// those bounds; a run that records none gets an error asking for --axes.
func TestPlaneWithoutBufferComesFromTheObservationSpace(t *testing.T) {
	r, err := loaders.LoadRun(filepath.Join(testdata, "layouts", "logs", "sac", "Pendulum-v1_1"), loaders.LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.ObsLow, []float64{-1, -1, -8}) || !slices.Equal(r.ObsHigh, []float64{1, 1, 8}) {
		t.Fatalf("observation bounds %v, %v, want [-1 -1 -8], [1 1 8]", r.ObsLow, r.ObsHigh)
	}
	pl, err := ResolvePlane(r, PlaneSpec{Preset: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if pl.X.Key != "0" || pl.X.Lo != -1 || pl.X.Hi != 1 || pl.Y.Key != "2" || pl.Y.Lo != -8 || pl.Y.Hi != 8 {
		t.Errorf("plane x %+v, y %+v: want obs 0 over [-1, 1] and obs 2 over [-8, 8]", pl.X, pl.Y)
	}
	// Unbounded values are not axes: only obs 1 and 2 have finite bounds.
	r.ObsLow, r.ObsHigh = []float64{math.Inf(-1), -1, -8}, []float64{math.Inf(1), 1, 8}
	if pl, err = ResolvePlane(r, PlaneSpec{Preset: "none"}); err != nil || pl.X.Key != "1" || pl.Y.Key != "2" {
		t.Errorf("plane with obs 0 unbounded: %+v, %+v, %v; want obs 1 and 2", pl.X, pl.Y, err)
	}

	r, err = loaders.LoadRun(filepath.Join(testdata, "layouts", "runs", "Pendulum-v1__td3_continuous_action__1__1700000000"), loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolvePlane(r, PlaneSpec{Preset: "none"}); err == nil || !strings.Contains(err.Error(), "--axes") {
		t.Errorf("CleanRL run without a preset: err %v, want one asking for --axes", err)
	}
	axes, _ := ParseAxes("0:-1:1,2:-8:8")
	if _, err := ResolvePlane(r, PlaneSpec{Preset: "none", Axes: axes}); err != nil {
		t.Errorf("with --axes: %v", err)
	}
}
