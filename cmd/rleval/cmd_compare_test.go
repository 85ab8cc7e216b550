package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/jobs"
)

func TestCompareUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"compare"},
		{"compare", dir, dir},
		{"compare", "--metric", "nope", dir},
		{"compare", "--score-range", "3,1", dir},
		{"compare", "--reps", "0", dir},
		{"batch", "--metric", "nope", dir},
	} {
		if code, _, stderr := cli(t, args...); code != exitUsage {
			t.Errorf("rleval %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
}

func TestCompareWritesGroupsOfFinishedBatch(t *testing.T) {
	out := t.TempDir()
	var res batch.Result
	for i, name := range []string{"2026-02-14_13-38-10_pendulum-v1", "2026-06-20_09-15-00_pendulum-gen2"} {
		dir, _ := filepath.Abs(fixture.Path(t, "runs", name))
		res.Runs = append(res.Runs, jobs.RunSummary{Name: name, Dir: dir, Out: name, Status: jobs.StatusOK,
			Metrics: map[string]float64{"final_reward_sum": float64(-100 * (i + 1))}, CurveStep: []float64{1, 2}, CurveValue: []float64{-300, float64(-100 * (i + 1))}})
	}
	if err := batch.WriteSummary(out, &res); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "compare", "--reps", "1000", "--curve-reps", "100", "--pair-reps", "100", "--group-by", "env.name", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 runs in 1 group (by env.name)") {
		t.Errorf("stdout %q", stdout)
	}
	for _, f := range []string{batch.GroupsJSONName, batch.GroupsCSVName, batch.IndexFileName} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
