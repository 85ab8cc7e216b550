package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/stats"
)

// TestCompareAcrossBatchesRecomputesGroups splits the sweep into two
// batch outputs and compares them into a third folder: the groups are
// those of the whole sweep, and the page links reach the runs' reports in
// their own batches.
func TestCompareAcrossBatchesRecomputesGroups(t *testing.T) {
	res, f := makeSweep(t)
	opt := GroupOptions{Bootstrap: stats.Bootstrap{Reps: 2000, Seed: 3}, CurveReps: 200, PairReps: 200}
	base := t.TempDir()
	var dirs []string
	for i, part := range [][]jobs.RunSummary{res.Runs[:7], res.Runs[7:]} {
		dir := filepath.Join(base, []string{"a", "b"}[i])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteSummary(dir, &Result{Root: res.Root, Out: dir, Runs: part}); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(base, "cmp")
	all, g, err := Compare(out, dirs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Runs) != 15 || len(g.Groups) != 3 {
		t.Fatalf("%d runs in %d groups, want 15 in 3", len(all.Runs), len(g.Groups))
	}
	for i, want := range f.Groups {
		if got := g.Groups[i]; got.Name != want.Name || !near(float64(got.IQM.Value), want.IQM) {
			t.Errorf("group %d: %s IQM %+v, want %s %v", i, got.Name, got.IQM, want.Name, want.IQM)
		}
	}
	if _, err := ReadGroups(filepath.Join(out, GroupsJSONName)); err != nil {
		t.Error(err)
	}
	page, err := os.ReadFile(filepath.Join(out, IndexFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `href="../a/runs/`+res.Runs[0].Name+`/report.html"`) {
		t.Errorf("index does not link the first run's report in batch a")
	}
	// Another grouping of the same outputs, in place.
	_, g, err = Compare(dirs[0], dirs[:1], GroupOptions{GroupBy: []string{"seed"}, Bootstrap: stats.Bootstrap{Reps: 100}, CurveReps: 20, PairReps: 20})
	if err != nil || len(g.Groups) != 5 {
		t.Fatalf("compare --group-by seed of batch a: %v groups, %v", len(g.Groups), err)
	}
	if _, _, err := Compare(out, []string{t.TempDir()}, opt); err == nil || !strings.Contains(err.Error(), "summary.json") {
		t.Errorf("a folder with no summary: err = %v", err)
	}
}
