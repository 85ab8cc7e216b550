package plotting

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// renderPNG draws f on a PNG canvas and returns the decoded image.
func renderPNG(t *testing.T, f *Figure) image.Image {
	t.Helper()
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("figure PNG does not decode: %v", err)
	}
	return img
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

func TestHeatmapOriginIsLowerLeftWithSymmetricLimits(t *testing.T) {
	// Row 0 (bottom) is -1, 0; row 1 (top) is 0, 1. Auto limits would be
	// the same here, so use 2 as the top to make the symmetric ones matter.
	values := []float32{-1, 0, 0, 2}
	opts := testMapOptions("t", "c", RdBuR())
	opts.Symmetric = true
	f, err := Heatmap(values, 2, 2, opts)
	if err != nil {
		t.Fatal(err)
	}
	img := renderPNG(t, f)
	r := f.Panels[0].raster
	px := r.pixels
	if px.Dx() < 100 || px.Dy() < 100 {
		t.Fatalf("raster drawn at %v, want a large area", px)
	}
	cell := func(cx, cy int) color.RGBA { // cy counts from the bottom
		x := px.Min.X + (2*cx+1)*px.Dx()/4
		y := px.Max.Y - 1 - (2*cy+1)*px.Dy()/4
		return rgbaAt(img, x, y)
	}
	cmap := RdBuR()
	tests := []struct {
		name   string
		cx, cy int
		want   color.RGBA
	}{
		{"lower left is row 0 column 0 (-1 of ±2)", 0, 0, cmap.At(0.25)},
		{"lower right is 0, the centre colour", 1, 0, cmap.At(0.5)},
		{"upper left is 0", 0, 1, cmap.At(0.5)},
		{"upper right is the maximum", 1, 1, cmap.At(1)},
	}
	for _, tt := range tests {
		if got := cell(tt.cx, tt.cy); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	cb := f.Panels[0].ColorBar
	if cb.Min != -2 || cb.Max != 2 {
		t.Errorf("colour bar limits = %v, %v; want -2, 2", cb.Min, cb.Max)
	}
}

func TestHeatmapCornersAreColormapEnds(t *testing.T) {
	f, err := Heatmap([]float32{-1, 0, 0, 1}, 2, 2, HeatmapOptions{Colormap: RdBuR(), Symmetric: true})
	if err != nil {
		t.Fatal(err)
	}
	img := renderPNG(t, f)
	px := f.Panels[0].raster.pixels
	low := rgbaAt(img, px.Min.X+px.Dx()/4, px.Max.Y-1-px.Dy()/4)
	high := rgbaAt(img, px.Max.X-1-px.Dx()/4, px.Min.Y+px.Dy()/4)
	if low != RdBuR().At(0) || high != RdBuR().At(1) {
		t.Errorf("lower-left %v, upper-right %v; want %v and %v", low, high, RdBuR().At(0), RdBuR().At(1))
	}
}

func TestHeatmapDrawsNaNNeutral(t *testing.T) {
	nan := float32(math.NaN())
	f, err := Heatmap([]float32{nan, 1, 2, 3}, 2, 2, HeatmapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := renderPNG(t, f)
	px := f.Panels[0].raster.pixels
	if got := rgbaAt(img, px.Min.X+px.Dx()/4, px.Max.Y-1-px.Dy()/4); got != DefaultNaNColor {
		t.Errorf("NaN cell = %v, want %v", got, DefaultNaNColor)
	}
	if f.Panels[0].ColorBar.Min != 1 || f.Panels[0].ColorBar.Max != 3 {
		t.Errorf("limits %v..%v ignore NaN wrongly", f.Panels[0].ColorBar.Min, f.Panels[0].ColorBar.Max)
	}
}

func TestHeatmapRejectsValuesThatDoNotFillTheGrid(t *testing.T) {
	for _, tc := range []struct{ n, nx, ny int }{{3, 2, 2}, {4, 0, 4}, {0, 0, 0}} {
		if _, err := Heatmap(make([]float32, tc.n), tc.nx, tc.ny, HeatmapOptions{}); err == nil {
			t.Errorf("Heatmap(%d values, %d × %d) succeeded", tc.n, tc.nx, tc.ny)
		}
	}
}

func TestColorImageRowZeroIsTheBottomLine(t *testing.T) {
	img := ColorImage([]float32{0, 0, 0, 1, 1, 1}, 3, 2, 0, 1, Viridis(), nil)
	if got := img.RGBAAt(0, 1); got != Viridis().At(0) {
		t.Errorf("bottom line = %v, want row 0's colour %v", got, Viridis().At(0))
	}
	if got := img.RGBAAt(2, 0); got != Viridis().At(1) {
		t.Errorf("top line = %v, want row 1's colour %v", got, Viridis().At(1))
	}
}

func TestDownsampleAveragesBlocksIgnoringNaN(t *testing.T) {
	nan := float32(math.NaN())
	values := []float32{
		1, 3, 5, nan,
		1, 3, 7, nan,
	}
	out, ox, oy := Downsample(values, 4, 2, 2)
	if ox != 2 || oy != 1 {
		t.Fatalf("size %d × %d, want 2 × 1", ox, oy)
	}
	if out[0] != 2 || out[1] != 6 {
		t.Errorf("out = %v, want [2 6]", out)
	}
	all, _, _ := Downsample([]float32{nan, nan, nan, nan}, 4, 1, 2)
	if !math.IsNaN(float64(all[0])) {
		t.Errorf("an all-NaN block averaged to %v, want NaN", all[0])
	}
	same, sx, sy := Downsample(values, 4, 2, 1024)
	if sx != 4 || sy != 2 || &same[0] != &values[0] {
		t.Errorf("a grid that fits was copied or resized")
	}
}

func TestDownsampleRowsMatchesDownsample(t *testing.T) {
	nx, ny := 301, 157
	v := make([]float32, nx*ny)
	for i := range v {
		v[i] = float32(math.Sin(float64(i) * 0.01))
	}
	want, wx, wy := Downsample(v, nx, ny, 64)
	got, gx, gy, err := DownsampleRows(nx, ny, 64, func(y int, dst []float32) error {
		copy(dst, v[y*nx:(y+1)*nx])
		return nil
	})
	if err != nil || gx != wx || gy != wy || !reflect.DeepEqual(got, want) {
		t.Errorf("DownsampleRows = %d × %d, %v; Downsample = %d × %d", gx, gy, err, wx, wy)
	}
}

func TestTicksAreMatplotlibLike(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{-180, 180, []string{"-150", "-100", "-50", "0", "50", "100", "150"}},
		{-8, 8, []string{"-8", "-6", "-4", "-2", "0", "2", "4", "6", "8"}},
		{-2, 2, []string{"-2.0", "-1.5", "-1.0", "-0.5", "0.0", "0.5", "1.0", "1.5", "2.0"}},
		{0, 1, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}}, {0, 100, []string{"0", "20", "40", "60", "80", "100"}}, {-0.5, 0.5, []string{"-0.4", "-0.2", "0.0", "0.2", "0.4"}},
		// Steps of 2.5 × 10^k take a decimal only below 10: never "17500.0".
		{0, 18000, []string{"0", "2500", "5000", "7500", "10000", "12500", "15000", "17500"}},
		{0, 18, []string{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5", "15.0", "17.5"}},
		{0, 0.18, []string{"0.000", "0.025", "0.050", "0.075", "0.100", "0.125", "0.150", "0.175"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range (Ticks{}).Ticks(tt.lo, tt.hi) {
			got = append(got, tk.Label)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Ticks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestNotebookFiguresRenderAsPNGAndSVG(t *testing.T) {
	step := []float64{0, 1000, 2000, 3000}
	y := []float64{-6, -4, math.NaN(), -1}
	vals := []float32{0.1, -0.2, 0.3, 0.05, 0.5}
	cov, xe, ye := Histogram2D(vals, vals, 4, 3)
	build := map[string]func() (*Figure, error){
		"reward mean": func() (*Figure, error) {
			return RewardMeanFigure(step, y, []float64{-7, -5, -4, -2}, []float64{-5, -3, -2, 0})
		},
		"reward sum":  func() (*Figure, error) { return RewardSumFigure(step, y) },
		"critic loss": func() (*Figure, error) { return CriticLossFigure(2, step, y) },
		"actor loss":  func() (*Figure, error) { return ActorLossFigure(step[1:], y[1:]) },
		"buffer":      func() (*Figure, error) { return BufferSizeFigure(step, step) },
		"weights": func() (*Figure, error) {
			return WeightHistograms("Weight distribution: Actor", []Layer{{Name: "net_body.0", In: 3, Out: 2, Weights: vals[:3], Bias: vals[:2]}})
		},
		"buffer hist": func() (*Figure, error) {
			p := []HistPanel{NewHistPanel("x", vals, 100, nil), NewHistPanel("y", vals, 100, TabCyan)}
			return HistogramGrid("Replay buffer data distributions", 1, 2, p, 0, 0)
		},
		"q hist":   func() (*Figure, error) { return QHistograms(vals, nil) },
		"coverage": func() (*Figure, error) { return CoverageFigure(cov, 4, 3, xe, ye, "x (unit)", "y") },
		"phase scatter": func() (*Figure, error) {
			return PhasePortrait(vals, vals, vals, testPhaseOptions())
		},
		"phase density": func() (*Figure, error) {
			o := testPhaseOptions()
			o.Threshold = 2
			return PhasePortrait(vals, vals, vals, o)
		},
		"q map": func() (*Figure, error) {
			return Heatmap(vals[:4], 2, 2, testMapOptions("Policy Q-value", "Q", Viridis()))
		},
		"disagreement map": func() (*Figure, error) { return Heatmap(vals[:4], 2, 2, testSymmetricOptions()) },
		"batch rewards": func() (*Figure, error) {
			return BatchRewardFigure([]Series{{Label: "run <a>", X: step, Y: y}, {Label: "run b", X: step, Y: step}})
		},
	}
	dir := t.TempDir()
	for name, fn := range build {
		t.Run(name, func(t *testing.T) {
			f, err := fn()
			if err != nil {
				t.Fatal(err)
			}
			paths, err := SaveFigure(f, filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".png"), Formats)
			if err != nil {
				t.Fatal(err)
			}
			if len(paths) != 2 || !strings.HasSuffix(paths[0], ".png") || !strings.HasSuffix(paths[1], ".svg") {
				t.Fatalf("SaveFigure wrote %v", paths)
			}
			b, _ := os.ReadFile(paths[0])
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", paths[0], err)
			}
			if w, h := img.Bounds().Dx(), img.Bounds().Dy(); math.Abs(float64(w)-f.Width.Dots(DPI)) > 1 || math.Abs(float64(h)-f.Height.Dots(DPI)) > 1 {
				t.Errorf("PNG is %d × %d px for a %v × %v figure at %d dpi", w, h, f.Width, f.Height, DPI)
			}
			s, _ := os.ReadFile(paths[1])
			if !bytes.Contains(s, []byte("<svg")) {
				t.Errorf("%s is not an SVG", paths[1])
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestSaveFigureRejectsUnknownFormat(t *testing.T) {
	f, _ := RewardSumFigure([]float64{0, 1}, []float64{0, 1})
	if _, err := SaveFigure(f, filepath.Join(t.TempDir(), "x"), []string{"bmp"}); err == nil {
		t.Errorf("SaveFigure(bmp) succeeded")
	}
}

func TestMeanGridAveragesValuesPerCell(t *testing.T) {
	x := []float32{0.1, 0.2, 1.5, 5}
	y := []float32{0.1, 0.3, 1.5, 0}
	v := []float32{1, 3, -2, 9}
	g := MeanGrid(x, y, v, 2, 2, 0, 2, 0, 2)
	if g[0] != 2 || g[3] != -2 || !math.IsNaN(float64(g[1])) || !math.IsNaN(float64(g[2])) {
		t.Errorf("MeanGrid = %v, want [2 NaN NaN -2]", g)
	}
}

// Drawing a figure into a caller's canvas must work too (jobs may compose).
func TestFigureDrawsOnAnyCanvas(t *testing.T) {
	f, _ := Heatmap([]float32{1, 2, 3, 4}, 2, 2, HeatmapOptions{Title: "x"})
	c := vgimg.New(400, 300)
	f.Draw(draw.New(c))
}

// SVG viewers keep an embedded image's own aspect ratio, so every raster
// (heatmap and colour bar) must be embedded with the shape of its box.
func TestSVGRastersHaveTheAspectOfTheirBox(t *testing.T) {
	f, err := Heatmap([]float32{-1, 0, 0, 1}, 2, 2, testSymmetricOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Encode("svg")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`<image x="[^"]*" y="[^"]*" width="([^"]*)" height="([^"]*)" xlink:href="data:image/[a-z]+;base64,([^"]*)"`)
	ms := re.FindAllSubmatch(b, -1)
	if len(ms) != 2 {
		t.Fatalf("found %d embedded images, want the map and the colour bar", len(ms))
	}
	for _, m := range ms {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		raw, err := base64.StdEncoding.DecodeString(string(m[3]))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		box, img := w/h, float64(cfg.Width)/float64(cfg.Height)
		if math.Abs(box/img-1) > 0.02 {
			t.Errorf("image %d × %d px in a %.1f × %.1f pt box: aspect %.3f vs %.3f", cfg.Width, cfg.Height, w, h, img, box)
		}
	}
}

// testMapOptions are a map's options over a plane of -180..180 by -8..8.
func testMapOptions(title, colorLabel string, cmap *Colormap) HeatmapOptions {
	return HeatmapOptions{Title: title, XLabel: "x (degrees)", YLabel: "y (rad/s)", ColorLabel: colorLabel,
		Colormap: cmap, XMin: -180, XMax: 180, YMin: -8, YMax: 8}
}

// testSymmetricOptions are a difference map's options.
func testSymmetricOptions() HeatmapOptions {
	o := testMapOptions("difference", "a − b", RdBuR())
	o.Symmetric = true
	return o
}

func testPhaseOptions() PhaseOptions {
	return PhaseOptions{Title: "Buffer: phase portrait, colour = action", XLabel: "x (degrees)", YLabel: "y",
		ColorLabel: "action", Colormap: RdBuR(), XMin: -180, XMax: 180, YMin: -8, YMax: 8}
}
