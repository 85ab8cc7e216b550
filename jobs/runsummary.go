package jobs

import (
	"github.com/rleval/rleval/loaders"
)

// summaryFile is summary.json of one run (analysis 1 and the job list).
type summaryFile struct {
	Run      string      `json:"run"`
	Dir      string      `json:"dir"`
	Date     string      `json:"date,omitempty"`
	Status   string      `json:"status"`
	Config   *ConfigView `json:"config"`
	Log      *logSummary `json:"log"`
	Problems []string    `json:"problems"`
	// NotSaved are the absent files the run's library never saves or
	// saves only when asked: notes, not problems (the status stays ok).
	NotSaved []string     `json:"not_saved"`
	Jobs     []JobStatus  `json:"jobs"`
	Preset   string       `json:"preset"`
	Plane    *PlaneView   `json:"plane,omitempty"`
	Device   string       `json:"device"`
	Seconds  float64      `json:"seconds"`
	Networks []string     `json:"networks"`
	Buffer   *bufferBrief `json:"buffer,omitempty"`
}

type bufferBrief struct {
	Size     int `json:"size"`
	Capacity int `json:"capacity"`
}

// configOf returns the config fields the notebook prints (nil for none).
func configOf(c *loaders.Config) *ConfigView {
	if c == nil {
		return nil
	}
	return &ConfigView{c.ExperimentName, c.Env.Name, c.Algorithm.Type, recorded(c.Exploration.Steps),
		recorded(c.Training.TrainStartStep), recorded(c.Evaluation.Frequency), recorded(c.Training.LogFrequency)}
}

// recorded is v, or nil for loaders.NotRecorded.
func recorded(v int) *int {
	if v == loaders.NotRecorded {
		return nil
	}
	return &v
}

// PlaneView is the maps' plane in summary.json: which axes, ranges and
// fixed values were used.
type PlaneView struct {
	X     PlaneAxis    `json:"x"`
	Y     PlaneAxis    `json:"y"`
	Fixed []FixedValue `json:"fixed"`
}

// Plane returns the plane v records (no preset or observation names).
func (v *PlaneView) Plane() *Plane { return &Plane{X: v.X, Y: v.Y, Fixed: v.Fixed} }

func writeSummary(c *Context, sum *RunSummary) error {
	r := c.Run
	s := summaryFile{Run: r.Name, Dir: r.Dir, Date: sum.Date, Status: sum.Status, Config: configOf(r.Config.V),
		Jobs: sum.Jobs, Preset: "generic", Device: c.Engine.Backend().Name(), Seconds: sum.Seconds,
		Problems: []string{}, NotSaved: append([]string{}, r.NotSaved()...)}
	if pl := c.Plane; pl != nil {
		if pl.Preset != "" {
			s.Preset = pl.Preset
		}
		s.Plane = &PlaneView{pl.X, pl.Y, append([]FixedValue{}, pl.Fixed...)}
	}
	if r.Log.V != nil {
		s.Log = summarizeLog(r.Log.V)
	}
	for _, p := range r.Problems() {
		s.Problems = append(s.Problems, p.Error())
	}
	for _, role := range loaders.Roles {
		if r.Net(role) != nil {
			s.Networks = append(s.Networks, string(role))
		}
	}
	if b := r.Buffer.V; b != nil {
		s.Buffer = &bufferBrief{b.Size, b.Capacity}
	}
	return c.writeJSON("summary.json", s)
}
