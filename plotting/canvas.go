package plotting

import (
	"image"
	"sync"

	"git.sr.ht/~sbinet/gg"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

// pngCanvas returns a white w × h canvas at DPI, the image it draws into,
// reused from earlier figures of that size, and the function that gives
// the image back once it is encoded. vgimg.NewWith would allocate two
// images a figure (gg copies the one it is given): at a few MB each, their
// fresh pages cost more than drawing most figures.
func pngCanvas(w, h vg.Length) (*vgimg.Canvas, *image.RGBA, func()) {
	size := image.Pt(int(w/vg.Inch*DPI+0.5), int(h/vg.Inch*DPI+0.5))
	img := canvasImages.get(size)
	ctx := gg.NewContextForRGBA(img)
	// What vgimg.NewWith does to the context it makes.
	ctx.SetLineCapButt()
	ctx.InvertY()
	c := vgimg.NewWith(vgimg.UseImageWithContext(img, ctx), vgimg.UseDPI(DPI))
	return c, img, func() { canvasImages.put(img) }
}

// imagePool keeps images by size for reuse, up to a budget of bytes.
type imagePool struct {
	mu     sync.Mutex
	free   map[image.Point][]*image.RGBA
	bytes  int
	budget int
}

// canvasImages holds up to 48 MB of images: a dozen figures of a report,
// enough for the few drawn at once.
var canvasImages = imagePool{budget: 48 << 20}

func (p *imagePool) get(size image.Point) *image.RGBA {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.free[size]; len(l) > 0 {
		img := l[len(l)-1]
		p.free[size] = l[:len(l)-1]
		p.bytes -= len(img.Pix)
		return img
	}
	return image.NewRGBA(image.Rectangle{Max: size})
}

func (p *imagePool) put(img *image.RGBA) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+len(img.Pix) > p.budget {
		return // the garbage collector takes it
	}
	if p.free == nil {
		p.free = map[image.Point][]*image.RGBA{}
	}
	size := img.Bounds().Size()
	p.free[size] = append(p.free[size], img)
	p.bytes += len(img.Pix)
}
