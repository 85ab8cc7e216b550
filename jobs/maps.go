package jobs

import (
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// mapsJob goes beyond the notebook: each critic's map, the critic
// targets' maps (at the online actor's action), and Q1 − Q2, where the
// twin critics disagree.
var mapsJob = Job{Name: "maps",
	Needs: needAll(needNets(loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2), needGrid), Run: runMaps}

func runMaps(c *Context) error {
	if err := c.gridPass(); err != nil {
		return err
	}
	g := c.Preset.Grid(c.Opt.Grid)
	shape := mapShape(g, 1)
	dis := make([]float32, len(c.gridQ1))
	for i := range dis {
		dis[i] = c.gridQ1[i] - c.gridQ2[i]
	}
	maps := []namedMap{
		{"q1_grid", "Q1(s, π(s))", c.gridQ1, false},
		{"q2_grid", "Q2(s, π(s))", c.gridQ2, false},
		{"q_disagreement", "Q1 − Q2 at (s, π(s)): where the twin critics disagree", dis, true},
	}
	t1, t2 := c.Run.Nets[loaders.RoleCritic1Target], c.Run.Nets[loaders.RoleCritic2Target]
	if t1 != nil && t2 != nil {
		act, err := graph.NewSliceRows(c.gridAct, c.Run.Nets[loaders.RoleActor].ActDim)
		if err != nil {
			return err
		}
		n := g.Len()
		tq1, tq2, tqm := make([]float32, n), make([]float32, n), make([]float32, n)
		if err := c.Engine.Q(t1, t2, g, act, tq1, tq2, tqm); err != nil {
			return err
		}
		maps = append(maps,
			namedMap{"q1_target_grid", "Q1_target(s, π(s))", tq1, false},
			namedMap{"q2_target_grid", "Q2_target(s, π(s))", tq2, false})
	}
	for _, m := range maps {
		if err := WriteNPY(c.path(m.name+".npy"), m.values, shape...); err != nil {
			return err
		}
	}
	return c.plotMaps(g, maps)
}

// namedMap is one map of the maps job.
type namedMap struct {
	name, title string
	values      []float32
	diverging   bool
}
