package batch

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/plotting"
)

// IndexFileName is the batch's HTML index in its output folder.
const IndexFileName = "index.html"

// ReportFileName is the per-run report the index links to, relative to the
// run's output folder.
const ReportFileName = "report.html"

// indexColumns returns the runs table's columns: the run, its metrics
// (jobs.Metrics) and its other facts.
func indexColumns() []string {
	cols := []string{"run", "library", "group", "date", "status"}
	for _, m := range jobs.Metrics() {
		cols = append(cols, m.Heading())
	}
	return append(cols, "buffer size", "seconds", "error")
}

// thumbSide is the small multiples' thumbnail size in pixels: enough to
// see a policy's switching curve, small enough that 500 runs' thumbnails
// inline in the page stay a few MB.
const thumbSide = 64

// sheetCols is the tiles a row of the sprite sheets: a 500-run sheet is
// 1600 × 1280 pixels.
const sheetCols = 25

// maxOverlayRuns is the most runs whose curves are overlaid in one plot
// when there are no groups: past it the legend hides the plot.
const maxOverlayRuns = 30

// WriteIndex writes the batch index page to path atomically. With groups
// (nil for none): the groups table with interval bars, one IQM curve per
// group with its band, the probability-of-improvement matrix, performance
// profiles, and small multiples of every run's policy and Q maps, grouped
// and ordered by the metric, each linked to its report. Always: the runs
// table, sortable and filterable, each run linked to its report, and
// (without groups) every run's evaluation reward curve, as a figure and as
// an interactive chart (hover, zoom). The page
// is self-contained (no network); every string from a run is escaped.
func WriteIndex(path string, res *Result, groups *Groups) error {
	p := &plotting.BatchPage{Title: "rleval batch", Notes: res.Notes}
	if res.Root != "" {
		p.Title = "rleval batch: " + res.Root
	}
	p.Subtitles = []string{fmt.Sprintf("%s: %d ok, %d partial, %d failed", plural.N(len(res.Runs), "run"), res.OK, res.Partial, res.Failed)}
	groupOf := map[string]string{}
	if groups != nil {
		for _, g := range groups.Groups {
			for _, out := range g.Outs {
				groupOf[out] = g.Name
			}
		}
		p.Notes = append(slices.Clone(p.Notes), groups.Notes...)
		if err := groupSections(p, res, groups, filepath.Dir(path)); err != nil {
			return err
		}
	}
	runs := plotting.Table{Header: indexColumns(), Sortable: true}
	var curves []plotting.Series
	for i := range res.Runs {
		s := &res.Runs[i]
		row := []string{s.Name, s.Library, groupOf[s.Out], s.Date, s.Status}
		for _, m := range jobs.Metrics() {
			row = append(row, numCell(m.Get(s)))
		}
		runs.Rows = append(runs.Rows, append(row, numCell(float64(s.BufferSize)), numCell(s.Seconds), s.Error))
		link := ""
		// A failed run still has its report when only a file or an analysis
		// failed: link it where it was written.
		if s.Out != "" && (s.Status != jobs.StatusFailed || reportWritten(filepath.Join(filepath.Dir(path), s.Out))) {
			link = relURL(s.Out) + "/" + ReportFileName
		}
		runs.Links = append(runs.Links, []string{link})
		if n := min(len(s.CurveStep), len(s.CurveValue)); n > 0 {
			curves = append(curves, plotting.Series{Label: s.Name, X: s.CurveStep[:n], Y: s.CurveValue[:n]})
		}
	}
	p.Runs = runs
	ov, err := plotting.OverlayCurves(overlayData(res, groups, filepath.Dir(path)))
	if err != nil {
		return err
	}
	p.Overlay = ov
	if groups == nil && len(curves) > 0 && len(curves) <= maxOverlayRuns {
		fig, err := plotting.Lines(plotting.LineOptions{Title: "Evaluation: total reward per episode, all runs",
			XLabel: plotting.StepLabel, YLabel: "Reward (sum)", LegendBottom: true}, curves...)
		if err != nil {
			return err
		}
		img, err := plotting.NewImage(fig.Plot().Title.Text, fig, "")
		if err != nil {
			return err
		}
		p.Images = append(p.Images, img)
		// The same curves to hover and zoom.
		chart := plotting.Chart{Title: "Evaluation: total reward per episode, all runs", XLabel: plotting.StepLabel, YLabel: "Reward (sum)"}
		for _, c := range curves {
			chart.Curves = append(chart.Curves, plotting.Curve{Label: c.Label, X: c.X, Y: c.Y, Markers: true})
		}
		if p.Interactive, err = plotting.InteractiveCurves([]plotting.Chart{chart}); err != nil {
			return err
		}
	}
	return plotting.WriteBatchPage(path, p)
}

func toInterval(s *Stat) plotting.Interval {
	if s == nil {
		return plotting.Interval{Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	return plotting.Interval{Value: float64(s.Value), Lo: float64(s.Lo), Hi: float64(s.Hi)}
}

// groupSections fills the page's group sections; base is the page's folder,
// against which the runs' Out paths are resolved for their maps.
func groupSections(p *plotting.BatchPage, res *Result, g *Groups, base string) error {
	p.Metric = g.Metric
	p.StatNames = []string{"mean", "median", "IQM", "optimality gap", "value bias", "true return"}
	p.CurveXLabel, p.CurveYLabel = plotting.StepLabel, "IQM of reward_sum"
	p.ProfileXLabel = "score threshold τ (" + g.Metric + ")"
	p.ProfileCaption = fmt.Sprintf("Fraction of each group's runs whose %s exceeds τ, with its 95%% bootstrap band.", g.Metric)
	p.ThumbCaption = "Each run's policy map (one colour scale for all runs) or Q map (min(Q1, Q2) at (s, π(s)), one scale for all runs) on the state grid; groups in the order of the table, runs by " + g.Metric + ", best first. Click a run to open its maps in its report."
	for _, gr := range g.Groups {
		p.Groups = append(p.Groups, plotting.PageGroup{Name: gr.Name, Runs: len(gr.Runs), Scored: gr.Scored, Config: fullConfig(gr.Keys),
			Stats: []plotting.Interval{toInterval(gr.Mean), toInterval(gr.Median), toInterval(gr.IQM), toInterval(gr.OptimalityGap), toInterval(gr.ValueBias), toInterval(gr.TrueReturn)}})
		c := plotting.BandCurve{Label: gr.Name, X: gr.Curve.Step}
		for _, s := range gr.Curve.IQM {
			c.Y = append(c.Y, float64(s.Value))
			c.Lo = append(c.Lo, float64(s.Lo))
			c.Hi = append(c.Hi, float64(s.Hi))
		}
		p.Curves = append(p.Curves, c)
		pr := plotting.BandCurve{Label: gr.Name, X: g.Thresholds}
		for _, s := range gr.Profile {
			pr.Y = append(pr.Y, float64(s.Value))
			pr.Lo = append(pr.Lo, float64(s.Lo))
			pr.Hi = append(pr.Hi, float64(s.Hi))
		}
		if len(pr.Y) > 0 {
			p.Profiles = append(p.Profiles, pr)
		}
	}
	if !slices.ContainsFunc(p.Curves, func(c plotting.BandCurve) bool { return len(c.X) > 0 }) {
		p.Curves = nil
	}
	if err := aggregatesImage(p, g); err != nil {
		return err
	}
	for _, row := range g.Improvement {
		var r []*plotting.Interval
		for _, s := range row {
			if s == nil {
				r = append(r, nil)
				continue
			}
			iv := toInterval(s)
			r = append(r, &iv)
		}
		p.Improvement = append(p.Improvement, r)
	}
	if err := thumbnails(p, res, g, base); err != nil {
		return err
	}
	if em := readErrorMaps(res, g, base); em != nil {
		return errorSection(p, em, g.Metric)
	}
	return nil
}

// thumbnails reads every grouped run's policy_grid.npy and q_grid.npy,
// reduces each to thumbSide² cells at once (so 500 runs hold a few MB),
// and draws them on one colour scale per kind.
func thumbnails(p *plotting.BatchPage, res *Result, g *Groups, base string) error {
	byOut := map[string]*jobs.RunSummary{}
	for i := range res.Runs {
		byOut[res.Runs[i].Out] = &res.Runs[i]
	}
	polMax := 0.0
	qLo, qHi := math.Inf(1), math.Inf(-1)
	var blocks [][]thumbRun
	found := false
	for _, gr := range g.Groups {
		var runs []thumbRun
		for i, out := range gr.Outs {
			s := thumbRun{name: gr.Runs[i], score: float64(gr.Scores[i]), value: numCell(float64(gr.Scores[i]))}
			if r := byOut[out]; r != nil && r.Status != jobs.StatusFailed {
				s.link = relURL(out) + "/" + ReportFileName + "#policy"
			}
			dir := runDir(base, out)
			for k, name := range []string{"policy_grid.npy", "q_grid.npy"} {
				v, nx, ny, err := readMapNPY(filepath.Join(dir, name))
				if err != nil {
					continue
				}
				s.maps[k], s.nx[k], s.ny[k] = reduceMap(v, nx, ny, thumbSide)
				found = true
				for _, x := range s.maps[k] {
					f := float64(x)
					if math.IsNaN(f) || math.IsInf(f, 0) {
						continue
					}
					if k == 0 {
						polMax = max(polMax, math.Abs(f))
					} else {
						qLo, qHi = min(qLo, f), max(qHi, f)
					}
				}
			}
			runs = append(runs, s)
		}
		slices.SortStableFunc(runs, bestFirst)
		blocks = append(blocks, runs)
	}
	if !found {
		return nil
	}
	if polMax == 0 {
		polMax = 1
	}
	if math.IsInf(qLo, 0) {
		qLo, qHi = 0, 1
	}
	var sheets [2][][]float32
	var nxs, nys [2][]int
	tile := 0
	for i, runs := range blocks {
		tg := plotting.ThumbGroup{Name: g.Groups[i].Name}
		for _, s := range runs {
			tg.Runs = append(tg.Runs, plotting.Thumb{Name: s.name, Link: s.link, Value: s.value, Tile: tile,
				HasA: s.maps[0] != nil, HasB: s.maps[1] != nil})
			for k := range 2 {
				sheets[k] = append(sheets[k], s.maps[k])
				nxs[k] = append(nxs[k], s.nx[k])
				nys[k] = append(nys[k], s.ny[k])
			}
			tile++
		}
		p.Thumbs = append(p.Thumbs, tg)
	}
	var err error
	if p.SheetA, err = plotting.ThumbSheet(sheets[0], nxs[0], nys[0], thumbSide, sheetCols, -polMax, polMax, plotting.RdBuR()); err != nil {
		return err
	}
	if p.SheetB, err = plotting.ThumbSheet(sheets[1], nxs[1], nys[1], thumbSide, sheetCols, qLo, qHi, plotting.Viridis()); err != nil {
		return err
	}
	p.SheetCols, p.ThumbSide = sheetCols, thumbSide
	return nil
}

// thumbRun is one run's thumbnails.
type thumbRun struct {
	name, link, value string
	score             float64
	maps              [2][]float32 // policy, Q: thumbSide-reduced
	nx, ny            [2]int
}

// bestFirst orders thumbnails by score, best first, runs without a score
// last.
func bestFirst(a, b thumbRun) int {
	an, bn := math.IsNaN(a.score), math.IsNaN(b.score)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a.score > b.score:
		return -1
	case a.score < b.score:
		return 1
	}
	return 0
}

// reduceMap averages an ny × nx map into at most side × side blocks.
func reduceMap(v []float32, nx, ny, side int) ([]float32, int, int) {
	tx, ty := min(nx, side), min(ny, side)
	return resample(v, nx, ny, tx, ty), tx, ty
}

// maxMapNPYBytes bounds the maps read for thumbnails: a 2048² grid. Larger
// maps (rleval heatmap's) are not thumbnailed.
const maxMapNPYBytes = 4*2048*2048 + 4096

var npyShapeRe = regexp.MustCompile(`'shape':\s*\((\d+),\s*(\d+)(?:,\s*(\d+))?,?\s*\)`)

// readMapNPY reads a map written by WriteNPY: little-endian float32,
// C order, shape (N, M) or (N, M, k) (then the first of k channels). The
// claimed shape must match the file's size.
func readMapNPY(path string) (v []float32, nx, ny int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	if st.Size() > maxMapNPYBytes {
		return nil, 0, 0, fmt.Errorf("%s: %d bytes, more than a thumbnail reads", path, st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMapNPYBytes))
	if err != nil {
		return nil, 0, 0, err
	}
	if len(data) < 10 || string(data[:6]) != "\x93NUMPY" || data[6] != 1 {
		return nil, 0, 0, fmt.Errorf("%s: not a .npy (format 1.0) file", path)
	}
	hl := int(binary.LittleEndian.Uint16(data[8:10]))
	if 10+hl > len(data) {
		return nil, 0, 0, fmt.Errorf("%s: truncated header", path)
	}
	hdr := string(data[10 : 10+hl])
	if !strings.Contains(hdr, "'descr': '<f4'") || !strings.Contains(hdr, "'fortran_order': False") {
		return nil, 0, 0, fmt.Errorf("%s: not a little-endian float32 C-order array", path)
	}
	m := npyShapeRe.FindStringSubmatch(hdr)
	if m == nil {
		return nil, 0, 0, fmt.Errorf("%s: not a 2-D or 3-D array", path)
	}
	ny, _ = strconv.Atoi(m[1])
	nx, _ = strconv.Atoi(m[2])
	k := 1
	if m[3] != "" {
		k, _ = strconv.Atoi(m[3])
	}
	body := data[10+hl:]
	if ny <= 0 || nx <= 0 || k <= 0 || ny > 1<<16 || nx > 1<<16 || k > 64 || len(body) != 4*nx*ny*k {
		return nil, 0, 0, fmt.Errorf("%s: shape (%d, %d, %d) does not match its %d data bytes", path, ny, nx, k, len(body))
	}
	v = make([]float32, nx*ny)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i*k:]))
	}
	return v, nx, ny, nil
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

// reportWritten says whether the run output folder out holds its report.
func reportWritten(out string) bool {
	st, err := os.Stat(filepath.Join(out, ReportFileName))
	return err == nil && st.Mode().IsRegular()
}

// fullConfig writes a group's keys one "key=value" a line, for the hover
// over its name.
func fullConfig(keys map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		lines = append(lines, k+"="+keys[k])
	}
	return strings.Join(lines, "\n")
}

// maxIntervalPlotGroups is the most groups drawn in the interval plot:
// past it the plot is taller than a screen and the table reads better.
const maxIntervalPlotGroups = 40

// aggregatesImage puts rliable's interval plot of the groups' median, IQM,
// mean and optimality gap on the page.
func aggregatesImage(p *plotting.BatchPage, g *Groups) error {
	var names []string
	var vals [][]plotting.Interval
	scored := false
	for _, gr := range g.Groups {
		names = append(names, gr.Name)
		vals = append(vals, []plotting.Interval{toInterval(gr.Median), toInterval(gr.IQM), toInterval(gr.Mean), toInterval(gr.OptimalityGap)})
		scored = scored || gr.Scored > 0
	}
	if !scored || len(names) > maxIntervalPlotGroups {
		return nil
	}
	fig, err := plotting.AggregatesFigure(g.Metric, []string{"Median", "IQM", "Mean", "Optimality gap"}, names, vals)
	if err != nil {
		return err
	}
	img, err := plotting.NewImage("Aggregate metrics of "+g.Metric+" per group with 95% intervals (rliable's interval estimates)", fig, "")
	if err != nil {
		return err
	}
	p.Aggregates = &img
	return nil
}
