//go:build amd64 && !openblas

package graph

import (
	"fmt"
	"math"
	"testing"

	"github.com/rleval/rleval/internal/nettest"
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
					a := nettest.RandomRows(m, lda, 1, 1)
					w := nettest.RandomRows(k, n, 1, 2) // k×n, a plan step's layout
					c := nettest.RandomRows(m, ldc, 1, 3)
					want := make([]float64, len(c))
					for i := range c {
						want[i] = float64(c[i])
					}
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							s := 0.0
							for kk := 0; kk < k; kk++ {
								s += float64(a[i*lda+kk]) * float64(w[kk*n+j])
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

// TestVectorKernelsMatchScalar pins reluVec (tails, NaN kept) and dotVec.
func TestVectorKernelsMatchScalar(t *testing.T) {
	if !fastKernels {
		t.Skip("no AVX2/FMA on this CPU")
	}
	for _, n := range []int{0, 1, 7, 8, 9, 31, 256} {
		x := nettest.RandomRows(n, 1, 1, uint64(n))
		if n > 3 {
			x[3] = float32(math.NaN())
		}
		want := append([]float32(nil), x...)
		relu(want)
		reluVec(x)
		for i := range x {
			if x[i] != want[i] && !(math.IsNaN(float64(x[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("n=%d: relu[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
	}
	for _, k := range []int{16, 32, 256, 400} {
		a, b := nettest.RandomRows(k, 1, 1, 1), nettest.RandomRows(k, 1, 1, 2)
		want := 0.0
		for i := range a {
			want += float64(a[i]) * float64(b[i])
		}
		if got := dotVec(a, b); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("k=%d: dot = %v, want %v", k, got, want)
		}
	}
}

// TestCPUWithoutAVX2StillMatches pins the fallback a CPU without AVX2/FMA
// takes (gonum's sgemm and Go loops), by switching the kernels off.
func TestCPUWithoutAVX2StillMatches(t *testing.T) {
	savedGEMM, savedFast := asmGEMM, fastKernels
	asmGEMM, fastKernels = false, false
	defer func() { asmGEMM, fastKernels = savedGEMM, savedFast }()
	for _, s := range nettest.Shapes[:4] {
		actor, c1, c2 := s.Nets(RandomNetwork, 8)
		const n = 70
		obs := nettest.RandomRows(n, s.ObsDim, 3, 4)
		a, q1, q2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
		if err := NewCPU(Options{}).QPolicy(actor, c1, c2, obs, n, a, q1, q2); err != nil {
			t.Fatal(err)
		}
		wantA, wantQ1, wantQ2 := refAll(actor, c1, c2, obs, a, n)
		nettest.CheckClose(t, s.Name+" act", a, wantA)
		nettest.CheckClose(t, s.Name+" q1", q1, wantQ1)
		nettest.CheckClose(t, s.Name+" q2", q2, wantQ2)
	}
}
