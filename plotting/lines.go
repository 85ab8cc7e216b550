package plotting

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// matplotlib's tab10 colours, the default colour cycle.
var (
	TabBlue   = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	TabOrange = color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	TabGreen  = color.RGBA{0x2c, 0xa0, 0x2c, 0xff}
	TabRed    = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	TabPurple = color.RGBA{0x94, 0x67, 0xbd, 0xff}
	TabBrown  = color.RGBA{0x8c, 0x56, 0x4b, 0xff}
	TabPink   = color.RGBA{0xe3, 0x77, 0xc2, 0xff}
	TabGray   = color.RGBA{0x7f, 0x7f, 0x7f, 0xff}
	TabOlive  = color.RGBA{0xbc, 0xbd, 0x22, 0xff}
	TabCyan   = color.RGBA{0x17, 0xbe, 0xcf, 0xff}
)

// Tab10 is matplotlib's default colour cycle; series without a colour take
// Tab10[i%10].
var Tab10 = []color.RGBA{TabBlue, TabOrange, TabGreen, TabRed, TabPurple, TabBrown, TabPink, TabGray, TabOlive, TabCyan}

// Series is one line of a line plot.
type Series struct {
	// Label names the line in the legend; empty keeps it out.
	Label string
	// X and Y are the points; non-finite points break the line. Extra
	// elements of the longer slice are ignored.
	X, Y []float64
	// Color is the line colour; nil takes the next Tab10 colour.
	Color color.Color
	// Alpha, if in (0, 1), makes the line translucent (matplotlib's alpha).
	Alpha float64
	// Width is the line width; 0 means 1pt.
	Width vg.Length
	// Dashed draws a dashed line.
	Dashed bool
	// Markers draws a dot of diameter 3pt at each point ('o-', markersize=3).
	Markers bool
	// Smooth, if in (0, 1), draws the series smoothed with SmoothEMA at
	// this weight, over the raw series drawn faint (TensorBoard's view).
	Smooth float64
}

// rawAlpha is the opacity of the raw series under a smoothed one, relative
// to the series' own.
const rawAlpha = 0.25

// Band fills the area between Lo and Hi over X (matplotlib's fill_between).
type Band struct {
	// Label names the band in the legend; empty keeps it out.
	Label string
	// X, Lo, Hi give the lower and upper edge at each x.
	X, Lo, Hi []float64
	// Color is the fill colour, drawn at Alpha (0 means 0.2).
	Color color.Color
	// Alpha is the fill opacity; 0 means 0.2.
	Alpha float64
}

// RefLine is a horizontal or vertical reference line across the plot, like
// axhline and axvline.
type RefLine struct {
	// Label names the line in the legend; empty keeps it out.
	Label string
	// Vertical selects x = At; otherwise the line is y = At.
	Vertical bool
	// At is the line's position in data coordinates.
	At float64
	// Color is the line colour, drawn at Alpha (0 means opaque); nil is black.
	Color color.Color
	// Alpha is the line opacity; 0 means 1.
	Alpha float64
	// Width is the line width; 0 means 1pt.
	Width vg.Length
	// Dashed draws a dashed line.
	Dashed bool
}

// LineOptions configures Lines.
type LineOptions struct {
	// Title, XLabel and YLabel label the plot.
	Title, XLabel, YLabel string
	// Bands are drawn first, under the lines.
	Bands []Band
	// RefLines are drawn under the series.
	RefLines []RefLine
	// LegendLeft and LegendBottom move the legend from the top right.
	LegendLeft, LegendBottom bool
	// Width and Height are the figure size; zero means 14in × 5in, the
	// notebook's figsize.
	Width, Height vg.Length
}

// Lines draws series over light grid lines, with a legend when any series,
// band or reference line has a label. Axis ranges get matplotlib's 5%
// margins.
func Lines(opts LineOptions, series ...Series) (*Figure, error) {
	p := NewPlot(opts.Title, opts.XLabel, opts.YLabel)
	addGrid(p)
	for _, b := range opts.Bands {
		if err := addBand(p, b); err != nil {
			return nil, fmt.Errorf("line plot %q: %w", opts.Title, err)
		}
	}
	next := 0
	for i, s := range series {
		if s.Color == nil {
			s.Color = Tab10[next%len(Tab10)]
			next++
		}
		if err := addSeries(p, s); err != nil {
			return nil, fmt.Errorf("line plot %q: series %d (%q): %w", opts.Title, i, s.Label, err)
		}
	}
	addMargins(p, 0.05)
	// Reference lines span the final axis range, so they come last.
	for _, r := range opts.RefLines {
		addRefLine(p, r)
	}
	p.Legend.Left = opts.LegendLeft
	p.Legend.Top = !opts.LegendBottom
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), -vg.Points(6)
	if opts.LegendLeft {
		p.Legend.XOffs = vg.Points(6)
	}
	if opts.LegendBottom {
		p.Legend.YOffs = vg.Points(6)
	}
	w, h := opts.Width, opts.Height
	if w <= 0 || h <= 0 {
		w, h = 14*vg.Inch, 5*vg.Inch
	}
	return NewFigure(p, w, h), nil
}

// withAlpha returns c with its opacity multiplied by alpha when alpha is in
// (0, 1).
func withAlpha(c color.Color, alpha float64) color.Color {
	if c == nil {
		c = color.Black
	}
	if !(alpha > 0 && alpha < 1) {
		return c
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = uint8(math.Round(float64(n.A) * alpha))
	return n
}

// finiteSpans returns the [start, end) ranges of the runs of finite
// (x, y) points.
func finiteSpans(x, y []float64) [][2]int {
	n := min(len(x), len(y))
	var spans [][2]int
	start := -1
	for i := range n {
		if finite(x[i]) && finite(y[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			spans = append(spans, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, n})
	}
	return spans
}

func addSeries(p *plot.Plot, s Series) error {
	if len(s.X) != len(s.Y) {
		return fmt.Errorf("%d x values but %d y values", len(s.X), len(s.Y))
	}
	if s.Smooth > 0 && s.Smooth < 1 {
		raw := s
		raw.Label, raw.Smooth, raw.Markers = "", 0, false
		a := s.Alpha
		if !(a > 0 && a < 1) {
			a = 1
		}
		raw.Alpha = a * rawAlpha
		if err := addSeries(p, raw); err != nil {
			return err
		}
		s.Y, s.Smooth = SmoothEMA(s.Y, s.Smooth), 0
	}
	sty := draw.LineStyle{Color: withAlpha(s.Color, s.Alpha), Width: s.Width}
	if sty.Width <= 0 {
		sty.Width = vg.Points(1)
	}
	if s.Dashed {
		sty.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	glyph := draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
	var thumbs []plot.Thumbnailer
	for _, span := range finiteSpans(s.X, s.Y) {
		x, y := s.X[span[0]:span[1]], s.Y[span[0]:span[1]]
		if len(x) >= denseMin && slices.IsSorted(x) && !s.Markers {
			d := &denseLine{x: x, y: y, style: sty}
			p.Add(d)
			if thumbs == nil {
				thumbs = append(thumbs, d)
			}
			continue
		}
		run := make(plotter.XYs, len(x))
		for i := range x {
			run[i] = plotter.XY{X: x[i], Y: y[i]}
		}
		if len(run) > 1 {
			l, err := plotter.NewLine(run)
			if err != nil {
				return err
			}
			l.LineStyle = sty
			p.Add(l)
			if thumbs == nil {
				thumbs = append(thumbs, l)
			}
		}
		if s.Markers || len(run) == 1 {
			sc, err := plotter.NewScatter(run)
			if err != nil {
				return err
			}
			sc.GlyphStyle = glyph
			p.Add(sc)
			if len(thumbs) < 2 && s.Markers {
				thumbs = append(thumbs, sc)
			}
		}
	}
	if s.Label != "" {
		if thumbs == nil {
			l := &plotter.Line{LineStyle: sty}
			thumbs = append(thumbs, l)
		}
		p.Legend.Add(s.Label, thumbs...)
	}
	return nil
}

func addBand(p *plot.Plot, b Band) error {
	if len(b.X) != len(b.Lo) || len(b.X) != len(b.Hi) {
		return fmt.Errorf("band %q: %d x, %d lower and %d upper values", b.Label, len(b.X), len(b.Lo), len(b.Hi))
	}
	alpha := b.Alpha
	if alpha <= 0 {
		alpha = 0.2
	}
	fill := withAlpha(b.Color, alpha)
	var first *plotter.Polygon
	// A gap (non-finite value) splits the band like fill_between does.
	start := 0
	flush := func(end int) error {
		if end-start < 2 {
			return nil
		}
		ring := make(plotter.XYs, 0, 2*(end-start))
		for i := start; i < end; i++ {
			ring = append(ring, plotter.XY{X: b.X[i], Y: b.Hi[i]})
		}
		for i := end - 1; i >= start; i-- {
			ring = append(ring, plotter.XY{X: b.X[i], Y: b.Lo[i]})
		}
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return err
		}
		poly.Color = fill
		poly.LineStyle.Width = 0
		p.Add(poly)
		if first == nil {
			first = poly
		}
		return nil
	}
	for i := range b.X {
		if !finite(b.X[i]) || !finite(b.Lo[i]) || !finite(b.Hi[i]) {
			if err := flush(i); err != nil {
				return err
			}
			start = i + 1
		}
	}
	if err := flush(len(b.X)); err != nil {
		return err
	}
	if b.Label != "" && first != nil {
		p.Legend.Add(b.Label, first)
	}
	return nil
}

func addRefLine(p *plot.Plot, r RefLine) {
	sty := draw.LineStyle{Color: withAlpha(r.Color, r.Alpha), Width: r.Width}
	if sty.Width <= 0 {
		sty.Width = vg.Points(1)
	}
	if r.Dashed {
		sty.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	var xy plotter.XYs
	if r.Vertical {
		xy = plotter.XYs{{X: r.At, Y: p.Y.Min}, {X: r.At, Y: p.Y.Max}}
	} else {
		xy = plotter.XYs{{X: p.X.Min, Y: r.At}, {X: p.X.Max, Y: r.At}}
	}
	l := &plotter.Line{XYs: xy, LineStyle: sty}
	p.Add(l)
	if r.Label != "" {
		p.Legend.Add(r.Label, l)
	}
}

// addMargins widens both axis ranges by frac of their span on each side
// (matplotlib's default axes margins of 5%).
func addMargins(p *plot.Plot, frac float64) {
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		if math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) {
			a.Min, a.Max = 0, 1
			continue
		}
		d := a.Max - a.Min
		if d == 0 {
			d = max(math.Abs(a.Min), 1)
		}
		a.Min -= frac * d
		a.Max += frac * d
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
