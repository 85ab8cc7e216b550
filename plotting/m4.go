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

// m4Pixels reduces n points, given by at in pixel coordinates with px
// ascending, to the M4 points of unit-wide pixel columns (column
// floor(px)), in order. It streams: memory is O(columns), not O(n).
func m4Pixels(n int, at func(i int) (px, py float64)) (qx, qy []float64) {
	qx, qy = make([]float64, 0, 4096), make([]float64, 0, 4096)
	type pt struct {
		i      int
		px, py float64
	}
	var first, lo, hi, last pt
	col := math.NaN()
	flush := func() {
		a, b := lo, hi
		if b.i < a.i {
			a, b = b, a
		}
		prev := -1
		for _, p := range [4]pt{first, a, b, last} {
			if p.i > prev {
				qx, qy = append(qx, p.px), append(qy, p.py)
				prev = p.i
			}
		}
	}
	for i := range n {
		x, y := at(i)
		p := pt{i, x, y}
		if c := math.Floor(x); c != col {
			if i > 0 {
				flush()
			}
			col, first, lo, hi = c, p, p, p
		} else {
			if y < lo.py {
				lo = p
			}
			if y > hi.py {
				hi = p
			}
		}
		last = p
	}
	if n > 0 {
		flush()
	}
	return qx, qy
}
