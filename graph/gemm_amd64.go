//go:build amd64 && !openblas

package graph

// The pure-Go build's GEMM on amd64 with AVX2 and FMA: a 4×16 register-
// blocked kernel in assembly over pre-transposed weights, about 5× faster
// than gonum's sgemm (Go does not vectorise loops itself).

//go:noescape
func sgemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func sgemm1x16(k int, a *float32, b *float32, ldb int, c *float32)

//go:noescape
func relu8(x *float32, n int)

//go:noescape
func dot16(k int, a *float32, b *float32, lanes *[8]float32)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv0() (eax uint32)

// asmGEMM reports whether the CPU runs the AVX2/FMA kernel: AVX2 and FMA
// present and the OS saving the YMM registers.
var asmGEMM = func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	fma, osxsave, avx := c1&(1<<12) != 0, c1&(1<<27) != 0, c1&(1<<28) != 0
	if !fma || !osxsave || !avx {
		return false
	}
	if xgetbv0()&6 != 6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}()

// gemmPanel is the kernel's column width: weights are transposed into
// k×round16(n) panels, zero-padded, so every kernel load stays in bounds.
const gemmPanel = 16

// packWeights returns w (k×n, a plan step's layout) with its rows padded
// to ldb = n rounded up to gemmPanel, or nil when the kernel is not used.
func packWeights(w []float32, n, k int) (bt []float32, ldb int) {
	if !asmGEMM {
		return nil, 0
	}
	ldb = (n + gemmPanel - 1) / gemmPanel * gemmPanel
	bt = make([]float32, k*ldb)
	for kk := 0; kk < k; kk++ {
		copy(bt[kk*ldb:kk*ldb+n], w[kk*n:kk*n+n])
	}
	return bt, ldb
}

// sgemmPacked computes c(m×n) += a(m×k)·bt(k×n), bt packed by packWeights.
func sgemmPacked(m, n, k int, a []float32, lda int, bt []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	_, _, _ = a[(m-1)*lda+k-1], bt[(k-1)*ldb+ldb-1], c[(m-1)*ldc+n-1]
	// Row blocks keep their slice of a in L2 while every column panel
	// (k×16 floats, in L1) passes over it.
	const rowBlock = 128
	j := 0
	for i0 := 0; i0 < m; i0 += rowBlock {
		i1 := min(i0+rowBlock, m)
		for j = 0; j+gemmPanel <= n; j += gemmPanel {
			i := i0
			for ; i+4 <= i1; i += 4 {
				sgemm4x16(k, &a[i*lda], lda, &bt[j], ldb, &c[i*ldc+j], ldc)
			}
			for ; i < i1; i++ {
				sgemm1x16(k, &a[i*lda], &bt[j], ldb, &c[i*ldc+j])
			}
		}
	}
	if j == n {
		return
	}
	// The last, partial panel: through a 16-wide scratch row, then the
	// valid columns added to c.
	var tmp [gemmPanel]float32
	for i := 0; i < m; i++ {
		tmp = [gemmPanel]float32{}
		sgemm1x16(k, &a[i*lda], &bt[j], ldb, &tmp[0])
		row := c[i*ldc+j : i*ldc+n]
		for jj := range row {
			row[jj] += tmp[jj]
		}
	}
}

// fastKernels reports whether reluVec and dotVec run vectorised.
var fastKernels = asmGEMM

// reluVec applies max(v, 0) in place, eight values at a time.
func reluVec(x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		relu8(&x[0], n)
	}
	for i, v := range x[n:] {
		x[n+i] = max(v, 0)
	}
}

// dotVec returns a·b for len(a) a multiple of 16 (callers check), summed
// in a fixed order so the result depends on the values only.
func dotVec(a, b []float32) float32 {
	var l [8]float32
	_ = b[len(a)-1]
	dot16(len(a), &a[0], &b[0], &l)
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}
