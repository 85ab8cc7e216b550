package plotting

import (
	"errors"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func decodePNGFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestRenderRasterOriginIsLowerLeft(t *testing.T) {
	const nx, ny = 1000, 700
	path := filepath.Join(t.TempDir(), "grid.png")
	// Cell value grows with the row (y) and is NaN in column 0 of row 5.
	rows := func(y int, dst []float32) error {
		for x := range dst {
			dst[x] = float32(y)
		}
		if y == 5 {
			dst[0] = float32(math.NaN())
		}
		return nil
	}
	cmap := Viridis()
	if err := RenderRaster(path, nx, ny, rows, 0, ny-1, cmap); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(decodePNGFile(t, path))
	if err != nil {
		t.Fatalf("raster does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != nx || b.Dy() != ny {
		t.Fatalf("raster is %v, want %d × %d", b, nx, ny)
	}
	at := func(x, y int) color.RGBA { return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) }
	tests := []struct {
		name string
		x, y int // image coordinates, y down
		want color.RGBA
	}{
		{"bottom line is row 0", 10, ny - 1, cmap.At(0)},
		{"top line is row ny-1, drawn with entry 254", 999, 0, cmap.rgba[254]},
		{"middle row", 500, ny - 1 - 350, cmap.At(350.0 / (ny - 1))},
		{"NaN is neutral", 0, ny - 1 - 5, DefaultNaNColor},
		{"next to NaN is the value", 1, ny - 1 - 5, cmap.At(5.0 / (ny - 1))},
	}
	for _, tt := range tests {
		if got := at(tt.x, tt.y); got != tt.want {
			t.Errorf("%s: pixel (%d, %d) = %v, want %v", tt.name, tt.x, tt.y, got, tt.want)
		}
	}
}

func TestRenderRasterValuesMatchesColorImageBelowTheTopEntry(t *testing.T) {
	values := []float32{-1, 0, 0.5, float32(math.NaN()), 0.99, 1.2}
	path := filepath.Join(t.TempDir(), "v.png")
	if err := RenderRasterValues(path, values, 3, 2, -1, 1, RdBuR()); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(decodePNGFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		x, y := i%3, 1-i/3
		got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
		if want := rasterColor(RdBuR(), v, -1, 1); got != want {
			t.Errorf("value %v: %v, want %v", v, got, want)
		}
	}
}

func TestRenderRasterReportsRowErrorsAndLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.png")
	boom := errors.New("boom")
	err := RenderRaster(path, 10, 10, func(y int, dst []float32) error {
		if y == 3 {
			return boom
		}
		return nil
	}, 0, 1, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap the row error", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed render left %d files", len(entries))
	}
	if err := RenderRaster(path, 0, 10, nil, 0, 1, nil); err == nil {
		t.Errorf("an empty grid rendered")
	}
}

// TestRenderRasterHoldsRowsNotTheImage pins the streaming: a 4096² raster
// (16 MiB of pixels) must be written with a few MiB of allocations.
func TestRenderRasterHoldsRowsNotTheImage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 4096² PNG")
	}
	const n = 4096
	path := filepath.Join(t.TempDir(), "big.png")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := RenderRaster(path, n, n, func(y int, dst []float32) error {
		for x := range dst {
			dst[x] = float32(math.Sin(float64(x)*0.01) * math.Cos(float64(y)*0.013))
		}
		return nil
	}, -1, 1, RdBuR())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("rendering allocated %d MiB, want a few rows' worth", alloc>>20)
	}
	cfg, err := png.DecodeConfig(decodePNGFile(t, path))
	if err != nil || cfg.Width != n || cfg.Height != n {
		t.Errorf("DecodeConfig = %+v, %v", cfg, err)
	}
}

func TestHeatmapRowsFindsLimitsAndDownsamples(t *testing.T) {
	const nx, ny = 3000, 2000
	rows := func(y int, dst []float32) error {
		for x := range dst {
			dst[x] = float32(x - y)
		}
		return nil
	}
	opts := testMapOptions("t", "c", RdBuR())
	opts.Symmetric = true
	fig, vmin, vmax, err := HeatmapRows(nx, ny, rows, opts)
	if err != nil {
		t.Fatal(err)
	}
	if vmin != -2999 || vmax != 2999 {
		t.Errorf("limits %v, %v; want ±2999 (symmetric over the full grid)", vmin, vmax)
	}
	b := fig.Panels[0].raster.Image.Bounds()
	if b.Dx() != DefaultMaxPixels || b.Dy() != 683 {
		t.Errorf("display raster %v, want 1024 × 683", b)
	}
}

func BenchmarkRenderRaster4096(b *testing.B) {
	const n = 4096
	path := filepath.Join(b.TempDir(), "bench.png")
	rows := func(y int, dst []float32) error {
		for x := range dst {
			dst[x] = float32(x^y) / n
		}
		return nil
	}
	for b.Loop() {
		if err := RenderRaster(path, n, n, rows, 0, 1, Viridis()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)*n*n/b.Elapsed().Seconds()/1e6, "Mpixels/s")
}

func BenchmarkHeatmap200(b *testing.B) {
	const n = 200
	v := make([]float32, n*n)
	for i := range v {
		v[i] = float32(math.Sin(float64(i)))
	}
	for b.Loop() {
		f, err := Heatmap(v, n, n, testMapOptions("policy", "action", RdBuR()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.PNG(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "figures/s")
}

// TestRenderRaster16384 writes the 16384² raster users ask for; it takes
// tens of seconds, so it runs only with RLEVAL_BIG_RASTER=1.
func TestRenderRaster16384(t *testing.T) {
	if os.Getenv("RLEVAL_BIG_RASTER") == "" {
		t.Skip("set RLEVAL_BIG_RASTER=1 to write a 16384² PNG")
	}
	const n = 16384
	path := filepath.Join(t.TempDir(), "huge.png")
	err := RenderRaster(path, n, n, func(y int, dst []float32) error {
		for x := range dst {
			dst[x] = float32(x^y) / n
		}
		return nil
	}, 0, 1, Viridis())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(decodePNGFile(t, path))
	if err != nil || cfg.Width != n || cfg.Height != n {
		t.Errorf("DecodeConfig = %+v, %v", cfg, err)
	}
	st, _ := os.Stat(path)
	t.Logf("16384² raster: %d MiB", st.Size()>>20)
}
