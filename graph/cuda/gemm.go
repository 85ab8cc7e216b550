package cuda

import "gonum.org/v1/gonum/blas"

// gemmArgs are the arguments of one column-major sgemm call.
type gemmArgs struct {
	tA, tB        blas.Transpose
	m, n, k       int
	lda, ldb, ldc int
}

// layerGemm returns the cuBLAS call computing y (rows×out) = x (rows×in)·Wᵀ
// for row-major x and y and torch's row-major W (out×in), with A = W,
// B = x, C = y. cuBLAS is column-major, where row-major x reads as xᵀ
// (in×rows) and W as Wᵀ (in×out); so it computes yᵀ = W·xᵀ: op(A) = Aᵀ
// of the in×out column-major A, B = xᵀ, C = yᵀ (out×rows).
func layerGemm(in, out, rows int) gemmArgs {
	return gemmArgs{
		tA: blas.Trans, tB: blas.NoTrans,
		m: out, n: rows, k: in,
		lda: in, ldb: in, ldc: out,
	}
}
