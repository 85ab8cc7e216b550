//go:build !rlcuda

package cuda

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// colMajorSgemm is BLAS sgemm (and sgemmStridedBatched) as cuBLAS defines
// it, column-major, C = op(A)·op(B) with beta 0: the reference for
// layerGemm's and stackGemm's arguments. It fails on a C element written
// twice, which overlapping batches would do.
func colMajorSgemm(t *testing.T, g gemmArgs, a, b, c []float32) {
	written := map[int]bool{}
	for z := 0; z < max(g.batch, 1); z++ {
		a, b := a[z*g.strideA:], b[z*g.strideB:]
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
				at := z*g.strideC + i + j*g.ldc
				if written[at] {
					t.Fatalf("%+v: C[%d] written twice", g, at)
				}
				written[at] = true
				c[at] = s
			}
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
		colMajorSgemm(t, layerGemm(sz.in, sz.out, sz.rows), w, x, y)
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

func TestStackGemmComputesEachInterleavedNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []struct{ in, out, rows, k int }{{3, 8, 5, 4}, {8, 1, 3, 7}, {2, 3, 1, 1}} {
		w := make([]float32, sz.k*sz.out*sz.in) // k torch (out, in) weights, one after another
		x := make([]float32, sz.rows*sz.k*sz.in)
		for i := range w {
			w[i] = float32(rng.IntN(7) - 3)
		}
		for i := range x {
			x[i] = float32(rng.IntN(7) - 3)
		}
		y := make([]float32, sz.rows*sz.k*sz.out)
		colMajorSgemm(t, stackGemm(sz.in, sz.out, sz.rows, sz.k), w, x, y)
		for z := 0; z < sz.k; z++ {
			for r := 0; r < sz.rows; r++ {
				for o := 0; o < sz.out; o++ {
					var want float32
					for p := 0; p < sz.in; p++ {
						want += x[(r*sz.k+z)*sz.in+p] * w[z*sz.out*sz.in+o*sz.in+p]
					}
					if got := y[(r*sz.k+z)*sz.out+o]; got != want {
						t.Fatalf("%+v: network %d y[%d][%d] = %v, want %v", sz, z, r, o, got, want)
					}
				}
			}
		}
	}
}
