//go:build !amd64 || openblas

package graph

// packWeights returns nil: this build has no packed-weight GEMM kernel.
func packWeights(w []float32, n, k int) (bt []float32, ldb int) { return nil, 0 }

// sgemmPacked is never called when packWeights returns nil.
func sgemmPacked(m, n, k int, a []float32, lda int, bt []float32, ldb int, c []float32, ldc int) {
	panic("graph: sgemmPacked without packed weights")
}

// fastKernels is false: no vectorised Go kernels in this build.
const fastKernels = false

func reluVec(x []float32) { relu(x) }

func dotVec(a, b []float32) float32 { panic("graph: dotVec without vector kernels") }
