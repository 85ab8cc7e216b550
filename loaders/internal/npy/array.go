// Package npy reads numpy arrays without numpy: .npy and .npz files, and
// the arrays and dtypes numpy pickles (Rebuild, for package pickle), as
// inert data (shape, dtype and bytes).
package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
)

// NDArray is a numpy array read from a pickle or an .npy file: inert data
// (shape, dtype and the raw bytes), never a call into numpy.
type NDArray struct {
	// Shape is the array's shape (empty for a 0-d array).
	Shape []int
	// DType is the element type.
	DType NPDType
	// Fortran is true for column-major data.
	Fortran bool
	// Data holds the elements' bytes, Len()*DType.Size bytes.
	Data []byte
}

// NPDType is a numpy dtype: a kind ('f', 'i', 'u', 'b'), an element size in
// bytes and a byte order.
type NPDType struct {
	Kind      byte
	Size      int
	BigEndian bool
}

// String returns the dtype in numpy's descr form, e.g. "<f4".
func (d NPDType) String() string {
	o := "<"
	if d.BigEndian {
		o = ">"
	}
	return fmt.Sprintf("%s%c%d", o, d.Kind, d.Size)
}

var npNamedTypes = map[string]string{"float16": "f2", "float32": "f4", "float64": "f8",
	"int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8", "uint8": "u1"}

// parseNPDType reads a numpy type string such as "<f4", "f8", "|b1", "?".
func parseNPDType(s string) (NPDType, error) {
	var d NPDType
	if s == "?" || s == "bool" {
		return NPDType{Kind: 'b', Size: 1}, nil
	}
	if n, ok := npNamedTypes[s]; ok {
		s = n
	}
	if s != "" && strings.ContainsRune("<>|=", rune(s[0])) {
		d.BigEndian = s[0] == '>'
		s = s[1:]
	}
	if len(s) < 2 {
		return d, fmt.Errorf("unsupported numpy dtype %q", s)
	}
	d.Kind = s[0]
	n := 0
	for _, c := range s[1:] {
		if c < '0' || c > '9' || n > 16 {
			return d, fmt.Errorf("unsupported numpy dtype %q", s)
		}
		n = n*10 + int(c-'0')
	}
	d.Size = n
	ok := false
	switch d.Kind {
	case 'f':
		ok = n == 2 || n == 4 || n == 8
	case 'i', 'u':
		ok = n == 1 || n == 2 || n == 4 || n == 8
	case 'b':
		ok = n == 1
	}
	if !ok {
		return d, fmt.Errorf("unsupported numpy dtype %q (float, int, uint and bool are read)", s)
	}
	return d, nil
}

// setState takes numpy's dtype BUILD state (version, byteorder, ...).
func (d *NPDType) SetState(state pickle.Value) error {
	t, ok := state.(pickle.Tuple)
	if !ok || len(t) < 2 {
		return fmt.Errorf("numpy dtype state is a %s", pickle.TypeName(state))
	}
	if o, ok := t[1].(string); ok {
		d.BigEndian = o == ">"
	}
	return nil
}

// Len returns the number of elements (the product of Shape).
func (a *NDArray) Len() int {
	n, _ := ShapeLen(a.Shape)
	return n
}

// ShapeLen multiplies a shape, failing on negative sizes or overflow.
func ShapeLen(shape []int) (int, error) {
	n := uint64(1)
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(s))
		if hi != 0 || lo > math.MaxInt32*64 {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n = lo
	}
	return int(n), nil
}

// check verifies that the data holds exactly the elements the shape says.
func (a *NDArray) check() error {
	n, err := ShapeLen(a.Shape)
	if err != nil {
		return err
	}
	if a.DType.Size == 0 {
		return errors.New("array without a dtype")
	}
	if want := uint64(n) * uint64(a.DType.Size); uint64(len(a.Data)) != want {
		return fmt.Errorf("array of shape %v and dtype %s needs %d bytes but holds %d", a.Shape, a.DType, want, len(a.Data))
	}
	return nil
}

// Float64s returns the elements as float64 in C (row-major) order.
func (a *NDArray) Float64s() ([]float64, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	n := a.Len()
	out := make([]float64, n)
	var bo binary.ByteOrder = binary.LittleEndian
	if a.DType.BigEndian {
		bo = binary.BigEndian
	}
	sz := a.DType.Size
	for i := range out {
		b := a.Data[i*sz : (i+1)*sz]
		switch a.DType.Kind {
		case 'f':
			switch sz {
			case 2:
				out[i] = float64(datafile.Float16(bo.Uint16(b)))
			case 4:
				out[i] = float64(math.Float32frombits(bo.Uint32(b)))
			default:
				out[i] = math.Float64frombits(bo.Uint64(b))
			}
		case 'i', 'u', 'b':
			var u uint64
			switch sz {
			case 1:
				u = uint64(b[0])
			case 2:
				u = uint64(bo.Uint16(b))
			case 4:
				u = uint64(bo.Uint32(b))
			default:
				u = bo.Uint64(b)
			}
			if a.DType.Kind == 'i' {
				shift := 64 - 8*uint(sz)
				out[i] = float64(int64(u<<shift) >> shift)
			} else {
				out[i] = float64(u)
			}
		}
	}
	if a.Fortran && len(a.Shape) > 1 {
		out = fortranToC(out, a.Shape)
	}
	return out, nil
}

// Float32s returns the elements as float32 in C order.
func (a *NDArray) Float32s() ([]float32, error) {
	f, err := a.Float64s()
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out, nil
}

func fortranToC(src []float64, shape []int) []float64 {
	dst := make([]float64, len(src))
	idx := make([]int, len(shape))
	for c := range dst {
		// c is the C-order index; compute the Fortran offset of idx.
		off, stride := 0, 1
		for k := range shape {
			off += idx[k] * stride
			stride *= shape[k]
		}
		dst[c] = src[off]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

// setState takes ndarray.__setstate__'s tuple (version, shape, dtype,
// is_fortran, rawdata), as numpy's _reconstruct pickles write it.
func (a *NDArray) SetState(state pickle.Value) error {
	t, ok := state.(pickle.Tuple)
	if !ok || len(t) < 4 {
		return fmt.Errorf("ndarray state is a %s, not (version, shape, dtype, fortran, data)", pickle.TypeName(state))
	}
	if len(t) == 5 {
		t = t[1:] // drop the version
	}
	shape, err := pickle.Ints(t[0])
	if err != nil {
		return fmt.Errorf("ndarray shape: %w", err)
	}
	dt, ok := t[1].(*NPDType)
	if !ok {
		return fmt.Errorf("ndarray dtype is a %s", pickle.TypeName(t[1]))
	}
	a.Fortran, _ = t[2].(bool)
	raw, ok := t[3].([]byte)
	if !ok {
		if s, isStr := t[3].(string); isStr { // protocol 2 latin-1 text
			raw = []byte(s)
		} else {
			return fmt.Errorf("ndarray data is a %s (object arrays are not read)", pickle.TypeName(t[3]))
		}
	}
	a.Shape = make([]int, len(shape))
	for i, s := range shape {
		a.Shape[i] = int(s)
		if s < 0 || s > math.MaxInt32 {
			return fmt.Errorf("ndarray dimension %d", s)
		}
	}
	a.DType, a.Data = *dt, raw
	return a.check()
}

// numpyName matches numpy.<mod>.<name> of numpy 1 and numpy._<mod>.<name>
// of numpy 2.
func numpyName(g pickle.Global, mod, name string) bool {
	return g.Name == name && (g.Module == "numpy."+mod || g.Module == "numpy._"+mod)
}

// rebuildNumpy interprets numpy's pickling callables as data: dtypes,
// arrays from _reconstruct (filled by BUILD) and _frombuffer (protocol 5),
// and scalars. Nothing is called.
func Rebuild(g pickle.Global, args pickle.Tuple) (pickle.Value, bool, error) {
	switch {
	case g == pickle.Global{Module: "numpy", Name: "dtype"}:
		if len(args) < 1 {
			return nil, true, errors.New("numpy.dtype without arguments")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, true, fmt.Errorf("numpy.dtype of a %s", pickle.TypeName(args[0]))
		}
		d, err := parseNPDType(s)
		if err != nil {
			return nil, true, err
		}
		return &d, true, nil
	case numpyName(g, "core.multiarray", "_reconstruct"):
		return &NDArray{}, true, nil
	case numpyName(g, "core.numeric", "_frombuffer"):
		// (buffer, dtype, shape, order)
		if len(args) < 4 {
			return nil, true, fmt.Errorf("_frombuffer with %d arguments, want 4", len(args))
		}
		a := &NDArray{}
		return a, true, a.SetState(pickle.Tuple{args[2], args[1], args[3] == "F", args[0]})
	case numpyName(g, "core.multiarray", "scalar"):
		// (dtype, bytes): a numpy scalar, read as a float64.
		if len(args) < 2 {
			return nil, true, errors.New("numpy scalar without data")
		}
		a := &NDArray{}
		if err := a.SetState(pickle.Tuple{pickle.Tuple{}, args[0], false, args[1]}); err != nil {
			return nil, true, err
		}
		f, err := a.Float64s()
		if err != nil {
			return nil, true, err
		}
		return f[0], true, nil
	}
	return nil, false, nil
}
