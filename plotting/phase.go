package plotting

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DensityThreshold is the number of points from which PhasePortrait draws
// a density raster instead of a scatter: beyond a few thousand, dots
// overlap into noise (the notebook's alpha-0.05 dots were nearly
// invisible), and 1e5 dots take long to draw.
const DensityThreshold = 2_000

// PhaseOptions configures PhasePortrait.
type PhaseOptions struct {
	// Title, XLabel, YLabel and ColorLabel label the plot and colour bar.
	Title, XLabel, YLabel, ColorLabel string
	// Colormap colours points by their value; nil means RdBuR.
	Colormap *Colormap
	// XMin, XMax, YMin, YMax bound the plot; all zero means the data range.
	XMin, XMax, YMin, YMax float64
	// VMin and VMax are the colour limits; equal means the values' range.
	VMin, VMax float64
	// Bins is the number of density cells per side; 0 means sqrt(n/10)
	// clamped to [100, 400], about ten points per cell where data is dense.
	Bins int
	// Threshold is the point count from which a density raster is drawn;
	// 0 means DensityThreshold.
	Threshold int
	// Width and Height are the figure size; zero means 10in × 8in.
	Width, Height vg.Length
}

// PhasePortrait draws points (x[i], y[i]) coloured by value[i]. Below
// opts.Threshold points it is a scatter of small opaque-enough dots; from it
// on, a density raster of Bins × Bins cells, each coloured by the mean value
// of its points and shaded by how many there are on a log scale (a cell of
// one point is pale, the densest cell full colour), empty cells white.
// Points with a non-finite coordinate or value are skipped.
func PhasePortrait(x, y, value []float32, opts PhaseOptions) (*Figure, error) {
	n := len(x)
	if len(y) != n || len(value) != n {
		return nil, fmt.Errorf("phase portrait %q: %d x, %d y and %d values", opts.Title, len(x), len(y), len(value))
	}
	cmap := opts.Colormap
	if cmap == nil {
		cmap = RdBuR()
	}
	vmin, vmax := opts.VMin, opts.VMax
	if vmin == vmax {
		vmin, vmax = ValueRange(value, false)
	}
	xmin, xmax, ymin, ymax := opts.XMin, opts.XMax, opts.YMin, opts.YMax
	if xmin == 0 && xmax == 0 && ymin == 0 && ymax == 0 {
		xmin, xmax = ValueRange(x, false)
		ymin, ymax = ValueRange(y, false)
		if xmin == xmax {
			xmin, xmax = xmin-0.5, xmax+0.5
		}
		if ymin == ymax {
			ymin, ymax = ymin-0.5, ymax+0.5
		}
	}
	p := NewPlot(opts.Title, opts.XLabel, opts.YLabel)
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DensityThreshold
	}
	if n >= threshold {
		bins := opts.Bins
		if bins <= 0 {
			bins = min(400, max(100, int(math.Sqrt(float64(n)/10))))
		}
		mean, count := meanCountGrid(x, y, value, bins, bins, xmin, xmax, ymin, ymax)
		img := ColorImage(mean, bins, bins, vmin, vmax, cmap, color.White)
		shadeByLogCount(img, count, bins, bins)
		p.Add(NewRaster(img, xmin, xmax, ymin, ymax))
	} else {
		addGrid(p)
		p.Add(&dots{x: x, y: y, v: value, vmin: vmin, vmax: vmax, cmap: cmap})
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
	}
	w, h := opts.Width, opts.Height
	if w <= 0 || h <= 0 {
		w, h = 10*vg.Inch, 8*vg.Inch
	}
	f := NewFigure(p, w, h)
	f.Panels[0].ColorBar = &ColorBar{Colormap: cmap, Min: vmin, Max: vmax, Label: opts.ColorLabel}
	return f, nil
}

// MeanGrid bins the points into an nx × ny grid over [xmin, xmax] ×
// [ymin, ymax] (row-major, row 0 at ymin) and returns the mean value per
// cell, NaN for empty cells. Points outside the box or with a non-finite
// coordinate or value are skipped; the upper edges are inclusive.
func MeanGrid(x, y, value []float32, nx, ny int, xmin, xmax, ymin, ymax float64) []float32 {
	mean, _ := meanCountGrid(x, y, value, nx, ny, xmin, xmax, ymin, ymax)
	return mean
}

// minShade is the weight of a cell's colour (against white) for a cell of
// one point; the densest cell has weight 1.
const minShade = 0.25

// shadeByLogCount blends each pixel of img (row 0 at the top, as
// ColorImage writes it) with white by log(1+count)/log(1+max count) of its
// cell, from minShade up: where the data is dense reads at a glance.
func shadeByLogCount(img *image.RGBA, count []int32, nx, ny int) {
	top := int32(0)
	for _, c := range count {
		top = max(top, c)
	}
	if top == 0 {
		return
	}
	norm := math.Log1p(float64(top))
	for y := range ny {
		line := img.Pix[(ny-1-y)*img.Stride:]
		for x, c := range count[y*nx : (y+1)*nx] {
			if c == 0 {
				continue
			}
			w := minShade + (1-minShade)*math.Log1p(float64(c))/norm
			for k := range 3 {
				v := float64(line[4*x+k])
				line[4*x+k] = uint8(255 - w*(255-v) + 0.5)
			}
		}
	}
}

// meanCountGrid is MeanGrid with the number of points per cell.
func meanCountGrid(x, y, value []float32, nx, ny int, xmin, xmax, ymin, ymax float64) ([]float32, []int32) {
	sum := make([]float64, nx*ny)
	cnt := make([]int32, nx*ny)
	sx, sy := float64(nx)/(xmax-xmin), float64(ny)/(ymax-ymin)
	for i := range min(len(x), len(y), len(value)) {
		xv, yv, v := float64(x[i]), float64(y[i]), float64(value[i])
		if !(xv >= xmin && xv <= xmax && yv >= ymin && yv <= ymax) || !finite(v) {
			continue
		}
		ix := min(int((xv-xmin)*sx), nx-1)
		iy := min(int((yv-ymin)*sy), ny-1)
		sum[iy*nx+ix] += v
		cnt[iy*nx+ix]++
	}
	out := make([]float32, nx*ny)
	for i := range out {
		if cnt[i] == 0 {
			out[i] = float32(math.NaN())
		} else {
			out[i] = float32(sum[i] / float64(cnt[i]))
		}
	}
	return out, cnt
}

// dots is a scatter of tiny translucent dots coloured by value.
type dots struct {
	x, y, v    []float32
	vmin, vmax float64
	cmap       *Colormap
}

// Plot implements plot.Plotter.
func (d *dots) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	// Discs of 3pt: visible one by one, few enough below DensityThreshold
	// not to merge into a blot.
	r := vg.Points(1.5)
	for i := range d.x {
		xv, yv, v := float64(d.x[i]), float64(d.y[i]), float64(d.v[i])
		if !finite(xv) || !finite(yv) || !finite(v) {
			continue
		}
		pt := vg.Point{X: trX(xv), Y: trY(yv)}
		if !c.Contains(pt) {
			continue
		}
		col := d.cmap.At(Normalize(v, d.vmin, d.vmax))
		c.DrawGlyph(draw.GlyphStyle{Color: withAlpha(col, 0.6), Radius: r, Shape: draw.CircleGlyph{}}, pt)
	}
}
