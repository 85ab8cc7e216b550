package jobs

import "math"

// Metric is one number a run's evaluation gives its batch: a key of the
// run's row in summary.json and in its manifest, a column of summary.csv
// and of the index page's runs table, and a score groups of runs can be
// compared by (--metric). A job sets it from its Output.Summary
// (m.Set(s, v)); a run whose job did not set it has NaN.
//
// A new batch-level number is one Metric variable and its place in
// metrics; nothing in package batch names it.
type Metric struct {
	// Name is the JSON key, the CSV column and the --metric value.
	Name string
	// Label heads the index page's column.
	Label string
	// Unit follows Label in parentheses when set.
	Unit string
}

// The batch-level numbers.
var (
	// MetricFinalRewardSum and MetricBestRewardSum are the last and the
	// best evaluation reward_sum (curves).
	MetricFinalRewardSum = Metric{Name: "final_reward_sum", Label: "final reward_sum"}
	MetricBestRewardSum  = Metric{Name: "best_reward_sum", Label: "best reward_sum"}
	// MetricMeanQPolicy is the mean of min(Q1,Q2) at (s, π(s)) over the
	// buffer (qvalues).
	MetricMeanQPolicy = Metric{Name: "mean_q_policy", Label: "mean Q(s,π(s))"}
	// MetricL2Total is the actor − actor_target parameter distance
	// (models).
	MetricL2Total = Metric{Name: "l2_total", Label: "‖actor−target‖₂"}
	// MetricValueBias is the mean of Q − G, the critics' value-estimation
	// bias (valuebias).
	MetricValueBias = Metric{Name: "value_bias", Label: "value bias"}
	// MetricTrueReturn is the mean undiscounted return of the policy's
	// episodes in its environment (returns; its interval is in
	// returns.json).
	MetricTrueReturn = Metric{Name: "true_return", Label: "true return"}
)

// metrics registers every Metric. Its order is their order in a run's JSON
// row, in the index page's table and in --metric's list, whose first is
// the groups' default score; summary.csv keeps its first columns where
// they are and adds later metrics at the end, in this order.
var metrics = []Metric{MetricFinalRewardSum, MetricBestRewardSum, MetricMeanQPolicy, MetricL2Total, MetricValueBias, MetricTrueReturn}

// Metrics returns every registered Metric, in order.
func Metrics() []Metric { return append([]Metric(nil), metrics...) }

// MetricByName returns the registered Metric called name.
func MetricByName(name string) (Metric, bool) {
	for _, m := range metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Get returns the metric's value in s, NaN when it was not set.
func (m Metric) Get(s *RunSummary) float64 {
	if v, ok := s.Metrics[m.Name]; ok {
		return v
	}
	return math.NaN()
}

// Set sets the metric's value in s.
func (m Metric) Set(s *RunSummary, v float64) {
	if s.Metrics == nil {
		s.Metrics = map[string]float64{}
	}
	s.Metrics[m.Name] = v
}

// Heading is Label, with the Unit in parentheses when there is one.
func (m Metric) Heading() string {
	if m.Unit == "" {
		return m.Label
	}
	return m.Label + " (" + m.Unit + ")"
}
