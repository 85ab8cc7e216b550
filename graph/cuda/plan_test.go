//go:build !rlcuda

// Without the rlcuda tag this test binary links no CUDA code (see
// kernels_host_test.go), so the host-side parts of the plan evaluation
// are tested anywhere.

package cuda

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

func lower(t *testing.T, net *loaders.Network) *graph.Plan {
	t.Helper()
	p, err := graph.Lower(net)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTorchLayoutIsTheTransposedPlanWeight checks that the weights the
// device multiplies as x·Wᵀ (layerGemm) give the plan's x·W.
func TestTorchLayoutIsTheTransposedPlanWeight(t *testing.T) {
	net := graph.RandomNetwork(loaders.KindSACActor, []int{3, 5, 4}, 3, 2, 1)
	p := lower(t, net)
	for i := range p.Steps {
		s := &p.Steps[i]
		wt := torchLayout(s)
		x := make([]float32, s.In)
		for k := range x {
			x[k] = float32(k) - 1.5
		}
		for o := 0; o < s.Out; o++ {
			var plan, dev float32
			for k := 0; k < s.In; k++ {
				plan += x[k] * s.W[k*s.Out+o]
				dev += x[k] * wt[o*s.In+k]
			}
			if plan != dev {
				t.Errorf("step %d output %d: x·W = %v, x·Wᵀ of the device layout = %v", i, o, plan, dev)
			}
		}
	}
	// The SAC head's step holds the mean half only: its weights are the
	// first ActDim rows of torch's last layer.
	last := &p.Steps[len(p.Steps)-1]
	l := net.Layers[len(net.Layers)-1]
	wt := torchLayout(last)
	for i, v := range wt {
		if v != l.W[i] {
			t.Fatalf("SAC mean head weight %d = %v, torch's = %v", i, v, l.W[i])
		}
	}
}

// TestStackableNeedsEqualEpiloguesAndNorms checks which plans the device
// stacks: a sweep's (other weights, same architecture, bounds, epilogue
// parameters and normalisation) do; others run one at a time.
func TestStackableNeedsEqualEpiloguesAndNorms(t *testing.T) {
	norm := func(m float32) *loaders.InputNorm {
		return &loaders.InputNorm{Mean: []float32{m, 0, 0}, Std: []float32{1, 2, 3}, Clip: 5}
	}
	mk := func(seed uint64, tweak func(*loaders.Network)) *graph.Plan {
		n := graph.RandomNetwork(loaders.KindActor, []int{3, 8, 1}, 3, 1, seed)
		n.InputNorm, n.Hidden = norm(0), loaders.LeakyReLU
		if tweak != nil {
			tweak(n)
		}
		return lower(t, n)
	}
	base := mk(1, nil)
	for _, c := range []struct {
		name  string
		other *graph.Plan
		ok    bool
	}{
		{"other weights", mk(2, nil), true},
		{"other norm", mk(3, func(n *loaders.Network) { n.InputNorm = norm(1) }), false},
		{"no norm", mk(4, func(n *loaders.Network) { n.InputNorm = nil }), false},
		{"other activation", mk(5, func(n *loaders.Network) { n.Hidden = loaders.ELU }), false},
		{"mean clamp", mk(6, func(n *loaders.Network) { n.MeanClip = 1 }), false},
		{"other bounds", mk(7, func(n *loaders.Network) { n.High = []float32{3} }), false},
	} {
		err := stackable([]*graph.Plan{base, c.other})
		if (err == nil) != c.ok {
			t.Errorf("%s: stackable = %v, want stackable %v", c.name, err, c.ok)
		}
	}
}

// The kernels of kernels.cu as Go loops in float32, to run planProgram on
// the host (their own arithmetic is checked by the host build of
// kernels.cu, TestKernelsIndexCorrectlyOnTheHost).

// hostGemm is one (strided-batched) column-major sgemm as gemmArgs say.
func hostGemm(g gemmArgs, a, b, c []float32) {
	for z := range max(g.batch, 1) {
		for i := range g.m {
			for j := range g.n {
				var s float32
				for l := range g.k {
					ai, bi := z*g.strideA+i+l*g.lda, z*g.strideB+l+j*g.ldb
					if g.tA == blas.Trans {
						ai = z*g.strideA + l + i*g.lda
					}
					if g.tB == blas.Trans {
						bi = z*g.strideB + j + l*g.ldb
					}
					av, bv := a[ai], b[bi]
					s += av * bv
				}
				c[z*g.strideC+i+j*g.ldc] = s
			}
		}
	}
}

func hostAct(v float32, act int64, alpha float32) float32 {
	switch act {
	case actReLU:
		return max(v, 0)
	case actTanh:
		return float32(math.Tanh(float64(v)))
	case actELU:
		if v > 0 {
			return v
		}
		return float32(math.Expm1(float64(v)))
	case actSiLU:
		return v / (1 + float32(math.Exp(-float64(v))))
	case actLeaky:
		if v < 0 {
			return v * alpha
		}
	}
	return v
}

// hostForward runs planProgram for k plans that stack on n×k interleaved
// rows of x, as Device.forward does, and returns the n×k interleaved outputs.
func hostForward(t *testing.T, plans []*graph.Plan, x []float32, n int) []float32 {
	t.Helper()
	p, k := plans[0], len(plans)
	rows := n * k
	prog, err := planProgram(p)
	if err != nil {
		t.Fatal(err)
	}
	ws, bs := stackParams(plans)
	mw := maxWidth(p)
	buf := map[slot][]float32{slotX: x, slotXN: make([]float32, rows*p.In),
		slotH0: make([]float32, rows*mw), slotH1: make([]float32, rows*mw), slotOut: make([]float32, rows*p.Out),
		slotCat: make([]float32, rows*catWidth(p))}
	zero := make([]float32, mw)
	for _, op := range prog {
		src, dst := buf[op.src], buf[op.dst]
		if op.kind == kNorm {
			nm := p.Norm
			for i := range rows * p.In {
				v, j := src[i], i%p.In
				if j < nm.Cols {
					v = min(max((v-nm.Mean[j])/nm.Std[j], -nm.Clip), nm.Clip)
				}
				dst[i] = v
			}
			continue
		}
		s := &p.Steps[op.step]
		switch op.kind {
		case kCat: // the concat kernel over every interleaved row
			ca, x := s.In-(s.XTo-s.XFrom), buf[op.x]
			for r := range rows {
				copy(dst[r*(ca+p.In):], src[r*ca:(r+1)*ca])
				copy(dst[r*(ca+p.In)+ca:], x[r*p.In:(r+1)*p.In])
			}
		case kGemm:
			hostGemm(stackGemm(devIn(p, op.step), s.Out, n, k), ws[op.step], src, dst)
		case kBiasAct:
			cols := k * s.Out
			for i := range rows * s.Out {
				dst[i] = hostAct(dst[i]+bs[op.step][i%cols], op.act, s.Alpha)
			}
		case kHead:
			ad := len(s.Low)
			for i := range rows * ad {
				r, j := i/ad, i%ad
				v := src[r*s.Out+j] + zero[j]
				if s.Clip > 0 {
					v = min(max(v, -s.Clip), s.Clip)
				}
				dst[i] = s.Low[j] + (float32(math.Tanh(float64(v)))+1)*s.Half[j]
			}
		case kExpClamp:
			for i := range rows * s.Out {
				dst[i] = float32(math.Exp(float64(min(max(src[i]+zero[i%s.Out], s.Lo), s.Hi))))
			}
		case kMean:
			for r := range rows {
				var sum float32
				for c := range s.Out {
					sum += src[r*s.Out+c] + zero[c]
				}
				dst[r] = sum / float32(s.Out)
			}
		}
	}
	return buf[slotOut]
}

// TestPlanProgramOnTheHostMatchesTheCPUPlan runs the device's launch
// sequence (planProgram, stackGemm, stackParams) with the kernels as Go
// loops, for single networks and interleaved stacks of every epilogue and
// the input normalisation, and checks it against the CPU backend under
// ANALYSES.md's tolerance: the device's evaluation without a GPU.
func TestPlanProgramOnTheHostMatchesTheCPUPlan(t *testing.T) {
	norm := &loaders.InputNorm{Mean: []float32{0.1, -0.2, 0.3}, Std: []float32{1.5, 0.5, 2}, Clip: 1.5}
	cases := []struct {
		name   string
		kind   loaders.NetKind
		widths []int
		tweak  func(*loaders.Network)
	}{
		{"td3 actor", loaders.KindActor, []int{3, 16, 16, 1}, nil},
		{"norm leaky actor 2d", loaders.KindActor, []int{3, 16, 2}, func(n *loaders.Network) { n.InputNorm, n.Hidden = norm, loaders.LeakyReLU }},
		{"sac mean clamp elu", loaders.KindSACActor, []int{3, 16, 16, 4}, func(n *loaders.Network) { n.MeanClip, n.Hidden = 0.5, loaders.ELU }},
		{"silu one layer", loaders.KindActor, []int{3, 2}, func(n *loaders.Network) { n.Hidden = loaders.SiLU }},
		{"norm tanh critic", loaders.KindCritic, []int{5, 16, 16, 1}, func(n *loaders.Network) { n.InputNorm, n.Hidden = norm, loaders.Tanh }},
		{"quantile critic", loaders.KindQuantileCritic, []int{5, 16, 7}, nil},
		{"ddpg.py critic", loaders.KindCritic, nil, nil},
		{"norm tanh critic, action at l3", loaders.KindCritic, nil, func(n *loaders.Network) { n.InputNorm, n.Hidden = norm, loaders.Tanh }},
	}
	cpu := graph.NewCPU(graph.Options{})
	n := 33
	for ci, c := range cases {
		for _, k := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/k%d", c.name, k), func(t *testing.T) {
				act := 2 // RandomActionAtCritic's, below, for nil widths
				if c.widths != nil {
					act = c.widths[len(c.widths)-1]
				}
				switch {
				case c.widths == nil:
				case c.kind == loaders.KindSACActor:
					act /= 2
				case c.kind == loaders.KindCritic, c.kind == loaders.KindQuantileCritic:
					act = c.widths[0] - 3
				}
				var nets []*loaders.Network
				var plans []*graph.Plan
				for j := range k {
					net := graph.RandomNetwork(c.kind, c.widths, 3, act, uint64(10*ci+j+1))
					if c.widths == nil { // the action enters a later layer
						at := 1 + strings.Count(c.name, "l3")
						net = graph.RandomActionAtCritic([]int{3, 16, 12, 1}, act, at, uint64(10*ci+j+1))
					}
					if c.tweak != nil {
						c.tweak(net)
					}
					nets = append(nets, net)
					plans = append(plans, lower(t, net))
				}
				if err := stackable(plans); err != nil {
					t.Fatal(err)
				}
				in, out := plans[0].In, plans[0].Out
				x := make([]float32, n*k*in) // interleaved: row r of network j at (r*k+j)*in
				for i := range x {
					x[i] = float32(math.Sin(float64(i)*0.37)) * 3
				}
				got := hostForward(t, plans, x, n)
				for j, net := range nets {
					blk := make([]float32, n*in)
					for r := range n {
						copy(blk[r*in:(r+1)*in], x[(r*k+j)*in:])
					}
					want := make([]float32, n*out)
					var err error
					if c.kind == loaders.KindActor || c.kind == loaders.KindSACActor {
						err = cpu.Policy(net, blk, n, want)
					} else {
						obs, a := make([]float32, n*3), make([]float32, n*act)
						for r := range n {
							copy(obs[r*3:], blk[r*in:r*in+3])
							copy(a[r*act:], blk[r*in+3:(r+1)*in])
						}
						err = cpu.Q(net, nil, obs, a, n, want, nil)
					}
					if err != nil {
						t.Fatal(err)
					}
					scale := 1.0
					for _, w := range want {
						scale = math.Max(scale, math.Abs(float64(w)))
					}
					for r := range n {
						for o := range out {
							g, w := float64(got[(r*k+j)*out+o]), float64(want[r*out+o])
							if math.Abs(g-w) > 1e-5*scale+1e-4*math.Abs(w) {
								t.Fatalf("network %d row %d output %d: device program %v, CPU plan %v", j, r, o, g, w)
							}
						}
					}
				}
			})
		}
	}
}
