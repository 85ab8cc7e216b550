package plotting

import "math"

// Histogram counts values into bins equal-width bins over [min, max] of the
// finite values, as numpy.histogram(values, bins) does for a float32 array:
// the same float32 edges, bin i holds edges[i] <= v < edges[i+1] and the last
// bin is closed. NaN and ±Inf are ignored (numpy would refuse them). With no
// finite values the range is [0, 1], with one distinct value v it is
// [v-0.5, v+0.5], as in numpy. bins < 1 is treated as 1.
func Histogram(values []float32, bins int) (counts []int, edges []float64) {
	bins = max(bins, 1)
	lo, hi, n := finiteRange(values)
	var first, last float64
	if n == 0 {
		first, last = 0, 1
	} else {
		first, last = float64(lo), float64(hi)
	}
	degenerate := first == last
	if degenerate {
		first, last = first-0.5, last+0.5
	}
	// numpy computes the edges with linspace in float64 and stores them in
	// the input's dtype; binning then compares against those float32 edges.
	e32 := make([]float32, bins+1)
	edges = make([]float64, bins+1)
	for i := range e32 {
		e32[i] = float32(linspace(first, last, bins+1, i))
		edges[i] = float64(e32[i])
	}
	counts = make([]int, bins)
	if n == 0 {
		return counts, edges
	}
	// norm = n_equal_bins / (last_edge - first_edge), the difference taken in
	// the edges' type (float32 unless the range was widened by ±0.5).
	var width float64
	if degenerate {
		width = last - first
	} else {
		width = float64(hi - lo)
	}
	norm := float32(float64(bins) / width)
	first32, last32 := float32(first), float32(last)
	for _, v := range values {
		if !(v >= first32 && v <= last32) { // also drops NaN and ±Inf
			continue
		}
		f := float32(float32(v-first32) * norm)
		if !(f >= 0 && f <= float32(bins)) {
			// Only when max-min overflows float32; numpy gives garbage here.
			f = 0
		}
		i := min(int(f), bins-1)
		// numpy's correction for the ~1 ULP error of the scaled index; the
		// loops run at most once except in the overflow case above.
		for i > 0 && v < e32[i] {
			i--
		}
		for i < bins-1 && v >= e32[i+1] {
			i++
		}
		counts[i]++
	}
	return counts, edges
}

// Histogram2D counts the finite (x[k], y[k]) pairs into nx × ny equal-width
// bins as numpy.histogram2d(x, y, bins=[nx, ny]) does (float64 edges from
// linspace over each coordinate's [min, max], half-open bins, the last bin of
// each axis closed). Pairs with a NaN or ±Inf coordinate are ignored. Extra
// elements of the longer slice are ignored.
//
// counts is row-major with y as rows, counts[iy*nx+ix], the orientation of
// the state grids (y as rows, x as columns), ready for Heatmap; numpy's H is its
// transpose: H[ix, iy] == counts[iy*nx+ix].
func Histogram2D(x, y []float32, nx, ny int) (counts []float64, xedges, yedges []float64) {
	nx, ny = max(nx, 1), max(ny, 1)
	n := min(len(x), len(y))
	x, y = x[:n], y[:n]
	xlo, xhi, ylo, yhi := float32(0), float32(0), float32(0), float32(0)
	m := 0
	for k := range n {
		if !finite32(x[k]) || !finite32(y[k]) {
			continue
		}
		if m == 0 {
			xlo, xhi, ylo, yhi = x[k], x[k], y[k], y[k]
		} else {
			xlo, xhi = min(xlo, x[k]), max(xhi, x[k])
			ylo, yhi = min(ylo, y[k]), max(yhi, y[k])
		}
		m++
	}
	xedges = edges2D(xlo, xhi, m, nx)
	yedges = edges2D(ylo, yhi, m, ny)
	counts = make([]float64, nx*ny)
	for k := range n {
		if !finite32(x[k]) || !finite32(y[k]) {
			continue
		}
		ix, ok := bin2D(xedges, float64(x[k]))
		if !ok {
			continue
		}
		iy, ok := bin2D(yedges, float64(y[k]))
		if !ok {
			continue
		}
		counts[iy*nx+ix]++
	}
	return counts, xedges, yedges
}

// edges2D is histogramdd's np.linspace(smin, smax, n+1) over the m finite
// values in [lo, hi].
func edges2D(lo, hi float32, m, n int) []float64 {
	first, last := float64(lo), float64(hi)
	if m == 0 {
		first, last = 0, 1
	}
	if first == last {
		first, last = first-0.5, last+0.5
	}
	e := make([]float64, n+1)
	for i := range e {
		e[i] = linspace(first, last, n+1, i)
	}
	return e
}

// bin2D is histogramdd's searchsorted(edges, v, side='right') - 1 with the
// last edge moved into the last bin: the i with edges[i] <= v < edges[i+1].
// A guess from the uniform spacing is corrected against the edges
// themselves, so the result is the binary search's.
func bin2D(edges []float64, v float64) (int, bool) {
	n := len(edges) - 1
	if v == edges[n] {
		return n - 1, true
	}
	if !(v >= edges[0] && v < edges[n]) {
		return 0, false
	}
	i := int((v - edges[0]) / (edges[n] - edges[0]) * float64(n))
	i = min(max(i, 0), n-1)
	for i > 0 && edges[i] > v {
		i--
	}
	for i < n-1 && edges[i+1] <= v {
		i++
	}
	return i, true
}

// finiteRange returns the minimum and maximum of the finite values and how
// many there are.
func finiteRange(values []float32) (lo, hi float32, n int) {
	for _, v := range values {
		if !finite32(v) {
			continue
		}
		if n == 0 {
			lo, hi = v, v
		} else {
			lo, hi = min(lo, v), max(hi, v)
		}
		n++
	}
	return lo, hi, n
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}
