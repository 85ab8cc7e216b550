package jobs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
	"go.yaml.in/yaml/v3"
)

// sacJob: SAC's own diagnostics: the policy's standard deviation over the
// grid (policy_std_grid.npy) and over the buffer, the temperature alpha
// from log_alpha.pt, and the entropy against the config's target entropy.
var sacJob = Job{Name: "sac", Core: true, Sections: []Section{{"sac", "SAC: policy spread and temperature"}},
	Applies: isSAC, ReadsLog: true, Needs: needSAC, Run: runSAC}

// isSAC says whether the run is a SAC run: a Gaussian actor, or, when the
// actor did not load, a gen-2 agent_sac layout or a config saying so.
func isSAC(c *Context) bool {
	if a := c.Run.Nets[loaders.RoleActor]; a != nil {
		return a.Kind == loaders.KindSACActor
	}
	return strings.Contains(c.Run.Layout, "sac") || (c.Run.Config != nil && strings.EqualFold(c.Run.Config.Algorithm.Type, "sac"))
}

func needSAC(c *Context) error {
	if err := needNets(loaders.RoleActor)(c); err != nil {
		return err
	}
	if a := c.Run.Nets[loaders.RoleActor]; a.Kind != loaders.KindSACActor {
		return fmt.Errorf("the actor %s is a %s network, not a Gaussian (sac_actor) one", a.Path, a.Kind)
	}
	return nil
}

// sacStats is sac.json.
type sacStats struct {
	Alpha         *num         `json:"alpha"`
	LogAlpha      *num         `json:"log_alpha"`
	TargetEntropy *num         `json:"target_entropy"`
	StdBuffer     []namedStats `json:"policy_std_buffer,omitempty"`
}

func runSAC(c *Context) (*Output, error) {
	actor := c.Run.Nets[loaders.RoleActor]
	out := &Output{}
	var st sacStats
	k := actor.ActDim
	if c.Plane != nil {
		g := c.Grid()
		std := make([]float32, g.Len()*k)
		if err := c.Engine.PolicyStd(actor, g, std); err != nil {
			return nil, err
		}
		rows, cols := g.Shape()
		if err := WriteNPY(c.path("policy_std_grid.npy"), std, mapShape(rows, cols, k)...); err != nil {
			return nil, err
		}
		fig, err := mapFigure(c.Plane, "Policy standard deviation", "std", std, rows, cols, k, plotting.Viridis(), false)
		if err := out.add("sac", "policy_std_grid", fig, err); err != nil {
			return nil, err
		}
	}
	if c.Opt.CoreOnly {
		return out, nil
	}
	if b := c.Run.Buffer; b != nil {
		obs, _, err := graph.BufferRows(b)
		if err != nil {
			return nil, err
		}
		std := make([]float32, b.Size*k)
		if err := c.Engine.PolicyStd(actor, obs, std); err != nil {
			return nil, err
		}
		for d := 0; d < k; d++ {
			st.StdBuffer = append(st.StdBuffer, namedStats{fmt.Sprintf("std[%d]", d), statsOf(std, d, k)})
		}
	}
	if la, err := readLogAlpha(filepath.Join(filepath.Dir(actor.Path), "log_alpha.pt")); err == nil {
		a, l := num(math.Exp(la)), num(la)
		st.Alpha, st.LogAlpha = &a, &l
	} else if !errors.Is(err, loaders.ErrNotExist) {
		return nil, err
	}
	if te, ok := targetEntropy(c.Run.ConfigPath); ok {
		v := num(te)
		st.TargetEntropy = &v
	}
	if err := c.writeJSON("sac.json", st); err != nil {
		return nil, err
	}
	sacTable(st, out)
	return out, entropyFigure(c, st, out)
}

// sacTable adds alpha and the policy's spread over the buffer.
func sacTable(st sacStats, out *Output) {
	t := plotting.Table{Caption: "Temperature and policy standard deviation over the buffer", Header: []string{"value", "mean", "std", "min", "max"}}
	if st.Alpha != nil {
		t.Rows = append(t.Rows, []string{"alpha = exp(log_alpha)", fmtNum(float64(*st.Alpha)), "", "", ""})
	}
	for _, s := range st.StdBuffer {
		t.Rows = append(t.Rows, statsRow("policy "+s.Name, s.Stats))
	}
	out.table("sac", t)
}

// entropyFigure draws the logged entropy with the target-entropy line.
func entropyFigure(c *Context, st sacStats, out *Output) error {
	if c.Run.Log == nil {
		return nil
	}
	e := c.Run.Log.Steps.Col("entropy")
	if len(e.Value) == 0 {
		return nil
	}
	opts := plotting.LineOptions{Title: "Policy entropy", XLabel: plotting.StepLabel, YLabel: "entropy"}
	if st.TargetEntropy != nil {
		opts.RefLines = append(opts.RefLines, plotting.RefLine{Label: "target entropy", At: float64(*st.TargetEntropy), Color: plotting.TabRed, Dashed: true})
	}
	fig, err := plotting.Lines(opts, plotting.Series{Label: "entropy", X: e.Step, Y: e.Value, Color: plotting.TabBlue})
	return out.add("sac", "sac_entropy", fig, err)
}

// readLogAlpha reads SAC's log temperature: the one value of the tensor in
// log_alpha.pt.
func readLogAlpha(path string) (float64, error) {
	v, err := loaders.ReadTorchFile(path)
	if err != nil {
		return 0, err
	}
	ts, err := loaders.Tensors(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, t := range ts {
		if t.Numel() == 1 {
			return t.Scalar()
		}
	}
	return 0, fmt.Errorf("%s: no one-value tensor (log_alpha)", path)
}

// targetEntropy reads algorithm.target_entropy from the config, if there.
func targetEntropy(path string) (float64, bool) {
	if path == "" {
		return 0, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	var cfg struct {
		Algorithm struct {
			TargetEntropy *float64 `yaml:"target_entropy"`
		} `yaml:"algorithm"`
	}
	if yaml.Unmarshal(b, &cfg) != nil || cfg.Algorithm.TargetEntropy == nil {
		return 0, false
	}
	return *cfg.Algorithm.TargetEntropy, true
}
