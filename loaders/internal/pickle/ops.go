package pickle

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// The pickle VM's opcodes are handled by family, one small function each
// (control and stack, scalars, text and bytes, containers, memo, objects), as
// go-hep's groot splits its decoders. opHandlers maps an opcode to its
// family's handler; STOP is handled by run itself.
var opHandlers [256]func(vm *pickleVM, op byte) error

func init() {
	reg := func(h func(*pickleVM, byte) error, ops ...byte) {
		for _, op := range ops {
			opHandlers[op] = h
		}
	}
	reg((*pickleVM).opControl, opProto, opFrame, opMark, opPop, opPopMark, opDup)
	reg((*pickleVM).opConst, opNone, opNewTrue, opNewFalse)
	reg((*pickleVM).opInt, opBinInt, opBinInt1, opBinInt2)
	reg((*pickleVM).opLong, opLong1, opLong4)
	reg((*pickleVM).opFloat, opBinFloat)
	reg((*pickleVM).opText, opBinUnicode, opShortBinUni, opBinUnicode8, opBinString, opShortBinString)
	reg((*pickleVM).opBytes, opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8)
	reg((*pickleVM).opEmpty, opEmptyDict, opEmptyList, opEmptySet, opEmptyTuple)
	reg((*pickleVM).opCollect, opTuple, opList, opDict, opFrozenSet)
	reg((*pickleVM).opTupleN, opTuple1, opTuple2, opTuple3)
	reg((*pickleVM).opAppend, opAppend, opAppends, opAddItems)
	reg((*pickleVM).opSetItem, opSetItem, opSetItems)
	reg((*pickleVM).opMemo, opBinPut, opLongBinPut, opMemoize, opBinGet, opLongBinGet)
	reg((*pickleVM).opGlobal, opGlobal, opStackGlobal)
	reg((*pickleVM).opCall, opReduce, opNewObj, opNewObjEx)
	reg((*pickleVM).opBuild, opBuild)
	reg((*pickleVM).opPersID, opBinPersID)
}

// run executes opcodes up to STOP and returns the object left on the stack.
func (vm *pickleVM) run() (Value, error) {
	for {
		op, err := vm.readByte()
		if err != nil {
			return nil, err
		}
		if op == opStop {
			if len(vm.marks) != 0 || len(vm.stack) != 1 {
				return nil, vm.errorf("STOP with %d items and %d marks on the stack", len(vm.stack), len(vm.marks))
			}
			return vm.stack[0], nil
		}
		h := opHandlers[op]
		if h == nil {
			return nil, vm.errorf("unsupported or invalid opcode 0x%02x", op)
		}
		if err := h(vm, op); err != nil {
			return nil, err
		}
	}
}

// opControl: PROTO, FRAME, MARK, POP, POP_MARK, DUP.
func (vm *pickleVM) opControl(op byte) error {
	switch op {
	case opProto:
		v, err := vm.readByte()
		if err != nil {
			return err
		}
		if v > 5 {
			return vm.errorf("unsupported pickle protocol %d", v)
		}
	case opFrame:
		n, err := vm.readUint(8)
		if err != nil {
			return err
		}
		// Framing is only a buffering hint; check the claim and go on.
		if n > uint64(vm.limit-vm.pos) {
			return vm.errorf("FRAME claims %d bytes but only %d remain", n, vm.limit-vm.pos)
		}
	case opMark:
		if len(vm.marks) >= maxPickleStack {
			return vm.errorf("more than %d nested MARKs", maxPickleStack)
		}
		vm.marks = append(vm.marks, len(vm.stack))
	case opPop:
		if len(vm.marks) > 0 && vm.marks[len(vm.marks)-1] == len(vm.stack) {
			// POP of a bare MARK discards the mark.
			vm.marks = vm.marks[:len(vm.marks)-1]
			return nil
		}
		_, err := vm.pop()
		return err
	case opPopMark:
		_, err := vm.popMark()
		return err
	case opDup:
		v, err := vm.top()
		if err != nil {
			return err
		}
		return vm.push(v)
	}
	return nil
}

// opConst: NONE, NEWTRUE, NEWFALSE.
func (vm *pickleVM) opConst(op byte) error {
	switch op {
	case opNewTrue:
		return vm.push(true)
	case opNewFalse:
		return vm.push(false)
	}
	return vm.push(nil)
}

// opInt: BININT (signed 4 bytes), BININT1, BININT2 (unsigned).
func (vm *pickleVM) opInt(op byte) error {
	switch op {
	case opBinInt:
		u, err := vm.readUint(4)
		if err != nil {
			return err
		}
		return vm.push(int64(int32(uint32(u))))
	case opBinInt1:
		u, err := vm.readUint(1)
		if err != nil {
			return err
		}
		return vm.push(int64(u))
	}
	u, err := vm.readUint(2)
	if err != nil {
		return err
	}
	return vm.push(int64(u))
}

// opLong: LONG1 and LONG4, little-endian two's complement integers.
func (vm *pickleVM) opLong(op byte) error {
	width := 4
	if op == opLong1 {
		width = 1
	}
	n, err := vm.readUint(width)
	if err != nil {
		return err
	}
	if n > maxLongBytes {
		return vm.errorf("integer of %d bytes (limit %d)", n, maxLongBytes)
	}
	b, err := vm.readN(int64(n))
	if err != nil {
		return err
	}
	if n > 8 {
		return vm.push(decodeBigInt(b))
	}
	var x int64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | int64(b[i])
	}
	if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
		x -= 1 << (8 * n) // two's complement sign
	}
	return vm.push(x)
}

// opFloat: BINFLOAT, a big-endian float64.
func (vm *pickleVM) opFloat(byte) error {
	var b [8]byte
	if err := vm.readFixed(b[:]); err != nil {
		return err
	}
	return vm.push(math.Float64frombits(binary.BigEndian.Uint64(b[:])))
}

// lengthPrefix reads the length of a text or bytes opcode: 1, 4 or 8
// bytes, checked against the bytes left in the stream.
func (vm *pickleVM) lengthPrefix(width int, what string) (int64, error) {
	n, err := vm.readUint(width)
	if err != nil {
		return 0, err
	}
	if n > uint64(vm.limit) {
		return 0, vm.errorf("%s claim %d bytes but only %d remain (truncated or corrupt file)", what, n, vm.limit-vm.pos)
	}
	return int64(n), nil
}

// opText: BINUNICODE(8), SHORT_BINUNICODE and Python 2's BINSTRING and
// SHORT_BINSTRING.
func (vm *pickleVM) opText(op byte) error {
	width := 4
	switch op {
	case opShortBinUni, opShortBinString:
		width = 1
	case opBinUnicode8:
		width = 8
	}
	u, err := vm.readUint(width)
	if err != nil {
		return err
	}
	if u > math.MaxInt32 && op == opBinString {
		return vm.errorf("BINSTRING with negative length")
	}
	if u > uint64(vm.limit) {
		return vm.errorf("string claims %d bytes but only %d remain (truncated or corrupt file)", u, vm.limit-vm.pos)
	}
	n := int64(u)
	b, err := vm.readN(n)
	if err != nil {
		return err
	}
	if op == opBinString || op == opShortBinString {
		// Python 2 str: bytes of unknown encoding; keep them as text
		// when they are valid UTF-8 (numpy dtype codes are ASCII).
		if utf8.Valid(b) {
			return vm.push(string(b))
		}
		return vm.push(b)
	}
	s, err := vm.str(b)
	if err != nil {
		return err
	}
	return vm.push(s)
}

// opBytes: BINBYTES(8), SHORT_BINBYTES, BYTEARRAY8.
func (vm *pickleVM) opBytes(op byte) error {
	width := 8
	switch op {
	case opShortBinBytes:
		width = 1
	case opBinBytes:
		width = 4
	}
	n, err := vm.lengthPrefix(width, "bytes")
	if err != nil {
		return err
	}
	b, err := vm.readN(n)
	if err != nil {
		return err
	}
	return vm.push(b)
}

// opEmpty: EMPTY_DICT, EMPTY_LIST, EMPTY_SET (a list), EMPTY_TUPLE.
func (vm *pickleVM) opEmpty(op byte) error {
	switch op {
	case opEmptyDict:
		return vm.push(&Dict{})
	case opEmptyTuple:
		return vm.push(Tuple{})
	}
	return vm.push(&List{})
}

// opCollect: TUPLE, LIST, DICT, FROZENSET over the items above the MARK.
func (vm *pickleVM) opCollect(op byte) error {
	items, err := vm.popMark()
	if err != nil {
		return err
	}
	switch op {
	case opTuple:
		return vm.push(Tuple(items))
	case opDict:
		if len(items)%2 != 0 {
			return vm.errorf("DICT with an odd number of items")
		}
		d := &Dict{}
		for i := 0; i < len(items); i += 2 {
			d.Set(items[i], items[i+1])
		}
		return vm.push(d)
	}
	return vm.push(&List{Items: items})
}

// opTupleN: TUPLE1, TUPLE2, TUPLE3 from the top of the stack.
func (vm *pickleVM) opTupleN(op byte) error {
	n := int(op-opTuple1) + 1
	if len(vm.stack) < n || (len(vm.marks) > 0 && vm.marks[len(vm.marks)-1] > len(vm.stack)-n) {
		return vm.errorf("stack underflow building a %d-tuple", n)
	}
	t := make(Tuple, n)
	copy(t, vm.stack[len(vm.stack)-n:])
	vm.stack = vm.stack[:len(vm.stack)-n]
	return vm.push(t)
}

// opAppend: APPEND, APPENDS, ADDITEMS.
func (vm *pickleVM) opAppend(op byte) error {
	if op == opAppend {
		v, err := vm.pop()
		if err != nil {
			return err
		}
		return vm.appendTo([]Value{v})
	}
	items, err := vm.popMark()
	if err != nil {
		return err
	}
	return vm.appendTo(items)
}

// opSetItem: SETITEM and SETITEMS.
func (vm *pickleVM) opSetItem(op byte) error {
	if op == opSetItem {
		v, err := vm.pop()
		if err != nil {
			return err
		}
		k, err := vm.pop()
		if err != nil {
			return err
		}
		return vm.setItems([]Value{k, v})
	}
	items, err := vm.popMark()
	if err != nil {
		return err
	}
	if len(items)%2 != 0 {
		return vm.errorf("SETITEMS with an odd number of items (%d)", len(items))
	}
	return vm.setItems(items)
}

// opMemo: BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET.
func (vm *pickleVM) opMemo(op byte) error {
	if op == opMemoize {
		return vm.memoPut(uint32(vm.nmemo))
	}
	width := 1
	if op == opLongBinPut || op == opLongBinGet {
		width = 4
	}
	u, err := vm.readUint(width)
	if err != nil {
		return err
	}
	if op == opBinPut || op == opLongBinPut {
		return vm.memoPut(uint32(u))
	}
	return vm.memoGet(uint32(u))
}

// opGlobal: GLOBAL (two text lines) and STACK_GLOBAL (two strings).
func (vm *pickleVM) opGlobal(op byte) error {
	if op == opGlobal {
		mod, err := vm.readLine()
		if err != nil {
			return err
		}
		name, err := vm.readLine()
		if err != nil {
			return err
		}
		return vm.push(Global{Module: mod, Name: name})
	}
	nameV, err := vm.pop()
	if err != nil {
		return err
	}
	modV, err := vm.pop()
	if err != nil {
		return err
	}
	mod, ok1 := modV.(string)
	name, ok2 := nameV.(string)
	if !ok1 || !ok2 {
		return vm.errorf("STACK_GLOBAL needs two strings, got %s and %s", TypeName(modV), TypeName(nameV))
	}
	return vm.push(Global{Module: mod, Name: name})
}

// opCall: REDUCE, NEWOBJ and NEWOBJ_EX, interpreted by call (never run).
func (vm *pickleVM) opCall(op byte) error {
	if op == opNewObjEx {
		if _, err := vm.pop(); err != nil { // kwargs
			return err
		}
	}
	args, err := vm.pop()
	if err != nil {
		return err
	}
	fn, err := vm.pop()
	if err != nil {
		return err
	}
	v, err := vm.call(fn, args, op != opReduce)
	if err != nil {
		return err
	}
	return vm.push(v)
}

// StateSetter is a value an Options.Rebuild returned that takes the state
// of a BUILD opcode (numpy arrays and dtypes; torch tensors, which ignore
// their Python attributes).
type StateSetter interface {
	SetState(state Value) error
}

// opBuild: BUILD attaches state to the object below it.
func (vm *pickleVM) opBuild(byte) error {
	state, err := vm.pop()
	if err != nil {
		return err
	}
	obj, err := vm.top()
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *Object:
		o.State = state
	case *Dict:
		o.Attrs = state
	case StateSetter:
		if err := o.SetState(state); err != nil {
			return &pickleError{off: vm.pos, msg: "BUILD: " + err.Error(), err: err}
		}
	case *List, Tuple, nil:
		// Attributes of a value rebuilt as a list, tuple or None:
		// nothing the readers need.
	default:
		return vm.errorf("BUILD on %s", TypeName(obj))
	}
	return nil
}

// opPersID: BINPERSID, resolved by the torch file's storages.
func (vm *pickleVM) opPersID(byte) error {
	pid, err := vm.pop()
	if err != nil {
		return err
	}
	if vm.persistentLoad == nil {
		return vm.errorf("persistent id outside a torch file")
	}
	v, err := vm.persistentLoad(pid)
	if err != nil {
		return &pickleError{off: vm.pos, msg: err.Error(), err: err}
	}
	return vm.push(v)
}
