package jobs

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/internal/hostile"
	"github.com/rleval/rleval/loaders"
)

func TestEvaluateFailsAnAnalysisWhoseOutputIsAllNaN(t *testing.T) {
	dir := copyRun(t, "2026-06-20_09-15-00_pendulum-gen2")
	for _, role := range []string{"actor", "actor_target"} {
		if err := hostile.NaNWeights(filepath.Join(dir, "agent_td3", role+".pt")); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := Evaluate(context.Background(), dir, filepath.Join(t.TempDir(), "out"), Options{Grid: 8, Formats: []string{"svg"}})
	if err != nil {
		t.Fatal(err)
	}
	st := jobStatus(sum)
	for _, name := range []string{"models", "policy", "qvalues"} {
		j := st[name]
		if j.Status != "failed" || !strings.Contains(j.Reason, "NaN") || !strings.Contains(j.Reason, ".npy") && !strings.Contains(j.Reason, "actor.pt") {
			t.Errorf("%s: %s (%s), want failed naming its all-NaN arrays", name, j.Status, j.Reason)
		}
	}
	if sum.Status == StatusOK {
		t.Fatalf("run status %s with every policy value NaN", sum.Status)
	}
}

// A line without "source" appended to the log (by hand, by another tool)
// is skipped: the train records' curves keep every record.
func TestCurvesKeepEveryRecordWhenALineHasNoSource(t *testing.T) {
	dir := copyRun(t, "2026-06-20_09-15-00_pendulum-gen2")
	orig, err := loaders.LoadTrainLog(filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := len(orig.Steps.Col("loss_q1").Value)
	if err := hostile.Append(filepath.Join(dir, "train.jsonl"), hostile.SourcelessLine); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	sum, err := Evaluate(context.Background(), dir, out, Options{Grid: 8, Formats: []string{"svg"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := jobStatus(sum)["curves"]; st.Status != "ok" {
		t.Fatalf("curves %s: %s", st.Status, st.Reason)
	}
	_, shape := fixture.ReadNPY(t, filepath.Join(out, "curve_step_loss_q1.npy"))
	if want < 2 || shape[0] != want {
		t.Fatalf("curve_step_loss_q1.npy holds %d records, the log %d", shape[0], want)
	}
}
