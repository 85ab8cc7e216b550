//go:build openblas

package graph

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

// blasName names the BLAS the plan runs on.
const blasName = "openblas"

var cblas netlib.Implementation

func init() {
	// One BLAS thread per call: the Engine runs one worker per core, and
	// OpenBLAS's own threads would fight them for the same cores.
	C.openblas_set_num_threads(1)
	// The TapeMachine reference runs on the same BLAS as the plan.
	G.Use(cblas)
}

// sgemmNN computes c(m×n) += a(m×k)·b(k×n).
func sgemmNN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	cblas.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}
