//go:build !openblas

package graph

// kernelsName names the element-wise kernels of this build.
var kernelsName = func() string {
	if fastKernels {
		return "Go+AVX2 kernels"
	}
	return "Go loops"
}()

// reluRows applies max(v, 0) in place to the first w columns of n rows.
func reluRows(c []float32, n, ldc, w int) {
	if !fastKernels {
		reluRowsGo(c, n, ldc, w)
		return
	}
	if ldc == w {
		reluVec(c[:n*w])
		return
	}
	for r := 0; r < n; r++ {
		reluVec(c[r*ldc : r*ldc+w])
	}
}

// direct evaluates y = act(x·Wᵀ + b) for a layer with few inputs.
func direct(x []float32, n, k, ldx int, wt, b []float32, y []float32, ldy int, doReLU bool) {
	directGo(x, n, k, ldx, wt, b, y, ldy, doReLU)
}

// outDot evaluates a one-output layer, y[r] = b + h[r]·w.
func outDot(h []float32, n, k, ld int, w []float32, b float32, y []float32) {
	if !fastKernels || k%16 != 0 {
		outDotGo(h, n, k, ld, w, b, y)
		return
	}
	w = w[:k]
	for r := range y[:n] {
		y[r] = b + dotVec(h[r*ld:r*ld+k], w)
	}
}
