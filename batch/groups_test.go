package batch

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/stats"
)

// sweepFixture is testdata/stats/sweep.json (tools/make_stats_fixtures.py):
// 3 learning rates × 5 seeds with their evaluation curves, and the groups'
// statistics as numpy and scipy compute them.
type sweepFixture struct {
	Runs []struct {
		LR    float64   `json:"lr"`
		Seed  int       `json:"seed"`
		Steps []float64 `json:"steps"`
		Curve []float64 `json:"curve"`
	} `json:"runs"`
	Groups []struct {
		Name     string    `json:"name"`
		Final    []float64 `json:"final"`
		Mean     float64   `json:"mean"`
		Median   float64   `json:"median"`
		IQM      float64   `json:"iqm"`
		IQMCurve []float64 `json:"iqm_curve"`
	} `json:"groups"`
	POI [][]float64 `json:"poi"`
}

// makeSweep writes the sweep's run folders (configs that differ by
// learning rate, seed, name and log path) and returns its batch result.
func makeSweep(t *testing.T) (*Result, *sweepFixture) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, "stats", "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f sweepFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	res := &Result{Root: root}
	for i, r := range f.Runs {
		name := fmt.Sprintf("2026-06-%02d_10-00-00_sweep-%d", i+1, i)
		dir := filepath.Join(root, name)
		cfg := fmt.Sprintf("experiment_name: sweep-%d\nseed: %d\nenv: {name: Pendulum-v1}\nalgorithm:\n  type: td3\n  gamma: 0.98\n  actor:\n    optimizer: {type: adam, lr: %g}\ntraining:\n  log_dir: logs-%d\n", i, r.Seed, r.LR, i)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		res.Runs = append(res.Runs, jobs.RunSummary{Name: name, Dir: dir, Out: "runs/" + name, Status: jobs.StatusOK,
			Metrics: map[string]float64{"final_reward_sum": r.Curve[len(r.Curve)-1], "best_reward_sum": math.NaN(), "mean_q_policy": math.NaN(), "l2_total": math.NaN(), "value_bias": float64(i % 5)}, CurveStep: r.Steps, CurveValue: r.Curve})
	}
	return res, &f
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func inside(s *Stat) bool {
	return s != nil && s.Lo <= s.Value && s.Value <= s.Hi
}

func TestGroupsOfSweepEqualNumpyAndScipy(t *testing.T) {
	res, f := makeSweep(t)
	g, err := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.GroupBy, []string{"algorithm.actor.optimizer.lr"}) {
		t.Fatalf("groups named by %v, want only the learning rate (seed, names and paths ignored)", g.GroupBy)
	}
	if len(g.Groups) != len(f.Groups) {
		t.Fatalf("%d groups, want %d", len(g.Groups), len(f.Groups))
	}
	for i, want := range f.Groups {
		got := g.Groups[i]
		if got.Name != want.Name || len(got.Runs) != 5 || got.Scored != 5 {
			t.Fatalf("group %d: %q with %d runs, want %q with 5", i, got.Name, len(got.Runs), want.Name)
		}
		for _, c := range []struct {
			name string
			s    *Stat
			want float64
		}{{"mean", got.Mean, want.Mean}, {"median", got.Median, want.Median}, {"iqm", got.IQM, want.IQM}} {
			if c.s == nil || !near(float64(c.s.Value), c.want) {
				t.Errorf("%s: %s = %+v, numpy/scipy %v", want.Name, c.name, c.s, c.want)
			}
			if !inside(c.s) {
				t.Errorf("%s: %s interval %+v does not hold its value", want.Name, c.name, c.s)
			}
		}
		if !inside(got.OptimalityGap) || !inside(got.ValueBias) || float64(got.ValueBias.Value) != 2 {
			t.Errorf("%s: optimality gap %+v, value bias %+v", want.Name, got.OptimalityGap, got.ValueBias)
		}
		if len(got.Curve.IQM) != len(want.IQMCurve) {
			t.Fatalf("%s: curve of %d points, want %d", want.Name, len(got.Curve.IQM), len(want.IQMCurve))
		}
		for k, w := range want.IQMCurve {
			p := got.Curve.IQM[k]
			if !near(float64(p.Value), w) || !inside(&p) {
				t.Errorf("%s: IQM curve[%d] = %+v, scipy %v", want.Name, k, p, w)
			}
		}
		// Nothing scores above the highest score (rliable counts score > τ).
		if len(got.Profile) != len(g.Thresholds) || got.Profile[len(got.Profile)-1].Value != 0 {
			t.Errorf("%s: profile %v over %d thresholds", want.Name, got.Profile, len(g.Thresholds))
		}
	}
	for i := range f.POI {
		for j, want := range f.POI[i] {
			s := g.Improvement[i][j]
			if i == j {
				if s != nil {
					t.Errorf("P(%d > %d) = %+v, want none on the diagonal", i, j, s)
				}
				continue
			}
			if s == nil || !near(float64(s.Value), want) || !inside(s) {
				t.Errorf("P(%d > %d) = %+v, Mann–Whitney U/(nm) %v", i, j, s, want)
			}
		}
	}
	// Reproducible: the same seed gives the same file.
	g2, _ := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Seed: 1}})
	a, _ := json.Marshal(g)
	b, _ := json.Marshal(g2)
	if string(a) != string(b) {
		t.Error("two computations with one seed differ")
	}
}

func TestGroupsFilesHoldValueLoHi(t *testing.T) {
	res, _ := makeSweep(t)
	g, err := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Reps: 500}, CurveReps: 100, PairReps: 100})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteGroups(dir, g); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Groups []map[string]json.RawMessage `json:"groups"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, GroupsJSONName))
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"mean", "median", "iqm", "optimality_gap", "value_bias"} {
		var s map[string]float64
		if err := json.Unmarshal(raw.Groups[0][key], &s); err != nil || len(s) != 3 {
			t.Errorf("%s = %s, want {\"value\", \"lo\", \"hi\"}", key, raw.Groups[0][key])
		}
	}
	back, err := ReadGroups(filepath.Join(dir, GroupsJSONName))
	if err != nil || len(back.Groups) != 3 {
		t.Fatalf("ReadGroups: %v", err)
	}
	csvData, _ := os.ReadFile(filepath.Join(dir, GroupsCSVName))
	lines := strings.Split(strings.TrimSpace(string(csvData)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], `algorithm.actor.optimizer.lr=0.0003,5,5,`) {
		t.Errorf("groups.csv:\n%s", csvData)
	}
}

func TestGroupByOverridesAndUnknownMetric(t *testing.T) {
	res, _ := makeSweep(t)
	opt := GroupOptions{GroupBy: []string{"seed"}, Bootstrap: stats.Bootstrap{Reps: 200}, CurveReps: 50, PairReps: 50}
	g, err := ComputeGroups(res, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Groups) != 5 || g.Groups[0].Name != "seed=0" || len(g.Groups[0].Runs) != 3 {
		t.Errorf("--group-by seed: %d groups, first %q of %d runs", len(g.Groups), g.Groups[0].Name, len(g.Groups[0].Runs))
	}
	if _, err := ComputeGroups(res, GroupOptions{Metric: "nope"}); !isUsage(err) {
		t.Errorf("unknown metric: err = %v, want a usage error", err)
	}
	g, err = ComputeGroups(res, GroupOptions{Metric: "value_bias", Bootstrap: stats.Bootstrap{Reps: 200}, CurveReps: 50, PairReps: 50})
	if err != nil || g.Groups[0].Mean == nil || float64(g.Groups[0].Mean.Value) != 2 {
		t.Errorf("--metric value_bias: %+v, %v", g.Groups[0].Mean, err)
	}
}

func TestIgnoredKeys(t *testing.T) {
	for k, want := range map[string]bool{
		"seed": true, "env.seed": true, "experiment_name": true, "name": true, "training.log_dir": true,
		"training.log_file": true, "checkpoint_path": true, "date": true, "args.log_folder": true, "args.tensorboard_log": true, "args.uuid": true,
		"env.name": false, "algorithm.gamma": false, "algorithm.actor.optimizer.lr": false,
	} {
		if ignoredKey(k) != want {
			t.Errorf("ignoredKey(%q) = %v, want %v", k, !want, want)
		}
	}
}

func TestRunWithoutConfigIsUngrouped(t *testing.T) {
	res, _ := makeSweep(t)
	res.Runs[0].Dir = filepath.Join(t.TempDir(), "gone")
	g, err := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Reps: 100}, CurveReps: 20, PairReps: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Ungrouped) != 1 || g.Ungrouped[0] != res.Runs[0].Name || len(g.Groups[0].Runs) != 4 {
		t.Errorf("ungrouped %v, first group %v", g.Ungrouped, g.Groups[0].Runs)
	}
}

// BenchmarkComputeGroups500 groups a 500-run sweep (100 configurations × 5
// seeds, 20 evaluation points each) with the default replicates: what a
// batch of that size adds at its end.
func BenchmarkComputeGroups500(b *testing.B) {
	res, _ := makeBigBatch(b, 100, 5)
	for b.Loop() {
		if _, err := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Seed: 1}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(500*float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}

// TestSweepGroupsAreNamedByTheFewestKeys: a sweep of 3 settings × 5 seeds
// whose configs record each setting in many keys (the learning rate in
// three places, a tag, a schedule and a batch size that change with it)
// gets groups named by at most two keys, every group apart, with all the
// keys that differ kept for the page's hover.
func TestSweepGroupsAreNamedByTheFewestKeys(t *testing.T) {
	settings := []map[string]string{
		{"algorithm.actor.optimizer.lr": "0.001", "algorithm.critic.optimizer.lr": "0.001", "hyper.lr": "1e-3", "tag": "fast", "schedule": "linear", "batch_size": "256"},
		{"algorithm.actor.optimizer.lr": "0.0003", "algorithm.critic.optimizer.lr": "0.0003", "hyper.lr": "3e-4", "tag": "base", "schedule": "linear", "batch_size": "256"},
		{"algorithm.actor.optimizer.lr": "0.0003", "algorithm.critic.optimizer.lr": "0.0003", "hyper.lr": "3e-4", "tag": "big", "schedule": "constant", "batch_size": "1024"},
	}
	var configs []map[string]string
	for _, s := range settings {
		for seed := range 5 {
			c := map[string]string{"seed": strconv.Itoa(seed), "env": "Pendulum-v1", "run_name": fmt.Sprintf("r%d", seed)}
			for k, v := range s {
				c[k] = v
			}
			configs = append(configs, c)
		}
	}
	members, names, keys, naming := assignGroups(configs, nil)
	if len(members) != 3 {
		t.Fatalf("%d groups, want 3: %v", len(members), names)
	}
	if len(naming) > 2 || len(naming) == 0 {
		t.Errorf("groups named by %v, want at most two keys", naming)
	}
	seen := map[string]bool{}
	for g, name := range names {
		if seen[name] {
			t.Errorf("two groups named %q", name)
		}
		seen[name] = true
		if n := strings.Count(name, "="); n > 2 {
			t.Errorf("group name %q has %d keys", name, n)
		}
		if len(members[g]) != 5 || len(keys[g]) != 6 {
			t.Errorf("group %q: %d runs, keys %v; want 5 runs and the 6 keys that differ", name, len(members[g]), keys[g])
		}
	}
	// --group-by names groups by exactly the keys given.
	_, names, _, naming = assignGroups(configs, []string{"hyper.lr", "tag"})
	if !reflect.DeepEqual(naming, []string{"hyper.lr", "tag"}) || names[0] != "hyper.lr=1e-3, tag=fast" && names[0] != "hyper.lr=3e-4, tag=base" {
		t.Errorf("--group-by: %v named %v", names, naming)
	}
}
