package jobs

import (
	"fmt"
	"math"
	"strings"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// planeBins is the side of the grid on which the maps' coverage contour
// counts the buffer's states.
const planeBins = 40

// nearStd is how close, in standard deviations of each observation value,
// a buffer state must be to the plane point it projects to for it to count
// as lying on the plane.
const nearStd = 0.25

// bareShare is the share of the cells the buffer's states project to that
// may hold none of them near the plane before the maps warn that the plane
// leaves the data.
const bareShare = 0.25

// PlaneData says where the replay buffer's states lie relative to a plane:
// what the maps' coverage contour and warnings are drawn from.
type PlaneData struct {
	// Counts holds the states near the plane per cell of a Bins × Bins grid
	// over the plane's extent, row-major, row 0 at the bottom.
	Counts []float64
	Bins   int
	// Near counts the states within nearStd standard deviations of the
	// plane in every observation value; Total counts all finite states.
	Near, Total int
	// Shadow counts the cells some state projects to; Bare, those of them
	// where no state is near the plane.
	Shadow, Bare int
}

// Leaves says whether the plane leaves the data: in more than bareShare
// of the cells where the buffer's states project, none lies near the
// plane (e.g. cos θ × θ̇ with sin θ fixed: the plane's points are not
// states the pendulum can be in).
func (d *PlaneData) Leaves() bool {
	return d.Total > 0 && float64(d.Bare) > bareShare*float64(d.Shadow)
}

// measureData projects every state of b onto the plane, maps the
// projection back to an observation and counts the states whose every
// value is within nearStd standard deviations of it.
func (pl *Plane) measureData(b *loaders.ReplayBuffer) *PlaneData {
	d := b.ObsDim
	tol := make([]float64, d)
	for i := range tol {
		s := float64(statsOf(b.Obs, i, d).Std)
		if !(s > 0) || math.IsNaN(s) {
			s = 0
		}
		tol[i] = math.Max(nearStd*s, 1e-6)
	}
	xlo, xhi, ylo, yhi := pl.Extent()
	sx, sy := scaleOf(pl.X), scaleOf(pl.Y)
	n := planeBins
	pd := &PlaneData{Counts: make([]float64, n*n), Bins: n}
	shadow := make([]bool, n*n)
	back := make([]float32, d)
	for r := 0; r < b.Size; r++ {
		obs := b.Obs[r*d : (r+1)*d]
		x, y := pl.Project(obs)
		fx, fy := float64(x), float64(y)
		if !finite(fx) || !finite(fy) {
			continue
		}
		pd.Total++
		if fx < xlo || fx > xhi || fy < ylo || fy > yhi {
			continue
		}
		cell := min(int((fy-ylo)/(yhi-ylo)*float64(n)), n-1)*n + min(int((fx-xlo)/(xhi-xlo)*float64(n)), n-1)
		shadow[cell] = true
		pl.mapObs(fx/sx, fy/sy, back)
		near := true
		for i, v := range obs {
			if math.Abs(float64(v)-float64(back[i])) > tol[i] {
				near = false
				break
			}
		}
		if near {
			pd.Near++
			pd.Counts[cell]++
		}
	}
	for i, s := range shadow {
		if s {
			pd.Shadow++
			if pd.Counts[i] == 0 {
				pd.Bare++
			}
		}
	}
	return pd
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// decorateMap draws over a map of the plane the buffer's coverage contour
// and writes under it the values held fixed and, when the plane leaves the
// data, a warning.
func decorateMap(fig *plotting.Figure, pl *Plane) {
	if fig == nil || fig.Plot() == nil {
		return
	}
	if pd := pl.Data; pd != nil && pd.Near > 0 {
		xlo, xhi, ylo, yhi := pl.Extent()
		plotting.AddCoverageContour(fig.Plot(), pd.Counts, pd.Bins, pd.Bins, xlo, xhi, ylo, yhi)
		fig.Footer = append(fig.Footer, plotting.FooterLine{Text: plotting.CoverageLegend})
	}
	if len(pl.Fixed) > 0 {
		var f []string
		for _, v := range pl.Fixed {
			f = append(f, fmt.Sprintf("%s = %.4g", plotLabel(v.Name), v.Value))
		}
		fig.Footer = append(fig.Footer, plotting.FooterLine{Text: "Held fixed off the plane: " + strings.Join(f, ", ") + "."})
	}
	if w := pl.DataWarning(); w != "" {
		fig.Footer = append(fig.Footer, plotting.FooterLine{Text: plotLabel(w), Warn: true})
	}
}

// DataWarning says, in a line, that the plane leaves the buffer's data and
// how far; "" when it does not or there is no buffer.
func (pl *Plane) DataWarning() string {
	pd := pl.Data
	switch {
	case pd == nil || pd.Total == 0:
		return ""
	case pd.Near == 0:
		return "Warning: no buffer state lies on this plane: every map value is an extrapolation."
	case pd.Leaves():
		return fmt.Sprintf("Warning: the plane leaves the data: %.0f%% of the buffer's states lie near it, and %.0f%% of the cells they project to hold none (the maps there show states never visited).",
			100*float64(pd.Near)/float64(pd.Total), 100*float64(pd.Bare)/float64(max(pd.Shadow, 1)))
	}
	return ""
}
