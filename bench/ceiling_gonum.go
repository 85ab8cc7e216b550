//go:build !openblas

package bench

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// blasName names the BLAS this build measures; graph uses the same one.
const blasName = "pure Go (gonum)"

var native gonum.Implementation

// sgemmNT computes c(m×n) += a(m×k)·b(n×k)ᵀ in blocks small enough that
// gonum's Sgemm stays on its serial path, as graph's CPU plan does, so one
// call uses one core.
func sgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	const rows, cols = 64, 128 // graph's gemmRows, gemmCols
	for i := 0; i < m; i += rows {
		mi := min(rows, m-i)
		for j := 0; j < n; j += cols {
			nj := min(cols, n-j)
			native.Sgemm(blas.NoTrans, blas.Trans, mi, nj, k, 1,
				a[i*lda:], lda, b[j*ldb:], ldb, 1, c[i*ldc+j:], ldc)
		}
	}
}
