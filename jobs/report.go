package jobs

import (
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"gonum.org/v1/plot"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/plotting"
)

// page assembles the report of one run from what the jobs return. Its
// sections are those of the jobs that concern the run, in registry order,
// so the page reads the same whatever order the jobs run in. Figures are drawn and encoded in the background, overlapping
// the next job's evaluation; finish collects them in the order they came.
type page struct {
	c       *Context
	report  *plotting.Report
	renders []*render
	wg      sync.WaitGroup
	sem     chan struct{}
}

// render is one figure being drawn in the background.
type render struct {
	section, job string
	fallback     bool // a static copy of the job's charts in the section
	img          plotting.Image
	err          error
}

func newPage(c *Context, sections []Section) *page {
	r := c.Run
	sub := []string{r.Dir}
	if !r.Started.IsZero() {
		sub = append(sub, "started "+r.Started.Format("2006-01-02 15:04:05"))
	}
	var secs []plotting.Section
	for _, s := range sections {
		secs = append(secs, plotting.Section{ID: s.ID, Title: s.Title})
	}
	title := r.Name
	if r.Config.V != nil {
		title = NameWithAlgorithm(title, strings.ToLower(r.Config.V.Algorithm.Type))
	}
	rep := plotting.NewReport(title, sub, secs...)
	return &page{c: c, report: rep, sem: make(chan struct{}, runtime.NumCPU())}
}

// section returns the report section with the given id, adding it at the
// end (before nothing) if no job declared it.
func (p *page) section(id string) *plotting.Section {
	s, ok := p.report.Section(id)
	if !ok {
		p.report.Sections = append(p.report.Sections, plotting.Section{ID: id, Title: id})
		s = &p.report.Sections[len(p.report.Sections)-1]
	}
	return s
}

// add puts a job's notes and tables in their sections and starts drawing
// its figures.
func (p *page) add(job string, out *Output) {
	for _, n := range out.Notes {
		s := p.section(n.Section)
		s.Notes = append(s.Notes, n.Text)
	}
	for _, t := range out.Tables {
		s := p.section(t.Section)
		s.Tables = append(s.Tables, t.Table)
	}
	charts := map[string]bool{}
	for _, h := range out.Interactive {
		s := p.section(h.Section)
		s.Interactive += h.HTML
		s.Charts += h.Charts
		charts[h.Section] = true
	}
	for _, f := range out.Figures {
		r := &render{section: f.Section, job: job, fallback: charts[f.Section]}
		p.renders = append(p.renders, r)
		p.sem <- struct{}{}
		p.wg.Add(1)
		go func() {
			defer func() {
				if e := recover(); e != nil {
					r.err = fmt.Errorf("figure %s: internal error (please report): %v", f.Name, e)
				}
				<-p.sem
				p.wg.Done()
			}()
			r.img, r.err = p.encode(f.Name, f.Fig)
			r.img.Fallback = r.fallback
		}()
	}
}

// encode draws fig and writes its files under plots/ in every requested
// format. The PNG is always made: the report embeds it.
func (p *page) encode(name string, fig *plotting.Figure) (plotting.Image, error) {
	png, err := fig.PNG()
	if err != nil {
		return plotting.Image{}, err
	}
	img := plotting.Image{Title: fig.Title, PNG: png}
	if img.Title == "" && fig.Plot() != nil {
		img.Title = fig.Plot().Title.Text
	}
	for _, format := range p.c.Opt.Formats {
		data := png
		if format != "png" {
			if data, err = fig.Encode(format); err != nil {
				return img, err
			}
		}
		if err := atomicfile.WriteBytes(filepath.Join(p.c.Out, "plots", name+"."+format), data); err != nil {
			return img, err
		}
		if format == "svg" {
			img.SVGPath = "plots/" + name + ".svg"
		}
	}
	return img, nil
}

func (p *page) wait() { p.wg.Wait() }

// finish waits for the figures and puts them in the report; a figure that
// failed fails its job.
func (p *page) finish(sum *RunSummary) {
	p.wg.Wait()
	for _, r := range p.renders {
		if r.err == nil {
			s := p.section(r.section)
			s.Images = append(s.Images, r.img)
			continue
		}
		for i := range sum.Jobs {
			if j := &sum.Jobs[i]; j.Name == r.job && j.Status == "ok" {
				j.Status, j.Reason = "failed", r.err.Error()
			}
		}
	}
	p.renders = nil
}

func (p *page) write(sum *RunSummary) error {
	p.summaryTables(sum)
	return plotting.WriteReport(p.c.path("report.html"), p.report)
}

// summaryTables fills the summary and skipped-jobs sections.
func (p *page) summaryTables(sum *RunSummary) {
	r := p.c.Run
	s := p.section(sectionSummary.ID)
	if pl := p.c.Plane; pl != nil {
		s.Notes = append(s.Notes, "Maps: "+pl.Describe()+".")
		if w := pl.DataWarning(); w != "" {
			s.Notes = append(s.Notes, w)
		}
	}
	if cv := configOf(r.Config.V); cv != nil {
		rows := [][]string{{"experiment", cv.ExperimentName}, {"environment", cv.Env}, {"algorithm", cv.Algorithm}}
		for _, kv := range cv.numbers() {
			rows = append(rows, []string{strings.ToLower(kv[0]), kv[1]})
		}
		s.Tables = append(s.Tables, plotting.Table{Caption: "Configuration", Header: []string{"field", "value"}, Rows: rows})
	}
	if lg := r.Log.V; lg != nil {
		s.Tables = append(s.Tables, plotting.Table{Caption: "Training log " + lg.Path, Header: []string{"records", "count", "steps"}, Rows: [][]string{
			{"step", fmt.Sprint(lg.Steps.Count), stepRange(&lg.Steps)},
			{"evaluation", fmt.Sprint(lg.Evals.Count), stepRange(&lg.Evals)},
			{"final_evaluation", fmt.Sprint(lg.Finals.Count), stepRange(&lg.Finals)},
			{"skipped lines", fmt.Sprint(lg.SkippedCount), ""},
		}})
	}
	if probs := r.Problems(); len(probs) > 0 {
		pt := plotting.Table{Caption: "Inputs that are missing or could not be read", Header: []string{"problem"}}
		for _, p := range probs {
			pt.Rows = append(pt.Rows, []string{p.Error()})
		}
		s.Tables = append(s.Tables, pt)
	}
	if ns := r.NotSaved(); len(ns) > 0 {
		nt := plotting.Table{Caption: "Files " + r.Library + " does not save (not a problem)", Header: []string{"file"}}
		for _, n := range ns {
			nt.Rows = append(nt.Rows, []string{n})
		}
		s.Tables = append(s.Tables, nt)
	}
	// Only the jobs that did not run, and why (the others have their
	// sections); a failed job is listed too, as it left nothing else.
	jt := plotting.Table{Caption: "Jobs skipped or failed", Header: []string{"job", "status", "reason"}}
	for _, j := range sum.Jobs {
		if j.Status != "ok" {
			jt.Rows = append(jt.Rows, []string{j.Name, j.Status, j.Reason})
		}
	}
	sk := p.section(sectionSkipped.ID)
	if len(jt.Rows) == 0 {
		sk.Notes = append(sk.Notes, fmt.Sprintf("None: all %s ran.", plural.N(len(sum.Jobs), "job")))
		return
	}
	sk.Tables = append(sk.Tables, jt)
}

func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.6g", v)
}

// statsRow is a table row of Stats.
func statsRow(name string, x Stats) []string {
	return []string{name, fmtNum(float64(x.Mean)), fmtNum(float64(x.Std)), fmtNum(float64(x.Min)), fmtNum(float64(x.Max))}
}

// mapFigure draws one map over the plane's grid of rows × cols cells (the
// first action value for k > 1).
func mapFigure(pl *Plane, title, colorLabel string, values []float32, rows, cols, k int, cmap *plotting.Colormap, symmetric bool) (*plotting.Figure, error) {
	return mapFigureOpts(pl, title, colorLabel, values, rows, cols, k, plotting.HeatmapOptions{Colormap: cmap, Symmetric: symmetric})
}

// mapFigureRange is mapFigure with the colour scale from lo to hi, so that
// maps drawn apart (a run's checkpoints) compare.
func mapFigureRange(pl *Plane, title, colorLabel string, values []float32, rows, cols, k int, cmap *plotting.Colormap, lo, hi float64) (*plotting.Figure, error) {
	o := plotting.HeatmapOptions{Colormap: cmap}
	if lo < hi {
		o.VMin, o.VMax = lo, hi
	}
	return mapFigureOpts(pl, title, colorLabel, values, rows, cols, k, o)
}

func mapFigureOpts(pl *Plane, title, colorLabel string, values []float32, rows, cols, k int, o plotting.HeatmapOptions) (*plotting.Figure, error) {
	if k > 1 {
		first := make([]float32, rows*cols)
		for i := range first {
			first[i] = values[i*k]
		}
		values = first
		title += " (action 0)"
	}
	xlo, xhi, ylo, yhi := pl.Extent()
	o.Title, o.XLabel, o.YLabel, o.ColorLabel = title, plotLabel(pl.X.Label), plotLabel(pl.Y.Label), colorLabel
	o.XMin, o.XMax, o.YMin, o.YMax = xlo, xhi, ylo, yhi
	fig, err := plotting.Heatmap(values, cols, rows, o)
	fig, err = withTicks(fig, err, pl)
	if err == nil {
		decorateMap(fig, pl)
	}
	return fig, err
}

// withTicks sets the plane's ticks, where it has them, on fig's first plot.
func withTicks(fig *plotting.Figure, err error, pl *Plane) (*plotting.Figure, error) {
	if err != nil || fig.Plot() == nil {
		return fig, err
	}
	if t := pl.X.Ticks; t != nil {
		fig.Plot().X.Tick.Marker = constTicks(t)
	}
	if t := pl.Y.Ticks; t != nil {
		fig.Plot().Y.Tick.Marker = constTicks(t)
	}
	return fig, nil
}

func constTicks(at []float64) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(at))
	for i, v := range at {
		t[i] = plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)}
	}
	return t
}

// plotLabel spells a time derivative ẋ as dx/dt: gonum's text drawing
// drops combining marks (U+0307, the dot above).
func plotLabel(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		if i+1 < len(r) && r[i+1] == '\u0307' {
			b.WriteString("d" + string(r[i]) + "/dt")
			i++
			continue
		}
		b.WriteRune(r[i])
	}
	return b.String()
}

// mapTitle is "<what>: <action>(<x>, <y>)", e.g. "Actor policy: torque(θ, dθ/dt)".
func mapTitle(pl *Plane, what string) string {
	return fmt.Sprintf("%s: %s(%s, %s)", what, pl.Action, plotLabel(axisName(pl.X.Label)), plotLabel(axisName(pl.Y.Label)))
}

// axisName drops the unit from an axis label.
func axisName(label string) string {
	if i := strings.Index(label, " ("); i > 0 {
		return label[:i]
	}
	return label
}

// column returns column d of a row-major array with stride columns.
func column(v []float32, d, stride int) []float32 {
	out := make([]float32, 0, len(v)/max(stride, 1))
	for i := d; i < len(v); i += stride {
		out = append(out, v[i])
	}
	return out
}

// mapShape is the shape of a map array: (N, N), or (N, N, k) for k > 1
// values per cell.
func mapShape(rows, cols, k int) []int {
	if k == 1 {
		return []int{rows, cols}
	}
	return []int{rows, cols, k}
}

// maxAbs returns max |v| over finite values (0 for none): the symmetric
// colour limits of a difference map.
func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		a := math.Abs(float64(x))
		if a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	return m
}
