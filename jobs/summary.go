package jobs

import (
	"strings"
	"time"
)

// RunSummary is one run's line in a batch: what `rleval run` learned about
// a run, small enough to keep for hundreds of runs.
type RunSummary struct {
	// Name is the run directory's base name; Dir its path; Out where its
	// outputs are.
	Name string `json:"name"`
	Dir  string `json:"dir"`
	Out  string `json:"out"`
	// Library is the training code that wrote the run ("nn_laser_stabilizer",
	// "stable-baselines3", "sb3-contrib", "cleanrl", "sfujim/TD3") and
	// Layout the registered layout that read it.
	Library string `json:"library,omitempty"`
	Layout  string `json:"layout,omitempty"`
	// Algorithm is the run's algorithm as its files say ("td3", "sac",
	// "ddpg", "tqc", ...; "" when unknown).
	Algorithm string `json:"algorithm,omitempty"`
	// Date is the start time parsed from the directory name ("" if none).
	Date string `json:"date"`
	// Status is StatusOK (files the library never saves may be absent, see
	// NotSaved), StatusPartial (some inputs missing, the rest evaluated) or
	// StatusFailed (an input exists but is broken, an analysis failed, or
	// the run could not be evaluated; whatever could be evaluated still was).
	Status string `json:"status"`
	// Error is the first error, or the list of problems for a partial run.
	Error string `json:"error,omitempty"`
	// NotSaved notes the absent files the run's library never saves or
	// saves only when asked (loaders.Layout.Optional): the analyses that
	// need them were skipped, yet the run is ok.
	NotSaved []string `json:"not_saved,omitempty"`
	// BufferSize is the replay buffer's number of valid rows.
	BufferSize int `json:"buffer_size"`
	// Metrics holds the batch-level numbers by Metric name; read them with
	// Metric.Get (NaN when absent). Package batch writes them in its files.
	Metrics map[string]float64 `json:"-"`
	// Seconds is how long the evaluation took.
	Seconds float64 `json:"seconds"`
	// Curve is the evaluation reward_sum curve, for the batch overlay.
	CurveStep  []float64 `json:"curve_step,omitempty"`
	CurveValue []float64 `json:"curve_value,omitempty"`
	// Jobs says which jobs ran and why others were skipped.
	Jobs []JobStatus `json:"jobs,omitempty"`
	// Problems lists the run's inputs that are missing or could not be
	// read, one cause each, each naming its file, for the terminal
	// (summary.json's error holds them too).
	Problems []string `json:"-"`
	// Finished is when the evaluation ended.
	Finished time.Time `json:"finished"`
}

// JobStatus records what happened to one job of a run.
type JobStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "ok", "skipped" or "failed"
	Reason string `json:"reason,omitempty"`
}

// Run statuses.
const (
	StatusOK      = "ok"
	StatusPartial = "partial"
	StatusFailed  = "failed"
)

// NameWithAlgorithm names a run with its algorithm when the name does not say
// it already: RL Zoo names its folders <env>_<id> under logs/<algo>/, so
// that a TD3, a SAC and a DDPG run are all "Pendulum-v1_1".
func NameWithAlgorithm(name, algo string) string {
	if algo == "" || strings.Contains(strings.ToLower(name), strings.ToLower(algo)) {
		return name
	}
	return name + " (" + algo + ")"
}
