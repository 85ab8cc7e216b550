package jobs

import (
	"fmt"
	"image/color"

	"github.com/rleval/rleval/plotting"
)

// bufferJob: analyses 14–17: replay-buffer statistics, histograms of the
// observation values, action and reward, the phase portrait coloured by
// action, and the state-coverage 2-D histogram, on the maps' plane.
var bufferJob = Job{Name: "buffer",
	Sections: []Section{{"buffer", "Replay buffer"}, {"phase", "Phase portrait"}, {"coverage", "State coverage"}},
	Needs:    needBuffer, Run: runBuffer}

// bufferStats is buffer.json.
type bufferStats struct {
	Size         int          `json:"size"`
	Capacity     int          `json:"capacity"`
	Index        int          `json:"index"`
	Wrapped      bool         `json:"wrapped"`
	Obs          []namedStats `json:"obs"`
	Action       []namedStats `json:"action"`
	Reward       Stats        `json:"reward"`
	DonesCount   int          `json:"dones_count"`
	DonesPercent num          `json:"dones_percent"`
}

type namedStats struct {
	Name string `json:"name"`
	Stats
}

func runBuffer(c *Context) (*Output, error) {
	b := c.Run.Buffer.V
	st := bufferStats{Size: b.Size, Capacity: b.Capacity, Index: b.Index, Wrapped: b.Size == b.Capacity}
	var names []string
	if c.Plane != nil {
		names = c.Plane.ObsNames
	}
	for d := 0; d < b.ObsDim; d++ {
		name := ""
		if d < len(names) {
			name = names[d]
		}
		st.Obs = append(st.Obs, namedStats{name, statsOf(b.Obs, d, b.ObsDim)})
	}
	for d := 0; d < b.ActDim; d++ {
		st.Action = append(st.Action, namedStats{"action", statsOf(b.Actions, d, b.ActDim)})
	}
	st.Reward = statsOf(b.Rewards, 0, 1)
	for _, d := range b.Dones {
		if d {
			st.DonesCount++
		}
	}
	if b.Size > 0 {
		st.DonesPercent = num(100 * float64(st.DonesCount) / float64(b.Size))
	}
	if err := c.writeJSON("buffer.json", st); err != nil {
		return nil, err
	}
	out := &Output{}
	out.Notes = append(out.Notes, Note{"buffer", fmt.Sprintf("Size %d of capacity %d (obs_dim %d, action_dim %d)%s; dones %d (%.2f%%).",
		st.Size, st.Capacity, b.ObsDim, b.ActDim, map[bool]string{true: ", full: a ring buffer, next write at " + fmt.Sprint(st.Index)}[st.Wrapped],
		st.DonesCount, float64(st.DonesPercent))})
	t := plotting.Table{Caption: "Statistics over the valid rows (std with ddof 0)", Header: []string{"value", "mean", "std", "min", "max"}}
	for _, o := range st.Obs {
		t.Rows = append(t.Rows, statsRow(o.Name, o.Stats))
	}
	for i, a := range st.Action {
		t.Rows = append(t.Rows, statsRow(fmt.Sprintf("action[%d]", i), a.Stats))
	}
	t.Rows = append(t.Rows, statsRow("reward", st.Reward))
	out.table("buffer", t)
	if err := bufferHistograms(c, out); err != nil {
		return nil, err
	}
	if c.Plane == nil {
		return out, nil
	}
	return out, phaseAndCoverage(c, out)
}

// bufferHistograms draws the distributions of the plane's histogrammed
// observation values (all without a preset), each action value and the
// reward.
func bufferHistograms(c *Context, out *Output) error {
	b := c.Run.Buffer.V
	dims := make([]int, b.ObsDim)
	for d := range dims {
		dims[d] = d
	}
	names := make([]string, b.ObsDim)
	for d := range names {
		names[d] = fmt.Sprintf("obs[%d]", d)
	}
	action := "action"
	if pl := c.Plane; pl != nil {
		if pl.HistObs != nil {
			dims = pl.HistObs
		}
		copy(names, pl.ObsNames)
		if pl.Action != "action" {
			action = "action (" + pl.Action + ")"
		}
	}
	var panels []plotting.HistPanel
	for i, d := range dims {
		// The notebook's blue and cyan, then the tab10 cycle.
		var colour color.Color = plotting.Tab10[i%10]
		if i < 2 {
			colour = []color.Color{plotting.TabBlue, plotting.TabCyan}[i]
		}
		panels = append(panels, plotting.NewHistPanel(histTitle(names[d]), column(b.Obs, d, b.ObsDim), c.Opt.HistBins, colour))
	}
	for d := 0; d < b.ActDim; d++ {
		title := action
		if b.ActDim > 1 {
			title = fmt.Sprintf("action[%d]", d)
		}
		panels = append(panels, plotting.NewHistPanel(title, column(b.Actions, d, b.ActDim), c.Opt.HistBins, plotting.TabPurple))
	}
	panels = append(panels, plotting.NewHistPanel("reward", b.Rewards, c.Opt.HistBins, plotting.TabGreen))
	const cols = 2
	rows := (len(panels) + cols - 1) / cols
	for i := range panels {
		if i%cols != 0 {
			panels[i].YLabel = ""
		}
		if i >= (rows-1)*cols {
			panels[i].XLabel = "Value"
		}
	}
	fig, err := plotting.HistogramGrid("Replay buffer data distributions", rows, cols, panels, 0, 0)
	return out.add("buffer", "buffer_histograms", fig, err)
}

// histTitle spells a value's name as the notebook's histogram titles do:
// cos θ as cos(θ).
func histTitle(name string) string {
	for _, fn := range []string{"cos ", "sin "} {
		if len(name) > len(fn) && name[:len(fn)] == fn {
			return fn[:3] + "(" + name[len(fn):] + ")"
		}
	}
	return name
}

// phaseAndCoverage draws every buffer row on the plane coloured by its
// action, and writes the coverage 2-D histogram.
func phaseAndCoverage(c *Context, out *Output) error {
	b, pl := c.Run.Buffer.V, c.Plane
	px, py := make([]float32, b.Size), make([]float32, b.Size)
	for i := 0; i < b.Size; i++ {
		px[i], py[i] = pl.Project(b.Obs[i*b.ObsDim : (i+1)*b.ObsDim])
	}
	nb := c.Opt.CoverageBins
	counts, xe, ye := plotting.Histogram2D(px, py, nb, nb)
	// coverage.npy follows np.histogram2d: axis 0 is x, axis 1 is y.
	cov := make([]float32, nb*nb)
	for iy := 0; iy < nb; iy++ {
		for ix := 0; ix < nb; ix++ {
			cov[ix*nb+iy] = float32(counts[iy*nb+ix])
		}
	}
	if err := c.writeArray("coverage.npy", cov, nb, nb); err != nil {
		return err
	}
	// The notebook's scatter, or a density raster coloured by mean action
	// from plotting.DensityThreshold rows on.
	xlo, xhi, ylo, yhi := pl.Extent()
	xl, yl := plotLabel(pl.X.Label), plotLabel(pl.Y.Label)
	title := "Buffer: phase portrait, colour = action"
	if b.Size >= plotting.DensityThreshold {
		title = "Buffer: phase portrait, colour = mean action, shade = log density"
	}
	phase, err := plotting.PhasePortrait(px, py, column(b.Actions, 0, b.ActDim), plotting.PhaseOptions{
		Title: title, XLabel: xl, YLabel: yl,
		ColorLabel: "action", Colormap: plotting.RdBuR(), XMin: xlo, XMax: xhi, YMin: ylo, YMax: yhi})
	phase, err = withTicks(phase, err, pl)
	if err := out.add("phase", "phase_portrait", phase, err); err != nil {
		return err
	}
	fig, err := plotting.CoverageFigure(counts, nb, nb, xe, ye, xl, yl)
	fig, err = withTicks(fig, err, pl)
	return out.add("coverage", "coverage", fig, err)
}
