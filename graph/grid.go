package graph

import (
	"fmt"

	"github.com/rleval/rleval/loaders"
)

// Axis is one grid axis: N points from Lo to Hi inclusive, spaced exactly
// as numpy.linspace(Lo, Hi, N) spaces them.
type Axis struct {
	Lo, Hi float64
	N      int
}

// At returns the i-th point: Lo + i*step with step = (Hi-Lo)/(N-1), the
// last point set exactly to Hi, as numpy.linspace computes them; a
// one-point axis is [Lo].
func (a Axis) At(i int) float64 {
	if a.N <= 1 {
		return a.Lo
	}
	if i == a.N-1 {
		return a.Hi
	}
	step := (a.Hi - a.Lo) / float64(a.N-1)
	return float64(i)*step + a.Lo
}

// Values returns all N points.
func (a Axis) Values() []float64 {
	v := make([]float64, max(a.N, 0))
	for i := range v {
		v[i] = a.At(i)
	}
	return v
}

// Grid is a Rows over the cells of a two-axis grid, row-major with Y as the
// rows: row r = iy*X.N + ix is the observation Map(X.At(ix), Y.At(iy)).
// Rows are produced chunk by chunk, so a 16384² grid never exists whole.
type Grid struct {
	// X varies along columns, Y along rows.
	X, Y Axis
	// ObsDim is the number of observation values per cell.
	ObsDim int
	// Map writes the observation of the point (x, y) into obs (ObsDim
	// values). It computes in float64 and rounds each value once to float32,
	// as the notebooks do (np.stack in float64, then torch.float32). It is
	// called concurrently and must not retain obs.
	Map func(x, y float64, obs []float32)
}

// Len implements Rows: X.N × Y.N cells.
func (g *Grid) Len() int { return max(g.X.N, 0) * max(g.Y.N, 0) }

// Dim implements Rows.
func (g *Grid) Dim() int { return g.ObsDim }

// Shape returns the grid's (rows, columns) = (Y.N, X.N), the shape of the
// arrays the jobs write.
func (g *Grid) Shape() (rows, cols int) { return g.Y.N, g.X.N }

// Fill implements Rows.
func (g *Grid) Fill(start, n int, dst []float32) {
	d := g.ObsDim
	if g.X.N <= 0 {
		return
	}
	ix, iy := start%g.X.N, start/g.X.N
	y := g.Y.At(iy)
	for r := 0; r < n; r++ {
		g.Map(g.X.At(ix), y, dst[r*d:r*d+d])
		if ix++; ix == g.X.N {
			ix = 0
			iy++
			y = g.Y.At(iy)
		}
	}
}

// NewCoordGrid returns a grid over any observation space that varies the
// coordinates xi (along X) and yi (along Y) of base and keeps the others
// fixed.
func NewCoordGrid(base []float64, xi int, x Axis, yi int, y Axis) (*Grid, error) {
	d := len(base)
	if xi < 0 || xi >= d || yi < 0 || yi >= d || xi == yi {
		return nil, fmt.Errorf("graph: grid coordinates %d and %d must be distinct indexes of a %d-value observation", xi, yi, d)
	}
	if x.N < 1 || y.N < 1 {
		return nil, fmt.Errorf("graph: grid axes need at least one point each, got %d×%d", x.N, y.N)
	}
	base = append([]float64(nil), base...)
	return &Grid{X: x, Y: y, ObsDim: d, Map: func(xv, yv float64, obs []float32) {
		for i, v := range base {
			obs[i] = float32(v)
		}
		obs[xi], obs[yi] = float32(xv), float32(yv)
	}}, nil
}

// SliceRows is a Rows over n×dim values already in memory, such as a replay
// buffer's observations or actions.
type SliceRows struct {
	data []float32
	dim  int
}

// NewSliceRows returns the rows of data, dim values each; len(data) must be
// a multiple of dim.
func NewSliceRows(data []float32, dim int) (*SliceRows, error) {
	if dim <= 0 || len(data)%dim != 0 {
		return nil, fmt.Errorf("graph: %d values do not split into rows of %d", len(data), dim)
	}
	return &SliceRows{data: data, dim: dim}, nil
}

// Len implements Rows.
func (s *SliceRows) Len() int { return len(s.data) / s.dim }

// Dim implements Rows.
func (s *SliceRows) Dim() int { return s.dim }

// Fill implements Rows.
func (s *SliceRows) Fill(start, n int, dst []float32) {
	copy(dst[:n*s.dim], s.data[start*s.dim:(start+n)*s.dim])
}

// BufferRows returns the observations and actions of a replay buffer's
// valid rows, in storage order, as Rows.
func BufferRows(buf *loaders.ReplayBuffer) (obs, act *SliceRows, err error) {
	if obs, err = NewSliceRows(buf.Obs, buf.ObsDim); err != nil {
		return nil, nil, fmt.Errorf("%s: observations: %w", buf.Path, err)
	}
	if act, err = NewSliceRows(buf.Actions, buf.ActDim); err != nil {
		return nil, nil, fmt.Errorf("%s: actions: %w", buf.Path, err)
	}
	if obs.Len() != act.Len() {
		return nil, nil, fmt.Errorf("%s: %d observation rows but %d action rows", buf.Path, obs.Len(), act.Len())
	}
	return obs, act, nil
}
