package jobs

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// AxisSpec is one entry of --axes: an observation (index or name, or a
// preset's axis) and, when Ranged, its range.
type AxisSpec struct {
	Dim    string
	Lo, Hi float64
	Ranged bool
}

// PlaneSpec is what the user asked of the maps' plane.
type PlaneSpec struct {
	// Preset names a preset; "" picks one by environment, "none" none.
	Preset string
	// Axes are none (the default plane) or two: x (columns), then y (rows).
	Axes []AxisSpec
	// Fix sets observation values off the plane, by index or name.
	Fix map[string]float64
}

// ParseAxes parses --axes: "I:LO:HI,J:LO:HI" (or "I,J" for default
// ranges), I and J observation indices or names.
func ParseAxes(s string) ([]AxisSpec, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("--axes %q: want two axes, I:LO:HI,J:LO:HI", s)
	}
	var out []AxisSpec
	for _, p := range parts {
		f := strings.Split(strings.TrimSpace(p), ":")
		a := AxisSpec{Dim: f[0]}
		switch {
		case a.Dim == "":
			return nil, fmt.Errorf("--axes %q: empty axis name", s)
		case len(f) == 3:
			var err1, err2 error
			a.Lo, err1 = strconv.ParseFloat(f[1], 64)
			a.Hi, err2 = strconv.ParseFloat(f[2], 64)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("--axes %q: %v", s, err)
			}
			if !(a.Lo < a.Hi) || math.IsInf(a.Lo, 0) || math.IsInf(a.Hi, 0) {
				return nil, fmt.Errorf("--axes %q: axis %s needs finite LO < HI", s, a.Dim)
			}
			a.Ranged = true
		case len(f) != 1:
			return nil, fmt.Errorf("--axes %q: want I:LO:HI or I, got %q", s, p)
		}
		out = append(out, a)
	}
	if out[0].Dim == out[1].Dim {
		return nil, fmt.Errorf("--axes %q: the two axes must differ", s)
	}
	return out, nil
}

// ParseFix parses --fix: "K=V,..." with K an observation index or name.
func ParseFix(s string) (map[string]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := map[string]float64{}
	for _, p := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--fix %q: want K=V,... , got %q", s, p)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("--fix %q: %s: want a finite number, got %q", s, k, v)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("--fix %q: %s given twice", s, k)
		}
		m[k] = f
	}
	return m, nil
}

// Plane is the resolved state plane of a run's maps, phase portrait and
// coverage: two axes, how an observation follows from them, and the
// values of the observations off the plane.
type Plane struct {
	// Preset names the preset used ("" for none).
	Preset string
	// X varies along columns, Y along rows.
	X, Y PlaneAxis
	// Fixed are the observation values off the plane.
	Fixed []FixedValue
	// ObsNames label every observation value.
	ObsNames []string
	// HistObs are the observation values the buffer histograms show.
	HistObs []int
	// Action names the action in titles.
	Action string
	// Line is the 1-D policy curve, nil for none.
	Line *PresetLine
	// Data says where the replay buffer's states lie relative to the
	// plane; nil without a buffer.
	Data *PlaneData

	obs  []ObsTerm
	base []float64
}

// PlaneAxis is one resolved axis.
type PlaneAxis struct {
	// Key names the axis (a preset axis or an observation value).
	Key string `json:"key"`
	// Label labels plots, with its unit.
	Label string `json:"label"`
	// Lo and Hi are the grid's range in the axis's own units (the
	// pendulum's θ in radians).
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// Scale converts the axis's units to the plot's (180/π for θ in
	// degrees); 0 means 1.
	Scale float64   `json:"plot_scale,omitempty"`
	Ticks []float64 `json:"-"`
	From  AxisFrom  `json:"-"`
}

// FixedValue is an observation value held fixed across the plane.
type FixedValue struct {
	Index int     `json:"index"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// errNoGrid: the maps need two observation values.
var errNoGrid = errors.New("the observation space has fewer than two values: no state grid")

// obsDimOf returns the run's observation size (0 when unknown).
func obsDimOf(r *loaders.Run) int {
	if r.Buffer.V != nil {
		return r.Buffer.V.ObsDim
	}
	for _, role := range loaders.Roles {
		if n := r.Net(role); n != nil {
			return n.ObsDim
		}
	}
	return 0
}

// ResolvePlane picks the plane of a run's pictures from spec, the run's
// preset and its buffer: without --axes, the preset's plane, or the two
// observation values of largest buffer variance over their 0.5%–99.5%
// quantiles, or without a buffer the two of widest finite range in the
// observation space the run records, over that range; values off the
// plane at --fix, else the buffer's mean, else 0.
func ResolvePlane(r *loaders.Run, spec PlaneSpec) (*Plane, error) {
	d := obsDimOf(r)
	var p *Preset
	switch spec.Preset {
	case "":
		p = PresetFor(r, d)
	case "none":
	default:
		if p = PresetByName(spec.Preset); p == nil {
			return nil, fmt.Errorf("--preset %q: unknown, want one of %s or none", spec.Preset, strings.Join(PresetNames(), ", "))
		}
		if len(p.Obs) != d {
			return nil, planeUsage{fmt.Errorf("--preset %s describes %d observation values, the run has %d", p.Name, len(p.Obs), d)}
		}
	}
	if d < 2 {
		return nil, errNoGrid
	}
	pl := &Plane{ObsNames: make([]string, d), base: make([]float64, d), Action: "action"}
	var keys []string
	for i := range pl.ObsNames {
		pl.ObsNames[i] = fmt.Sprintf("obs[%d]", i)
	}
	if p != nil {
		pl.Preset, keys, pl.HistObs = p.Name, p.ObsKeys, p.HistObs
		copy(pl.ObsNames, p.ObsNames)
		if p.Action != "" {
			pl.Action = p.Action
		}
	}
	if b := r.Buffer.V; b != nil && b.Size > 0 && b.ObsDim == d {
		for i := range pl.base {
			pl.base[i] = float64(statsOf(b.Obs, i, d).Mean)
		}
	}
	dim := func(name string) (int, error) {
		if i := slices.Index(keys, name); i >= 0 {
			return i, nil
		}
		if i := slices.Index(pl.ObsNames, name); i >= 0 {
			return i, nil
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < d {
			return i, nil
		}
		return 0, fmt.Errorf("no observation %q: the run has %s", name, obsChoices(d, keys))
	}
	if err := pl.setAxes(r, p, spec.Axes, dim); err != nil {
		return nil, planeUsage{err}
	}
	for _, k := range sortedKeys(spec.Fix) {
		i, err := dim(k)
		if err != nil {
			return nil, planeUsage{fmt.Errorf("--fix: %w", err)}
		}
		if pl.obs[i].Axis >= 0 {
			return nil, planeUsage{fmt.Errorf("--fix %s: %s is on the plane's axes", k, pl.ObsNames[i])}
		}
		pl.base[i] = spec.Fix[k]
	}
	for i, t := range pl.obs {
		if t.Axis < 0 {
			pl.Fixed = append(pl.Fixed, FixedValue{i, pl.ObsNames[i], pl.base[i]})
		}
	}
	if b := r.Buffer.V; b != nil && b.Size > 0 && b.ObsDim == d {
		pl.Data = pl.measureData(b)
	}
	return pl, nil
}

// setAxes chooses the plane's axes: the preset's own (when asked by their
// keys or by default), or two observation values.
func (pl *Plane) setAxes(r *loaders.Run, p *Preset, axes []AxisSpec, dim func(string) (int, error)) error {
	if p != nil {
		order := []int{0, 1}
		if len(axes) == 2 {
			order = []int{-1, -1}
			for k, a := range axes {
				for i, pa := range p.Axes {
					if pa.Key == a.Dim {
						order[k] = i
					}
				}
			}
		}
		if order[0] >= 0 && order[1] >= 0 {
			var ax [2]PlaneAxis
			for k, i := range order {
				pa := p.Axes[i]
				ax[k] = PlaneAxis{Key: pa.Key, Label: withUnit(pa.Label, pa.Unit), Lo: pa.Lo, Hi: pa.Hi, Scale: pa.Scale, Ticks: pa.Ticks, From: pa.From}
				if len(axes) == 2 && axes[k].Ranged {
					ax[k].Lo, ax[k].Hi = axes[k].Lo, axes[k].Hi
				}
			}
			pl.X, pl.Y = ax[0], ax[1]
			for _, t := range p.Obs {
				if t.Axis >= 0 {
					t.Axis = slices.Index(order, t.Axis)
				}
				pl.obs = append(pl.obs, t)
			}
			if l := p.Line; l != nil {
				line := *l
				line.Axis = slices.Index(order, l.Axis)
				pl.Line = &line
			}
			return nil
		}
	}
	d := len(pl.base)
	idx := [2]int{}
	if len(axes) == 2 {
		for k, a := range axes {
			i, err := dim(a.Dim)
			if err != nil {
				if p != nil {
					var axes []string
					for _, pa := range p.Axes {
						axes = append(axes, pa.Key)
					}
					return fmt.Errorf("--axes: %w, and preset %s's axes %s", err, p.Name, strings.Join(axes, ", "))
				}
				return fmt.Errorf("--axes: %w", err)
			}
			idx[k] = i
		}
		if idx[0] == idx[1] {
			return fmt.Errorf("--axes: %s and %s are the same observation value", axes[0].Dim, axes[1].Dim)
		}
	} else if hasBuffer(r.Buffer.V, d) {
		idx = widestDims(r.Buffer.V, d)
	} else {
		var ok bool
		if idx, ok = widestBounded(r, d); !ok {
			return errNoPlane
		}
	}
	pl.obs = make([]ObsTerm, d)
	for i := range pl.obs {
		pl.obs[i].Axis = -1
	}
	var ax [2]PlaneAxis
	for k, i := range idx {
		pl.obs[i].Axis = k
		lo, hi := quantileRange(r.Buffer.V, i, d)
		if !hasBuffer(r.Buffer.V, d) {
			var ok bool
			if lo, hi, ok = obsBounds(r, i, d); !ok && !(len(axes) == 2 && axes[k].Ranged) {
				return fmt.Errorf("%s has no replay buffer and no finite bounds in its observation space: %w", pl.ObsNames[i], errNoPlane)
			}
		}
		if len(axes) == 2 && axes[k].Ranged {
			lo, hi = axes[k].Lo, axes[k].Hi
		}
		key := strconv.Itoa(i)
		ax[k] = PlaneAxis{Key: key, Label: pl.ObsNames[i], Lo: lo, Hi: hi, From: AxisFrom{"", []int{i}}}
	}
	pl.X, pl.Y = ax[0], ax[1]
	return nil
}

func withUnit(label, unit string) string {
	if unit == "" {
		return label
	}
	return label + " (" + unit + ")"
}

// obsChoices says which observation values --axes and --fix may name:
// the indices and the preset's keys.
func obsChoices(d int, keys []string) string {
	s := fmt.Sprintf("observation values 0..%d", d-1)
	if len(keys) > 0 {
		s += " (" + strings.Join(keys, ", ") + ")"
	}
	return s
}

// planeUsage is an error in what --preset, --axes or --fix ask of a run:
// errors.Is(err, ErrUsage), without ": usage" in its message (it lands in
// summaries).
type planeUsage struct{ error }

func (e planeUsage) Unwrap() error      { return e.error }
func (planeUsage) Is(target error) bool { return target == ErrUsage }

func sortedKeys(m map[string]float64) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// errNoPlane: without a buffer or a preset, the plane comes from the
// observation space's bounds, which this run does not record.
var errNoPlane = errors.New("no preset, no replay buffer and no finite observation bounds to choose the maps' plane from: " +
	"name it with --axes I:LO:HI,J:LO:HI (observation indices and ranges), or --preset")

// hasBuffer says whether b holds observations of size d.
func hasBuffer(b *loaders.ReplayBuffer, d int) bool { return b != nil && b.Size > 0 && b.ObsDim == d }

// obsBounds returns observation value i's bounds in the run's observation
// space, ok only when both are finite and lo < hi.
func obsBounds(r *loaders.Run, i, d int) (lo, hi float64, ok bool) {
	if len(r.ObsLow) != d || len(r.ObsHigh) != d {
		return 0, 0, false
	}
	lo, hi = r.ObsLow[i], r.ObsHigh[i]
	return lo, hi, !math.IsInf(lo, 0) && !math.IsInf(hi, 0) && lo < hi
}

// widestBounded returns the two observation values of widest finite range
// in the run's observation space, in index order; ok is false when fewer
// than two have finite bounds.
func widestBounded(r *loaders.Run, d int) (idx [2]int, ok bool) {
	best := [2]int{-1, -1}
	width := func(i int) float64 {
		lo, hi, _ := obsBounds(r, i, d)
		return hi - lo
	}
	for i := 0; i < d; i++ {
		if _, _, ok := obsBounds(r, i, d); !ok {
			continue
		}
		switch {
		case best[0] < 0 || width(i) > width(best[0]):
			best = [2]int{i, best[0]}
		case best[1] < 0 || width(i) > width(best[1]):
			best[1] = i
		}
	}
	if best[1] < 0 {
		return best, false
	}
	if best[0] > best[1] {
		best[0], best[1] = best[1], best[0]
	}
	return best, true
}

// widestDims returns the two observation values of largest buffer variance
// in index order (0 and 1 without a buffer).
func widestDims(b *loaders.ReplayBuffer, d int) [2]int {
	if b == nil || b.Size == 0 || b.ObsDim != d {
		return [2]int{0, 1}
	}
	v := make([]float64, d)
	for i := range v {
		s := float64(statsOf(b.Obs, i, d).Std)
		if math.IsNaN(s) {
			s = -1
		}
		v[i] = s
	}
	best := [2]int{0, 1}
	if v[1] > v[0] {
		best = [2]int{1, 0}
	}
	for i := 2; i < d; i++ {
		switch {
		case v[i] > v[best[0]]:
			best = [2]int{i, best[0]}
		case v[i] > v[best[1]]:
			best[1] = i
		}
	}
	if best[0] > best[1] {
		best[0], best[1] = best[1], best[0]
	}
	return best
}

// quantileRange returns the 0.5% and 99.5% quantiles of observation value
// i over the buffer (numpy's linear interpolation), [-1, 1] without one,
// widened by 1 each way when they coincide.
func quantileRange(b *loaders.ReplayBuffer, i, d int) (lo, hi float64) {
	if b == nil || b.Size == 0 || b.ObsDim != d {
		return -1, 1
	}
	col := make([]float64, 0, b.Size)
	for k := i; k < len(b.Obs); k += d {
		if x := float64(b.Obs[k]); !math.IsNaN(x) && !math.IsInf(x, 0) {
			col = append(col, x)
		}
	}
	if len(col) == 0 {
		return -1, 1
	}
	slices.Sort(col)
	lo, hi = quantile(col, 0.005), quantile(col, 0.995)
	if !(lo < hi) {
		lo, hi = lo-1, hi+1
	}
	return lo, hi
}

// quantile is numpy.quantile(sorted, q) with linear interpolation.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (sorted[i+1]-sorted[i])*(pos-float64(i))
}

// Grid returns the n×n state grid: X.Lo..X.Hi along columns, Y.Lo..Y.Hi
// along rows (origin lower-left), each linspace(Lo, Hi, n).
func (pl *Plane) Grid(n int) *graph.Grid {
	return &graph.Grid{X: graph.Axis{Lo: pl.X.Lo, Hi: pl.X.Hi, N: n}, Y: graph.Axis{Lo: pl.Y.Lo, Hi: pl.Y.Hi, N: n},
		ObsDim: len(pl.obs), Map: pl.mapObs}
}

// mapObs writes the observation of plane point (x, y), computed in float64
// and rounded once to float32, as the notebooks do.
func (pl *Plane) mapObs(x, y float64, obs []float32) {
	for d, t := range pl.obs {
		obs[d] = float32(pl.obsValue(t, d, x, y))
	}
}

// ObsAt writes the float64 observation of plane point (x, y): what mapObs
// rounds to float32.
func (pl *Plane) ObsAt(x, y float64, obs []float64) {
	for d, t := range pl.obs {
		obs[d] = pl.obsValue(t, d, x, y)
	}
}

func (pl *Plane) obsValue(t ObsTerm, d int, x, y float64) float64 {
	if t.Axis < 0 {
		return pl.base[d]
	}
	v := x
	if t.Axis == 1 {
		v = y
	}
	switch t.Fn {
	case "cos":
		v = math.Cos(v)
	case "sin":
		v = math.Sin(v)
	}
	return v
}

// LineGrid returns the n points of the 1-D policy curve (nil without one)
// and the plot x of point i.
func (pl *Plane) LineGrid(n int) (*graph.Grid, func(i int) float64) {
	l := pl.Line
	if l == nil {
		return nil, nil
	}
	ax := pl.X
	m := pl.mapObs
	if l.Axis == 1 {
		ax = pl.Y
		m = func(x, y float64, obs []float32) { pl.mapObs(y, x, obs) }
	}
	g := &graph.Grid{X: graph.Axis{Lo: ax.Lo, Hi: ax.Hi, N: n}, Y: graph.Axis{Lo: l.At, Hi: l.At, N: 1}, ObsDim: len(pl.obs), Map: m}
	return g, func(i int) float64 { return g.X.At(i) * scaleOf(ax) }
}

func scaleOf(a PlaneAxis) float64 {
	if a.Scale == 0 {
		return 1
	}
	return a.Scale
}

// Project returns the plot coordinates of an observation on the plane, in
// float32 as the notebook computes them (θ = arctan2 of float32 arrays).
func (pl *Plane) Project(obs []float32) (x, y float32) {
	return project(pl.X, obs), project(pl.Y, obs)
}

func project(a PlaneAxis, obs []float32) float32 {
	var v float32
	switch a.From.Fn {
	case "atan2":
		v = float32(math.Atan2(float64(obs[a.From.Obs[0]]), float64(obs[a.From.Obs[1]])))
	default:
		v = obs[a.From.Obs[0]]
	}
	if s := scaleOf(a); s != 1 {
		v *= float32(s)
	}
	return v
}

// Extent returns the plane's range in plot units.
func (pl *Plane) Extent() (xlo, xhi, ylo, yhi float64) {
	sx, sy := scaleOf(pl.X), scaleOf(pl.Y)
	return pl.X.Lo * sx, pl.X.Hi * sx, pl.Y.Lo * sy, pl.Y.Hi * sy
}

// Describe says in one line which preset, axes, ranges and fixed values
// the plane uses.
func (pl *Plane) Describe() string {
	var b strings.Builder
	if pl.Preset != "" {
		fmt.Fprintf(&b, "preset %s; ", pl.Preset)
	}
	xlo, xhi, ylo, yhi := pl.Extent()
	fmt.Fprintf(&b, "x = %s over [%.6g, %.6g], y = %s over [%.6g, %.6g]", pl.X.Label, xlo, xhi, pl.Y.Label, ylo, yhi)
	if f := pl.FixedText(); f != "" {
		b.WriteString("; fixed " + f)
	}
	return b.String()
}

// FixedText lists the observation values held fixed off the plane
// ("sin θ = 0, θ̇ = 1"); "" for none.
func (pl *Plane) FixedText() string {
	var f []string
	for _, v := range pl.Fixed {
		f = append(f, fmt.Sprintf("%s = %.6g", v.Name, v.Value))
	}
	return strings.Join(f, ", ")
}

// PlaneNeedsBuffer says whether the plane of spec takes defaults from the
// run's buffer (the axes or their ranges, or the values off the plane), so
// a caller that can skip loading a large buffer knows when not to.
func PlaneNeedsBuffer(r *loaders.Run, spec PlaneSpec) bool {
	d := obsDimOf(r)
	p := PresetFor(r, d)
	if spec.Preset != "" {
		p = PresetByName(spec.Preset)
	}
	if p != nil && len(p.Obs) == d {
		if len(spec.Axes) == 0 {
			return slices.ContainsFunc(p.Obs, func(t ObsTerm) bool { return t.Axis < 0 })
		}
		keys := 0
		for _, a := range spec.Axes {
			for _, pa := range p.Axes {
				if pa.Key == a.Dim {
					keys++
				}
			}
		}
		if keys == 2 {
			return false
		}
	}
	if len(spec.Axes) != 2 || !spec.Axes[0].Ranged || !spec.Axes[1].Ranged {
		return true
	}
	return len(spec.Fix) < d-2
}
