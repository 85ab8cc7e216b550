package graph

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/internal/nettest"
	"github.com/rleval/rleval/loaders"
)

// fixtureNets loads every network of a fixture run, keyed by file base name
// (actor, actor_target, critic1, ...); critics take the actor's obs size.
func fixtureNets(t *testing.T, run string) map[string]*loaders.Network {
	t.Helper()
	var files []string
	for _, pat := range []string{"models/*.pth", "agent_*/*.pt"} {
		m, _ := filepath.Glob(filepath.Join(run, pat))
		files = append(files, m...)
	}
	byName := map[string]string{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		if strings.HasPrefix(name, "actor") || strings.HasPrefix(name, "critic") {
			if !strings.Contains(name, "optimizer") {
				byName[name] = f
			}
		}
	}
	nets := map[string]*loaders.Network{}
	actor, err := loaders.LoadNetwork(byName["actor"])
	if err != nil {
		t.Fatalf("load actor: %v", err)
	}
	for name, f := range byName {
		kind := loaders.KindCritic
		if strings.HasPrefix(name, "actor") {
			kind = ""
		}
		n, err := loaders.LoadNetworkAs(f, kind, actor.ObsDim)
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		nets[name] = n
	}
	return nets
}

func readNpy(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v []float32
	if err := npyio.Read(f, &v); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return v
}

// TestFixturesMatchPyTorch pins every fixture's grids and buffer values to
// what PyTorch computed, within the tolerance of ANALYSES.md, on the plan
// and (for the smaller fixtures) on the TapeMachine reference.
func TestFixturesMatchPyTorch(t *testing.T) {
	for _, name := range fixture.Runs(t) {
		t.Run(name, func(t *testing.T) {
			exp := fixture.Path(t, "expected", name)
			run := fixture.Path(t, "runs", name)
			var meta struct {
				GridN int `json:"grid_n"`
			}
			raw, err := os.ReadFile(filepath.Join(exp, "meta.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			nets := fixtureNets(t, run)
			buf, err := loaders.LoadReplayBuffer(filepath.Join(run, "data", "replay_buffer.pth"))
			if err != nil {
				t.Fatal(err)
			}
			backends := []Backend{NewCPU(Options{})}
			if meta.GridN <= 64 {
				backends = append(backends, NewReference())
			}
			for _, b := range backends {
				t.Run(b.Name(), func(t *testing.T) {
					checkFixture(t, b, exp, nets, buf, meta.GridN)
				})
			}
		})
	}
}

func checkFixture(t *testing.T, b Backend, exp string, nets map[string]*loaders.Network, buf *loaders.ReplayBuffer, n int) {
	e := NewEngine(b, Options{Chunk: 1000})
	compared := 0
	compare := func(file string, got []float32) {
		t.Helper()
		w := readNpy(t, fixture.Path(t, "expected", filepath.Base(exp), file))
		compared++
		w64 := make([]float64, len(w))
		for i, v := range w {
			w64[i] = float64(v)
		}
		nettest.CheckClose(t, file, got, w64)
	}
	actor, c1, c2 := nets["actor"], nets["critic1"], nets["critic2"]
	ad := actor.ActDim

	line := make([]float32, 500*ad)
	if err := e.Policy(actor, PendulumLine(500), line); err != nil {
		t.Fatal(err)
	}
	compare("policy_1d.npy", line)

	g := PendulumGrid(n)
	act, q1, q2, qm := make([]float32, n*n*ad), make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	if err := e.QPolicy(actor, c1, c2, g, act, q1, q2, qm); err != nil {
		t.Fatal(err)
	}
	compare("policy_grid.npy", act)
	compare("q1_grid.npy", q1)
	compare("q2_grid.npy", q2)
	compare("q_grid.npy", qm)
	if at := nets["actor_target"]; at != nil {
		tg := make([]float32, n*n*ad)
		if err := e.Policy(at, g, tg); err != nil {
			t.Fatal(err)
		}
		compare("target_grid.npy", tg)
	}
	// The target critics at the online actor's action.
	actRows, err := NewSliceRows(act, ad)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Q(nets["critic1_target"], nets["critic2_target"], g, actRows, q1, q2, nil); err != nil {
		t.Fatal(err)
	}
	compare("q1_target_grid.npy", q1)
	compare("q2_target_grid.npy", q2)

	obs, bact, err := BufferRows(buf)
	if err != nil {
		t.Fatal(err)
	}
	m := buf.Size
	qb := make([]float32, m)
	if err := e.Q(c1, c2, obs, bact, nil, nil, qb); err != nil {
		t.Fatal(err)
	}
	compare("q_buffer.npy", qb)
	qp := make([]float32, m)
	if err := e.QPolicy(actor, c1, c2, obs, nil, nil, nil, qp); err != nil {
		t.Fatal(err)
	}
	compare("q_policy.npy", qp)
	if err := e.QFull(actor, c1, c2, obs, bact, qb, qp); err != nil {
		t.Fatal(err)
	}
	compare("q_buffer.npy", qb)
	compare("q_policy.npy", qp)
	if math.IsNaN(float64(qp[0])) {
		t.Error("NaN q_policy")
	}
	if compared < 9 {
		t.Errorf("compared %d expected arrays, want at least 9 (a fixture file went missing?)", compared)
	}
}
