package worker

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// frame returns one encoded frame.
func frame(op wireOp, fill func(*wireEnc)) []byte {
	var e wireEnc
	if fill != nil {
		fill(&e)
	}
	var b bytes.Buffer
	wireWriteFrame(&b, op, e.b)
	return b.Bytes()
}

// replies serves the concatenated requests and decodes every reply frame.
func replies(t testing.TB, reqs []byte) (ops []wireOp, msgs []string, err error) {
	var out bytes.Buffer
	err = Serve(bytes.NewReader(reqs), &out, graph.NewCPU(graph.Options{}))
	var buf []byte
	for out.Len() > 0 {
		op, p, nbuf, rerr := wireReadFrame(&out, buf)
		buf = nbuf
		if rerr != nil {
			t.Fatalf("reply stream unreadable after %d frames: %v", len(ops), rerr)
		}
		ops = append(ops, op)
		msg := ""
		if op == opError {
			d := &wireDec{b: p}
			msg = d.str("message")
			if d.end() != nil {
				t.Fatalf("malformed error frame %q", p)
			}
		}
		msgs = append(msgs, msg)
	}
	return ops, msgs, err
}

func helloFrame() []byte { return frame(opHello, func(e *wireEnc) { e.u32(Version) }) }

func loadFrame(id uint32, net *loaders.Network) []byte {
	return frame(opLoad, func(e *wireEnc) { e.u32(id); wireEncodeNetwork(e, net) })
}

func TestServeWireAnswersBadRequestsWithErrorsAndGoesOn(t *testing.T) {
	actor, critic, _ := testShapes[0].nets(1)
	short := *actor
	short.Low = short.Low[:0]
	wrongIn := *critic
	wrongIn.ObsDim = 5
	tanhy := *actor
	tanhy.Hidden = "gelu"
	obs3 := make([]float32, 3)
	for _, tc := range []struct {
		name string
		req  []byte
		want string
	}{
		{"unknown op", frame(0x42, nil), "unknown request op(0x42)"},
		{"old client", frame(opHello, func(e *wireEnc) { e.u32(Version + 1) }), "rebuild both"},
		{"hello with trailing bytes", frame(opHello, func(e *wireEnc) { e.u32(Version); e.u32(0) }), "trailing bytes"},
		{"load id 0", loadFrame(0, actor), "reserved"},
		{"actor without bounds", loadFrame(1, &short), "bounds"},
		{"critic widths disagree", loadFrame(1, &wrongIn), "takes 4 inputs"},
		{"unknown activation", loadFrame(1, &tanhy), "unknown activation"},
		{"truncated spec", frame(opLoad, func(e *wireEnc) { e.u32(1); e.str("p"); e.str("actor") }), "needs"},
		{"layer count over limit", frame(opLoad, func(e *wireEnc) {
			e.u32(1)
			e.str("p")
			e.str("critic")
			e.str("relu")
			e.u32(3)
			e.u32(1)
			e.u32(1 << 30)
		}), "over the limit"},
		{"huge layer", frame(opLoad, func(e *wireEnc) {
			e.u32(1)
			e.str("p")
			e.str("critic")
			e.str("relu")
			e.u32(3)
			e.u32(1)
			e.u32(1)
			e.u32(1 << 20)
			e.u32(1 << 20)
		}), "want widths"},
		{"policy on unknown id", frame(opPolicy, func(e *wireEnc) { e.u32(7); e.u32(1); e.floats(obs3) }), "no network loaded with id 7"},
		{"unload unknown id is fine", frame(opUnload, func(e *wireEnc) { e.u32(9) }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := append(append(tc.req, helloFrame()...), frame(opClose, nil)...)
			ops, msgs, err := replies(t, req)
			if err != nil {
				t.Fatalf("Serve = %v, want nil", err)
			}
			if len(ops) != 3 {
				t.Fatalf("%d replies, want 3 (request, hello, close)", len(ops))
			}
			if tc.want == "" {
				if ops[0] == opError {
					t.Errorf("error %q, want success", msgs[0])
				}
			} else if ops[0] != opError || !strings.Contains(msgs[0], tc.want) {
				t.Errorf("reply %v %q, want an error saying %q", ops[0], msgs[0], tc.want)
			}
			if ops[1] != opHello|opReply || ops[2] != opClose|opReply {
				t.Errorf("replies after the bad request: %v, %v; want hello and close replies", ops[1], ops[2])
			}
		})
	}
}

func TestServeWireChecksRowCountsAgainstThePayload(t *testing.T) {
	actor, c1, _ := testShapes[0].nets(1)
	load := append(loadFrame(1, actor), loadFrame(2, c1)...)
	for _, tc := range []struct {
		name string
		req  []byte
		want string
	}{
		{"policy rows beyond payload", frame(opPolicy, func(e *wireEnc) { e.u32(1); e.u32(1 << 30); e.floats(make([]float32, 3)) }), "payload has 12"},
		{"policy zero rows", frame(opPolicy, func(e *wireEnc) { e.u32(1); e.u32(0) }), "0 rows"},
		{"q missing actions", frame(opQ, func(e *wireEnc) { e.u32(2); e.u32(0); e.u32(2); e.floats(make([]float32, 6)) }), "need 32 bytes"},
		{"q on an actor", frame(opQ, func(e *wireEnc) { e.u32(1); e.u32(0); e.u32(1); e.floats(make([]float32, 4)) }), "want [critic]"},
		{"qpolicy without critic", frame(opQPolicy, func(e *wireEnc) { e.u32(1); e.u32(0); e.u32(0); e.u32(1); e.floats(make([]float32, 3)) }), "id 0"},
		{"qpolicy ok", frame(opQPolicy, func(e *wireEnc) { e.u32(1); e.u32(2); e.u32(2); e.u32(1); e.floats(make([]float32, 3)) }), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, msgs, err := replies(t, append(append([]byte(nil), load...), tc.req...))
			if err != nil || len(ops) != 3 {
				t.Fatalf("Serve = %v with %d replies, want nil and 3", err, len(ops))
			}
			if tc.want == "" {
				if ops[2] != opQPolicy|opReply {
					t.Errorf("reply %v %q, want success", ops[2], msgs[2])
				}
			} else if ops[2] != opError || !strings.Contains(msgs[2], tc.want) {
				t.Errorf("reply %v %q, want an error saying %q", ops[2], msgs[2], tc.want)
			}
		})
	}
}

func TestServeWireStopsOnAForeignStream(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		// What gorgonia.org/cu prints when it finds no device, read as a frame.
		{"text", "Error in initialization\n", "not an rleval wire stream"},
		{"truncated header", "\x05\x00", "truncated frame header"},
		{"truncated payload", "\x05\x00\x00\x00\x01\x01", "truncated hello frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, msgs, err := replies(t, []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Serve = %v, want an error saying %q", err, tc.want)
			}
			if len(ops) != 1 || ops[0] != opError || !strings.Contains(msgs[0], tc.want) {
				t.Errorf("replies %v %q, want one error frame", ops, msgs)
			}
		})
	}
}

func TestWireOpNamesReplies(t *testing.T) {
	for op, want := range map[wireOp]string{opPolicy: "policy", opPolicy | opReply: "policy-reply", opError: "error", 0x42: "op(0x42)"} {
		if got := op.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint8(op), got, want)
		}
	}
}

// FuzzServeWire feeds arbitrary request streams to the server: it must
// never panic, and must answer with well-formed frames only.
func FuzzServeWire(f *testing.F) {
	actor, c1, c2 := testShapes[5].nets(1)
	valid := bytes.Join([][]byte{
		helloFrame(), loadFrame(1, actor), loadFrame(2, c1), loadFrame(3, c2),
		frame(opPolicy, func(e *wireEnc) { e.u32(1); e.u32(2); e.floats(make([]float32, 2*actor.ObsDim)) }),
		frame(opQ, func(e *wireEnc) {
			e.u32(2)
			e.u32(3)
			e.u32(1)
			e.floats(make([]float32, actor.ObsDim+actor.ActDim))
		}),
		frame(opQPolicy, func(e *wireEnc) { e.u32(1); e.u32(2); e.u32(0); e.u32(1); e.floats(make([]float32, actor.ObsDim)) }),
		frame(opUnload, func(e *wireEnc) { e.u32(1) }),
		frame(opClose, nil),
	}, nil)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("Error in initialization"))
	f.Fuzz(func(t *testing.T, in []byte) {
		replies(t, in)
	})
}

func TestWireFloatsAreLittleEndianIEEE754(t *testing.T) {
	f := []float32{0, float32(math.Copysign(0, -1)), 1, -2.5, float32(math.Inf(1)), float32(math.NaN()), math.SmallestNonzeroFloat32, math.MaxFloat32}
	var e wireEnc
	e.floats(f)
	for i, v := range f {
		if got, want := binary.LittleEndian.Uint32(e.b[4*i:]), math.Float32bits(v); got != want {
			t.Errorf("float %d encoded as %#08x, want %#08x", i, got, want)
		}
	}
	back := make([]float32, len(f))
	d := &wireDec{b: e.b}
	d.floatsInto(back, "floats")
	if err := d.end(); err != nil {
		t.Fatal(err)
	}
	for i := range f {
		if math.Float32bits(back[i]) != math.Float32bits(f[i]) {
			t.Errorf("float %d decoded as %v, want %v bit for bit", i, back[i], f[i])
		}
	}
}
