package cuda

import "gonum.org/v1/gonum/blas"

// gemmArgs are the arguments of one column-major sgemm call, or of one
// strided-batched call over batch matrices when batch > 1 (A, B and C of
// matrix z start strideA, strideB and strideC floats after matrix z-1's).
type gemmArgs struct {
	tA, tB                    blas.Transpose
	m, n, k                   int
	lda, ldb, ldc             int
	batch                     int
	strideA, strideB, strideC int
}

// layerGemm returns the cuBLAS call computing y (rows×out) = x (rows×in)·Wᵀ
// for row-major x and y and torch's row-major W (out×in), with A = W,
// B = x, C = y. cuBLAS is column-major, where row-major x reads as xᵀ
// (in×rows) and W as Wᵀ (in×out); so it computes yᵀ = W·xᵀ: op(A) = Aᵀ
// of the in×out column-major A, B = xᵀ, C = yᵀ (out×rows).
func layerGemm(in, out, rows int) gemmArgs {
	return stackGemm(in, out, rows, 1)
}

// stackGemm is layerGemm for a stack of k networks with their rows
// interleaved: x is rows×k×in (row r of network z at x[(r*k+z)*in]), y is
// rows×k×out, and the k weight matrices W_z (out×in each) lie one after
// another. Seen column-major, network z's xᵀ starts z*in floats in with
// leading dimension k*in, its yᵀ z*out floats in with k*out: one strided
// batch. The interleaving makes the stack one network of width k*out to
// the element-wise kernels (bias, activation, concat, head), which
// therefore serve stacks unchanged.
func stackGemm(in, out, rows, k int) gemmArgs {
	return gemmArgs{
		tA: blas.Trans, tB: blas.NoTrans,
		m: out, n: rows, k: in,
		lda: in, ldb: k * in, ldc: k * out,
		batch:   k,
		strideA: out * in, strideB: in, strideC: out,
	}
}
