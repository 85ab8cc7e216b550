package jobs

import (
	"fmt"
	"math"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// sacJob: SAC's own diagnostics: the policy's standard deviation over the
// grid (policy_std_grid.npy) and over the buffer, the temperature alpha
// the run saved (log_alpha.pt, SB3's log_ent_coef), and the entropy against
// the target entropy.
var sacJob = Job{Name: "sac", Core: true, Sections: []Section{{"sac", "SAC: policy spread and temperature"}},
	Applies: isSAC, ReadsLog: true, Needs: needSAC, Run: runSAC}

// isSAC says whether the run is a SAC run: a Gaussian actor, a saved
// temperature (SB3 SAC with gSDE, whose actor is deterministic here), or,
// when the actor did not load, a gen-2 agent_sac layout or a config saying
// so.
func isSAC(c *Context) bool {
	if c.Run.Temperature.V != nil || c.Run.Temperature.Err != nil {
		return true
	}
	if a := c.Run.Net(loaders.RoleActor); a != nil {
		return a.Kind == loaders.KindSACActor
	}
	return strings.Contains(c.Run.NetDir, "sac") || (c.Run.Config.V != nil && strings.EqualFold(c.Run.Config.V.Algorithm.Type, "sac"))
}

// needSAC: the policy's spread needs a Gaussian actor; the temperature
// alone is enough for the rest.
func needSAC(c *Context) error {
	if gaussianActor(c) != nil || c.Run.Temperature.V != nil || c.Run.Temperature.Err != nil {
		return nil
	}
	if err := needNets(loaders.RoleActor)(c); err != nil {
		return err
	}
	a := c.Run.Net(loaders.RoleActor)
	return fmt.Errorf("the actor %s is a %s network, not a Gaussian (sac_actor) one, and the run saved no temperature", a.Path, a.Kind)
}

// gaussianActor returns the run's actor if it is a Gaussian (SAC) one.
func gaussianActor(c *Context) *loaders.Network {
	if a := c.Run.Net(loaders.RoleActor); a != nil && a.Kind == loaders.KindSACActor {
		return a
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
	out := &Output{}
	var st sacStats
	if actor := gaussianActor(c); actor != nil {
		if err := policySpread(c, actor, &st, out); err != nil {
			return nil, err
		}
	}
	if c.Opt.CoreOnly {
		return out, nil
	}
	if err := c.Run.Temperature.Err; err != nil {
		return nil, err
	}
	if t := c.Run.Temperature.V; t != nil {
		st.Alpha, st.LogAlpha, st.TargetEntropy = known(t.Alpha), known(t.LogAlpha), known(t.TargetEntropy)
	}
	if err := c.writeJSON("sac.json", st); err != nil {
		return nil, err
	}
	sacTable(st, out)
	return out, entropyFigure(c, st, out)
}

// policySpread writes the policy's standard deviation over the grid
// (policy_std_grid.npy, a core array) and, unless core-only, puts its
// statistics over the buffer in st.
func policySpread(c *Context, actor *loaders.Network, st *sacStats, out *Output) error {
	k := actor.ActDim
	if c.Plane != nil {
		g := c.Grid()
		std := make([]float32, g.Len()*k)
		if err := c.Engine.PolicyStd(actor, g, std); err != nil {
			return err
		}
		rows, cols := g.Shape()
		if err := c.writeArray("policy_std_grid.npy", std, mapShape(rows, cols, k)...); err != nil {
			return err
		}
		fig, err := mapFigure(c.Plane, "Policy standard deviation", "std", std, rows, cols, k, plotting.Viridis(), false)
		if err := out.add("sac", "policy_std_grid", fig, err); err != nil {
			return err
		}
	}
	if b := c.Run.Buffer.V; b != nil && !c.Opt.CoreOnly {
		obs, _, err := graph.BufferRows(b)
		if err != nil {
			return err
		}
		std := make([]float32, b.Size*k)
		if err := c.Engine.PolicyStd(actor, obs, std); err != nil {
			return err
		}
		for d := 0; d < k; d++ {
			st.StdBuffer = append(st.StdBuffer, namedStats{fmt.Sprintf("std[%d]", d), statsOf(std, d, k)})
		}
	}
	return nil
}

// sacTable adds alpha and the policy's spread over the buffer.
func sacTable(st sacStats, out *Output) {
	t := plotting.Table{Caption: "Temperature and policy standard deviation over the buffer", Header: []string{"value", "mean", "std", "min", "max"}}
	if st.Alpha != nil {
		label := "alpha (fixed)"
		if st.LogAlpha != nil {
			label = "alpha = exp(log_alpha)"
		}
		t.Rows = append(t.Rows, []string{label, fmtNum(float64(*st.Alpha)), "", "", ""})
	}
	for _, s := range st.StdBuffer {
		t.Rows = append(t.Rows, statsRow("policy "+s.Name, s.Stats))
	}
	out.table("sac", t)
}

// entropyFigure draws the logged entropy with the target-entropy line.
func entropyFigure(c *Context, st sacStats, out *Output) error {
	if c.Run.Log.V == nil {
		return nil
	}
	e := c.Run.Log.V.Steps.Col("entropy")
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

// known returns v, or nil (JSON null) when v is NaN: not saved.
func known(v float64) *num {
	if math.IsNaN(v) {
		return nil
	}
	n := num(v)
	return &n
}
