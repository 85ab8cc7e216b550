package worker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unsafe"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// The wire protocol between Remote and a worker such as rleval-cuda.
//
// Every message is one frame: a 4-byte little-endian payload length, a
// 1-byte op, then the payload. Integers are little-endian uint32 (uint64
// for byte counts and durations), strings are a uint32 length and UTF-8
// bytes, float32 arrays are little-endian IEEE 754 with their length
// implied by the sizes sent before them. A reply to op x has op x|opReply;
// any request may instead be answered by an opError frame whose payload is
// one string. Requests are answered strictly in order, one at a time.
//
//	hello    → u32 version                 ← u32 version, str name, u64 total, u64 free, u32 driver, u32 cc
//	load     → u32 id, plan spec            ← (empty)
//	unload   → u32 id                       ← (empty)
//	policy   → u32 actor, u32 n, obs        ← timing, act
//	q        → u32 c1, u32 c2, u32 n, obs, act ← timing, q1[, q2]
//	qpolicy  → u32 actor, u32 c1, u32 c2, u32 n, obs ← timing, act, q1[, q2]
//	close    → (empty)                      ← (empty)
//	stacked  → u32 what, u32 k, ids, u32 n, obs[, act] ← timing[, act][, q1[, q2]]
//	rollbegin → str env, u32 k, k actor ids, u32 n, f64 γ, f64 states ← u32 rollout
//	rollstep → u32 rollout, u32 steps         ← u64 live states
//	rollend  → u32 rollout, u32 results      ← [u32 m, f64 returns (m), u32 steps (m), u8 terminated (m)]
//
// A plan spec is a network as graph.Lower lowered it from its Gorgonia
// graph, so the worker evaluates what the CPU plan evaluates: str name,
// str kind, u32 obsDim, u32 actDim, u32 in, u32 out, u32 maxWidth; u32
// normalised columns c (0: none), then Mean (c), Std (c) and Clip (1);
// u32 steps, per step str name, str op, str epilogue, u32 in, u32 out,
// u32 col, W (in×out, row k the weights of input k), B (out), Alpha, Clip,
// Lo, Hi (one float each), u32 bounds b, Low (b), Half (b), u32 xFrom,
// u32 xTo (the input columns the step reads besides, graph.Step). Network id 0
// means "none" (no second critic).
// timing is three u64 nanosecond counts: host→device, compute, device→host.
//
// A stacked request evaluates k networks of one architecture at once
// (graph.Stacked): what is 1 for policy, 2 for q, 3 for qpolicy; ids are k
// actor ids (policy, qpolicy), then k first-critic and k second-critic ids
// (q, qpolicy; the second all 0 for none). obs, act and the outputs hold k
// blocks of n rows, block j belonging to network j.
//
// A rollout (graph.Roller) runs on the worker's device from rollbegin,
// which uploads k blocks of n states (the environment's float64 values
// each, f64 being little-endian IEEE 754 doubles) for k actors and answers
// the rollout's id, through rollstep requests, each advancing every live
// state that many steps, to rollend, which frees it and, when results is
// 1, answers its m = k×n results in the order of the states.

// Version is the protocol version exchanged in the hello frame; client
// and worker must agree exactly.
const Version = 5

// MaxFrameBytes bounds a frame's payload. Both ends check a frame's length
// against it before allocating, so a corrupt or foreign stream (such as a
// library printing to stdout) fails with an error instead of an allocation.
// Remote splits requests so that no frame exceeds it.
const MaxFrameBytes = 256 << 20

// Limits on a plan spec, checked before allocating: far above the
// 2-3 layer, 256-1024 wide MLPs of TD3/SAC, far below what would exhaust
// memory on a corrupt spec.
const (
	maxWireLayers = 64
	maxWireWidth  = 1 << 16
)

type wireOp uint8

const (
	opHello     wireOp = 1
	opLoad      wireOp = 2
	opUnload    wireOp = 3
	opPolicy    wireOp = 4
	opQ         wireOp = 5
	opQPolicy   wireOp = 6
	opClose     wireOp = 7
	opStacked   wireOp = 8
	opRollBegin wireOp = 9
	opRollStep  wireOp = 10
	opRollEnd   wireOp = 11
	opReply     wireOp = 0x80
	opError     wireOp = 0xff
)

func (o wireOp) String() string {
	names := map[wireOp]string{opHello: "hello", opLoad: "load", opUnload: "unload",
		opPolicy: "policy", opQ: "q", opQPolicy: "qpolicy", opClose: "close", opStacked: "stacked",
		opRollBegin: "rollbegin", opRollStep: "rollstep", opRollEnd: "rollend", opError: "error"}
	if s, ok := names[o&^opReply]; ok && o != opError && o&opReply != 0 {
		return s + "-reply"
	}
	if s, ok := names[o]; ok {
		return s
	}
	return fmt.Sprintf("op(0x%02x)", uint8(o))
}

// wireErrFrame is an error a worker sent back for one request; the stream stays
// usable after it.
type wireErrFrame struct{ msg string }

func (e *wireErrFrame) Error() string { return e.msg }

// wireWriteFrame writes one frame with the given payload.
func wireWriteFrame(w io.Writer, op wireOp, payload []byte) error {
	if len(payload) > MaxFrameBytes {
		return fmt.Errorf("%v frame of %d bytes exceeds the %d-byte limit", op, len(payload), MaxFrameBytes)
	}
	var h [5]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(payload)))
	h[4] = byte(op)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// wireReadFrame reads one frame into buf (grown as needed) and returns its op
// and payload, which aliases buf. It returns io.EOF only on a clean end
// before a frame starts.
func wireReadFrame(r io.Reader, buf []byte) (wireOp, []byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("truncated frame header: %w", err)
		}
		return 0, nil, buf, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	op := wireOp(h[4])
	if n > MaxFrameBytes {
		return 0, nil, buf, fmt.Errorf("frame header %q announces %d bytes, over the %d-byte limit: not an rleval wire stream", h[:], n, MaxFrameBytes)
	}
	// Grow the buffer as bytes arrive rather than to the announced size at
	// once: a peer announcing 256 MiB and sending ten bytes costs 64 KiB.
	p := buf[:0]
	for len(p) < int(n) {
		if len(p) == cap(p) {
			np := make([]byte, len(p), min(int(n), max(2*cap(p), 1<<16)))
			copy(np, p)
			p = np
		}
		m, err := io.ReadFull(r, p[len(p):min(cap(p), int(n))])
		p = p[:len(p)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, p[:0], fmt.Errorf("truncated %v frame (%d of %d bytes): %w", op, len(p), n, err)
		}
	}
	buf = p[:0]
	return op, p, buf, nil
}

// wireEnc appends wire values to a byte slice.
type wireEnc struct{ b []byte }

func (e *wireEnc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *wireEnc) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *wireEnc) str(s string) { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *wireEnc) floats(f []float32) {
	off := len(e.b)
	e.b = append(e.b, make([]byte, 4*len(f))...)
	wirePutFloats(e.b[off:], f)
}
func (e *wireEnc) timing(t graph.DeviceTiming) {
	e.u64(uint64(t.HostToDevice))
	e.u64(uint64(t.Compute))
	e.u64(uint64(t.DeviceToHost))
}

// wirePutFloats encodes f into b (4*len(f) bytes). On little-endian hosts
// the wire layout is the memory layout, so it is one copy: the payloads
// are most of what crosses the pipe.
func wirePutFloats(b []byte, f []float32) {
	if wireNativeLE && len(f) > 0 {
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f)))
		return
	}
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
}

// wireNativeLE reports whether float32s are stored little-endian.
var wireNativeLE = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// wireDec reads wire values from a payload; the first error sticks and later
// reads return zero values, so a decoder checks err once at the end.
type wireDec struct {
	b   []byte
	off int
	err error
}

func (d *wireDec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %s", d.off, fmt.Sprintf(format, args...))
	}
}

func (d *wireDec) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("%s needs %d bytes, %d left", what, n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *wireDec) u32(what string) uint32 {
	p := d.take(4, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (d *wireDec) u64(what string) uint64 {
	p := d.take(8, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

func (d *wireDec) str(what string) string {
	n := d.u32(what + " length")
	return string(d.take(int(n), what))
}

// floatsInto decodes len(dst) floats into dst.
func (d *wireDec) floatsInto(dst []float32, what string) {
	p := d.take(4*len(dst), what)
	if p == nil {
		return
	}
	if wireNativeLE && len(dst) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), len(p)), p)
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
}

// floats decodes n floats into a new slice, checking n against the bytes
// left before allocating.
func (d *wireDec) floats(n int, what string) []float32 {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > (len(d.b)-d.off)/4 {
		d.fail("%s needs %d floats, %d bytes left", what, n, len(d.b)-d.off)
		return nil
	}
	f := make([]float32, n)
	d.floatsInto(f, what)
	return f
}

func (d *wireDec) timing() graph.DeviceTiming {
	return graph.DeviceTiming{
		HostToDevice: time.Duration(d.u64("host-to-device time")),
		Compute:      time.Duration(d.u64("compute time")),
		DeviceToHost: time.Duration(d.u64("device-to-host time")),
	}
}

// end fails if bytes are left over: sizes disagree between the two ends.
func (d *wireDec) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d trailing bytes", len(d.b)-d.off)
	}
	return d.err
}

// wireEncodePlan appends the spec of p, lowered from a network of obsDim
// observations and actDim actions.
func wireEncodePlan(e *wireEnc, p *graph.Plan, obsDim, actDim int) {
	e.str(p.Name)
	e.str(string(p.Kind))
	e.u32(uint32(obsDim))
	e.u32(uint32(actDim))
	e.u32(uint32(p.In))
	e.u32(uint32(p.Out))
	e.u32(uint32(p.MaxWidth))
	if nm := p.Norm; nm != nil {
		e.u32(uint32(nm.Cols))
		e.floats(nm.Mean)
		e.floats(nm.Std)
		e.floats([]float32{nm.Clip})
	} else {
		e.u32(0)
	}
	e.u32(uint32(len(p.Steps)))
	for _, s := range p.Steps {
		e.str(s.Name)
		e.str(string(s.Op))
		e.str(string(s.Epilogue))
		e.u32(uint32(s.In))
		e.u32(uint32(s.Out))
		e.u32(uint32(s.Col))
		e.floats(s.W)
		e.floats(s.B)
		e.floats([]float32{s.Alpha, s.Clip, s.Lo, s.Hi})
		e.u32(uint32(len(s.Low)))
		e.floats(s.Low)
		e.floats(s.Half)
		e.u32(uint32(s.XFrom))
		e.u32(uint32(s.XTo))
	}
}

// wireWidth reads a width and fails unless it is 1..maxWireWidth (0 too
// when zero is set).
func wireWidth(d *wireDec, what string, zero bool) int {
	v := d.u32(what)
	if d.err == nil && (v > maxWireWidth || v == 0 && !zero) {
		d.fail("%s %d outside 1..%d", what, v, maxWireWidth)
	}
	return int(v)
}

// wireDecodePlan reads a plan spec, allocating only what the payload
// holds, and checks it (graph.CheckPlan). It returns the plan and the
// network's observation and action sizes.
func wireDecodePlan(d *wireDec) (p *graph.Plan, obsDim, actDim int, err error) {
	p = &graph.Plan{Name: d.str("name"), Kind: loaders.NetKind(d.str("kind"))}
	obsDim, actDim = wireWidth(d, "obs dim", false), wireWidth(d, "act dim", false)
	p.In, p.Out = wireWidth(d, "plan input", false), wireWidth(d, "plan output", false)
	p.MaxWidth = wireWidth(d, "widest layer", true)
	if cols := wireWidth(d, "normalised columns", true); cols > 0 {
		nm := &graph.Norm{Cols: cols, Mean: d.floats(cols, "norm mean"), Std: d.floats(cols, "norm std")}
		if c := d.floats(1, "norm clip"); c != nil {
			nm.Clip = c[0]
		}
		p.Norm = nm
	}
	ns := d.u32("step count")
	if d.err == nil && (ns == 0 || ns > maxWireLayers) {
		d.fail("%d steps, want 1..%d", ns, maxWireLayers)
	}
	for i := 0; d.err == nil && i < int(ns); i++ {
		s := graph.Step{Name: d.str("step name"), Op: graph.Op(d.str("op")), Epilogue: graph.Epilogue(d.str("epilogue"))}
		s.In, s.Out = wireWidth(d, "step input", false), wireWidth(d, "step output", false)
		s.Col = wireWidth(d, "first column", true)
		s.W = d.floats(s.In*s.Out, "weights")
		s.B = d.floats(s.Out, "biases")
		if f := d.floats(4, "epilogue parameters"); f != nil {
			s.Alpha, s.Clip, s.Lo, s.Hi = f[0], f[1], f[2], f[3]
		}
		if nl := wireWidth(d, "head bounds", true); nl > 0 {
			s.Low, s.Half = d.floats(nl, "head low"), d.floats(nl, "head half-range")
		}
		s.XFrom, s.XTo = wireWidth(d, "first input column", true), wireWidth(d, "input column end", true)
		p.Steps = append(p.Steps, s)
	}
	if err := d.end(); err != nil {
		return nil, 0, 0, fmt.Errorf("plan spec: %w", err)
	}
	if err := graph.CheckPlan(p, obsDim, actDim); err != nil {
		return nil, 0, 0, fmt.Errorf("plan %s: %w", p.Name, err)
	}
	return p, obsDim, actDim, nil
}

// Serve answers wire requests read from r by evaluating them on b and
// writing replies to w, until a close request or the end of r (both return
// nil). It is the loop of the rleval-cuda worker and, over a CPU graph.Backend,
// the stand-in for it in tests.
//
// Bad requests, backend errors and backend panics are answered with error
// frames and the loop goes on; only an unreadable stream (a frame over
// MaxFrameBytes, a truncated frame) or a failed write ends it with an error.
// If b is a graph.DeviceInfoer it answers hello with its DeviceInfo; a
// graph.Timer supplies each request's timing (else the whole call counts as
// compute); a graph.Forgetter forgets a network on unload. b must
// implement graph.PlanAdopter: a load request carries a plan, which b
// adopts under a handle from graph.PlanNetwork. Serve calls b from the
// calling goroutine only, so a CUDA backend may lock it to its OS thread.
func Serve(r io.Reader, w io.Writer, b graph.Backend) error {
	s := &wireServer{b: b, nets: map[uint32]*loaders.Network{}}
	defer s.endRollouts() // those a client that went away left
	br := bufio.NewReaderSize(r, 1<<16)
	bw := bufio.NewWriterSize(w, 1<<16)
	var buf []byte
	for {
		op, payload, nbuf, err := wireReadFrame(br, buf)
		buf = nbuf
		if err == io.EOF {
			return nil
		}
		if err != nil {
			err = fmt.Errorf("read request: %w", err)
			s.reply(bw, opError, func(e *wireEnc) { e.str(err.Error()) })
			bw.Flush()
			return err
		}
		rop, fill, herr := s.handle(op, payload)
		if herr != nil {
			rop = opError
			fill = func(e *wireEnc) { e.str(herr.Error()) }
		}
		if err := s.reply(bw, rop, fill); err != nil {
			return fmt.Errorf("write %v reply: %w", op, err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write %v reply: %w", op, err)
		}
		if op == opClose {
			return nil
		}
	}
}

// criticKinds are the kinds a q request's critics may be.
var criticKinds = []loaders.NetKind{loaders.KindCritic, loaders.KindQuantileCritic}

type wireServer struct {
	b     graph.Backend
	nets  map[uint32]*loaders.Network
	rolls map[uint32]*serverRollout // rollouts under way (rollout.go)
	next  uint32                    // the last rollout id given
	out   wireEnc
	obs   []float32
	act   []float32
	q1    []float32
	q2    []float32
}

// forget releases what the backend holds for net, if it holds anything
// (graph.Forgetter).
func (s *wireServer) forget(net *loaders.Network) error {
	if f, ok := s.b.(graph.Forgetter); ok {
		return f.Forget(net)
	}
	return nil
}

func (s *wireServer) reply(w io.Writer, op wireOp, fill func(*wireEnc)) error {
	s.out.b = s.out.b[:0]
	if fill != nil {
		fill(&s.out)
	}
	return wireWriteFrame(w, op, s.out.b)
}

func wireGrow(f []float32, n int) []float32 {
	if cap(f) < n {
		return make([]float32, n)
	}
	return f[:n]
}

// critics returns an op's critics id1 and id2; c2 is nil for id 0.
func (s *wireServer) critics(op string, id1, id2 uint32) (c1, c2 *loaders.Network, err error) {
	if c1, err = s.net(id1, op, criticKinds...); err != nil {
		return nil, nil, err
	}
	if id2 != 0 {
		if c2, err = s.net(id2, op, criticKinds...); err != nil {
			return nil, nil, err
		}
	}
	return c1, c2, nil
}

// qOut sizes the critics' outputs for n rows: s.q1, and s.q2, returned,
// only with a second critic (nil without).
func (s *wireServer) qOut(n int, c2 *loaders.Network) []float32 {
	s.q1 = wireGrow(s.q1, n)
	if c2 == nil {
		return nil
	}
	s.q2 = wireGrow(s.q2, n)
	return s.q2
}

func (s *wireServer) net(id uint32, want string, kinds ...loaders.NetKind) (*loaders.Network, error) {
	net, ok := s.nets[id]
	if !ok {
		return nil, fmt.Errorf("%s: no network loaded with id %d", want, id)
	}
	for _, k := range kinds {
		if net.Kind == k {
			return net, nil
		}
	}
	return nil, fmt.Errorf("%s: network %d (%s) is a %s, want %v", want, id, net.Path, net.Kind, kinds)
}

// wireRows checks that n rows of width floats each are exactly what is left
// of the payload after the fixed fields.
func wireRows(d *wireDec, n, width int, what string) error {
	if d.err != nil {
		return d.err
	}
	left := len(d.b) - d.off
	if n <= 0 || int64(n)*int64(width)*4 != int64(left) {
		return fmt.Errorf("%d rows of %d %s floats need %d bytes, payload has %d", n, width, what, int64(n)*int64(width)*4, left)
	}
	return nil
}

// handle decodes and runs one request; it returns the reply op and a
// function that appends the reply payload.
func (s *wireServer) handle(op wireOp, p []byte) (rop wireOp, fill func(*wireEnc), err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v request: backend panicked: %v", op, r)
		}
	}()
	h, ok := wireHandlers[op]
	if !ok {
		return 0, nil, fmt.Errorf("unknown request %v", op)
	}
	if fill, err = h(s, &wireDec{b: p}); err != nil {
		return 0, nil, err
	}
	return op | opReply, fill, nil
}

// wireHandlers are the server's requests, one method each.
var wireHandlers = map[wireOp]func(*wireServer, *wireDec) (func(*wireEnc), error){
	opHello: (*wireServer).hello, opLoad: (*wireServer).load, opUnload: (*wireServer).unload,
	opPolicy: (*wireServer).policy, opQ: (*wireServer).q, opQPolicy: (*wireServer).qpolicy,
	opStacked: (*wireServer).stackedOp, opClose: (*wireServer).closeOp,
	opRollBegin: (*wireServer).rollBegin, opRollStep: (*wireServer).rollStep, opRollEnd: (*wireServer).rollEnd,
}

// timing is the split of the request's time since start: the backend's
// own (graph.Timer), else all of it as compute.
func (s *wireServer) timing(start time.Time) graph.DeviceTiming {
	if t, ok := s.b.(graph.Timer); ok {
		return t.LastTiming()
	}
	return graph.DeviceTiming{Compute: time.Since(start)}
}

// hello checks the client's wire version and answers with the device's description.
func (s *wireServer) hello(d *wireDec) (func(*wireEnc), error) {
	v := d.u32("version")
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	if v != Version {
		return nil, fmt.Errorf("hello: client speaks wire version %d, worker %d: rebuild both from the same commit", v, Version)
	}
	info := graph.DeviceInfo{Name: s.b.Name()}
	if di, ok := s.b.(graph.DeviceInfoer); ok {
		info = di.DeviceInfo()
	}
	return func(e *wireEnc) {
		e.u32(Version)
		e.str(info.Name)
		e.u64(uint64(info.TotalMem))
		e.u64(uint64(info.FreeMem))
		e.u32(uint32(info.DriverVersion))
		e.u32(uint32(info.ComputeCapability))
	}, nil
}

// load adopts the plan of a network under the client's id, replacing the network it had.
func (s *wireServer) load(d *wireDec) (func(*wireEnc), error) {
	id := d.u32("id")
	if d.err == nil && id == 0 {
		return nil, errors.New("load: network id 0 is reserved for none")
	}
	p, od, ad, err := wireDecodePlan(d)
	if err != nil {
		return nil, fmt.Errorf("load %d: %w", id, err)
	}
	ad0, ok := s.b.(graph.PlanAdopter)
	if !ok {
		return nil, fmt.Errorf("load %d: backend %s evaluates no lowered plans", id, s.b.Name())
	}
	net := graph.PlanNetwork(p, od, ad)
	if err := ad0.Adopt(net, p); err != nil {
		return nil, fmt.Errorf("load %d: %w", id, err)
	}
	if old, ok := s.nets[id]; ok {
		if err := s.forget(old); err != nil {
			return nil, fmt.Errorf("load %d: release the network it replaces: %w", id, err)
		}
	}
	s.nets[id] = net
	return nil, nil
}

// unload forgets the network of an id.
func (s *wireServer) unload(d *wireDec) (func(*wireEnc), error) {
	id := d.u32("id")
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("unload: %w", err)
	}
	if net, ok := s.nets[id]; ok {
		delete(s.nets, id)
		if err := s.forget(net); err != nil {
			return nil, fmt.Errorf("unload %d: %w", id, err)
		}
	}
	return nil, nil
}

// policy evaluates an actor on rows of observations.
func (s *wireServer) policy(d *wireDec) (func(*wireEnc), error) {
	aid, n := d.u32("actor id"), int(d.u32("rows"))
	if d.err != nil {
		return nil, fmt.Errorf("policy: %w", d.err)
	}
	actor, err := s.net(aid, "policy", loaders.KindActor, loaders.KindSACActor)
	if err != nil {
		return nil, err
	}
	if err := wireRows(d, n, actor.ObsDim, "obs"); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	s.obs = wireGrow(s.obs, n*actor.ObsDim)
	d.floatsInto(s.obs, "obs")
	s.act = wireGrow(s.act, n*actor.ActDim)
	start := time.Now()
	if err := s.b.Policy(actor, s.obs, n, s.act); err != nil {
		return nil, fmt.Errorf("policy %s: %w", actor.Path, err)
	}
	t := s.timing(start)
	return func(e *wireEnc) { e.timing(t); e.floats(s.act) }, nil
}

// q evaluates one or two critics on rows of (observation, action).
func (s *wireServer) q(d *wireDec) (func(*wireEnc), error) {
	id1, id2, n := d.u32("critic 1 id"), d.u32("critic 2 id"), int(d.u32("rows"))
	if d.err != nil {
		return nil, fmt.Errorf("q: %w", d.err)
	}
	c1, c2, err := s.critics("q", id1, id2)
	if err != nil {
		return nil, err
	}
	if c2 != nil && (c2.ObsDim != c1.ObsDim || c2.ActDim != c1.ActDim) {
		return nil, fmt.Errorf("q: critics %s and %s take different inputs", c1.Path, c2.Path)
	}
	if err := wireRows(d, n, c1.ObsDim+c1.ActDim, "obs+act"); err != nil {
		return nil, fmt.Errorf("q: %w", err)
	}
	s.obs = wireGrow(s.obs, n*c1.ObsDim)
	s.act = wireGrow(s.act, n*c1.ActDim)
	d.floatsInto(s.obs, "obs")
	d.floatsInto(s.act, "act")
	q2 := s.qOut(n, c2)
	start := time.Now()
	if err := s.b.Q(c1, c2, s.obs, s.act, n, s.q1, q2); err != nil {
		return nil, fmt.Errorf("q %s: %w", c1.Path, err)
	}
	t := s.timing(start)
	return func(e *wireEnc) { e.timing(t); e.floats(s.q1); e.floats(q2) }, nil
}

// qpolicy evaluates an actor and its critics at (obs, π(obs)).
func (s *wireServer) qpolicy(d *wireDec) (func(*wireEnc), error) {
	aid, id1, id2, n := d.u32("actor id"), d.u32("critic 1 id"), d.u32("critic 2 id"), int(d.u32("rows"))
	if d.err != nil {
		return nil, fmt.Errorf("qpolicy: %w", d.err)
	}
	actor, err := s.net(aid, "qpolicy", loaders.KindActor, loaders.KindSACActor)
	if err != nil {
		return nil, err
	}
	c1, c2, err := s.critics("qpolicy", id1, id2)
	if err != nil {
		return nil, err
	}
	for _, c := range []*loaders.Network{c1, c2} {
		if c != nil && (c.ObsDim != actor.ObsDim || c.ActDim != actor.ActDim) {
			return nil, fmt.Errorf("qpolicy: critic %s takes %d+%d inputs, actor %s has %d obs and %d actions",
				c.Path, c.ObsDim, c.ActDim, actor.Path, actor.ObsDim, actor.ActDim)
		}
	}
	if err := wireRows(d, n, actor.ObsDim, "obs"); err != nil {
		return nil, fmt.Errorf("qpolicy: %w", err)
	}
	s.obs = wireGrow(s.obs, n*actor.ObsDim)
	d.floatsInto(s.obs, "obs")
	s.act = wireGrow(s.act, n*actor.ActDim)
	q2 := s.qOut(n, c2)
	start := time.Now()
	if err := s.b.QPolicy(actor, c1, c2, s.obs, n, s.act, s.q1, q2); err != nil {
		return nil, fmt.Errorf("qpolicy %s: %w", actor.Path, err)
	}
	t := s.timing(start)
	return func(e *wireEnc) { e.timing(t); e.floats(s.act); e.floats(s.q1); e.floats(q2) }, nil
}

// stackedOp evaluates several runs' networks at once (stacked).
func (s *wireServer) stackedOp(d *wireDec) (func(*wireEnc), error) {
	fill, err := s.stacked(d)
	if err != nil {
		return nil, fmt.Errorf("stacked: %w", err)
	}
	return fill, nil
}

// closeOp acknowledges the client's goodbye, ending the rollouts it left.
func (s *wireServer) closeOp(d *wireDec) (func(*wireEnc), error) {
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	return nil, s.endRollouts()
}
