package cuda

// Host-side parts of the device's plan evaluation: pure Go, built with or
// without the rlcuda tag, so they are tested without a GPU (plan_test.go).

import (
	"fmt"
	"math"

	"github.com/rleval/rleval/graph"
)

// torchLayout returns a step's In×Out plan weights as Out×In (row o the
// weights of output o), the layout layerGemm and stackGemm multiply.
func torchLayout(s *graph.Step) []float32 {
	w := make([]float32, len(s.W))
	for k := 0; k < s.In; k++ {
		for o := 0; o < s.Out; o++ {
			w[o*s.In+k] = s.W[k*s.Out+o]
		}
	}
	return w
}

// stackable reports why plans cannot run as one stack, or nil when they
// can: the same steps (widths, epilogues and their parameters), the same
// head bounds and the same input normalisation, or none. Networks that
// differ only in weights and biases, as a sweep's runs do, stack.
func stackable(plans []*graph.Plan) error {
	a := plans[0]
	for _, b := range plans[1:] {
		if len(b.Steps) != len(a.Steps) || (a.Norm == nil) != (b.Norm == nil) {
			return fmt.Errorf("%s and %s have different steps or normalisations", a.Name, b.Name)
		}
		if a.Norm != nil && (a.Norm.Cols != b.Norm.Cols || a.Norm.Clip != b.Norm.Clip ||
			!sameFloats(a.Norm.Mean, b.Norm.Mean) || !sameFloats(a.Norm.Std, b.Norm.Std)) {
			return fmt.Errorf("%s and %s normalise their inputs differently", a.Name, b.Name)
		}
		for i := range a.Steps {
			x, y := &a.Steps[i], &b.Steps[i]
			if x.In != y.In || x.Out != y.Out || x.Epilogue != y.Epilogue || x.Alpha != y.Alpha || x.Clip != y.Clip ||
				x.Lo != y.Lo || x.Hi != y.Hi || !sameFloats(x.Low, y.Low) || !sameFloats(x.Half, y.Half) {
				return fmt.Errorf("%s and %s differ in step %d", a.Name, b.Name, i)
			}
		}
	}
	return nil
}

func sameFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
