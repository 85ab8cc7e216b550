package jobs

import (
	"github.com/rleval/rleval/plotting"
)

// qvaluesJob: analyses 18–19: Q over the whole buffer at the stored
// actions and at the policy's actions, their statistics and histograms
// (qgridJob draws Q on the state grid). Q is min(Q1, Q2) of twin critics, the
// mean of quantile critics, Q1 of a single critic.
var qvaluesJob = Job{Name: "qvalues", Core: true, Sections: []Section{{"qvalues", "Q-values"}},
	Needs: needAll(needCritics, needBuffer), Run: runQValues}

// qStats is q.json.
type qStats struct {
	QBuffer Stats `json:"q_buffer"`
	QPolicy Stats `json:"q_policy"`
}

func runQValues(c *Context) (*Output, error) {
	bq, err := c.BufferQ()
	if err != nil {
		return nil, err
	}
	n := len(bq.AtBuffer)
	if err := c.writeArray("q_buffer.npy", bq.AtBuffer, n); err != nil {
		return nil, err
	}
	if err := c.writeArray("q_policy.npy", bq.AtPolicy, n); err != nil {
		return nil, err
	}
	st := qStats{statsOf(bq.AtBuffer, 0, 1), statsOf(bq.AtPolicy, 0, 1)}
	out := &Output{Summary: func(s *RunSummary) { MetricMeanQPolicy.Set(s, float64(st.QPolicy.Mean)) }}
	if c.Opt.CoreOnly {
		return out, nil
	}
	if err := c.writeJSON("q.json", st); err != nil {
		return nil, err
	}
	t := plotting.Table{Caption: qName(c) + " over the buffer", Header: []string{"", "mean", "std", "min", "max"},
		Rows: [][]string{statsRow("Q(s, a_buffer)", st.QBuffer), statsRow("Q(s, π(s))", st.QPolicy)}}
	out.table("qvalues", t)
	fig, err := plotting.QHistograms(bq.AtBuffer, bq.AtPolicy)
	return out, out.add("qvalues", "q_histograms", fig, err)
}

// qName says how Q combines the run's critics.
func qName(c *Context) string {
	c1, c2 := c.critics()
	switch {
	case c2 == nil:
		return "Q1"
	case twinMean(c1):
		return "mean(Q1, Q2)"
	}
	return "min(Q1, Q2)"
}
