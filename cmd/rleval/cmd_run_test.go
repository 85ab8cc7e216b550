package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/rleval/rleval/internal/fixture"
)

// TestRunWithAxesAndFixWritesPyTorchsMaps is issue 13's example: on a
// 4-observation SAC run, `rleval run --grid 64 --axes 0:-1:1,2:-0.5:0.5
// --fix 1=0.25,3=-0.1 RUN` writes the policy, policy std and Q maps
// PyTorch computes on that grid.
func TestRunWithAxesAndFixWritesPyTorchsMaps(t *testing.T) {
	const name = "2026-08-01_10-00-00_obs4-sac"
	run := filepath.Join("../../testdata/runs-obs", name)
	want := filepath.Join("../../testdata/expected-obs", name, "example")
	out := t.TempDir()
	code, _, stderr := cli(t, "run", "-q", "--grid", "64", "--axes", "0:-1:1,2:-0.5:0.5", "--fix", "1=0.25,3=-0.1", "--out", out, run)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"policy_grid.npy", "policy_std_grid.npy", "q_grid.npy"} {
		got, gs := readArray(t, filepath.Join(out, name, f))
		exp, es := readArray(t, filepath.Join(want, f))
		if !slices.Equal(gs, []int{64, 64}) || !slices.Equal(es, gs) {
			t.Fatalf("%s: shape %v, want (64, 64) as %v", f, gs, es)
		}
		// ANALYSES.md: 1e-5 × max(1, max|expected|) + 1e-4 × |expected|.
		scale := 1.0
		for _, w := range exp {
			scale = math.Max(scale, math.Abs(float64(w)))
		}
		for i := range exp {
			if d := math.Abs(float64(got[i] - exp[i])); d > 1e-5*scale+1e-4*math.Abs(float64(exp[i])) {
				t.Fatalf("%s[%d] = %v, want %v", f, i, got[i], exp[i])
			}
		}
	}
}

func readArray(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var v []float32
	if err := r.Read(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v, r.Header.Descr.Shape
}

// TestRunOverSeveralDirectoriesIsABatch evaluates a run and a run with a
// broken config with one command: the first gets its report, the output
// folder the batch summary, and the broken one makes it exit 3.
func TestRunOverSeveralDirectoriesIsABatch(t *testing.T) {
	out := t.TempDir()
	good := "../../testdata/runs-obs/2026-08-01_13-00-00_mountaincar-td3"
	bad := filepath.Join(t.TempDir(), "2026-01-01_00-00-00_broken")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "config.yaml"), []byte("env: {name: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "run", "-q", "--grid", "16", "--line", "16", "--out", out, good, bad)
	if code != exitSomeFailed || !strings.Contains(stdout, "failed: "+filepath.Base(bad)) {
		t.Fatalf("exit %d, want %d naming the failed run: %s%s", code, exitSomeFailed, stdout, stderr)
	}
	for _, f := range []string{"summary.json", "summary.csv", "index.html", filepath.Join(filepath.Base(good), "report.html")} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestEvalDeviceGorgoniaEqualsThePlan evaluates the demo run on Gorgonia's
// TapeMachine (--device gorgonia) and with the default CPU plan: every core
// array agrees within ANALYSES.md's tolerance.
func TestEvalDeviceGorgoniaEqualsThePlan(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-07-01_08-00-00_pendulum-sac")
	outs := map[string]string{}
	for _, dev := range []string{"cpu", "gorgonia"} {
		outs[dev] = t.TempDir()
		if code, _, stderr := cli(t, "eval", "-q", "--device", dev, "--grid", "24", "--out", outs[dev], dir); code != 0 {
			t.Fatalf("--device %s: exit %d: %s", dev, code, stderr)
		}
	}
	files, _ := filepath.Glob(filepath.Join(outs["cpu"], filepath.Base(dir), "*.npy"))
	if len(files) < 4 {
		t.Fatalf("eval wrote %d arrays: %v", len(files), files)
	}
	for _, f := range files {
		want, _ := readArray(t, f)
		got, _ := readArray(t, filepath.Join(outs["gorgonia"], filepath.Base(dir), filepath.Base(f)))
		fixture.CloseArrays(t, filepath.Base(f), got, want, fixture.Analyses)
	}
}

// TestLoadFlagsReachTheLoader: --checkpoint evaluates an RL Zoo
// checkpoint (PyTorch's maps of that snapshot), --layout forces a layout
// (the upstream layout does not read an RL Zoo folder), and bad values are
// usage errors.
func TestLoadFlagsReachTheLoader(t *testing.T) {
	dir := fixture.Path(t, "layouts", "logs", "td3", "Pendulum-v1_1")
	out := t.TempDir()
	if code, _, stderr := cli(t, "eval", "-q", "--device", "cpu", "--grid", "16", "--checkpoint", "200", "--out", out, dir); code != 0 {
		t.Fatalf("--checkpoint 200: exit %d: %s", code, stderr)
	}
	got, _ := readArray(t, filepath.Join(out, filepath.Base(dir), "policy_grid.npy"))
	want, _ := readArray(t, fixture.Path(t, "expected-layouts", "logs+td3+Pendulum-v1_1@200", "policy_grid.npy"))
	fixture.CloseArrays(t, "policy_grid at step 200", got, want, fixture.Analyses)

	if code, out, stderr := cli(t, "inspect", "--layout", "upstream", dir); code != 0 || !strings.Contains(out, "models/actor.pth") || strings.Contains(out, "stable-baselines3") {
		t.Errorf("inspect --layout upstream of an RL Zoo folder: exit %d, want it read as an upstream run with no models (stderr %q):\n%s", code, stderr, out)
	}
	if code, out, _ := cli(t, "inspect", dir); code != 0 || !strings.Contains(out, "stable-baselines3") {
		t.Errorf("inspect of an RL Zoo folder: exit %d, no library line:\n%s", code, out)
	}
	for _, args := range [][]string{
		{"inspect", "--layout", "nonesuch", dir},
		{"eval", "--checkpoint", "-3", dir},
		{"bench", "--max-action", "-1", dir},
	} {
		if code, _, stderr := cli(t, args...); code != exitUsage {
			t.Errorf("rleval %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

// TestRunCheckpointsAll is issue 20's example: `rleval run --checkpoints
// all` on an RL Zoo run with five rl_model_<N>_steps.zip writes the six
// step folders (the final model's too) and checkpoints.json, each
// q_grid.npy PyTorch's; --checkpoint N beside it is a usage error, and
// batch takes the flag too.
func TestRunCheckpointsAll(t *testing.T) {
	run := "../../testdata/checkpoints/logs/td3/Pendulum-v1_1"
	out := t.TempDir()
	code, stdout, stderr := cli(t, "run", "-q", "--device", "cpu", "--grid", "16", "--format", "png", "--checkpoints", "all", "--out", out, run)
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	for _, step := range []string{"100", "200", "300", "400", "500", "600"} {
		got, _ := readArray(t, filepath.Join(out, "Pendulum-v1_1", "checkpoints", "step_"+step, "q_grid.npy"))
		want, _ := readArray(t, filepath.Join("../../testdata/expected-checkpoints", "step_"+step, "q_grid.npy"))
		fixture.CloseArrays(t, "step "+step+" q_grid", got, want, fixture.Analyses)
	}
	if _, err := os.Stat(filepath.Join(out, "Pendulum-v1_1", "checkpoints.json")); err != nil {
		t.Error(err)
	}
	code, _, stderr = cli(t, "run", "-q", "--checkpoint", "100", "--checkpoints", "all", "--out", out, run)
	if code != exitUsage || !strings.Contains(stderr, "--checkpoints") {
		t.Errorf("--checkpoint with --checkpoints: exit %d, %s", code, stderr)
	}
	// A batch evaluates each run's checkpoints too.
	bout := t.TempDir()
	code, stdout, stderr = cli(t, "batch", "-q", "--device", "cpu", "--grid", "16", "--checkpoints", "last:2", "--out", bout, "../../testdata/checkpoints")
	if code != exitOK {
		t.Fatalf("batch: exit %d: %s %s", code, stdout, stderr)
	}
	dirs, _ := filepath.Glob(filepath.Join(bout, "*", "checkpoints", "step_*"))
	if len(dirs) != 2 || filepath.Base(dirs[0]) != "step_500" || filepath.Base(dirs[1]) != "step_600" {
		t.Errorf("batch --checkpoints last:2 wrote %v", dirs)
	}
	code, _, stderr = cli(t, "batch", "-q", "--checkpoints", "last:0", "--out", out, run)
	if code != exitUsage || !strings.Contains(stderr, "last:K") {
		t.Errorf("batch --checkpoints last:0: exit %d, %s", code, stderr)
	}
}
