package plotting

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"strings"
)

// ErrorMaps is the batch page's small multiples of the value-error maps
// (the critic's Q(s, π(s)) minus the policy's true value V(s), over the
// maps' plane): one tile per group, the mean of its runs' maps, and, folded
// away until asked for, one per run, every tile on one symmetric
// diverging colour scale with one colour bar, the axes named once.
type ErrorMaps struct {
	// Scale bounds the colour scale: −Scale (blue) to +Scale (red), the
	// tiles' colours saturating beyond; ScaleNote says how it was chosen.
	Scale     float64
	ScaleNote string
	// XLabel, YLabel and the ranges name the plane's axes once for every
	// tile (x left to right, y bottom to top); Fixed lists the values held
	// fixed ("" for none).
	XLabel, YLabel     string
	XLo, XHi, YLo, YHi float64
	Fixed              string
	// Groups are the groups' tiles in the groups table's order; Runs[i]
	// are group i's runs' tiles.
	Groups []ErrorTile
	Runs   [][]ErrorTile
	// GroupSheet and RunSheet are the tiles' sprite sheets (ThumbSheet,
	// RdBuR over ±Scale), Cols tiles a row of Side pixels.
	GroupSheet, RunSheet []byte
	Cols, Side           int
	// Notes say what was left out and why.
	Notes []string
}

// ErrorTile is one tile: its index in its sheet (-1: no map), its caption
// Name and Text, its hover Title, and the report it opens (a group's tile
// opens its runs' tiles instead).
type ErrorTile struct {
	Name, Text, Title, Link string
	Tile                    int
}

// Displayed sides of the tiles in CSS pixels: a group's mean large enough
// to read where the critic errs, a run's smaller as there are many.
const (
	errorGroupPx = 128
	errorRunPx   = 96
)

type errorMapsView struct {
	ScaleNote, Axes, Fixed string
	ColorBar               template.HTML
	Groups                 []errorTileView
	Runs                   []errorRunsView
	RunCount               int
	// CSS draws the sheets at their displayed sizes.
	CSS   template.CSS
	Notes []string
}

type errorRunsView struct {
	Name, ID string
	Tiles    []errorTileView
}

type errorTileView struct {
	Name, Text, Title, Link string
	Pos                     template.CSS // background-position; "" for none
}

// view lays the tiles out and draws the colour bar.
func (m *ErrorMaps) view() (*errorMapsView, error) {
	if m == nil || len(m.Groups) == 0 || m.Cols <= 0 || m.Side <= 0 || !(m.Scale > 0) {
		return nil, nil
	}
	v := &errorMapsView{ScaleNote: m.ScaleNote, Fixed: m.Fixed, Notes: m.Notes,
		Axes: fmt.Sprintf("x: %s from %s to %s (left to right); y: %s from %s to %s (bottom to top)",
			m.XLabel, axisTick(m.XLo), axisTick(m.XHi), m.YLabel, axisTick(m.YLo), axisTick(m.YHi))}
	bar, err := ColorBarSVG(RdBuR(), -m.Scale, m.Scale, "Q(s, π(s)) − V(s): < 0 under-estimates, > 0 over-estimates", 420)
	if err != nil {
		return nil, err
	}
	v.ColorBar = bar
	tiles := func(ts []ErrorTile, px int) []errorTileView {
		var out []errorTileView
		for _, t := range ts {
			tv := errorTileView{Name: t.Name, Text: t.Text, Title: t.Title, Link: t.Link}
			if t.Tile >= 0 {
				tv.Pos = tilePos(t.Tile, m.Cols, px)
			}
			out = append(out, tv)
		}
		return out
	}
	v.Groups = tiles(m.Groups, errorGroupPx)
	for i, rs := range m.Runs {
		if len(rs) == 0 || i >= len(v.Groups) {
			continue
		}
		// A group's tile opens its runs' (the browser unfolds the
		// details holding the target).
		id := fmt.Sprintf("ve-g%d", i)
		v.Groups[i].Link = "#" + id
		v.Runs = append(v.Runs, errorRunsView{Name: m.Groups[i].Name, ID: id, Tiles: tiles(rs, errorRunPx)})
		v.RunCount += len(rs)
	}
	var css strings.Builder
	for _, s := range []struct {
		sel   string
		sheet []byte
		n, px int
	}{{".veg i", m.GroupSheet, len(m.Groups), errorGroupPx}, {".ver i", m.RunSheet, v.RunCount, errorRunPx}} {
		rows := (s.n + m.Cols - 1) / m.Cols
		fmt.Fprintf(&css, "#value-error %s { width: %dpx; height: %dpx; background-size: %dpx %dpx; }\n", s.sel, s.px, s.px, m.Cols*s.px, rows*s.px)
		if len(s.sheet) > 0 {
			fmt.Fprintf(&css, "#value-error %s.t { background-image: url(data:image/png;base64,%s); }\n", s.sel, base64.StdEncoding.EncodeToString(s.sheet))
		}
	}
	v.CSS = template.CSS(css.String())
	return v, nil
}

// tilePos is the background-position of tile i of a sheet of cols tiles
// a row, each drawn px pixels wide.
func tilePos(i, cols, px int) template.CSS {
	return template.CSS(fmt.Sprintf("%dpx %dpx", -(i%cols)*px, -(i/cols)*px))
}

// colorBarSteps is the colour bar's resolution: one pixel per entry of a
// PNG palette's colours.
const colorBarSteps = 256

// ColorBarPNG draws the colour scale from lo (left) to hi (right) as a
// steps × 1 paletted PNG, pixel i showing the colour of the value at its
// centre exactly as RenderRaster and ThumbSheet colour it.
func ColorBarPNG(cmap *Colormap, lo, hi float64, steps int) ([]byte, error) {
	if steps <= 0 || !(hi > lo) {
		return nil, fmt.Errorf("colour bar: %d steps over [%g, %g]", steps, lo, hi)
	}
	var buf bytes.Buffer
	err := encodeRaster(&buf, steps, 1, func(_ int, dst []float32) error {
		for i := range dst {
			dst[i] = float32(lo + (float64(i)+0.5)/float64(steps)*(hi-lo))
		}
		return nil
	}, lo, hi, cmap, true)
	return buf.Bytes(), err
}

// ColorBarSVG is a horizontal colour bar width pixels wide for an HTML
// page: the scale from lo to hi (ColorBarPNG), ticks at round values and
// label under it, every string escaped.
func ColorBarSVG(cmap *Colormap, lo, hi float64, label string, width int) (template.HTML, error) {
	png, err := ColorBarPNG(cmap, lo, hi, colorBarSteps)
	if err != nil {
		return "", err
	}
	const left, bar, h = 12.0, 14.0, 48.0
	w := float64(width) - 2*left
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="colorbar" width="%d" height="%g" viewBox="0 0 %d %g" font-size="11" font-family="sans-serif">`, width, h, width, h)
	fmt.Fprintf(&b, `<image x="%g" y="0" width="%g" height="%g" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,%s"/>`,
		left, w, bar, base64.StdEncoding.EncodeToString(png))
	fmt.Fprintf(&b, `<rect x="%g" y="0" width="%g" height="%g" fill="none" stroke="#999"/>`, left, w, bar)
	for _, t := range niceTicks(lo, hi, 6) {
		x := left + (t-lo)/(hi-lo)*w
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="#555"/><text x="%.1f" y="%g" text-anchor="middle">%s</text>`,
			x, x, bar, bar+4, x, bar+15, axisTick(t))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text></svg>`, left+w/2, h-4, html.EscapeString(label))
	return template.HTML(b.String()), nil
}
