package plotting

import (
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/color"
	"io"
	"math"

	"github.com/rleval/rleval/internal/atomicfile"
)

// RasterNaNIndex is the palette index of NaN cells in RenderRaster's PNGs.
// A PNG palette holds at most 256 colours, so the colormap's last lookup
// entry gives way to it: values in the top 1/256 of the range are drawn
// with entry 254, every other value with matplotlib's exact entry.
const RasterNaNIndex = LUTSize - 1

// RenderRaster writes an nx × ny grid to path as a paletted PNG of nx × ny
// pixels, one per cell, origin lower left: row ny-1 is the top line of the
// image. rows(y, dst) fills dst (length nx) with grid row y; rows are pulled
// from ny-1 down to 0, one at a time, and compressed as they come, so memory
// stays a few rows whatever the size (16384² and beyond). Values map through
// cmap between vmin and vmax (nil cmap means Viridis); NaN is drawn as
// DefaultNaNColor. The file is written atomically.
func RenderRaster(path string, nx, ny int, rows func(y int, dst []float32) error, vmin, vmax float64, cmap *Colormap) error {
	if nx <= 0 || ny <= 0 || nx > math.MaxInt32 || ny > math.MaxInt32 {
		return fmt.Errorf("render raster %s: grid %d × %d is not a PNG size", path, nx, ny)
	}
	if cmap == nil {
		cmap = Viridis()
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		return encodeRaster(w, nx, ny, rows, vmin, vmax, cmap, false)
	})
}

// RenderRasterValues is RenderRaster for a grid held in memory: values is
// row-major ny × nx with row 0 at the bottom.
func RenderRasterValues(path string, values []float32, nx, ny int, vmin, vmax float64, cmap *Colormap) error {
	if nx <= 0 || ny <= 0 || len(values) != nx*ny {
		return fmt.Errorf("render raster %s: %d values do not fill a %d × %d grid", path, len(values), nx, ny)
	}
	return RenderRaster(path, nx, ny, func(y int, dst []float32) error {
		copy(dst, values[y*nx:(y+1)*nx])
		return nil
	}, vmin, vmax, cmap)
}

// rasterPalette is the PNG palette: the colormap's first 255 entries and
// the NaN colour.
func rasterPalette(cmap *Colormap) []byte {
	p := make([]byte, 0, 3*LUTSize)
	for i := range RasterNaNIndex {
		c := cmap.rgba[i]
		p = append(p, c.R, c.G, c.B)
	}
	n := DefaultNaNColor
	return append(p, n.R, n.G, n.B)
}

// rasterIndex is the palette index of v.
func rasterIndex(cmap *Colormap, v float32, vmin, vmax float64) byte {
	i, ok := cmap.Index(Normalize(float64(v), vmin, vmax))
	if !ok {
		return RasterNaNIndex
	}
	return byte(min(i, RasterNaNIndex-1))
}

// encodeRaster writes the PNG stream: signature, IHDR, PLTE, IDAT chunks
// filled by a streaming zlib writer, IEND. A compact raster is one a page
// embeds (sprite sheets, colour bars), whose bytes every load of the page
// parses: each row is filtered as libpng's heuristic picks and compressed
// at zlib's default level, which makes smooth maps 2–8 times smaller.
// Others (RenderRaster's, up to 16384² and beyond) are written fast.
func encodeRaster(w io.Writer, nx, ny int, rows func(y int, dst []float32) error, vmin, vmax float64, cmap *Colormap, compact bool) error {
	if _, err := w.Write([]byte("\x89PNG\r\n\x1a\n")); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(nx))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(ny))
	ihdr[8], ihdr[9] = 8, 3 // 8-bit palette indices
	if err := writeChunk(w, "IHDR", ihdr[:]); err != nil {
		return err
	}
	if err := writeChunk(w, "PLTE", rasterPalette(cmap)); err != nil {
		return err
	}
	idat := &chunkWriter{w: w, typ: "IDAT", buf: make([]byte, 0, 1<<18)}
	// BestSpeed: a 16384² raster is 256 MiB of indices; default compression
	// takes several times longer for files only ~10% smaller.
	level := zlib.BestSpeed
	if compact {
		// Not BestCompression: on sprite sheets it takes 6–8 times as
		// long for 10% fewer bytes.
		level = zlib.DefaultCompression
	}
	zw, err := zlib.NewWriterLevel(idat, level)
	if err != nil {
		return err
	}
	row := make([]float32, nx)
	line := make([]byte, 1+nx) // filter type 0 (none), as Go's encoder uses for palettes
	var f *rowFilter
	if compact {
		f = newRowFilter(nx)
	}
	for y := ny - 1; y >= 0; y-- {
		if err := rows(y, row); err != nil {
			return fmt.Errorf("row %d: %w", y, err)
		}
		for x, v := range row {
			line[1+x] = rasterIndex(cmap, v, vmin, vmax)
		}
		out := line
		if f != nil {
			out = f.filter(line[1:])
		}
		if _, err := zw.Write(out); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := idat.flush(); err != nil {
		return err
	}
	return writeChunk(w, "IEND", nil)
}

// rowFilter picks each row's PNG filter as libpng does: the one whose
// output bytes, read as signed, have the smallest sum of magnitudes. The
// buffers are sized once.
type rowFilter struct {
	prev []byte    // the previous row's indices (zero above the first)
	out  [5][]byte // the row under each filter, filter type first
}

func newRowFilter(n int) *rowFilter {
	f := &rowFilter{prev: make([]byte, n)}
	for t := range f.out {
		f.out[t] = make([]byte, 1+n)
		f.out[t][0] = byte(t)
	}
	return f
}

// filter returns cur (a row of indices) filtered, its filter type first,
// and keeps cur as the previous row.
func (f *rowFilter) filter(cur []byte) []byte {
	up := f.prev
	best, bestSum := 0, -1
	for t := range f.out {
		o := f.out[t][1:]
		sum := 0
		for x, c := range cur {
			var a, b, d byte // left, up, upper left
			if x > 0 {
				a, d = cur[x-1], up[x-1]
			}
			b = up[x]
			var v byte
			switch t {
			case 0:
				v = c
			case 1:
				v = c - a
			case 2:
				v = c - b
			case 3:
				v = c - byte((int(a)+int(b))/2)
			case 4:
				v = c - paeth(a, b, d)
			}
			o[x] = v
			sum += abs8(v)
		}
		if bestSum < 0 || sum < bestSum {
			best, bestSum = t, sum
		}
	}
	copy(f.prev, cur)
	return f.out[best]
}

// paeth is the PNG Paeth predictor.
func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := absInt(p-int(a)), absInt(p-int(b)), absInt(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs8(v byte) int { return absInt(int(int8(v))) }

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// writeChunk writes one PNG chunk: length, type, data, CRC of type and data.
func writeChunk(w io.Writer, typ string, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{hdr[:], data, tail[:]} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// chunkWriter cuts a stream into PNG chunks of at most cap(buf) bytes.
type chunkWriter struct {
	w   io.Writer
	typ string
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := writeChunk(c.w, c.typ, c.buf)
	c.buf = c.buf[:0]
	return err
}

// HeatmapRows is Heatmap for a grid read one row at a time (e.g. from a
// .npy file too big to hold): one pass over the rows computes the limits
// (unless opts.VMin != opts.VMax) and the area-averaged display grid. It
// returns the limits so that RenderRaster can draw the full-resolution
// raster with the same colours.
func HeatmapRows(nx, ny int, rows func(y int, dst []float32) error, opts HeatmapOptions) (fig *Figure, vmin, vmax float64, err error) {
	if nx <= 0 || ny <= 0 {
		return nil, 0, 0, fmt.Errorf("heatmap %q: grid %d × %d is empty", opts.Title, nx, ny)
	}
	maxPx := opts.MaxPixels
	if maxPx <= 0 {
		maxPx = DefaultMaxPixels
	}
	var lo, hi float32
	seen := false
	disp, dx, dy, err := DownsampleRows(nx, ny, maxPx, func(y int, dst []float32) error {
		if err := rows(y, dst); err != nil {
			return err
		}
		l, h, n := finiteRange(dst)
		if n > 0 {
			if !seen {
				lo, hi, seen = l, h, true
			}
			lo, hi = min(lo, l), max(hi, h)
		}
		return nil
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("heatmap %q: %w", opts.Title, err)
	}
	if opts.VMin == opts.VMax {
		opts.VMin, opts.VMax = 0, 1
		if seen {
			opts.VMin, opts.VMax = ValueRange([]float32{lo, hi}, opts.Symmetric)
		}
	}
	if opts.XMin == 0 && opts.XMax == 0 && opts.YMin == 0 && opts.YMax == 0 {
		opts.XMax, opts.YMax = float64(nx), float64(ny)
	}
	opts.MaxPixels = max(dx, dy)
	fig, err = Heatmap(disp, dx, dy, opts)
	return fig, opts.VMin, opts.VMax, err
}

// rasterColor returns the colour RenderRaster draws for v, for tests and
// callers that check a written file.
func rasterColor(cmap *Colormap, v float32, vmin, vmax float64) color.RGBA {
	i := rasterIndex(cmap, v, vmin, vmax)
	if i == RasterNaNIndex {
		return DefaultNaNColor
	}
	return cmap.rgba[i]
}
