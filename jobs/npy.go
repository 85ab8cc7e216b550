package jobs

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/rleval/rleval/internal/atomicfile"
)

// npyHeader returns the .npy (format 1.0) header of a little-endian float32
// C-order array of the given shape. The header is written by hand, not by
// npyio, so that arrays far larger than memory can be streamed row by row
// after it (see WriteNPYStream); tests read the files back with npyio and
// numpy's rules.
func npyHeader(shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// magic(6) + version(2) + length(2) + dict + padding + '\n' is a
	// multiple of 64, as numpy writes it.
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, strings.Repeat(" ", pad)...)
	return append(h, '\n')
}

// writeF32 writes float32 values little-endian through a small reused
// buffer.
func writeF32(w io.Writer, v []float32, buf []byte) error {
	for len(v) > 0 {
		n := min(len(v), len(buf)/4)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		if _, err := w.Write(buf[:4*n]); err != nil {
			return err
		}
		v = v[n:]
	}
	return nil
}

// WriteNPY writes a float32 array as a .npy file, atomically.
func WriteNPY(path string, data []float32, shape ...int) error {
	if n := prod(shape); n != len(data) {
		return fmt.Errorf("write %s: %d values for shape %v (%d)", path, len(data), shape, n)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(npyHeader(shape)); err != nil {
			return err
		}
		return writeF32(w, data, make([]byte, 64<<10))
	})
}

// WriteNPYColumns writes equal-length float64 columns as one (n, k)
// float32 .npy array, atomically, converting through a small reused buffer
// instead of an interleaved copy of the whole array.
func WriteNPYColumns(path string, cols ...[]float64) error {
	n := 0
	if len(cols) > 0 {
		n = len(cols[0])
	}
	for _, c := range cols {
		if len(c) != n {
			return fmt.Errorf("write %s: columns of %d and %d values", path, n, len(c))
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(npyHeader([]int{n, len(cols)})); err != nil {
			return err
		}
		buf := make([]byte, 0, 64<<10)
		for i := range n {
			for _, c := range cols {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(c[i])))
			}
			if len(buf)+4*len(cols) > cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		_, err := w.Write(buf)
		return err
	})
}

// NPYStream writes a float32 .npy array piece by piece, atomically: the
// file appears complete at Close or not at all.
type NPYStream struct {
	w    io.Writer
	buf  []byte
	left int
}

// WriteNPYStream creates path and calls fill with a stream to which fill
// must write exactly prod(shape) values, in C order.
func WriteNPYStream(path string, shape []int, fill func(s *NPYStream) error) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(npyHeader(shape)); err != nil {
			return err
		}
		s := &NPYStream{w: w, buf: make([]byte, 64<<10), left: prod(shape)}
		if err := fill(s); err != nil {
			return err
		}
		if s.left != 0 {
			return fmt.Errorf("%d values missing of shape %v", s.left, shape)
		}
		return nil
	})
}

// Write appends values to the array.
func (s *NPYStream) Write(v []float32) error {
	if len(v) > s.left {
		return fmt.Errorf("%d values more than the array's shape holds", len(v)-s.left)
	}
	s.left -= len(v)
	return writeF32(s.w, v, s.buf)
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
