package plotting

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// encodeFigurePNG's files decode, with Go's decoder, to the very pixels
// encoded: opaque images as RGB, others as RGBA, sub-images from their own
// corner, and images of many IDAT chunks.
func TestEncodeFigurePNGRoundTrips(t *testing.T) {
	big := image.NewRGBA(image.Rect(0, 0, 301, 257))
	for i := range big.Pix {
		big.Pix[i] = byte(i*7 + i/1000)
	}
	for i := 3; i < len(big.Pix); i += 4 {
		big.Pix[i] = 255
	}
	translucent := image.NewRGBA(image.Rect(0, 0, 17, 5))
	for i := 0; i < len(translucent.Pix); i += 4 {
		a := byte(i * 13)
		translucent.Pix[i], translucent.Pix[i+1], translucent.Pix[i+2], translucent.Pix[i+3] = a/3, a/2, a, a
	}
	for name, img := range map[string]*image.RGBA{
		"opaque":      big,
		"translucent": translucent,
		"sub-image":   big.SubImage(image.Rect(40, 30, 97, 211)).(*image.RGBA),
		"one pixel":   big.SubImage(image.Rect(5, 5, 6, 6)).(*image.RGBA),
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := encodeFigurePNG(&buf, img); err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if got.Bounds().Size() != b.Size() {
				t.Fatalf("decoded %v, want size %v", got.Bounds(), b.Size())
			}
			compared := 0
			for y := range b.Dy() {
				for x := range b.Dx() {
					want := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y))
					if g := color.NRGBAModel.Convert(got.At(x, y)); g != want {
						t.Fatalf("pixel (%d, %d) = %v, want %v", x, y, g, want)
					}
					compared++
				}
			}
			if compared != b.Dx()*b.Dy() {
				t.Fatalf("compared %d pixels", compared)
			}
		})
	}
}

// The canvas pool hands an image back out by size and keeps no more bytes
// than its budget.
func TestImagePoolReusesBySizeWithinBudget(t *testing.T) {
	p := imagePool{budget: 3 * 4 * 10 * 10}
	a := p.get(image.Pt(10, 10))
	b := p.get(image.Pt(10, 10))
	c := p.get(image.Pt(20, 5))
	big := p.get(image.Pt(10, 20))
	for _, img := range []*image.RGBA{a, b, c, big} {
		p.put(img)
	}
	if p.bytes > p.budget {
		t.Fatalf("pool holds %d bytes, budget %d", p.bytes, p.budget)
	}
	x, y := p.get(image.Pt(10, 10)), p.get(image.Pt(10, 10))
	if !(x == a && y == b || x == b && y == a) {
		t.Fatal("the 10×10 images were not reused")
	}
	if got := p.get(image.Pt(20, 5)); got != c {
		t.Fatal("the 20×5 image was not reused")
	}
	if got := p.get(image.Pt(10, 20)); got == big || got.Bounds().Size() != image.Pt(10, 20) {
		t.Fatal("an image over the budget was kept, or a new one has the wrong size")
	}
	if p.bytes != 0 {
		t.Fatalf("pool holds %d bytes after handing everything out", p.bytes)
	}
}
