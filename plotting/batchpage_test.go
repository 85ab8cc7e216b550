package plotting

import (
	"bytes"
	"strings"
	"testing"
)

func TestBatchPageMarksSmallGroupsAndShowsIntervals(t *testing.T) {
	p := &BatchPage{Title: "batch", Metric: "final reward_sum", StatNames: []string{"mean"},
		Groups: []PageGroup{
			{Name: "lr=0.001", Runs: 5, Scored: 5, Stats: []Interval{{-100, -120, -80}}, Config: "algorithm.lr=0.001\nhyper.lr=1e-3"},
			{Name: "lr=0.01", Runs: 2, Scored: 2, Stats: []Interval{{-300, -310, -290}}, Config: "algorithm.lr=0.01"},
		},
		Improvement: [][]*Interval{{nil, {0.9, 0.7, 1}}, {{0.1, 0, 0.3}, nil}},
		Curves:      []BandCurve{{Label: "lr=0.001", X: []float64{0, 10000, 20000}, Y: []float64{1, 2, 3}}},
	}
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`title="algorithm.lr=0.001
hyper.lr=1e-3">lr=0.001</td>`, // the full config on hover
		`lr=0.01<span class="few">few runs</span>`, // a group of 2 runs is marked
		`1 group(s) have fewer than 3 scored runs`, // and noted above the table
		`0.90<small>[0.70, 1.00]</small>`,          // PoI intervals in the cells
		`>10,000</text>`, `>20,000</text>`,         // the IQM axis in full numbers
	} {
		if !strings.Contains(html, want) {
			t.Errorf("batch page lacks %q", want)
		}
	}
	if strings.Contains(html, "1e+04") {
		t.Error("an axis reads 1e+04")
	}
	if strings.Contains(html, `lr=0.001<span class="few">`) {
		t.Error("a group of 5 runs is marked as few")
	}
}

func TestAxisTicksAreWholeNumbers(t *testing.T) {
	for v, want := range map[float64]string{10000: "10,000", -2500: "-2,500", 0: "0", 0.25: "0.25", 1.5e6: "1,500,000", 12: "12"} {
		if got := axisTick(v); got != want {
			t.Errorf("axisTick(%v) = %q, want %q", v, got, want)
		}
	}
}
