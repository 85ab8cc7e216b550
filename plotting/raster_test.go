package plotting

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
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

// TestCompactRasterIsTheSameImageSmaller: a compact raster (each row
// filtered, compressed hardest) decodes to exactly the pixels of a fast
// one, over smooth and noisy rows, NaN and every filter's edge cases; and
// a smooth map takes a fraction of the bytes.
func TestCompactRasterIsTheSameImageSmaller(t *testing.T) {
	const nx, ny = 300, 200
	v := make([]float32, nx*ny)
	for y := range ny {
		for x := range nx {
			v[y*nx+x] = float32(math.Sin(float64(x)/40) * math.Cos(float64(y)/30))
			if y > 150 { // noise: another filter wins these rows
				v[y*nx+x] = float32(math.Sin(float64(x*x*7919 + y*104729)))
			}
		}
	}
	v[5*nx+7] = float32(math.NaN())
	encode := func(compact bool) ([]byte, image.Image) {
		var buf bytes.Buffer
		if err := encodeRaster(&buf, nx, ny, func(y int, dst []float32) error {
			copy(dst, v[y*nx:(y+1)*nx])
			return nil
		}, -1, 1, RdBuR(), compact); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), img
	}
	fast, a := encode(false)
	small, b := encode(true)
	for y := range ny {
		for x := range nx {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel (%d, %d): compact %v, fast %v", x, y, b.At(x, y), a.At(x, y))
			}
		}
	}
	if len(small) > len(fast)*2/3 {
		t.Errorf("compact raster %d bytes, fast %d: not much smaller", len(small), len(fast))
	}
	t.Logf("%d × %d map: %d bytes fast, %d compact", nx, ny, len(fast), len(small))
}

// TestRowFiltersInvert: every filter's output decodes, by Go's PNG
// decoder, to the rows filtered, whichever one the heuristic picks.
func TestRowFiltersInvert(t *testing.T) {
	rows := [][]byte{{0, 255, 3, 200, 200, 1, 128}, {7, 7, 250, 0, 99, 100, 255}, {255, 0, 255, 0, 1, 2, 3}}
	n := len(rows[0])
	for typ := range 5 {
		f := newRowFilter(n)
		var raw []byte
		for _, cur := range rows {
			f.filter(cur)
			raw = append(raw, f.out[typ]...)
		}
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(raw)
		zw.Close()
		var buf bytes.Buffer
		buf.WriteString("\x89PNG\r\n\x1a\n")
		var ihdr [13]byte
		binary.BigEndian.PutUint32(ihdr[0:], uint32(n))
		binary.BigEndian.PutUint32(ihdr[4:], uint32(len(rows)))
		ihdr[8] = 8 // 8-bit grey: the bytes decode as themselves
		for _, c := range []struct {
			typ  string
			data []byte
		}{{"IHDR", ihdr[:]}, {"IDAT", z.Bytes()}, {"IEND", nil}} {
			if err := writeChunk(&buf, c.typ, c.data); err != nil {
				t.Fatal(err)
			}
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("filter %d: %v", typ, err)
		}
		for y, cur := range rows {
			for x, want := range cur {
				if got := img.(*image.Gray).GrayAt(x, y).Y; got != want {
					t.Fatalf("filter %d: row %d decodes %d at %d, want %d", typ, y, got, x, want)
				}
			}
		}
	}
}
