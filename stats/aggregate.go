package stats

import (
	"errors"
	"math"
	"slices"
)

// Scores holds run scores task-major: Scores[task][run].
type Scores [][]float64

// ErrNoScores is returned when an aggregate is asked of no scores, or of a
// task with no runs.
var ErrNoScores = errors.New("stats: no scores")

// check returns ErrNoScores when s has no task or a task has no run.
func (s Scores) check() error {
	if len(s) == 0 {
		return ErrNoScores
	}
	for _, t := range s {
		if len(t) == 0 {
			return ErrNoScores
		}
	}
	return nil
}

// pooled returns every score in one new slice.
func (s Scores) pooled() []float64 {
	var all []float64
	for _, t := range s {
		all = append(all, t...)
	}
	return all
}

// Mean is rliable's aggregate_mean: the mean over tasks of each task's
// mean over runs.
func Mean(s Scores) float64 {
	if s.check() != nil {
		return math.NaN()
	}
	sum := 0.0
	for _, t := range s {
		sum += mean(t)
	}
	return sum / float64(len(s))
}

// Median is rliable's aggregate_median, the median over tasks of each
// task's mean over runs, when s has several tasks. With one task (a group
// of seeds) it is the median over runs: rliable's definition would then be
// the mean.
func Median(s Scores) float64 {
	if s.check() != nil {
		return math.NaN()
	}
	if len(s) == 1 {
		return median(slices.Clone(s[0]))
	}
	means := make([]float64, len(s))
	for i, t := range s {
		means[i] = mean(t)
	}
	return median(means)
}

// IQM is rliable's aggregate_iqm, the interquartile mean of all scores:
// scipy.stats.trim_mean(scores, 0.25, axis=None), the mean of the sorted
// scores from index ⌊n/4⌋ to n−⌊n/4⌋ (exclusive).
func IQM(s Scores) float64 {
	if s.check() != nil {
		return math.NaN()
	}
	return TrimMean(s.pooled(), 0.25)
}

// OptimalityGap is rliable's aggregate_optimality_gap with γ = 1: how far
// the scores fall short of 1 on average, 1 − mean(min(score, 1)) over all
// scores. Scores are expected normalised (see Normalize).
func OptimalityGap(s Scores) float64 {
	if s.check() != nil {
		return math.NaN()
	}
	sum, n := 0.0, 0
	for _, t := range s {
		for _, v := range t {
			sum += min(v, 1)
			n++
		}
	}
	return 1 - sum/float64(n)
}

// Normalize maps scores to (v − lo)/(hi − lo) in a new Scores, so that lo
// becomes 0 and hi 1 (the optimality gap's target).
func Normalize(s Scores, lo, hi float64) Scores {
	out := make(Scores, len(s))
	for i, t := range s {
		out[i] = make([]float64, len(t))
		for j, v := range t {
			out[i][j] = (v - lo) / (hi - lo)
		}
	}
	return out
}

// TrimMean is scipy.stats.trim_mean(x, cut) of a one-dimensional sample:
// the mean of the values left when ⌊cut·n⌋ are cut off each end of the
// sorted sample. x is reordered.
func TrimMean(x []float64, cut float64) float64 {
	n := len(x)
	if n == 0 || cut < 0 || cut >= 0.5 {
		return math.NaN()
	}
	lo := int(cut * float64(n))
	hi := n - lo
	selectK(x, lo)
	selectK(x[lo:], hi-1-lo)
	return mean(x[lo:hi])
}

// Percentile is numpy.percentile(x, q) with its default 'linear' method:
// the value at position q/100·(n−1) of the sorted sample, interpolated
// between its neighbours. x is reordered.
func Percentile(x []float64, q float64) float64 {
	n := len(x)
	if n == 0 || q < 0 || q > 100 {
		return math.NaN()
	}
	pos := q / 100 * float64(n-1)
	i := int(math.Floor(pos))
	if i >= n-1 {
		selectK(x, n-1)
		return x[n-1]
	}
	selectK(x, i)
	a := x[i]
	b := minOf(x[i+1:])
	return lerp(a, b, pos-float64(i))
}

// lerp is numpy's _lerp: exact at both ends, symmetric about t = 0.5.
func lerp(a, b, t float64) float64 {
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

func minOf(x []float64) float64 {
	m := x[0]
	for _, v := range x[1:] {
		if v < m {
			m = v
		}
	}
	return m
}

// median is numpy.median: the middle value, or the mean of the two middle
// values. x is reordered.
func median(x []float64) float64 {
	n := len(x)
	k := n / 2
	selectK(x, k)
	if n%2 == 1 {
		return x[k]
	}
	// x[:k] holds the k smallest: the lower middle is their maximum.
	lo := x[0]
	for _, v := range x[1:k] {
		lo = max(lo, v)
	}
	return (lo + x[k]) / 2
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// selectK reorders x so that x[k] is the value it would hold sorted, with
// no larger value before it and no smaller one after it (Hoare's
// quickselect with a median-of-three pivot; NaN-free input).
func selectK(x []float64, k int) {
	lo, hi := 0, len(x)-1
	for hi > lo {
		if hi-lo < 16 {
			insertionSort(x[lo : hi+1])
			return
		}
		mid := lo + (hi-lo)/2
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		p := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] < p {
				i++
			}
			for x[j] > p {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

func insertionSort(x []float64) {
	for i := 1; i < len(x); i++ {
		v := x[i]
		j := i - 1
		for j >= 0 && x[j] > v {
			x[j+1] = x[j]
			j--
		}
		x[j+1] = v
	}
}
