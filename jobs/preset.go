package jobs

import (
	"math"
	"strings"

	"github.com/rleval/rleval/loaders"
)

// Preset describes an environment's observation space for the pictures:
// names of its observation values, the two coordinates of its state plane
// (labels, units, ranges, ticks), how each observation value follows from
// them and how an observation projects back. A preset is data: callers
// never branch on its name, and a new one is one entry in presets.
type Preset struct {
	// Name identifies the preset (`--preset`, summary.json).
	Name string
	// Envs are the environment names (config env.name) it describes,
	// compared without case.
	Envs []string
	// ObsNames label each observation value in tables and histograms;
	// ObsKeys name them in --axes and --fix.
	ObsNames, ObsKeys []string
	// Axes are the plane's coordinates: Axes[0] along columns (x), Axes[1]
	// along rows (y).
	Axes [2]PresetAxis
	// Obs says how each observation value follows from the plane (one
	// entry per value).
	Obs []ObsTerm
	// Line, if set, is the 1-D policy curve: Axes[Line.Axis] over its range
	// with the other axis at Line.At.
	Line *PresetLine
	// HistObs lists the observation values the buffer histograms show
	// (nil: all).
	HistObs []int
	// Action names the action in titles ("torque"); "" means "action".
	Action string
	// Unnamed makes the preset also describe runs whose config names no
	// environment (the notebook's pendulum runs).
	Unnamed bool
}

// PresetAxis is one coordinate of a preset's plane.
type PresetAxis struct {
	// Key names the axis in --axes; Label and Unit label plots ("θ",
	// "degrees").
	Key, Label, Unit string
	// Lo and Hi are the default range, in the axis's own units (radians).
	Lo, Hi float64
	// Scale converts the axis's units to plot units (180/π for degrees);
	// 0 means 1.
	Scale float64
	// Ticks are tick positions in plot units; nil lets the plot choose.
	Ticks []float64
	// From says how the axis value follows from an observation.
	From AxisFrom
}

// AxisFrom computes an axis value from an observation: obs[Obs[0]] when Fn
// is "", atan2(obs[Obs[0]], obs[Obs[1]]) when Fn is "atan2".
type AxisFrom struct {
	Fn  string
	Obs []int
}

// ObsTerm computes one observation value from the plane: Fn ("", "cos" or
// "sin") of axis Axis (0 for x, 1 for y), or, with Axis -1, a fixed value
// (--fix, else the buffer's mean, else 0).
type ObsTerm struct {
	Axis int
	Fn   string
}

// PresetLine is the 1-D policy curve of a preset.
type PresetLine struct {
	// Axis is the varied axis (0 or 1); At is the other axis's value.
	Axis int
	At   float64
	// Title, XLabel and YLabel label the curve's figure; RefLabel, if set,
	// labels a dashed vertical line at plot x = 0.
	Title, YLabel, RefLabel string
}

// presets are the known observation spaces.
var presets = []*Preset{
	{
		Name: "pendulum", Envs: []string{"Pendulum-v1", "Pendulum-v0"},
		ObsNames: []string{"cos θ", "sin θ", "θ̇"}, ObsKeys: []string{"cos_theta", "sin_theta", "theta_dot"},
		Axes: [2]PresetAxis{
			{Key: "theta", Label: "θ", Unit: "degrees", Lo: -math.Pi, Hi: math.Pi, Scale: 180 / math.Pi, From: AxisFrom{"atan2", []int{1, 0}}},
			{Key: "theta_dot", Label: "θ̇", Unit: "rad/s", Lo: -8, Hi: 8, From: AxisFrom{"", []int{2}}},
		},
		Obs:     []ObsTerm{{0, "cos"}, {0, "sin"}, {1, ""}},
		Line:    &PresetLine{Axis: 0, At: 0, Title: "Actor policy: torque(θ) at dθ/dt = 0", YLabel: "action (torque)", RefLabel: "θ = 0 (upright)"},
		HistObs: []int{0, 1},
		Action:  "torque",
		Unnamed: true,
	},
	{
		Name: "mountaincar", Envs: []string{"MountainCarContinuous-v0"},
		ObsNames: []string{"position", "velocity"}, ObsKeys: []string{"position", "velocity"},
		Axes: [2]PresetAxis{
			{Key: "position", Label: "position", Lo: -1.2, Hi: 0.6, From: AxisFrom{"", []int{0}}},
			{Key: "velocity", Label: "velocity", Lo: -0.07, Hi: 0.07, From: AxisFrom{"", []int{1}}},
		},
		Obs:    []ObsTerm{{0, ""}, {1, ""}},
		Action: "force",
	},
}

// PresetByName returns the preset called name, or nil.
func PresetByName(name string) *Preset {
	for _, p := range presets {
		if strings.EqualFold(p.Name, name) {
			return p
		}
	}
	return nil
}

// PresetNames lists the known presets.
func PresetNames() []string {
	var s []string
	for _, p := range presets {
		s = append(s, p.Name)
	}
	return s
}

// PresetFor returns the preset of a run with obsDim observation values:
// the one naming the config's environment, or, for a run whose config
// names none, an Unnamed one (the pendulum's for three values); nil
// when none fits.
func PresetFor(r *loaders.Run, obsDim int) *Preset {
	env := ""
	if r.Config.V != nil {
		env = r.Config.V.Env.Name
	}
	for _, p := range presets {
		if len(p.Obs) != obsDim {
			continue
		}
		for _, e := range p.Envs {
			if strings.EqualFold(e, env) {
				return p
			}
		}
		if env == "" && p.Unnamed {
			return p
		}
	}
	return nil
}
