package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultReps is the number of bootstrap replicates rliable recommends and
// uses by default.
const DefaultReps = 50000

// Interval is a point estimate with its confidence interval.
type Interval struct {
	Value, Lo, Hi float64
}

// Bootstrap computes stratified-bootstrap percentile intervals: each
// replicate resamples, with replacement, the runs of every task
// independently (rliable's StratifiedBootstrap), the statistic is computed
// on each replicate, and the interval is the (1−Level)/2 and (1+Level)/2
// percentiles of the replicates, numpy.percentile's 'linear' method. The
// random stream is PCG seeded with (Seed, Stream): one Stream per quantity
// keeps every quantity reproducible whatever else is computed and in
// whatever order.
type Bootstrap struct {
	// Reps is the number of replicates (0 means DefaultReps).
	Reps int
	// Seed and Stream seed the random numbers.
	Seed, Stream uint64
	// Level is the confidence level (0 means 0.95).
	Level float64
}

// WithStream returns b with Stream set to s.
func (b Bootstrap) WithStream(s uint64) Bootstrap {
	b.Stream = s
	return b
}

func (b Bootstrap) reps() int {
	if b.Reps <= 0 {
		return DefaultReps
	}
	return b.Reps
}

// percentiles returns the interval's two percentiles (in %).
func (b Bootstrap) percentiles() (lo, hi float64) {
	l := b.Level
	if l <= 0 || l >= 1 {
		l = 0.95
	}
	return 50 * (1 - l), 50 * (1 + l)
}

// interval returns the percentile interval of the replicates (reordered).
func (b Bootstrap) interval(value float64, reps []float64) Interval {
	plo, phi := b.percentiles()
	return Interval{Value: value, Lo: Percentile(reps, plo), Hi: Percentile(reps, phi)}
}

// drawer draws uniform indices from a PCG stream, two per 64-bit output:
// ⌊u·n/2³²⌋ of a 32-bit u (Lemire's multiply-shift without rejection; its
// bias, below n/2³², is far under the bootstrap's Monte Carlo error).
type drawer struct {
	pcg  *rand.PCG
	bits uint64
	have bool
}

func newDrawer(b Bootstrap) *drawer {
	return &drawer{pcg: rand.NewPCG(b.Seed, b.Stream)}
}

func (d *drawer) intn(n int) int {
	var u uint64
	if d.have {
		u = d.bits >> 32
		d.have = false
	} else {
		d.bits = d.pcg.Uint64()
		u = d.bits & 0xffffffff
		d.have = true
	}
	return int((u * uint64(n)) >> 32)
}

// Aggregates are rliable's four aggregate metrics with their intervals.
type Aggregates struct {
	Mean, Median, IQM, OptimalityGap Interval
}

// Aggregates computes Mean, Median, IQM and OptimalityGap of s with their
// intervals. The optimality gap is of the scores normalised by
// Normalize(s, lo, hi). Every replicate computes all four on one resample,
// as rliable does with a vector-valued aggregate function. It allocates
// only its buffers: the replicate loop is allocation-free and sorts
// nothing (the resample is kept as counts over the globally sorted scores).
func (b Bootstrap) Aggregates(s Scores, lo, hi float64) (Aggregates, error) {
	if err := s.check(); err != nil {
		return Aggregates{}, err
	}
	e := newStrat(s, lo, hi)
	var a Aggregates
	a.Mean.Value = Mean(s)
	a.Median.Value = Median(s)
	a.IQM.Value = IQM(s)
	a.OptimalityGap.Value = OptimalityGap(Normalize(s, lo, hi))
	n := b.reps()
	rep := make([]float64, 4*n)
	d := newDrawer(b)
	for r := 0; r < n; r++ {
		e.resample(d)
		rep[r], rep[n+r], rep[2*n+r], rep[3*n+r] = e.aggregates()
	}
	for i, iv := range []*Interval{&a.Mean, &a.Median, &a.IQM, &a.OptimalityGap} {
		*iv = b.interval(iv.Value, rep[i*n:(i+1)*n])
	}
	return a, nil
}

// IQMInterval is IQM(s) with its interval.
func (b Bootstrap) IQMInterval(s Scores) (Interval, error) {
	if err := s.check(); err != nil {
		return Interval{}, err
	}
	e := newStrat(s, 0, 1)
	n := b.reps()
	rep := make([]float64, n)
	d := newDrawer(b)
	for r := range rep {
		e.resample(d)
		rep[r] = e.iqm()
	}
	return b.interval(IQM(s), rep), nil
}

// strat is one resample of a Scores, held as counts over the globally
// sorted scores, and the buffers of the replicate loop.
type strat struct {
	vals    [][]float64 // per task, sorted ascending
	rank    [][]int32   // global rank of vals[t][j]
	clipped [][]float64 // min(normalised vals[t][j], 1)
	sorted  []float64   // every score, ascending
	counts  []int32     // counts[rank] in the current resample
	local   [][]int32   // per task, counts[j] of the resample (tests only; nil)
	taskSum []float64
	means   []float64
	gapSum  float64
}

func newStrat(s Scores, lo, hi float64) *strat {
	type item struct {
		v    float64
		t, j int
	}
	e := &strat{vals: make([][]float64, len(s)), rank: make([][]int32, len(s)), clipped: make([][]float64, len(s)),
		taskSum: make([]float64, len(s)), means: make([]float64, len(s))}
	var all []item
	for t, x := range s {
		v := slices.Clone(x)
		slices.Sort(v)
		e.vals[t] = v
		e.rank[t] = make([]int32, len(v))
		e.clipped[t] = make([]float64, len(v))
		for j, x := range v {
			e.clipped[t][j] = min((x-lo)/(hi-lo), 1)
			all = append(all, item{x, t, j})
		}
	}
	slices.SortStableFunc(all, func(a, b item) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	e.sorted = make([]float64, len(all))
	for r, it := range all {
		e.sorted[r] = it.v
		e.rank[it.t][it.j] = int32(r)
	}
	e.counts = make([]int32, len(all))
	return e
}

// resample draws a new stratified resample.
func (e *strat) resample(d *drawer) {
	clear(e.counts)
	gap := 0.0
	for t, v := range e.vals {
		n := len(v)
		rank, clip := e.rank[t], e.clipped[t]
		sum := 0.0
		if e.local != nil {
			clear(e.local[t])
		}
		for range n {
			k := d.intn(n)
			e.counts[rank[k]]++
			sum += v[k]
			gap += clip[k]
			if e.local != nil {
				e.local[t][k]++
			}
		}
		e.taskSum[t] = sum
	}
	e.gapSum = gap
}

// aggregates returns mean, median, IQM and optimality gap of the resample.
func (e *strat) aggregates() (mean, med, iqm, gap float64) {
	n := len(e.sorted)
	for t, s := range e.taskSum {
		e.means[t] = s / float64(len(e.vals[t]))
		mean += e.means[t]
	}
	mean /= float64(len(e.vals))
	cut := n / 4 // int(0.25·n), as trim_mean
	lo, hi := cut, n-cut
	m1, m2 := (n-1)/2, n/2
	var v1, v2, sum float64
	pos := 0
	for r, c32 := range e.counts {
		if c32 == 0 {
			continue
		}
		c := int(c32)
		x := e.sorted[r]
		if a, b := max(pos, lo), min(pos+c, hi); b > a {
			sum += float64(b-a) * x
		}
		if pos <= m1 && m1 < pos+c {
			v1 = x
		}
		if pos <= m2 && m2 < pos+c {
			v2 = x
		}
		pos += c
		if pos >= hi && pos > m2 {
			break
		}
	}
	iqm = sum / float64(hi-lo)
	if len(e.vals) == 1 {
		med = (v1 + v2) / 2
	} else {
		med = median(e.means)
	}
	gap = 1 - e.gapSum/float64(n)
	return mean, med, iqm, gap
}

// iqm returns the IQM of the resample.
func (e *strat) iqm() float64 {
	n := len(e.sorted)
	cut := n / 4
	lo, hi := cut, n-cut
	sum := 0.0
	pos := 0
	for r, c32 := range e.counts {
		if c32 == 0 {
			continue
		}
		c := int(c32)
		if a, b := max(pos, lo), min(pos+c, hi); b > a {
			sum += float64(b-a) * e.sorted[r]
		}
		pos += c
		if pos >= hi {
			break
		}
	}
	return sum / float64(hi-lo)
}

// nan is an Interval of NaNs.
func nanInterval() Interval {
	return Interval{math.NaN(), math.NaN(), math.NaN()}
}
