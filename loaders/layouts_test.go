package loaders

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders/internal/npy"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchwrite"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

const layoutsDir = "../testdata/layouts"

// refForward is a plain float32 forward pass of a Network description
// (InputNorm, Linear layers, hidden activation), the reference the loaders'
// reading of other libraries' networks is checked with, apart from graph.
func refForward(n *Network, in []float32) []float32 {
	x := append([]float32(nil), in...)
	if nm := n.InputNorm; nm != nil {
		for i := range nm.Mean {
			v := (x[i] - nm.Mean[i]) / nm.Std[i]
			x[i] = float32(math.Max(float64(-nm.Clip), math.Min(float64(nm.Clip), float64(v))))
		}
	}
	act := x[n.ObsDim:]
	if n.ActionAt > 0 { // the action joins layer ActionAt's input
		x = x[:n.ObsDim]
	}
	for li, l := range n.Layers {
		if li > 0 && li == n.ActionAt {
			x = append(x, act...)
		}
		y := make([]float32, l.Out)
		for o := range y {
			s := l.B[o]
			for i := 0; i < l.In; i++ {
				s += l.W[o*l.In+i] * x[i]
			}
			if li < len(n.Layers)-1 {
				switch n.Hidden {
				case ReLU:
					s = max(s, 0)
				case Tanh:
					s = float32(math.Tanh(float64(s)))
				}
			}
			y[o] = s
		}
		x = y
	}
	return x
}

func refAction(n *Network, obs []float32) []float32 {
	out := refForward(n, obs)[:n.ActDim]
	a := make([]float32, n.ActDim)
	for i, m := range out {
		if n.MeanClip > 0 {
			m = max(-n.MeanClip, min(n.MeanClip, m))
		}
		t := float32(math.Tanh(float64(m)))
		a[i] = n.Low[i] + (t+1)*(n.High[i]-n.Low[i])/2
	}
	return a
}

func refQ(n *Network, obs, act []float32) float32 {
	out := refForward(n, append(append([]float32(nil), obs...), act...))
	if n.Kind == KindQuantileCritic {
		s := float32(0)
		for _, v := range out {
			s += v
		}
		return s / float32(len(out))
	}
	return out[0]
}

func gridObs(n int) [][]float32 {
	var out [][]float32
	for i := 0; i < n; i++ {
		thd := -8 + 16*float64(i)/float64(n-1)
		for j := 0; j < n; j++ {
			th := -math.Pi + 2*math.Pi*float64(j)/float64(n-1)
			out = append(out, []float32{float32(math.Cos(th)), float32(math.Sin(th)), float32(thd)})
		}
	}
	return out
}

// TestLayoutNetworksMatchPyTorch checks every layout's networks as the
// loaders describe them (action bounds, SB3's action scaling folded into
// the critics, gSDE's mean clamp, VecNormalize, quantile critics) against
// PyTorch's policy and critic-1 maps, with a reference forward pass, so
// the description is right whatever graph evaluates.
func TestLayoutNetworksMatchPyTorch(t *testing.T) {
	runs := map[string]string{
		"logs+td3+Pendulum-v1_1":                                 "logs/td3/Pendulum-v1_1",
		"logs+sac+Pendulum-v1_1":                                 "logs/sac/Pendulum-v1_1",
		"logs+sac+Pendulum-v1_2":                                 "logs/sac/Pendulum-v1_2",
		"logs+ddpg+Pendulum-v1_1":                                "logs/ddpg/Pendulum-v1_1",
		"logs+tqc+Pendulum-v1_1":                                 "logs/tqc/Pendulum-v1_1",
		"runs+Pendulum-v1__td3_continuous_action__1__1700000000": "runs/Pendulum-v1__td3_continuous_action__1__1700000000",
		"TD3+TD3_Pendulum-v1_1":                                  "TD3/TD3_Pendulum-v1_1",
		"TD3+OurDDPG_Pendulum-v1_0":                              "TD3/OurDDPG_Pendulum-v1_0",
		"TD3+DDPG_Pendulum-v1_0":                                 "TD3/DDPG_Pendulum-v1_0",
	}
	for exp, rel := range runs {
		t.Run(exp, func(t *testing.T) {
			r, err := LoadRun(filepath.Join(layoutsDir, rel), LoadOptions{SkipBuffer: true})
			if err != nil {
				t.Fatal(err)
			}
			actor, c1 := r.Net(RoleActor), r.Net(RoleCritic1)
			if actor == nil || c1 == nil {
				t.Fatalf("no actor or critic1: %v", r.Problems())
			}
			dir := filepath.Join("../testdata/expected-layouts", exp)
			wantA, err := npy.LoadNPY(filepath.Join(dir, "policy_grid.npy"))
			if err != nil {
				t.Fatal(err)
			}
			wantQ, err := npy.LoadNPY(filepath.Join(dir, "q1_grid.npy"))
			if err != nil {
				t.Fatal(err)
			}
			pa, _ := wantA.Float32s()
			pq, _ := wantQ.Float32s()
			obs := gridObs(wantA.Shape[0])
			if len(obs) != len(pa) || len(pa) == 0 {
				t.Fatalf("%d grid points, expected %d", len(obs), len(pa))
			}
			for i, o := range obs {
				a := refAction(actor, o)
				q := refQ(c1, o, a)
				if !close32(a[0], pa[i]) || !close32(q, pq[i]) {
					t.Fatalf("point %d: action %v, Q1 %v; PyTorch %v, %v", i, a[0], q, pa[i], pq[i])
				}
			}
		})
	}
}

// close32 is ANALYSES.md's tolerance for values of magnitude ≤ 1·scale.
func close32(got, want float32) bool {
	return math.Abs(float64(got-want)) <= 1e-5*math.Max(1, math.Abs(float64(want)))+1e-4*math.Abs(float64(want))
}

func TestSB3ReplayBufferAndVecNormalize(t *testing.T) {
	dir := filepath.Join(layoutsDir, "logs/sac/Pendulum-v1_2")
	b, err := LoadSB3ReplayBuffer(filepath.Join(dir, "replay_buffer.pkl"), []float32{-2}, []float32{2})
	if err != nil {
		t.Fatal(err)
	}
	if b.Size != 40 || b.Capacity != 64 || b.Index != 40 || b.ObsDim != 3 || b.ActDim != 1 {
		t.Fatalf("buffer %d/%d index %d obs %d act %d", b.Size, b.Capacity, b.Index, b.ObsDim, b.ActDim)
	}
	if len(b.Obs) != 120 || len(b.NextObs) != 120 || len(b.Rewards) != 40 || len(b.Dones) != 40 {
		t.Fatal("row counts")
	}
	done := 0
	for i, d := range b.Dones {
		if d {
			done++
			if i != 19 {
				t.Errorf("done at row %d, want 19", i)
			}
		}
	}
	for _, a := range b.Actions {
		if a < -2 || a > 2 {
			t.Fatalf("action %v outside the env's bounds", a)
		}
	}
	// cos²+sin² = 1 holds for every observation the script wrote.
	for i := 0; i < b.Size; i++ {
		c, s := b.Obs[3*i], b.Obs[3*i+1]
		if math.Abs(float64(c*c+s*s-1)) > 1e-5 {
			t.Fatalf("row %d: obs %v is not a Pendulum observation", i, b.Obs[3*i:3*i+3])
		}
	}
	if done != 1 {
		t.Fatalf("%d dones, want 1", done)
	}
	n, err := LoadVecNormalize(filepath.Join(dir, "Pendulum-v1", "vecnormalize.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	wantMean := []float32{0.1, -0.2, 0.5}
	wantStd := []float32{float32(math.Sqrt(0.4 + 1e-8)), float32(math.Sqrt(0.6 + 1e-8)), 3}
	for i := range wantMean {
		if n.Mean[i] != wantMean[i] || !close32(n.Std[i], wantStd[i]) {
			t.Fatalf("norm %+v", n)
		}
	}
	if n.Clip != 1.5 {
		t.Fatalf("clip %v", n.Clip)
	}
}

func TestCurveFilesFillTheLog(t *testing.T) {
	dir := filepath.Join(layoutsDir, "logs/td3/Pendulum-v1_1")
	lg, err := LoadEvaluationsNPZ(filepath.Join(dir, "evaluations.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if s := lg.Evals.Col("reward_sum"); len(s.Step) != 3 || s.Step[2] != 300 {
		t.Fatalf("evaluations: %+v", s)
	}
	if s := lg.Evals.Col("ep_length"); len(s.Value) != 3 || s.Value[0] != 200 {
		t.Fatalf("ep_length: %+v", s)
	}
	// Episode returns, as RL Zoo reads them: mean, min, max and std (ddof
	// 0) of each row of results; no per-step mean reward.
	npz, err := npy.LoadNPZ(filepath.Join(dir, "evaluations.npz"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := npz["results"].Float64s()
	if err != nil || len(res) != 6 {
		t.Fatalf("results %v, %v", res, err)
	}
	if s := lg.Evals.Col("reward_mean"); len(s.Value) != 0 {
		t.Errorf("reward_mean (per step) filled from episode returns: %v", s.Value)
	}
	for i := range 3 {
		a, b := res[2*i], res[2*i+1]
		mean := (a + b) / 2
		want := map[string]float64{"reward_sum": mean, "return_min": math.Min(a, b), "return_max": math.Max(a, b), "return_std": math.Abs(a-b) / 2, "episodes": 2}
		for col, w := range want {
			if v := lg.Evals.Col(col).Value; len(v) != 3 || math.Abs(v[i]-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("evaluation %d %s = %v, want %v", i, col, v, w)
			}
		}
	}
	m, err := LoadMonitorCSV(filepath.Join(dir, "0.monitor.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Steps.Col("episode_reward"); len(s.Step) != 3 || s.Step[2] != 600 {
		t.Fatalf("monitor: %+v", s)
	}
	r, err := LoadTD3Results(filepath.Join(layoutsDir, "TD3/results/TD3_Pendulum-v1_1.npy"), td3EvalFreq)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Evals.Col("reward_sum"); len(s.Value) != 4 || s.Value[3] != -699 || s.Step[3] != 15000 {
		t.Fatalf("TD3 results: %+v", s)
	}
}

func TestLoadRunOfSeveralTD3RunsNamesThem(t *testing.T) {
	_, err := LoadRun(filepath.Join(layoutsDir, "TD3"), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "TD3_Pendulum-v1_0, TD3_Pendulum-v1_1") {
		t.Fatalf("err %v", err)
	}
	r, err := LoadRun(filepath.Join(layoutsDir, "TD3", "TD3_Pendulum-v1_1"), LoadOptions{MaxAction: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "TD3_Pendulum-v1_1" || r.Net(RoleActor).High[0] != 3 {
		t.Fatalf("run %q, high %v", r.ID, r.Net(RoleActor).High)
	}
	if RunFolder(filepath.Join(layoutsDir, "TD3", "TD3_Pendulum-v1_1")) != filepath.Join(layoutsDir, "TD3") {
		t.Fatal("RunFolder")
	}
}

func TestLoadRunOfNoLayoutSaysWhatWasLookedFor(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	_, err := LoadRun(dir, LoadOptions{})
	if !errors.Is(err, ErrNoRun) || !strings.Contains(err.Error(), ".cleanrl_model") || !strings.Contains(err.Error(), "policy.pth") {
		t.Fatalf("err %v", err)
	}
	// --layout forces one: an sb3 folder read as upstream is a run with
	// every upstream file missing.
	r, err := LoadRun(filepath.Join(layoutsDir, "logs/ddpg/Pendulum-v1_1"), LoadOptions{Layout: "upstream"})
	if err != nil || r.Layout != "upstream" || loadedNets(r) != 0 {
		t.Fatalf("forced upstream: %v, %+v", err, r)
	}
	if _, err := LoadRun(dir, LoadOptions{Layout: "nope"}); err == nil || !strings.Contains(err.Error(), "unknown layout") {
		t.Fatalf("unknown layout: %v", err)
	}
}

func TestNumpyFieldReadsSB3SpaceStrings(t *testing.T) {
	for in, want := range map[string][]float64{
		`"[-2.]"`:              {-2},
		`"[-1. -1. -8.]"`:      {-1, -1, -8},
		`"[-inf  0.5\n  3. ]"`: {math.Inf(-1), 0.5, 3},
		`[1, 2]`:               {1, 2},
	} {
		got, err := numpyField([]byte(in))
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: %v %v", in, got, err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: %v", in, got)
			}
		}
	}
	if _, err := numpyField([]byte(`"[1. 2. ... 9.]"`)); err == nil {
		t.Fatal("abbreviated array accepted")
	}
}

// layoutSeeds adds the files under testdata/layouts matching pattern to
// f's corpus.
func layoutSeeds(f *testing.F, pattern string) {
	f.Helper()
	fixture.Seeds(f, filepath.Join("layouts", pattern))
}

func FuzzReadSB3Zip(f *testing.F) {
	layoutSeeds(f, "logs/*/*/*.zip")
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadSB3Zip("fuzz.zip", bytes.NewReader(b), int64(len(b)))
	})
}

func FuzzSB3Pickles(f *testing.F) {
	layoutSeeds(f, "logs/*/*/replay_buffer.pkl")
	layoutSeeds(f, "logs/*/*/*/vecnormalize.pkl")
	f.Fuzz(func(t *testing.T, b []byte) {
		v, _, err := pickle.Decode(bytes.NewReader(b), int64(len(b)), pickle.Options{Rebuild: torchzip.Rebuild})
		if err != nil {
			return
		}
		sb3Buffer(v, []float32{-2}, []float32{2})
		vecNormalize(v)
	})
}

func FuzzMonitorCSV(f *testing.F) {
	layoutSeeds(f, "logs/*/*/0.monitor.csv")
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "m.csv")
		if os.WriteFile(p, b, 0o644) == nil {
			LoadMonitorCSV(p)
		}
	})
}

// TestOptimizeMemoryBufferTakesNextRow pins SB3's optimize_memory_usage
// buffers (no next_observations): the next observation is the next time
// step's row, wrapping at the end.
func TestOptimizeMemoryBufferTakesNextRow(t *testing.T) {
	obs := &npy.NDArray{Shape: []int{3, 1, 2}, DType: npy.NPDType{Kind: 'f', Size: 4}}
	for _, v := range []float32{1, 2, 3, 4, 5, 6} {
		obs.Data = append(obs.Data, torchwrite.F32Bytes([]float32{v})...)
	}
	d := &pickle.Dict{}
	d.Set("observations", obs)
	next, err := nextRowObs(func(k string) (pickle.Value, bool) { return d.Get(k) }, 6, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{3, 4, 5, 6, 1, 2}; !slices.Equal(next, want) {
		t.Fatalf("next %v, want %v", next, want)
	}
}

// TestTD3FilesOf2018WithPth: the 2018 code saved <prefix>_actor.pth and
// _critic.pth; such a folder is the same run.
func TestTD3FilesOf2018WithPth(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	for _, part := range []string{"actor", "critic"} {
		b, err := os.ReadFile(filepath.Join(layoutsDir, "TD3", "models", "TD3_Pendulum-v1_1_"+part))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "models", "TD3_Pendulum-v1_1_"+part+".pth"), b, 0o644)
	}
	r, err := LoadRun(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "TD3_Pendulum-v1_1" || r.Net(RoleActor) == nil || r.Net(RoleCritic2) == nil || r.Net(RoleActor).High[0] != 2 {
		t.Fatalf("run %q: nets %v, problems %v", r.ID, r.Nets, r.Problems())
	}
	if !errors.Is(r.Log.Err, ErrNotExist) {
		t.Fatalf("no results/: log error %v", r.Log.Err)
	}
}

// LogsLater leaves the logs to Run.LoadLogs, which reads what LoadRun would
// have read; every other part of the run is loaded at once.
func TestLoadRunLogsLater(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-06-20_09-15-00_pendulum-gen2")
	now, err := LoadRun(dir, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	later, err := LoadRun(dir, LoadOptions{LogsLater: true})
	if err != nil {
		t.Fatal(err)
	}
	if later.Log.V != nil || later.Log.Err != nil {
		t.Fatalf("LogsLater read the log already: %v, %v", later.Log.V != nil, later.Log.Err)
	}
	if loadedNets(later) != loadedNets(now) || later.Buffer.V == nil {
		t.Fatalf("LogsLater left other parts unread: %d of %d networks, buffer %v", loadedNets(later), loadedNets(now), later.Buffer.V != nil)
	}
	later.LoadLogs()
	later.LoadLogs() // a second call changes nothing
	if later.Log.V == nil || later.Log.Err != nil {
		t.Fatalf("LoadLogs: log %v, error %v", later.Log.V != nil, later.Log.Err)
	}
	if later.Log.V.Lines != now.Log.V.Lines || later.Log.V.Steps.Count != now.Log.V.Steps.Count || later.Log.V.Evals.Count != now.Log.V.Evals.Count {
		t.Fatalf("LoadLogs read %d lines, %d steps, %d evaluations; LoadRun %d, %d, %d", later.Log.V.Lines, later.Log.V.Steps.Count,
			later.Log.V.Evals.Count, now.Log.V.Lines, now.Log.V.Steps.Count, now.Log.V.Evals.Count)
	}
	if now.Log.V.Steps.Count == 0 {
		t.Fatal("the fixture's log has no step records")
	}
}

// The original TD3 code's DDPG baselines: OurDDPG's one critic (l1..l3, the
// keys of an actor) is critic1 alone, with no critic2 and no problem; DDPG.py's critic, which takes
// the action at l2, is refused as unsupported, not as a broken file, and
// the actor still loads.
func TestTD3CodeDDPGBaselines(t *testing.T) {
	r, err := LoadRun(filepath.Join(layoutsDir, "TD3", "OurDDPG_Pendulum-v1_0"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := r.Net(RoleCritic1), r.Net(RoleCritic2)
	if c1 == nil || c2 != nil || c1.Kind != KindCritic || c1.ObsDim != 3 || c1.ActDim != 1 || r.Nets[RoleCritic2].Err != nil {
		t.Fatalf("OurDDPG critics %+v, %+v: %v", c1, c2, r.Problems())
	}
	if p := r.Problems(); len(p) != 0 {
		t.Errorf("OurDDPG problems %v, want none (no targets and no buffer are never saved)", p)
	}
	if ns := r.NotSaved(); len(ns) != 4 {
		t.Errorf("OurDDPG not-saved notes %q, want the 3 target networks and the buffer", ns)
	}
	if r.Config.V.Algorithm.Type != "ourddpg" {
		t.Errorf("algorithm %q, want ourddpg", r.Config.V.Algorithm.Type)
	}

	r, err = LoadRun(filepath.Join(layoutsDir, "TD3", "DDPG_Pendulum-v1_0"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Net(RoleActor) == nil {
		t.Fatalf("the DDPG actor did not load: %v", r.Nets[RoleActor].Err)
	}
	// DDPG.py's critic takes the action at l2: l1 reads the observation,
	// l2 l1's 8 outputs and the action.
	c1, c2 = r.Net(RoleCritic1), r.Net(RoleCritic2)
	if c1 == nil || c2 != nil || c1.Kind != KindCritic || c1.ActionAt != 1 || c1.ObsDim != 3 || c1.ActDim != 1 ||
		c1.InputWidth() != 4 || c1.Layers[0].In != 3 || c1.Layers[1].In != c1.Layers[0].Out+1 {
		t.Fatalf("DDPG.py critics %+v, %+v: %v", c1, c2, r.Problems())
	}
	if p := r.Problems(); len(p) != 0 || r.Nets[RoleCritic1].Err != nil {
		t.Fatalf("DDPG.py run: problems %v, critic %v", p, r.Nets[RoleCritic1].Err)
	}

	// An actor file read where a critic is wanted is still refused when
	// its keys say which it is.
	if _, err := LoadNetworkAs(fixture.Path(t, "runs", "2026-06-20_09-15-00_pendulum-gen2", "agent_td3", "actor.pt"), KindCritic, 0); err == nil {
		t.Fatal("a gen-2 actor read as a critic")
	}
}

// SB3 SAC and TQC runs give the temperature PyTorch reads from
// pytorch_variables.pth: exp(log_ent_coef) when it was tuned,
// ent_coef_tensor when fixed, and the data's target_entropy.
func TestSB3Temperature(t *testing.T) {
	checked := 0
	for _, rel := range []string{"logs/sac/Pendulum-v1_1", "logs/sac/Pendulum-v1_2", "logs/tqc/Pendulum-v1_1", "logs/td3/Pendulum-v1_1"} {
		t.Run(rel, func(t *testing.T) {
			r, err := LoadRun(filepath.Join(layoutsDir, rel), LoadOptions{SkipBuffer: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Temperature.Err != nil {
				t.Fatal(r.Temperature.Err)
			}
			exp := filepath.Join("../testdata/expected-layouts", strings.ReplaceAll(rel, "/", "+"), "temperature.json")
			if strings.Contains(rel, "td3") {
				if r.Temperature.V != nil {
					t.Fatalf("a TD3 run has a temperature: %+v", r.Temperature.V)
				}
				return
			}
			var want struct {
				Alpha         float64  `json:"alpha"`
				LogAlpha      *float64 `json:"log_alpha"`
				TargetEntropy float64  `json:"target_entropy"`
			}
			readJSON(t, fixture.Path(t, "expected-layouts", strings.ReplaceAll(rel, "/", "+"), "temperature.json"), &want)
			got := r.Temperature.V
			if got == nil {
				t.Fatalf("no temperature (want %s)", exp)
			}
			if math.Abs(got.Alpha-want.Alpha) > 1e-6 || got.TargetEntropy != want.TargetEntropy || !strings.Contains(got.Path, "pytorch_variables.pth") {
				t.Fatalf("temperature %+v, want %+v", got, want)
			}
			if (want.LogAlpha == nil) != math.IsNaN(got.LogAlpha) || (want.LogAlpha != nil && math.Abs(got.LogAlpha-*want.LogAlpha) > 1e-6) {
				t.Fatalf("log alpha %v, want %v", got.LogAlpha, want.LogAlpha)
			}
			checked++
		})
	}
	if checked != 3 {
		t.Fatalf("checked %d temperatures, want 3", checked)
	}
}

// A gen-2 SAC run's temperature is its log_alpha.pt; a broken one is an
// error of the temperature alone.
func TestUpstreamTemperature(t *testing.T) {
	src := fixture.Path(t, "runs-obs", "2026-08-01_10-00-00_obs4-sac")
	var want struct {
		Alpha         float64 `json:"alpha"`
		TargetEntropy float64 `json:"target_entropy"`
	}
	readJSON(t, fixture.Path(t, "expected-obs", "2026-08-01_10-00-00_obs4-sac", "default", "case.json"), &want)
	r, err := LoadRun(src, LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Temperature.Err != nil || r.Temperature.V == nil || math.Abs(r.Temperature.V.Alpha-want.Alpha) > 1e-6 ||
		math.Abs(r.Temperature.V.Alpha-math.Exp(r.Temperature.V.LogAlpha)) > 1e-12 || r.Temperature.V.TargetEntropy != want.TargetEntropy {
		t.Fatalf("temperature %+v, %v; PyTorch alpha %v, target entropy %v", r.Temperature.V, r.Temperature.Err, want.Alpha, want.TargetEntropy)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "agent_sac", "log_alpha.pt"), []byte("PK\x03\x04 not a torch file"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = LoadRun(dir, LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Temperature.Err == nil || !strings.Contains(r.Temperature.Err.Error(), "log_alpha.pt") || r.Net(RoleActor) == nil {
		t.Fatalf("broken log_alpha.pt: %v (actor %v)", r.Temperature.Err, r.Net(RoleActor) != nil)
	}
	// It is one of the run's problems, and a broken file, not a missing one.
	if b := r.Broken(); len(b) != 1 || b[0] != r.Temperature.Err {
		t.Fatalf("broken log_alpha.pt: Broken() = %v", b)
	}
}

// A 2020 Stable-Baselines3 zip: no version member, and the temperature in
// tensors.pth, the name pytorch_variables.pth had then.
func TestSB3Zip2020TensorsPth(t *testing.T) {
	renamed := false
	b := rewriteZip(t, fixture.Path(t, "layouts", "logs", "sac", "Pendulum-v1_1", "Pendulum-v1.zip"), func(name string, b []byte) (string, []byte) {
		switch name {
		case "_stable_baselines3_version", "system_info.txt":
			return "", nil
		case "pytorch_variables.pth":
			renamed = true
			return "tensors.pth", b
		}
		return name, b
	})
	if !renamed {
		t.Fatal("the fixture has no pytorch_variables.pth")
	}
	m, err := ReadSB3Zip("old.zip", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Alpha float64 `json:"alpha"`
	}
	readJSON(t, fixture.Path(t, "expected-layouts", "logs+sac+Pendulum-v1_1", "temperature.json"), &want)
	if m.Version != "" || m.TemperatureErr != nil || m.Temperature == nil || math.Abs(m.Temperature.Alpha-want.Alpha) > 1e-6 ||
		!strings.Contains(m.Temperature.Path, "old.zip/tensors.pth") {
		t.Fatalf("version %q, temperature %+v, %v; want alpha %v", m.Version, m.Temperature, m.TemperatureErr, want.Alpha)
	}
}

// log_alpha.pt may hold the tensor alone or inside a dict: the one
// one-value tensor is the temperature's log; two make the file ambiguous.
func TestLogAlphaInADict(t *testing.T) {
	scalar := func(key string) torchwrite.Tensor {
		return torchwrite.Tensor{Key: key, Storage: "FloatStorage", Numel: 1, Shape: []int{}}
	}
	dir := t.TempDir()
	one := torchwrite.WriteFile(t, filepath.Join(dir, "one.pt"), torchwrite.Zip(t, "one", torchwrite.Dict{"log_alpha", scalar("0")},
		map[string][]byte{"0": torchwrite.F32Bytes([]float32{-0.5})}))
	two := torchwrite.WriteFile(t, filepath.Join(dir, "two.pt"), torchwrite.Zip(t, "two", torchwrite.Dict{"a", scalar("0"), "b", scalar("1")},
		map[string][]byte{"0": torchwrite.F32Bytes([]float32{1}), "1": torchwrite.F32Bytes([]float32{2})}))
	v, err := torchzip.ReadFile(one)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := soleValue(one, v); err != nil || x != -0.5 {
		t.Fatalf("log_alpha in a dict: %v, %v", x, err)
	}
	v, err = torchzip.ReadFile(two)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := soleValue(two, v); !errors.Is(err, ErrInvalid) {
		t.Fatalf("two one-value tensors: %v", err)
	}
}

// TestSB3AutoTargetEntropy: TQC (and older SAC) keep target_entropy "auto"
// as a numpy float32, which data holds only pickled: it is −dim(A), as
// the library computed it.
func TestSB3AutoTargetEntropy(t *testing.T) {
	replaced := false
	b := rewriteZip(t, fixture.Path(t, "layouts", "logs", "tqc", "Pendulum-v1_1", "Pendulum-v1.zip"), func(name string, b []byte) (string, []byte) {
		if name == "data" {
			old := []byte(`"target_entropy": -1.0`)
			replaced = bytes.Contains(b, old)
			b = bytes.Replace(b, old, []byte(`"target_entropy": {":type:": "<class 'numpy.float32'>", ":serialized:": "gAWVAAAA"}`), 1)
		}
		return name, b
	})
	if !replaced {
		t.Fatal("the fixture's data has no target_entropy -1.0")
	}
	m, err := ReadSB3Zip("tqc.zip", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Temperature == nil || m.Temperature.TargetEntropy != -1 {
		t.Errorf("temperature %+v, want target entropy -1 (−dim(A) of a 1-D action)", m.Temperature)
	}
}

// TestSB3TensorBoardLogsAreRead: RL Zoo's --tensorboard-log folder, named
// in args.yml (absolute, or relative to the folder holding logs/), adds
// the run's TensorBoard scalars (losses) to its log; another run's folder
// in the same TB tree is not taken.
func TestSB3TensorBoardLogsAreRead(t *testing.T) {
	events, _ := filepath.Glob(filepath.Join(layoutsDir, "runs", "*", "events.out.tfevents.*"))
	if len(events) != 1 {
		t.Fatalf("CleanRL fixture events: %v", events)
	}
	ev, err := os.ReadFile(events[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, tbArg, tbDir string }{
		{"absolute", "ABS/tb", "tb"},
		{"relative to the zoo folder", "tb", "tb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zoo := t.TempDir()
			dir := filepath.Join(zoo, "logs", "td3", "Pendulum-v1_1")
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(layoutsDir, "logs", "td3", "Pendulum-v1_1"))); err != nil {
				t.Fatal(err)
			}
			arg := strings.Replace(tc.tbArg, "ABS", zoo, 1)
			args := "!!python/object/apply:collections.OrderedDict\n- - - algo\n    - td3\n  - - tensorboard_log\n    - " + arg + "\n"
			if err := os.WriteFile(filepath.Join(dir, "Pendulum-v1", "args.yml"), []byte(args), 0o644); err != nil {
				t.Fatal(err)
			}
			before, err := LoadRun(dir, LoadOptions{SkipBuffer: true})
			if err != nil {
				t.Fatal(err)
			}
			// Another run's logs (TD3_2) are not this run's.
			other := filepath.Join(zoo, tc.tbDir, "Pendulum-v1", "TD3_2")
			os.MkdirAll(other, 0o755)
			os.WriteFile(filepath.Join(other, filepath.Base(events[0])), ev, 0o644)
			if r, _ := LoadRun(dir, LoadOptions{SkipBuffer: true}); r.Log.V.Steps.Count != before.Log.V.Steps.Count {
				t.Fatalf("TD3_2's logs read for run 1: %d step records, %d before", r.Log.V.Steps.Count, before.Log.V.Steps.Count)
			}
			own := filepath.Join(zoo, tc.tbDir, "Pendulum-v1", "TD3_1")
			os.MkdirAll(own, 0o755)
			if err := os.WriteFile(filepath.Join(own, filepath.Base(events[0])), ev, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := LoadRun(dir, LoadOptions{SkipBuffer: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Log.V == nil || r.Log.V.Steps.Count <= before.Log.V.Steps.Count || len(r.Log.V.Steps.Col("losses/qf1_loss").Value) == 0 {
				t.Fatalf("TensorBoard losses not read: log %+v (before %d step records)", r.Log.V, before.Log.V.Steps.Count)
			}
		})
	}
}

// rewriteZip copies the zip at src member by member through edit, which
// returns each member's new name and content ("" drops the member), and
// returns the new zip.
func rewriteZip(t *testing.T, src string, edit func(name string, b []byte) (string, []byte)) []byte {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		name, b := edit(f.Name, b)
		if name == "" {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// loadedNets counts the run's networks that loaded.
func loadedNets(r *Run) int {
	n := 0
	for _, p := range r.Nets {
		if p.V != nil {
			n++
		}
	}
	return n
}
