package jobs

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
)

// layoutFixture is one run of testdata/layouts with PyTorch's values in
// testdata/expected-layouts/<name>: "logs+td3+Pendulum-v1_1" is
// layouts/logs/td3/Pendulum-v1_1, a "@N" suffix its checkpoint at step N.
type layoutFixture struct {
	name, path string
	checkpoint int64
}

func layoutFixtures(t *testing.T) []layoutFixture {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(testdata, "expected-layouts", "*"))
	var out []layoutFixture
	for _, d := range dirs {
		name := filepath.Base(d)
		rel, ck, _ := strings.Cut(name, "@")
		f := layoutFixture{name: name, path: filepath.Join(testdata, "layouts", filepath.FromSlash(strings.ReplaceAll(rel, "+", "/")))}
		if ck != "" {
			n, err := strconv.ParseInt(ck, 10, 64)
			if err != nil {
				t.Fatalf("%s: bad checkpoint suffix", name)
			}
			f.checkpoint = n
		}
		out = append(out, f)
	}
	// make_layouts.py writes 5 RL Zoo runs + 1 checkpoint, 1 CleanRL run
	// and 4 original-TD3 runs (2 TD3, OurDDPG, DDPG.py): a missing fixture
	// fails.
	if len(out) != 11 {
		t.Fatalf("found %d layout fixtures under testdata/expected-layouts, want 11 (run tools/make_layouts.py)", len(out))
	}
	return out
}

func TestEvaluateLayoutsMatchPyTorch(t *testing.T) {
	for _, f := range layoutFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			exp := filepath.Join(testdata, "expected-layouts", f.name)
			var meta struct {
				GridN int `json:"grid_n"`
			}
			b, err := os.ReadFile(filepath.Join(exp, "meta.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			opt := DefaultOptions()
			opt.Grid = meta.GridN
			opt.Load.Checkpoint = f.checkpoint
			out := t.TempDir()
			sum, err := Evaluate(context.Background(), f.path, out, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range sum.Jobs {
				if j.Status == "failed" {
					t.Errorf("job %s failed: %s", j.Name, j.Reason)
				}
			}
			arrays, _ := filepath.Glob(filepath.Join(exp, "*.npy"))
			compared := 0
			for _, p := range arrays {
				base := filepath.Base(p)
				want, _ := fixture.ReadNPY(t, p)
				gp := filepath.Join(out, base)
				if _, err := os.Stat(gp); err != nil {
					t.Errorf("%s not written", base)
					continue
				}
				got, _ := fixture.ReadNPY(t, gp)
				fixture.CloseArrays(t, base, got, want, fixture.Analyses)
				compared += len(want)
			}
			// At least the policy and both critics' maps on the grid.
			if min := 3 * meta.GridN * meta.GridN; compared < min {
				t.Errorf("compared %d values, want at least %d", compared, min)
			}
			// SAC and TQC runs: the temperature in sac.json.
			if _, err := os.Stat(filepath.Join(exp, "temperature.json")); err == nil {
				want, got := map[string]any{}, map[string]any{}
				for p, m := range map[string]map[string]any{filepath.Join(exp, "temperature.json"): want, filepath.Join(out, "sac.json"): got} {
					b, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(b, &m); err != nil {
						t.Fatal(err)
					}
				}
				for _, k := range []string{"alpha", "log_alpha", "target_entropy"} {
					w, wok := want[k].(float64)
					g, gok := got[k].(float64)
					if wok != gok || (wok && math.Abs(g-w) > 1e-6) {
						t.Errorf("sac.json %s = %v, PyTorch %v", k, got[k], want[k])
					}
				}
			}
		})
	}
}

// TestLoadRunListsCheckpoints pins inspect's list of the snapshots saved
// along training and the error for a step that has none.
func TestLoadRunListsCheckpoints(t *testing.T) {
	dir := filepath.Join(testdata, "layouts", "logs", "td3", "Pendulum-v1_1")
	r, err := loaders.LoadRun(dir, loaders.LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Checkpoints) != 2 || r.Checkpoints[0].Step != 100 || r.Checkpoints[1].Step != 200 {
		t.Fatalf("checkpoints %v, want steps 100 and 200", r.Checkpoints)
	}
	if _, err := loaders.LoadRun(dir, loaders.LoadOptions{Checkpoint: 150}); err == nil || !strings.Contains(err.Error(), "100, 200") {
		t.Fatalf("checkpoint 150: err %v, want one listing 100, 200", err)
	}
}

func TestInspectListsLibraryAndCheckpoints(t *testing.T) {
	r, err := loaders.LoadRun(filepath.Join(testdata, "layouts", "logs", "td3", "Pendulum-v1_1"), loaders.LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	Inspect(r).WriteText(&sb, false)
	for _, want := range []string{"Library: stable-baselines3", "Checkpoints (run --checkpoint N evaluates one, --checkpoints all every one): 100 200"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, sb.String())
		}
	}
}

// TestReportSaysHowActorsAndQuantilesAreEvaluated: a gSDE actor's report
// says its maps are the deterministic action, and a TQC run's how its
// quantiles become one Q; other runs say neither.
func TestReportSaysHowActorsAndQuantilesAreEvaluated(t *testing.T) {
	for _, tc := range []struct {
		run             string
		gsde, quantiles bool
	}{{"sac/Pendulum-v1_2", true, false}, {"tqc/Pendulum-v1_1", false, true}, {"sac/Pendulum-v1_1", false, false}} {
		opt := DefaultOptions()
		opt.Grid, opt.Line = 8, 8
		out := t.TempDir()
		if _, err := Evaluate(context.Background(), filepath.Join(testdata, "layouts", "logs", filepath.FromSlash(tc.run)), out, opt); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		if got := strings.Contains(page, "explored with gSDE") && strings.Contains(page, "deterministic action"); got != tc.gsde {
			t.Errorf("%s: gSDE note %v, want %v", tc.run, got, tc.gsde)
		}
		if got := strings.Contains(page, "mean of its quantiles"); got != tc.quantiles {
			t.Errorf("%s: quantile note %v, want %v", tc.run, got, tc.quantiles)
		}
	}
}

// TestUpstreamFlatSACAgent: the trainer's sac agent saves actor.pt,
// critic1.pt... straight into a folder; such a folder is recognised (with
// or without its config) and evaluates as the agent_sac run it came from.
func TestUpstreamFlatSACAgent(t *testing.T) {
	const name = "2026-07-01_08-00-00_pendulum-sac"
	src := filepath.Join(testdata, "runs", name)
	dir := filepath.Join(t.TempDir(), "sac-flat")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(dir, "agent_sac")
	files, _ := os.ReadDir(agent)
	for _, f := range files {
		if err := os.Rename(filepath.Join(agent, f.Name()), filepath.Join(dir, f.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(agent); err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Grid, opt.CoreOnly = 64, true
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), dir, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Layout != "upstream" || sum.Status != StatusOK {
		t.Fatalf("layout %q, status %q (%s)", sum.Layout, sum.Status, sum.Error)
	}
	for _, f := range []string{"q_grid.npy", "policy_grid.npy", "q_buffer.npy"} {
		fixture.CloseNPY(t, filepath.Join(out, f), filepath.Join(testdata, "expected", name, f), fixture.Analyses)
	}
	// Without config.yaml: recognised by its files, SAC by the actor's head.
	if err := os.Remove(filepath.Join(dir, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "train_logs"))
	os.RemoveAll(filepath.Join(dir, "data"))
	os.Remove(filepath.Join(dir, "log_alpha.pt"))
	r, err := loaders.LoadRun(dir, loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.NetDir != "flat" || r.Net(loaders.RoleActor) == nil || r.Net(loaders.RoleActor).Kind != loaders.KindSACActor || r.Net(loaders.RoleCritic2) == nil {
		t.Fatalf("flat SAC without config: networks in %q, nets %v", r.NetDir, r.Nets)
	}
	if r.Nets[loaders.RoleActorTarget].Err != nil {
		t.Errorf("SAC has no actor target, yet: %v", r.Nets[loaders.RoleActorTarget].Err)
	}
}
