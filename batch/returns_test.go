package batch

import (
	"math"
	"testing"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/stats"
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

// TestGroupsAverageTrueReturns: a group's true return is the mean of its
// runs' (those without one left out), with a bootstrap interval, and the
// batch page and groups.csv show it.
func TestGroupsAverageTrueReturns(t *testing.T) {
	rows := []*jobs.RunSummary{{}, {}, {}}
	jobs.MetricTrueReturn.Set(rows[0], -100)
	jobs.MetricTrueReturn.Set(rows[1], -120)
	var gr Group
	groupStats(&gr, nil, rows, []int{0, 1, 2}, stats.Bootstrap{Reps: 1000}, stats.Bootstrap{Reps: 1000}, 0, 1, nil)
	if gr.TrueReturn == nil || gr.TrueReturn.Value != -110 || !(gr.TrueReturn.Lo <= -110 && -110 <= gr.TrueReturn.Hi) || gr.TrueReturn.Lo == gr.TrueReturn.Hi {
		t.Fatalf("group true return %+v, want -110 with an interval", gr.TrueReturn)
	}
	var none Group
	groupStats(&none, nil, rows[2:], []int{0}, stats.Bootstrap{Reps: 1000}, stats.Bootstrap{Reps: 1000}, 0, 1, nil)
	if none.TrueReturn != nil {
		t.Errorf("a group with no true return has %+v", none.TrueReturn)
	}
	if GroupsCSVHeader[len(GroupsCSVHeader)-3] != "true_return" {
		t.Errorf("groups.csv header %v lacks true_return", GroupsCSVHeader)
	}
}
