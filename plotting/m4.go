package plotting

import "math"

// M4 returns the indices of the points a line chart of `columns` pixel
// columns over [x0, x1] needs: per column, the first, lowest, highest and
// last point that falls in it, in index order, each index once. This is the
// M4 aggregation of Jugel et al. (VLDB 2014): a polyline through these
// points covers the same pixels as one through every point, so a figure
// costs O(points + pixels) however long the series. x must be ascending
// and finite; points outside [x0, x1] fall in the first or last column.
func M4(x, y []float64, x0, x1 float64, columns int) []int {
	n := min(len(x), len(y))
	if n == 0 || columns <= 0 {
		return nil
	}
	scale := 0.0
	if x1 > x0 {
		scale = float64(columns) / (x1 - x0)
	}
	out := make([]int, 0, min(n, 4*columns))
	col := func(v float64) int {
		c := int(math.Floor((v - x0) * scale))
		return max(0, min(columns-1, c))
	}
	start := 0
	for start < n {
		c := col(x[start])
		end := start + 1
		for end < n && col(x[end]) == c {
			end++
		}
		out = appendM4(out, y, start, end)
		start = end
	}
	return out
}

// appendM4 appends the first, min, max and last index of y[lo:hi] in
// index order, without repeats.
func appendM4(out []int, y []float64, lo, hi int) []int {
	imin, imax := lo, lo
	for i := lo + 1; i < hi; i++ {
		if y[i] < y[imin] {
			imin = i
		}
		if y[i] > y[imax] {
			imax = i
		}
	}
	a, b := min(imin, imax), max(imin, imax)
	for _, i := range [4]int{lo, a, b, hi - 1} {
		if len(out) == 0 || out[len(out)-1] < i {
			out = append(out, i)
		}
	}
	return out
}

// m4Pixels reduces points already in pixel coordinates (px ascending) to
// the M4 points of unit-wide pixel columns, column floor(px).
func m4Pixels(px, py []float64) (qx, qy []float64) {
	n := len(px)
	qx, qy = make([]float64, 0, min(n, 4096)), make([]float64, 0, min(n, 4096))
	var idx []int
	start := 0
	for start < n {
		c := math.Floor(px[start])
		end := start + 1
		for end < n && math.Floor(px[end]) == c {
			end++
		}
		idx = appendM4(idx[:0], py, start, end)
		for _, i := range idx {
			qx, qy = append(qx, px[i]), append(qy, py[i])
		}
		start = end
	}
	return qx, qy
}
