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

// BitReproducible is false in the OpenBLAS build: OpenBLAS's sgemm kernels
// compute a row differently depending on its position inside the kernel's
// register tile (measured with 0.3.21's Haswell kernels: rows 6–11 of every
// 12 round otherwise than rows 0–5, and so do the lanes of the 16-row tile
// when rows are passed as the kernel's M), so a row's value depends on
// where the chunking put it, by an ulp. No fixed row tiling avoids that;
// results agree with the pure-Go build within ANALYSES.md's tolerance.
const BitReproducible = false

// sgemmNN computes c(m×n) += a(m×k)·b(k×n).
func sgemmNN(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	cblas.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}
