package jobs

import (
	"fmt"
	"math"
	"regexp"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// curvesJob: analyses 2–7, every numeric field of the training log as a
// curve: evaluation rewards, critic and actor losses, buffer size, and any
// other field (SAC's alpha, entropy...).
var curvesJob = Job{Name: "curves", Sections: []Section{{"rewards", "Evaluation rewards"}, {"losses", "Training losses"}},
	Needs: needLog, Run: runCurves}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// curveFile names the array of one field: curve_<event>_<field>.npy, shape
// (n, 2) with columns step and value.
func curveFile(event, field string) string {
	return "curve_" + event + "_" + unsafeName.ReplaceAllString(field, "_") + ".npy"
}

func runCurves(c *Context) (*Output, error) {
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
				return nil, err
			}
		}
	}
	out := &Output{}
	rs := lg.Evals.Col("reward_sum")
	if n := len(rs.Value); n > 0 {
		out.Summary = func(sum *RunSummary) {
			sum.FinalRewardSum = rs.Value[n-1]
			best := math.Inf(-1)
			for _, v := range rs.Value {
				if !math.IsNaN(v) && v > best {
					best = v
				}
			}
			sum.BestRewardSum = best
			sum.CurveStep, sum.CurveValue = rs.Step, rs.Value
		}
	}
	if c.Opt.CoreOnly {
		return out, nil
	}
	return out, plotCurves(lg, out)
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
	return fmt.Sprintf("%g — %g", t.StepMin, t.StepMax)
}

func plotCurves(lg *loaders.TrainLog, out *Output) error {
	ev := &lg.Evals
	if m := ev.Col("reward_mean"); len(m.Value) > 0 {
		lo, hi := ev.Col("reward_min").Value, ev.Col("reward_max").Value
		if len(lo) != len(m.Value) || len(hi) != len(m.Value) {
			lo, hi = m.Value, m.Value // no min/max logged: an empty band
		}
		fig, err := plotting.RewardMeanFigure(m.Step, m.Value, lo, hi)
		if err := out.add("rewards", "eval_reward_mean", fig, err); err != nil {
			return err
		}
	}
	if s := ev.Col("reward_sum"); len(s.Value) > 0 {
		fig, err := plotting.RewardSumFigure(s.Step, s.Value)
		if err := out.add("rewards", "eval_reward_sum", fig, err); err != nil {
			return err
		}
	}
	st := &lg.Steps
	known := []struct {
		field string
		draw  func(step, v []float64) (*plotting.Figure, error)
	}{
		{"loss_q1", func(x, y []float64) (*plotting.Figure, error) { return plotting.CriticLossFigure(1, x, y) }},
		{"loss_q2", func(x, y []float64) (*plotting.Figure, error) { return plotting.CriticLossFigure(2, x, y) }},
		{"actor_loss", plotting.ActorLossFigure},
		{"buffer_size", plotting.BufferSizeFigure},
	}
	done := map[string]bool{"time": true}
	for _, k := range known {
		done[k.field] = true
		if s := st.Col(k.field); len(s.Value) > 0 {
			fig, err := k.draw(s.Step, s.Value)
			if err := out.add("losses", "train_"+k.field, fig, err); err != nil {
				return err
			}
		}
	}
	// Every other numeric field is a curve too (SAC's alpha, entropy...).
	for _, name := range st.Names {
		if done[name] {
			continue
		}
		s := st.Col(name)
		fig, err := plotting.Lines(plotting.LineOptions{Title: name, XLabel: plotting.StepLabel, YLabel: name},
			plotting.Series{Label: name, X: s.Step, Y: s.Value, Alpha: 0.8})
		if err := out.add("losses", "train_"+unsafeName.ReplaceAllString(name, "_"), fig, err); err != nil {
			return err
		}
	}
	return nil
}
