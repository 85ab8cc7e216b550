package jobs

import (
	"fmt"
	"github.com/rleval/rleval/internal/atomicfile"
	"math"
	"path/filepath"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// page collects the report of one run as the jobs produce it. Sections
// come from plotting.NewReport in the notebook's order, whatever order the
// jobs run in.
type page struct {
	run    *loaders.Run
	report *plotting.Report
}

func newPage(r *loaders.Run) *page {
	var sub []string
	sub = append(sub, r.Dir)
	if !r.Started.IsZero() {
		sub = append(sub, "started "+r.Started.Format("2006-01-02 15:04:05"))
	}
	return &page{run: r, report: plotting.NewReport(r.Name, sub...)}
}

// section returns the report section with the given id (a plotting
// Section* constant).
func (p *page) section(id string) *plotting.Section {
	s, ok := p.report.Section(id)
	if !ok {
		p.report.Sections = append(p.report.Sections, plotting.Section{ID: id, Title: id})
		s = &p.report.Sections[len(p.report.Sections)-1]
	}
	return s
}

// figure writes fig under plots/ in every requested format and adds it to
// a report section. Drawing and encoding happen in the background, so they
// overlap the next job's evaluation; finishRenders collects them in the
// order they were asked for. The PNG is always made: the report embeds it.
func (c *Context) figure(sectionID, name string, fig *plotting.Figure, err error) error {
	if err != nil {
		return err
	}
	r := &render{section: sectionID, job: c.job}
	c.renders = append(c.renders, r)
	c.renderSem <- struct{}{}
	c.renderWG.Add(1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("figure %s: internal error (please report): %v", name, p)
			}
			<-c.renderSem
			c.renderWG.Done()
		}()
		r.img, r.err = c.encode(name, fig)
	}()
	return nil
}

// render is one figure being drawn in the background.
type render struct {
	section, job string
	img          plotting.Image
	err          error
}

// encode draws fig and writes its files.
func (c *Context) encode(name string, fig *plotting.Figure) (plotting.Image, error) {
	png, err := fig.PNG()
	if err != nil {
		return plotting.Image{}, err
	}
	img := plotting.Image{Title: fig.Title, PNG: png}
	if img.Title == "" && fig.Plot() != nil {
		img.Title = fig.Plot().Title.Text
	}
	for _, format := range c.Opt.Formats {
		data := png
		if format != "png" {
			if data, err = fig.Encode(format); err != nil {
				return img, err
			}
		}
		if err := atomicfile.WriteBytes(filepath.Join(c.Out, "plots", name+"."+format), data); err != nil {
			return img, err
		}
		if format == "svg" {
			img.SVGPath = "plots/" + name + ".svg"
		}
	}
	return img, nil
}

// finishRenders waits for the figures and puts them in the report; a
// figure that failed fails its job.
func (c *Context) finishRenders() {
	c.renderWG.Wait()
	for _, r := range c.renders {
		if r.err == nil {
			s := c.report.section(r.section)
			s.Images = append(s.Images, r.img)
			continue
		}
		for i := range c.summary.Jobs {
			if j := &c.summary.Jobs[i]; j.Name == r.job && j.Status == "ok" {
				j.Status, j.Reason = "failed", r.err.Error()
			}
		}
	}
	c.renders = nil
}

func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.6g", v)
}

func (c *Context) plotModels(infos []modelInfo, l2 *l2Result) error {
	s := c.report.section(plotting.SectionModels)
	t := plotting.Table{Caption: "Architectures (read from the checkpoints' tensor shapes)", Header: []string{"network", "kind", "layers", "parameters", "format", "file"}}
	for _, mi := range infos {
		w := make([]string, len(mi.Widths))
		for i, x := range mi.Widths {
			w[i] = fmt.Sprint(x)
		}
		t.Rows = append(t.Rows, []string{mi.Role, mi.Kind, strings.Join(w, "→"), groupThousands(mi.Params), mi.Format, mi.Path})
	}
	s.Tables = append(s.Tables, t)
	if l2 != nil {
		lt := plotting.Table{Caption: "L2 distance between actor and actor_target", Header: []string{"parameter", "L2"}}
		for _, name := range l2.Order {
			lt.Rows = append(lt.Rows, []string{name, fmt.Sprintf("%.6f", float64(l2.PerParameter[name]))})
		}
		lt.Rows = append(lt.Rows, []string{"total", fmt.Sprintf("%.6f", float64(l2.Total))})
		c.report.section(plotting.SectionTarget).Tables = append(c.report.section(plotting.SectionTarget).Tables, lt)
	}
	for _, role := range []loaders.Role{loaders.RoleActor, loaders.RoleCritic1} {
		n := c.Run.Nets[role]
		if n == nil {
			continue
		}
		var layers []plotting.Layer
		for _, l := range n.Layers {
			layers = append(layers, plotting.Layer{Name: l.Name, In: l.In, Out: l.Out, Weights: l.W, Bias: l.B})
		}
		title := map[loaders.Role]string{loaders.RoleActor: "Weight distribution: Actor", loaders.RoleCritic1: "Weight distribution: Critic 1"}[role]
		fig, err := plotting.WeightHistograms(title, layers)
		if err := c.figure(plotting.SectionWeights, "weights_"+string(role), fig, err); err != nil {
			return err
		}
	}
	return nil
}

// heatmap draws one state-grid map (first action value for k > 1).
func (c *Context) heatmap(sectionID, name, title, colorLabel string, g *graph.Grid, values []float32, k int, cmap *plotting.Colormap, symmetric bool) error {
	rows, cols := g.Shape()
	if k > 1 {
		first := make([]float32, rows*cols)
		for i := range first {
			first[i] = values[i*k]
		}
		values = first
		title += " (action 0)"
	}
	p := c.Preset
	opts := plotting.HeatmapOptions{Title: title, XLabel: plotLabel(p.XLabel), YLabel: plotLabel(p.YLabel), ColorLabel: colorLabel,
		Colormap: cmap, XMin: p.XLo, XMax: p.XHi, YMin: p.YLo, YMax: p.YHi, Symmetric: symmetric}
	fig, err := plotting.Heatmap(values, cols, rows, opts)
	return c.figure(sectionID, name, fig, err)
}

// plotLabel spells θ̇ as dθ/dt: gonum's text drawing drops combining marks.
func plotLabel(s string) string { return strings.ReplaceAll(s, "θ̇", "dθ/dt") }

func (c *Context) plotPolicy(g *graph.Grid, line, target, diff []float32) error {
	actor := c.Run.Nets[loaders.RoleActor]
	k := actor.ActDim
	if line != nil && c.Preset.Line != nil {
		lg := c.Preset.Line(c.Opt.Line)
		x, y := make([]float64, lg.Len()), make([]float64, lg.Len())
		for i := range x {
			x[i], y[i] = c.Preset.LineX(lg, i), float64(line[i*k])
		}
		fig, err := plotting.PolicyLineFigure(x, y)
		if err := c.figure(plotting.SectionPolicy, "policy_1d", fig, err); err != nil {
			return err
		}
	}
	if err := c.heatmap(plotting.SectionPolicy, "policy_grid", "Actor policy: torque(θ, dθ/dt)", "action (torque)", g, c.gridAct, k, plotting.RdBuR(), false); err != nil {
		return err
	}
	if target == nil {
		return nil
	}
	if err := c.heatmap(plotting.SectionTarget, "target_grid", "actor_target policy", "action (torque)", g, target, k, plotting.RdBuR(), false); err != nil {
		return err
	}
	return c.heatmap(plotting.SectionTarget, "policy_diff", "Policy difference: actor − actor_target", "action − action_target", g, diff, k, plotting.RdBuR(), true)
}

func (c *Context) plotBuffer(st bufferStats, px, py []float32, counts []float64, xe, ye []float64) error {
	b := c.Run.Buffer
	s := c.report.section(plotting.SectionBuffer)
	s.Notes = append(s.Notes, fmt.Sprintf("Size %d of capacity %d (obs_dim %d, action_dim %d)%s; dones %d (%.2f%%).",
		st.Size, st.Capacity, b.ObsDim, b.ActDim, map[bool]string{true: ", full: a ring buffer, next write at " + fmt.Sprint(st.Index)}[st.Wrapped],
		st.DonesCount, float64(st.DonesPercent)))
	t := plotting.Table{Caption: "Statistics over the valid rows (std with ddof 0)", Header: []string{"value", "mean", "std", "min", "max"}}
	add := func(name string, x Stats) {
		t.Rows = append(t.Rows, []string{name, fmtNum(float64(x.Mean)), fmtNum(float64(x.Std)), fmtNum(float64(x.Min)), fmtNum(float64(x.Max))})
	}
	for _, o := range st.Obs {
		add(o.Name, o.Stats)
	}
	for i, a := range st.Action {
		add(fmt.Sprintf("action[%d]", i), a.Stats)
	}
	add("reward", st.Reward)
	s.Tables = append(s.Tables, t)

	column := func(v []float32, d, stride int) []float32 {
		out := make([]float32, 0, len(v)/stride)
		for i := d; i < len(v); i += stride {
			out = append(out, v[i])
		}
		return out
	}
	var fig *plotting.Figure
	var err error
	if c.Preset.Name == "pendulum" {
		fig, err = plotting.BufferHistograms(column(b.Obs, 0, 3), column(b.Obs, 1, 3), column(b.Actions, 0, b.ActDim), b.Rewards)
	} else {
		var panels []plotting.HistPanel
		for d := 0; d < b.ObsDim; d++ {
			panels = append(panels, plotting.NewHistPanel(c.Preset.ObsNames[d], column(b.Obs, d, b.ObsDim), c.Opt.HistBins, plotting.Tab10[d%10]))
		}
		for d := 0; d < b.ActDim; d++ {
			panels = append(panels, plotting.NewHistPanel(fmt.Sprintf("action[%d]", d), column(b.Actions, d, b.ActDim), c.Opt.HistBins, plotting.TabPurple))
		}
		panels = append(panels, plotting.NewHistPanel("reward", b.Rewards, c.Opt.HistBins, plotting.TabGreen))
		cols := 2
		fig, err = plotting.HistogramGrid("Replay buffer data distributions", (len(panels)+cols-1)/cols, cols, panels, 0, 0)
	}
	if err := c.figure(plotting.SectionBuffer, "buffer_histograms", fig, err); err != nil {
		return err
	}

	// The phase portrait: the notebook's scatter, or a density raster
	// coloured by mean action from plotting.DensityThreshold rows on.
	p := c.Preset
	phase, err := plotting.PhasePortrait(px, py, column(b.Actions, 0, b.ActDim), plotting.PhaseOptions{
		Title: "Buffer: phase portrait, colour = action", XLabel: plotLabel(p.XLabel), YLabel: plotLabel(p.YLabel),
		ColorLabel: "action", Colormap: plotting.RdBuR(), XMin: p.XLo, XMax: p.XHi, YMin: p.YLo, YMax: p.YHi})
	if err := c.figure(plotting.SectionPhase, "phase_portrait", phase, err); err != nil {
		return err
	}
	nx, ny := len(xe)-1, len(ye)-1
	cov, err := plotting.CoverageFigure(counts, nx, ny, xe, ye)
	if err == nil && p.Name != "pendulum" {
		cov.Plot().X.Label.Text, cov.Plot().Y.Label.Text = plotLabel(p.XLabel), plotLabel(p.YLabel)
	}
	return c.figure(plotting.SectionCoverage, "coverage", cov, err)
}

func (c *Context) plotQValues(st qStats) error {
	s := c.report.section(plotting.SectionQValues)
	t := plotting.Table{Caption: "min(Q1, Q2) over the buffer", Header: []string{"", "mean", "std", "min", "max"}}
	for _, r := range []struct {
		name string
		x    Stats
	}{{"Q(s, a_buffer)", st.QBuffer}, {"Q(s, π(s))", st.QPolicy}} {
		t.Rows = append(t.Rows, []string{r.name, fmtNum(float64(r.x.Mean)), fmtNum(float64(r.x.Std)), fmtNum(float64(r.x.Min)), fmtNum(float64(r.x.Max))})
	}
	s.Tables = append(s.Tables, t)
	fig, err := plotting.QHistograms(c.qBuffer, c.qPolicy)
	if err := c.figure(plotting.SectionQValues, "q_histograms", fig, err); err != nil {
		return err
	}
	if c.gridQ == nil {
		return nil
	}
	g := c.Preset.Grid(c.Opt.Grid)
	return c.heatmap(plotting.SectionQValues, "q_grid", "Q(s, π(s)) = min(Q1, Q2) on the state grid", "Q-value", g, c.gridQ, 1, plotting.Viridis(), false)
}

func (c *Context) plotMaps(g *graph.Grid, maps []namedMap) error {
	for _, m := range maps {
		cmap := plotting.Viridis()
		if m.diverging {
			cmap = plotting.RdBuR()
		}
		if err := c.heatmap(plotting.SectionExtra, m.name, m.title, "Q-value", g, m.values, 1, cmap, m.diverging); err != nil {
			return err
		}
	}
	return nil
}

// summaryTables fills the summary and jobs sections.
func (c *Context) summaryTables() {
	r := c.Run
	s := c.report.section(plotting.SectionSummary)
	if cv := configOf(r.Config); cv != nil {
		s.Tables = append(s.Tables, plotting.Table{Caption: "Configuration", Header: []string{"field", "value"}, Rows: [][]string{
			{"experiment", cv.ExperimentName}, {"environment", cv.Env}, {"algorithm", cv.Algorithm},
			{"exploration steps", fmt.Sprint(cv.ExplorationSteps)}, {"train start step", fmt.Sprint(cv.TrainStartStep)},
			{"evaluation frequency", fmt.Sprint(cv.EvalFrequency)}, {"log frequency", fmt.Sprint(cv.LogFrequency)},
		}})
	}
	if lg := r.Log; lg != nil {
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
	jt := plotting.Table{Caption: "Jobs", Header: []string{"job", "status", "reason"}}
	for _, j := range c.summary.Jobs {
		jt.Rows = append(jt.Rows, []string{j.Name, j.Status, j.Reason})
	}
	c.report.section(plotting.SectionSkipped).Tables = append(c.report.section(plotting.SectionSkipped).Tables, jt)
}

func (p *page) write(c *Context) error {
	c.summaryTables()
	return plotting.WriteReport(c.path("report.html"), p.report)
}
