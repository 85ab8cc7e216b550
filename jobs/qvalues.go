package jobs

import (
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// qvaluesJob: analyses 18–20: min(Q1, Q2) over the whole buffer at the
// stored actions and at the policy's actions, their statistics and
// histograms, and Q(s, π(s)) on the state grid.
var qvaluesJob = Job{Name: "qvalues", Core: true,
	Needs: needAll(needNets(loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2), needBuffer), Run: runQValues}

// qStats is q.json.
type qStats struct {
	QBuffer Stats `json:"q_buffer"`
	QPolicy Stats `json:"q_policy"`
}

func runQValues(c *Context) error {
	b := c.Run.Buffer
	actor := c.Run.Nets[loaders.RoleActor]
	c1, c2 := c.Run.Nets[loaders.RoleCritic1], c.Run.Nets[loaders.RoleCritic2]
	obs, err := graph.NewSliceRows(b.Obs, b.ObsDim)
	if err != nil {
		return err
	}
	acts, err := graph.NewSliceRows(b.Actions, b.ActDim)
	if err != nil {
		return err
	}
	// One pass: the actor and four critic passes per chunk, nothing but
	// the two minima kept.
	n := b.Size
	qb, qp := make([]float32, n), make([]float32, n)
	if err := c.Engine.QFull(actor, c1, c2, obs, acts, qb, qp); err != nil {
		return err
	}
	c.qBuffer, c.qPolicy = qb, qp
	if err := WriteNPY(c.path("q_buffer.npy"), qb, n); err != nil {
		return err
	}
	if err := WriteNPY(c.path("q_policy.npy"), qp, n); err != nil {
		return err
	}
	st := qStats{statsOf(qb, 0, 1), statsOf(qp, 0, 1)}
	c.summary.MeanQPolicy = float64(st.QPolicy.Mean)
	if c.Preset.Grid != nil {
		if err := c.gridPass(); err != nil {
			return err
		}
		g := c.Preset.Grid(c.Opt.Grid)
		if err := WriteNPY(c.path("q_grid.npy"), c.gridQ, mapShape(g, 1)...); err != nil {
			return err
		}
	}
	if c.Opt.CoreOnly {
		return nil
	}
	if err := c.writeJSON("q.json", st); err != nil {
		return err
	}
	return c.plotQValues(st)
}
