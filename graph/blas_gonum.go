//go:build !openblas

package graph

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BitReproducible reports whether this build's CPU results are identical,
// bit for bit, whatever the chunk size, tile and worker count. The pure-Go
// build's kernels (the AVX2/FMA assembly GEMM and gonum's sgemm) sum every
// output in an order that does not depend on the row's position, so it is.
const BitReproducible = true

// blasName names the BLAS the plan runs on.
const blasName = "pure Go"

var native gonum.Implementation

// gemmRows and gemmCols bound the blocks handed to gonum's Sgemm: below four
// 64×64 blocks it runs serially, without the goroutines and allocations of
// its parallel path; the Engine already runs one worker per core.
const (
	gemmRows = 64
	gemmCols = 128
)

// sgemmNN computes c(m×n) += a(m×k)·b(k×n).
func sgemmNN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i += gemmRows {
		mi := min(gemmRows, m-i)
		for j := 0; j < n; j += gemmCols {
			nj := min(gemmCols, n-j)
			native.Sgemm(blas.NoTrans, blas.NoTrans, mi, nj, k, 1,
				a[i*lda:], lda, b[j:], ldb, 1, c[i*ldc+j:], ldc)
		}
	}
}
