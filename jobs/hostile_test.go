package jobs

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/hostile"
)

func TestEvaluateFailsAnAnalysisWhoseOutputIsAllNaN(t *testing.T) {
	dir := copyRun(t, "2026-06-20_09-15-00_pendulum-gen2")
	for _, role := range []string{"actor", "actor_target"} {
		if err := hostile.NaNWeights(filepath.Join(dir, "agent_td3", role+".pt")); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := Evaluate(context.Background(), dir, filepath.Join(t.TempDir(), "out"), Options{Grid: 8, CoreOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	st := jobStatus(sum)
	for _, name := range []string{"policy", "qvalues"} {
		j := st[name]
		if j.Status != "failed" || !strings.Contains(j.Reason, "NaN") || !strings.Contains(j.Reason, ".npy") {
			t.Errorf("%s: %s (%s), want failed naming its all-NaN arrays", name, j.Status, j.Reason)
		}
	}
	if sum.Status == StatusOK {
		t.Fatalf("run status %s with every policy value NaN", sum.Status)
	}
}
