package plotting

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HistPanel is one histogram of a HistogramGrid, given as counts and edges
// (len(Edges) == len(Counts)+1), as Histogram returns them.
type HistPanel struct {
	// Title, XLabel and YLabel label the panel.
	Title, XLabel, YLabel string
	// Counts and Edges are the bins: Counts[i] values in [Edges[i], Edges[i+1]).
	Counts []int
	// Edges are the bin edges, one more than Counts.
	Edges []float64
	// Color fills the bars at alpha 0.7; nil means TabBlue.
	Color color.Color
}

// NewHistPanel bins values into bins bins with Histogram and labels the
// panel like the notebook (y label "Frequency").
func NewHistPanel(title string, values []float32, bins int, c color.Color) HistPanel {
	counts, edges := Histogram(values, bins)
	return HistPanel{Title: title, YLabel: "Frequency", Counts: counts, Edges: edges, Color: c}
}

// HistogramGrid draws panels in a rows × cols grid under title, bars filled
// at alpha 0.7 with thin black edges (the notebook's plt.hist style). Zero
// width or height means 14in wide and 3in (5in for one row) per row.
func HistogramGrid(title string, rows, cols int, panels []HistPanel, width, height vg.Length) (*Figure, error) {
	if rows <= 0 || cols <= 0 || len(panels) > rows*cols {
		return nil, fmt.Errorf("histogram grid %q: %d panels do not fit %d × %d", title, len(panels), rows, cols)
	}
	f := &Figure{Title: title, Rows: rows, Cols: cols, Width: width, Height: height}
	if width <= 0 || height <= 0 {
		f.Width = 14 * vg.Inch
		f.Height = vg.Length(rows) * 3 * vg.Inch
		if rows == 1 {
			f.Height = 5 * vg.Inch
		}
		if rows == 2 && cols == 2 {
			f.Height = 10 * vg.Inch
		}
		if title != "" {
			f.Height += vg.Points(21.6) // 30 px at DPI
		}
	}
	for i, hp := range panels {
		if len(hp.Edges) != len(hp.Counts)+1 {
			return nil, fmt.Errorf("histogram grid %q: panel %d (%q): %d edges for %d bins", title, i, hp.Title, len(hp.Edges), len(hp.Counts))
		}
		p := NewPlot(hp.Title, hp.XLabel, hp.YLabel)
		addGrid(p)
		c := hp.Color
		if c == nil {
			c = TabBlue
		}
		bins := make([]plotter.HistogramBin, len(hp.Counts))
		for k, n := range hp.Counts {
			bins[k] = plotter.HistogramBin{Min: hp.Edges[k], Max: hp.Edges[k+1], Weight: float64(n)}
		}
		h := &plotter.Histogram{
			Bins:      bins,
			Width:     hp.Edges[len(hp.Edges)-1] - hp.Edges[0],
			FillColor: withAlpha(c, 0.7),
			LineStyle: draw.LineStyle{Color: color.Black, Width: vg.Points(0.3)},
		}
		p.Add(h)
		addMargins(p, 0.05)
		p.Y.Min = 0 // bars stand on the axis, as in matplotlib
		f.Panels = append(f.Panels, Panel{Plot: p})
	}
	return f, nil
}

// Layer is one Linear layer's parameters for WeightHistograms.
type Layer struct {
	// Name is the module name, e.g. "net_body.0".
	Name string
	// In and Out are the layer's input and output features; Weights holds
	// Out*In values and Bias Out values.
	In, Out int
	// Weights are the layer's weights, flattened.
	Weights []float32
	// Bias is the layer's bias.
	Bias []float32
}

// Bins of the notebook's weight and bias histograms.
const (
	WeightBins = 80
	BiasBins   = 40
)

// WeightHistograms draws one row per layer: weights (80 bins, blue) titled
// "net_body.0 weights [3→256]" and biases (40 bins, orange) titled
// "net_body.0 bias [256]", under title (e.g. "Weight distribution: Actor").
func WeightHistograms(title string, layers []Layer) (*Figure, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("weight histograms %q: no layers", title)
	}
	var panels []HistPanel
	for _, l := range layers {
		w := NewHistPanel(fmt.Sprintf("%s weights [%d→%d]", l.Name, l.In, l.Out), l.Weights, WeightBins, TabBlue)
		b := NewHistPanel(fmt.Sprintf("%s bias [%d]", l.Name, l.Out), l.Bias, BiasBins, TabOrange)
		b.YLabel = ""
		panels = append(panels, w, b)
	}
	return HistogramGrid(title, len(layers), 2, panels, 0, 0)
}

// QHistograms is the notebook's 1 × 2 grid of Q-value distributions (100
// bins each): Q(s, a) with buffer actions and Q(s, π(s)) with the actor's.
func QHistograms(qBuffer, qPolicy []float32) (*Figure, error) {
	const bins = 100
	panels := []HistPanel{
		NewHistPanel("Q(s, a) — buffer actions", qBuffer, bins, TabBlue),
		NewHistPanel("Q(s, π(s)) — actor actions", qPolicy, bins, TabRed),
	}
	panels[1].YLabel = ""
	panels[0].XLabel, panels[1].XLabel = "Q-value", "Q-value"
	return HistogramGrid("Distribution of Q-values (min(Q1, Q2))", 1, 2, panels, 0, 0)
}
