//go:build openblas

package bench

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"

	// graph links OpenBLAS and sets it to one thread per call at init.
	_ "github.com/rleval/rleval/graph"
)

// blasName names the BLAS this build measures; graph uses the same one.
const blasName = "openblas"

var cblas netlib.Implementation

// sgemmNT computes c(m×n) += a(m×k)·b(n×k)ᵀ in one OpenBLAS call, which graph
// has limited to one thread.
func sgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	cblas.Sgemm(blas.NoTrans, blas.Trans, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}
