package plotting

import (
	"image"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CoverageLevel is the level of the coverage contour: states per cell,
// averaged over the cell and its eight neighbours, so a lone state does not
// draw a ring of its own.
const CoverageLevel = 1.0

// AddCoverageContour draws over p, a map over [xmin, xmax] × [ymin, ymax],
// the line around where a buffer has data: counts is a row-major ny × nx
// grid of states per cell (row 0 at ymin), blurred over 3 × 3 cells, and
// the line is its CoverageLevel contour, black dashed on a white halo so it
// reads on any colormap. Outside the line the map extrapolates. It does
// nothing for a grid smaller than 2 × 2.
func AddCoverageContour(p *plot.Plot, counts []float64, nx, ny int, xmin, xmax, ymin, ymax float64) {
	if nx < 2 || ny < 2 || len(counts) != nx*ny {
		return
	}
	g := &cellGrid{z: boxBlur3(counts, nx, ny), nx: nx, ny: ny, xmin: xmin, ymin: ymin,
		dx: (xmax - xmin) / float64(nx), dy: (ymax - ymin) / float64(ny)}
	p.Add(NewRaster(veil(g, 4), xmin, xmax, ymin, ymax))
	for _, st := range []draw.LineStyle{
		{Color: color.NRGBA{255, 255, 255, 220}, Width: vg.Points(2.6)},
		{Color: color.Black, Width: vg.Points(1.1), Dashes: []vg.Length{vg.Points(4), vg.Points(2.5)}},
	} {
		c := plotter.NewContour(g, []float64{CoverageLevel}, nil)
		c.Min, c.Max = CoverageLevel, CoverageLevel
		c.LineStyles = []draw.LineStyle{st}
		p.Add(c)
	}
}

// CoverageLegend is the line of a figure's footer that explains the
// contour and the veil.
const CoverageLegend = "Veiled: no replay-buffer states nearby, the map extrapolates; dashed line: the edge of the data."

// veilColor pales the map where the buffer has no states.
var veilColor = color.RGBA{R: 150, G: 150, B: 150, A: 150} // premultiplied: a 59% light grey

// veil returns an image, k pixels per cell, that is veilColor where the
// bilinear interpolation of g's cell-centre values is below CoverageLevel
// and transparent elsewhere, so its edge follows the contour.
func veil(g *cellGrid, k int) *image.RGBA {
	w, h := g.nx*k, g.ny*k
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for py := range h {
		// Pixel centre in cell units, cell centres at integers.
		fy := min(max((float64(py)+0.5)/float64(k)-0.5, 0), float64(g.ny-1))
		y0 := min(int(fy), g.ny-2)
		ty := fy - float64(y0)
		row := img.Pix[(h-1-py)*img.Stride:]
		for px := range w {
			fx := min(max((float64(px)+0.5)/float64(k)-0.5, 0), float64(g.nx-1))
			x0 := min(int(fx), g.nx-2)
			tx := fx - float64(x0)
			z := (1-ty)*((1-tx)*g.Z(x0, y0)+tx*g.Z(x0+1, y0)) + ty*((1-tx)*g.Z(x0, y0+1)+tx*g.Z(x0+1, y0+1))
			if z < CoverageLevel {
				copy(row[4*px:], []byte{veilColor.R, veilColor.G, veilColor.B, veilColor.A})
			}
		}
	}
	return img
}

// cellGrid is a count grid with cell-centre coordinates for plotter.Contour.
type cellGrid struct {
	z          []float64
	nx, ny     int
	xmin, ymin float64
	dx, dy     float64
}

func (g *cellGrid) Dims() (c, r int)   { return g.nx, g.ny }
func (g *cellGrid) Z(c, r int) float64 { return g.z[r*g.nx+c] }
func (g *cellGrid) X(c int) float64    { return g.xmin + (float64(c)+0.5)*g.dx }
func (g *cellGrid) Y(r int) float64    { return g.ymin + (float64(r)+0.5)*g.dy }

// boxBlur3 averages each cell with its neighbours inside the grid.
func boxBlur3(v []float64, nx, ny int) []float64 {
	out := make([]float64, len(v))
	for y := range ny {
		for x := range nx {
			s, n := 0.0, 0
			for yy := max(0, y-1); yy <= min(ny-1, y+1); yy++ {
				for xx := max(0, x-1); xx <= min(nx-1, x+1); xx++ {
					s += v[yy*nx+xx]
					n++
				}
			}
			out[y*nx+x] = s / float64(n)
		}
	}
	return out
}
