package plotting

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// Ticks places labelled ticks at multiples of 1, 2, 2.5 or 5 times a power
// of ten, at most N+1 of them, like matplotlib's default MaxNLocator (gonum's
// DefaultTicks labels only about three).
type Ticks struct {
	// N is the largest number of intervals between ticks; 0 means 8.
	N int
}

// Ticks implements plot.Ticker.
func (t Ticks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: formatTick(lo, 0)}}
	}
	n := t.N
	if n <= 0 {
		n = 8
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	// Decimals that show every tick exactly: one more for steps of 2.5
	// below 10 (0.25, 2.5); none for 25, 2500.
	exp := int(math.Floor(math.Log10(step) + 1e-9))
	extra := 0
	if r := step / math.Pow(10, float64(exp)); math.Abs(r-2.5) < 1e-9 {
		extra = 1
	}
	dec := max(0, extra-exp)
	var ticks []plot.Tick
	eps := step * 1e-9
	for k := math.Ceil((lo - eps) / step); k*step <= hi+eps; k++ {
		v := k * step
		if math.Abs(v) < eps {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, dec)})
	}
	return ticks
}

// formatTick writes v with dec decimals, or in exponent form when it is
// very large or very small.
func formatTick(v float64, dec int) string {
	if a := math.Abs(v); a != 0 && (a >= 1e6 || a < 1e-4) {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// logTicks returns ticks at the integer exponents in [lo, hi] (log10 of
// the values), labelled with the values: 1, 10, 100, 1000, 1e+04... Fewer
// than two decades get ticks at 2× and 5× too.
func logTicks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for k := math.Ceil(lo - 1e-9); k <= hi+1e-9; k++ {
		out = append(out, plot.Tick{Value: k, Label: formatPow10(k, 1)})
		if hi-lo < 2 {
			for _, m := range []float64{2, 5} {
				if v := k + math.Log10(m); v <= hi+1e-9 {
					out = append(out, plot.Tick{Value: v, Label: formatPow10(k, m)})
				}
			}
		}
	}
	if hi-lo < 2 {
		if k := math.Ceil(lo-1e-9) - 1; k+math.Log10(5) >= lo-1e-9 {
			out = append([]plot.Tick{{Value: k + math.Log10(5), Label: formatPow10(k, 5)}}, out...)
		}
	}
	return out
}

// formatPow10 writes m × 10^k.
func formatPow10(k, m float64) string {
	return formatTick(m*math.Pow(10, k), max(0, int(-k)))
}
