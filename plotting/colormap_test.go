package plotting

import (
	"image/color"
	"math"
	"testing"
)

// The expected bytes are matplotlib 3.6.3's cmap(t, bytes=True); the floats
// are cmap(t). Our tables were checked bit for bit against cmap._lut.
func TestColormapMatchesMatplotlib(t *testing.T) {
	tests := []struct {
		name    string
		cmap    *Colormap
		t       float64
		want    color.RGBA
		r, g, b float64
	}{
		{"viridis at 0", Viridis(), 0, color.RGBA{68, 1, 84, 255}, 0.267004, 0.004874, 0.329415},
		{"viridis at 0.5", Viridis(), 0.5, color.RGBA{32, 144, 140, 255}, 0.127568, 0.566949, 0.550556},
		{"viridis at 1", Viridis(), 1, color.RGBA{253, 231, 36, 255}, 0.993248, 0.906157, 0.143936},
		{"RdBu_r at 0", RdBuR(), 0, color.RGBA{5, 48, 97, 255}, 0.0196078431372549, 0.18823529411764706, 0.3803921568627451},
		{"RdBu_r at 0.5", RdBuR(), 0.5, color.RGBA{247, 246, 246, 255}, 0.9690888119953864, 0.9664744329104191, 0.9649365628604383},
		{"RdBu_r at 1", RdBuR(), 1, color.RGBA{103, 0, 31, 255}, 0.403921568627451, 0, 0.12156862745098039},
		{"hot_r at 0", HotR(), 0, color.RGBA{255, 255, 255, 255}, 1, 1, 1},
		{"hot_r at 0.5", HotR(), 0.5, color.RGBA{255, 89, 0, 255}, 1, 0.3490199990189723, 0},
		{"hot_r at 1", HotR(), 1, color.RGBA{10, 0, 0, 255}, 0.0416, 0, 0},
		{"below 0 clips to the low end", Viridis(), -3, color.RGBA{68, 1, 84, 255}, 0.267004, 0.004874, 0.329415},
		{"above 1 clips to the high end", Viridis(), 7, color.RGBA{253, 231, 36, 255}, 0.993248, 0.906157, 0.143936},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cmap.At(tt.t); got != tt.want {
				t.Errorf("At(%v) = %v, want %v", tt.t, got, tt.want)
			}
			r, g, b := tt.cmap.Float(tt.t)
			if math.Abs(r-tt.r) > 1e-15 || math.Abs(g-tt.g) > 1e-15 || math.Abs(b-tt.b) > 1e-15 {
				t.Errorf("Float(%v) = %v %v %v, want %v %v %v", tt.t, r, g, b, tt.r, tt.g, tt.b)
			}
		})
	}
}

func TestColormapIndexIsMatplotlibLookup(t *testing.T) {
	tests := []struct {
		t    float64
		want int
	}{
		{0, 0}, {1.0 / 256, 1}, {0.5, 128}, {0.999, 255}, {1, 255}, {-0.001, 0}, {1.5, 255},
		{math.Inf(-1), 0}, {math.Inf(1), 255}, {127.9 / 256, 127},
	}
	for _, tt := range tests {
		if got, ok := Viridis().Index(tt.t); got != tt.want || !ok {
			t.Errorf("Index(%v) = %d, %v; want %d, true", tt.t, got, ok, tt.want)
		}
	}
	if _, ok := Viridis().Index(math.NaN()); ok {
		t.Errorf("Index(NaN) reported ok")
	}
	if got := Viridis().At(math.NaN()); got != DefaultNaNColor {
		t.Errorf("At(NaN) = %v, want DefaultNaNColor", got)
	}
}

func TestColormapByNameKnowsTheNotebookMaps(t *testing.T) {
	for _, name := range []string{"viridis", "RdBu_r", "hot_r"} {
		m, ok := ColormapByName(name)
		if !ok || m.Name != name || len(m.Colors()) != LUTSize {
			t.Errorf("ColormapByName(%q) = %v, %v", name, m, ok)
		}
	}
	if _, ok := ColormapByName("jet"); ok {
		t.Errorf("ColormapByName(jet) succeeded")
	}
}
