package jobs

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/loaders"
)

// Inspection is what `rleval inspect` prints about a run: what the
// notebook prints before any evaluation.
type Inspection struct {
	Dir    string      `json:"dir"`
	Name   string      `json:"name"`
	Config *ConfigView `json:"config,omitempty"`
	Log    *LogView    `json:"log,omitempty"`
	Nets   []NetView   `json:"networks"`
	Buffer *BufferView `json:"buffer,omitempty"`
	Errors []string    `json:"errors"`
	Layout string      `json:"layout,omitempty"`
	// Library is the training code that wrote the run; Checkpoints the
	// snapshots saved along training (run --checkpoint N evaluates one,
	// --checkpoints all every one).
	Library     string             `json:"library,omitempty"`
	Checkpoints []loaders.Snapshot `json:"checkpoints,omitempty"`
	// NotSaved are the absent files the library never saves or saves only
	// when asked: notes, not errors.
	NotSaved []string     `json:"not_saved,omitempty"`
	Run      *loaders.Run `json:"-"`
}

// ConfigView holds the config fields the notebook prints. A number the run
// does not record (another library's run) is nil: left out, never shown as
// the upstream trainer's default.
type ConfigView struct {
	ExperimentName   string `json:"experiment_name"`
	Env              string `json:"env"`
	Algorithm        string `json:"algorithm"`
	ExplorationSteps *int   `json:"exploration_steps,omitempty"`
	TrainStartStep   *int   `json:"train_start_step,omitempty"`
	EvalFrequency    *int   `json:"evaluation_frequency,omitempty"`
	LogFrequency     *int   `json:"log_frequency,omitempty"`
}

// numbers lists the recorded numbers of the config view, labelled.
func (c *ConfigView) numbers() [][2]string {
	var out [][2]string
	for _, x := range []struct {
		label string
		v     *int
	}{{"Exploration steps", c.ExplorationSteps}, {"Train start step", c.TrainStartStep},
		{"Evaluation frequency", c.EvalFrequency}, {"Log frequency", c.LogFrequency}} {
		if x.v != nil {
			out = append(out, [2]string{x.label, strconv.Itoa(*x.v)})
		}
	}
	return out
}

// LogView holds record counts and step ranges of the training log.
type LogView struct {
	Path         string                `json:"path"`
	Lines        int                   `json:"lines"`
	Steps        RecordsView           `json:"steps"`
	Evaluations  RecordsView           `json:"evaluations"`
	Finals       RecordsView           `json:"final_evaluations"`
	Skipped      int                   `json:"skipped_lines"`
	SkippedLines []loaders.SkippedLine `json:"skipped,omitempty"`
}

// RecordsView is a count and step range of one event kind.
type RecordsView struct {
	Count   int      `json:"count"`
	StepMin *float64 `json:"step_min"`
	StepMax *float64 `json:"step_max"`
	Fields  []string `json:"fields,omitempty"`
}

// NetView describes one network.
type NetView struct {
	Role   string    `json:"role"`
	Path   string    `json:"path"`
	Format string    `json:"format"`
	Kind   string    `json:"kind"`
	Widths []int     `json:"widths"`
	Params int       `json:"params"`
	Low    []float32 `json:"action_low,omitempty"`
	High   []float32 `json:"action_high,omitempty"`
	// Graph is the network's Gorgonia graph, layer by layer with its ops.
	Graph string `json:"graph,omitempty"`
}

// BufferView describes the replay buffer.
type BufferView struct {
	Path     string `json:"path"`
	Size     int    `json:"size"`
	Capacity int    `json:"capacity"`
	Index    int    `json:"index"`
	ObsDim   int    `json:"obs_dim"`
	ActDim   int    `json:"action_dim"`
	Wrapped  bool   `json:"wrapped"`
}

// netView describes a network of the given role.
func netView(role loaders.Role, n *loaders.Network) NetView {
	return NetView{Role: string(role), Path: n.Path, Format: n.Format, Kind: string(n.Kind),
		Widths: n.Widths(), Params: n.NumParams(), Low: n.Low, High: n.High}
}

func records(t *loaders.Table) RecordsView {
	v := RecordsView{Count: t.Count, Fields: t.Names}
	if t.Count > 0 && !math.IsNaN(t.StepMin) {
		lo, hi := t.StepMin, t.StepMax
		v.StepMin, v.StepMax = &lo, &hi
	}
	return v
}

// Inspect describes a loaded run.
func Inspect(r *loaders.Run) *Inspection {
	in := &Inspection{Dir: r.Dir, Name: r.Name, Layout: cmp.Or(r.NetDir, r.Layout), Run: r, Errors: []string{},
		Library: r.Library, Checkpoints: r.Checkpoints}
	in.Config = configOf(r.Config.V)
	if l := r.Log.V; l != nil {
		in.Log = &LogView{Path: l.Path, Lines: l.Lines, Steps: records(&l.Steps), Evaluations: records(&l.Evals),
			Finals: records(&l.Finals), Skipped: l.SkippedCount, SkippedLines: l.Skipped}
	}
	for _, role := range loaders.Roles {
		if n := r.Net(role); n != nil {
			v := netView(role, n)
			if g, err := graph.Build(n, 1); err == nil {
				v.Graph = g.Describe()
			} else {
				in.Errors = append(in.Errors, fmt.Sprintf("%s: build graph: %v", n.Path, err))
			}
			in.Nets = append(in.Nets, v)
		}
	}
	if b := r.Buffer.V; b != nil {
		in.Buffer = &BufferView{b.Path, b.Size, b.Capacity, b.Index, b.ObsDim, b.ActDim, b.Size == b.Capacity}
	}
	for _, err := range r.Problems() {
		in.Errors = append(in.Errors, err.Error())
	}
	in.NotSaved = r.NotSaved()
	return in
}

// WriteText prints the inspection the way the notebook does; withGraph
// adds each network's Gorgonia graph.
func (in *Inspection) WriteText(w io.Writer, withGraph bool) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("Run: %s\n", in.Dir)
	if in.Library != "" {
		p("Library: %s\n", in.Library)
	}
	if len(in.Checkpoints) > 0 {
		p("Checkpoints (run --checkpoint N evaluates one, --checkpoints all every one):")
		for _, c := range in.Checkpoints {
			p(" %d", c.Step)
		}
		p("\n")
	}
	if c := in.Config; c != nil {
		p("Experiment: %s\nEnvironment: %s\nAlgorithm: %s\n", c.ExperimentName, c.Env, c.Algorithm)
		for _, kv := range c.numbers() {
			p("%s: %s\n", kv[0], kv[1])
		}
	}
	if l := in.Log; l != nil {
		p("\nLog: %s (%s)\n", l.Path, plural.N(l.Lines, "line"))
		for _, x := range []struct {
			name string
			v    RecordsView
		}{{"Training steps", l.Steps}, {"Evaluations", l.Evaluations}, {"Final evaluations", l.Finals}} {
			p("  %s: %d records", x.name, x.v.Count)
			if x.v.StepMin != nil {
				p(", steps %s — %s", fmtStep(*x.v.StepMin), fmtStep(*x.v.StepMax))
			}
			p("\n")
		}
		p("  Skipped lines: %d", l.Skipped)
		if len(l.SkippedLines) > 0 {
			var nums []string
			for i, s := range l.SkippedLines {
				if i == 10 {
					nums = append(nums, "…")
					break
				}
				nums = append(nums, fmt.Sprint(s.Line))
			}
			p(" (lines %s)", strings.Join(nums, ", "))
		}
		p("\n")
		// Why, once per reason: a log none of whose lines is a record
		// must say so, not just count.
		seen := map[string]bool{}
		for _, s := range l.SkippedLines {
			if len(seen) == 3 {
				break
			}
			if !seen[s.Reason] {
				seen[s.Reason] = true
				p("    line %d: %s\n", s.Line, s.Reason)
			}
		}
	}
	if len(in.Nets) > 0 {
		p("\nNetworks (%s):\n", in.Layout)
		for _, n := range in.Nets {
			arch := make([]string, len(n.Widths))
			for i, w := range n.Widths {
				arch[i] = fmt.Sprint(w)
			}
			p("  %-15s %-9s %-18s %9s parameters  %s\n", n.Role, n.Kind, strings.Join(arch, "→"), groupThousands(n.Params), n.Path)
		}
		if withGraph {
			for _, n := range in.Nets {
				p("\n%s graph: %s", n.Role, n.Graph)
			}
		}
	}
	if b := in.Buffer; b != nil {
		p("\nReplay buffer: %s\n  size %d / capacity %d, obs_dim %d, action_dim %d", b.Path, b.Size, b.Capacity, b.ObsDim, b.ActDim)
		if b.Wrapped {
			p(", full (ring, next write at %d)", b.Index)
		}
		p("\n")
	}
	if len(in.NotSaved) > 0 {
		p("\nNot saved by %s (not a problem):\n", in.Library)
		for _, n := range in.NotSaved {
			p("  %s\n", n)
		}
	}
	if len(in.Errors) > 0 {
		p("\nProblems:\n")
		for _, e := range in.Errors {
			p("  %s\n", e)
		}
	}
}

// groupThousands formats 67073 as "67,073".
func groupThousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupThousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtStep prints a step as an integer (1000999, not 1.000999e+06); a
// fractional or huge step keeps %g.
func fmtStep(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return fmt.Sprintf("%g", v)
}
