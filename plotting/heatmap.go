package plotting

import (
	"fmt"
	"image"
	"image/color"
	xdraw "image/draw"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// DefaultMaxPixels bounds the longer side of the raster drawn inside a
// heatmap figure; larger grids are area-averaged down to it first.
const DefaultMaxPixels = 1024

// HeatmapOptions configures Heatmap. The zero value draws a viridis map over
// cell indices with limits from the data.
type HeatmapOptions struct {
	// Title, XLabel and YLabel label the plot; ColorLabel labels the colour bar.
	Title, XLabel, YLabel, ColorLabel string
	// Colormap colours the values; nil means Viridis.
	Colormap *Colormap
	// XMin, XMax, YMin, YMax are the outer edges of the grid in data
	// coordinates (imshow's extent): column 0 starts at XMin, row 0 at YMin
	// (bottom). All zero means cell indices, [0, nx] × [0, ny].
	XMin, XMax, YMin, YMax float64
	// VMin and VMax are the values at the ends of the colormap. If they are
	// equal (e.g. both zero) they come from the finite data: min and max, or
	// ±max|v| when Symmetric is set.
	VMin, VMax float64
	// Symmetric centres automatic limits on zero (vmin = -max|v|,
	// vmax = +max|v|), for difference maps.
	Symmetric bool
	// Log colours by log10 of the values, for counts and densities where
	// one cell would dominate a linear scale; values ≤ 0 take NaNColor and
	// automatic limits come from the positive values.
	Log bool
	// NaNColor is drawn for NaN cells; nil means DefaultNaNColor.
	NaNColor color.Color
	// MaxPixels bounds the raster's longer side; 0 means DefaultMaxPixels.
	MaxPixels int
	// Width and Height are the figure size; zero means 10in × 8in, the
	// notebook's figsize.
	Width, Height vg.Length
}

// Heatmap draws values, a row-major ny × nx grid with row 0 at the bottom
// (imshow(origin="lower")), as one raster with a colour bar. Grids larger
// than opts.MaxPixels are area-averaged down for display; limits come from
// the full-resolution data.
func Heatmap(values []float32, nx, ny int, opts HeatmapOptions) (*Figure, error) {
	if nx <= 0 || ny <= 0 || len(values) != nx*ny {
		return nil, fmt.Errorf("heatmap %q: %d values do not fill a %d × %d grid", opts.Title, len(values), nx, ny)
	}
	vmin, vmax := opts.VMin, opts.VMax
	if opts.Log {
		values = log10Positive(values)
		if vmin > 0 && vmax > vmin {
			vmin, vmax = math.Log10(vmin), math.Log10(vmax)
		} else {
			vmin, vmax = vmax, vmin // equal: from the data below
		}
	}
	if vmin == vmax {
		vmin, vmax = ValueRange(values, opts.Symmetric)
		if opts.Log && vmin == vmax {
			vmax = vmin + 1
		}
	}
	cmap := opts.Colormap
	if cmap == nil {
		cmap = Viridis()
	}
	maxPx := opts.MaxPixels
	if maxPx <= 0 {
		maxPx = DefaultMaxPixels
	}
	disp, dx, dy := Downsample(values, nx, ny, maxPx)
	img := ColorImage(disp, dx, dy, vmin, vmax, cmap, opts.NaNColor)

	xmin, xmax, ymin, ymax := opts.XMin, opts.XMax, opts.YMin, opts.YMax
	if xmin == 0 && xmax == 0 && ymin == 0 && ymax == 0 {
		xmax, ymax = float64(nx), float64(ny)
	}
	p := NewPlot(opts.Title, opts.XLabel, opts.YLabel)
	r := NewRaster(img, xmin, xmax, ymin, ymax)
	p.Add(r)
	w, h := opts.Width, opts.Height
	if w <= 0 || h <= 0 {
		w, h = 10*vg.Inch, 8*vg.Inch
	}
	f := NewFigure(p, w, h)
	f.Panels[0].ColorBar = &ColorBar{Colormap: cmap, Min: vmin, Max: vmax, Label: opts.ColorLabel, Log: opts.Log}
	f.Panels[0].raster = r
	return f, nil
}

// log10Positive returns log10 of each value, NaN for values ≤ 0 or NaN.
func log10Positive(values []float32) []float32 {
	out := make([]float32, len(values))
	for i, v := range values {
		if v > 0 {
			out[i] = float32(math.Log10(float64(v)))
		} else {
			out[i] = float32(math.NaN())
		}
	}
	return out
}

// ValueRange returns the minimum and maximum of the finite values, or
// -max|v| and +max|v| when symmetric (±1 when every value is 0). With no
// finite values it returns 0, 1.
func ValueRange(values []float32, symmetric bool) (vmin, vmax float64) {
	lo, hi, n := finiteRange(values)
	if n == 0 {
		return 0, 1
	}
	vmin, vmax = float64(lo), float64(hi)
	if symmetric {
		m := max(math.Abs(vmin), math.Abs(vmax))
		if m == 0 {
			// An all-zero difference (actor == actor_target) would be a
			// degenerate range that matplotlib paints with the lowest
			// colour; ±1 paints it with the neutral centre instead.
			m = 1
		}
		vmin, vmax = -m, m
	}
	return vmin, vmax
}

// ColorImage colours a row-major ny × nx grid (row 0 at the bottom) into an
// image whose top line is row ny-1, mapping [vmin, vmax] through cmap as
// matplotlib does; NaN cells get nanColor (nil means DefaultNaNColor).
func ColorImage(values []float32, nx, ny int, vmin, vmax float64, cmap *Colormap, nanColor color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, nx, ny))
	nan := DefaultNaNColor
	if nanColor != nil {
		nan = color.RGBAModel.Convert(nanColor).(color.RGBA)
	}
	for y := range ny {
		line := img.Pix[(ny-1-y)*img.Stride:]
		for x, v := range values[y*nx : (y+1)*nx] {
			c := nan
			if !math.IsNaN(float64(v)) {
				c = cmap.At(Normalize(float64(v), vmin, vmax))
			}
			copy(line[4*x:4*x+4], []byte{c.R, c.G, c.B, c.A})
		}
	}
	return img
}

// Downsample area-averages a row-major ny × nx grid so that neither side
// exceeds maxSide, ignoring NaN (a block of only NaN stays NaN). Each output
// cell averages the input cells whose centres fall in it. A grid that
// already fits is returned as is.
func Downsample(values []float32, nx, ny, maxSide int) (out []float32, ox, oy int) {
	ox, oy = downsampledSize(nx, ny, maxSide)
	if ox == nx && oy == ny {
		return values, nx, ny
	}
	d := newDownsampler(nx, ny, ox, oy)
	for y := range ny {
		d.addRow(y, values[y*nx:(y+1)*nx])
	}
	return d.result(), ox, oy
}

// downsampledSize scales nx × ny to fit maxSide, keeping the aspect ratio.
func downsampledSize(nx, ny, maxSide int) (int, int) {
	if maxSide <= 0 || (nx <= maxSide && ny <= maxSide) {
		return nx, ny
	}
	s := float64(maxSide) / float64(max(nx, ny))
	return max(1, min(maxSide, int(math.Round(float64(nx)*s)))), max(1, min(maxSide, int(math.Round(float64(ny)*s))))
}

// downsampler accumulates rows of an nx × ny grid into ox × oy block sums.
type downsampler struct {
	nx, ny, ox, oy int
	colOf          []int // output column of each input column
	sum            []float64
	n              []int32
}

func newDownsampler(nx, ny, ox, oy int) *downsampler {
	d := &downsampler{nx: nx, ny: ny, ox: ox, oy: oy, colOf: make([]int, nx),
		sum: make([]float64, ox*oy), n: make([]int32, ox*oy)}
	for x := range nx {
		d.colOf[x] = x * ox / nx
	}
	return d
}

func (d *downsampler) addRow(y int, row []float32) {
	base := (y * d.oy / d.ny) * d.ox
	sum, n := d.sum[base:base+d.ox], d.n[base:base+d.ox]
	for x, v := range row {
		if math.IsNaN(float64(v)) {
			continue
		}
		o := d.colOf[x]
		sum[o] += float64(v)
		n[o]++
	}
}

func (d *downsampler) result() []float32 {
	out := make([]float32, len(d.sum))
	for i, s := range d.sum {
		if d.n[i] == 0 {
			out[i] = float32(math.NaN())
		} else {
			out[i] = float32(s / float64(d.n[i]))
		}
	}
	return out
}

// DownsampleRows is Downsample for a grid read one row at a time: rows(y,
// dst) fills dst (length nx) with row y. Memory is one row plus the output.
func DownsampleRows(nx, ny, maxSide int, rows func(y int, dst []float32) error) (out []float32, ox, oy int, err error) {
	if nx <= 0 || ny <= 0 {
		return nil, 0, 0, fmt.Errorf("downsample: grid %d × %d is empty", nx, ny)
	}
	ox, oy = downsampledSize(nx, ny, maxSide)
	d := newDownsampler(nx, ny, ox, oy)
	row := make([]float32, nx)
	for y := range ny {
		if err := rows(y, row); err != nil {
			return nil, 0, 0, fmt.Errorf("downsample: row %d: %w", y, err)
		}
		d.addRow(y, row)
	}
	return d.result(), ox, oy, nil
}

// Raster is a gonum plotter that draws an image over a rectangle in data
// coordinates. On PNG canvases it scales the image itself by nearest
// neighbour to the exact pixels it covers, so cells keep sharp edges and
// exact colours (gonum's plotter.Image blurs them bilinearly).
type Raster struct {
	// Image is drawn with its top line at YMax.
	Image image.Image
	// XMin, XMax, YMin, YMax are the image's outer edges in data coordinates.
	XMin, XMax, YMin, YMax float64

	// pixels is where the last PNG drawing put the image, in image
	// coordinates (y down); tests use it to find cells.
	pixels image.Rectangle
}

// NewRaster returns a Raster of img spanning [xmin, xmax] × [ymin, ymax].
func NewRaster(img image.Image, xmin, xmax, ymin, ymax float64) *Raster {
	return &Raster{Image: img, XMin: xmin, XMax: xmax, YMin: ymin, YMax: ymax}
}

// DataRange implements plot.DataRanger.
func (r *Raster) DataRange() (xmin, xmax, ymin, ymax float64) {
	return r.XMin, r.XMax, r.YMin, r.YMax
}

// Plot implements plot.Plotter.
func (r *Raster) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	rect := vg.Rectangle{
		Min: vg.Point{X: trX(r.XMin), Y: trY(r.YMin)},
		Max: vg.Point{X: trX(r.XMax), Y: trY(r.YMax)},
	}
	img, rect, px := fitImage(c.Canvas, rect, r.Image)
	if px != (image.Rectangle{}) {
		r.pixels = px
	}
	drawFitted(c, rect, px, img)
}

// drawFitted draws img, prepared by fitImage, over rect. An opaque image
// fitted to whole pixels is copied straight into the PNG canvas: gg would
// resample it bilinearly at scale 1, to the same pixels, at a twentieth of
// the speed.
func drawFitted(c draw.Canvas, rect vg.Rectangle, px image.Rectangle, img image.Image) {
	ic, ok := pixelCanvas(c.Canvas)
	if o, opaque := img.(interface{ Opaque() bool }); ok && opaque && o.Opaque() && px.Dx() == img.Bounds().Dx() && px.Dy() == img.Bounds().Dy() {
		xdraw.Draw(ic.Image(), px, img, img.Bounds().Min, xdraw.Src)
		return
	}
	c.DrawImage(rect, img)
}

// fitImage prepares img for drawing over rect. On PNG canvases it scales
// img by nearest neighbour to exactly the whole pixels rect covers (gg would
// blur it bilinearly), returning that rectangle in image coordinates too.
// On vector canvases it enlarges img by nearest neighbour to the aspect
// ratio of rect at up to vectorRasterSide pixels: SVG keeps an image's own
// aspect ratio (vgsvg sets no preserveAspectRatio) and viewers smooth it.
func fitImage(cv vg.Canvas, rect vg.Rectangle, img image.Image) (image.Image, vg.Rectangle, image.Rectangle) {
	if ic, ok := pixelCanvas(cv); ok {
		dpi := ic.DPI()
		toDots := func(l vg.Length) float64 { return math.Round(l.Dots(dpi)) }
		x0, x1 := toDots(rect.Min.X), toDots(rect.Max.X)
		y0, y1 := toDots(rect.Min.Y), toDots(rect.Max.Y)
		w, h := int(x1-x0), int(y1-y0)
		if w <= 0 || h <= 0 {
			return img, rect, image.Rectangle{}
		}
		fromDots := func(d float64) vg.Length { return vg.Length(d / dpi * vg.Inch.Points()) }
		rect = vg.Rectangle{Min: vg.Point{X: fromDots(x0), Y: fromDots(y0)}, Max: vg.Point{X: fromDots(x1), Y: fromDots(y1)}}
		_, ch := ic.Size()
		hd := math.Round(ch.Dots(dpi))
		return resizeNearest(img, w, h), rect, image.Rect(int(x0), int(hd-y1), int(x1), int(hd-y0))
	}
	wp, hp := float64(rect.Max.X-rect.Min.X), float64(rect.Max.Y-rect.Min.Y)
	if wp <= 0 || hp <= 0 {
		return img, rect, image.Rectangle{}
	}
	b := img.Bounds()
	// Whole source pixels per output pixel where possible, at most
	// vectorRasterSide on the longer side, and the rectangle's aspect.
	s := float64(vectorRasterSide) / max(wp, hp)
	w, h := max(1, int(math.Round(wp*s))), max(1, int(math.Round(hp*s)))
	if b.Dx() >= w && b.Dy() >= h {
		w, h = b.Dx(), int(math.Round(float64(b.Dx())*hp/wp))
	}
	return resizeNearest(img, w, h), rect, image.Rectangle{}
}

// vectorRasterSide is the longer side of rasters embedded in SVG figures.
const vectorRasterSide = 1024

// pixelCanvas finds the PNG canvas under the draw.Canvas wrappers that
// draw.Tiles and draw.Crop add.
func pixelCanvas(c vg.Canvas) (*vgimg.Canvas, bool) {
	for {
		switch v := c.(type) {
		case *vgimg.Canvas:
			return v, true
		case draw.Canvas:
			c = v.Canvas
		case *draw.Canvas:
			c = v.Canvas
		default:
			return nil, false
		}
	}
}

// resizeNearest scales src to w × h by nearest neighbour.
func resizeNearest(src image.Image, w, h int) image.Image {
	b := src.Bounds()
	if b.Dx() == w && b.Dy() == h {
		return src
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	srgba, fast := src.(*image.RGBA)
	for y := range h {
		sy := b.Min.Y + (2*y+1)*b.Dy()/(2*h)
		line := dst.Pix[y*dst.Stride:]
		for x := range w {
			sx := b.Min.X + (2*x+1)*b.Dx()/(2*w)
			if fast {
				o := srgba.PixOffset(sx, sy)
				copy(line[4*x:4*x+4], srgba.Pix[o:o+4])
				continue
			}
			c := color.RGBAModel.Convert(src.At(sx, sy)).(color.RGBA)
			copy(line[4*x:4*x+4], []byte{c.R, c.G, c.B, c.A})
		}
	}
	return dst
}

// colorBarImage is a 1 × 256 strip of the colormap, high values on top.
func colorBarImage(cmap *Colormap) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 1, LUTSize))
	for i := range LUTSize {
		img.SetRGBA(0, LUTSize-1-i, cmap.rgba[i])
	}
	return img
}
