package worker

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// pipeRemote starts Serve over b on an in-process pipe and returns a
// Remote talking to it; cleanup closes both and checks the server's error.
func pipeRemote(t testing.TB, b graph.Backend, opts Options) *Remote {
	t.Helper()
	reqR, reqW := io.Pipe()
	repR, repW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(reqR, repW, b)
		repW.CloseWithError(errors.New("server stopped"))
		reqR.Close()
		done <- err
	}()
	rem, err := Dial(repR, reqW, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		if err := rem.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return rem
}

// sameBits fails unless got and want are bit-for-bit equal (see mismatch).
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	if i := mismatch(got, want); i >= 0 {
		t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
	}
}

// mismatch returns the first index where got differs from want, or -1. It
// compares bit for bit, except in a build whose CPU results move with the
// chunking (graph.BitReproducible false: OpenBLAS), where the worker's
// chunks differ from the direct call's: there it holds ANALYSES.md's
// tolerance.
func mismatch(got, want []float32) int {
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if graph.BitReproducible && math.Float32bits(got[i]) != math.Float32bits(want[i]) ||
			math.Abs(g-w) > 1e-5*scale+1e-4*math.Abs(w) {
			return i
		}
	}
	return -1
}

// evalAll runs Policy, Q with one and two critics and QPolicy on b.
func evalAll(t *testing.T, b graph.Backend, actor, c1, c2 *loaders.Network, obs, act []float32, n int) map[string][]float32 {
	t.Helper()
	ad := actor.ActDim
	out := map[string][]float32{
		"policy": make([]float32, n*ad), "q1": make([]float32, n), "q2": make([]float32, n),
		"q1only": make([]float32, n), "qp.act": make([]float32, n*ad), "qp.q1": make([]float32, n), "qp.q2": make([]float32, n),
	}
	if err := b.Policy(actor, obs, n, out["policy"]); err != nil {
		t.Fatalf("%s Policy: %v", b.Name(), err)
	}
	if err := b.Q(c1, c2, obs, act, n, out["q1"], out["q2"]); err != nil {
		t.Fatalf("%s Q: %v", b.Name(), err)
	}
	if err := b.Q(c1, nil, obs, act, n, out["q1only"], nil); err != nil {
		t.Fatalf("%s Q one critic: %v", b.Name(), err)
	}
	if err := b.QPolicy(actor, c1, c2, obs, n, out["qp.act"], out["qp.q1"], out["qp.q2"]); err != nil {
		t.Fatalf("%s QPolicy: %v", b.Name(), err)
	}
	return out
}

func TestRemoteOverPipeMatchesItsBackendBitForBit(t *testing.T) {
	for _, chunk := range []int{0, 1, 37} {
		for i, s := range nettest.Shapes {
			t.Run(fmt.Sprintf("%s/chunk%d", s.Name, chunk), func(t *testing.T) {
				actor, c1, c2 := s.Nets(graph.RandomNetwork, uint64(100+i))
				n := 301
				obs := nettest.RandomRows(n, s.ObsDim, 3, uint64(i))
				act := nettest.RandomRows(n, s.ActDim, 2, uint64(i+50))
				cpu := graph.NewCPU(graph.Options{})
				want := evalAll(t, cpu, actor, c1, c2, obs, act, n)
				rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{MaxChunkRows: chunk})
				got := evalAll(t, rem, actor, c1, c2, obs, act, n)
				for k := range want {
					sameBits(t, k, got[k], want[k])
				}
				st := rem.Stats()
				if st.Loads != 3 {
					t.Errorf("uploaded %d networks, want 3 (each once)", st.Loads)
				}
				if chunk > 0 {
					if wantReq := int64(4 * ((n + chunk - 1) / chunk)); st.Requests != wantReq {
						t.Errorf("%d requests, want %d chunks of %d rows", st.Requests, wantReq, chunk)
					}
				}
				if st.Rows != int64(4*n) {
					t.Errorf("%d rows sent, want %d", st.Rows, 4*n)
				}
			})
		}
	}
}

func TestRemoteReuploadsANetworkOnlyAfterForget(t *testing.T) {
	actor, _, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	obs := nettest.RandomRows(8, actor.ObsDim, 1, 2)
	act := make([]float32, 8*actor.ActDim)
	for range 3 {
		if err := rem.Policy(actor, obs, 8, act); err != nil {
			t.Fatal(err)
		}
	}
	if got := rem.Stats().Loads; got != 1 {
		t.Fatalf("%d uploads after 3 calls, want 1", got)
	}
	if err := rem.Forget(actor); err != nil {
		t.Fatal(err)
	}
	if err := rem.Policy(actor, obs, 8, act); err != nil {
		t.Fatal(err)
	}
	if got := rem.Stats().Loads; got != 2 {
		t.Fatalf("%d uploads after Forget and a call, want 2", got)
	}
}

func TestRemoteServesConcurrentCallersTheirOwnRows(t *testing.T) {
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(graph.RandomNetwork, 9)
	cpu := graph.NewCPU(graph.Options{})
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{MaxChunkRows: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 100 + 13*g
			obs := nettest.RandomRows(n, s.ObsDim, 2, uint64(g))
			act, q1, q2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
			wact, wq1, wq2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
			for range 5 {
				if err := rem.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
					t.Error(err)
					return
				}
			}
			if err := cpu.QPolicy(actor, c1, c2, obs, n, wact, wq1, wq2); err != nil {
				t.Error(err)
				return
			}
			if i := max(mismatch(q1, wq1), mismatch(q2, wq2)); i >= 0 {
				t.Errorf("caller %d row %d: q = %v,%v, want %v,%v", g, i, q1[i], q2[i], wq1[i], wq2[i])
			}
		}()
	}
	wg.Wait()
	if got := rem.Stats().Loads; got != 3 {
		t.Errorf("%d uploads from 8 concurrent callers, want 3", got)
	}
}

func TestRemoteReturnsWorkerErrorsAndStaysUsable(t *testing.T) {
	actor, c1, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 3)
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	obs := nettest.RandomRows(4, actor.ObsDim, 1, 1)
	act := make([]float32, 4*actor.ActDim)
	q := make([]float32, 4)

	// A critic where an actor is expected is caught by the worker.
	if err := rem.Policy(c1, nettest.RandomRows(4, c1.ObsDim, 1, 1), 4, act); err == nil || !strings.Contains(err.Error(), "want [actor sac_actor]") {
		t.Errorf("Policy(critic) = %v, want a kind error from the worker", err)
	}
	// A network whose weights disagree with its widths is refused before upload.
	bad := *actor
	bad.Layers = append([]loaders.Linear(nil), actor.Layers...)
	bad.Layers[0].W = bad.Layers[0].W[:3]
	if err := rem.Policy(&bad, obs, 4, act); err == nil || !strings.Contains(err.Error(), "weight has 3 values") {
		t.Errorf("Policy(bad weights) = %v, want a weight-count error", err)
	}
	// Short output buffers are refused before anything is sent.
	if err := rem.Q(c1, nil, obs, act, 4, q[:2], nil); err == nil || !strings.Contains(err.Error(), "q1 has 2 values") {
		t.Errorf("Q(short q1) = %v, want a length error", err)
	}
	// A second critic without q2 is refused; q2 without a second critic
	// is left alone, as the CPU backend does.
	if err := rem.Q(c1, c1, obs, act, 4, q, nil); err == nil || !strings.Contains(err.Error(), "q2 has 0 values") {
		t.Errorf("Q(c2, nil q2) = %v, want a length error", err)
	}
	q2 := []float32{7, 7, 7, 7}
	if err := rem.Q(c1, nil, obs, act, 4, q, q2); err != nil || q2[0] != 7 {
		t.Errorf("Q(nil c2, q2) = %v with q2 %v, want success and q2 untouched", err, q2)
	}
	if err := rem.Policy(actor, obs, 4, act); err != nil {
		t.Errorf("Policy after errors: %v", err)
	}
}

func TestRemoteAfterCloseReturnsAnError(t *testing.T) {
	reqR, reqW := io.Pipe()
	repR, repW := io.Pipe()
	go func() { Serve(reqR, repW, graph.NewCPU(graph.Options{})); repW.Close() }()
	rem, err := Dial(repR, reqW, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rem.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rem.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	actor, _, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	if err := rem.Policy(actor, make([]float32, 3), 1, make([]float32, 1)); err == nil {
		t.Error("Policy after Close succeeded")
	}
}

func TestRemoteHelloTimesOut(t *testing.T) {
	r, _ := io.Pipe() // nobody ever answers
	_, w := io.Pipe()
	start := time.Now()
	_, err := Dial(r, w, Options{HelloTimeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no hello reply") {
		t.Fatalf("Dial to a silent server = %v, want a hello timeout", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("the timeout did not bound the handshake")
	}
}

// TestMain runs this test binary as the fake worker process that the
// NewRemote tests start when RLEVAL_TEST_WORKER names the behaviour wanted
// (as os/exec's tests dispatch their helper processes), and runs the tests
// otherwise.
func TestMain(m *testing.M) {
	if mode := os.Getenv("RLEVAL_TEST_WORKER"); mode != "" {
		os.Exit(helperWorkerMain(mode))
	}
	os.Exit(m.Run())
}

// helperWorkerMain is the fake worker: it serves, or fails, as mode says,
// and returns the process's exit status.
func helperWorkerMain(mode string) int {
	switch mode {
	case "serve":
		if err := Serve(os.Stdin, os.Stdout, graph.NewCPU(graph.Options{})); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		return 0
	case "null":
		if err := Serve(os.Stdin, os.Stdout, nullBackend{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		return 0
	case "nodevice":
		// What gorgonia.org/cu prints, to stdout, before exiting.
		fmt.Printf("Error in initialization, please refer to %q for details on: NoDevice\n", "https://docs.nvidia.com/cuda/cuda-driver-api/group__CUDA__INITIALIZE.html")
		return 1
	case "silent":
		time.Sleep(time.Minute)
		return 0
	case "dies-after-hello":
		// Answer hello, then crash on the first real request.
		var buf []byte
		for {
			op, _, nbuf, err := wireReadFrame(os.Stdin, buf)
			buf = nbuf
			if err != nil {
				return 0
			}
			if op != opHello {
				fmt.Fprintln(os.Stderr, "CUDA_ERROR_ILLEGAL_ADDRESS")
				return 3
			}
			var e wireEnc
			e.u32(Version)
			e.str("fake")
			e.u64(0)
			e.u64(0)
			e.u32(0)
			e.u32(0)
			wireWriteFrame(os.Stdout, opHello|opReply, e.b)
		}
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 9
}

// helperWorker returns a script that runs this test binary as a fake
// worker in the given mode.
func helperWorker(t testing.TB, mode string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("no test executable: %v", err)
	}
	p := filepath.Join(t.TempDir(), BinaryName)
	script := fmt.Sprintf("#!/bin/sh\nRLEVAL_TEST_WORKER=%s exec %q\n", mode, exe)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatalf("no sh to run the helper worker: %v", err)
	}
	return p
}

func TestNewRemoteServesThroughAWorkerProcess(t *testing.T) {
	s := nettest.Shapes[1]
	actor, c1, c2 := s.Nets(graph.RandomNetwork, 4)
	rem, err := NewRemote(helperWorker(t, "serve"), Options{MaxChunkRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	n := 200
	obs := nettest.RandomRows(n, s.ObsDim, 2, 5)
	act := nettest.RandomRows(n, s.ActDim, 1, 6)
	got := evalAll(t, rem, actor, c1, c2, obs, act, n)
	want := evalAll(t, graph.NewCPU(graph.Options{}), actor, c1, c2, obs, act, n)
	for k := range want {
		sameBits(t, k, got[k], want[k])
	}
	if err := rem.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestNewRemoteReportsMissingDeviceAsErrNoCUDA(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
	}{
		{"nodevice", "exited: exit status 1"},
		{"silent", "no hello reply within"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			_, err := NewRemote(helperWorker(t, tc.mode), Options{HelloTimeout: time.Second})
			if !errors.Is(err, graph.ErrNoCUDA) {
				t.Fatalf("NewRemote = %v, want graph.ErrNoCUDA", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.mode == "nodevice" && !strings.Contains(err.Error(), "NoDevice") {
				t.Errorf("error %q lost the worker's own message", err)
			}
		})
	}
}

func TestRemoteReportsAWorkerThatDiesMidSession(t *testing.T) {
	actor, _, _ := nettest.Shapes[0].Nets(graph.RandomNetwork, 1)
	rem, err := NewRemote(helperWorker(t, "dies-after-hello"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rem.Close()
	obs, act := make([]float32, 3), make([]float32, 1)
	err = rem.Policy(actor, obs, 1, act)
	if !errors.Is(err, graph.ErrNoCUDA) || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "ILLEGAL_ADDRESS") {
		t.Fatalf("Policy on a dead worker = %v, want graph.ErrNoCUDA with its exit status and stderr", err)
	}
	if err2 := rem.Policy(actor, obs, 1, act); err2 == nil {
		t.Error("second call on a dead worker succeeded")
	}
}

func TestFindWorkerPrefersTheEnvironment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "my-worker")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(PathEnv, p)
	if got, err := Find(); err != nil || got != p {
		t.Errorf("Find = %q, %v; want %q", got, err, p)
	}
	t.Setenv(PathEnv, p+".missing")
	if _, err := Find(); !errors.Is(err, graph.ErrNoCUDA) {
		t.Errorf("Find with a missing $%s = %v, want graph.ErrNoCUDA", PathEnv, err)
	}
	t.Setenv(PathEnv, "")
	t.Setenv("PATH", t.TempDir())
	if _, err := Find(); !errors.Is(err, graph.ErrNoCUDA) || !strings.Contains(err.Error(), "make cuda") {
		t.Errorf("Find with no worker anywhere = %v, want graph.ErrNoCUDA saying how to build it", err)
	}
}

// nullBackend answers every request with zeros at no cost, so a benchmark
// over it measures the protocol alone: encoding, the pipe and decoding,
// which bound what a GPU worker can deliver.
type nullBackend struct{}

func (nullBackend) Name() string                                             { return "null" }
func (nullBackend) Close() error                                             { return nil }
func (nullBackend) Policy(*loaders.Network, []float32, int, []float32) error { return nil }
func (nullBackend) Q(_, _ *loaders.Network, _, _ []float32, _ int, _, _ []float32) error {
	return nil
}
func (nullBackend) QPolicy(_, _, _ *loaders.Network, _ []float32, _ int, _, _, _ []float32) error {
	return nil
}

// Adopt takes any plan, as the worker's device does: it evaluates nothing.
func (nullBackend) Adopt(*loaders.Network, *graph.Plan) error { return nil }

// loopQPolicy times QPolicy of n random rows of shape s through rem and
// reports rows/s and the MB/s crossing the protocol.
func loopQPolicy(b *testing.B, rem *Remote, s nettest.Shape, actor, c1, c2 *loaders.Network, n int) {
	obs := nettest.RandomRows(n, s.ObsDim, 2, 1)
	act, q1, q2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
	for b.Loop() {
		if err := rem.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(n*(s.ObsDim+s.ActDim+2)*4)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func BenchmarkWireQPolicyProtocolOnly(b *testing.B) {
	for _, s := range []nettest.Shape{nettest.Shapes[0], nettest.Shapes[4]} {
		actor, c1, c2 := s.Nets(graph.RandomNetwork, 1)
		n := PreferredChunk
		b.Run(fmt.Sprintf("obs%d", s.ObsDim), func(b *testing.B) {
			loopQPolicy(b, pipeRemote(b, nullBackend{}, Options{}), s, actor, c1, c2, n)
		})
	}
}

// BenchmarkWorkerProcessProtocolOnly measures the protocol between two
// processes over OS pipes, the ceiling on what the CUDA worker can deliver
// however fast the GPU.
func BenchmarkWorkerProcessProtocolOnly(b *testing.B) {
	for _, s := range []nettest.Shape{nettest.Shapes[0], nettest.Shapes[4]} {
		actor, c1, c2 := s.Nets(graph.RandomNetwork, 1)
		n := PreferredChunk
		b.Run(fmt.Sprintf("obs%d", s.ObsDim), func(b *testing.B) {
			rem, err := NewRemote(helperWorker(b, "null"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer rem.Close()
			loopQPolicy(b, rem, s, actor, c1, c2, n)
		})
	}
}

func BenchmarkRemotePipeQPolicy(b *testing.B) {
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(graph.RandomNetwork, 1)
	for _, n := range []int{1024, 65536} {
		b.Run(fmt.Sprintf("rows%d", n), func(b *testing.B) {
			rem := pipeRemote(b, graph.NewCPU(graph.Options{}), Options{})
			obs := nettest.RandomRows(n, s.ObsDim, 2, 1)
			act, q1, q2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
			b.ResetTimer()
			for b.Loop() {
				if err := rem.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
					b.Fatal(err)
				}
			}
			st := rem.Stats()
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(st.RoundTrip-st.Compute)/float64(st.Requests)/1e3, "wire-µs/req")
		})
	}
}
