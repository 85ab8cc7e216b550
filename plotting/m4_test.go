package plotting

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func TestM4KeepsFirstMinMaxLastPerColumn(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6, 7}
	y := []float64{5, 1, 9, 4, 3, 3, 8, 2}
	// Two columns over [0, 8): points 0–3 and 4–7.
	got := M4(x, y, 0, 8, 2)
	want := []int{0, 1, 2, 3, 4, 6, 7} // column 2: first=4 (also min), max 6, last 7
	if len(got) != len(want) {
		t.Fatalf("M4 = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("M4 = %v, want %v", got, want)
		}
	}
	if got := M4(x, y, 0, 8, 100); len(got) != len(x) {
		t.Errorf("more columns than points keeps every point, got %v", got)
	}
}

// noisySeries is a random walk with noise, the shape of a loss curve.
func noisySeries(n int) (x, y []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y = make([]float64, n), make([]float64, n)
	w := 0.0
	for i := range n {
		w += rng.NormFloat64() * 0.05
		x[i], y[i] = float64(i*100), w+rng.NormFloat64()*math.Exp(-float64(i)/float64(n))
	}
	return x, y
}

// drawDense draws one dense line on a 1400 × 500 figure and returns the image.
func drawDense(t *testing.T, x, y []float64, noM4 bool) *image.RGBA {
	t.Helper()
	p := NewPlot("dense", "step", "value")
	addGrid(p)
	p.Add(&denseLine{x: x, y: y, style: draw.LineStyle{Color: withAlpha(TabBlue, 0.7), Width: vg.Points(0.8)}, noM4: noM4})
	addMargins(p, 0.05)
	c := vgimg.NewWith(vgimg.UseWH(14*vg.Inch, 5*vg.Inch), vgimg.UseDPI(DPI))
	NewFigure(p, 14*vg.Inch, 5*vg.Inch).Draw(draw.New(c))
	return c.Image().(*image.RGBA)
}

// The M4 drawing must be pixel-identical to painting every point: the
// criterion is exact equality of every byte of the two images.
func TestM4DrawingIsPixelIdenticalToEveryPoint(t *testing.T) {
	x, y := noisySeries(20000)
	m4, all := drawDense(t, x, y, false), drawDense(t, x, y, true)
	if !bytes.Equal(m4.Pix, all.Pix) {
		diff := 0
		for i := range m4.Pix {
			if m4.Pix[i] != all.Pix[i] {
				diff++
			}
		}
		t.Fatalf("%d of %d bytes differ between the M4 and the every-point drawing", diff, len(m4.Pix))
	}
	ink := 0
	for i := 0; i < len(m4.Pix); i += 4 {
		if m4.Pix[i] < 0xc0 && m4.Pix[i+2] > m4.Pix[i] { // bluish
			ink++
		}
	}
	if ink < 20000 {
		t.Errorf("only %d line pixels drawn", ink)
	}
}

// inked reports the pixels that differ clearly from white.
func inked(img image.Image) [][]bool {
	b := img.Bounds()
	out := make([][]bool, b.Dy())
	for j := range out {
		out[j] = make([]bool, b.Dx())
		for i := range out[j] {
			r, g, bl, _ := img.At(b.Min.X+i, b.Min.Y+j).RGBA()
			out[j][i] = r>>8 < 200 || g>>8 < 200 || bl>>8 < 200
		}
	}
	return out
}

// The dense drawing lands where gonum's stroker puts the same line: on a
// 3,000-point series (small enough for the stroker), at least 97% of the
// line pixels of each drawing lie within 1 pixel of a line pixel of the
// other (antialiasing of the two rasterizers differs at the edges).
func TestDenseLineMatchesGonumStroke(t *testing.T) {
	x, y := noisySeries(3000)
	xy := make(plotter.XYs, len(x))
	for i := range x {
		xy[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	sty := draw.LineStyle{Color: TabBlue, Width: vg.Points(0.8)}
	render := func(add func(p *plotter.XYs) any) [][]bool {
		p := NewPlot("", "", "")
		switch v := add(&xy).(type) {
		case *denseLine:
			p.Add(v)
		case *plotter.Line:
			p.Add(v)
		}
		c := vgimg.NewWith(vgimg.UseWH(6*vg.Inch, 3*vg.Inch), vgimg.UseDPI(DPI))
		NewFigure(p, 6*vg.Inch, 3*vg.Inch).Draw(draw.New(c))
		var buf bytes.Buffer
		if err := png.Encode(&buf, c.Image()); err != nil {
			t.Fatal(err)
		}
		return inked(c.Image())
	}
	dense := render(func(*plotter.XYs) any { return &denseLine{x: x, y: y, style: sty} })
	stroke := render(func(p *plotter.XYs) any { return &plotter.Line{XYs: *p, LineStyle: sty} })
	near := func(a, b [][]bool) float64 {
		total, ok := 0, 0
		for j := range a {
			for i := range a[j] {
				if !a[j][i] {
					continue
				}
				total++
			found:
				for dj := -1; dj <= 1; dj++ {
					for di := -1; di <= 1; di++ {
						if jj, ii := j+dj, i+di; jj >= 0 && jj < len(b) && ii >= 0 && ii < len(b[jj]) && b[jj][ii] {
							ok++
							break found
						}
					}
				}
			}
		}
		if total == 0 {
			return 0
		}
		return float64(ok) / float64(total)
	}
	if f := near(dense, stroke); f < 0.97 {
		t.Errorf("%.1f%% of the dense line's pixels are near gonum's", 100*f)
	}
	if f := near(stroke, dense); f < 0.97 {
		t.Errorf("%.1f%% of gonum's line pixels are near the dense line's", 100*f)
	}
}

func TestDenseSVGStaysSmall(t *testing.T) {
	x, y := noisySeries(1000000)
	fig, err := Lines(LineOptions{Title: "loss"}, Series{Label: "loss", X: x, Y: y, Smooth: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := fig.Encode("svg")
	if err != nil {
		t.Fatal(err)
	}
	// Two lines (raw and smoothed) of at most 4 points per 1/100 inch
	// column of a 14-inch figure, ~25 bytes a point.
	if len(svg) > 800<<10 {
		t.Errorf("SVG of a million points is %d KB", len(svg)>>10)
	}
}

func TestSmoothEMAIsTensorBoardsDebiasedAverage(t *testing.T) {
	got := SmoothEMA([]float64{1, 2, math.NaN(), 3}, 0.5)
	want := []float64{1, 1.25 / 0.75, math.NaN(), 2.125 / 0.875}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12) {
			t.Fatalf("SmoothEMA = %v, want %v", got, want)
		}
	}
	if c := SmoothEMA([]float64{4, 4, 4}, 0.9); math.Abs(c[0]-4) > 1e-12 || math.Abs(c[2]-4) > 1e-12 {
		t.Errorf("a constant series stays constant: %v", c)
	}
	if r := SmoothEMA([]float64{1, 2}, 0); r[1] != 2 {
		t.Errorf("weight 0 keeps the raw series: %v", r)
	}
}

func BenchmarkDenseLossFigure(b *testing.B) {
	x, y := noisySeries(1000000)
	b.ReportAllocs()
	for b.Loop() {
		fig, err := CriticLossFigure(1, x, y)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fig.PNG(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds(), "points/s")
}
