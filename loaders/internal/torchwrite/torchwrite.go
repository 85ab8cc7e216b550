// Package torchwrite writes small torch.save files for the loaders' tests
// and benchmarks, so they need no Python: the pickle opcodes torch 1.13
// writes (protocol 2), the zip and legacy containers, state dicts of
// Linear layers and replay buffers.
package torchwrite

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"
)

// The pickle opcodes the writer emits (Python's Lib/pickletools.py).
const (
	opMark        = '('
	opStop        = '.'
	opBinInt      = 'J'
	opBinInt1     = 'K'
	opBinInt2     = 'M'
	opNone        = 'N'
	opBinPersID   = 'Q'
	opReduce      = 'R'
	opBinUnicode  = 'X'
	opBuild       = 'b'
	opGlobal      = 'c'
	opEmptyDict   = '}'
	opAppends     = 'e'
	opEmptyList   = ']'
	opTuple       = 't'
	opEmptyTuple  = ')'
	opSetItems    = 'u'
	opBinFloat    = 'G'
	opProto       = 0x80
	opNewObj      = 0x81
	opTuple1      = 0x85
	opNewTrue     = 0x88
	opNewFalse    = 0x89
	opLong1       = 0x8a
	opShortBinUni = 0x8c
)

// The values Pickler encodes, besides nil, bool, int, int64, float64 and
// string.
type (
	// Tuple is a tuple.
	Tuple []any
	// List is a list.
	List []any
	// Dict is a dict: key, value, key, value...
	Dict []any
	// ODict is a collections.OrderedDict, laid out as Dict.
	ODict []any
	// Global is a reference to {module, name} (GLOBAL).
	Global [2]string
	// Call is REDUCE of Fn over Args, then BUILD of State if not nil.
	Call struct {
		Fn    Global
		Args  Tuple
		State any
	}
	// NewObj is NEWOBJ of Class with Args, then BUILD of State.
	NewObj struct {
		Class Global
		Args  Tuple
		State any
	}
	// Tensor is a tensor view over the storage Key, rebuilt by
	// torch._utils._rebuild_tensor_v2 as torch writes it.
	Tensor struct {
		Key     string
		Storage string // FloatStorage, BoolStorage, ...
		Numel   int    // storage elements
		Offset  int
		Shape   []int
		Stride  []int // nil: contiguous
		Legacy  bool
	}
	// Raw is a raw opcode sequence spliced into the pickle.
	Raw []byte
)

// Pickler accumulates a pickle; Pickle wraps one value as a whole pickle.
type Pickler struct{ bytes.Buffer }

// Op writes opcodes and their raw arguments.
func (p *Pickler) Op(b ...byte) { p.Write(b) }

// Str writes a str (SHORT_BINUNICODE or BINUNICODE).
func (p *Pickler) Str(s string) {
	if len(s) < 256 {
		p.Op(opShortBinUni, byte(len(s)))
	} else {
		p.Op(opBinUnicode)
		binary.Write(p, binary.LittleEndian, uint32(len(s)))
	}
	p.WriteString(s)
}

// Int writes an int in the shortest form torch uses.
func (p *Pickler) Int(n int64) {
	switch {
	case n >= 0 && n < 256:
		p.Op(opBinInt1, byte(n))
	case n >= 0 && n < 65536:
		p.Op(opBinInt2, byte(n), byte(n>>8))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		p.Op(opBinInt)
		binary.Write(p, binary.LittleEndian, int32(n))
	default:
		p.Op(opLong1, 8)
		binary.Write(p, binary.LittleEndian, n)
	}
}

// Global writes GLOBAL module.name.
func (p *Pickler) Global(g Global) {
	p.Op(opGlobal)
	p.WriteString(g[0] + "\n" + g[1] + "\n")
}

// Tuple writes a tuple of items.
func (p *Pickler) Tuple(items []any) {
	switch len(items) {
	case 0:
		p.Op(opEmptyTuple)
		return
	case 1, 2, 3:
		for _, it := range items {
			p.Enc(it)
		}
		p.Op(opTuple1 + byte(len(items)-1))
		return
	}
	p.Op(opMark)
	for _, it := range items {
		p.Enc(it)
	}
	p.Op(opTuple)
}

func ints(v []int) Tuple {
	t := make(Tuple, len(v))
	for i, x := range v {
		t[i] = x
	}
	return t
}

func contiguousStride(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// Enc writes v, one of the values listed at Tuple; it panics on others
// (a bug in the test).
func (p *Pickler) Enc(v any) {
	switch x := v.(type) {
	case nil:
		p.Op(opNone)
	case bool:
		if x {
			p.Op(opNewTrue)
		} else {
			p.Op(opNewFalse)
		}
	case int:
		p.Int(int64(x))
	case int64:
		p.Int(x)
	case float64:
		p.Op(opBinFloat)
		binary.Write(p, binary.BigEndian, math.Float64bits(x))
	case string:
		p.Str(x)
	case Tuple:
		p.Tuple(x)
	case List:
		p.Op(opEmptyList)
		if len(x) > 0 {
			p.Op(opMark)
			for _, it := range x {
				p.Enc(it)
			}
			p.Op(opAppends)
		}
	case Dict, ODict:
		var kv []any
		if d, ok := x.(Dict); ok {
			p.Op(opEmptyDict)
			kv = d
		} else {
			p.Global(Global{"collections", "OrderedDict"})
			p.Op(opEmptyTuple, opReduce)
			kv = x.(ODict)
		}
		if len(kv) > 0 {
			p.Op(opMark)
			for _, it := range kv {
				p.Enc(it)
			}
			p.Op(opSetItems)
		}
	case Global:
		p.Global(x)
	case Call:
		p.Global(x.Fn)
		p.Tuple(x.Args)
		p.Op(opReduce)
		if x.State != nil {
			p.Enc(x.State)
			p.Op(opBuild)
		}
	case NewObj:
		p.Global(x.Class)
		p.Tuple(x.Args)
		p.Op(opNewObj)
		if x.State != nil {
			p.Enc(x.State)
			p.Op(opBuild)
		}
	case Tensor:
		stride := x.Stride
		if stride == nil {
			stride = contiguousStride(x.Shape)
		}
		pid := Tuple{"storage", Global{"torch", x.Storage}, x.Key, "cpu", x.Numel}
		if x.Legacy {
			pid = append(pid, nil)
		}
		p.Global(Global{"torch._utils", "_rebuild_tensor_v2"})
		p.Op(opMark)
		p.Tuple(pid)
		p.Op(opBinPersID)
		p.Int(int64(x.Offset))
		p.Tuple(ints(x.Shape))
		p.Tuple(ints(stride))
		p.Op(opNewFalse)
		p.Enc(ODict{})
		p.Op(opTuple, opReduce)
	case Raw:
		p.Write(x)
	default:
		panic(fmt.Sprintf("test Pickler: %T", v))
	}
}

// Pickle returns PROTO 2 + v + STOP.
func Pickle(v any) []byte {
	var p Pickler
	p.Op(opProto, 2)
	p.Enc(v)
	p.Op(opStop)
	return p.Bytes()
}

// Zip builds a torch zip file: <prefix>/data.pkl, <prefix>/data/<key>
// (stored, as torch writes them) and <prefix>/version.
func Zip(t testing.TB, prefix string, root any, storages map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add(prefix+"/data.pkl", Pickle(root))
	add(prefix+"/byteorder", []byte("little"))
	keys := make([]string, 0, len(storages))
	for k := range storages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(prefix+"/data/"+k, storages[k])
	}
	add(prefix+"/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Legacy builds a legacy (non-zip) torch.save file; keys lists the
// storages in the order they are written, elem their element sizes.
func Legacy(root any, keys []string, storages map[string][]byte, elem map[string]int) []byte {
	var out bytes.Buffer
	magic := Raw(append([]byte{opLong1, 10}, []byte{0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}...))
	out.Write(Pickle(magic))
	out.Write(Pickle(1001))
	out.Write(Pickle(Dict{"protocol_version", 1001, "little_endian", true, "type_sizes", Dict{"short", 2, "int", 4, "long", 4}}))
	out.Write(Pickle(root))
	kl := make(List, len(keys))
	for i, k := range keys {
		kl[i] = k
	}
	out.Write(Pickle(kl))
	for _, k := range keys {
		binary.Write(&out, binary.LittleEndian, int64(len(storages[k])/elem[k]))
		out.Write(storages[k])
	}
	return out.Bytes()
}

// F32Bytes is v little-endian, as a float32 storage holds it.
func F32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// WriteFile writes data to path and returns path.
func WriteFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// MLPStateDict returns an OrderedDict of Linear layers prefix0, prefix2, ...
// with widths w (values i*0.001 so they are distinguishable), and the
// storages holding them. keyBase offsets storage keys.
func MLPStateDict(prefix string, w []int, keyBase int) (ODict, map[string][]byte) {
	sd := ODict{}
	st := map[string][]byte{}
	k := keyBase
	for i := 0; i+1 < len(w); i++ {
		in, out := w[i], w[i+1]
		wv := make([]float32, in*out)
		for j := range wv {
			wv[j] = float32(j%97)*0.001 - float32(i)
		}
		bv := make([]float32, out)
		for j := range bv {
			bv[j] = float32(j) * 0.5
		}
		key := fmt.Sprint(k)
		st[key] = F32Bytes(wv)
		sd = append(sd, fmt.Sprintf("%s%d.weight", prefix, 2*i), Tensor{Key: key, Storage: "FloatStorage", Numel: in * out, Shape: []int{out, in}})
		k++
		key = fmt.Sprint(k)
		st[key] = F32Bytes(bv)
		sd = append(sd, fmt.Sprintf("%s%d.bias", prefix, 2*i), Tensor{Key: key, Storage: "FloatStorage", Numel: out, Shape: []int{out}})
		k++
	}
	return sd, st
}

// BufferFile builds a replay buffer file with the given dimensions; row r
// of observations holds r*10+j, actions -r, rewards r/2, dones r%7==0.
func BufferFile(t testing.TB, capacity, size, index, obsDim, actDim int) []byte {
	t.Helper()
	obs := make([]float32, capacity*obsDim)
	next := make([]float32, capacity*obsDim)
	for i := range obs {
		obs[i] = float32(i/obsDim*10 + i%obsDim)
		next[i] = obs[i] + 0.5
	}
	act := make([]float32, capacity*actDim)
	for i := range act {
		act[i] = -float32(i / actDim)
	}
	rew := make([]float32, capacity)
	done := make([]byte, capacity)
	for i := range rew {
		rew[i] = float32(i) / 2
		if i%7 == 0 {
			done[i] = 1
		}
	}
	root := Dict{
		"capacity", capacity, "obs_dim", obsDim, "action_dim", actDim, "size", size, "index", index,
		"observations", Tensor{Key: "0", Storage: "FloatStorage", Numel: len(obs), Shape: []int{capacity, obsDim}},
		"actions", Tensor{Key: "1", Storage: "FloatStorage", Numel: len(act), Shape: []int{capacity, actDim}},
		"rewards", Tensor{Key: "2", Storage: "FloatStorage", Numel: capacity, Shape: []int{capacity, 1}},
		"next_observations", Tensor{Key: "3", Storage: "FloatStorage", Numel: len(next), Shape: []int{capacity, obsDim}},
		"dones", Tensor{Key: "4", Storage: "BoolStorage", Numel: capacity, Shape: []int{capacity, 1}},
	}
	return Zip(t, "replay_buffer", root, map[string][]byte{
		"0": F32Bytes(obs), "1": F32Bytes(act), "2": F32Bytes(rew), "3": F32Bytes(next), "4": done,
	})
}

// Views is a dict of tensors covering dtypes, views and a 0-d scalar over
// storages "0".."3", with the storages and their element sizes (for
// Legacy); torchzip's tests know the values they hold.
func Views(legacy bool) (Dict, map[string][]byte, map[string]int) {
	x := make([]float32, 24)
	for i := range x {
		x[i] = float32(i)
	}
	half := []byte{0x00, 0x3c, 0x00, 0xc0} // 1, -2
	i64 := make([]byte, 16)
	i64[0], i64[8] = 7, 0xff
	for j := 9; j < 16; j++ {
		i64[j] = 0xff // -1
	}
	root := Dict{
		"view", Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Offset: 8, Shape: []int{3, 3}, Stride: []int{6, 1}, Legacy: legacy},
		"transposed", Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Shape: []int{6, 4}, Stride: []int{1, 6}, Legacy: legacy},
		"scalar", Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Offset: 5, Shape: []int{}, Stride: []int{}, Legacy: legacy},
		"half", Tensor{Key: "1", Storage: "HalfStorage", Numel: 2, Shape: []int{2}, Legacy: legacy},
		"long", Tensor{Key: "2", Storage: "LongStorage", Numel: 2, Shape: []int{2}, Legacy: legacy},
		"flags", Tensor{Key: "3", Storage: "BoolStorage", Numel: 3, Shape: []int{3}, Legacy: legacy},
	}
	st := map[string][]byte{"0": F32Bytes(x), "1": half, "2": i64, "3": {1, 0, 1}}
	return root, st, map[string]int{"0": 4, "1": 2, "2": 8, "3": 1}
}
