package worker

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// buildCUDAWorker is set by remote_cuda_test.go under -tags rlcuda.
var buildCUDAWorker bool

var cudaWorker struct {
	once sync.Once
	path string
	err  error
}

// cudaRemote starts the real CUDA worker or skips the test: it needs
// $RLEVAL_CUDA_WORKER (or -tags rlcuda to build one) and a GPU.
func cudaRemote(t testing.TB, opts Options) *Remote {
	t.Helper()
	cudaWorker.once.Do(func() {
		if p := os.Getenv(PathEnv); p != "" {
			cudaWorker.path = p
			return
		}
		if !buildCUDAWorker {
			cudaWorker.err = fmt.Errorf("set $%s or test with -tags rlcuda", PathEnv)
			return
		}
		// A fixed path, rebuilt each run, so runs leave one binary behind.
		dir := filepath.Join(os.TempDir(), "rleval-cuda-test")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			cudaWorker.err = err
			return
		}
		cudaWorker.path = filepath.Join(dir, BinaryName)
		out, err := exec.Command("go", "build", "-tags", "rlcuda", "-o", cudaWorker.path, "github.com/rleval/rleval/cmd/rleval-cuda").CombinedOutput()
		if err != nil {
			cudaWorker.err = fmt.Errorf("build the worker: %v: %s", err, out)
		}
	})
	if cudaWorker.err != nil {
		t.Skipf("no CUDA worker: %v", cudaWorker.err)
	}
	rem, err := NewRemote(cudaWorker.path, opts)
	if errors.Is(err, graph.ErrNoCUDA) {
		t.Skipf("no GPU: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rem.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return rem
}

func TestCUDAWorkerMatchesFloat64ReferenceAndCPU(t *testing.T) {
	rem := cudaRemote(t, Options{})
	t.Logf("%s, %d MiB, compute capability %d, driver %d", rem.Name(), rem.DeviceInfo().TotalMem>>20,
		rem.DeviceInfo().ComputeCapability, rem.DeviceInfo().DriverVersion)
	for i, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			actor, c1, c2 := s.Nets(graph.RandomNetwork, uint64(200+i))
			n := 1000
			obs := nettest.RandomRows(n, s.ObsDim, 3, uint64(i))
			act := nettest.RandomRows(n, s.ActDim, 2, uint64(i+50))
			got := evalAll(t, rem, actor, c1, c2, obs, act, n)
			od, ad := s.ObsDim, s.ActDim
			want := map[string][]float64{}
			for r := range n {
				o := obs[r*od : (r+1)*od]
				want["policy"] = append(want["policy"], nettest.Ref64(actor, o)...)
				x := append(append([]float32(nil), o...), act[r*ad:(r+1)*ad]...)
				want["q1"] = append(want["q1"], nettest.Ref64(c1, x)...)
				want["q2"] = append(want["q2"], nettest.Ref64(c2, x)...)
				// QPolicy's critics see the GPU's own actions.
				xp := append(append([]float32(nil), o...), got["qp.act"][r*ad:(r+1)*ad]...)
				want["qp.q1"] = append(want["qp.q1"], nettest.Ref64(c1, xp)...)
				want["qp.q2"] = append(want["qp.q2"], nettest.Ref64(c2, xp)...)
			}
			want["q1only"] = want["q1"]
			want["qp.act"] = want["policy"]
			for k, w := range want {
				nettest.CheckClose(t, k, got[k], w)
			}
			cpu := evalAll(t, graph.NewCPU(graph.Options{}), actor, c1, c2, obs, act, n)
			for _, k := range []string{"policy", "q1", "q2"} {
				w := make([]float64, len(cpu[k]))
				for j, v := range cpu[k] {
					w[j] = float64(v)
				}
				nettest.CheckClose(t, k+" vs cpu", got[k], w)
			}
		})
	}
}

func TestCUDAWorkerSplitsLargeRequests(t *testing.T) {
	rem := cudaRemote(t, Options{MaxChunkRows: 100_000})
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(graph.RandomNetwork, 7)
	n := 250_001
	obs := nettest.RandomRows(n, s.ObsDim, 3, 1)
	act, q1, q2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
	if err := rem.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
		t.Fatal(err)
	}
	wact, wq1, wq2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
	if err := graph.NewCPU(graph.Options{}).QPolicy(actor, c1, c2, obs, n, wact, wq1, wq2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []float32
	}{{"act", act, wact}, {"q1", q1, wq1}, {"q2", q2, wq2}} {
		w := make([]float64, len(c.want))
		for j, v := range c.want {
			w[j] = float64(v)
		}
		nettest.CheckClose(t, c.name, c.got, w)
	}
	if st := rem.Stats(); st.Requests != 3 {
		t.Errorf("%d requests, want 3 chunks", st.Requests)
	}
}

func BenchmarkCUDAWorkerQPolicy(b *testing.B) {
	s := nettest.Shapes[0]
	actor, c1, c2 := s.Nets(graph.RandomNetwork, 1)
	for _, n := range []int{1024, 65536, 1 << 20} {
		b.Run(fmt.Sprintf("rows%d", n), func(b *testing.B) {
			rem := cudaRemote(b, Options{})
			obs := nettest.RandomRows(n, s.ObsDim, 2, 1)
			act, q1, q2 := make([]float32, n*s.ActDim), make([]float32, n), make([]float32, n)
			if err := rem.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
				b.Fatal(err)
			}
			before := rem.Stats()
			b.ResetTimer()
			for b.Loop() {
				if err := rem.QPolicy(actor, c1, c2, obs, n, act, q1, q2); err != nil {
					b.Fatal(err)
				}
			}
			st := rem.Stats()
			req := float64(st.Requests - before.Requests)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(st.HostToDevice-before.HostToDevice)/req/1e3, "h2d-µs/req")
			b.ReportMetric(float64(st.Compute-before.Compute)/req/1e3, "compute-µs/req")
			b.ReportMetric(float64(st.DeviceToHost-before.DeviceToHost)/req/1e3, "d2h-µs/req")
		})
	}
}

// TestCUDAWorkerStackedMatchesCPU checks the strided-batched stack on the
// GPU against the CPU plan, network by network.
func TestCUDAWorkerStackedMatchesCPU(t *testing.T) {
	rem := cudaRemote(t, Options{})
	for i, s := range nettest.Shapes {
		t.Run(s.Name, func(t *testing.T) {
			const k, n = 6, 777
			var actors, c1, c2 []*loaders.Network
			for j := range k {
				a, q1, q2 := s.Nets(graph.RandomNetwork, uint64(500+10*i+j))
				actors, c1, c2 = append(actors, a), append(c1, q1), append(c2, q2)
			}
			od, ad := s.ObsDim, s.ActDim
			obs := nettest.RandomRows(k*n, od, 3, uint64(i))
			act, q1, q2 := make([]float32, k*n*ad), make([]float32, k*n), make([]float32, k*n)
			if err := rem.StackedQPolicy(actors, c1, c2, obs, n, act, q1, q2); err != nil {
				t.Fatal(err)
			}
			cpu := graph.NewCPU(graph.Options{})
			wa, w1, w2 := make([]float32, k*n*ad), make([]float32, k*n), make([]float32, k*n)
			if err := cpu.StackedQPolicy(actors, c1, c2, obs, n, wa, w1, w2); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name      string
				got, want []float32
			}{{"act", act, wa}, {"q1", q1, w1}, {"q2", q2, w2}} {
				w := make([]float64, len(c.want))
				for j, v := range c.want {
					w[j] = float64(v)
				}
				nettest.CheckClose(t, c.name, c.got, w)
			}
		})
	}
}
