package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/plotting"
)

// Plot size: wide enough for a legend of three devices × three workloads.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.5 * vg.Inch
)

// Plot returns a log–log plot of rows/s against batch size: one line per
// device and workload, a colour per device and a dash pattern per workload.
func (r *Report) Plot() (*plot.Plot, error) {
	// The style of every rleval figure: sans-serif text, light grid,
	// Tab10 colours.
	p := plotting.NewPlot(fmt.Sprintf("rleval bench: rows/s by batch size (actor %s, critic %s)", r.Nets.Actor, r.Nets.Critic),
		"batch size (rows)", "rows/s")
	p.BackgroundColor = color.White
	p.X.Padding, p.Y.Padding = vg.Points(4), vg.Points(4)
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	// Rates rise with the batch size, so the lower right is the free corner.
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = vg.Points(8)
	p.Add(plotting.NewGrid())

	var devices []string
	seen := map[string]bool{}
	for _, res := range r.Results {
		if !seen[res.Device] {
			seen[res.Device] = true
			devices = append(devices, res.Device)
		}
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	lines := 0
	for di, dev := range devices {
		for wi, w := range Workloads {
			var xy plotter.XYs
			for _, res := range r.Results {
				// A log axis cannot show zero or less; such a row would be
				// a bug upstream, and the table still shows it.
				if res.Device != dev || res.Workload != w || res.Batch <= 0 || !(res.RowsPerS > 0) || math.IsInf(res.RowsPerS, 0) {
					continue
				}
				xy = append(xy, plotter.XY{X: float64(res.Batch), Y: res.RowsPerS})
				xmin, xmax = min(xmin, float64(res.Batch)), max(xmax, float64(res.Batch))
				ymin, ymax = min(ymin, res.RowsPerS), max(ymax, res.RowsPerS)
			}
			if len(xy) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, fmt.Errorf("bench: plot %s %s: %w", dev, w, err)
			}
			l.Color = plotting.Tab10[di%len(plotting.Tab10)]
			l.Width = vg.Points(1.5)
			l.Dashes = plotutil.Dashes(wi)
			s.Color = l.Color
			s.Shape = plotutil.Shape(wi)
			p.Add(l, s)
			p.Legend.Add(dev+" "+string(w), l, s)
			lines++
		}
	}
	if lines == 0 {
		return nil, fmt.Errorf("bench: plot: no results with positive rows/s to plot")
	}
	// A log axis needs a range; widen a single point's.
	p.X.Min, p.X.Max = widen(xmin, xmax)
	p.Y.Min, p.Y.Max = widen(ymin, ymax)
	return p, nil
}

// widen returns [lo, hi], or a decade either side when they are equal.
func widen(lo, hi float64) (float64, float64) {
	if lo < hi {
		return lo, hi
	}
	return lo / 10, hi * 10
}

// WritePlot writes the plot to w in format "png", "svg", "pdf" or "eps".
func (r *Report) WritePlot(w io.Writer, format string) error {
	p, err := r.Plot()
	if err != nil {
		return err
	}
	if format == "png" || format == "svg" {
		// Drawn as every rleval figure is, with its margins.
		b, err := plotting.NewFigure(p, plotWidth, plotHeight).Encode(format)
		if err != nil {
			return fmt.Errorf("bench: plot: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	wt, err := p.WriterTo(plotWidth, plotHeight, format)
	if err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	_, err = wt.WriteTo(w)
	return err
}

// SavePlot writes the plot atomically to path, in the format its extension
// names (.png, .svg, .pdf, .eps).
func (r *Report) SavePlot(path string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch format {
	case "png", "svg", "pdf", "eps":
	default:
		return fmt.Errorf("bench: plot %s: unknown format %q (use .png, .svg, .pdf or .eps)", path, format)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return r.WritePlot(w, format) })
}
