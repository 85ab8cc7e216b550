package plotting

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/rleval/rleval/internal/atomicfile"
)

// DPI is the resolution of PNG figures, matplotlib's default figure.dpi.
const DPI = 100

// Figure is one picture made of gonum plots: panels in a Rows × Cols grid
// under an optional overall title, each panel with an optional colour bar.
type Figure struct {
	// Title is drawn centred above all panels (matplotlib's suptitle);
	// empty for none.
	Title string
	// Width and Height are the size of the picture; at DPI dots per inch
	// they give the PNG size in pixels (14in × 5in is 1400 × 500).
	Width, Height vg.Length
	// Rows and Cols shape the grid of panels; zero means 1.
	Rows, Cols int
	// Panels fill the grid row by row; a nil Plot leaves its cell blank.
	Panels []Panel
	// LeadWidth, if not zero, is the width of the first panel of a
	// one-row figure (e.g. only the names of an interval plot's rows); the
	// other panels share the rest equally.
	LeadWidth vg.Length
	// Footer lines are written under the panels, left aligned: what a map
	// holds fixed, what its overlays mean, warnings.
	Footer []FooterLine
}

// FooterLine is one line under a figure's panels.
type FooterLine struct {
	Text string
	// Warn writes the line in dark red.
	Warn bool
}

// Panel is one plot of a Figure.
type Panel struct {
	// Plot is the gonum plot drawn in the panel's cell.
	Plot *plot.Plot
	// ColorBar, if not nil, is drawn to the right of the plot's data area.
	ColorBar *ColorBar

	raster *Raster // the heatmap raster, if any; tests read where it landed
}

// ColorBar is a vertical colour scale from Min (bottom) to Max (top) with
// tick labels and a Label on its right, as matplotlib's colorbar.
type ColorBar struct {
	// Colormap colours the bar.
	Colormap *Colormap
	// Min and Max are the values at the bottom and top of the bar.
	Min, Max float64
	// Label is written vertically on the right of the tick labels.
	Label string
	// Log says Min and Max are log10 of the values: ticks are labelled
	// with the values at powers of ten (1, 10, 100, ...).
	Log bool
}

// NewFigure returns a figure of one panel holding p.
func NewFigure(p *plot.Plot, width, height vg.Length) *Figure {
	return &Figure{Width: width, Height: height, Rows: 1, Cols: 1, Panels: []Panel{{Plot: p}}}
}

// Plot returns the plot of the first panel, or nil for an empty figure; the
// caller may change it (axes, extra plotters) before the figure is drawn.
func (f *Figure) Plot() *plot.Plot {
	if len(f.Panels) == 0 {
		return nil
	}
	return f.Panels[0].Plot
}

// Draw draws the figure on c.
func (f *Figure) Draw(c draw.Canvas) {
	// A PNG canvas starts white; filling it again through the rasterizer
	// cost a tenth of drawing a figure.
	if _, ok := pixelCanvas(c.Canvas); !ok {
		c.SetColor(color.White)
		c.Fill(c.Rectangle.Path())
	}
	if f.Title != "" {
		sty := textStyle(14)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y - vg.Points(4)}, f.Title)
		c.Max.Y -= sty.Height(f.Title) + vg.Points(8)
	}
	if len(f.Footer) > 0 {
		y := c.Min.Y + vg.Points(5)
		for i := len(f.Footer) - 1; i >= 0; i-- {
			l := f.Footer[i]
			sty := textStyle(10)
			if l.Warn {
				sty.Color = warnColor
			}
			c.FillText(sty, vg.Point{X: c.Min.X + vg.Points(10), Y: y}, l.Text)
			y += sty.Height(l.Text) + vg.Points(2)
		}
		c.Min.Y = y + vg.Points(2)
	}
	rows, cols := max(f.Rows, 1), max(f.Cols, 1)
	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10),
		PadX: vg.Points(18), PadY: vg.Points(14),
	}
	panels := f.Panels
	if f.LeadWidth > 0 && rows == 1 && cols > 1 && len(panels) > 0 {
		// The first panel takes a strip of LeadWidth, the others share
		// the rest.
		lead := c
		lead.Max.X = c.Min.X + f.LeadWidth
		c.Min.X = lead.Max.X
		tiles.Cols--
		cols--
		if pn := panels[0]; pn.Plot != nil {
			lead.Min.Y += tiles.PadBottom
			lead.Max.Y -= tiles.PadTop
			lead.Min.X += tiles.PadLeft
			pn.Plot.Draw(lead)
		}
		panels = panels[1:]
		tiles.PadLeft = 0
	}
	for i, pn := range panels {
		if pn.Plot == nil || i >= rows*cols {
			continue
		}
		cell := tiles.At(c, i%cols, i/cols)
		if pn.ColorBar == nil {
			pn.Plot.Draw(cell)
			continue
		}
		w := pn.ColorBar.width()
		plotArea := cell
		plotArea.Max.X -= w
		pn.Plot.Draw(plotArea)
		data := pn.Plot.DataCanvas(plotArea)
		bar := cell
		bar.Min.X = plotArea.Max.X
		bar.Min.Y, bar.Max.Y = data.Min.Y, data.Max.Y
		pn.ColorBar.draw(bar)
	}
}

// warnColor writes a figure's warnings.
var warnColor = color.NRGBA{R: 0xa0, G: 0x10, B: 0x10, A: 0xff}

// colorBarGap, colorBarWidth and colorBarTick size a colour bar: the gap to
// the plot, the coloured strip, and the tick marks.
var (
	colorBarGap   = vg.Points(14)
	colorBarWidth = vg.Points(14)
	colorBarTick  = vg.Points(3.5)
)

// ticks returns the labelled ticks of the colour bar's range.
func (cb *ColorBar) ticks() []plot.Tick {
	lo, hi := cb.Min, cb.Max
	if !(hi > lo) {
		hi = lo + 1
	}
	var out []plot.Tick
	if cb.Log {
		return logTicks(lo, hi)
	}
	for _, t := range (Ticks{}).Ticks(lo, hi) {
		if t.Label != "" && t.Value >= lo && t.Value <= hi {
			out = append(out, t)
		}
	}
	return out
}

// width is the horizontal room the colour bar takes, labels included.
func (cb *ColorBar) width() vg.Length {
	sty := textStyle(10)
	var lw vg.Length
	for _, t := range cb.ticks() {
		lw = max(lw, sty.Width(t.Label))
	}
	w := colorBarGap + colorBarWidth + colorBarTick + vg.Points(3) + lw
	if cb.Label != "" {
		w += vg.Points(8) + textStyle(11).Height(cb.Label)
	}
	return w + vg.Points(4)
}

// draw draws the bar in c, whose vertical extent is the plot's data area.
func (cb *ColorBar) draw(c draw.Canvas) {
	x0 := c.Min.X + colorBarGap
	x1 := x0 + colorBarWidth
	y0, y1 := c.Min.Y, c.Max.Y
	cmap := cb.Colormap
	if cmap == nil {
		cmap = Viridis()
	}
	strip, rect, px := fitImage(c.Canvas, vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}, colorBarImage(cmap))
	drawFitted(c, rect, px, strip)
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(0.6)}
	c.StrokeLines(line, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
	sty := textStyle(10)
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	lo, hi := cb.Min, cb.Max
	if !(hi > lo) {
		hi = lo + 1
	}
	var lw vg.Length
	for _, t := range cb.ticks() {
		y := y0 + vg.Length((t.Value-lo)/(hi-lo))*(y1-y0)
		c.StrokeLine2(line, x1, y, x1+colorBarTick, y)
		c.FillText(sty, vg.Point{X: x1 + colorBarTick + vg.Points(3), Y: y}, t.Label)
		lw = max(lw, sty.Width(t.Label))
	}
	if cb.Label != "" {
		ls := textStyle(11)
		ls.Rotation = math.Pi / 2
		ls.XAlign, ls.YAlign = draw.XCenter, draw.YTop
		x := x1 + colorBarTick + vg.Points(3) + lw + vg.Points(6)
		c.FillText(ls, vg.Point{X: x, Y: (y0 + y1) / 2}, cb.Label)
	}
}

// sansFont is the typeface of every text in our figures (matplotlib's
// default is a sans-serif, gonum's a serif).
var sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// textStyle returns a black sans-serif text style of the given size in points.
func textStyle(size float64) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sansFont, vg.Points(size)),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
}

// NewPlot returns a gonum plot styled like our matplotlib figures:
// sans-serif text, the given title and axis labels, no axis padding.
func NewPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	// Figure.Draw paints the background once for all its panels.
	p.BackgroundColor = nil
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansFont, vg.Points(12))
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, vg.Points(11))
		a.Tick.Label.Font = font.From(sansFont, vg.Points(9.5))
		a.Tick.Length = vg.Points(4)
		a.Padding = 0
		a.Tick.Marker = Ticks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.Legend.TextStyle.Font = font.From(sansFont, vg.Points(10))
	p.Legend.Top = true
	return p
}

// addGrid adds light grid lines, matplotlib's grid(True, alpha=0.3).
func addGrid(p *plot.Plot) { p.Add(NewGrid()) }

// NewGrid returns the light grid lines of our figures, matplotlib's
// grid(True, alpha=0.3), for plots made outside this package.
func NewGrid() *plotter.Grid {
	g := plotter.NewGrid()
	gray := color.NRGBA{R: 0xb0, G: 0xb0, B: 0xb0, A: 0x4d}
	g.Vertical.Color, g.Horizontal.Color = gray, gray
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.8), vg.Points(0.8)
	return g
}

// Formats lists the file formats SaveFigure and Figure.Encode write.
var Formats = []string{"png", "svg"}

// Encode renders the figure as "png" (at DPI) or "svg".
func (f *Figure) Encode(format string) ([]byte, error) {
	w, h := f.Width, f.Height
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("figure %q: size %v × %v is not positive", f.Title, w, h)
	}
	var buf bytes.Buffer
	switch strings.ToLower(format) {
	case "png":
		c, img, done := pngCanvas(w, h)
		defer done()
		f.Draw(draw.New(c))
		if err := encodeFigurePNG(&buf, img); err != nil {
			return nil, fmt.Errorf("figure %q: encode PNG: %w", f.Title, err)
		}
	case "svg":
		c := vgsvg.New(w, h)
		f.Draw(draw.New(c))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("figure %q: encode SVG: %w", f.Title, err)
		}
	default:
		return nil, fmt.Errorf("figure %q: unknown format %q (want one of %v)", f.Title, format, Formats)
	}
	return buf.Bytes(), nil
}

// PNG renders the figure as a PNG image at DPI, e.g. for a report.
func (f *Figure) PNG() ([]byte, error) { return f.Encode("png") }

// SaveFigure writes fig once per format ("png", "svg") to path with the
// format as extension (an extension already on path is replaced), each file
// atomically, and returns the paths written.
func SaveFigure(fig *Figure, path string, formats []string) ([]string, error) {
	base := path
	if ext := filepath.Ext(path); ext != "" {
		for _, f := range Formats {
			if strings.EqualFold(ext[1:], f) {
				base = strings.TrimSuffix(path, ext)
			}
		}
	}
	var written []string
	for _, format := range formats {
		b, err := fig.Encode(format)
		if err != nil {
			return written, fmt.Errorf("save %s: %w", path, err)
		}
		p := base + "." + strings.ToLower(format)
		if err := atomicfile.WriteBytes(p, b); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}
