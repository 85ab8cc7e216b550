package jobs

import (
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// mapsJob goes beyond the notebook: each critic's map, the critic
// targets' maps (at the online actor's action), and Q1 − Q2, where the
// twin critics disagree. A run with one critic (DDPG) gets Q1's map and
// its target's: no Q2, and no disagreement of a critic with itself.
var mapsJob = Job{Name: "maps", Sections: []Section{{"extra", "Extra maps"}},
	Needs: needAll(needCritics, needGrid), Run: runMaps}

// namedMap is one map of the maps job.
type namedMap struct {
	name, title string
	values      []float32
	diverging   bool
}

func runMaps(c *Context) (*Output, error) {
	gq, err := c.GridQ()
	if err != nil {
		return nil, err
	}
	g := c.Grid()
	rows, cols := g.Shape()
	maps := []namedMap{{"q1_grid", "Q1(s, π(s))", gq.Q1, false}}
	if gq.Q2 != nil {
		dis := make([]float32, len(gq.Q1))
		for i := range dis {
			dis[i] = gq.Q1[i] - gq.Q2[i]
		}
		maps = append(maps, namedMap{"q2_grid", "Q2(s, π(s))", gq.Q2, false},
			namedMap{"q_disagreement", "Q1 − Q2 at (s, π(s)): where the twin critics disagree", dis, true})
	}
	// The targets' maps: Q1's alone for one critic, both for twin critics.
	t1, t2 := c.Run.Net(loaders.RoleCritic1Target), c.Run.Net(loaders.RoleCritic2Target)
	if gq.Q2 == nil {
		t2 = nil
	}
	if t1 != nil && (t2 != nil) == (gq.Q2 != nil) {
		act, err := graph.NewSliceRows(gq.Act, c.Run.Net(loaders.RoleActor).ActDim)
		if err != nil {
			return nil, err
		}
		n := g.Len()
		tq1 := make([]float32, n)
		var tq2, tqm []float32
		if t2 != nil {
			tq2, tqm = make([]float32, n), make([]float32, n)
		}
		if err := c.Engine.Q(t1, t2, g, act, tq1, tq2, tqm); err != nil {
			return nil, err
		}
		maps = append(maps, namedMap{"q1_target_grid", "Q1_target(s, π(s))", tq1, false})
		if t2 != nil {
			maps = append(maps, namedMap{"q2_target_grid", "Q2_target(s, π(s))", tq2, false})
		}
	}
	out := &Output{}
	for _, m := range maps {
		if err := c.writeArray(m.name+".npy", m.values, rows, cols); err != nil {
			return nil, err
		}
		cmap := plotting.Viridis()
		if m.diverging {
			cmap = plotting.RdBuR()
		}
		fig, err := mapFigure(c.Plane, m.title, "Q-value", m.values, rows, cols, 1, cmap, m.diverging)
		if err := out.add("extra", m.name, fig, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}
