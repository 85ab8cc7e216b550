package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/torchwrite"
)

func decodeBytes(b []byte) (Value, error) {
	v, _, err := Decode(bytes.NewReader(b), int64(len(b)), Options{})
	return v, err
}

func TestPickleDecodesTorchOpcodes(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want func(Value) bool
	}{
		{"none", nil, func(v Value) bool { return v == nil }},
		{"true", true, func(v Value) bool { return v == true }},
		{"binint1", 200, func(v Value) bool { return v == int64(200) }},
		{"binint2", 60000, func(v Value) bool { return v == int64(60000) }},
		{"binint negative", -5, func(v Value) bool { return v == int64(-5) }},
		{"long1", int64(1) << 40, func(v Value) bool { return v == int64(1)<<40 }},
		{"binfloat", 2.5, func(v Value) bool { return v == 2.5 }},
		{"unicode", "héllo", func(v Value) bool { return v == "héllo" }},
		{"long unicode", strings.Repeat("x", 300), func(v Value) bool { return v == strings.Repeat("x", 300) }},
		{"tuple3", torchwrite.Tuple{1, 2, 3}, func(v Value) bool { t, ok := v.(Tuple); return ok && len(t) == 3 && t[2] == int64(3) }},
		{"tuple5", torchwrite.Tuple{1, 2, 3, 4, 5}, func(v Value) bool { t, ok := v.(Tuple); return ok && len(t) == 5 }},
		{"list", torchwrite.List{"a", "b"}, func(v Value) bool { l, ok := v.(*List); return ok && len(l.Items) == 2 && l.Items[1] == "b" }},
		{"ordered dict", torchwrite.ODict{"z", 1, "a", 2}, func(v Value) bool {
			d, ok := v.(*Dict)
			return ok && d.Ordered && d.Keys[0] == "z" && d.Keys[1] == "a"
		}},
		{"unknown class via NEWOBJ+BUILD is inert data", torchwrite.NewObj{Class: torchwrite.Global{"gym.spaces", "Box"}, Args: torchwrite.Tuple{}, State: torchwrite.Dict{"dim", 3}}, func(v Value) bool {
			o, ok := v.(*Object)
			d, _ := o.Attr("dim")
			return ok && o.Class.Name == "Box" && d == int64(3)
		}},
		{"unknown callable via REDUCE is inert data", torchwrite.Call{Fn: torchwrite.Global{"torch", "device"}, Args: torchwrite.Tuple{"cuda", 0}}, func(v Value) bool {
			o, ok := v.(*Object)
			return ok && o.Class == Global{"torch", "device"} && len(o.Args) == 2
		}},
		{"protocol 2 bytes via _codecs.encode", torchwrite.Call{Fn: torchwrite.Global{"_codecs", "encode"}, Args: torchwrite.Tuple{"\u00ff\u0001", "latin1"}}, func(v Value) bool {
			b, ok := v.([]byte)
			return ok && bytes.Equal(b, []byte{0xff, 1})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decodeBytes(torchwrite.Pickle(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(v) {
				t.Errorf("decoded %#v", v)
			}
		})
	}
}

func TestPickleDecodesProtocol4Opcodes(t *testing.T) {
	// FRAME, SHORT_BINUNICODE + MEMOIZE, STACK_GLOBAL, EMPTY_DICT, SETITEM,
	// SHORT_BINBYTES, BINGET, STOP — as Python 3.8+ writes for protocol 4.
	var p torchwrite.Pickler
	p.Op(opProto, 4, opFrame)
	binary.Write(&p, binary.LittleEndian, uint64(0))
	p.Op(opShortBinUni, 11)
	p.WriteString("collections")
	p.Op(opMemoize, opShortBinUni, 11)
	p.WriteString("OrderedDict")
	p.Op(opMemoize, opStackGlobal, opMemoize, opEmptyTuple, opReduce, opMemoize)
	p.Op(opShortBinUni, 1, 'k', opShortBinBytes, 2, 7, 8, opSetItem)
	p.Op(opShortBinUni, 1, 'g', opBinGet, 0, opSetItem, opStop)
	v, err := decodeBytes(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	if b, _ := d.Get("k"); !bytes.Equal(b.([]byte), []byte{7, 8}) {
		t.Errorf("k = %v", b)
	}
	if g, _ := d.Get("g"); g != "collections" {
		t.Errorf("g = %v", g)
	}
}

func TestPickleDecodesLegacyMagicAsBigInt(t *testing.T) {
	b := torchwrite.Pickle(torchwrite.Raw([]byte{opLong1, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}))
	v, err := decodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if x, ok := v.(*big.Int); !ok || x.Text(16) != "1950a86a20f9469cfc6c" {
		t.Errorf("got %v", v)
	}
}

func TestPickleRefusesDangerousCalls(t *testing.T) {
	for _, g := range []torchwrite.Global{
		{"os", "system"}, {"posix", "system"}, {"nt", "system"}, {"builtins", "eval"},
		{"builtins", "exec"}, {"builtins", "__import__"}, {"__builtin__", "eval"},
		{"subprocess", "Popen"}, {"subprocess", "check_output"}, {"builtins", "getattr"},
		{"os.path", "join"}, {"runpy", "run_path"}, {"webbrowser", "open"},
	} {
		t.Run(g[0]+"."+g[1], func(t *testing.T) {
			for _, form := range []any{
				torchwrite.Call{Fn: g, Args: torchwrite.Tuple{"touch /tmp/pwned"}},
				torchwrite.NewObj{Class: g, Args: torchwrite.Tuple{"touch /tmp/pwned"}},
				torchwrite.Dict{"state_dict", torchwrite.Call{Fn: g, Args: torchwrite.Tuple{"id"}}},
			} {
				_, err := decodeBytes(torchwrite.Pickle(form))
				if !errors.Is(err, ErrUnsafe) {
					t.Fatalf("err = %v, want ErrUnsafe", err)
				}
				var ue *UnsafeGlobalError
				if !errors.As(err, &ue) || ue.Global.Module != g[0] || ue.Global.Name != g[1] {
					t.Errorf("err %v does not name %s.%s", err, g[0], g[1])
				}
				if !strings.Contains(err.Error(), g[0]+"."+g[1]) {
					t.Errorf("message %q does not name the global", err)
				}
			}
		})
	}
}

func TestPickleKeepsUncalledGlobalsInert(t *testing.T) {
	// A GLOBAL that is only referenced (never REDUCEd) is harmless data.
	v, err := decodeBytes(torchwrite.Pickle(torchwrite.Dict{"f", torchwrite.Global{"os", "system"}}))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := v.(*Dict).Get("f")
	if g != (Global{"os", "system"}) {
		t.Errorf("got %v", g)
	}
}

func TestPickleRejectsMalformedInput(t *testing.T) {
	u32 := func(n uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, n); return b }
	u64 := func(n uint64) []byte { b := make([]byte, 8); binary.LittleEndian.PutUint64(b, n); return b }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "remain"},
		{"no stop", []byte{opProto, 2, opNone}, "remain"},
		{"opcode 0xff", []byte{opProto, 2, 0xff}, "opcode 0xff"},
		{"binunicode claims 4GB", cat([]byte{opProto, 2, opBinUnicode}, u32(0xffffffff), []byte("abc")), "claims"},
		{"binbytes8 claims 2^63", cat([]byte{opProto, 4, opBinBytes8}, u64(1<<63)), "claim"},
		{"frame claims too much", cat([]byte{opProto, 4, opFrame}, u64(1<<40)), "FRAME"},
		{"odd setitems", []byte{opProto, 2, opEmptyDict, opMark, opNone, opSetItems, opStop}, "odd"},
		{"pop empty", []byte{opProto, 2, opPop}, "underflow"},
		{"reduce without args", []byte{opProto, 2, opReduce}, "underflow"},
		{"memo miss", []byte{opProto, 2, opBinGet, 9, opStop}, "memo"},
		{"tuple3 short", []byte{opProto, 2, opNone, opTuple3}, "underflow"},
		{"append to int", []byte{opProto, 2, opBinInt1, 1, opNone, opAppend}, "APPEND"},
		{"stop with two items", []byte{opProto, 2, opNone, opNone, opStop}, "STOP"},
		{"stop inside mark", []byte{opProto, 2, opMark, opNone, opStop}, "STOP"},
		{"invalid utf8", []byte{opProto, 2, opShortBinUni, 1, 0xff, opStop}, "UTF-8"},
		{"long1 too wide", cat([]byte{opProto, 2, opLong4}, u32(1<<20)), "integer"},
		{"global without newline", []byte{opProto, 2, opGlobal, 'o', 's'}, "remain"},
		{"persistent id outside torch file", []byte{opProto, 2, opNone, opBinPersID, opStop}, "persistent"},
		{"reduce of a non-global", []byte{opProto, 2, opNone, opEmptyTuple, opReduce, opStop}, "not a global"},
		{"protocol 9", []byte{opProto, 9}, "protocol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeBytes(tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, datafile.ErrInvalid) {
				t.Errorf("err %v does not match datafile.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestPickleHandlesDeepNestingWithoutStackOverflow(t *testing.T) {
	const depth = 200000
	var p torchwrite.Pickler
	p.Op(opProto, 2)
	for range depth {
		p.Op(opEmptyList)
	}
	for range depth - 1 {
		p.Op(opAppend)
	}
	p.Op(opStop)
	v, err := decodeBytes(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Any recursive walk over the result is depth-limited.
	err = Walk(v, func(Value) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("walk err = %v, want a nesting error", err)
	}
}

func TestPickleWalkSurvivesCyclesAndSharedDAGs(t *testing.T) {
	// l = []; l.append(l)
	cyc := []byte{opProto, 2, opEmptyList, opBinPut, 0, opBinGet, 0, opAppend, opStop}
	// t0 = (); t1 = (t0, t0); t2 = (t1, t1) ... 60 levels: 2^60 paths.
	dag := []byte{opProto, 2, opEmptyTuple}
	for range 60 {
		dag = append(dag, opDup, opTuple2)
	}
	dag = append(dag, opStop)
	for name, b := range map[string][]byte{"cycle": cyc, "dag": dag} {
		t.Run(name, func(t *testing.T) {
			v, err := decodeBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			if err := Walk(v, func(Value) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n > 1000 {
				t.Errorf("walk visited %d nodes", n)
			}
		})
	}
}

func TestPickleBoundsStackAndMemo(t *testing.T) {
	stack := append([]byte{opProto, 2}, bytes.Repeat([]byte{opNone}, maxPickleStack+1)...)
	if _, err := decodeBytes(stack); err == nil || !strings.Contains(err.Error(), "stack deeper") {
		t.Errorf("stack: err = %v", err)
	}
	memo := append([]byte{opProto, 4, opNone}, bytes.Repeat([]byte{opMemoize}, maxPickleMemo+1)...)
	if _, err := decodeBytes(memo); err == nil || !strings.Contains(err.Error(), "memo larger") {
		t.Errorf("memo: err = %v", err)
	}
	marks := append([]byte{opProto, 2}, bytes.Repeat([]byte{opMark}, maxPickleStack+1)...)
	if _, err := decodeBytes(marks); err == nil || !strings.Contains(err.Error(), "MARK") {
		t.Errorf("marks: err = %v", err)
	}
}

func TestPickleBoundsQuadraticCopying(t *testing.T) {
	// s = "x"*60000; then 2000 × _codecs.encode(s): 120 MB of copies from
	// a 70 kB pickle.
	var p torchwrite.Pickler
	p.Op(opProto, 2)
	p.Str(strings.Repeat("x", 60000))
	p.Op(opBinPut, 0, opPop)
	for range 2000 {
		p.Global(torchwrite.Global{"_codecs", "encode"})
		p.Op(opBinGet, 0, opTuple1, opReduce, opPop)
	}
	p.Op(opNone, opStop)
	if _, err := decodeBytes(p.Bytes()); err == nil || !strings.Contains(err.Error(), "copies more data") {
		t.Errorf("err = %v", err)
	}
}
