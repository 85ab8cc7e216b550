package jobs

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/rleval/rleval/plotting"
)

// IndexFileName is the batch's HTML index in its output folder.
const IndexFileName = "index.html"

// ReportFileName is the per-run report the index links to, relative to the
// run's output folder.
const ReportFileName = "report.html"

// indexColumns are the runs table's columns, after the run's name.
var indexColumns = []string{"run", "date", "status", "final reward_sum", "best reward_sum", "mean Q(s,π(s))", "buffer size", "‖actor−target‖₂", "seconds", "error"}

// WriteIndex writes the batch index page to path atomically: a table of the
// runs sortable by any column (a click on its header), a link to each run's
// report, and the evaluation reward curves of all runs overlaid, as a
// figure and as an interactive chart (hover, zoom). The page
// is self-contained (no network); every string from a run is escaped.
func WriteIndex(path string, res *BatchResult) error {
	x := &plotting.Index{Title: "rleval batch", Columns: indexColumns, Notes: res.Notes}
	if res.Root != "" {
		x.Title = "rleval batch: " + res.Root
	}
	x.Subtitles = []string{fmt.Sprintf("%d runs: %d ok, %d partial, %d failed", len(res.Runs), res.OK, res.Partial, res.Failed)}
	var curves []plotting.Series
	for i := range res.Runs {
		s := &res.Runs[i]
		row := plotting.IndexRow{Cells: []string{s.Name, s.Date, s.Status, numCell(s.FinalRewardSum), numCell(s.BestRewardSum),
			numCell(s.MeanQPolicy), numCell(float64(s.BufferSize)), numCell(s.L2Total), numCell(s.Seconds), s.Error}}
		if s.Status != StatusFailed && s.Out != "" {
			row.Link = relURL(s.Out) + "/" + ReportFileName
		}
		x.Rows = append(x.Rows, row)
		if n := min(len(s.CurveStep), len(s.CurveValue)); n > 0 {
			curves = append(curves, plotting.Series{Label: s.Name, X: s.CurveStep[:n], Y: s.CurveValue[:n]})
		}
	}
	if len(curves) > 0 {
		fig, err := plotting.Lines(plotting.LineOptions{Title: "Evaluation: total reward per episode, all runs",
			XLabel: plotting.StepLabel, YLabel: "Reward (sum)", LegendBottom: true}, curves...)
		if err != nil {
			return err
		}
		img, err := plotting.NewImage(fig.Plot().Title.Text, fig, "")
		if err != nil {
			return err
		}
		x.Images = append(x.Images, img)
		// The same curves to hover and zoom.
		chart := plotting.Chart{Title: "Evaluation: total reward per episode, all runs", XLabel: plotting.StepLabel, YLabel: "Reward (sum)"}
		for _, c := range curves {
			chart.Curves = append(chart.Curves, plotting.Curve{Label: c.Label, X: c.X, Y: c.Y, Markers: true})
		}
		if x.Interactive, err = plotting.InteractiveCurves([]plotting.Chart{chart}); err != nil {
			return err
		}
	}
	return plotting.WriteIndex(path, x)
}

// relURL escapes each segment of a slash-separated relative path.
func relURL(rel string) string {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// numCell formats a number for the runs table ("" for NaN).
func numCell(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
