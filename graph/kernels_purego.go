//go:build !openblas

package graph

// kernelsName names the element-wise kernels of this build.
const kernelsName = "Go loops"

// reluRows applies max(v, 0) in place to the first w columns of n rows.
func reluRows(c []float32, n, ldc, w int) { reluRowsGo(c, n, ldc, w) }

// direct evaluates y = act(x·Wᵀ + b) for a layer with few inputs.
func direct(x []float32, n, k, ldx int, wt, b []float32, y []float32, ldy int, doReLU bool) {
	directGo(x, n, k, ldx, wt, b, y, ldy, doReLU)
}

// outDot evaluates a one-output layer, y[r] = b + h[r]·w.
func outDot(h []float32, n, k, ld int, w []float32, b float32, y []float32) {
	outDotGo(h, n, k, ld, w, b, y)
}
