package graph

import (
	"math"
	"testing"

	"github.com/rleval/rleval/loaders"
)

// TestAxisMatchesNumpyLinspace pins numpy.linspace's arithmetic:
// start + i*step with step = (stop-start)/(num-1), the last point = stop.
// The expected values are numpy 2.x output printed with repr.
func TestAxisMatchesNumpyLinspace(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    Axis
		want []float64
	}{
		{"pi-5", Axis{-math.Pi, math.Pi, 5}, []float64{-3.141592653589793, -1.5707963267948966, 0.0, 1.5707963267948966, 3.141592653589793}},
		{"speed-4", Axis{-8, 8, 4}, []float64{-8.0, -2.666666666666667, 2.666666666666666, 8.0}},
		{"tenth-11", Axis{0, 1, 11}, []float64{0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1}},
		{"one-point", Axis{2, 5, 1}, []float64{2}},
		{"flat", Axis{3, 3, 3}, []float64{3, 3, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.a.Values()
			for i := range tc.want {
				if got[i] != tc.want[i] {
					t.Errorf("point %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestCoordGridVariesTwoCoordinates(t *testing.T) {
	g, err := NewCoordGrid([]float64{1, 2, 3, 4}, 3, Axis{0, 1, 2}, 1, Axis{-1, 1, 3})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, g.Len()*4)
	g.Fill(0, g.Len(), buf)
	want := []float32{1, -1, 3, 0, 1, -1, 3, 1, 1, 0, 3, 0, 1, 0, 3, 1, 1, 1, 3, 0, 1, 1, 3, 1}
	for i := range want {
		if buf[i] != want[i] {
			t.Fatalf("values %v, want %v", buf, want)
		}
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 1}, {1, 4}} {
		if _, err := NewCoordGrid([]float64{1, 2, 3, 4}, bad[0], Axis{0, 1, 2}, bad[1], Axis{0, 1, 2}); err == nil {
			t.Errorf("coordinates %v accepted", bad)
		}
	}
}

func TestBufferRowsRejectsMismatchedLengths(t *testing.T) {
	buf := &loaders.ReplayBuffer{Path: "buf.pth", ObsDim: 3, ActDim: 1, Obs: make([]float32, 30), Actions: make([]float32, 9)}
	if _, _, err := BufferRows(buf); err == nil {
		t.Error("10 observations with 9 actions accepted")
	}
	buf.Actions = make([]float32, 10)
	obs, act, err := BufferRows(buf)
	if err != nil || obs.Len() != 10 || act.Len() != 10 || act.Dim() != 1 {
		t.Errorf("rows %v %v: %v", obs, act, err)
	}
	buf.ObsDim = 4
	if _, _, err := BufferRows(buf); err == nil {
		t.Error("30 values split into rows of 4 accepted")
	}
}
