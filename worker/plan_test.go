package worker

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// planVariants are networks whose lowered plans use every epilogue and
// the input normalisation: the worker must evaluate them as the CPU
// plan does, never without the feature.
func planVariants() (actors, critics map[string]*loaders.Network) {
	actor := func(kind loaders.NetKind, out int, seed uint64) *loaders.Network {
		return graph.RandomNetwork(kind, []int{3, 16, 16, out}, 3, 1, seed)
	}
	critic := func(kind loaders.NetKind, out int, seed uint64) *loaders.Network {
		return graph.RandomNetwork(kind, []int{4, 16, 16, out}, 3, 1, seed)
	}
	norm := &loaders.InputNorm{Mean: []float32{0.1, -0.2, 0.3}, Std: []float32{1.5, 0.5, 2}, Clip: 1.5}
	actors = map[string]*loaders.Network{}
	critics = map[string]*loaders.Network{}
	a := actor(loaders.KindActor, 1, 1)
	a.InputNorm = norm
	actors["norm"] = a
	a = actor(loaders.KindSACActor, 2, 2)
	a.MeanClip = 0.5
	a.Hidden = loaders.ELU
	actors["sac-meanclip-elu"] = a
	a = actor(loaders.KindActor, 1, 3)
	a.Hidden = loaders.SiLU
	actors["silu"] = a
	c := critic(loaders.KindCritic, 1, 4)
	c.InputNorm = norm
	c.Hidden = loaders.LeakyReLU
	critics["norm-leaky"] = c
	c = critic(loaders.KindQuantileCritic, 5, 5)
	c.Hidden = loaders.Tanh
	critics["quantile-tanh"] = c
	c = graph.RandomActionAtCritic([]int{3, 16, 16, 1}, 1, 1, 6)
	c.InputNorm = norm
	critics["ddpg.py-norm"] = c
	return actors, critics
}

// TestRemoteEvaluatesEveryPlanFeatureAsTheCPU runs networks with input
// normalisation, a mean clamp, ELU, SiLU, LeakyReLU and Tanh layers and
// quantile critics through the wire protocol (the worker's backend the CPU
// plan, serving the plans the client lowered) and checks them against the
// CPU backend evaluating the networks directly.
func TestRemoteEvaluatesEveryPlanFeatureAsTheCPU(t *testing.T) {
	actors, critics := planVariants()
	n := 97
	obs := nettest.RandomRows(n, 3, 3, 1)
	act := nettest.RandomRows(n, 1, 1, 2)
	cpu := graph.NewCPU(graph.Options{})
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{MaxChunkRows: 40})
	seed := uint64(10)
	for an, actor := range actors {
		for cn, c1 := range critics {
			t.Run(fmt.Sprintf("%s/%s", an, cn), func(t *testing.T) {
				seed++
				c2 := graph.RandomNetwork(c1.Kind, c1.Widths(), 3, 1, seed)
				if c1.ActionAt > 0 {
					c2 = graph.RandomActionAtCritic(c1.Widths(), 1, c1.ActionAt, seed)
				}
				c2.Hidden, c2.InputNorm = c1.Hidden, c1.InputNorm
				want := evalAll(t, cpu, actor, c1, c2, obs, act, n)
				got := evalAll(t, rem, actor, c1, c2, obs, act, n)
				for k := range want {
					sameBits(t, k, got[k], want[k])
				}
			})
		}
	}
	// The features change the values: a worker ignoring them fails above.
	plain := *actors["norm"]
	plain.InputNorm = nil
	a1, a2 := make([]float32, n), make([]float32, n)
	if err := cpu.Policy(actors["norm"], obs, n, a1); err != nil {
		t.Fatal(err)
	}
	if err := cpu.Policy(&plain, obs, n, a2); err != nil {
		t.Fatal(err)
	}
	if mismatch(a1, a2) < 0 {
		t.Fatal("input normalisation changes no action: the test cannot tell it is applied")
	}
}

// TestRemoteStackedEvaluatesPlanFeatures checks the stacked request on
// networks whose plans hold a normalisation and quantile heads.
func TestRemoteStackedEvaluatesPlanFeatures(t *testing.T) {
	actors, critics := planVariants()
	k, n := 3, 21
	var as, c1s []*loaders.Network
	for j := range k {
		a := graph.RandomNetwork(loaders.KindActor, []int{3, 16, 16, 1}, 3, 1, uint64(40+j))
		a.InputNorm = actors["norm"].InputNorm
		as = append(as, a)
		c := graph.RandomNetwork(loaders.KindQuantileCritic, []int{4, 16, 16, 5}, 3, 1, uint64(50+j))
		c.Hidden = critics["quantile-tanh"].Hidden
		c1s = append(c1s, c)
	}
	obs := nettest.RandomRows(k*n, 3, 3, 7)
	want := [3][]float32{make([]float32, k*n), make([]float32, k*n), make([]float32, k*n)}
	got := [3][]float32{make([]float32, k*n), make([]float32, k*n), make([]float32, k*n)}
	cpu := graph.NewCPU(graph.Options{})
	if err := cpu.StackedQPolicy(as, c1s, nil, obs, n, want[0], want[1], nil); err != nil {
		t.Fatal(err)
	}
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	if err := rem.StackedQPolicy(as, c1s, nil, obs, n, got[0], got[1], nil); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "act", got[0], want[0])
	sameBits(t, "q1", got[1], want[1])
}

// TestRemoteRefusesNetworksWithoutAPlan checks that a network the
// lowering has no kernels for (the CPU evaluates it on the TapeMachine) is
// refused before upload with ErrUnsupported naming it, and that the Remote
// stays usable.
func TestRemoteRefusesNetworksWithoutAPlan(t *testing.T) {
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	n := 4
	obs := nettest.RandomRows(n, 3, 1, 1)
	act := make([]float32, n)
	sig := graph.RandomNetwork(loaders.KindActor, []int{3, 8, 1}, 3, 1, 1)
	sig.Hidden = graph.Sigmoid
	err := rem.Policy(sig, obs, n, act)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), sig.Path) || !strings.Contains(err.Error(), "CPU only") {
		t.Errorf("Policy(sigmoid actor) = %v, want ErrUnsupported naming the network", err)
	}
	if err := rem.StackedPolicy([]*loaders.Network{sig}, obs, n, act); !errors.Is(err, ErrUnsupported) {
		t.Errorf("StackedPolicy(sigmoid actor) = %v, want ErrUnsupported", err)
	}
	if st := rem.Stats(); st.Loads != 0 || st.Requests != 0 {
		t.Errorf("%d uploads and %d requests, want none for a refused network", st.Loads, st.Requests)
	}
	ok := graph.RandomNetwork(loaders.KindActor, []int{3, 8, 1}, 3, 1, 2)
	if err := rem.Policy(ok, obs, n, act); err != nil {
		t.Errorf("Policy after a refusal: %v", err)
	}
}
