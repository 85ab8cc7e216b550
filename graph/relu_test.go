package graph

import (
	"math"
	"testing"
)

// TestReLUKernelsKeepNaN: in both builds (pure Go and -tags openblas) the
// ReLU kernels keep NaN as torch.relu does, so a network with NaN weights
// gives NaN, never finite numbers an all-NaN check would miss (the C loops
// once wrote v > 0 ? v : 0, which turns NaN into 0).
func TestReLUKernelsKeepNaN(t *testing.T) {
	nan := float32(math.NaN())
	c := []float32{nan, -1, 2, 9, nan, 0, -3, 9}
	reluRows(c, 2, 4, 3)
	want := []float32{nan, 0, 2, 9, nan, 0, 0, 9}
	for i := range c {
		if math.Float32bits(c[i]) != math.Float32bits(want[i]) && !(c[i] != c[i] && want[i] != want[i]) {
			t.Fatalf("reluRows: %v, want %v", c, want)
		}
	}
	// direct: one input, two outputs, weights NaN and −1, with ReLU.
	y := make([]float32, 2)
	direct([]float32{1}, 1, 1, 1, []float32{nan, -1}, []float32{0, 0}, y, 2, true)
	if !math.IsNaN(float64(y[0])) || y[1] != 0 {
		t.Fatalf("direct with ReLU: %v, want [NaN 0]", y)
	}
}
