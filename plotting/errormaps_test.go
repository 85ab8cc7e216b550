package plotting

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

// TestColorBarShowsTheTilesColours: the colour bar's pixel at a value is
// the colour a sprite-sheet tile of that value gets, from one end of the
// symmetric scale to the other.
func TestColorBarShowsTheTilesColours(t *testing.T) {
	const lo, hi = -6.0, 6.0
	bar, err := ColorBarPNG(RdBuR(), lo, hi, colorBarSteps)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(bar))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != colorBarSteps || b.Dy() != 1 {
		t.Fatalf("colour bar %v, want %d × 1", b, colorBarSteps)
	}
	for _, i := range []int{0, 1, 64, 127, 128, 200, 254, 255} {
		v := float32(lo + (float64(i)+0.5)/colorBarSteps*(hi-lo))
		sheet, err := ThumbSheet([][]float32{{v}}, []int{1}, []int{1}, 1, 1, lo, hi, RdBuR())
		if err != nil {
			t.Fatal(err)
		}
		tile, err := png.Decode(bytes.NewReader(sheet))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := img.At(i, 0), tile.At(0, 0); got != want {
			t.Errorf("colour bar at %v (pixel %d) is %v, a tile of %v is %v", v, i, got, v, want)
		}
	}
	// The ends are RdBu_r's: blue below, red above.
	if r, _, b, _ := img.At(0, 0).RGBA(); !(b > r) {
		t.Errorf("the scale's low end is not blue: %v", img.At(0, 0))
	}
	if r, _, b, _ := img.At(colorBarSteps-1, 0).RGBA(); !(r > b) {
		t.Errorf("the scale's high end is not red: %v", img.At(colorBarSteps-1, 0))
	}
	if _, err := ColorBarPNG(RdBuR(), 1, 1, colorBarSteps); err == nil {
		t.Error("a colour bar over an empty range drew")
	}
}

// TestColorBarSVGLabelsTicksAndEscapes: the colour bar's ticks read the
// scale's round values and its label is escaped.
func TestColorBarSVGLabelsTicksAndEscapes(t *testing.T) {
	svg, err := ColorBarSVG(RdBuR(), -6, 6, `Q − V <script>`, 420)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	for _, want := range []string{`>-6</text>`, `>-4</text>`, `>0</text>`, `>6</text>`, `Q − V &lt;script&gt;`, `href="data:image/png;base64,`} {
		if !strings.Contains(s, want) {
			t.Errorf("colour bar lacks %q", want)
		}
	}
	if strings.Contains(s, "<script>") {
		t.Error("colour bar label unescaped")
	}
}
