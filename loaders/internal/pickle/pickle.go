// Package pickle decodes Python pickles (protocols 0–5, as torch.save and
// Stable-Baselines3 write them) into inert Go values without calling
// anything: a global is a name, a call of an unknown callable an *Object,
// a call of a dangerous one (os.system, builtins.eval, ...) an error. The
// readers of torch files and numpy arrays interpret their own callables
// through Options.Rebuild.
package pickle

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/rleval/rleval/loaders/internal/datafile"
)

// Value is one node of a decoded pickle: nil, bool, int64 (*big.Int beyond
// int64), float64, string,
// []byte, Tuple, *List, *Dict, Global, *Object, or what an
// Options.Rebuild or Options.PersistentLoad returned (torch storages and
// tensors, numpy arrays).
type Value = any

// Tuple is a pickled tuple (immutable once built).
type Tuple []Value

// List is a pickled list or set; it is a pointer because pickles append to a
// list after it was memoised.
type List struct {
	// Items are the elements in order.
	Items []Value
}

// Dict is a pickled dict or collections.OrderedDict, keys in insertion order.
type Dict struct {
	// Keys and Values are parallel, in insertion order.
	Keys, Values []Value
	// Attrs is the state a BUILD opcode attached to the dict (an
	// OrderedDict's instance __dict__, e.g. a state dict's _metadata); nil
	// when none.
	Attrs Value
	// Ordered is true for a collections.OrderedDict.
	Ordered bool

	index map[any]int
}

// Global is a reference to a Python name (module and qualified name) as
// pickled by GLOBAL or STACK_GLOBAL. It is never resolved or called.
type Global struct {
	Module, Name string
}

// String returns "module.name".
func (g Global) String() string { return g.Module + "." + g.Name }

// Object is an instance of a class the reader does not interpret (a gym Box,
// a torch.device, a numpy array...): inert data holding what the pickle said
// about it.
type Object struct {
	// Class is the pickled class or the callable of a REDUCE.
	Class Global
	// Args are the arguments passed to NEWOBJ or REDUCE.
	Args Tuple
	// State is what BUILD attached (usually a *Dict of attributes), or nil.
	State Value
	// Items holds SETITEM(S) applied to the object (dict subclasses).
	Items *Dict
	// ListItems holds APPEND(S) applied to the object (list subclasses).
	ListItems []Value
}

// Attr returns the attribute name from the object's BUILD state (a dict, or
// the (dict, slots) pair Python writes for classes with __slots__).
func (o *Object) Attr(name string) (Value, bool) {
	switch s := o.State.(type) {
	case *Dict:
		return s.Get(name)
	case Tuple:
		for _, part := range s {
			if d, ok := part.(*Dict); ok {
				if v, ok := d.Get(name); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.Keys) }

// Get returns the value stored under key.
func (d *Dict) Get(key Value) (Value, bool) {
	if k, ok := hashKey(key); ok && d.index != nil {
		i, ok := d.index[k]
		if !ok {
			return nil, false
		}
		return d.Values[i], true
	}
	for i, k := range d.Keys {
		if k == key {
			return d.Values[i], true
		}
	}
	return nil, false
}

// Set stores value under key, replacing an existing entry in place.
func (d *Dict) Set(key, value Value) {
	k, ok := hashKey(key)
	if ok {
		if d.index == nil {
			d.index = make(map[any]int)
		}
		if i, ok := d.index[k]; ok {
			d.Values[i] = value
			return
		}
		d.index[k] = len(d.Keys)
	}
	d.Keys = append(d.Keys, key)
	d.Values = append(d.Values, value)
}

// hashKey returns a comparable form of a dict key; unhashable keys (tuples,
// lists) are kept without deduplication.
func hashKey(k Value) (any, bool) {
	switch v := k.(type) {
	case nil, bool, int64, float64, string, Global:
		return v, true
	}
	return nil, false
}

// Limits that keep a hostile pickle from exhausting memory. Every item on
// the stack or in the memo costs at least one opcode byte, so these only
// matter for multi-megabyte pickles; real torch pickles stay far below.
const (
	maxPickleStack = 1 << 20
	maxPickleMemo  = 1 << 20
	maxGlobalLine  = 1 << 10
	// maxLongBytes bounds LONG1/LONG4 integers; wider ones than int64
	// become *big.Int (the legacy format's magic number is 10 bytes).
	maxLongBytes = 64
)

// memoEntry is one memo slot; ok tells a stored None from an empty slot.
type memoEntry struct {
	v  Value
	ok bool
}

// mark is a sentinel pushed by MARK.
type mark struct{}

// pickleVM decodes one pickle. It never resolves or calls a global: the
// handful of torch callables it understands are interpreted as data
// constructors (see callGlobal); everything else becomes an *Object, and
// calls of known-dangerous globals are refused with ErrUnsafe.
type pickleVM struct {
	r     *bufio.Reader
	pos   int64 // bytes consumed
	limit int64 // bytes available in the stream
	stack []Value
	marks []int
	memo  []memoEntry // indexed by memo key; keys are small and dense in practice
	nmemo int         // entries set
	// persistentLoad and rebuild are the Options.
	persistentLoad func(pid Value) (Value, error)
	rebuild        func(g Global, args Tuple) (Value, bool, error)
	// work counts elements copied by opcodes whose cost is not bounded by
	// their own size (REDUCE over a memoised list or string, APPENDS), so
	// a small pickle cannot make quadratic work or memory.
	work int64
}

// maxWorkFactor bounds the elements copied while decoding to this many
// times the pickle's size (plus a floor for tiny pickles).
const maxWorkFactor = 16

func (vm *pickleVM) charge(n int) error {
	vm.work += int64(n)
	if vm.work > maxWorkFactor*vm.limit+1<<20 {
		return vm.errorf("pickle copies more data (%d elements) than its %d bytes justify", vm.work, vm.limit)
	}
	return nil
}

// argCost is the number of elements a call may copy out of its arguments.
func argCost(args Tuple) int {
	n := len(args)
	for _, a := range args {
		switch x := a.(type) {
		case string:
			n += len(x)
		case []byte:
			n += len(x)
		case Tuple:
			n += len(x)
		case *List:
			n += len(x.Items)
		case *Dict:
			n += len(x.Keys)
		}
	}
	return n
}

// pickleError is a decoding error at a byte offset of a pickle stream.
type pickleError struct {
	off int64
	msg string
	err error
}

func (e *pickleError) Error() string {
	return fmt.Sprintf("pickle offset %d: %s", e.off, e.msg)
}

func (e *pickleError) Unwrap() []error {
	if e.err != nil {
		return []error{datafile.ErrInvalid, e.err}
	}
	return []error{datafile.ErrInvalid}
}

func (vm *pickleVM) errorf(format string, args ...any) error {
	return &pickleError{off: vm.pos, msg: fmt.Sprintf(format, args...)}
}

// Options are what a reader of a pickled format adds to the decoder.
type Options struct {
	// PersistentLoad resolves a BINPERSID id (torch's storages); nil
	// rejects persistent ids.
	PersistentLoad func(pid Value) (Value, error)
	// Rebuild interprets the callables of a format (torch's tensor
	// constructors, numpy's arrays) as data constructors. handled is
	// false for a callable it does not know, which then becomes an
	// *Object. It is never asked about a refused global.
	Rebuild func(g Global, args Tuple) (v Value, handled bool, err error)
}

// Decode runs one pickle (up to STOP) from r, which holds at most limit
// bytes, and returns the object it builds and the bytes it read. Errors
// give the offset and match datafile.ErrInvalid; a refused call matches
// ErrUnsafe too.
func Decode(r io.Reader, limit int64, opt Options) (Value, int64, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	vm := &pickleVM{r: br, limit: limit, persistentLoad: opt.PersistentLoad, rebuild: opt.Rebuild}
	v, err := vm.run()
	return v, vm.pos, err
}

func (vm *pickleVM) need(n int64) error {
	if n < 0 || n > vm.limit-vm.pos {
		return vm.errorf("claims %d bytes but only %d remain (truncated or corrupt file)", n, vm.limit-vm.pos)
	}
	return nil
}

func (vm *pickleVM) readByte() (byte, error) {
	if err := vm.need(1); err != nil {
		return 0, err
	}
	b, err := vm.r.ReadByte()
	if err != nil {
		return 0, vm.ioErr(err)
	}
	vm.pos++
	return b, nil
}

func (vm *pickleVM) ioErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &pickleError{off: vm.pos, msg: "unexpected end of data (truncated file?): " + err.Error(), err: err}
}

// readN reads exactly n bytes after checking that they exist.
func (vm *pickleVM) readN(n int64) ([]byte, error) {
	if err := vm.need(n); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(vm.r, buf); err != nil {
		return nil, vm.ioErr(err)
	}
	vm.pos += n
	return buf, nil
}

func (vm *pickleVM) readFixed(buf []byte) error {
	if err := vm.need(int64(len(buf))); err != nil {
		return err
	}
	if _, err := io.ReadFull(vm.r, buf); err != nil {
		return vm.ioErr(err)
	}
	vm.pos += int64(len(buf))
	return nil
}

func (vm *pickleVM) readUint(n int) (uint64, error) {
	var b [8]byte
	if err := vm.readFixed(b[:n]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// readLine reads a newline-terminated line of at most maxGlobalLine bytes.
func (vm *pickleVM) readLine() (string, error) {
	var sb strings.Builder
	for {
		b, err := vm.readByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			return sb.String(), nil
		}
		if sb.Len() >= maxGlobalLine {
			return "", vm.errorf("GLOBAL name longer than %d bytes", maxGlobalLine)
		}
		sb.WriteByte(b)
	}
}

func (vm *pickleVM) push(v Value) error {
	if len(vm.stack) >= maxPickleStack {
		return vm.errorf("stack deeper than %d items", maxPickleStack)
	}
	vm.stack = append(vm.stack, v)
	return nil
}

func (vm *pickleVM) pop() (Value, error) {
	n := len(vm.stack)
	if n == 0 || (len(vm.marks) > 0 && vm.marks[len(vm.marks)-1] == n) {
		return nil, vm.errorf("stack underflow")
	}
	v := vm.stack[n-1]
	vm.stack = vm.stack[:n-1]
	return v, nil
}

func (vm *pickleVM) top() (Value, error) {
	n := len(vm.stack)
	if n == 0 || (len(vm.marks) > 0 && vm.marks[len(vm.marks)-1] == n) {
		return nil, vm.errorf("stack underflow")
	}
	return vm.stack[n-1], nil
}

// popMark pops everything above the last MARK and the mark itself.
func (vm *pickleVM) popMark() ([]Value, error) {
	if len(vm.marks) == 0 {
		return nil, vm.errorf("no MARK on the stack")
	}
	m := vm.marks[len(vm.marks)-1]
	vm.marks = vm.marks[:len(vm.marks)-1]
	items := make([]Value, len(vm.stack)-m)
	copy(items, vm.stack[m:])
	clear(vm.stack[m:])
	vm.stack = vm.stack[:m]
	return items, nil
}

func (vm *pickleVM) memoPut(idx uint32) error {
	v, err := vm.top()
	if err != nil {
		return err
	}
	if idx >= maxPickleMemo {
		return vm.errorf("memo key %d: memo larger than %d entries", idx, maxPickleMemo)
	}
	if int(idx) >= len(vm.memo) {
		vm.memo = append(vm.memo, make([]memoEntry, int(idx)+1-len(vm.memo))...)
	}
	if !vm.memo[idx].ok {
		vm.nmemo++
	}
	vm.memo[idx] = memoEntry{v, true}
	return nil
}

func (vm *pickleVM) memoGet(idx uint32) error {
	if int64(idx) >= int64(len(vm.memo)) || !vm.memo[idx].ok {
		return vm.errorf("memo key %d not defined", idx)
	}
	return vm.push(vm.memo[idx].v)
}

func (vm *pickleVM) str(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", vm.errorf("string is not valid UTF-8")
	}
	return string(b), nil
}

// Pickle opcodes (see Python's Lib/pickletools.py).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opBinString      = 'T'
	opShortBinString = 'U'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinFloat       = 'G'
	opProto          = 0x80
	opNewObj         = 0x81
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opNewObjEx       = 0x92
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
	opByteArray8     = 0x96
)

func (vm *pickleVM) appendTo(items []Value) error {
	if err := vm.charge(len(items)); err != nil {
		return err
	}
	target, err := vm.top()
	if err != nil {
		return err
	}
	switch t := target.(type) {
	case *List:
		t.Items = append(t.Items, items...)
	case *Object:
		t.ListItems = append(t.ListItems, items...)
	default:
		return vm.errorf("APPEND to %s", TypeName(target))
	}
	return nil
}

func (vm *pickleVM) setItems(kv []Value) error {
	target, err := vm.top()
	if err != nil {
		return err
	}
	var d *Dict
	switch t := target.(type) {
	case *Dict:
		d = t
	case *Object:
		if t.Items == nil {
			t.Items = &Dict{}
		}
		d = t.Items
	default:
		return vm.errorf("SETITEM on %s", TypeName(target))
	}
	for i := 0; i < len(kv); i += 2 {
		d.Set(kv[i], kv[i+1])
	}
	return nil
}

// call interprets REDUCE (newobj false) or NEWOBJ (newobj true) of fn with
// args. Nothing is ever called: known constructors (Python's own, and the
// format's through Options.Rebuild) are rebuilt as data, dangerous
// callables are refused, anything else becomes an *Object.
func (vm *pickleVM) call(fn, argsV Value, newobj bool) (Value, error) {
	g, ok := fn.(Global)
	if !ok {
		return nil, vm.errorf("call of a %s, not a global", TypeName(fn))
	}
	args, ok := argsV.(Tuple)
	if !ok {
		return nil, vm.errorf("call of %s with %s arguments, not a tuple", g, TypeName(argsV))
	}
	if err := vm.charge(argCost(args)); err != nil {
		return nil, err
	}
	if unsafeGlobal(g) {
		return nil, &pickleError{off: vm.pos, msg: fmt.Sprintf("refusing to call %s", g), err: &UnsafeGlobalError{Global: g}}
	}
	v, handled, err := rebuildBuiltin(g, args)
	if !handled && vm.rebuild != nil {
		v, handled, err = vm.rebuild(g, args)
	}
	if err != nil {
		return nil, &pickleError{off: vm.pos, msg: fmt.Sprintf("%s: %v", g, err), err: err}
	}
	if handled {
		return v, nil
	}
	return &Object{Class: g, Args: args}, nil
}

// UnsafeGlobalError reports a pickle that asks to call a global a
// checkpoint has no business calling. It matches ErrUnsafe.
type UnsafeGlobalError struct {
	// Global is the refused callable.
	Global Global
}

// Error names the refused global.
func (e *UnsafeGlobalError) Error() string {
	return fmt.Sprintf("unsafe pickle: refused to call %s (nothing was executed)", e.Global)
}

// Unwrap makes errors.Is(err, ErrUnsafe) hold.
func (e *UnsafeGlobalError) Unwrap() error { return ErrUnsafe }

// ErrUnsafe means a pickle asked to call something a checkpoint has no
// business calling (os.system, builtins.eval, ...). Nothing was called.
var ErrUnsafe = errors.New("unsafe pickle: refused to call a global")

// unsafeModules are modules none of whose callables belong in a
// checkpoint: process, file, import and code-execution machinery.
var unsafeModules = map[string]bool{
	"os": true, "posix": true, "nt": true, "subprocess": true, "sys": true,
	"shutil": true, "socket": true, "pty": true, "importlib": true,
	"runpy": true, "pickle": true, "_pickle": true, "marshal": true,
	"code": true, "codeop": true, "ctypes": true, "webbrowser": true,
	"commands": true, "multiprocessing": true, "asyncio": true,
	"signal": true, "pdb": true, "timeit": true, "types": true,
	"operator": true, "functools": true, "io": true, "_io": true,
	"tempfile": true, "glob": true, "urllib": true,
	"http": true, "ftplib": true, "requests": true, "shelve": true,
	"dill": true, "cloudpickle": true, "torch.hub": true, "platform": true,
}

// safeBuiltins are the builtins a pickle may legitimately reduce (type
// constructors with no side effects); every other builtin is refused.
var safeBuiltins = map[string]bool{
	"set": true, "frozenset": true, "slice": true, "range": true,
	"complex": true, "bytearray": true, "bytes": true, "int": true,
	"float": true, "str": true, "bool": true, "tuple": true, "list": true,
	"dict": true, "object": true,
}

func unsafeGlobal(g Global) bool {
	if g == (Global{"types", "SimpleNamespace"}) {
		return false // a plain attribute bag, pickled in configs
	}
	mod := g.Module
	if mod == "builtins" || mod == "__builtin__" || mod == "__builtins__" {
		return !safeBuiltins[g.Name]
	}
	for m := mod; m != ""; {
		if unsafeModules[m] {
			return true
		}
		i := strings.LastIndexByte(m, '.')
		if i < 0 {
			break
		}
		m = m[:i]
	}
	// Names that reach code execution from any module.
	switch g.Name {
	case "eval", "exec", "system", "popen", "__import__", "compile", "getattr", "execfile":
		return true
	}
	return false
}

// Named is a value an Options.Rebuild or PersistentLoad returns that names
// its Python type in error messages ("tensor", "storage").
type Named interface {
	PythonType() string
}

// TypeName is v's Python type for error messages: "dict", "int", "object
// gym.spaces.Box", ...
func TypeName(v Value) string {
	if n, ok := v.(Named); ok {
		return n.PythonType()
	}
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case Global:
		return "global"
	case *Object:
		return "object " + v.(*Object).Class.String()
	case mark:
		return "mark"
	}
	return fmt.Sprintf("%T", v)
}

// decodeBigInt decodes a little-endian two's complement integer.
func decodeBigInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	x := new(big.Int).SetBytes(be)
	if len(b) > 0 && b[len(b)-1]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}

// MaxDepth bounds every recursive walk over a decoded value, so a pickle
// nesting lists 200,000 deep (or a list containing itself) yields an
// error rather than a stack overflow.
const MaxDepth = 512

// Ints reads a tuple of ints (a shape, a stride).
func Ints(v Value) ([]int64, error) {
	t, ok := v.(Tuple)
	if !ok {
		return nil, fmt.Errorf("%s, not a tuple", TypeName(v))
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("element %d is a %s, not an int", i, TypeName(x))
		}
		out[i] = n
	}
	return out, nil
}

// Walk calls fn once for v and for every container and leaf inside
// it, depth first. Containers shared through the memo are visited once (so
// cycles and exponentially shared DAGs stay linear) and nesting deeper than
// MaxDepth is an error rather than a stack overflow.
func Walk(v Value, fn func(Value) error) error {
	seen := make(map[any]bool)
	var walk func(v Value, depth int) error
	walk = func(v Value, depth int) error {
		if depth > MaxDepth {
			return datafile.Invalidf("object nested deeper than %d levels", MaxDepth)
		}
		var id any
		switch x := v.(type) {
		case *List, *Dict, *Object:
			id = x
		case Tuple:
			if len(x) > 0 {
				id = &x[0]
			}
		}
		if id != nil {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		if err := fn(v); err != nil {
			return err
		}
		var kids []Value
		switch x := v.(type) {
		case Tuple:
			kids = x
		case *List:
			kids = x.Items
		case *Dict:
			for i := range x.Keys {
				if err := walk(x.Keys[i], depth+1); err != nil {
					return err
				}
				if err := walk(x.Values[i], depth+1); err != nil {
					return err
				}
			}
			return walk(x.Attrs, depth+1)
		case *Object:
			if err := walk(x.Args, depth+1); err != nil {
				return err
			}
			if err := walk(x.State, depth+1); err != nil {
				return err
			}
			if x.Items != nil {
				if err := walk(x.Items, depth+1); err != nil {
					return err
				}
			}
			kids = x.ListItems
		}
		for _, k := range kids {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(v, 0)
}
