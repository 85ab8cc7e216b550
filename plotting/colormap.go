package plotting

import (
	"image/color"
	"math"
	"sort"
)

// LUTSize is the number of entries in every colormap's lookup table, the
// default of matplotlib (rcParams["image.lut"] = 256).
const LUTSize = 256

// DefaultNaNColor is the neutral grey drawn for NaN values in heatmaps.
// matplotlib draws them transparent; a mid grey stays visible on white pages
// and differs from the light centre of RdBu_r and the white end of hot_r.
var DefaultNaNColor = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}

// Colormap maps numbers in [0, 1] to colours exactly as a matplotlib colormap
// with 256 lookup-table entries does.
type Colormap struct {
	// Name is the matplotlib name of the colormap, e.g. "viridis".
	Name string

	lut  [LUTSize][3]float64
	rgba [LUTSize]color.RGBA
}

// newColormap builds a Colormap from a lookup table of RGB triples in [0, 1].
func newColormap(name string, lut [LUTSize][3]float64) *Colormap {
	m := &Colormap{Name: name, lut: lut}
	for i, c := range lut {
		// matplotlib converts to bytes by truncation: (lut * 255).astype(uint8).
		m.rgba[i] = color.RGBA{R: uint8(c[0] * 255), G: uint8(c[1] * 255), B: uint8(c[2] * 255), A: 0xff}
	}
	return m
}

// Index returns the lookup-table index matplotlib uses for t: int(t*256),
// with t = 1 mapped to 255, values below 0 to 0 and above 1 to 255 (the
// default under and over colours are the end colours). ok is false for NaN.
func (m *Colormap) Index(t float64) (idx int, ok bool) {
	if math.IsNaN(t) {
		return 0, false
	}
	x := t * LUTSize
	switch {
	case x < 0:
		return 0, true
	case x >= LUTSize-1:
		return LUTSize - 1, true
	}
	return int(x), true
}

// At returns the colour matplotlib's cmap(t, bytes=True) returns for t in
// [0, 1]; values outside are clipped to the end colours, and NaN gives
// DefaultNaNColor.
func (m *Colormap) At(t float64) color.RGBA {
	i, ok := m.Index(t)
	if !ok {
		return DefaultNaNColor
	}
	return m.rgba[i]
}

// Float returns the colour at t as floating-point RGB in [0, 1], the values
// matplotlib's cmap(t) returns. NaN gives the lowest colour.
func (m *Colormap) Float(t float64) (r, g, b float64) {
	i, _ := m.Index(t)
	c := m.lut[i]
	return c[0], c[1], c[2]
}

// Colors returns the 256 colours of the lookup table from low to high, so a
// Colormap satisfies gonum's palette.Palette (e.g. for plotter.NewHeatMap on
// small grids).
func (m *Colormap) Colors() []color.Color {
	cs := make([]color.Color, LUTSize)
	for i, c := range m.rgba {
		cs[i] = c
	}
	return cs
}

// Normalize maps v to [0, 1] between vmin and vmax as matplotlib's Normalize
// does; a degenerate range (vmin == vmax) maps every value to 0.
func Normalize(v, vmin, vmax float64) float64 {
	if vmax == vmin {
		return 0
	}
	return (v - vmin) / (vmax - vmin)
}

// Viridis returns matplotlib's "viridis" colormap.
func Viridis() *Colormap { return viridis }

// RdBuR returns matplotlib's "RdBu_r" colormap: blue for low values, white in
// the middle, red for high values.
func RdBuR() *Colormap { return rdBuR }

// HotR returns matplotlib's "hot_r" colormap: white for low values through
// yellow and red to black for high values.
func HotR() *Colormap { return hotR }

// ColormapByName returns the colormap with the given matplotlib name
// ("viridis", "RdBu_r", "hot_r"), or nil and false for any other name.
func ColormapByName(name string) (*Colormap, bool) {
	switch name {
	case "viridis":
		return viridis, true
	case "RdBu_r":
		return rdBuR, true
	case "hot_r":
		return hotR, true
	}
	return nil, false
}

var (
	viridis = newColormap("viridis", viridisData)
	rdBuR   = newColormap("RdBu_r", segmentedLUT(reverseSegments(listedSegments(rdBuColors))))
	hotR    = newColormap("hot_r", segmentedLUT(reverseSegments(hotSegments)))
)

// rdBuColors is ColorBrewer's 11-class RdBu, as in matplotlib's _cm.py
// (_RdBu_data), from red to blue.
var rdBuColors = [][3]float64{
	{0x67 / 255.0, 0x00 / 255.0, 0x1f / 255.0},
	{0xb2 / 255.0, 0x18 / 255.0, 0x2b / 255.0},
	{0xd6 / 255.0, 0x60 / 255.0, 0x4d / 255.0},
	{0xf4 / 255.0, 0xa5 / 255.0, 0x82 / 255.0},
	{0xfd / 255.0, 0xdb / 255.0, 0xc7 / 255.0},
	{0xf7 / 255.0, 0xf7 / 255.0, 0xf7 / 255.0},
	{0xd1 / 255.0, 0xe5 / 255.0, 0xf0 / 255.0},
	{0x92 / 255.0, 0xc5 / 255.0, 0xde / 255.0},
	{0x43 / 255.0, 0x93 / 255.0, 0xc3 / 255.0},
	{0x21 / 255.0, 0x66 / 255.0, 0xac / 255.0},
	{0x05 / 255.0, 0x30 / 255.0, 0x61 / 255.0},
}

// segment is one anchor of a matplotlib LinearSegmentedColormap channel:
// at x the channel rises from y0 (left) to y1 (right).
type segment struct{ x, y0, y1 float64 }

// hotSegments is matplotlib's _hot_data for red, green and blue.
var hotSegments = [3][]segment{
	{{0, 0.0416, 0.0416}, {0.365079, 1, 1}, {1, 1, 1}},
	{{0, 0, 0}, {0.365079, 0, 0}, {0.746032, 1, 1}, {1, 1, 1}},
	{{0, 0, 0}, {0.746032, 0, 0}, {1, 1, 1}},
}

// listedSegments is LinearSegmentedColormap.from_list: colours at evenly
// spaced anchors np.linspace(0, 1, n).
func listedSegments(colors [][3]float64) [3][]segment {
	var s [3][]segment
	n := len(colors)
	for i, c := range colors {
		x := linspace(0, 1, n, i)
		for ch := range 3 {
			s[ch] = append(s[ch], segment{x, c[ch], c[ch]})
		}
	}
	return s
}

// reverseSegments is LinearSegmentedColormap.reversed: anchors mirrored as
// (1 - x, y1, y0) in reverse order.
func reverseSegments(s [3][]segment) [3][]segment {
	var r [3][]segment
	for ch := range 3 {
		for i := len(s[ch]) - 1; i >= 0; i-- {
			a := s[ch][i]
			r[ch] = append(r[ch], segment{1 - a.x, a.y1, a.y0})
		}
	}
	return r
}

// linspace returns element i of numpy.linspace(start, stop, n) computed as
// numpy does (i*step + start, the last element exactly stop).
func linspace(start, stop float64, n, i int) float64 {
	if i == n-1 {
		return stop
	}
	step := (stop - start) / float64(n-1)
	return float64(float64(i)*step) + start // conversion forbids a fused multiply-add
}

// segmentedLUT is matplotlib's colors._create_lookup_table with N = 256 and
// gamma = 1, operation for operation, so the table matches to the last bit.
func segmentedLUT(s [3][]segment) [LUTSize][3]float64 {
	var lut [LUTSize][3]float64
	const n = LUTSize
	for ch := range 3 {
		seg := s[ch]
		x := make([]float64, len(seg))
		for i, a := range seg {
			x[i] = a.x * (n - 1)
		}
		lut[0][ch] = seg[0].y1
		lut[n-1][ch] = seg[len(seg)-1].y0
		for i := 1; i < n-1; i++ {
			xi := (n - 1) * linspace(0, 1, n, i)
			ind := sort.SearchFloat64s(x, xi) // numpy.searchsorted, side left
			d := (xi - x[ind-1]) / (x[ind] - x[ind-1])
			lut[i][ch] = d*(seg[ind].y0-seg[ind-1].y1) + seg[ind-1].y1
		}
		for i := range lut {
			lut[i][ch] = min(max(lut[i][ch], 0), 1)
		}
	}
	return lut
}
