package jobs

import (
	"math"
	"regexp"

	"github.com/rleval/rleval/loaders"
)

// curvesJob: analyses 2–7, every numeric field of the training log as a
// curve: evaluation rewards, critic and actor losses, buffer size, and any
// other field (SAC's alpha, entropy...).
var curvesJob = Job{Name: "curves", Needs: needLog, Run: runCurves}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// curveFile names the array of one field: curve_<event>_<field>.npy, shape
// (n, 2) with columns step and value.
func curveFile(event, field string) string {
	return "curve_" + event + "_" + unsafeName.ReplaceAllString(field, "_") + ".npy"
}

func runCurves(c *Context) error {
	lg := c.Run.Log
	for _, t := range []struct {
		event string
		table *loaders.Table
	}{{"step", &lg.Steps}, {"evaluation", &lg.Evals}, {"final_evaluation", &lg.Finals}} {
		for _, name := range t.table.Names {
			s := t.table.Col(name)
			arr := make([]float32, 0, 2*len(s.Step))
			for i := range s.Step {
				arr = append(arr, float32(s.Step[i]), float32(s.Value[i]))
			}
			if err := WriteNPY(c.path(curveFile(t.event, name)), arr, len(s.Step), 2); err != nil {
				return err
			}
		}
	}
	rs := lg.Evals.Col("reward_sum")
	if n := len(rs.Value); n > 0 {
		c.summary.FinalRewardSum = rs.Value[n-1]
		best := math.Inf(-1)
		for _, v := range rs.Value {
			if !math.IsNaN(v) && v > best {
				best = v
			}
		}
		c.summary.BestRewardSum = best
		c.summary.CurveStep, c.summary.CurveValue = rs.Step, rs.Value
	}
	if c.Opt.CoreOnly {
		return nil
	}
	return c.plotCurves(lg)
}

// logSummary is the log part of summary.json (analysis 1).
type logSummary struct {
	Path         string                `json:"path"`
	Lines        int                   `json:"lines"`
	Steps        recordCount           `json:"steps"`
	Evaluations  recordCount           `json:"evaluations"`
	Finals       recordCount           `json:"final_evaluations"`
	Other        int                   `json:"other_records"`
	SkippedCount int                   `json:"skipped_lines"`
	Skipped      []loaders.SkippedLine `json:"skipped,omitempty"`
}

type recordCount struct {
	Count   int      `json:"count"`
	StepMin num      `json:"step_min"`
	StepMax num      `json:"step_max"`
	Fields  []string `json:"fields"`
}

func countOf(t *loaders.Table) recordCount {
	return recordCount{t.Count, num(t.StepMin), num(t.StepMax), t.Names}
}

func summarizeLog(lg *loaders.TrainLog) *logSummary {
	return &logSummary{Path: lg.Path, Lines: lg.Lines, Steps: countOf(&lg.Steps), Evaluations: countOf(&lg.Evals),
		Finals: countOf(&lg.Finals), Other: lg.Ignored, SkippedCount: lg.SkippedCount, Skipped: lg.Skipped}
}

func stepRange(t *loaders.Table) string {
	if t.Count == 0 || math.IsNaN(t.StepMin) {
		return "—"
	}
	return fmtStep(t.StepMin) + " — " + fmtStep(t.StepMax)
}
