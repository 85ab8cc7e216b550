package jobs

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/internal/par"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// checkpointsJob evaluates the checkpoints a run saved along training
// (--checkpoints): for each, the core arrays on the grid (and over the
// buffer) in checkpoints/step_<N>/, and in checkpoints.json how the policy
// and the critics' map moved from one checkpoint to the next, the map's
// mean Q and the value-estimation bias. Checkpoints of one architecture
// evaluate together (Engine.StackedQPolicy): on a GPU one strided-batched
// GEMM per layer for all of them.
var checkpointsJob = Job{Name: "checkpoints", Core: true, ReadsLog: true,
	Sections: []Section{{"checkpoints", "Checkpoints along training"}},
	Applies:  func(c *Context) bool { return c.Opt.Checkpoints.Set() },
	Needs:    needAll(needCritics, needGrid, needCheckpoints), Run: runCheckpoints}

// CheckpointSpec selects the checkpoints to evaluate (--checkpoints): all,
// those at the listed steps, or the last K (the final model counting as
// the last).
type CheckpointSpec struct {
	All   bool
	Steps []int64
	Last  int
}

// Set reports whether any checkpoint is asked for.
func (s CheckpointSpec) Set() bool { return s.All || len(s.Steps) > 0 || s.Last > 0 }

// String is the spec as --checkpoints spells it.
func (s CheckpointSpec) String() string {
	switch {
	case s.All:
		return "all"
	case s.Last > 0:
		return "last:" + strconv.Itoa(s.Last)
	}
	var b []string
	for _, n := range s.Steps {
		b = append(b, strconv.FormatInt(n, 10))
	}
	return strings.Join(b, ",")
}

// ParseCheckpoints reads --checkpoints: "all", "N,M,..." (steps) or
// "last:K"; "" selects none.
func ParseCheckpoints(v string) (CheckpointSpec, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return CheckpointSpec{}, nil
	case v == "all":
		return CheckpointSpec{All: true}, nil
	case strings.HasPrefix(v, "last:"):
		k, err := strconv.Atoi(strings.TrimPrefix(v, "last:"))
		if err != nil || k < 1 {
			return CheckpointSpec{}, fmt.Errorf("--checkpoints %q: last:K wants K ≥ 1: %w", v, ErrUsage)
		}
		return CheckpointSpec{Last: k}, nil
	}
	var s CheckpointSpec
	seen := map[int64]bool{}
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n < 1 {
			return CheckpointSpec{}, fmt.Errorf("--checkpoints %q: want all, last:K or steps N,M,... (> 0): %w", v, ErrUsage)
		}
		if !seen[n] {
			seen[n] = true
			s.Steps = append(s.Steps, n)
		}
	}
	return s, nil
}

// needCheckpoints requires checkpoints saved along training.
func needCheckpoints(c *Context) error {
	if len(c.Run.Checkpoints) == 0 {
		return fmt.Errorf("%s: no checkpoints saved along training (RL Zoo writes rl_model_<N>_steps.zip with --save-freq)", c.Run.Dir)
	}
	return nil
}

// checkpoint is one model of a run along training.
type checkpoint struct {
	Step  int64
	Path  string
	Final bool
}

// selectCheckpoints lists the run's checkpoints by step, the final model
// last (at the run's step count, after the last checkpoint when unknown),
// and picks those spec asks for.
func selectCheckpoints(r *loaders.Run, spec CheckpointSpec) ([]checkpoint, error) {
	var all []checkpoint
	for _, s := range r.Checkpoints {
		all = append(all, checkpoint{Step: s.Step, Path: s.Path})
	}
	final := r.FinalStep
	if n := len(all); n > 0 && final <= all[n-1].Step {
		if final == all[n-1].Step {
			// The final model is the last checkpoint's step: keep the
			// final model under that step.
			all = all[:n-1]
		} else {
			final = all[n-1].Step + 1
		}
	}
	all = append(all, checkpoint{Step: final, Path: r.Nets[loaders.RoleActor].Path, Final: true})
	switch {
	case spec.All:
		return all, nil
	case spec.Last > 0:
		return all[max(0, len(all)-spec.Last):], nil
	}
	var out []checkpoint
	var missing []string
	for _, n := range spec.Steps {
		found := false
		for _, ck := range all {
			if ck.Step == n {
				out, found = append(out, ck), true
			}
		}
		if !found {
			missing = append(missing, strconv.FormatInt(n, 10))
		}
	}
	if len(missing) > 0 {
		var have []string
		for _, ck := range all {
			have = append(have, strconv.FormatInt(ck.Step, 10))
		}
		return nil, fmt.Errorf("%s: no checkpoint at step %s (have %s)", r.Dir, strings.Join(missing, ", "), strings.Join(have, ", "))
	}
	slices.SortFunc(out, func(a, b checkpoint) int { return cmp.Compare(a.Step, b.Step) })
	return out, nil
}

// ckptNets are one checkpoint's actor and critics (c2 nil for one critic).
type ckptNets struct {
	actor, c1, c2 *loaders.Network
}

// ckptGrid is one checkpoint's evaluation on the grid.
type ckptGrid struct {
	Act, Q []float32
}

// evalCheckpointGrids evaluates every checkpoint's policy and Q on g, the
// checkpoints of one architecture (consecutive ones sharing actor and
// critic shapes) stacked into one Engine.StackedQPolicy call.
func evalCheckpointGrids(eng *graph.Engine, g graph.Rows, sets []ckptNets) ([]ckptGrid, error) {
	out := make([]ckptGrid, len(sets))
	for start := 0; start < len(sets); {
		end := start + 1
		for end < len(sets) && sameStack(sets[start], sets[end]) {
			end++
		}
		grp := sets[start:end]
		k, n, ad := len(grp), g.Len(), grp[0].actor.ActDim
		actors, c1, c2 := make([]*loaders.Network, k), make([]*loaders.Network, k), make([]*loaders.Network, k)
		act, q1, q2, qm := make([][]float32, k), make([][]float32, k), make([][]float32, k), make([][]float32, k)
		for j, s := range grp {
			actors[j], c1[j], c2[j] = s.actor, s.c1, s.c2
			act[j], q1[j] = make([]float32, n*ad), make([]float32, n)
			if s.c2 != nil {
				q2[j], qm[j] = make([]float32, n), make([]float32, n)
			}
		}
		if grp[0].c2 == nil {
			c2, q2, qm = nil, nil, nil
		}
		if err := eng.StackedQPolicy(actors, c1, c2, g, act, q1, q2, qm); err != nil {
			return nil, err
		}
		for j, s := range grp {
			r := ckptGrid{Act: act[j], Q: q1[j]}
			if c2 != nil {
				r.Q = combineQ(s.c1, q1[j], q2[j], qm[j])
			}
			out[start+j] = r
		}
		start = end
	}
	return out, nil
}

// sameStack reports whether two checkpoints' networks evaluate as one
// stack.
func sameStack(a, b ckptNets) bool {
	if (a.c2 == nil) != (b.c2 == nil) {
		return false
	}
	pairs := [][]*loaders.Network{{a.actor, b.actor}, {a.c1, b.c1}}
	if a.c2 != nil {
		pairs = append(pairs, []*loaders.Network{a.c2, b.c2})
	}
	for _, p := range pairs {
		if graph.SameArchitecture(p) != nil {
			return false
		}
	}
	return true
}

// CheckpointStats is one entry of checkpoints.json.
type CheckpointStats struct {
	// Step is the training step; Final marks the run's final model. Dir
	// holds its arrays, relative to the run's output; File is the model.
	Step  int64  `json:"step"`
	Final bool   `json:"final"`
	Dir   string `json:"dir"`
	File  string `json:"file"`
	// MeanAbsDPi and MeanAbsDQ are the means over the grid (and the
	// action's values) of |Δπ| and |ΔQ| against the previous checkpoint;
	// null for the first.
	MeanAbsDPi num `json:"mean_abs_dpi"`
	MeanAbsDQ  num `json:"mean_abs_dq"`
	// QMean is the mean of Q(s, π(s)) over the grid.
	QMean num `json:"q_mean"`
	// ValueBias is the mean of Q(s, a) − G over the buffer's states whose
	// discounted return G is known (as valuebias computes it); null
	// without a buffer.
	ValueBias num `json:"value_bias"`
}

// checkpointsFile is checkpoints.json.
type checkpointsFile struct {
	Grid        int               `json:"grid"`
	Plane       string            `json:"plane"`
	Q           string            `json:"q"`
	Checkpoints []CheckpointStats `json:"checkpoints"`
}

func runCheckpoints(c *Context) (*Output, error) {
	cks, err := selectCheckpoints(c.Run, c.Opt.Checkpoints)
	if err != nil {
		return nil, err
	}
	sets := make([]ckptNets, len(cks))
	var loaded []*loaders.Network
	defer func() { c.Engine.Forget(loaded...) }()
	for i, ck := range cks {
		r := c.Run
		if !ck.Final {
			load := c.Opt.Load
			load.Checkpoint, load.SkipBuffer, load.LogsLater = ck.Step, true, true
			if r, err = loaders.LoadRun(loaders.RunPath(c.Run.Dir, c.Run.ID), load); err != nil {
				return nil, fmt.Errorf("checkpoint %d: %w", ck.Step, err)
			}
			for _, role := range []loaders.Role{loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2} {
				loaded = append(loaded, r.Net(role))
			}
		}
		s := ckptNets{r.Net(loaders.RoleActor), r.Net(loaders.RoleCritic1), r.Net(loaders.RoleCritic2)}
		if s.actor == nil || s.c1 == nil || (s.c2 == nil) != (c.Run.Net(loaders.RoleCritic2) == nil) {
			return nil, fmt.Errorf("checkpoint %d (%s): networks did not load: %w", ck.Step, ck.Path, errors.Join(r.Problems()...))
		}
		sets[i] = s
	}
	g := c.Grid()
	grids, err := evalCheckpointGrids(c.Engine, g, sets)
	if err != nil {
		return nil, err
	}
	rows, cols := g.Shape()
	ad := sets[0].actor.ActDim
	bias := c.checkpointBias()
	file := checkpointsFile{Grid: c.Opt.Grid, Plane: c.Plane.Describe(), Q: qName(c)}
	for i, ck := range cks {
		dir := filepath.Join("checkpoints", fmt.Sprintf("step_%d", ck.Step))
		st := CheckpointStats{Step: ck.Step, Final: ck.Final, Dir: filepath.ToSlash(dir), File: ck.Path,
			MeanAbsDPi: num(math.NaN()), MeanAbsDQ: num(math.NaN()), ValueBias: num(math.NaN()), QMean: num(meanOf(grids[i].Q))}
		if i > 0 {
			st.MeanAbsDPi, st.MeanAbsDQ = num(meanAbsDiff(grids[i].Act, grids[i-1].Act)), num(meanAbsDiff(grids[i].Q, grids[i-1].Q))
		}
		if err := WriteNPY(c.path(filepath.Join(dir, "policy_grid.npy")), grids[i].Act, mapShape(rows, cols, ad)...); err != nil {
			return nil, err
		}
		if err := WriteNPY(c.path(filepath.Join(dir, "q_grid.npy")), grids[i].Q, rows, cols); err != nil {
			return nil, err
		}
		if bias != nil {
			qb, vb, err := bias(sets[i])
			if err != nil {
				return nil, fmt.Errorf("checkpoint %d: buffer: %w", ck.Step, err)
			}
			st.ValueBias = num(vb)
			if err := WriteNPY(c.path(filepath.Join(dir, "q_buffer.npy")), qb, len(qb)); err != nil {
				return nil, err
			}
		}
		file.Checkpoints = append(file.Checkpoints, st)
	}
	if err := c.writeJSON("checkpoints.json", file); err != nil {
		return nil, err
	}
	out := &Output{}
	if c.Opt.CoreOnly {
		return out, nil
	}
	return out, checkpointsReport(c, out, file, grids)
}

// checkpointBias returns, for a run with a replay buffer, the function
// giving a checkpoint's Q at the buffer's stored actions and its mean
// value-estimation bias (NaN when no state's return is known, or the
// discount cannot be read); nil without a buffer.
func (c *Context) checkpointBias() func(ckptNets) ([]float32, float64, error) {
	b := c.Run.Buffer.V
	if b == nil {
		return nil
	}
	gamma, gerr := configGamma(c.Run.Dir)
	var st biasStates
	if gerr == nil {
		st = returnStates(b.Obs, b.NextObs, b.ObsDim, b.Rewards, b.Dones, b.Size, b.Capacity, b.Index, gamma, valueHorizon(gamma))
	}
	return func(s ckptNets) ([]float32, float64, error) {
		obs, acts, err := graph.BufferRows(b)
		if err != nil {
			return nil, 0, err
		}
		n := b.Size
		q1 := make([]float32, n)
		var q2, qm []float32
		if s.c2 != nil {
			q2, qm = make([]float32, n), make([]float32, n)
		}
		if err := c.Engine.Q(s.c1, s.c2, obs, acts, q1, q2, qm); err != nil {
			return nil, 0, err
		}
		q := q1
		if s.c2 != nil {
			q = combineQ(s.c1, q1, q2, qm)
		}
		if len(st.Rows) == 0 {
			return q, math.NaN(), nil
		}
		sum := 0.0
		for i, r := range st.Rows {
			sum += float64(q[r]) - st.Returns[i]
		}
		return q, sum / float64(len(st.Rows)), nil
	}
}

func meanOf(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(max(len(v), 1))
}

func meanAbsDiff(a, b []float32) float64 {
	s := 0.0
	for i, x := range a {
		s += math.Abs(float64(x) - float64(b[i]))
	}
	return s / float64(max(len(a), 1))
}

// checkpointsReport adds the table, the step slider over the maps and the
// curves of checkpoints.json's numbers against the reward curve.
func checkpointsReport(c *Context, out *Output, file checkpointsFile, grids []ckptGrid) error {
	const sec = "checkpoints"
	cks := file.Checkpoints
	t := plotting.Table{Caption: "Checkpoints along training: change against the previous checkpoint over the grid, and Q",
		Header: []string{"step", "model", "mean |Δπ|", "mean |ΔQ|", "mean Q on the grid", "value bias (mean Q − G)"}}
	steps := make([]float64, len(cks))
	var dpi, dq, qm, vb []float64
	hasBias := false
	for i, s := range cks {
		steps[i] = float64(s.Step)
		model := filepath.Base(s.File)
		if s.Final {
			model += " (final)"
		}
		t.Rows = append(t.Rows, []string{strconv.FormatInt(s.Step, 10), model, fmtNum(float64(s.MeanAbsDPi)), fmtNum(float64(s.MeanAbsDQ)),
			fmtNum(float64(s.QMean)), fmtNum(float64(s.ValueBias))})
		dpi, dq = append(dpi, float64(s.MeanAbsDPi)), append(dq, float64(s.MeanAbsDQ))
		qm, vb = append(qm, float64(s.QMean)), append(vb, float64(s.ValueBias))
		hasBias = hasBias || !math.IsNaN(float64(s.ValueBias))
	}
	out.table(sec, t)
	out.Notes = append(out.Notes, Note{sec, fmt.Sprintf("%d checkpoints, arrays in checkpoints/step_<N>/ and the numbers in checkpoints.json. "+
		"Q is %s at (s, π(s)); the maps of each step share one colour scale. Move the slider to step through training.", len(cks), file.Q)})
	if err := checkpointSlider(c, out, cks, grids); err != nil {
		return err
	}
	x := "training step"
	fig, err := plotting.Lines(plotting.LineOptions{Title: "How far the policy and the Q map moved since the previous checkpoint", XLabel: x,
		YLabel: "mean absolute change over the grid", Height: 280, Width: 1000},
		plotting.Series{Label: "mean |Δπ|", X: steps, Y: dpi, Markers: true},
		plotting.Series{Label: "mean |ΔQ|", X: steps, Y: dq, Markers: true})
	if err := out.add(sec, "checkpoints_change", fig, err); err != nil {
		return err
	}
	series := []plotting.Series{{Label: "mean Q(s, π(s)) on the grid", X: steps, Y: qm, Markers: true}}
	if hasBias {
		series = append(series, plotting.Series{Label: "value bias: mean Q(s, a) − G over the buffer", X: steps, Y: vb, Markers: true})
	}
	fig, err = plotting.Lines(plotting.LineOptions{Title: "Q along training", XLabel: x, YLabel: "Q", Height: 280, Width: 1000}, series...)
	if err := out.add(sec, "checkpoints_q", fig, err); err != nil {
		return err
	}
	var evStep, evVal []float64
	if lg := c.Run.Log.V; lg != nil {
		rs := lg.Evals.Col("reward_sum")
		evStep, evVal = rs.Step, rs.Value
	}
	if len(evStep) == 0 {
		out.Notes = append(out.Notes, Note{sec, "The run logged no evaluation rewards to set the checkpoints against."})
		return nil
	}
	opts := plotting.LineOptions{Title: "Evaluation return, with the checkpoints' steps", XLabel: x, YLabel: "return", Height: 280, Width: 1000}
	for _, s := range steps {
		opts.RefLines = append(opts.RefLines, plotting.RefLine{Vertical: true, At: s, Color: plotting.TabGray, Dashed: true})
	}
	fig, err = plotting.Lines(opts, plotting.Series{Label: "evaluation return", X: evStep, Y: evVal, Markers: true})
	return out.add(sec, "checkpoints_reward", fig, err)
}

// checkpointSlider draws each checkpoint's policy and Q map (one colour
// scale per kind of map across checkpoints), writes them under plots/ and
// adds the slider that shows one checkpoint's at a time.
func checkpointSlider(c *Context, out *Output, cks []CheckpointStats, grids []ckptGrid) error {
	pl := c.Plane
	rows, cols := c.Grid().Shape()
	ad := len(grids[0].Act) / max(rows*cols, 1)
	qlo, qhi := math.Inf(1), math.Inf(-1)
	alo, ahi := math.Inf(1), math.Inf(-1)
	for _, g := range grids {
		qlo, qhi = minMax(g.Q, 1, qlo, qhi)
		alo, ahi = minMax(g.Act, ad, alo, ahi)
	}
	frames := make([]plotting.SliderFrame, len(cks))
	errs := make([]error, len(cks))
	par.For(len(cks), func(i int) {
		step := cks[i].Step
		label := fmt.Sprintf("step %d", step)
		if cks[i].Final {
			label += " (final model)"
		}
		frames[i].Label = label
		for _, m := range []struct {
			name, title, cbar string
			v                 []float32
			k                 int
			cmap              *plotting.Colormap
			lo, hi            float64
		}{
			{"q", "Q(s, π(s)) at " + label, "Q-value", grids[i].Q, 1, plotting.Viridis(), qlo, qhi},
			{"policy", mapTitle(pl, "Actor policy") + " at " + label, "action (" + pl.Action + ")", grids[i].Act, ad, plotting.RdBuR(), alo, ahi},
		} {
			fig, err := mapFigureRange(pl, m.title, m.cbar, m.v, rows, cols, m.k, m.cmap, m.lo, m.hi)
			var png []byte
			if err == nil {
				png, err = fig.PNG()
			}
			name := fmt.Sprintf("checkpoint_step_%d_%s", step, m.name)
			for _, f := range c.Opt.Formats {
				if err != nil {
					break
				}
				data := png
				if f != "png" {
					data, err = fig.Encode(f)
				}
				if err == nil {
					err = atomicfile.WriteBytes(c.path(filepath.Join("plots", name+"."+f)), data)
				}
			}
			if err != nil {
				errs[i] = fmt.Errorf("figure %s: %w", name, err)
				return
			}
			frames[i].Images = append(frames[i].Images, plotting.Image{Title: m.title, PNG: png})
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	html, err := plotting.Slider("Checkpoint", frames)
	if err != nil {
		return err
	}
	out.Interactive = append(out.Interactive, Interactive{Section: "checkpoints", HTML: html})
	return nil
}

// minMax widens [lo, hi] by the finite values of column 0 of v (stride k).
func minMax(v []float32, k int, lo, hi float64) (float64, float64) {
	for i := 0; i < len(v); i += k {
		x := float64(v[i])
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}
