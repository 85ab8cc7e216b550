//go:build rlcuda

package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/graph/cuda"
	"github.com/rleval/rleval/loaders"
)

// selftest checks dev against the CPU plan on random networks of the
// shapes rleval meets, one network at a time and stacked, under
// ANALYSES.md's tolerance, and times a stack of 100 runs against the same
// networks one by one. It is what tools/gpu-check.sh runs first; it
// returns whether every comparison held.
func selftest(dev *cuda.Device, w io.Writer) bool {
	fmt.Fprintf(w, "selftest on %s, GEMM: %s\n", dev.Name(), dev.GEMM())
	cpu := graph.NewCPU(graph.Options{})
	ok := true
	for _, s := range []struct {
		name          string
		actor, critic []int
		obs, act      int
		kind          loaders.NetKind
		ckind         loaders.NetKind
		// tweak sets the plan features of run j's networks.
		tweak func(j int, actor, critic *loaders.Network)
	}{
		{"td3-256x256", []int{3, 256, 256, 1}, []int{4, 256, 256, 1}, 3, 1, loaders.KindActor, loaders.KindCritic, nil},
		{"gen2-400x300", []int{4, 400, 300, 1}, []int{5, 400, 300, 1}, 4, 1, loaders.KindActor, loaders.KindCritic, nil},
		{"sac-256x256", []int{3, 256, 256, 2}, []int{4, 256, 256, 1}, 3, 1, loaders.KindSACActor, loaders.KindCritic, nil},
		{"wide-input-2d-action", []int{11, 32, 2}, []int{13, 48, 1}, 11, 2, loaders.KindActor, loaders.KindCritic, nil},
		// Every epilogue and the input normalisation; shared norms stack,
		// per-run norms run one network at a time.
		{"sac-norm-meanclip-elu/tqc-tanh", []int{3, 64, 64, 2}, []int{4, 64, 64, 25}, 3, 1, loaders.KindSACActor, loaders.KindQuantileCritic,
			func(_ int, a, c *loaders.Network) {
				nm := &loaders.InputNorm{Mean: []float32{0.1, -0.2, 0.3}, Std: []float32{1.5, 0.5, 2}, Clip: 2}
				a.InputNorm, a.MeanClip, a.Hidden = nm, 0.5, loaders.ELU
				c.InputNorm, c.Hidden = nm, loaders.Tanh
			}},
		{"silu-own-norms/leaky", []int{3, 64, 1}, []int{4, 64, 1}, 3, 1, loaders.KindActor, loaders.KindCritic,
			func(j int, a, c *loaders.Network) {
				a.InputNorm = &loaders.InputNorm{Mean: []float32{float32(j), 0, 0}, Std: []float32{2, 1, 0.5}, Clip: 3}
				a.Hidden, c.Hidden = loaders.SiLU, loaders.LeakyReLU
			}},
	} {
		const k, n = 8, 4097
		var actors, c1, c2 []*loaders.Network
		for j := range k {
			seed := uint64(100 * (j + 1))
			actors = append(actors, graph.RandomNetwork(s.kind, s.actor, s.obs, s.act, seed))
			c1 = append(c1, graph.RandomNetwork(s.ckind, s.critic, s.obs, s.act, seed+1))
			c2 = append(c2, graph.RandomNetwork(s.ckind, s.critic, s.obs, s.act, seed+2))
			if s.tweak != nil {
				s.tweak(j, actors[j], c1[j])
				s.tweak(j, actors[j], c2[j])
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		obs := make([]float32, k*n*s.obs)
		for i := range obs {
			obs[i] = float32(rng.Float64()*6 - 3)
		}
		want := outputs(k, n, s.act)
		single := outputs(k, n, s.act)
		stacked := outputs(k, n, s.act)
		err := stackLoop(cpu, actors, c1, c2, obs, n, want)
		if err == nil {
			err = stackLoop(dev, actors, c1, c2, obs, n, single)
		}
		if err == nil {
			err = dev.StackedQPolicy(actors, c1, c2, obs, n, stacked[0], stacked[1], stacked[2])
		}
		if err != nil {
			fmt.Fprintf(w, "  %s: FAIL: %v\n", s.name, err)
			ok = false
			continue
		}
		for i, what := range []string{"act", "q1", "q2"} {
			for _, got := range []struct {
				how string
				v   []float32
			}{{"single", single[i]}, {"stacked", stacked[i]}} {
				good, d := close32(got.v, want[i])
				fmt.Fprintf(w, "  %s %s %s vs cpu: %s, max|d| %.3g over %d values\n", s.name, got.how, what, okWord(good), d, len(want[i]))
				ok = ok && good
			}
		}
	}
	ok = timeStack(dev, w) && ok
	return rolloutSelftest(dev, w) && ok
}

// timeStack times QPolicy over 100 runs' networks of the TD3 shape,
// 16384 rows each: one call per run against one stacked call.
func timeStack(dev *cuda.Device, w io.Writer) bool {
	const k, n = 100, 16384
	var actors, c1, c2 []*loaders.Network
	for j := range k {
		seed := uint64(7 * (j + 1))
		actors = append(actors, graph.RandomNetwork(loaders.KindActor, []int{3, 256, 256, 1}, 3, 1, seed))
		c1 = append(c1, graph.RandomNetwork(loaders.KindCritic, []int{4, 256, 256, 1}, 3, 1, seed+1))
		c2 = append(c2, graph.RandomNetwork(loaders.KindCritic, []int{4, 256, 256, 1}, 3, 1, seed+2))
	}
	obs := make([]float32, k*n*3)
	for i := range obs {
		obs[i] = float32(i%17) / 17
	}
	a, b := outputs(k, n, 1), outputs(k, n, 1)
	// Warm both paths (weights uploaded, buffers grown) before timing.
	if err := stackLoop(dev, actors, c1, c2, obs, n, a); err != nil {
		fmt.Fprintf(w, "  stack timing: FAIL: %v\n", err)
		return false
	}
	if err := dev.StackedQPolicy(actors, c1, c2, obs, n, b[0], b[1], b[2]); err != nil {
		fmt.Fprintf(w, "  stack timing: FAIL: %v\n", err)
		return false
	}
	t0 := time.Now()
	stackLoop(dev, actors, c1, c2, obs, n, a)
	one := time.Since(t0)
	t0 = time.Now()
	dev.StackedQPolicy(actors, c1, c2, obs, n, b[0], b[1], b[2])
	st := time.Since(t0)
	good, d := close32(b[1], a[1])
	fmt.Fprintf(w, "  qpolicy, %d runs × %d rows: one by one %.3fs (%.3g rows/s), stacked %.3fs (%.3g rows/s), %.1f×; stacked vs single q1 %s max|d| %.3g\n",
		k, n, one.Seconds(), float64(k*n)/one.Seconds(), st.Seconds(), float64(k*n)/st.Seconds(), one.Seconds()/st.Seconds(), okWord(good), d)
	return good
}

func outputs(k, n, act int) [3][]float32 {
	return [3][]float32{make([]float32, k*n*act), make([]float32, k*n), make([]float32, k*n)}
}

func stackLoop(b graph.Backend, actors, c1, c2 []*loaders.Network, obs []float32, n int, out [3][]float32) error {
	od, ad := actors[0].ObsDim, actors[0].ActDim
	for j := range actors {
		if err := b.QPolicy(actors[j], c1[j], c2[j], obs[j*n*od:(j+1)*n*od], n,
			out[0][j*n*ad:(j+1)*n*ad], out[1][j*n:(j+1)*n], out[2][j*n:(j+1)*n]); err != nil {
			return err
		}
	}
	return nil
}

// close32 applies ANALYSES.md's tolerance: |d| <= 1e-5·max(1, max|want|) +
// 1e-4·|want|.
func close32(got, want []float32) (bool, float64) {
	m := 1.0
	for _, v := range want {
		m = math.Max(m, math.Abs(float64(v)))
	}
	ok, worst := len(got) == len(want), 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		worst = math.Max(worst, d)
		if !(d <= 1e-5*m+1e-4*math.Abs(float64(want[i]))) {
			ok = false
		}
	}
	return ok, worst
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAIL"
}
