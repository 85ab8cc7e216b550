package worker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/nettest"
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
	return repliesOf(t, graph.NewCPU(graph.Options{}), reqs)
}

// repliesOf is replies from a server over b.
func repliesOf(t testing.TB, b graph.Backend, reqs []byte) (ops []wireOp, msgs []string, err error) {
	var out bytes.Buffer
	err = Serve(bytes.NewReader(reqs), &out, b)
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

// lowered returns net's plan, lowered as Remote lowers it.
func lowered(t testing.TB, net *loaders.Network) *graph.Plan {
	t.Helper()
	p, err := lowerForDevice(net)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadFrame(id uint32, net *loaders.Network) []byte {
	p, err := lowerForDevice(net)
	if err != nil {
		panic(err)
	}
	return planFrame(id, p, net.ObsDim, net.ActDim)
}

func planFrame(id uint32, p *graph.Plan, obsDim, actDim int) []byte {
	return frame(opLoad, func(e *wireEnc) { e.u32(id); wireEncodePlan(e, p, obsDim, actDim) })
}

func TestServeWireAnswersBadRequestsWithErrorsAndGoesOn(t *testing.T) {
	actor, critic, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	short := *lowered(t, actor)
	short.Steps = append([]graph.Step(nil), short.Steps...)
	short.Steps[len(short.Steps)-1].Low = nil
	short.Steps[len(short.Steps)-1].Half = nil
	gelu := *lowered(t, critic)
	gelu.Steps = append([]graph.Step(nil), gelu.Steps...)
	gelu.Steps[0].Epilogue = "gelu"
	midHead := *lowered(t, critic)
	midHead.Steps = append([]graph.Step(nil), midHead.Steps...)
	midHead.Steps[0].Epilogue = graph.EpMean
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
		{"actor without bounds", planFrame(1, &short, 3, 1), "with 0 bounds"},
		{"critic widths disagree", planFrame(1, lowered(t, critic), 5, 1), "want 6 to 1"},
		{"unknown epilogue", planFrame(1, &gelu, 3, 1), `epilogue "gelu"`},
		{"head before the last step", planFrame(1, &midHead, 3, 1), "mean head"},
		{"truncated spec", frame(opLoad, func(e *wireEnc) { e.u32(1); e.str("p"); e.str("actor") }), "needs"},
		{"step count over limit", frame(opLoad, func(e *wireEnc) {
			e.u32(1)
			e.str("p")
			e.str("critic")
			for _, v := range []uint32{3, 1, 4, 1, 0, 0, 1 << 30} {
				e.u32(v)
			}
		}), "steps, want 1..64"},
		{"huge layer", frame(opLoad, func(e *wireEnc) {
			e.u32(1)
			e.str("p")
			e.str("critic")
			for _, v := range []uint32{3, 1, 4, 1, 0, 0, 1} {
				e.u32(v)
			}
			e.str("l")
			e.str("gemm")
			e.str("none")
			e.u32(1 << 20)
			e.u32(1 << 20)
		}), "outside 1..65536"},
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
	actor, c1, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	load := append(loadFrame(1, actor), loadFrame(2, c1)...)
	for _, tc := range []struct {
		name string
		req  []byte
		want string
	}{
		{"policy rows beyond payload", frame(opPolicy, func(e *wireEnc) { e.u32(1); e.u32(1 << 30); e.floats(make([]float32, 3)) }), "payload has 12"},
		{"policy zero rows", frame(opPolicy, func(e *wireEnc) { e.u32(1); e.u32(0) }), "0 rows"},
		{"q missing actions", frame(opQ, func(e *wireEnc) { e.u32(2); e.u32(0); e.u32(2); e.floats(make([]float32, 6)) }), "need 32 bytes"},
		{"q on an actor", frame(opQ, func(e *wireEnc) { e.u32(1); e.u32(0); e.u32(1); e.floats(make([]float32, 4)) }), "want [critic quantile_critic]"},
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
	actor, c1, c2 := nettest.Shapes[5].Nets(graph.RandomNetwork, 1)
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

// failingForget is the CPU backend with a Forget that fails.
type failingForget struct{ *graph.CPU }

func (failingForget) Forget(*loaders.Network) error { return errors.New("device busy") }

// TestServeWireRelaysForgetErrors: an unload whose graph.Forgetter fails
// is answered with its error, and the server goes on.
func TestServeWireRelaysForgetErrors(t *testing.T) {
	actor, _, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	req := append(loadFrame(1, actor), frame(opUnload, func(e *wireEnc) { e.u32(1) })...)
	req = append(append(req, helloFrame()...), frame(opClose, nil)...)
	var out bytes.Buffer
	if err := Serve(bytes.NewReader(req), &out, failingForget{graph.NewCPU(graph.Options{})}); err != nil {
		t.Fatal(err)
	}
	var ops []wireOp
	var msg string
	for out.Len() > 0 {
		op, p, _, err := wireReadFrame(&out, nil)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
		if op == opError {
			msg = (&wireDec{b: p}).str("message")
		}
	}
	if len(ops) != 4 || ops[0] != opLoad|opReply || ops[1] != opError || !strings.Contains(msg, "unload 1: device busy") || ops[3] != opClose|opReply {
		t.Fatalf("replies %v, error %q; want load, an unload error naming the device's, hello, close", ops, msg)
	}
}
