package loaders

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

// This file holds a small torch.save writer for tests and benchmarks: it
// emits the pickle opcodes torch 1.13 writes (protocol 2) and the zip and
// legacy containers, so tests need no Python.

// pv are values the test pickler encodes.
type (
	ptuple []any // a tuple
	plist  []any // a list
	pdict  []any // key, value, key, value... (a dict)
	podict []any // an OrderedDict, same layout
	pglob  struct{ m, n string }
	// pcall is REDUCE of fn over args, then BUILD of state if not nil.
	pcall struct {
		fn    pglob
		args  ptuple
		state any
	}
	// pnewobj is NEWOBJ of cls with args, then BUILD of state.
	pnewobj struct {
		cls   pglob
		args  ptuple
		state any
	}
	// ptensor is a tensor view over storage key.
	ptensor struct {
		key     string
		storage string // FloatStorage, BoolStorage, ...
		numel   int    // storage elements
		offset  int
		shape   []int
		stride  []int // nil: contiguous
		legacy  bool
	}
	// praw is a raw opcode sequence spliced into the pickle.
	praw []byte
)

type pickler struct{ bytes.Buffer }

func (p *pickler) op(b ...byte) { p.Write(b) }

func (p *pickler) str(s string) {
	if len(s) < 256 {
		p.op(opShortBinUni, byte(len(s)))
	} else {
		p.op(opBinUnicode)
		binary.Write(p, binary.LittleEndian, uint32(len(s)))
	}
	p.WriteString(s)
}

func (p *pickler) int(n int64) {
	switch {
	case n >= 0 && n < 256:
		p.op(opBinInt1, byte(n))
	case n >= 0 && n < 65536:
		p.op(opBinInt2, byte(n), byte(n>>8))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		p.op(opBinInt)
		binary.Write(p, binary.LittleEndian, int32(n))
	default:
		p.op(opLong1, 8)
		binary.Write(p, binary.LittleEndian, n)
	}
}

func (p *pickler) global(g pglob) {
	p.op(opGlobal)
	p.WriteString(g.m + "\n" + g.n + "\n")
}

func (p *pickler) tuple(items []any) {
	switch len(items) {
	case 0:
		p.op(opEmptyTuple)
		return
	case 1, 2, 3:
		for _, it := range items {
			p.enc(it)
		}
		p.op(opTuple1 + byte(len(items)-1))
		return
	}
	p.op(opMark)
	for _, it := range items {
		p.enc(it)
	}
	p.op(opTuple)
}

func ints(v []int) ptuple {
	t := make(ptuple, len(v))
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

func (p *pickler) enc(v any) {
	switch x := v.(type) {
	case nil:
		p.op(opNone)
	case bool:
		if x {
			p.op(opNewTrue)
		} else {
			p.op(opNewFalse)
		}
	case int:
		p.int(int64(x))
	case int64:
		p.int(x)
	case float64:
		p.op(opBinFloat)
		binary.Write(p, binary.BigEndian, math.Float64bits(x))
	case string:
		p.str(x)
	case ptuple:
		p.tuple(x)
	case plist:
		p.op(opEmptyList)
		if len(x) > 0 {
			p.op(opMark)
			for _, it := range x {
				p.enc(it)
			}
			p.op(opAppends)
		}
	case pdict, podict:
		var kv []any
		if d, ok := x.(pdict); ok {
			p.op(opEmptyDict)
			kv = d
		} else {
			p.global(pglob{"collections", "OrderedDict"})
			p.op(opEmptyTuple, opReduce)
			kv = x.(podict)
		}
		if len(kv) > 0 {
			p.op(opMark)
			for _, it := range kv {
				p.enc(it)
			}
			p.op(opSetItems)
		}
	case pglob:
		p.global(x)
	case pcall:
		p.global(x.fn)
		p.tuple(x.args)
		p.op(opReduce)
		if x.state != nil {
			p.enc(x.state)
			p.op(opBuild)
		}
	case pnewobj:
		p.global(x.cls)
		p.tuple(x.args)
		p.op(opNewObj)
		if x.state != nil {
			p.enc(x.state)
			p.op(opBuild)
		}
	case ptensor:
		stride := x.stride
		if stride == nil {
			stride = contiguousStride(x.shape)
		}
		pid := ptuple{"storage", pglob{"torch", x.storage}, x.key, "cpu", x.numel}
		if x.legacy {
			pid = append(pid, nil)
		}
		p.global(pglob{"torch._utils", "_rebuild_tensor_v2"})
		p.op(opMark)
		p.tuple(pid)
		p.op(opBinPersID)
		p.int(int64(x.offset))
		p.tuple(ints(x.shape))
		p.tuple(ints(stride))
		p.op(opNewFalse)
		p.enc(podict{})
		p.op(opTuple, opReduce)
	case praw:
		p.Write(x)
	default:
		panic(fmt.Sprintf("test pickler: %T", v))
	}
}

// picklePayload returns PROTO 2 + v + STOP.
func picklePayload(v any) []byte {
	var p pickler
	p.op(opProto, 2)
	p.enc(v)
	p.op(opStop)
	return p.Bytes()
}

// torchZip builds a torch zip file: <prefix>/data.pkl, <prefix>/data/<key>
// (stored, as torch writes them) and <prefix>/version.
func torchZip(t testing.TB, prefix string, root any, storages map[string][]byte) []byte {
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
	add(prefix+"/data.pkl", picklePayload(root))
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

// torchLegacy builds a legacy (non-zip) torch.save file; keys lists the
// storages in the order they are written, elem their element sizes.
func torchLegacy(root any, keys []string, storages map[string][]byte, elem map[string]int) []byte {
	var out bytes.Buffer
	magic := praw(append([]byte{opLong1, 10}, []byte{0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}...))
	out.Write(picklePayload(magic))
	out.Write(picklePayload(1001))
	out.Write(picklePayload(pdict{"protocol_version", 1001, "little_endian", true, "type_sizes", pdict{"short", 2, "int", 4, "long", 4}}))
	out.Write(picklePayload(root))
	kl := make(plist, len(keys))
	for i, k := range keys {
		kl[i] = k
	}
	out.Write(picklePayload(kl))
	for _, k := range keys {
		binary.Write(&out, binary.LittleEndian, int64(len(storages[k])/elem[k]))
		out.Write(storages[k])
	}
	return out.Bytes()
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mlpStateDict returns an OrderedDict of Linear layers prefix0, prefix2, ...
// with widths w (values i*0.001 so they are distinguishable), and the
// storages holding them. keyBase offsets storage keys.
func mlpStateDict(prefix string, w []int, keyBase int) (podict, map[string][]byte) {
	sd := podict{}
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
		st[key] = f32bytes(wv)
		sd = append(sd, fmt.Sprintf("%s%d.weight", prefix, 2*i), ptensor{key: key, storage: "FloatStorage", numel: in * out, shape: []int{out, in}})
		k++
		key = fmt.Sprint(k)
		st[key] = f32bytes(bv)
		sd = append(sd, fmt.Sprintf("%s%d.bias", prefix, 2*i), ptensor{key: key, storage: "FloatStorage", numel: out, shape: []int{out}})
		k++
	}
	return sd, st
}

// bufferFile builds a replay buffer file with the given dimensions; row r
// of observations holds r*10+j, actions -r, rewards r/2, dones r%7==0.
func bufferFile(t testing.TB, capacity, size, index, obsDim, actDim int) []byte {
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
	root := pdict{
		"capacity", capacity, "obs_dim", obsDim, "action_dim", actDim, "size", size, "index", index,
		"observations", ptensor{key: "0", storage: "FloatStorage", numel: len(obs), shape: []int{capacity, obsDim}},
		"actions", ptensor{key: "1", storage: "FloatStorage", numel: len(act), shape: []int{capacity, actDim}},
		"rewards", ptensor{key: "2", storage: "FloatStorage", numel: capacity, shape: []int{capacity, 1}},
		"next_observations", ptensor{key: "3", storage: "FloatStorage", numel: len(next), shape: []int{capacity, obsDim}},
		"dones", ptensor{key: "4", storage: "BoolStorage", numel: capacity, shape: []int{capacity, 1}},
	}
	return torchZip(t, "replay_buffer", root, map[string][]byte{
		"0": f32bytes(obs), "1": f32bytes(act), "2": f32bytes(rew), "3": f32bytes(next), "4": done,
	})
}
