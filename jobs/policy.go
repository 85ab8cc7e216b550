package jobs

import (
	"errors"
	"math"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// policyJob: analyses 10, 11 and 13: the policy along θ at θ̇ = 0, the
// policy map, the actor_target map and the actor − actor_target map.
var policyJob = Job{Name: "policy", Core: true, Needs: needAll(needNets(loaders.RoleActor), needGrid), Run: runPolicy}

var errNoGrid = errors.New("the observation space has fewer than two values: no state grid")

func needGrid(c *Context) error {
	if c.Preset.Grid == nil {
		return errNoGrid
	}
	return nil
}

// mapShape is the shape of a map array: (N, N), or (N, N, k) for k > 1
// values per cell.
func mapShape(g *graph.Grid, k int) []int {
	r, cols := g.Shape()
	if k == 1 {
		return []int{r, cols}
	}
	return []int{r, cols, k}
}

// gridPass evaluates the actor and, when both exist, the twin critics at
// (s, π(s)) over the state grid, once for every job that needs them.
func (c *Context) gridPass() error {
	if c.gridAct != nil {
		return nil
	}
	g := c.Preset.Grid(c.Opt.Grid)
	actor := c.Run.Nets[loaders.RoleActor]
	n := g.Len()
	act := make([]float32, n*actor.ActDim)
	c1, c2 := c.Run.Nets[loaders.RoleCritic1], c.Run.Nets[loaders.RoleCritic2]
	if c1 == nil || c2 == nil {
		if err := c.Engine.Policy(actor, g, act); err != nil {
			return err
		}
		c.gridAct = act
		return nil
	}
	q1, q2, qm := make([]float32, n), make([]float32, n), make([]float32, n)
	if err := c.Engine.QPolicy(actor, c1, c2, g, act, q1, q2, qm); err != nil {
		return err
	}
	c.gridAct, c.gridQ1, c.gridQ2, c.gridQ = act, q1, q2, qm
	return nil
}

func runPolicy(c *Context) error {
	actor := c.Run.Nets[loaders.RoleActor]
	k := actor.ActDim
	var line []float32
	if c.Preset.Line != nil {
		lg := c.Preset.Line(c.Opt.Line)
		line = make([]float32, lg.Len()*k)
		if err := c.Engine.Policy(actor, lg, line); err != nil {
			return err
		}
		shape := []int{lg.Len()}
		if k > 1 {
			shape = append(shape, k)
		}
		if err := WriteNPY(c.path("policy_1d.npy"), line, shape...); err != nil {
			return err
		}
	}
	if err := c.gridPass(); err != nil {
		return err
	}
	g := c.Preset.Grid(c.Opt.Grid)
	if err := WriteNPY(c.path("policy_grid.npy"), c.gridAct, mapShape(g, k)...); err != nil {
		return err
	}
	var target, diff []float32
	if t := c.Run.Nets[loaders.RoleActorTarget]; t != nil {
		target = make([]float32, len(c.gridAct))
		if err := c.Engine.Policy(t, g, target); err != nil {
			return err
		}
		diff = make([]float32, len(target))
		for i := range diff {
			diff[i] = c.gridAct[i] - target[i]
		}
		if err := WriteNPY(c.path("target_grid.npy"), target, mapShape(g, k)...); err != nil {
			return err
		}
		if err := WriteNPY(c.path("policy_diff.npy"), diff, mapShape(g, k)...); err != nil {
			return err
		}
	}
	if c.Opt.CoreOnly {
		return nil
	}
	return c.plotPolicy(g, line, target, diff)
}

// maxAbs returns max |v| over finite values (0 for none): the symmetric
// colour limits of a difference map.
func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		a := math.Abs(float64(x))
		if a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	return m
}
