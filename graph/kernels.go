package graph

import "math"

// The element-wise kernels of the CPU plan. Each is a tight loop over
// re-sliced rows so the compiler drops the bounds checks; they run once per
// chunk, never per call of a row.

// prefillRows copies bias into the first len(bias) columns of n rows of c,
// so a GEMM with beta = 1 adds the bias for free.
func prefillRows(c []float32, n, ldc int, bias []float32) {
	w := len(bias)
	for r := 0; r < n; r++ {
		copy(c[r*ldc:r*ldc+w], bias)
	}
}

// reluRowsGo applies max(v, 0) in place to the first w columns of n rows.
func reluRowsGo(c []float32, n, ldc, w int) {
	if ldc == w {
		relu(c[:n*w])
		return
	}
	for r := 0; r < n; r++ {
		relu(c[r*ldc : r*ldc+w])
	}
}

// relu applies max(v, 0) in place. The builtin max compiles without a
// branch: a branch on the sign of activations mispredicts half the time and
// made this loop 7× slower. NaN stays NaN, as in torch.
func relu(x []float32) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// tanhRows applies tanh in place to the first w columns of n rows.
func tanhRows(c []float32, n, ldc, w int) {
	for r := 0; r < n; r++ {
		row := c[r*ldc : r*ldc+w]
		for i, v := range row {
			row[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// directGo evaluates y = act(x·Wᵀ + b) for a layer with few inputs: x is n×k
// (row stride ldx), wt the k×out transposed weights, y n×out (stride ldy).
func directGo(x []float32, n, k, ldx int, wt, b []float32, y []float32, ldy int, doReLU bool) {
	out := len(b)
	switch k {
	case 3:
		w0, w1, w2 := wt[:out], wt[out:2*out], wt[2*out:3*out]
		for r := 0; r < n; r++ {
			xr := x[r*ldx : r*ldx+3]
			x0, x1, x2 := xr[0], xr[1], xr[2]
			yr := y[r*ldy : r*ldy+out]
			yr = yr[:len(b)]
			w0, w1, w2 := w0[:len(b)], w1[:len(b)], w2[:len(b)]
			if doReLU {
				for j, bj := range b {
					v := bj + x0*w0[j] + x1*w1[j] + x2*w2[j]
					yr[j] = max(v, 0)
				}
			} else {
				for j, bj := range b {
					yr[j] = bj + x0*w0[j] + x1*w1[j] + x2*w2[j]
				}
			}
		}
	case 4:
		w0, w1, w2, w3 := wt[:out], wt[out:2*out], wt[2*out:3*out], wt[3*out:4*out]
		for r := 0; r < n; r++ {
			xr := x[r*ldx : r*ldx+4]
			x0, x1, x2, x3 := xr[0], xr[1], xr[2], xr[3]
			yr := y[r*ldy : r*ldy+out]
			yr = yr[:len(b)]
			w0, w1, w2, w3 := w0[:len(b)], w1[:len(b)], w2[:len(b)], w3[:len(b)]
			if doReLU {
				for j, bj := range b {
					v := bj + x0*w0[j] + x1*w1[j] + x2*w2[j] + x3*w3[j]
					yr[j] = max(v, 0)
				}
			} else {
				for j, bj := range b {
					yr[j] = bj + x0*w0[j] + x1*w1[j] + x2*w2[j] + x3*w3[j]
				}
			}
		}
	default:
		for r := 0; r < n; r++ {
			xr := x[r*ldx : r*ldx+k]
			yr := y[r*ldy : r*ldy+out]
			copy(yr, b)
			for kk, xv := range xr {
				w := wt[kk*out : kk*out+out]
				w = w[:len(yr)]
				for j := range yr {
					yr[j] += xv * w[j]
				}
			}
			if doReLU {
				relu(yr)
			}
		}
	}
}

// scaleHead turns the first ad columns of n rows of v into actions,
// low + (tanh(v)+1)*(high-low)/2, written densely (n×ad) into act.
func scaleHead(v []float32, n, ldv int, low, half []float32, act []float32) {
	ad := len(low)
	for r := 0; r < n; r++ {
		vr := v[r*ldv : r*ldv+ad]
		ar := act[r*ad : r*ad+ad]
		for j := range ar {
			t := float32(math.Tanh(float64(vr[j])))
			ar[j] = low[j] + (t+1)*half[j]
		}
	}
}

// stdHead turns columns ad..2ad-1 of n rows of v (a SAC actor's log_std)
// into exp(clamp(log_std, LogStdMin, LogStdMax)), written densely (n×ad)
// into std.
func stdHead(v []float32, n, ldv, ad int, std []float32) {
	for r := 0; r < n; r++ {
		lr := v[r*ldv+ad : r*ldv+2*ad]
		sr := std[r*ad : r*ad+ad]
		for j := range sr {
			l := min(max(lr[j], LogStdMin), LogStdMax)
			sr[j] = float32(math.Exp(float64(l)))
		}
	}
}

// outDotGo evaluates a one-output layer, y[r] = b + h[r]·w, for n rows of h
// (row stride ld, k values used).
func outDotGo(h []float32, n, k, ld int, w []float32, b float32, y []float32) {
	w = w[:k]
	for r := range y[:n] {
		hr := h[r*ld : r*ld+k]
		hr = hr[:len(w)]
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= len(w); j += 4 {
			s0 += hr[j] * w[j]
			s1 += hr[j+1] * w[j+1]
			s2 += hr[j+2] * w[j+2]
			s3 += hr[j+3] * w[j+3]
		}
		for ; j < len(w); j++ {
			s0 += hr[j] * w[j]
		}
		y[r] = b + ((s0 + s1) + (s2 + s3))
	}
}
