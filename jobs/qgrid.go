package jobs

import (
	"github.com/rleval/rleval/plotting"
)

// qgridJob: analysis 20, Q(s, π(s)) on the state grid. It needs only the
// actor and the critics, not the buffer: runs that never save one (RL Zoo
// without --save-replay-buffer, CleanRL, original TD3) get their Q map.
var qgridJob = Job{Name: "qgrid", Core: true, Sections: []Section{{"qvalues", "Q-values"}},
	Needs: needAll(needCritics, needGrid), Run: runQGrid}

func runQGrid(c *Context) (*Output, error) {
	gq, err := c.GridQ()
	if err != nil {
		return nil, err
	}
	rows, cols := c.Grid().Shape()
	if err := c.writeArray("q_grid.npy", gq.Q, rows, cols); err != nil {
		return nil, err
	}
	if c.Opt.CoreOnly {
		return nil, nil
	}
	out := &Output{}
	if c1, c2 := c.critics(); c2 != nil && twinMean(c1) {
		out.Notes = append(out.Notes, Note{"qvalues", "Each quantile critic's Q is the mean of its quantiles, and Q the mean of the critics' Q: " +
			"the expectation TQC's return distribution stands for (its training drops the top quantiles of the pooled set; the map does not)."})
	}
	fig, err := mapFigure(c.Plane, "Q(s, π(s)) = "+qName(c)+" on the state grid", "Q-value", gq.Q, rows, cols, 1, plotting.Viridis(), false)
	return out, out.add("qvalues", "q_grid", fig, err)
}
