package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
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

// TestRunOverSeveralDirectoriesIsABatch evaluates two runs with one
// command: each gets its report and the output folder the batch summary.
func TestRunOverSeveralDirectoriesIsABatch(t *testing.T) {
	out := t.TempDir()
	a := "../../testdata/runs-obs/2026-08-01_11-00-00_obs3-td3"
	b := "../../testdata/runs-obs/2026-08-01_13-00-00_mountaincar-td3"
	code, stdout, stderr := cli(t, "run", "-q", "--grid", "16", "--line", "16", "--out", out, a, b)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	for _, f := range []string{"summary.json", "summary.csv", "index.html",
		filepath.Join(filepath.Base(a), "report.html"), filepath.Join(filepath.Base(b), "report.html")} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
