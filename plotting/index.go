package plotting

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rleval/rleval/internal/atomicfile"
)

// BatchPage is the HTML page of a batch of many runs (hundreds): groups of
// runs with their statistics and intervals, one IQM curve per group with
// its band, the probability-of-improvement matrix, performance profiles,
// small multiples of every run's maps, and the runs table. Sections with no
// data are left out. Everything is inline (no network); every string is
// escaped.
type BatchPage struct {
	// Title, Subtitles and Notes head the page.
	Title     string
	Subtitles []string
	Notes     []string
	// Metric names the score the groups are compared by.
	Metric string
	// StatNames head the groups table's statistic columns; each group
	// has one Interval per name.
	StatNames []string
	// Groups are the groups in display order.
	Groups []PageGroup
	// Curves are the groups' IQM curves, CurveX/YLabel their axes.
	Curves         []BandCurve
	CurveXLabel    string
	CurveYLabel    string
	Profiles       []BandCurve
	ProfileXLabel  string
	ProfileCaption string
	// Improvement[i][j] is P(group i > group j) (nil: none).
	Improvement [][]*Interval
	// Thumbs are the small multiples, one block per group; their images
	// are tiles of two sprite sheets (PNG), so that hundreds of runs cost
	// the browser two image decodes, not hundreds.
	Thumbs []ThumbGroup
	// SheetA and SheetB are the sheets (see ThumbSheet) of the left and
	// right thumbnails, SheetCols their tiles per row, ThumbSide a tile's
	// side in pixels.
	SheetA, SheetB []byte
	SheetCols      int
	ThumbSide      int
	// ThumbCaption says what the two thumbnails of a run show.
	ThumbCaption string
	// Runs is the per-run table (Runs.Links[i][0] links row i).
	Runs Table
	// Images follow the runs table (e.g. every run's curve when there are
	// no groups), and Interactive, charts made by InteractiveCurves, them.
	Images      []Image
	Interactive template.HTML
	// Aggregates, if not nil, is rliable's interval plot of the groups'
	// aggregates (AggregatesFigure), shown under the groups table.
	Aggregates *Image
	// Overlay, if not empty, is the curve overlay (OverlayCurves).
	Overlay template.HTML
	// ValueErrors, if not nil, are the small multiples of the groups' and
	// runs' value-error maps.
	ValueErrors *ErrorMaps
}

// thumbPx is the side of a thumbnail on the batch page in CSS pixels:
// large enough to read a policy's switching curve.
const thumbPx = 160

// Interval is a statistic with its confidence interval (NaN: none).
type Interval struct {
	Value, Lo, Hi float64
}

// PageGroup is one row of the groups table.
type PageGroup struct {
	Name         string
	Runs, Scored int
	Stats        []Interval
	// Config is the group's full config (every key that differs between
	// groups), shown on hover over its name.
	Config string
}

// minGroupRuns is the fewest scored runs whose bootstrap interval means
// something: below it a group's row says so.
const minGroupRuns = 3

// BandCurve is a line with a band, e.g. a group's IQM and its interval.
type BandCurve struct {
	Label      string
	X, Y       []float64
	Lo, Hi     []float64
	Color      string
	labelIndex int
}

// ThumbGroup is one group of the small multiples.
type ThumbGroup struct {
	Name string
	Runs []Thumb
}

// Thumb is one run of the small multiples: its tile in the sheets, linked
// to the run's report.
type Thumb struct {
	Name, Link, Value string
	// Tile is the run's tile index in the sheets; HasA and HasB say
	// whether each sheet has a map there.
	Tile       int
	HasA, HasB bool
}

type batchView struct {
	Title          string
	Subtitles      []string
	Notes          []string
	CSS            template.CSS
	Metric         string
	StatNames      []string
	Groups         []groupRowView
	CurvesSVG      template.HTML
	Legend         []legendView
	ProfilesSVG    template.HTML
	ProfileCaption string
	Matrix         *matrixView
	Thumbs         []thumbGroupView
	ThumbCaption   string
	SheetA, SheetB template.CSS // background-image of the sheets
	SheetSize      template.CSS // background-size of the sheets as drawn
	Runs           tableView
	Images         []imageView
	Interactive    template.HTML
	// FewGroups counts the groups of fewer than minGroupRuns scored runs;
	// MinRuns is minGroupRuns.
	FewGroups, MinRuns int
	// Aggregates is rliable's interval plot of the aggregates per group.
	Aggregates *imageView
	// Overlay is the curve overlay's HTML (OverlayCurves).
	Overlay template.HTML
	// ThumbPx is a thumbnail's displayed side in CSS pixels.
	ThumbPx int
	// ValueErrors are the value-error maps' small multiples.
	ValueErrors *errorMapsView
}

type groupRowView struct {
	Name, Config string
	Runs, Scored int
	Few          bool // fewer than minGroupRuns scored runs
	Cells        []statCellView
}

type statCellView struct {
	Text, Title string
	Sort        string
	Bar         template.HTML
}

type legendView struct {
	Index int
	Label string
	Color template.CSS
}

type matrixView struct {
	Names []string
	Rows  [][]matrixCellView
	// Past maxMatrixTable groups the matrix is an image (Src, Size px
	// wide) with its values in Data for the hover read-out: a table of
	// thousands of cells with titles would weigh megabytes.
	Src  template.HTMLAttr
	Size int
	Data matrixData
	// Intervals says the cells show their 95% intervals.
	Intervals bool
}

// matrixData is the matrix for the page's script: Names and, per row,
// value, lo and hi of each cell (null for none), rounded to 3 decimals.
type matrixData struct {
	Names []string       `json:"names"`
	V     [][][]*float64 `json:"v"`
}

// maxMatrixTable is the most groups whose matrix is an HTML table.
const maxMatrixTable = 30

type matrixCellView struct {
	Text, Interval, Title string
	Style                 template.CSS
}

type thumbGroupView struct {
	Name string
	Runs []thumbView
}

type thumbView struct {
	Name, Link, Value string
	// Pos is the run's tile's background-position in both sheets, HasA
	// and HasB whether each sheet has a map there.
	Pos        template.CSS
	HasA, HasB bool
}

var batchTemplate = template.Must(template.New("batch.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/batch.html", "templates/parts.html"))

// Render writes the page.
func (p *BatchPage) Render(w io.Writer) error {
	v := batchView{Title: p.Title, Subtitles: p.Subtitles, Notes: p.Notes, CSS: styleCSS, Metric: p.Metric, StatNames: p.StatNames,
		ProfileCaption: p.ProfileCaption, ThumbCaption: p.ThumbCaption, Runs: viewTable(p.Runs), MinRuns: minGroupRuns, Overlay: p.Overlay}
	if p.Aggregates != nil {
		a := viewImage(*p.Aggregates)
		v.Aggregates = &a
	}
	v.Groups, v.FewGroups = groupRows(p)
	for i := range p.Curves {
		p.Curves[i].labelIndex = i
		if p.Curves[i].Color == "" {
			p.Curves[i].Color = groupColor(i)
		}
		v.Legend = append(v.Legend, legendView{i, p.Curves[i].Label, template.CSS(p.Curves[i].Color)})
	}
	if len(p.Curves) > 0 {
		v.CurvesSVG = bandChart(p.Curves, p.CurveXLabel, p.CurveYLabel, false)
	}
	for i := range p.Profiles {
		p.Profiles[i].labelIndex = i
		if p.Profiles[i].Color == "" {
			p.Profiles[i].Color = groupColor(i)
		}
	}
	if len(p.Profiles) > 0 {
		v.ProfilesSVG = bandChart(p.Profiles, p.ProfileXLabel, "fraction of runs with score > τ", true)
		if len(v.Legend) == 0 {
			for i, c := range p.Profiles {
				v.Legend = append(v.Legend, legendView{i, c.Label, template.CSS(c.Color)})
			}
		}
	}
	if len(p.Improvement) > 1 {
		v.Matrix = improvementView(p)
	}
	if len(p.Thumbs) > 0 && p.SheetCols > 0 && p.ThumbSide > 0 {
		v.SheetA, v.SheetB = cssURL(p.SheetA), cssURL(p.SheetB)
		v.ThumbPx = thumbPx
		v.Thumbs, v.SheetSize = thumbViews(p)
	}
	var err error
	if v.ValueErrors, err = p.ValueErrors.view(); err != nil {
		return fmt.Errorf("render batch page %q: %w", p.Title, err)
	}
	v.Interactive = p.Interactive
	for _, im := range p.Images {
		v.Images = append(v.Images, viewImage(im))
	}
	if err := batchTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("render batch page %q: %w", p.Title, err)
	}
	return nil
}

// groupRows returns the groups table's rows, each statistic's bar drawn
// on its column's scale, and how many groups have too few runs to compare.
func groupRows(p *BatchPage) (rows []groupRowView, few int) {
	// One scale per statistic column, so bars compare down the column.
	scales := make([][2]float64, len(p.StatNames))
	for k := range scales {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, g := range p.Groups {
			if k < len(g.Stats) {
				for _, x := range []float64{g.Stats[k].Lo, g.Stats[k].Hi, g.Stats[k].Value} {
					if finite(x) {
						lo, hi = min(lo, x), max(hi, x)
					}
				}
			}
		}
		scales[k] = [2]float64{lo, hi}
	}
	for _, g := range p.Groups {
		row := groupRowView{Name: g.Name, Config: g.Config, Runs: g.Runs, Scored: g.Scored, Few: g.Scored < minGroupRuns}
		if row.Few {
			few++
		}
		for k := range p.StatNames {
			var iv Interval
			if k < len(g.Stats) {
				iv = g.Stats[k]
			} else {
				iv = Interval{math.NaN(), math.NaN(), math.NaN()}
			}
			row.Cells = append(row.Cells, statCell(iv, scales[k]))
		}
		rows = append(rows, row)
	}
	return rows, few
}

// thumbViews places each run's tiles of the contact sheets, drawn at
// thumbPx, and returns the sheets' background-size at that scale. The
// size is one CSS rule and each run's offset one custom property that
// both its tiles read: 500 runs' tiles are then 500 short attributes
// instead of 1000 long inline styles for the browser to parse.
func thumbViews(p *BatchPage) ([]thumbGroupView, template.CSS) {
	var out []thumbGroupView
	rows := 0
	for _, tg := range p.Thumbs {
		for _, t := range tg.Runs {
			rows = max(rows, t.Tile/p.SheetCols+1)
		}
	}
	// Tiles are drawn at thumbPx: background size and offsets scale too.
	scale := float64(thumbPx) / float64(p.ThumbSide)
	size := fmt.Sprintf("background-size:%gpx %gpx", scale*float64(p.SheetCols*p.ThumbSide), scale*float64(rows*p.ThumbSide))
	for _, tg := range p.Thumbs {
		g := thumbGroupView{Name: tg.Name}
		for _, t := range tg.Runs {
			g.Runs = append(g.Runs, thumbView{Name: t.Name, Link: t.Link, Value: t.Value, HasA: t.HasA, HasB: t.HasB,
				Pos: template.CSS(fmt.Sprintf("-%gpx -%gpx", scale*float64(t.Tile%p.SheetCols*p.ThumbSide), scale*float64(t.Tile/p.SheetCols*p.ThumbSide)))})
		}
		out = append(out, g)
	}
	return out, template.CSS(size)
}

// WriteBatchPage renders p to path atomically.
func WriteBatchPage(path string, p *BatchPage) error {
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}

func nameAt(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return strconv.Itoa(i)
}

// cssURL is a CSS background-image of an inline PNG.
func cssURL(b []byte) template.CSS {
	if len(b) == 0 {
		return ""
	}
	return template.CSS(`background-image:url(data:image/png;base64,` + base64.StdEncoding.EncodeToString(b) + `)`)
}

// groupColor is Tab10 for the first ten groups, then hues around the
// colour wheel.
func groupColor(i int) string {
	if i < len(Tab10) {
		c := Tab10[i]
		return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
	}
	return fmt.Sprintf("hsl(%d,65%%,45%%)", (i*137)%360)
}

// fmtStat formats a statistic for a table cell.
func fmtStat(v float64) string {
	if !finite(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// statCell is a value with its interval as text and as a bar on the
// column's scale.
func statCell(iv Interval, scale [2]float64) statCellView {
	c := statCellView{Text: fmtStat(iv.Value), Sort: "", Title: "no value"}
	if !finite(iv.Value) {
		return c
	}
	c.Sort = strconv.FormatFloat(iv.Value, 'g', -1, 64)
	c.Title = fmt.Sprintf("%s, 95%% interval [%s, %s]", fmtStat(iv.Value), fmtStat(iv.Lo), fmtStat(iv.Hi))
	const w, h = 120.0, 12.0
	lo, hi := scale[0], scale[1]
	if !(hi > lo) {
		lo, hi = lo-1, lo+1
	}
	x := func(v float64) float64 { return math.Max(0, math.Min(w, (v-lo)/(hi-lo)*w)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="bar" width="%g" height="%g" viewBox="0 0 %g %g">`, w, h, w, h)
	if finite(iv.Lo) && finite(iv.Hi) {
		fmt.Fprintf(&b, `<rect x="%.1f" y="3" width="%.1f" height="6" fill="#9ecae1"/>`, x(iv.Lo), math.Max(1, x(iv.Hi)-x(iv.Lo)))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="2" height="12" fill="#08519c"/></svg>`, x(iv.Value)-1)
	c.Bar = template.HTML(b.String())
	return c
}

// bandChart draws curves with bands as inline SVG: axes with ticks,
// each curve in a <g data-i> group the legend can hide or highlight.
func bandChart(curves []BandCurve, xlabel, ylabel string, unitY bool) template.HTML {
	const W, H = 900.0, 380.0
	const left, right, top, bottom = 70.0, 20.0, 14.0, 46.0
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, c := range curves {
		for i, x := range c.X {
			if !finite(x) {
				continue
			}
			xmin, xmax = min(xmin, x), max(xmax, x)
			for _, ys := range [][]float64{c.Y, c.Lo, c.Hi} {
				if i < len(ys) && finite(ys[i]) {
					ymin, ymax = min(ymin, ys[i]), max(ymax, ys[i])
				}
			}
		}
	}
	if unitY {
		ymin, ymax = 0, 1
	}
	if math.IsInf(xmin, 0) || math.IsInf(ymin, 0) {
		return ""
	}
	if !(xmax > xmin) {
		xmin, xmax = xmin-1, xmax+1
	}
	if !(ymax > ymin) {
		ymin, ymax = ymin-1, ymax+1
	}
	pad := (ymax - ymin) * 0.05
	if !unitY {
		ymin, ymax = ymin-pad, ymax+pad
	}
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*(W-left-right) }
	py := func(y float64) float64 { return H - bottom - (y-ymin)/(ymax-ymin)*(H-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" width="%g" height="%g" font-size="11" font-family="sans-serif">`, W, H, W, H)
	for _, t := range niceTicks(xmin, xmax, 8) {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="#eee"/><text x="%.1f" y="%g" text-anchor="middle">%s</text>`,
			px(t), px(t), top, H-bottom, px(t), H-bottom+14, axisTick(t))
	}
	for _, t := range niceTicks(ymin, ymax, 6) {
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`,
			left, W-right, py(t), py(t), left-4, py(t)+4, axisTick(t))
	}
	fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="none" stroke="#999"/>`, left, top, W-left-right, H-top-bottom)
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`, (left+W-right)/2, H-8, html.EscapeString(xlabel))
	fmt.Fprintf(&b, `<text transform="translate(14 %g) rotate(-90)" text-anchor="middle">%s</text>`, (top+H-bottom)/2, html.EscapeString(ylabel))
	for _, c := range curves {
		fmt.Fprintf(&b, `<g class="curve" data-i="%d"><title>%s</title>`, c.labelIndex, html.EscapeString(c.Label))
		var upper, lower, line []string
		for i, x := range c.X {
			if !finite(x) {
				continue
			}
			if i < len(c.Lo) && i < len(c.Hi) && finite(c.Lo[i]) && finite(c.Hi[i]) {
				upper = append(upper, fmt.Sprintf("%.1f,%.1f", px(x), py(c.Hi[i])))
				lower = append(lower, fmt.Sprintf("%.1f,%.1f", px(x), py(c.Lo[i])))
			}
			if i < len(c.Y) && finite(c.Y[i]) {
				line = append(line, fmt.Sprintf("%.1f,%.1f", px(x), py(c.Y[i])))
			}
		}
		if len(upper) > 1 {
			for i, j := 0, len(lower)-1; i < j; i, j = i+1, j-1 {
				lower[i], lower[j] = lower[j], lower[i]
			}
			fmt.Fprintf(&b, `<polygon class="band" points="%s" fill="%s" fill-opacity="0.18" stroke="none"/>`, strings.Join(append(upper, lower...), " "), c.Color)
		}
		if len(line) > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.8"/>`, strings.Join(line, " "), c.Color)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axisTick labels a chart's tick: whole numbers in full with thousands
// separators (10,000, not 1e+04), others with up to 4 significant digits.
func axisTick(v float64) string {
	if a := math.Abs(v); a >= 1 && a < 1e9 && v == math.Trunc(v) {
		s := strconv.FormatInt(int64(a), 10)
		var b strings.Builder
		if v < 0 {
			b.WriteByte('-')
		}
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// niceTicks returns about n round tick values in [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	span := hi - lo
	if !(span > 0) || n < 1 {
		return nil
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for t := math.Ceil(lo/step) * step; t <= hi+step*1e-9; t += step {
		out = append(out, t)
	}
	return out
}

// ThumbSheet draws maps as tiles of one paletted PNG, cols tiles per row,
// tile i at column i%cols and row i/cols from the top. Each map is ny × nx
// with row 0 at the bottom, at most side × side (larger maps are block
// averaged to fit), coloured through cmap between vmin and vmax; a nil map
// leaves its tile in the NaN colour.
func ThumbSheet(maps [][]float32, nx, ny []int, side, cols int, vmin, vmax float64, cmap *Colormap) ([]byte, error) {
	if side <= 0 || cols <= 0 || len(maps) == 0 || len(nx) != len(maps) || len(ny) != len(maps) {
		return nil, fmt.Errorf("thumbnail sheet: %d maps, side %d, %d columns", len(maps), side, cols)
	}
	rows := (len(maps) + cols - 1) / cols
	w, h := cols*side, rows*side
	sheet := make([]float32, w*h) // row 0 at the bottom, as encodeRaster reads it
	nan := float32(math.NaN())
	for i := range sheet {
		sheet[i] = nan
	}
	for i, m := range maps {
		if m == nil {
			continue
		}
		if len(m) != nx[i]*ny[i] || nx[i] <= 0 || ny[i] <= 0 {
			return nil, fmt.Errorf("thumbnail sheet: map %d: %d values do not fill %d × %d", i, len(m), nx[i], ny[i])
		}
		x0, top := (i%cols)*side, (i/cols)*side
		for y := range side {
			// Tile line y from the bottom of the tile, drawn from map rows
			// [y·ny/side, (y+1)·ny/side) (one row when the map is smaller).
			my0, my1 := y*ny[i]/side, max((y+1)*ny[i]/side, y*ny[i]/side+1)
			dst := sheet[(h-top-side+y)*w+x0:]
			for x := range side {
				mx0, mx1 := x*nx[i]/side, max((x+1)*nx[i]/side, x*nx[i]/side+1)
				sum, n := 0.0, 0
				for yy := my0; yy < min(my1, ny[i]); yy++ {
					for xx := mx0; xx < min(mx1, nx[i]); xx++ {
						if v := float64(m[yy*nx[i]+xx]); finite(v) {
							sum += v
							n++
						}
					}
				}
				if n > 0 {
					dst[x] = float32(sum / float64(n))
				}
			}
		}
	}
	var buf bytes.Buffer
	err := encodeRaster(&buf, w, h, func(y int, dst []float32) error {
		copy(dst, sheet[y*w:(y+1)*w])
		return nil
	}, vmin, vmax, cmap, true)
	return buf.Bytes(), err
}

// improvementView is the probability-of-improvement matrix as a table of
// coloured cells or, past maxMatrixTable groups, an image with its data.
func improvementView(p *BatchPage) *matrixView {
	m := &matrixView{}
	for i := range p.Improvement {
		name := strconv.Itoa(i)
		if i < len(p.Groups) {
			name = p.Groups[i].Name
		}
		m.Names = append(m.Names, name)
	}
	cmap := RdBuR()
	n := len(p.Improvement)
	if n > maxMatrixTable {
		vals := make([]float32, n*n)
		m.Data.Names = m.Names
		round := func(x float64) *float64 {
			if !finite(x) {
				return nil
			}
			r := math.Round(x*1000) / 1000
			return &r
		}
		for i, row := range p.Improvement {
			cells := make([][]*float64, n)
			for j := range n {
				vals[(n-1-i)*n+j] = float32(math.NaN()) // row 0 of the raster is its bottom line
				if j < len(row) && row[j] != nil && finite(row[j].Value) {
					c := row[j]
					vals[(n-1-i)*n+j] = float32(c.Value)
					cells[j] = []*float64{round(c.Value), round(c.Lo), round(c.Hi)}
				}
			}
			m.Data.V = append(m.Data.V, cells)
		}
		var buf bytes.Buffer
		if err := encodeRaster(&buf, n, n, func(y int, dst []float32) error {
			copy(dst, vals[y*n:(y+1)*n])
			return nil
		}, 0, 1, cmap, true); err == nil {
			m.Src = template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `"`)
			m.Size = min(720, max(n*4, 300))
		}
		return m
	}
	for i, row := range p.Improvement {
		var cells []matrixCellView
		for j, c := range row {
			if c == nil || !finite(c.Value) {
				cells = append(cells, matrixCellView{Title: "—"})
				continue
			}
			col := cmap.At(c.Value)
			title := fmt.Sprintf("P(%s > %s) = %.3f", nameAt(m.Names, i), nameAt(m.Names, j), c.Value)
			if finite(c.Lo) && finite(c.Hi) {
				title += fmt.Sprintf(" [%.3f, %.3f]", c.Lo, c.Hi)
			}
			ink := "#000"
			if c.Value < 0.2 || c.Value > 0.8 {
				ink = "#fff"
			}
			text := fmt.Sprintf("%.2f", c.Value)
			if finite(c.Lo) && finite(c.Hi) {
				m.Intervals = true
				cells = append(cells, matrixCellView{Text: text, Interval: fmt.Sprintf("[%.2f, %.2f]", c.Lo, c.Hi), Title: title,
					Style: template.CSS(fmt.Sprintf("background:#%02x%02x%02x;color:%s", col.R, col.G, col.B, ink))})
				continue
			}
			cells = append(cells, matrixCellView{Text: text, Title: title,
				Style: template.CSS(fmt.Sprintf("background:#%02x%02x%02x;color:%s", col.R, col.G, col.B, ink))})
		}
		m.Rows = append(m.Rows, cells)
	}
	return m
}
