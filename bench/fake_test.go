package bench

import (
	"fmt"
	"sync"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/worker"
)

// fakeBackend evaluates networks with nettest.Ref64, the tests' plain
// float64 loop: slow, simple, and enough to give Run real work to time
// without depending on graph's CPU plan.
type fakeBackend struct {
	name           string
	chunk, workers int // 0: no Preferences
	mu             sync.Mutex
	calls          map[int]int // rows per call → calls
	fail           error
}

func (f *fakeBackend) Name() string { return f.name }
func (f *fakeBackend) Close() error { return nil }

func (f *fakeBackend) count(n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[int]int{}
	}
	f.calls[n]++
	return f.fail
}

func (f *fakeBackend) Policy(actor *loaders.Network, obs []float32, n int, act []float32) error {
	if err := f.count(n); err != nil {
		return err
	}
	od, ad := actor.ObsDim, actor.ActDim
	for r := 0; r < n; r++ {
		for j, a := range nettest.Ref64(actor, obs[r*od:(r+1)*od]) {
			act[r*ad+j] = float32(a)
		}
	}
	return nil
}

func (f *fakeBackend) Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	if err := f.count(n); err != nil {
		return err
	}
	od, ad := c1.ObsDim, c1.ActDim
	x := make([]float32, od+ad)
	for r := 0; r < n; r++ {
		copy(x, obs[r*od:(r+1)*od])
		copy(x[od:], act[r*ad:(r+1)*ad])
		q1[r] = float32(nettest.Ref64(c1, x)[0])
		if c2 != nil {
			q2[r] = float32(nettest.Ref64(c2, x)[0])
		}
	}
	return nil
}

func (f *fakeBackend) QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	if err := f.Policy(actor, obs, n, act); err != nil {
		return err
	}
	return f.Q(c1, c2, obs, act, n, q1, q2)
}

// prefBackend adds graph.Preferences.
type prefBackend struct{ *fakeBackend }

func (p prefBackend) Preferred() (int, int) { return p.chunk, p.workers }

// gpuBackend adds TransferStats and graph.DeviceInfoer, charging fixed times per
// call as a GPU worker would report them.
type gpuBackend struct {
	*fakeBackend
	smu   sync.Mutex
	stats worker.Stats
}

func (g *gpuBackend) charge() {
	g.smu.Lock()
	defer g.smu.Unlock()
	g.stats.Requests++
	g.stats.HostToDevice += 3 * time.Microsecond
	g.stats.Compute += 5 * time.Microsecond
	g.stats.DeviceToHost += 2 * time.Microsecond
}

func (g *gpuBackend) Stats() worker.Stats {
	g.smu.Lock()
	defer g.smu.Unlock()
	return g.stats
}

func (g *gpuBackend) DeviceInfo() graph.DeviceInfo {
	return graph.DeviceInfo{Name: "Fake GPU 80GB", TotalMem: 80 << 30, FreeMem: 79 << 30, ComputeCapability: 90}
}

func (g *gpuBackend) Policy(actor *loaders.Network, obs []float32, n int, act []float32) error {
	g.charge()
	return g.fakeBackend.Policy(actor, obs, n, act)
}

func (g *gpuBackend) Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	g.charge()
	return g.fakeBackend.Q(c1, c2, obs, act, n, q1, q2)
}

func (g *gpuBackend) QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	g.charge()
	if err := g.fakeBackend.Policy(actor, obs, n, act); err != nil {
		return err
	}
	return g.fakeBackend.Q(c1, c2, obs, act, n, q1, q2)
}

// openFake opens "cpu" as a fake with Preferences (chunk 16, 2 workers) and
// "cuda" as a fake GPU.
func openFake(device string) (graph.Backend, error) {
	switch device {
	case "cpu":
		return prefBackend{&fakeBackend{name: "cpu (fake, 2 workers)", chunk: 16, workers: 2}}, nil
	case "cuda":
		return &gpuBackend{fakeBackend: &fakeBackend{name: "cuda: Fake GPU 80GB"}}, nil
	}
	return nil, fmt.Errorf("no device %q", device)
}

// tinyConfig is a Config that runs in milliseconds.
func tinyConfig() Config {
	return Config{
		Devices:     []string{"cpu", "cuda"},
		Open:        openFake,
		Nets:        SyntheticNets(3, 1, []int{8, 8}, 1),
		Source:      "synthetic, seed 1",
		Batches:     []int{1, 7, 64},
		Rows:        64,
		Threads:     2,
		MinReps:     1,
		MinTime:     time.Millisecond,
		MaxTime:     50 * time.Millisecond,
		Warmup:      time.Microsecond,
		CeilingTime: time.Millisecond,
	}
}

// smallCeiling shrinks the sgemm the ceiling measures for the test's time.
func smallCeiling() func() {
	old := ceilingShape
	ceilingShape = [3]int{64, 32, 32}
	return func() { ceilingShape = old }
}
