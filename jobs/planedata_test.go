package jobs

import (
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
)

// TestMapsWarnWhenThePlaneLeavesTheData: on the pendulum's own θ × θ̇
// plane every buffer state lies on the plane; on cos θ × θ̇ with sin θ
// held at its mean, most states do not (cos θ = 0.5 with sin θ = 0 is no
// pendulum state), and the maps say so, with what is held fixed.
func TestMapsWarnWhenThePlaneLeavesTheData(t *testing.T) {
	r, err := loaders.LoadRun(fixture.Path(t, "runs", demoRun), loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	own, err := ResolvePlane(r, PlaneSpec{})
	if err != nil {
		t.Fatal(err)
	}
	d := own.Data
	if d == nil || d.Total != r.Buffer.V.Size || d.Near != d.Total || d.Bare != 0 || own.DataWarning() != "" {
		t.Fatalf("θ × θ̇: %+v, warning %q; want every state on the plane", d, own.DataWarning())
	}
	cells := 0
	for _, c := range d.Counts {
		if c > 0 {
			cells++
		}
	}
	if cells == 0 || cells == len(d.Counts) {
		t.Errorf("the buffer covers %d of %d cells: want some, not all", cells, len(d.Counts))
	}
	off, err := ResolvePlane(r, PlaneSpec{Axes: []AxisSpec{{Dim: "cos_theta"}, {Dim: "theta_dot"}}})
	if err != nil {
		t.Fatal(err)
	}
	if off.Data == nil || !off.Data.Leaves() || off.Data.Near >= off.Data.Total/2 {
		t.Fatalf("cos θ × θ̇ with sin θ fixed: %+v; want the plane to leave the data", off.Data)
	}
	w := off.DataWarning()
	if !strings.Contains(w, "the plane leaves the data") {
		t.Errorf("warning %q", w)
	}
	fig, err := mapFigure(off, "policy", "action", make([]float32, 16), 4, 4, 1, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var foot []string
	for _, l := range fig.Footer {
		foot = append(foot, l.Text)
	}
	all := strings.Join(foot, "\n")
	for _, want := range []string{"Veiled", "Held fixed off the plane: sin θ = ", "Warning: the plane leaves the data"} {
		if !strings.Contains(all, want) {
			t.Errorf("map footer lacks %q:\n%s", want, all)
		}
	}
}
