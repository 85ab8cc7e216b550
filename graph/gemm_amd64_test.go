//go:build amd64 && !openblas

package graph

import (
	"fmt"
	"math"
	"testing"
)

// TestPackedGEMMMatchesNaiveProduct pins the assembly kernel on every edge:
// row counts around its 4-row block, widths around its 16-column panel.
func TestPackedGEMMMatchesNaiveProduct(t *testing.T) {
	if !asmGEMM {
		t.Skip("no AVX2/FMA on this CPU")
	}
	for _, m := range []int{1, 3, 4, 5, 9} {
		for _, n := range []int{1, 15, 16, 17, 33, 300} {
			for _, k := range []int{1, 3, 256} {
				t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
					lda, ldc := k+2, n+3
					a := randomRows(m, lda, 1, 1)
					w := randomRows(n, k, 1, 2)
					c := randomRows(m, ldc, 1, 3)
					want := make([]float64, len(c))
					for i := range c {
						want[i] = float64(c[i])
					}
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							s := 0.0
							for kk := 0; kk < k; kk++ {
								s += float64(a[i*lda+kk]) * float64(w[j*k+kk])
							}
							want[i*ldc+j] += s
						}
					}
					bt, ldb := packWeights(w, n, k)
					sgemmPacked(m, n, k, a, lda, bt, ldb, c, ldc)
					for i := range c {
						if d := math.Abs(float64(c[i]) - want[i]); d > 1e-5*float64(k) {
							t.Fatalf("c[%d] = %v, want %v", i, c[i], want[i])
						}
					}
				})
			}
		}
	}
}
