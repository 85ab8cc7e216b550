package jobs

import (
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/rleval/rleval/internal/par"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// curvesJob: analyses 2–7, every numeric field of the training log as a
// curve: evaluation rewards, critic and actor losses, buffer size, and any
// other field (SAC's alpha, entropy...).
var curvesJob = Job{Name: "curves", Sections: []Section{{"rewards", "Rewards and returns"}, {"losses", "Training losses"}},
	ReadsLog: true, Needs: needLog, Run: runCurves}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// curveFile names the array of one field: curve_<event>_<field>.npy, shape
// (n, 2) with columns step and value.
func curveFile(event, field string) string {
	return "curve_" + unsafeName.ReplaceAllString(event, "_") + "_" + unsafeName.ReplaceAllString(field, "_") + ".npy"
}

func runCurves(c *Context) (*Output, error) {
	lg := c.Run.Log.V
	// The arrays are written while the curves are drawn.
	written := make(chan error, 1)
	go func() { written <- writeAllCurves(c) }()
	out := &Output{}
	rs := lg.Evals.Col("reward_sum")
	if n := len(rs.Value); n > 0 {
		out.Summary = func(sum *RunSummary) {
			MetricFinalRewardSum.Set(sum, rs.Value[n-1])
			best := math.Inf(-1)
			for _, v := range rs.Value {
				if !math.IsNaN(v) && v > best {
					best = v
				}
			}
			MetricBestRewardSum.Set(sum, best)
			sum.CurveStep, sum.CurveValue = rs.Step, rs.Value
		}
	}
	var err error
	if !c.Opt.CoreOnly {
		err = plotCurves(c, out)
	}
	if werr := <-written; werr != nil {
		return nil, werr
	}
	return out, err
}

// writeAllCurves writes one array per field of every kind of record of
// every log, one row per record that has the field, full resolution.
func writeAllCurves(c *Context) error {
	for _, t := range c.Run.Log.V.Tables() {
		if err := writeCurves(c, tablePrefix("", t), t); err != nil {
			return err
		}
	}
	for _, o := range c.Run.OtherLogs {
		for _, t := range o.Tables() {
			if err := writeCurves(c, tablePrefix(logStem(o.Path), t), t); err != nil {
				return err
			}
		}
	}
	return nil
}

// tablePrefix names a kind of record in curve file names: "step",
// "evaluation" and "final_evaluation" for train.jsonl's own records (the
// names rleval always wrote), "<source>_<event>" for its other records, and
// "<log file name>_<source>_<event>" (env.jsonl_step) for the run's other
// logs, which cannot then collide with train.jsonl's own.
func tablePrefix(log string, t *loaders.Table) string {
	if log == "" && t.Source == "train" && (t.Event == "step" || t.Event == "evaluation" || t.Event == "final_evaluation") {
		return t.Event
	}
	parts := []string{}
	if log != "" {
		parts = append(parts, log)
	}
	if t.Source != "" {
		parts = append(parts, t.Source)
	}
	if t.Event != "" {
		parts = append(parts, t.Event)
	}
	if len(parts) == 0 {
		return "records"
	}
	return strings.Join(parts, "_")
}

func logStem(path string) string { return filepath.Base(path) }

// writeCurves writes curve_<prefix>_<field>.npy for every field of t:
// shape (n, 2), columns step and value, float32.
func writeCurves(c *Context, prefix string, t *loaders.Table) error {
	for _, name := range t.Names {
		s := t.Col(name)
		if err := WriteNPYColumns(c.path(curveFile(prefix, name)), s.Step, s.Value); err != nil {
			return err
		}
	}
	return nil
}

// timeLabel is the x label of curves drawn with --x time.
const timeLabel = "Wall-clock time (s)"

// curveX returns a field of t against the chosen axis ("step" or "time"),
// and the axis label; a table without "time" stays on steps.
func curveX(t *loaders.Table, field, axis string) (loaders.Series, string) {
	if axis == "time" && field != "time" && len(t.Col("time").Value) > 0 {
		return t.Against(field, "time"), timeLabel
	}
	return t.Col(field), plotting.StepLabel
}

// plotCurves draws the evaluation rewards (analyses 2, 3), every step
// field (4–7 and the rest) and every field of the run's other records and
// logs, as figures and as interactive charts.
func plotCurves(c *Context, out *Output) error {
	lg := c.Run.Log.V
	var rewardCharts, lossCharts []plotting.Chart
	ev := &lg.Evals
	if m, xl := curveX(ev, "reward_mean", c.Opt.X); len(m.Value) > 0 {
		st := plotting.CurveStyle{XLabel: xl}
		lo, _ := curveX(ev, "reward_min", c.Opt.X)
		hi, _ := curveX(ev, "reward_max", c.Opt.X)
		if len(lo.Value) != len(m.Value) || len(hi.Value) != len(m.Value) {
			lo, hi = m, m // no min/max logged: an empty band
		}
		fig, err := st.RewardMean(m.Step, m.Value, lo.Value, hi.Value)
		if err := out.add("rewards", "eval_reward_mean", fig, err); err != nil {
			return err
		}
		rewardCharts = append(rewardCharts, plotting.Chart{Title: "Evaluation: mean reward per step", XLabel: xl, YLabel: "Reward (mean per step)",
			Curves: []plotting.Curve{{Label: "reward_mean", X: m.Step, Y: m.Value, Color: plotting.TabBlue, Markers: true},
				{Label: "reward_min", X: lo.Step, Y: lo.Value, Color: plotting.TabBlue}, {Label: "reward_max", X: hi.Step, Y: hi.Value, Color: plotting.TabBlue}},
			Bands: []plotting.ChartBand{{Lo: 1, Hi: 2, Color: plotting.TabBlue}}})
	}
	if s, xl := curveX(ev, "reward_sum", c.Opt.X); len(s.Value) > 0 && len(ev.Col("return_min").Value) == len(s.Value) {
		// Other libraries' evaluations: episode returns with their spread.
		lo, _ := curveX(ev, "return_min", c.Opt.X)
		hi, _ := curveX(ev, "return_max", c.Opt.X)
		fig, err := plotting.CurveStyle{XLabel: xl}.EpisodeReturn(s.Step, s.Value, lo.Value, hi.Value)
		if err := out.add("rewards", "eval_return", fig, err); err != nil {
			return err
		}
		rewardCharts = append(rewardCharts, plotting.Chart{Title: plotting.EpisodeReturnTitle, XLabel: xl, YLabel: plotting.EpisodeReturnLabel,
			Curves: []plotting.Curve{{Label: "mean return", X: s.Step, Y: s.Value, Color: plotting.TabGreen, Markers: true},
				{Label: "return_min", X: lo.Step, Y: lo.Value, Color: plotting.TabGreen}, {Label: "return_max", X: hi.Step, Y: hi.Value, Color: plotting.TabGreen}},
			Bands: []plotting.ChartBand{{Lo: 1, Hi: 2, Color: plotting.TabGreen}}})
	} else if len(s.Value) > 0 {
		fig, err := plotting.CurveStyle{XLabel: xl}.RewardSum(s.Step, s.Value)
		if err := out.add("rewards", "eval_reward_sum", fig, err); err != nil {
			return err
		}
		rewardCharts = append(rewardCharts, plotting.Chart{Title: "Evaluation: total reward per episode", XLabel: xl, YLabel: "Reward (sum)",
			Curves: []plotting.Curve{{Label: "reward_sum", X: s.Step, Y: s.Value, Color: plotting.TabGreen, Markers: true}}})
	}
	fields := curveFields(c)
	// Each field's figure and chart reduce up to millions of points: on
	// every core.
	par.For(len(fields), func(i int) { fields[i].draw(c) })
	for _, f := range fields {
		if f.skip {
			continue
		}
		if err := out.add(f.section, f.name, f.fig, f.err); err != nil {
			return err
		}
		if f.section == "rewards" {
			rewardCharts = append(rewardCharts, f.chart)
		} else {
			lossCharts = append(lossCharts, f.chart)
		}
	}
	for _, x := range []struct {
		section string
		charts  []plotting.Chart
	}{{"rewards", rewardCharts}, {"losses", lossCharts}} {
		if len(x.charts) == 0 {
			continue
		}
		h, err := plotting.InteractiveCurves(x.charts)
		if err != nil {
			return err
		}
		out.Interactive = append(out.Interactive, Interactive{Section: x.section, HTML: h, Charts: len(x.charts)})
	}
	return nil
}

// curveFields are the fields plotCurves draws besides the evaluations: the
// step fields (the notebook's four first, then every other one), then every
// field of the log's other records and of the run's other logs.
func curveFields(c *Context) []fieldCurve {
	lg := c.Run.Log.V
	st := &lg.Steps
	order := []string{"loss_q1", "loss_q2", "actor_loss", "buffer_size"}
	for _, name := range st.Names {
		if name != "time" && !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	var fields []fieldCurve
	for _, name := range order {
		fields = append(fields, fieldCurve{name: "train_" + unsafeName.ReplaceAllString(name, "_"), field: name, t: st, section: curveSection(name)})
	}
	// Every other kind of record of this log and of the run's other logs.
	type other struct {
		log string
		t   *loaders.Table
	}
	var others []other
	for _, t := range lg.Others {
		others = append(others, other{"", t})
	}
	for _, o := range c.Run.OtherLogs {
		for _, t := range o.Tables() {
			others = append(others, other{logStem(o.Path), t})
		}
	}
	for _, o := range others {
		prefix := tablePrefix(o.log, o.t)
		for _, name := range o.t.Names {
			if name != "time" {
				fields = append(fields, fieldCurve{name: "log_" + unsafeName.ReplaceAllString(prefix+"_"+name, "_"), title: prefix + ": ", field: name, t: o.t,
					section: curveSection(name)})
			}
		}
	}
	return fields
}

// episodeFields are the step fields that are episodes' returns and
// lengths, not training losses: a Monitor's (monitor.csv), SB3's
// TensorBoard rollout/ and eval/ means, CleanRL's charts/.
var episodeFields = regexp.MustCompile(`^(episode_(reward|length)|rollout/ep_(rew|len)_mean|eval/mean_(reward|ep_length)|charts/episodic_(return|length))$`)

// curveSection is the report section of a step field.
func curveSection(field string) string {
	if episodeFields.MatchString(field) {
		return "rewards"
	}
	return "losses"
}

// fieldCurve is one field of a table drawn as a figure named name, with
// its interactive chart, in section; title prefixes the field's title.
type fieldCurve struct {
	name, title, field, section string
	t                           *loaders.Table

	skip  bool // the field has no values
	fig   *plotting.Figure
	err   error
	chart plotting.Chart
}

// draw builds the figure and the chart.
func (f *fieldCurve) draw(c *Context) {
	s, xlabel := curveX(f.t, f.field, c.Opt.X)
	if len(s.Value) == 0 {
		f.skip = true
		return
	}
	st := plotting.CurveStyle{XLabel: xlabel, Smooth: c.Opt.Smooth}
	f.fig, f.err = st.StepField(f.field, s.Step, s.Value)
	if f.err == nil && f.title != "" {
		f.fig.Plot().Title.Text = f.title + f.fig.Plot().Title.Text
	}
	lk := plotting.StepFieldLookOf(f.field)
	label := lk.Label
	if label == "" {
		label = f.field
	}
	f.chart = plotting.Chart{Title: f.title + lk.Title, XLabel: xlabel, YLabel: lk.YLabel, Smooth: c.Opt.Smooth,
		Curves: []plotting.Curve{{Label: label, X: s.Step, Y: s.Value, Color: lk.Color, Smooth: c.Opt.Smooth > 0 && plotting.Noisy(s.Value)}}}
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
