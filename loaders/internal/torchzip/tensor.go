package torchzip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/npy"
	"github.com/rleval/rleval/loaders/internal/pickle"
)

// DType is a tensor element type, named as torch names it.
type DType string

// The element types the reader decodes.
const (
	Float32  DType = "float32"
	Float64  DType = "float64"
	Float16  DType = "float16"
	BFloat16 DType = "bfloat16"
	Int64    DType = "int64"
	Int32    DType = "int32"
	Int16    DType = "int16"
	Int8     DType = "int8"
	Uint8    DType = "uint8"
	Bool     DType = "bool"
)

// Size returns the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Float16, BFloat16, Int16:
		return 2
	case Int8, Uint8, Bool:
		return 1
	}
	return 0
}

// storageDTypes maps torch's typed storage classes to element types.
var storageDTypes = map[string]DType{
	"FloatStorage":    Float32,
	"DoubleStorage":   Float64,
	"HalfStorage":     Float16,
	"BFloat16Storage": BFloat16,
	"LongStorage":     Int64,
	"IntStorage":      Int32,
	"ShortStorage":    Int16,
	"CharStorage":     Int8,
	"ByteStorage":     Uint8,
	"BoolStorage":     Bool,
	"UntypedStorage":  Uint8,
}

// torchDTypes maps torch dtype globals (torch.float32, ...) to element types.
var torchDTypes = map[string]DType{
	"float32": Float32, "float": Float32, "float64": Float64, "double": Float64,
	"float16": Float16, "half": Float16, "bfloat16": BFloat16,
	"int64": Int64, "long": Int64, "int32": Int32, "int": Int32,
	"int16": Int16, "short": Int16, "int8": Int8, "uint8": Uint8, "bool": Bool,
}

// Storage is one torch storage: a flat array of elements whose bytes live in
// the checkpoint file (a zip member or a span of a legacy file).
type Storage struct {
	// Key is the storage's name in the file (e.g. "0").
	Key string
	// DType is the element type.
	DType DType
	// Numel is the number of elements.
	Numel int64
	// Location is the device the storage was saved from ("cpu", "cuda:0").
	Location string

	path string      // the checkpoint, for error messages
	src  io.ReaderAt // the bytes; nil until the file's storages are resolved
	off  int64       // offset of element 0 in src
	err  error       // why the bytes are unavailable, if they are
	// crc is the zip CRC-32 of a stored member that holds exactly this
	// storage (hasCRC), checked when the storage is read whole.
	crc    uint32
	hasCRC bool
}

func (s *Storage) readAt(p []byte, elemOff int64) error {
	if s.err != nil {
		return s.err
	}
	if s.src == nil {
		return fmt.Errorf("storage %s has no data", s.Key)
	}
	if _, err := s.src.ReadAt(p, s.off+elemOff*int64(s.DType.Size())); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read storage %s of %s: %w", s.Key, s.path, err)
	}
	return nil
}

// maxBroadcast bounds how many elements a tensor may have beyond its
// storage's size (a saved expand() has stride 0), so materialising a tensor
// never takes much more memory than the file holds.
const maxBroadcast = 1 << 16

// Tensor is a torch tensor read from a checkpoint: a strided view into a
// Storage. Its data is read from the file when asked for.
type Tensor struct {
	// DType is the element type.
	DType DType
	// Shape is the size of each dimension; empty for a 0-d tensor.
	Shape []int
	// Stride is the element step of each dimension in the storage.
	Stride []int
	// Offset is the index of the first element in the storage.
	Offset int64
	// RequiresGrad is what torch saved (true for parameters).
	RequiresGrad bool
	// Storage holds the elements.
	Storage *Storage
}

// PythonType names a tensor in error messages (pickle.Named).
func (t *Tensor) PythonType() string { return "tensor" }

// SetState takes the Python attributes torch BUILDs onto a tensor (usually
// an empty dict): nothing the readers need (pickle.StateSetter).
func (t *Tensor) SetState(pickle.Value) error { return nil }

// PythonType names a storage in error messages (pickle.Named).
func (s *Storage) PythonType() string { return "storage" }

// Numel returns the number of elements (1 for a 0-d tensor).
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// contiguous reports whether the view is row-major without gaps.
func (t *Tensor) contiguous() bool {
	want := 1
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] != 1 && t.Stride[i] != want {
			return false
		}
		want *= t.Shape[i]
	}
	return true
}

// newTensor checks a view against its storage before anything is
// allocated: every element it addresses must lie inside the storage.
func newTensor(st *Storage, offset int64, shape, stride []int64) (*Tensor, error) {
	if len(shape) != len(stride) {
		return nil, fmt.Errorf("tensor of rank %d with %d strides", len(shape), len(stride))
	}
	if len(shape) > 64 {
		return nil, fmt.Errorf("tensor of rank %d", len(shape))
	}
	if offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", offset)
	}
	t := &Tensor{DType: st.DType, Offset: offset, Storage: st, Shape: make([]int, len(shape)), Stride: make([]int, len(shape))}
	count := int64(1)
	maxIdx := offset
	empty := false
	for i := range shape {
		if shape[i] < 0 || stride[i] < 0 {
			return nil, fmt.Errorf("tensor shape %v strides %v: negative size", shape, stride)
		}
		if shape[i] == 0 {
			empty = true
		}
		if shape[i] > 0 && count > math.MaxInt64/shape[i] {
			return nil, fmt.Errorf("tensor shape %v overflows", shape)
		}
		count *= shape[i]
		if shape[i] > 0 {
			if stride[i] > 0 && (shape[i]-1) > (math.MaxInt64-maxIdx)/stride[i] {
				return nil, fmt.Errorf("tensor shape %v strides %v overflows", shape, stride)
			}
			maxIdx += (shape[i] - 1) * stride[i]
		}
		t.Shape[i], t.Stride[i] = int(shape[i]), int(stride[i])
	}
	if empty {
		return t, nil
	}
	if maxIdx >= st.Numel {
		return nil, fmt.Errorf("tensor shape %v strides %v offset %d needs %d elements but storage %s has %d",
			shape, stride, offset, maxIdx+1, st.Key, st.Numel)
	}
	if count > st.Numel+maxBroadcast {
		return nil, fmt.Errorf("tensor shape %v has %d elements over a storage of %d", shape, count, st.Numel)
	}
	return t, nil
}

// Bytes returns the tensor's elements as contiguous little-endian bytes in
// row-major order (what PyTorch's t.contiguous().numpy().tobytes() gives).
func (t *Tensor) Bytes() ([]byte, error) {
	es := int64(t.DType.Size())
	n := int64(t.Numel())
	if n == 0 {
		return []byte{}, nil
	}
	if t.contiguous() {
		buf := make([]byte, n*es)
		return buf, t.Storage.readAt(buf, t.Offset)
	}
	// Read the span the view covers, then gather.
	span := int64(1)
	for i, d := range t.Shape {
		span += int64(d-1) * int64(t.Stride[i])
	}
	raw := make([]byte, span*es)
	if err := t.Storage.readAt(raw, t.Offset); err != nil {
		return nil, err
	}
	out := make([]byte, 0, n*es)
	idx := make([]int, len(t.Shape))
	for {
		off := int64(0)
		for i, k := range idx {
			off += int64(k) * int64(t.Stride[i])
		}
		out = append(out, raw[off*es:(off+1)*es]...)
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < t.Shape[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out, nil
		}
	}
}

// Rows returns the tensor made of the first n rows of t (a view: no data
// is read).
func (t *Tensor) Rows(n int) *Tensor {
	v := *t
	v.Shape = append([]int{n}, t.Shape[1:]...)
	return &v
}

// RowsFloat32 returns the first n rows of a float32 tensor, row-major. A
// contiguous tensor is decoded straight from the file into the result.
func (t *Tensor) RowsFloat32(n int) ([]float32, error) {
	v := t.Rows(n)
	if !v.contiguous() {
		return v.Float32s()
	}
	out := make([]float32, v.Numel())
	if err := v.readFloat32(out, v.Offset); err != nil {
		return nil, err
	}
	return out, nil
}

// Float32s returns the elements in row-major order converted to float32
// (exact for float32, float16, bfloat16 and small integers; bool is 0 or 1).
func (t *Tensor) Float32s() ([]float32, error) {
	out := make([]float32, t.Numel())
	if t.DType == Float32 && t.contiguous() {
		return out, t.readFloat32(out, t.Offset)
	}
	b, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i] = float32(decodeElem(t.DType, b, i))
	}
	return out, nil
}

// Float64s returns the elements in row-major order converted to float64.
func (t *Tensor) Float64s() ([]float64, error) {
	b, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float64, t.Numel())
	for i := range out {
		out[i] = decodeElem(t.DType, b, i)
	}
	return out, nil
}

// Bools returns the elements in row-major order as booleans (non-zero is
// true).
func (t *Tensor) Bools() ([]bool, error) {
	b, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]bool, t.Numel())
	for i := range out {
		out[i] = decodeElem(t.DType, b, i) != 0
	}
	return out, nil
}

// Int64s returns the elements in row-major order as int64 (floats are
// truncated).
func (t *Tensor) Int64s() ([]int64, error) {
	b, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]int64, t.Numel())
	for i := range out {
		if t.DType == Int64 {
			out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
			continue
		}
		out[i] = int64(decodeElem(t.DType, b, i))
	}
	return out, nil
}

// Scalar returns the single element of a 0-d or one-element tensor.
func (t *Tensor) Scalar() (float64, error) {
	if t.Numel() != 1 {
		return 0, fmt.Errorf("tensor of shape %v is not a scalar", t.Shape)
	}
	v, err := t.Float64s()
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// littleEndian is true on hosts whose float32 memory layout is torch's
// on-disk layout, so storages can be read straight into []float32.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// readFloat32 fills dst from consecutive float32 storage elements starting
// at element off. On little-endian hosts the file's bytes are read straight
// into dst's memory; elsewhere they are decoded through a small chunk
// buffer. Either way no second copy of the data is ever held.
func (t *Tensor) readFloat32(dst []float32, off int64) error {
	if len(dst) == 0 {
		return nil
	}
	if littleEndian {
		return t.Storage.readAt(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst)), off)
	}
	const chunk = 64 << 10
	buf := make([]byte, min(chunk, 4*len(dst)))
	for done := 0; done < len(dst); {
		n := min(len(buf)/4, len(dst)-done)
		b := buf[:4*n]
		if err := t.Storage.readAt(b, off+int64(done)); err != nil {
			return err
		}
		for i := range n {
			dst[done+i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		done += n
	}
	return nil
}

func decodeElem(d DType, b []byte, i int) float64 {
	switch d {
	case Float32:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	case Float64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	case Float16:
		return float64(datafile.Float16(binary.LittleEndian.Uint16(b[2*i:])))
	case BFloat16:
		return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16))
	case Int64:
		return float64(int64(binary.LittleEndian.Uint64(b[8*i:])))
	case Int32:
		return float64(int32(binary.LittleEndian.Uint32(b[4*i:])))
	case Int16:
		return float64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	case Int8:
		return float64(int8(b[i]))
	case Uint8:
		return float64(b[i])
	case Bool:
		if b[i] != 0 {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// Rebuild interprets the callables torch pickles use to build tensors, as
// pickle.Options.Rebuild; torch.save pickles whatever object it is given,
// numpy arrays and scalars included, so numpy's callables are rebuilt too
// (package npy). handled is false for anything else.
func Rebuild(g pickle.Global, args pickle.Tuple) (v pickle.Value, handled bool, err error) {
	switch g {
	case pickle.Global{Module: "torch._utils", Name: "_rebuild_tensor_v2"}, pickle.Global{Module: "torch._utils", Name: "_rebuild_tensor"}:
		// (storage, storage_offset, size, stride[, requires_grad,
		// backward_hooks[, metadata]])
		if len(args) < 4 {
			return nil, true, fmt.Errorf("%d arguments, want at least 4", len(args))
		}
		t, err := tensorFromArgs(args[0], args[1], args[2], args[3], nil)
		if err != nil {
			return nil, true, err
		}
		if len(args) > 4 {
			t.RequiresGrad, _ = args[4].(bool)
		}
		return t, true, nil
	case pickle.Global{Module: "torch._utils", Name: "_rebuild_tensor_v3"}:
		// (storage, storage_offset, size, stride, requires_grad,
		// backward_hooks, dtype[, metadata]) over an untyped storage.
		if len(args) < 7 {
			return nil, true, fmt.Errorf("%d arguments, want at least 7", len(args))
		}
		t, err := tensorFromArgs(args[0], args[1], args[2], args[3], args[6])
		if err != nil {
			return nil, true, err
		}
		t.RequiresGrad, _ = args[4].(bool)
		return t, true, nil
	case pickle.Global{Module: "torch._utils", Name: "_rebuild_parameter"}, pickle.Global{Module: "torch._utils", Name: "_rebuild_parameter_with_state"}:
		// (data, requires_grad, backward_hooks[, state])
		if len(args) < 1 {
			return nil, true, errors.New("no arguments")
		}
		t, ok := args[0].(*Tensor)
		if !ok {
			return nil, true, fmt.Errorf("data is a %s, not a tensor", pickle.TypeName(args[0]))
		}
		if len(args) > 1 {
			t.RequiresGrad, _ = args[1].(bool)
		}
		return t, true, nil
	case pickle.Global{Module: "torch", Name: "Size"}:
		if len(args) == 1 {
			if tup, ok := args[0].(pickle.Tuple); ok {
				return tup, true, nil
			}
		}
		return nil, true, errors.New("torch.Size wants one tuple")
	}
	return npy.Rebuild(g, args)
}

func tensorFromArgs(storageV, offsetV, sizeV, strideV, dtypeV pickle.Value) (*Tensor, error) {
	st, ok := storageV.(*Storage)
	if !ok {
		return nil, fmt.Errorf("storage is a %s, not a persistent storage", pickle.TypeName(storageV))
	}
	offset, ok := offsetV.(int64)
	if !ok {
		return nil, fmt.Errorf("storage offset is a %s", pickle.TypeName(offsetV))
	}
	shape, err := pickle.Ints(sizeV)
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	stride, err := pickle.Ints(strideV)
	if err != nil {
		return nil, fmt.Errorf("stride: %w", err)
	}
	if dtypeV != nil {
		g, ok := dtypeV.(pickle.Global)
		dt, known := torchDTypes[g.Name]
		if !ok || g.Module != "torch" || !known {
			return nil, fmt.Errorf("unsupported dtype %v", dtypeV)
		}
		if st.DType != Uint8 && st.DType != dt {
			return nil, fmt.Errorf("dtype %s over a %s storage", dt, st.DType)
		}
		if st.DType == Uint8 && dt != Uint8 {
			// An untyped storage counts bytes; view it as elements.
			view := *st
			view.DType = dt
			view.Numel = st.Numel / int64(dt.Size())
			st = &view
		}
	}
	return newTensor(st, offset, shape, stride)
}
