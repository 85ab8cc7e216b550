package batch

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
)

// TestBatchFindsEveryLayout: one batch over a folder mixing an upstream
// run, an RL Zoo logs/ tree (TD3, SAC, SAC with gSDE, DDPG, TQC), a
// CleanRL runs/ folder and an original-TD3 folder with two TD3 runs and
// the DDPG baselines finds every run, fails none (DDPG.py's critic is
// unsupported: that run is partial), and names each run's library.
func TestBatchFindsEveryLayout(t *testing.T) {
	root := t.TempDir()
	abs, err := filepath.Abs(filepath.Join(testdata, "layouts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"logs", "runs", "TD3"} {
		if err := os.Symlink(filepath.Join(abs, d), filepath.Join(root, d)); err != nil {
			t.Fatal(err)
		}
	}
	up, _ := filepath.Abs(filepath.Join(testdata, "runs", "2026-03-01_10-00-00_pendulum-legacy"))
	os.MkdirAll(filepath.Join(root, "experiments"), 0o755)
	if err := os.Symlink(up, filepath.Join(root, "experiments", filepath.Base(up))); err != nil {
		t.Fatal(err)
	}
	// A link loop must not hang discovery.
	os.Symlink(root, filepath.Join(root, "experiments", "loop"))

	opt := jobs.DefaultOptions()
	opt.Grid, opt.Line, opt.CoreOnly = 8, 16, true
	eval := func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
		return jobs.Evaluate(ctx, runDir, outDir, opt)
	}
	// The folder is links into testdata, out of the root: followed on request.
	res := mustRun(t, &Batch{Root: root, Out: filepath.Join(t.TempDir(), "out"), Workers: 1, Evaluate: eval, FollowLinks: true})
	got := map[string]string{}
	for _, r := range res.Runs {
		rel, _ := filepath.Rel(root, r.Dir)
		got[filepath.ToSlash(rel)] = r.Library
		if r.Status == jobs.StatusFailed {
			t.Errorf("%s failed: %s", r.Dir, r.Error)
		}
	}
	want := map[string]string{
		"experiments/2026-03-01_10-00-00_pendulum-legacy":        "nn_laser_stabilizer",
		"logs/ddpg/Pendulum-v1_1":                                "stable-baselines3",
		"logs/sac/Pendulum-v1_1":                                 "stable-baselines3",
		"logs/sac/Pendulum-v1_2":                                 "stable-baselines3",
		"logs/td3/Pendulum-v1_1":                                 "stable-baselines3",
		"logs/tqc/Pendulum-v1_1":                                 "sb3-contrib",
		"runs/Pendulum-v1__td3_continuous_action__1__1700000000": "cleanrl",
		"TD3/TD3_Pendulum-v1_0":                                  "sfujim/TD3",
		"TD3/TD3_Pendulum-v1_1":                                  "sfujim/TD3",
		"TD3/OurDDPG_Pendulum-v1_0":                              "sfujim/TD3",
		"TD3/DDPG_Pendulum-v1_0":                                 "sfujim/TD3",
	}
	if len(got) != len(want) {
		var names []string
		for k := range got {
			names = append(names, k)
		}
		sort.Strings(names)
		t.Fatalf("batch found %d runs %q, want %d", len(got), names, len(want))
	}
	for k, lib := range want {
		if got[k] != lib {
			t.Errorf("%s: library %q, want %q", k, got[k], lib)
		}
	}
	// RL Zoo names every run Pendulum-v1_1: the algorithm tells them apart.
	names := map[string]string{}
	for _, r := range res.Runs {
		rel, _ := filepath.Rel(root, r.Dir)
		if prev, dup := names[r.Name]; dup {
			t.Errorf("runs %s and %s are both named %q", prev, rel, r.Name)
		}
		names[r.Name] = rel
		if algo := strings.Split(filepath.ToSlash(rel), "/"); algo[0] == "logs" && (r.Algorithm != algo[1] || !strings.Contains(r.Name, algo[1])) {
			t.Errorf("%s: name %q, algorithm %q; want %s in both", rel, r.Name, r.Algorithm, algo[1])
		}
	}
}

// TestBatchWorksOnRunsOfAnyObservationSpace runs a batch, unchanged, over
// the folder of 2-, 3-, 4- and 17-observation runs.
func TestBatchWorksOnRunsOfAnyObservationSpace(t *testing.T) {
	opt := jobs.DefaultOptions()
	opt.Grid, opt.Line = 16, 16
	b := &Batch{Root: filepath.Join(testdata, "runs-obs"), Out: t.TempDir(), Workers: 2, Options: opt.Fingerprint(),
		Evaluate: func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
			return jobs.Evaluate(ctx, runDir, outDir, opt)
		}}
	res, err := b.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 4 || res.OK != 4 {
		for _, r := range res.Runs {
			t.Logf("%s: %s %s", r.Name, r.Status, r.Error)
		}
		t.Fatalf("%d runs, %d ok; want 4 ok", res.Total, res.OK)
	}
	for _, r := range res.Runs {
		if _, err := os.Stat(filepath.Join(b.Out, r.Out, "q_grid.npy")); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	}
}
