package stats

// Curve is a sample-efficiency curve: the IQM across runs at each
// evaluation step, with its interval.
type Curve struct {
	Step []float64
	IQM  []Interval
}

// SampleEfficiency returns the IQM curve of runs given as step and value
// series (runs[i] at steps[i]): at each step that every run reached, the
// IQM of the runs' values there with its bootstrap interval (one task: the
// runs are resampled). Steps a run skipped are not on the curve. Each
// point's stream is b.Stream plus the point's index times 2³², so a curve
// is reproducible point by point.
func (b Bootstrap) SampleEfficiency(steps, values [][]float64) Curve {
	var c Curve
	if len(steps) == 0 {
		return c
	}
	// The common steps, in the first run's order.
	common := map[float64]int{}
	for i, s := range steps {
		seen := map[float64]bool{}
		for j, x := range s {
			if j < len(values[i]) && !seen[x] {
				seen[x] = true
				common[x]++
			}
		}
	}
	at := make([]map[float64]float64, len(steps))
	for i, s := range steps {
		at[i] = map[float64]float64{}
		for j, x := range s {
			if j < len(values[i]) {
				at[i][x] = values[i][j]
			}
		}
	}
	scores := make([]float64, len(steps))
	for k, x := range steps[0] {
		if common[x] != len(steps) || k >= len(values[0]) {
			continue
		}
		for i := range steps {
			scores[i] = at[i][x]
		}
		iv, err := b.WithStream(b.Stream + uint64(k)<<32).IQMInterval(Scores{scores})
		if err != nil {
			continue
		}
		c.Step = append(c.Step, x)
		c.IQM = append(c.IQM, iv)
	}
	return c
}
