package jobs

import (
	"github.com/rleval/rleval/loaders"
)

// summaryFile is summary.json of one run (analysis 1 and the job list).
type summaryFile struct {
	Run      string       `json:"run"`
	Dir      string       `json:"dir"`
	Date     string       `json:"date,omitempty"`
	Status   string       `json:"status"`
	Config   *ConfigView  `json:"config"`
	Log      *logSummary  `json:"log"`
	Problems []string     `json:"problems"`
	Jobs     []JobStatus  `json:"jobs"`
	Preset   string       `json:"preset"`
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
	return &ConfigView{c.ExperimentName, c.Env.Name, c.Algorithm.Type, c.Exploration.Steps,
		c.Training.TrainStartStep, c.Evaluation.Frequency, c.Training.LogFrequency}
}

func writeSummary(c *Context) error {
	r := c.Run
	s := summaryFile{Run: r.Name, Dir: r.Dir, Date: c.summary.Date, Status: c.summary.Status, Config: configOf(r.Config),
		Jobs: c.summary.Jobs, Preset: c.Preset.Name, Device: c.Engine.Backend().Name(), Seconds: c.summary.Seconds,
		Problems: []string{}}
	if r.Log != nil {
		s.Log = summarizeLog(r.Log)
	}
	for _, p := range r.Problems() {
		s.Problems = append(s.Problems, p.Error())
	}
	for _, role := range loaders.Roles {
		if r.Nets[role] != nil {
			s.Networks = append(s.Networks, string(role))
		}
	}
	if b := r.Buffer; b != nil {
		s.Buffer = &bufferBrief{b.Size, b.Capacity}
	}
	return c.writeJSON("summary.json", s)
}
