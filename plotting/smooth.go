package plotting

import "math"

// SmoothEMA returns y smoothed as TensorBoard's scalar dashboard does: an
// exponential moving average with the given weight in [0, 1), debiased so
// that the first points are not pulled towards zero (divided by
// 1 − weight^k after k finite points). Non-finite points pass through
// unchanged and do not enter the average. weight ≤ 0 returns a copy of y;
// weight ≥ 1 is treated as 0.999.
func SmoothEMA(y []float64, weight float64) []float64 {
	out := make([]float64, len(y))
	if weight <= 0 {
		copy(out, y)
		return out
	}
	weight = min(weight, 0.999)
	last, k := 0.0, 0
	pow := 1.0 // weight^k
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out[i] = v
			continue
		}
		last = last*weight + (1-weight)*v
		k++
		pow *= weight
		out[i] = last / (1 - pow)
	}
	return out
}
