package worker

import (
	"errors"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// TestRemoteRefusesWhatTheWorkerCannotEvaluate checks that every plan
// feature the worker lacks is refused before upload with an error naming
// it (ErrUnsupported), never evaluated without it, and that the Remote
// stays usable for the networks it can evaluate.
func TestRemoteRefusesWhatTheWorkerCannotEvaluate(t *testing.T) {
	actor := func(seed uint64) *loaders.Network {
		return graph.RandomNetwork(loaders.KindActor, []int{3, 16, 16, 1}, 3, 1, seed)
	}
	critic := func(seed uint64) *loaders.Network {
		return graph.RandomNetwork(loaders.KindCritic, []int{4, 16, 16, 1}, 3, 1, seed)
	}
	norm := &loaders.InputNorm{Mean: []float32{0.1, -0.2, 0.3}, Std: []float32{1.5, 0.5, 2}, Clip: 5}
	cases := []struct {
		name, want string
		net        *loaders.Network
	}{
		{"actor input norm", "input normalisation", func() *loaders.Network { n := actor(1); n.InputNorm = norm; return n }()},
		{"critic input norm", "input normalisation", func() *loaders.Network { n := critic(2); n.InputNorm = norm; return n }()},
		{"mean clamp", "mean clamp ±2", func() *loaders.Network { n := actor(3); n.MeanClip = 2; return n }()},
		{"elu actor", "elu", func() *loaders.Network { n := actor(4); n.Hidden = loaders.ELU; return n }()},
		{"silu critic", "silu", func() *loaders.Network { n := critic(5); n.Hidden = loaders.SiLU; return n }()},
		{"leaky critic", "leaky_relu", func() *loaders.Network { n := critic(6); n.Hidden = loaders.LeakyReLU; return n }()},
		{"quantile critic", "quantile_critic", graph.RandomNetwork(loaders.KindQuantileCritic, []int{4, 16, 5}, 3, 1, 7)},
	}
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	n := 5
	obs := randomRows(n, 3, 1, 1)
	act := make([]float32, n)
	q := make([]float32, n)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.net.Kind == loaders.KindActor {
				err = rem.Policy(c.net, obs, n, act)
			} else {
				err = rem.Q(c.net, nil, obs, act, n, q, nil)
			}
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.net.Path) {
				t.Errorf("got %v, want ErrUnsupported naming %q and the network", err, c.want)
			}
		})
	}
	if st := rem.Stats(); st.Loads != 0 || st.Requests != 0 {
		t.Errorf("%d uploads and %d requests, want none for refused networks", st.Loads, st.Requests)
	}
	// Tanh hidden layers and a SAC actor's head are what the worker runs.
	tanh := critic(8)
	tanh.Hidden = loaders.Tanh
	sac := graph.RandomNetwork(loaders.KindSACActor, []int{3, 16, 2}, 3, 1, 9)
	if err := rem.Q(tanh, nil, obs, act, n, q, nil); err != nil {
		t.Errorf("tanh critic: %v", err)
	}
	if err := rem.Policy(sac, obs, n, act); err != nil {
		t.Errorf("SAC actor: %v", err)
	}
	// The stacked path uploads through the same check.
	if err := rem.StackedPolicy([]*loaders.Network{cases[0].net}, obs, n, act); !errors.Is(err, ErrUnsupported) {
		t.Errorf("StackedPolicy(normalised actor) = %v, want ErrUnsupported", err)
	}
}
