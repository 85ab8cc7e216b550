package jobs

import (
	"gonum.org/v1/plot/vg"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// policyJob: analyses 10, 11 and 13: the 1-D policy curve (the pendulum's
// torque along θ at θ̇ = 0), the policy map, the actor_target map and the
// actor − actor_target map. A SAC actor's map is its deterministic action.
var policyJob = Job{Name: "policy", Core: true,
	Sections: []Section{{"policy", "Policy"}, {"target", "Actor vs actor_target"}},
	Needs:    needAll(needNets(loaders.RoleActor), needGrid), Run: runPolicy}

func runPolicy(c *Context) (*Output, error) {
	out := &Output{}
	if c.Run.StateDependentNoise {
		out.Notes = append(out.Notes, Note{"policy", "This actor explored with gSDE (generalised state-dependent exploration: " +
			"noise from weights sampled every few steps). The maps show its deterministic action, tanh of the clipped mean, " +
			"as model.predict(obs, deterministic=True) returns it; the exploration noise is not drawn."})
	}
	pl, actor := c.Plane, c.Run.Net(loaders.RoleActor)
	k := actor.ActDim
	if err := policyLine(c, out); err != nil {
		return nil, err
	}
	act, err := c.GridPolicy()
	if err != nil {
		return nil, err
	}
	g := c.Grid()
	rows, cols := g.Shape()
	shape := mapShape(rows, cols, k)
	if err := c.writeArray("policy_grid.npy", act, shape...); err != nil {
		return nil, err
	}
	actLabel := "action (" + pl.Action + ")"
	fig, err := mapFigure(pl, mapTitle(pl, "Actor policy"), actLabel, act, rows, cols, k, plotting.RdBuR(), false)
	if err := out.add("policy", "policy_grid", fig, err); err != nil {
		return nil, err
	}
	t := c.Run.Net(loaders.RoleActorTarget)
	if t == nil {
		return out, nil
	}
	target := make([]float32, len(act))
	if err := c.Engine.Policy(t, g, target); err != nil {
		return nil, err
	}
	diff := make([]float32, len(target))
	for i := range diff {
		diff[i] = act[i] - target[i]
	}
	if err := c.writeArray("target_grid.npy", target, shape...); err != nil {
		return nil, err
	}
	if err := c.writeArray("policy_diff.npy", diff, shape...); err != nil {
		return nil, err
	}
	fig, err = mapFigure(pl, "actor_target policy", actLabel, target, rows, cols, k, plotting.RdBuR(), false)
	if err := out.add("target", "target_grid", fig, err); err != nil {
		return nil, err
	}
	fig, err = mapFigure(pl, "Policy difference: actor − actor_target", "action − action_target", diff, rows, cols, k, plotting.RdBuR(), true)
	return out, out.add("target", "policy_diff", fig, err)
}

// policyLine writes policy_1d.npy and its figure when the plane has a 1-D
// curve.
func policyLine(c *Context, out *Output) error {
	lg, xOf := c.Plane.LineGrid(c.Opt.Line)
	if lg == nil {
		return nil
	}
	actor := c.Run.Net(loaders.RoleActor)
	k := actor.ActDim
	line := make([]float32, lg.Len()*k)
	if err := c.Engine.Policy(actor, lg, line); err != nil {
		return err
	}
	shape := []int{lg.Len()}
	if k > 1 {
		shape = append(shape, k)
	}
	if err := c.writeArray("policy_1d.npy", line, shape...); err != nil {
		return err
	}
	x, y := make([]float64, lg.Len()), make([]float64, lg.Len())
	for i := range x {
		x[i], y[i] = xOf(i), float64(line[i*k])
	}
	l := c.Plane.Line
	xlabel := c.Plane.X.Label
	if l.Axis == 1 {
		xlabel = c.Plane.Y.Label
	}
	opts := plotting.LineOptions{Title: l.Title, XLabel: plotLabel(xlabel), YLabel: l.YLabel,
		RefLines: []plotting.RefLine{{At: 0, Alpha: 0.5, Width: vg.Points(0.5)}},
		Width:    10 * vg.Inch, Height: 5 * vg.Inch}
	if l.RefLabel != "" {
		opts.RefLines = append(opts.RefLines, plotting.RefLine{Label: l.RefLabel, Vertical: true, At: 0, Color: plotting.TabGreen, Alpha: 0.7, Dashed: true})
	}
	fig, err := plotting.Lines(opts, plotting.Series{X: x, Y: y, Color: plotting.TabRed, Width: vg.Points(2)})
	return out.add("policy", "policy_1d", fig, err)
}
