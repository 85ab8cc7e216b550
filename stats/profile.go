package stats

import (
	"slices"
)

// Profile is rliable's run-score distribution (performance profile): for
// each threshold τ, the fraction of runs scoring above τ, averaged over
// tasks, with its stratified-bootstrap interval.
func (b Bootstrap) Profile(s Scores, taus []float64) ([]Interval, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	// first[t][i]: index of the first sorted score of task t above taus[i].
	sorted := make([][]float64, len(s))
	first := make([][]int, len(s))
	for t, x := range s {
		v := slices.Clone(x)
		slices.Sort(v)
		sorted[t] = v
		first[t] = make([]int, len(taus))
		for i, tau := range taus {
			k, found := slices.BinarySearch(v, tau)
			for found && k < len(v) && v[k] <= tau {
				k++
			}
			first[t][i] = k
		}
	}
	out := make([]Interval, len(taus))
	for i := range taus {
		f := 0.0
		for t, v := range sorted {
			f += float64(len(v)-first[t][i]) / float64(len(v))
		}
		out[i].Value = f / float64(len(s))
	}
	n := b.reps()
	rep := make([]float64, n*len(taus))
	counts := make([][]int32, len(s))
	above := make([][]int32, len(s)) // above[t][k]: draws at sorted index ≥ k
	for t, v := range sorted {
		counts[t] = make([]int32, len(v))
		above[t] = make([]int32, len(v)+1)
	}
	d := newDrawer(b)
	for r := 0; r < n; r++ {
		for t, v := range sorted {
			c := counts[t]
			clear(c)
			for range v {
				c[d.intn(len(v))]++
			}
			a := above[t]
			for k := len(v) - 1; k >= 0; k-- {
				a[k] = a[k+1] + c[k]
			}
		}
		for i := range taus {
			f := 0.0
			for t, v := range sorted {
				f += float64(above[t][first[t][i]]) / float64(len(v))
			}
			rep[i*n+r] = f / float64(len(s))
		}
	}
	for i := range taus {
		out[i] = b.interval(out[i].Value, rep[i*n:(i+1)*n])
	}
	return out, nil
}

// Thresholds returns n evenly spaced thresholds from lo to hi inclusive
// (numpy.linspace).
func Thresholds(lo, hi float64, n int) []float64 {
	if n <= 0 {
		return nil
	}
	if n == 1 {
		return []float64{lo}
	}
	out := make([]float64, n)
	step := (hi - lo) / float64(n-1)
	for i := range out {
		out[i] = lo + float64(i)*step
	}
	out[n-1] = hi
	return out
}
