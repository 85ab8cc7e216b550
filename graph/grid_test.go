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

// TestPendulumGridIsRowMajorWithThetaDotAsRows pins the layout the jobs and
// the fixtures share: row i is θ̇_i, column j is θ_j.
func TestPendulumGridIsRowMajorWithThetaDotAsRows(t *testing.T) {
	const n = 7
	g := PendulumGrid(n)
	if r, c := g.Shape(); r != n || c != n || g.Len() != n*n || g.Dim() != 3 {
		t.Fatalf("shape %d×%d, len %d, dim %d", r, c, g.Len(), g.Dim())
	}
	th, td := g.X.Values(), g.Y.Values()
	all := make([]float32, n*n*3)
	g.Fill(0, n*n, all)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			o := all[(i*n+j)*3:]
			want := []float32{float32(math.Cos(th[j])), float32(math.Sin(th[j])), float32(td[i])}
			for k := range want {
				if o[k] != want[k] {
					t.Fatalf("cell (%d,%d)[%d] = %v, want %v", i, j, k, o[k], want[k])
				}
			}
		}
	}
	// Any chunking gives the same rows.
	for _, chunk := range []int{1, 5, 7, 13} {
		buf := make([]float32, chunk*3)
		for start := 0; start < n*n; start += chunk {
			m := min(chunk, n*n-start)
			g.Fill(start, m, buf)
			for k := 0; k < m*3; k++ {
				if buf[k] != all[start*3+k] {
					t.Fatalf("chunk %d at %d differs at %d", chunk, start, k)
				}
			}
		}
	}
}

func TestPendulumLineIsThetaAtRest(t *testing.T) {
	g := PendulumLine(500)
	if g.Len() != 500 {
		t.Fatalf("len %d", g.Len())
	}
	buf := make([]float32, 500*3)
	g.Fill(0, 500, buf)
	if buf[2] != 0 || buf[499*3+2] != 0 || buf[0] != float32(math.Cos(-math.Pi)) || buf[499*3+1] != float32(math.Sin(math.Pi)) {
		t.Errorf("line endpoints %v %v", buf[:3], buf[499*3:])
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
