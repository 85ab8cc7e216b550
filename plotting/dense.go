package plotting

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// denseMin is the length from which a sorted run is drawn as a dense line.
// Shorter lines go to gonum's stroker, whose antialiased joins look better
// and whose cost is then small.
const denseMin = 2000

// denseLine is a long line whose x is ascending, drawn as what a figure
// can show. On a raster canvas the points are reduced per pixel column
// (M4) and the column spans of the polyline are painted straight into the
// image: gonum's stroker (golang/freetype's rasterizer) slows down with
// every cell a dense zigzag covers. On a vector canvas (SVG) the M4 points
// of columns 1/DPI inch wide are stroked, so the file stays small.
type denseLine struct {
	// x and y are the points, all finite, x ascending; the caller's
	// slices, not copies (a million-point series is 16 MB).
	x, y  []float64
	style draw.LineStyle
	// noM4 paints every point; tests compare it with the M4 drawing.
	noM4 bool
}

// DataRange implements plot.DataRanger.
func (d *denseLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = d.x[0], d.x[len(d.x)-1]
	ymin, ymax = d.y[0], d.y[0]
	for _, v := range d.y { // all finite: plain comparisons suffice
		if v < ymin {
			ymin = v
		}
		if v > ymax {
			ymax = v
		}
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (d *denseLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(d.style, c.Min.X, y, c.Max.X, y)
}

// Plot implements plot.Plotter.
func (d *denseLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := transforms(&c, p)
	if img, ok := pixelCanvas(c.Canvas); ok {
		d.paint(img, c, trX, trY)
		return
	}
	// Vector output: columns of one pixel at DPI, in points.
	unit := float64(vg.Inch) / DPI
	qx, qy := m4Pixels(len(d.x), func(i int) (float64, float64) {
		return float64(trX(d.x[i])) / unit, float64(trY(d.y[i]))
	})
	pts := make([]vg.Point, len(qx))
	for i := range qx {
		pts[i] = vg.Point{X: vg.Length(qx[i] * unit), Y: vg.Length(qy[i])}
	}
	c.StrokeLines(d.style, c.ClipLinesXY(pts)...)
}

// transforms returns the plot's data-to-canvas maps. For linear axes (our
// line plots) they are inlined arithmetic: gonum's own go through two
// interface calls per value, which shows at a million points per line.
func transforms(c *draw.Canvas, p *plot.Plot) (trX, trY func(float64) vg.Length) {
	_, linX := p.X.Scale.(plot.LinearScale)
	_, linY := p.Y.Scale.(plot.LinearScale)
	if !linX || !linY || !(p.X.Max > p.X.Min) || !(p.Y.Max > p.Y.Min) {
		return p.Transforms(c)
	}
	x0, y0 := float64(c.Min.X), float64(c.Min.Y)
	sx := float64(c.Max.X-c.Min.X) / (p.X.Max - p.X.Min)
	sy := float64(c.Max.Y-c.Min.Y) / (p.Y.Max - p.Y.Min)
	xmin, ymin := p.X.Min, p.Y.Min
	return func(x float64) vg.Length { return vg.Length(x0 + (x-xmin)*sx) },
		func(y float64) vg.Length { return vg.Length(y0 + (y-ymin)*sy) }
}

// paint draws the line into the image of a vgimg canvas: per pixel column
// the vertical span the polyline covers there, widened by the line width,
// with coverage-weighted ends.
func (d *denseLine) paint(cv *vgimg.Canvas, c draw.Canvas, trX, trY func(float64) vg.Length) {
	dst, ok := cv.Image().(*image.RGBA)
	if !ok {
		return
	}
	dots := cv.DPI() / float64(vg.Inch)
	h := float64(dst.Bounds().Dy())
	// Pixel coordinates: x to the right, y down, pixel (i, j) covering
	// [i, i+1) × [j, j+1), as vgimg maps points.
	at := func(i int) (float64, float64) {
		return float64(trX(d.x[i])) * dots, h - float64(trY(d.y[i]))*dots
	}
	var px, py []float64
	if d.noM4 {
		px, py = make([]float64, len(d.x)), make([]float64, len(d.x))
		for i := range px {
			px[i], py[i] = at(i)
		}
	} else {
		px, py = m4Pixels(len(d.x), at)
	}
	x0 := max(0, int(math.Floor(float64(c.Min.X)*dots)))
	x1 := min(dst.Bounds().Dx(), int(math.Ceil(float64(c.Max.X)*dots)))
	clipTop, clipBottom := h-float64(c.Max.Y)*dots, h-float64(c.Min.Y)*dots
	if x1 <= x0 {
		return
	}
	lo, hi := columnSpans(px, py, x0, x1)
	half := math.Max(float64(d.style.Width)*dots, 1) / 2
	if r := int(half - 0.5); r > 0 { // a thick line spreads sideways too
		lo, hi = dilate(lo, r, math.Min), dilate(hi, r, math.Max)
	}
	col := color.NRGBAModel.Convert(d.style.Color).(color.NRGBA)
	for i := range lo {
		if lo[i] > hi[i] {
			continue
		}
		top, bottom := math.Max(lo[i]-half, clipTop), math.Min(hi[i]+half, clipBottom)
		for j := int(math.Floor(top)); float64(j) < bottom; j++ {
			cover := math.Min(float64(j+1), bottom) - math.Max(float64(j), top)
			if cover > 0 {
				blend(dst, x0+i, j, col, cover)
			}
		}
	}
}

// columnSpans returns, for the pixel columns x0 ≤ i < x1, the lowest and
// highest y the polyline through (px, py) reaches inside the column (lo >
// hi where it does not pass). Only the segments' endpoints and their
// crossings of column borders matter, which is why M4's points give the
// same spans as all points.
func columnSpans(px, py []float64, x0, x1 int) (lo, hi []float64) {
	lo, hi = make([]float64, x1-x0), make([]float64, x1-x0)
	for i := range lo {
		lo[i], hi[i] = math.Inf(1), math.Inf(-1)
	}
	touch := func(col int, a, b float64) {
		if col < x0 || col >= x1 {
			return
		}
		k := col - x0
		lo[k] = math.Min(lo[k], math.Min(a, b))
		hi[k] = math.Max(hi[k], math.Max(a, b))
	}
	if len(px) == 1 {
		touch(int(math.Floor(px[0])), py[0], py[0])
	}
	for s := 0; s+1 < len(px); s++ {
		ax, ay, bx, by := px[s], py[s], px[s+1], py[s+1]
		ca, cb := int(math.Floor(ax)), int(math.Floor(bx))
		if ca == cb || bx == ax {
			touch(ca, ay, by)
			continue
		}
		slope := (by - ay) / (bx - ax)
		// The part in column ca, the columns in between, the part in cb.
		ya := ay + (float64(ca+1)-ax)*slope
		touch(ca, ay, ya)
		for k := max(ca+1, x0-1); k < cb && k < x1; k++ {
			y0 := ay + (float64(k)-ax)*slope
			touch(k, y0, y0+slope)
		}
		touch(cb, ay+(float64(cb)-ax)*slope, by)
	}
	return lo, hi
}

// dilate replaces v[i] by f over v[i-r..i+r].
func dilate(v []float64, r int, f func(a, b float64) float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		x := v[i]
		for k := max(0, i-r); k <= min(len(v)-1, i+r); k++ {
			x = f(x, v[k])
		}
		out[i] = x
	}
	return out
}

// blend paints c over pixel (x, y) at its alpha times cover.
func blend(dst *image.RGBA, x, y int, c color.NRGBA, cover float64) {
	if !(image.Point{X: x, Y: y}.In(dst.Rect)) {
		return
	}
	a := float64(c.A) / 255 * math.Min(cover, 1)
	o := dst.PixOffset(x, y)
	p := dst.Pix[o : o+4 : o+4]
	p[0] = uint8(float64(c.R)*a + float64(p[0])*(1-a) + 0.5)
	p[1] = uint8(float64(c.G)*a + float64(p[1])*(1-a) + 0.5)
	p[2] = uint8(float64(c.B)*a + float64(p[2])*(1-a) + 0.5)
	p[3] = uint8(255*a + float64(p[3])*(1-a) + 0.5)
}
