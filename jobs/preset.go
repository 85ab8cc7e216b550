package jobs

import (
	"fmt"
	"math"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// Preset says how to map a run's observation space onto the 2-D pictures:
// the state grid of the policy and Q maps, the 1-D policy curve, and the
// plane of the phase portrait and coverage histogram. The pendulum's
// θ × θ̇ is one preset; any other observation space gets the generic one.
type Preset struct {
	// Name identifies the preset ("pendulum", "generic").
	Name string
	// ObsNames names each observation value (for tables and histograms).
	ObsNames []string
	// XLabel and YLabel label the map axes; XLo..XHi and YLo..YHi are the
	// map extent in plot units.
	XLabel, YLabel     string
	XLo, XHi, YLo, YHi float64
	// Grid returns the n×n state grid of the maps.
	Grid func(n int) *graph.Grid
	// Line returns the 1-D policy curve's states and LineX the plot x of
	// its point i; Line is nil when the preset has no such curve.
	Line  func(n int) *graph.Grid
	LineX func(g *graph.Grid, i int) float64
	// Project maps an observation to the plane of the phase portrait.
	Project func(obs []float32) (x, y float64)
}

// PresetFor picks the preset of a run: the pendulum's for 3-value
// observations of a Pendulum environment (or of an unnamed one), the
// generic one otherwise.
func PresetFor(r *loaders.Run) *Preset {
	obsDim := 0
	for _, n := range r.Nets {
		obsDim = n.ObsDim
		break
	}
	if r.Buffer != nil {
		obsDim = r.Buffer.ObsDim
	}
	env := ""
	if r.Config != nil {
		env = strings.ToLower(r.Config.Env.Name)
	}
	if obsDim == 3 && (env == "" || strings.Contains(env, "pendulum")) {
		return PendulumPreset()
	}
	return GenericPreset(r, obsDim)
}

// PendulumPreset is Pendulum-v1's θ ∈ [-π, π] (degrees on x) × θ̇ ∈ [-8, 8].
func PendulumPreset() *Preset {
	return &Preset{
		Name:     "pendulum",
		ObsNames: []string{"cos θ", "sin θ", "θ̇"},
		XLabel:   "θ (degrees)", YLabel: "θ̇ (rad/s)",
		XLo: -180, XHi: 180, YLo: -graph.PendulumMaxSpeed, YHi: graph.PendulumMaxSpeed,
		Grid: graph.PendulumGrid,
		Line: graph.PendulumLine,
		LineX: func(g *graph.Grid, i int) float64 {
			return g.X.At(i) * 180 / math.Pi
		},
		Project: func(obs []float32) (float64, float64) {
			// The notebook computes θ in float32: arctan2 of float32 arrays.
			th := float32(math.Atan2(float64(obs[1]), float64(obs[0])))
			return float64(th * (180 / math.Pi)), float64(obs[2])
		},
	}
}

// GenericPreset maps any observation space: the maps vary observation
// values 0 and 1 over the range the buffer saw (or [-1, 1]) and hold the
// others at the buffer's mean (or 0); the phase plane is (obs0, obs1).
func GenericPreset(r *loaders.Run, obsDim int) *Preset {
	names := make([]string, obsDim)
	for i := range names {
		names[i] = fmt.Sprintf("obs[%d]", i)
	}
	base := make([]float64, obsDim)
	lo, hi := []float64{-1, -1}, []float64{1, 1}
	if b := r.Buffer; b != nil && b.Size > 0 && obsDim >= 2 {
		for d := 0; d < obsDim; d++ {
			s := statsOf(b.Obs, d, obsDim)
			base[d] = float64(s.Mean)
			if d < 2 && float64(s.Max) > float64(s.Min) {
				lo[d], hi[d] = float64(s.Min), float64(s.Max)
			}
		}
	}
	p := &Preset{Name: "generic", ObsNames: names, XLabel: "obs[0]", YLabel: "obs[1]",
		XLo: lo[0], XHi: hi[0], YLo: lo[1], YHi: hi[1],
		Project: func(obs []float32) (float64, float64) { return float64(obs[0]), float64(obs[1]) },
	}
	if obsDim < 2 {
		p.YLabel = ""
		p.Project = func(obs []float32) (float64, float64) {
			if len(obs) == 0 {
				return 0, 0
			}
			return float64(obs[0]), 0
		}
		return p
	}
	p.Grid = func(n int) *graph.Grid {
		g, _ := graph.NewCoordGrid(base, 0, graph.Axis{Lo: lo[0], Hi: hi[0], N: n}, 1, graph.Axis{Lo: lo[1], Hi: hi[1], N: n})
		return g
	}
	return p
}
