//go:build !rlcuda

package cuda

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// colMajorSgemm is BLAS sgemm as cuBLAS defines it, column-major,
// C = op(A)·op(B) with beta 0: the reference for layerGemm's arguments.
func colMajorSgemm(g gemmArgs, a, b, c []float32) {
	at := func(i, p int) float32 { // op(A)[i,p]
		if g.tA == blas.Trans {
			return a[p+i*g.lda]
		}
		return a[i+p*g.lda]
	}
	bt := func(p, j int) float32 { // op(B)[p,j]
		if g.tB == blas.Trans {
			return b[j+p*g.ldb]
		}
		return b[p+j*g.ldb]
	}
	for j := 0; j < g.n; j++ {
		for i := 0; i < g.m; i++ {
			var s float32
			for p := 0; p < g.k; p++ {
				s += at(i, p) * bt(p, j)
			}
			c[i+j*g.ldc] = s
		}
	}
}

func TestLayerGemmComputesRowMajorXTimesWTransposed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct{ in, out, rows int }{{3, 256, 7}, {256, 1, 5}, {4, 3, 1}, {1, 1, 1}} {
		w := make([]float32, sz.out*sz.in) // torch (out, in), row-major
		x := make([]float32, sz.rows*sz.in)
		for i := range w {
			w[i] = float32(rng.IntN(7) - 3)
		}
		for i := range x {
			x[i] = float32(rng.IntN(7) - 3)
		}
		y := make([]float32, sz.rows*sz.out)
		colMajorSgemm(layerGemm(sz.in, sz.out, sz.rows), w, x, y)
		for r := 0; r < sz.rows; r++ {
			for o := 0; o < sz.out; o++ {
				var want float32
				for k := 0; k < sz.in; k++ {
					want += x[r*sz.in+k] * w[o*sz.in+k]
				}
				if got := y[r*sz.out+o]; got != want {
					t.Fatalf("%+v: y[%d][%d] = %v, want %v", sz, r, o, got, want)
				}
			}
		}
	}
}
