package plotting

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/rleval/rleval/internal/par"
)

// The vendored uPlot (see assets/uplot/README.md) and our chart script.
var (
	//go:embed assets/uplot/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uplot/uPlot.min.css
	uplotCSS string
	//go:embed assets/interactive.js
	interactiveJS string
)

// Chart is one interactive line chart.
type Chart struct {
	// Title, XLabel and YLabel label the chart.
	Title, XLabel, YLabel string
	// Curves are the lines; each has its own x values.
	Curves []Curve
	// Bands fill between two curves of the same x (reward min–max).
	Bands []ChartBand
	// Smooth, if in (0, 1), is the slider's starting smoothing weight for
	// curves with Smooth set.
	Smooth float64
}

// Curve is one line of a Chart.
type Curve struct {
	// Label names the curve in the legend.
	Label string
	// X and Y are the points, X ascending; non-finite Y leave gaps.
	X, Y []float64
	// Color is the line colour; nil takes the next Tab10 colour.
	Color color.Color
	// Smooth draws the curve faint with its smoothed version over it; the
	// page's slider sets the weight.
	Smooth bool
	// Markers draws a dot at each point.
	Markers bool
}

// ChartBand fills the area between curves Lo and Hi (indices in Curves).
type ChartBand struct {
	Lo, Hi int
	Color  color.Color
}

// chartLevels are the column counts of the levels of detail a chart
// embeds: the coarsest is drawn first; zooming in picks a finer one once
// the range shown holds fewer than two points per pixel. A level equal to
// the one before is dropped, so short series embed every point once.
// A million-point curve thus embeds at most 4 × (600 + 5000) points, about
// 400 KB of page.
var chartLevels = []int{600, 5000}

// InteractiveCurves returns the HTML of interactive charts for a report or
// index page: uPlot and its stylesheet (embedded in the binary, so the page
// works offline), one chart per Chart with hover values, drag-to-zoom (data
// at a few levels of detail, so zooming refines), a smoothing slider for
// smoothed curves and a log-scale toggle. Put the result in
// Section.Interactive or Index.Interactive; a page should hold one such
// block (each carries its own copy of uPlot, about 50 KB). Every string
// from the charts is JSON-escaped for a <script> element.
func InteractiveCurves(charts []Chart) (template.HTML, error) {
	specs, errs := make([]chartSpec, len(charts)), make([]error, len(charts))
	par.For(len(charts), func(i int) { specs[i], errs[i] = newChartSpec(charts[i]) })
	for i, err := range errs {
		if err != nil {
			return "", fmt.Errorf("interactive chart %q: %w", charts[i].Title, err)
		}
	}
	data, err := json.Marshal(specs) // escapes <, > and & for HTML
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("<div class=\"rleval-interactive\">\n<style>")
	b.WriteString(uplotCSS)
	b.WriteString(".rleval-chart{margin:0.5em 0;min-width:0;overflow:hidden}.rleval-controls{font-size:0.85em;display:flex;flex-wrap:wrap;gap:0.4em 1.2em;align-items:center}.rleval-chart .u-legend{font-size:11px}.rleval-chart .u-title{font-size:14px}</style>\n<script>")
	b.WriteString(uplotJS)
	b.WriteString("</script>\n<script type=\"application/json\" class=\"rleval-curves\">")
	b.Write(data)
	b.WriteString("</script>\n<script>")
	b.WriteString(interactiveJS)
	b.WriteString("</script>\n</div>")
	return template.HTML(b.String()), nil
}

type (
	chartSpec struct {
		Title  string       `json:"title"`
		XLabel string       `json:"xlabel"`
		YLabel string       `json:"ylabel"`
		Smooth float64      `json:"smooth"`
		Series []seriesSpec `json:"series"`
		Bands  []bandSpec   `json:"bands,omitempty"`
		// Levels hold, coarse to fine, columns [x, y of curve 0, ...].
		Levels [][]jsonNums `json:"levels"`
	}
	seriesSpec struct {
		Label    string  `json:"label"`
		Color    string  `json:"color"`
		Width    float64 `json:"width"`
		Col      int     `json:"col"`
		Smooth   bool    `json:"smooth"`
		Smoothed bool    `json:"smoothed"`
		Markers  bool    `json:"markers"`
	}
	bandSpec struct {
		Lo   int    `json:"lo"`
		Hi   int    `json:"hi"`
		Fill string `json:"fill"`
	}
)

// jsonNums encodes floats compactly, non-finite ones as null.
type jsonNums []float64

// MarshalJSON implements json.Marshaler.
func (v jsonNums) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+10*len(v))
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			b = append(b, "null"...)
		case x == math.Trunc(x) && math.Abs(x) < 1e15:
			b = strconv.AppendFloat(b, x, 'f', 0, 64)
		default:
			b = strconv.AppendFloat(b, x, 'g', 7, 64)
		}
	}
	return append(b, ']'), nil
}

func cssColor(c color.Color, alpha float64) string {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return fmt.Sprintf("rgba(%d,%d,%d,%.3g)", n.R, n.G, n.B, float64(n.A)/255*alpha)
}

func newChartSpec(c Chart) (chartSpec, error) {
	s := chartSpec{Title: c.Title, XLabel: c.XLabel, YLabel: c.YLabel, Smooth: c.Smooth}
	next := 0
	for i, cv := range c.Curves {
		if len(cv.X) != len(cv.Y) {
			return s, fmt.Errorf("curve %q: %d x values but %d y values", cv.Label, len(cv.X), len(cv.Y))
		}
		col := cv.Color
		if col == nil {
			col = Tab10[next%len(Tab10)]
			next++
		}
		if cv.Smooth {
			s.Series = append(s.Series,
				seriesSpec{Label: cv.Label + " (raw)", Color: cssColor(col, rawAlpha), Width: 1, Col: i, Smooth: true},
				seriesSpec{Label: cv.Label, Color: cssColor(col, 1), Width: 1.5, Col: i, Smooth: true, Smoothed: true})
		} else {
			s.Series = append(s.Series, seriesSpec{Label: cv.Label, Color: cssColor(col, 1), Width: 1.5, Col: i, Markers: cv.Markers})
		}
	}
	for _, b := range c.Bands {
		lo, hi := seriesOf(s.Series, b.Lo), seriesOf(s.Series, b.Hi)
		if lo < 0 || hi < 0 {
			return s, fmt.Errorf("band between curves %d and %d: no such curve", b.Lo, b.Hi)
		}
		col := b.Color
		if col == nil {
			col = TabBlue
		}
		s.Bands = append(s.Bands, bandSpec{Lo: lo, Hi: hi, Fill: cssColor(col, 0.2)})
		for _, k := range []int{lo, hi} { // the band's edges stay faint
			s.Series[k].Color, s.Series[k].Width = cssColor(col, 0.4), 0.5
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, cv := range c.Curves {
		for _, x := range cv.X {
			if finite(x) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
	}
	// Gaps (non-finite values) are left out of the interactive view.
	fin := make([]Curve, len(c.Curves))
	for i, cv := range c.Curves {
		if spans := finiteSpans(cv.X, cv.Y); len(spans) == 1 && spans[0] == [2]int{0, len(cv.X)} {
			fin[i] = cv // all finite: no copy
			continue
		}
		for k := range cv.X {
			if finite(cv.X[k]) && finite(cv.Y[k]) {
				fin[i].X, fin[i].Y = append(fin[i].X, cv.X[k]), append(fin[i].Y, cv.Y[k])
			}
		}
	}
	prev := -1
	for _, cols := range chartLevels {
		level, n := chartLevel(fin, lo, hi, cols)
		if n == prev {
			break
		}
		s.Levels = append(s.Levels, level)
		prev = n
	}
	return s, nil
}

// seriesOf returns the index of the (last) series drawing curve i.
func seriesOf(ss []seriesSpec, i int) int {
	for k := len(ss) - 1; k >= 0; k-- {
		if ss[k].Col == i {
			return k
		}
	}
	return -1
}

// chartLevel aligns the M4 points of every curve (finite points only) at `cols` columns on the
// union of their x values, null where a curve has no point, and returns
// the columns and the number of x values.
func chartLevel(curves []Curve, lo, hi float64, cols int) ([]jsonNums, int) {
	type pt struct {
		x float64
		c int
		y float64
	}
	var pts []pt
	for ci, cv := range curves {
		for _, i := range M4(cv.X, cv.Y, lo, hi, cols) {
			pts = append(pts, pt{cv.X[i], ci, cv.Y[i]})
		}
	}
	sort.SliceStable(pts, func(a, b int) bool { return pts[a].x < pts[b].x })
	out := make([]jsonNums, 1+len(curves))
	for k, p := range pts {
		if k == 0 || p.x != pts[k-1].x || !math.IsNaN(out[1+p.c][len(out[0])-1]) {
			out[0] = append(out[0], p.x)
			for c := 1; c < len(out); c++ {
				out[c] = append(out[c], math.NaN())
			}
		}
		out[1+p.c][len(out[0])-1] = p.y
	}
	return out, len(out[0])
}
