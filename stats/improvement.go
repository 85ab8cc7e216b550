package stats

import (
	"errors"
	"math"
	"slices"
)

// ErrTaskMismatch is returned when two Scores compared task by task hold
// different numbers of tasks.
var ErrTaskMismatch = errors.New("stats: the two score sets hold different numbers of tasks")

// ProbabilityOfImprovement is rliable's probability_of_improvement: the
// mean over tasks of P(X > Y) + ½·P(X = Y) for a run X of x and a run Y of
// y of that task, which is the Mann–Whitney U statistic of x against y
// divided by n·m.
func ProbabilityOfImprovement(x, y Scores) (float64, error) {
	if err := x.check(); err != nil {
		return math.NaN(), err
	}
	if err := y.check(); err != nil {
		return math.NaN(), err
	}
	if len(x) != len(y) {
		return math.NaN(), ErrTaskMismatch
	}
	p := 0.0
	for t := range x {
		u := 0.0
		for _, a := range x[t] {
			for _, b := range y[t] {
				switch {
				case a > b:
					u++
				case a == b:
					u += 0.5
				}
			}
		}
		p += u / float64(len(x[t])*len(y[t]))
	}
	return p / float64(len(x)), nil
}

// Improvement is ProbabilityOfImprovement(x, y) with its interval: each
// replicate resamples the runs of x and of y independently within every
// task (rliable's StratifiedIndependentBootstrap).
func (b Bootstrap) Improvement(x, y Scores) (Interval, error) {
	p, err := ProbabilityOfImprovement(x, y)
	if err != nil {
		return nanInterval(), err
	}
	tasks := make([]pairTask, len(x))
	for t := range x {
		tasks[t] = newPairTask(x[t], y[t])
	}
	n := b.reps()
	rep := make([]float64, n)
	d := newDrawer(b)
	for r := range rep {
		s := 0.0
		for i := range tasks {
			s += tasks[i].replicate(d)
		}
		rep[r] = s / float64(len(tasks))
	}
	return b.interval(p, rep), nil
}

// pairTask holds one task of a comparison: the id of every run's score
// among the distinct scores of both sides, in ascending order, and the
// counts of a resample over those ids.
type pairTask struct {
	idX, idY []int32
	cx, cy   []int32
}

func newPairTask(x, y []float64) pairTask {
	vals := append(slices.Clone(x), y...)
	slices.Sort(vals)
	vals = slices.Compact(vals)
	id := func(v []float64) []int32 {
		ids := make([]int32, len(v))
		for i, a := range v {
			k, _ := slices.BinarySearch(vals, a)
			ids[i] = int32(k)
		}
		return ids
	}
	return pairTask{idX: id(x), idY: id(y), cx: make([]int32, len(vals)), cy: make([]int32, len(vals))}
}

// replicate resamples both sides and returns U/(n·m) of the resample.
func (p *pairTask) replicate(d *drawer) float64 {
	clear(p.cx)
	clear(p.cy)
	n, m := len(p.idX), len(p.idY)
	for range n {
		p.cx[p.idX[d.intn(n)]]++
	}
	for range m {
		p.cy[p.idY[d.intn(m)]]++
	}
	// Walk the distinct values upwards: each x counts the y below it and
	// half the y equal to it.
	u, below := 0.0, 0
	for k, c := range p.cx {
		cy := int(p.cy[k])
		if c != 0 {
			u += float64(c) * (float64(below) + 0.5*float64(cy))
		}
		below += cy
	}
	return u / float64(n*m)
}
