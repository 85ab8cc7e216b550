package loaders

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rleval/rleval/loaders/internal/torchwrite"
)

func boxObject(module string, low, high string) torchwrite.NewObj {
	return torchwrite.NewObj{
		Class: torchwrite.Global{module, "Box"},
		Args:  torchwrite.Tuple{},
		State: torchwrite.Dict{"low", torchwrite.Tensor{Key: low, Storage: "FloatStorage", Numel: 1, Shape: []int{1}}, "high", torchwrite.Tensor{Key: high, Storage: "FloatStorage", Numel: 1, Shape: []int{1}}, "dim", 1},
	}
}

// wrappedFile builds a gen-1 {"state_dict", "_init_kwargs"} checkpoint.
func wrappedFile(t *testing.T, prefix string, widths []int, obsDim, actDim int) []byte {
	sd, st := torchwrite.MLPStateDict(prefix, widths, 0)
	st["90"], st["91"] = torchwrite.F32Bytes([]float32{-2}), torchwrite.F32Bytes([]float32{2})
	hidden := torchwrite.Tuple{}
	for _, w := range widths[1 : len(widths)-1] {
		hidden = append(hidden, w)
	}
	root := torchwrite.Dict{"state_dict", sd, "_init_kwargs", torchwrite.Dict{"obs_dim", obsDim, "action_dim", actDim, "hidden_sizes", hidden,
		"action_space", boxObject("nn_laser_stabilizer.rl.envs.box", "90", "91")}}
	return torchwrite.Zip(t, "archive", root, st)
}

// plainFile builds a gen-2 OrderedDict checkpoint with _network.net.N keys
// and, for actors, _scaler buffers.
func plainFile(t *testing.T, widths []int, actor bool) []byte {
	sd, st := torchwrite.MLPStateDict("_network.net.", widths, 0)
	if actor {
		act := widths[len(widths)-1]
		if act > 1 {
			act /= 2 // SAC
		}
		low, high, rng := make([]float32, act), make([]float32, act), make([]float32, act)
		for i := range low {
			low[i], high[i], rng[i] = -2, 2, 4
		}
		st["80"], st["81"], st["82"] = torchwrite.F32Bytes(low), torchwrite.F32Bytes(high), torchwrite.F32Bytes(rng)
		sd = append(sd,
			"_scaler.low", torchwrite.Tensor{Key: "80", Storage: "FloatStorage", Numel: act, Shape: []int{act}},
			"_scaler.high", torchwrite.Tensor{Key: "81", Storage: "FloatStorage", Numel: act, Shape: []int{act}},
			"_scaler.range", torchwrite.Tensor{Key: "82", Storage: "FloatStorage", Numel: act, Shape: []int{act}})
	}
	return torchwrite.Zip(t, "actor", sd, st)
}

func TestLoadNetworkReadsUpstreamLayouts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		file        string
		data        []byte
		kind        NetKind
		obsHint     int
		wantKind    NetKind
		wantWidths  []int
		wantFormat  string
		wantObs     int
		wantAct     int
		wantBounds  bool
		wantParams0 string
	}{
		{"gen-1 actor", "models/actor.pth", wrappedFile(t, "net_body.", []int{3, 256, 256, 1}, 3, 1), "", 0,
			KindActor, []int{3, 256, 256, 1}, "wrapped", 3, 1, true, "net_body.0.weight"},
		{"gen-1 critic gets its split from _init_kwargs", "models/critic1.pth", wrappedFile(t, "net.", []int{4, 256, 256, 1}, 3, 1), "", 0,
			KindCritic, []int{4, 256, 256, 1}, "wrapped", 3, 1, false, "net.0.weight"},
		{"gen-1 three hidden layers", "models/actor.pth", wrappedFile(t, "net_body.", []int{3, 64, 64, 64, 1}, 3, 1), KindActor, 0,
			KindActor, []int{3, 64, 64, 64, 1}, "wrapped", 3, 1, true, "net_body.0.weight"},
		{"gen-2 actor", "agent_td3/actor.pt", plainFile(t, []int{3, 400, 300, 1}, true), "", 0,
			KindActor, []int{3, 400, 300, 1}, "plain", 3, 1, true, "_network.net.0.weight"},
		{"gen-2 critic without hint has no split", "agent_td3/critic1.pt", plainFile(t, []int{4, 400, 300, 1}, false), "", 0,
			KindCritic, []int{4, 400, 300, 1}, "plain", 0, 0, false, "_network.net.0.weight"},
		{"gen-2 critic with obs hint", "agent_td3/critic1.pt", plainFile(t, []int{4, 400, 300, 1}, false), KindCritic, 3,
			KindCritic, []int{4, 400, 300, 1}, "plain", 3, 1, false, "_network.net.0.weight"},
		{"gen-2 SAC actor in agent_sac", "agent_sac/actor.pt", plainFile(t, []int{3, 256, 256, 2}, true), "", 0,
			KindSACActor, []int{3, 256, 256, 2}, "plain", 3, 1, true, "_network.net.0.weight"},
		{"SAC actor by hint", "x/actor.pt", plainFile(t, []int{3, 256, 256, 2}, true), KindSACActor, 0,
			KindSACActor, []int{3, 256, 256, 2}, "plain", 3, 1, true, "_network.net.0.weight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"), tc.file)
			mkdirAll(t, filepath.Dir(p))
			torchwrite.WriteFile(t, p, tc.data)
			n, err := LoadNetworkAs(p, tc.kind, tc.obsHint)
			if err != nil {
				t.Fatal(err)
			}
			if n.Kind != tc.wantKind || n.Format != tc.wantFormat || !slices.Equal(n.Widths(), tc.wantWidths) {
				t.Errorf("got %s %s %v", n.Kind, n.Format, n.Widths())
			}
			if n.ObsDim != tc.wantObs || n.ActDim != tc.wantAct {
				t.Errorf("ObsDim, ActDim = %d, %d", n.ObsDim, n.ActDim)
			}
			if tc.wantBounds != (n.Low != nil) || (n.Low != nil && (n.Low[0] != -2 || n.High[0] != 2)) {
				t.Errorf("bounds %v %v", n.Low, n.High)
			}
			if n.Params[0].Name != tc.wantParams0 || len(n.Params) != 2*len(n.Layers) {
				t.Errorf("params %v", n.Params[0].Name)
			}
			if n.Path != p {
				t.Errorf("Path = %s", n.Path)
			}
			// Layer i's first weight is what torchwrite.MLPStateDict wrote.
			if n.Layers[1].W[0] != -1 || n.Layers[0].B[2] != 1 {
				t.Errorf("values W %v B %v", n.Layers[1].W[0], n.Layers[0].B[2])
			}
		})
	}
}

func TestLoadNetworkCountsDemoParameters(t *testing.T) {
	p := torchwrite.WriteFile(t, filepath.Join(t.TempDir(), "actor.pth"), wrappedFile(t, "net_body.", []int{3, 256, 256, 1}, 3, 1))
	n, err := LoadNetwork(p)
	if err != nil {
		t.Fatal(err)
	}
	if n.NumParams() != 67073 {
		t.Errorf("actor NumParams = %d, want 67073", n.NumParams())
	}
	p = torchwrite.WriteFile(t, filepath.Join(t.TempDir(), "critic.pth"), wrappedFile(t, "net.", []int{4, 256, 256, 1}, 3, 1))
	if n, err = LoadNetwork(p); err != nil || n.NumParams() != 67329 {
		t.Errorf("critic NumParams = %d (%v), want 67329", n.NumParams(), err)
	}
}

func TestLoadNetworkOrdersLayersNumerically(t *testing.T) {
	// Indices 2 and 10 must come in that order, not "10" < "2".
	sd, st := torchwrite.MLPStateDict("net.", []int{4, 8, 8, 8, 8, 8, 1}, 0)
	// rename net.8 -> net.10 (keys appear in file order net.0 .. net.10)
	for i := range sd {
		if s, ok := sd[i].(string); ok && strings.HasPrefix(s, "net.8.") {
			sd[i] = strings.Replace(s, "net.8.", "net.10.", 1)
		}
	}
	p := torchwrite.WriteFile(t, filepath.Join(t.TempDir(), "c.pt"), torchwrite.Zip(t, "c", sd, st))
	n, err := LoadNetwork(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Layers[len(n.Layers)-1].Name; got != "net.10" {
		t.Errorf("last layer %s", got)
	}
}

func TestLoadNetworkRejectsBadCheckpoints(t *testing.T) {
	dir := t.TempDir()
	mismatch, st := torchwrite.MLPStateDict("net.", []int{4, 8, 1}, 0)
	// Make layer net.2 take 5 inputs while net.0 gives 8.
	mismatch[5] = torchwrite.Tensor{Key: "77", Storage: "FloatStorage", Numel: 5, Shape: []int{1, 5}}
	st["77"] = make([]byte, 20)
	tests := []struct {
		name string
		data []byte
		kind NetKind
		want string
	}{
		{"chained shapes mismatch", torchwrite.Zip(t, "c", mismatch, st), "", "layer net.2 takes 5 inputs but the layer before it, net.0, gives 8"},
		{"critic with two outputs", torchwrite.Zip(t, "c", func() torchwrite.ODict { sd, _ := torchwrite.MLPStateDict("net.", []int{4, 8, 2}, 0); return sd }(), func() map[string][]byte { _, s := torchwrite.MLPStateDict("net.", []int{4, 8, 2}, 0); return s }()), "", "want 1"},
		{"actor file read as critic", plainFile(t, []int{3, 8, 1}, true), KindCritic, "expected a critic"},
		{"critic file read as actor", plainFile(t, []int{4, 8, 1}, false), KindActor, "expected a actor"},
		{"no layers", torchwrite.Zip(t, "c", torchwrite.ODict{"foo.weight", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 2, Shape: []int{2}}}, map[string][]byte{"0": torchwrite.F32Bytes([]float32{1, 2})}), "", "no Linear layers"},
		{"not a state dict", torchwrite.Zip(t, "c", torchwrite.List{1, 2}, nil), "", "not a checkpoint"},
		{"wrapped with bad action_dim", wrappedFile(t, "net_body.", []int{3, 8, 1}, 3, 2), "", "action_dim is 2"},
		{"os.system in _init_kwargs", torchwrite.Zip(t, "c", torchwrite.Dict{"state_dict", torchwrite.ODict{}, "_init_kwargs", torchwrite.Call{Fn: torchwrite.Global{"os", "system"}, Args: torchwrite.Tuple{"id"}}}, nil), "", "os.system"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := torchwrite.WriteFile(t, filepath.Join(dir, "n.pt"), tc.data)
			_, err := LoadNetworkAs(p, tc.kind, 0)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("err %q should name the file and say %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsafePickle) {
				t.Errorf("err %v matches neither ErrInvalid nor ErrUnsafePickle", err)
			}
		})
	}
	_, err := LoadNetwork(filepath.Join(dir, "missing.pt"))
	if !errors.Is(err, ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadNetworksReadsOtherLibraries(t *testing.T) {
	dir := t.TempDir()
	// merge builds one state dict from several MLPs with distinct storage keys.
	merge := func(specs ...struct {
		prefix string
		widths []int
	}) (torchwrite.ODict, map[string][]byte) {
		var sd torchwrite.ODict
		st := map[string][]byte{}
		for i, s := range specs {
			d, m := torchwrite.MLPStateDict(s.prefix, s.widths, 100*i)
			sd = append(sd, d...)
			maps.Copy(st, m)
		}
		return sd, st
	}
	type spec = struct {
		prefix string
		widths []int
	}
	// SB3 TD3 policy.pth: Sequential indices 0, 2, 4.
	sb3, sb3st := merge(spec{"actor.mu.", []int{3, 400, 300, 1}}, spec{"actor_target.mu.", []int{3, 400, 300, 1}},
		spec{"critic.qf0.", []int{4, 400, 300, 1}}, spec{"critic.qf1.", []int{4, 400, 300, 1}},
		spec{"critic_target.qf0.", []int{4, 400, 300, 1}}, spec{"critic_target.qf1.", []int{4, 400, 300, 1}})
	// original TD3: actor l1..l3 and critic l1..l6 (renamed from net.0/2/4).
	rename := func(sd torchwrite.ODict, names map[string]string) torchwrite.ODict {
		out := slices.Clone(sd)
		for i := range out {
			if s, ok := out[i].(string); ok {
				for from, to := range names {
					if strings.HasPrefix(s, from) {
						out[i] = to + strings.TrimPrefix(s, from)
					}
				}
			}
		}
		return out
	}
	td3c, td3cst := merge(spec{"a.", []int{4, 256, 256, 1}}, spec{"b.", []int{4, 256, 256, 1}})
	td3c = rename(td3c, map[string]string{"a.0.": "l1.", "a.2.": "l2.", "a.4.": "l3.", "b.0.": "l4.", "b.2.": "l5.", "b.4.": "l6."})
	td3a, td3ast := torchwrite.MLPStateDict("a.", []int{3, 256, 256, 1}, 0)
	td3a = rename(td3a, map[string]string{"a.0.": "l1.", "a.2.": "l2.", "a.4.": "l3."})
	// CleanRL TD3 actor with action_scale/action_bias, and its QNetwork.
	cra, crast := torchwrite.MLPStateDict("a.", []int{3, 256, 256, 1}, 0)
	cra = rename(cra, map[string]string{"a.0.": "fc1.", "a.2.": "fc2.", "a.4.": "fc_mu."})
	crast["50"], crast["51"] = torchwrite.F32Bytes([]float32{2}), torchwrite.F32Bytes([]float32{0})
	cra = append(cra, "action_scale", torchwrite.Tensor{Key: "50", Storage: "FloatStorage", Numel: 1, Shape: []int{1}},
		"action_bias", torchwrite.Tensor{Key: "51", Storage: "FloatStorage", Numel: 1, Shape: []int{1}})
	crs, crsst := merge(spec{"a.", []int{3, 256, 256}}, spec{"m.", []int{256, 1}}, spec{"s.", []int{256, 1}})
	crs = rename(crs, map[string]string{"a.0.": "fc1.", "a.2.": "fc2.", "m.0.": "fc_mean.", "s.0.": "fc_logstd."})
	crc, crcst := torchwrite.MLPStateDict("a.", []int{4, 256, 256, 1}, 0)
	crc = rename(crc, map[string]string{"a.0.": "fc1.", "a.2.": "fc2.", "a.4.": "fc3."})
	// SB3 SAC: latent_pi.0/2, mu, log_std heads.
	sac, sacst := merge(spec{"actor.latent_pi.", []int{3, 256, 256}}, spec{"actor.mu_.", []int{256, 1}}, spec{"actor.ls_.", []int{256, 1}})
	sac = rename(sac, map[string]string{"actor.mu_.0.": "actor.mu.", "actor.ls_.0.": "actor.log_std."})

	tests := []struct {
		name   string
		data   []byte
		want   map[string][]int
		kinds  map[string]NetKind
		format string
	}{
		{"sb3 td3 policy", torchwrite.Zip(t, "policy", sb3, sb3st), map[string][]int{
			"actor": {3, 400, 300, 1}, "actor_target": {3, 400, 300, 1}, "critic.qf0": {4, 400, 300, 1}, "critic.qf1": {4, 400, 300, 1},
			"critic_target.qf0": {4, 400, 300, 1}, "critic_target.qf1": {4, 400, 300, 1}},
			map[string]NetKind{"actor": KindActor, "critic.qf1": KindCritic}, "sb3"},
		{"sb3 sac policy", torchwrite.Zip(t, "policy", sac, sacst), map[string][]int{"actor": {3, 256, 256, 2}},
			map[string]NetKind{"actor": KindSACActor}, "sb3"},
		{"td3 two-headed critic", torchwrite.Zip(t, "critic", td3c, td3cst), map[string][]int{"q1": {4, 256, 256, 1}, "q2": {4, 256, 256, 1}},
			map[string]NetKind{"q1": KindCritic, "q2": KindCritic}, "td3"},
		{"td3 actor", torchwrite.Zip(t, "actor", td3a, td3ast), map[string][]int{"n": {3, 256, 256, 1}},
			map[string]NetKind{"n": KindActor}, "td3"},
		{"cleanrl actor", torchwrite.Zip(t, "actor", cra, crast), map[string][]int{"n": {3, 256, 256, 1}},
			map[string]NetKind{"n": KindActor}, "cleanrl"},
		{"cleanrl sac actor", torchwrite.Zip(t, "actor", crs, crsst), map[string][]int{"n": {3, 256, 256, 2}},
			map[string]NetKind{"n": KindSACActor}, "cleanrl"},
		{"cleanrl qnetwork", torchwrite.Zip(t, "qf1", crc, crcst), map[string][]int{"n": {4, 256, 256, 1}},
			map[string]NetKind{"n": KindCritic}, "cleanrl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := torchwrite.WriteFile(t, filepath.Join(dir, "n.pt"), tc.data)
			nets, err := LoadNetworks(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(nets) != len(tc.want) {
				t.Errorf("got networks %v", slices.Collect(maps.Keys(nets)))
			}
			for name, w := range tc.want {
				n := nets[name]
				if n == nil {
					t.Fatalf("no network %q in %v", name, slices.Collect(maps.Keys(nets)))
				}
				if !slices.Equal(n.Widths(), w) || n.Format != tc.format {
					t.Errorf("%s: widths %v format %s", name, n.Widths(), n.Format)
				}
				if k, ok := tc.kinds[name]; ok && n.Kind != k {
					t.Errorf("%s: kind %s, want %s", name, n.Kind, k)
				}
			}
			if tc.name == "cleanrl actor" {
				n := nets["n"]
				if !slices.Equal(n.Low, []float32{-2}) || !slices.Equal(n.High, []float32{2}) {
					t.Errorf("bounds %v %v", n.Low, n.High)
				}
			}
			if tc.name == "sb3 sac policy" {
				n := nets["actor"]
				last := n.Layers[len(n.Layers)-1]
				// mean head rows first, then log_std rows.
				if last.Out != 2 || last.B[0] != 0 || len(last.W) != 512 {
					t.Errorf("stacked head %d outputs", last.Out)
				}
			}
		})
	}
	// Single-network readers refuse multi-network files.
	p := torchwrite.WriteFile(t, filepath.Join(dir, "policy.pth"), torchwrite.Zip(t, "policy", sb3, sb3st))
	if _, err := LoadNetwork(p); err == nil || !strings.Contains(err.Error(), "LoadNetworks") {
		t.Errorf("err = %v", err)
	}
}
