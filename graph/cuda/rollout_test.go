//go:build !rlcuda

package cuda

import (
	"os"
	"strings"
	"testing"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// TestEveryDeviceEnvironmentHasItsKernels checks that each environment
// naming device kernels (envs.Env.Device) has them here, of its sizes,
// and that kernels.cu defines them: the returns job asks the device for
// exactly these.
func TestEveryDeviceEnvironmentHasItsKernels(t *testing.T) {
	src, err := os.ReadFile("kernels.cu")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range envs.Names() {
		e := envs.ByName(name)
		if e.Device == "" {
			continue
		}
		n++
		de, ok := devEnvs[e.Device]
		if !ok {
			t.Errorf("%s: no device kernels for %q", e.Name, e.Device)
			continue
		}
		if de.stateDim != e.StateDim || de.obsDim != e.ObsDim || de.actDim != e.ActDim {
			t.Errorf("%s: device sizes %d, %d, %d; the environment's %d, %d, %d", e.Name, de.stateDim, de.obsDim, de.actDim, e.StateDim, e.ObsDim, e.ActDim)
		}
		for _, k := range []string{de.obs, de.step} {
			if !strings.Contains(string(src), "__global__ void "+k+"(") {
				t.Errorf("%s: kernels.cu has no kernel %s", e.Name, k)
			}
		}
	}
	if n != len(devEnvs) || n == 0 {
		t.Errorf("%d environments name device kernels, the device has %d", n, len(devEnvs))
	}
}

// TestCheckRolloutRefusesWhatTheDeviceCannotRun: an unknown environment,
// actors of other sizes or architectures, and states that are not k×n.
func TestCheckRolloutRefusesWhatTheDeviceCannotRun(t *testing.T) {
	a := func(od int, w int, seed uint64) *loaders.Network {
		return graph.RandomNetwork(loaders.KindActor, []int{od, w, 1}, od, 1, seed)
	}
	for _, c := range []struct {
		name string
		req  graph.RolloutRequest
		want string
	}{
		{"ok", graph.RolloutRequest{Env: "pendulum", Actors: []*loaders.Network{a(3, 8, 1), a(3, 8, 2)}, States: make([]float64, 2*5*2), N: 5}, ""},
		{"unknown", graph.RolloutRequest{Env: "cartpole", Actors: []*loaders.Network{a(3, 8, 1)}, N: 0}, `environment "cartpole"`},
		{"no actors", graph.RolloutRequest{Env: "pendulum"}, "no actors"},
		{"sizes", graph.RolloutRequest{Env: "mountaincar_continuous", Actors: []*loaders.Network{a(3, 8, 1)}}, "environment mountaincar_continuous has 2 and 1"},
		{"architectures", graph.RolloutRequest{Env: "pendulum", Actors: []*loaders.Network{a(3, 8, 1), a(3, 9, 2)}}, "layer 0 is 8×3"},
		{"states", graph.RolloutRequest{Env: "pendulum", Actors: []*loaders.Network{a(3, 8, 1)}, States: make([]float64, 9), N: 5}, "9 state values"},
	} {
		_, err := checkRollout(c.req)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: checkRollout = %v, want %q", c.name, err, c.want)
		}
	}
}

// TestRollLayoutIsTheStacksInterleaving checks that a stacked rollout
// puts state i of actor j where the stack's plan reads actor j's row i
// (n×k interleaved, as toDeviceInterleaved does), a rollout of separate
// plans in block j, and that results come back in the request's order.
func TestRollLayoutIsTheStacksInterleaving(t *testing.T) {
	const k, n, w = 3, 4, 2
	src := make([]float64, k*n*w)
	for i := range src {
		src[i] = float64(i)
	}
	for _, inter := range []bool{true, false} {
		l := rollLayout{k: k, n: n, interleaved: inter}
		dst := make([]float64, len(src))
		toDeviceOrder(l, dst, src, w)
		for j := range k {
			for i := range n {
				r := j*n + i
				if inter {
					r = i*k + j
				}
				if dst[r*w] != src[(j*n+i)*w] || dst[r*w+1] != src[(j*n+i)*w+1] {
					t.Errorf("interleaved %v: actor %d state %d at device row %d holds %v", inter, j, i, r, dst[r*w:r*w+2])
				}
			}
		}
		one := make([]float64, k*n)
		for r := range one {
			one[r] = dst[r*w] // the first value of each device row
		}
		back := make([]float64, k*n)
		fromDeviceOrder(l, back, one)
		for s := range back {
			if back[s] != src[s*w] {
				t.Errorf("interleaved %v: result %d = %v, want %v", inter, s, back[s], src[s*w])
			}
		}
	}
}
