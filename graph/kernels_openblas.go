//go:build openblas

package graph

/*
#cgo CFLAGS: -O3
#include <stddef.h>

// The element-wise kernels in C, where gcc vectorises them (Go does not);
// target_clones picks the AVX-512, AVX2 or baseline copy at load time.

__attribute__((target_clones("avx512f","avx2","default")))
static void rl_relu_rows(float *restrict c, long n, long ldc, long w) {
	for (long r = 0; r < n; r++) {
		float *restrict row = c + r*ldc;
		for (long j = 0; j < w; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j];
	}
}

__attribute__((target_clones("avx512f","avx2","default")))
static void rl_direct(const float *restrict x, long n, long k, long ldx,
		const float *restrict wt, const float *restrict b, long out,
		float *restrict y, long ldy, int relu) {
	if (k == 3) {
		const float *w0 = wt, *w1 = wt + out, *w2 = wt + 2*out;
		for (long r = 0; r < n; r++) {
			const float *xr = x + r*ldx;
			float x0 = xr[0], x1 = xr[1], x2 = xr[2];
			float *restrict yr = y + r*ldy;
			for (long j = 0; j < out; j++) {
				float v = b[j] + x0*w0[j] + x1*w1[j] + x2*w2[j];
				yr[j] = (relu && v < 0.0f) ? 0.0f : v;
			}
		}
		return;
	}
	if (k == 4) {
		const float *w0 = wt, *w1 = wt + out, *w2 = wt + 2*out, *w3 = wt + 3*out;
		for (long r = 0; r < n; r++) {
			const float *xr = x + r*ldx;
			float x0 = xr[0], x1 = xr[1], x2 = xr[2], x3 = xr[3];
			float *restrict yr = y + r*ldy;
			for (long j = 0; j < out; j++) {
				float v = b[j] + x0*w0[j] + x1*w1[j] + x2*w2[j] + x3*w3[j];
				yr[j] = (relu && v < 0.0f) ? 0.0f : v;
			}
		}
		return;
	}
	for (long r = 0; r < n; r++) {
		const float *xr = x + r*ldx;
		float *restrict yr = y + r*ldy;
		for (long j = 0; j < out; j++) yr[j] = b[j];
		for (long kk = 0; kk < k; kk++) {
			float xv = xr[kk];
			const float *w = wt + kk*out;
			for (long j = 0; j < out; j++) yr[j] += xv*w[j];
		}
		if (relu)
			for (long j = 0; j < out; j++) yr[j] = yr[j] < 0.0f ? 0.0f : yr[j];
	}
}

// rl_out_dot keeps 16 partial sums summed in a fixed tree, so the result
// does not depend on which clone runs or on the row's position.
__attribute__((target_clones("avx512f","avx2","default")))
static void rl_out_dot(const float *restrict h, long n, long k, long ld,
		const float *restrict w, float b, float *restrict y) {
	for (long r = 0; r < n; r++) {
		const float *restrict hr = h + r*ld;
		float acc[16] = {0};
		long j = 0;
		for (; j + 16 <= k; j += 16)
			for (int l = 0; l < 16; l++) acc[l] += hr[j+l]*w[j+l];
		float t = 0.0f;
		for (; j < k; j++) t += hr[j]*w[j];
		for (int l = 0; l < 8; l++) acc[l] += acc[l+8];
		for (int l = 0; l < 4; l++) acc[l] += acc[l+4];
		y[r] = b + (((acc[0] + acc[1]) + (acc[2] + acc[3])) + t);
	}
}
*/
import "C"

import "unsafe"

// kernelsName names the element-wise kernels of this build.
var kernelsName = "C loops"

func f32ptr(s []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(s))) }

// reluRows applies max(v, 0) in place to the first w columns of n rows.
func reluRows(c []float32, n, ldc, w int) {
	if n <= 0 {
		return
	}
	_ = c[(n-1)*ldc+w-1]
	C.rl_relu_rows(f32ptr(c), C.long(n), C.long(ldc), C.long(w))
}

// direct evaluates y = act(x·Wᵀ + b) for a layer with few inputs: x is n×k
// (row stride ldx), wt the k×out transposed weights, y n×out (stride ldy).
func direct(x []float32, n, k, ldx int, wt, b []float32, y []float32, ldy int, doReLU bool) {
	if n <= 0 {
		return
	}
	out := len(b)
	_, _, _ = x[(n-1)*ldx+k-1], wt[k*out-1], y[(n-1)*ldy+out-1]
	relu := C.int(0)
	if doReLU {
		relu = 1
	}
	C.rl_direct(f32ptr(x), C.long(n), C.long(k), C.long(ldx), f32ptr(wt), f32ptr(b), C.long(out), f32ptr(y), C.long(ldy), relu)
}

// outDot evaluates a one-output layer, y[r] = b + h[r]·w, for n rows of h
// (row stride ld, k values used).
func outDot(h []float32, n, k, ld int, w []float32, b float32, y []float32) {
	if n <= 0 {
		return
	}
	_, _, _ = h[(n-1)*ld+k-1], w[k-1], y[n-1]
	C.rl_out_dot(f32ptr(h), C.long(n), C.long(k), C.long(ld), f32ptr(w), C.float(b), f32ptr(y))
}
