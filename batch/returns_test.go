package batch

import (
	"math"
	"testing"

	"github.com/rleval/rleval/jobs"
)

// TestTrueReturnIsAGroupMetric: batches compare groups by the true return
// (--metric true_return); a run without one is NaN, left out.
func TestTrueReturnIsAGroupMetric(t *testing.T) {
	m, ok := jobs.MetricByName("true_return")
	if !ok {
		t.Fatal("true_return is no registered metric")
	}
	s := &jobs.RunSummary{}
	if v := m.Get(s); !math.IsNaN(v) {
		t.Errorf("true_return of a run not rolled out = %v, want NaN", v)
	}
	jobs.MetricTrueReturn.Set(s, -150)
	if v := m.Get(s); v != -150 {
		t.Errorf("true_return of a rolled-out run = %v, want -150", v)
	}
}
