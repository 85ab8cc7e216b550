package jobs

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
	"github.com/rleval/rleval/stats"
)

// returnsJob measures what the policy actually earns, by rolling its
// deterministic action out in rleval's own copy of the run's environment
// (package envs), for runs whose environment rleval has:
//
//   - episodes: N episodes from the reset distribution (seeded), each to
//     its time limit or a terminal state; the undiscounted return's mean,
//     median and IQM with 95 % stratified-bootstrap intervals (package
//     stats) and a histogram: the policy's true score;
//   - grid: from the state of every cell of the maps' plane, the
//     discounted Monte Carlo return V(s) = Σ_{t<H} γᵗ r_t of the policy
//     (H = --horizon, the time limit ignored, as a critic that bootstraps
//     through truncation estimates it; stopped at a terminal state), and,
//     with critics, Q(s, π(s)) − V(s), where the critic over- (> 0) or
//     under-estimates (< 0) the policy's value. A cell whose observation is
//     no state of the environment (off the pendulum's unit circle, outside
//     the observation space: see envs) is NaN;
//   - buffer: the same V(s) from a seeded sample of the buffer's states
//     whose stored-trajectory return G is known (as valuebias finds them),
//     against G and Q(s, π(s)).
//
// It writes returns.json (every number and its definition),
// episode_returns.npy, value_grid.npy, value_error_grid.npy and
// buffer_values.npy. Every rollout steps all its states together in
// cache-sized chunks, the actor evaluated once per step per chunk by the
// engine's backend (the same plans as the maps).
var returnsJob = Job{Name: "returns", Sections: []Section{{"returns", "True returns"}},
	Applies: func(c *Context) bool { return c.Opt.Returns.Enabled && envOf(c) != nil },
	Needs:   needAll(needNets(loaders.RoleActor), needActorFits, needReadableConfig), Run: runReturns}

// ReturnsOptions configure the returns job.
type ReturnsOptions struct {
	// Enabled runs the job. DefaultOptions, the notebook's analyses, leave
	// it off; the command line turns it on unless --no-returns. Values
	// left zero take DefaultReturnsOptions'.
	Enabled bool
	// Episodes is N of the episodes from the reset distribution (1000).
	Episodes int
	// Horizon is H of the grid's and the buffer's discounted returns (1000).
	Horizon int
	// Seed seeds the reset states, the buffer sample and the bootstrap.
	Seed uint64
	// BufferStates is how many buffer states are rolled out (1024); a
	// negative number rolls out none.
	BufferStates int
	// HostSteps steps the environment on the host (envs.Env.Run) even
	// where the engine's backend could on its device (graph.Roller), the
	// actor still evaluated by the backend: for comparisons and tests.
	HostSteps bool
}

// DefaultReturnsOptions returns the defaults of an enabled job.
func DefaultReturnsOptions() ReturnsOptions {
	return ReturnsOptions{Enabled: true, Episodes: 1000, Horizon: 1000, BufferStates: 1024}
}

// Validate names the flag of a bad value.
func (o ReturnsOptions) Validate() error {
	if o.Episodes < 0 || o.Episodes > 1<<24 {
		return fmt.Errorf("--episodes %d: want 1 to %d: %w", o.Episodes, 1<<24, ErrUsage)
	}
	if o.Horizon < 0 || o.Horizon > 1<<24 {
		return fmt.Errorf("--horizon %d: want 1 to %d: %w", o.Horizon, 1<<24, ErrUsage)
	}
	return nil
}

// fingerprint is the part of Options.Fingerprint the job's options add:
// nothing when it is off (outputs of earlier versions stay up to date).
func (o ReturnsOptions) fingerprint() string {
	if !o.Enabled {
		return ""
	}
	d := o.orDefaults()
	return fmt.Sprintf(" returns=%d/%d/%d/%d", d.Episodes, d.Horizon, d.Seed, max(d.BufferStates, 0))
}

// orDefaults fills values left zero (Options built without
// DefaultOptions).
func (o ReturnsOptions) orDefaults() ReturnsOptions {
	d := DefaultReturnsOptions()
	if o.Episodes == 0 {
		o.Episodes = d.Episodes
	}
	if o.Horizon == 0 {
		o.Horizon = d.Horizon
	}
	if o.BufferStates == 0 {
		o.BufferStates = d.BufferStates
	}
	return o
}

// envOf returns the run's environment: the one its config names, else the
// unnamed-run environment of its plot preset; nil when rleval has none of
// the run's observation size.
func envOf(c *Context) *envs.Env {
	d := obsDimOf(c.Run)
	name, preset := "", ""
	if c.Run.Config.V != nil {
		name = c.Run.Config.V.Env.Name
	}
	if p := PresetFor(c.Run, d); p != nil {
		preset = p.Name
	}
	return envs.For(name, preset, d)
}

// needActorFits requires the actor's sizes to be the environment's.
func needActorFits(c *Context) error {
	a, e := c.Run.Net(loaders.RoleActor), envOf(c)
	if a.ObsDim != e.ObsDim || a.ActDim != e.ActDim {
		return fmt.Errorf("%s: the actor maps %d observation values to %d actions, %s has %d and %d", c.Run.Dir, a.ObsDim, a.ActDim, e.Name, e.ObsDim, e.ActDim)
	}
	return nil
}

// Returns is returns.json.
type Returns struct {
	// Env is the environment rolled out in, Source the Gymnasium code its
	// dynamics follow.
	Env    string `json:"env"`
	Source string `json:"env_source"`
	// Definitions says what each number below is.
	Definitions map[string]string `json:"definitions"`
	Episodes    EpisodeReturns    `json:"episodes"`
	Grid        *GridValues       `json:"grid,omitempty"`
	Buffer      *BufferValues     `json:"buffer,omitempty"`
}

// Interval is a statistic with its 95 % bootstrap interval.
type Interval struct {
	Value num `json:"value"`
	Lo    num `json:"lo"`
	Hi    num `json:"hi"`
}

func intervalOf(iv stats.Interval) Interval { return Interval{num(iv.Value), num(iv.Lo), num(iv.Hi)} }

// EpisodeReturns summarises the episodes from the reset distribution.
type EpisodeReturns struct {
	N          int      `json:"n"`
	Seed       uint64   `json:"seed"`
	TimeLimit  int      `json:"time_limit"`
	Mean       Interval `json:"mean"`
	Median     Interval `json:"median"`
	IQM        Interval `json:"iqm"`
	Std        num      `json:"std"`
	Min        num      `json:"min"`
	Max        num      `json:"max"`
	Terminated int      `json:"terminated"`
	MeanLength num      `json:"mean_length"`
}

// GridValues summarises value_grid.npy and value_error_grid.npy.
type GridValues struct {
	Rows    int     `json:"rows"`
	Cols    int     `json:"cols"`
	Plane   string  `json:"plane"`
	Horizon int     `json:"horizon"`
	Gamma   float64 `json:"gamma"`
	// Cells is rows × cols; States those that are states (the rest NaN);
	// Terminated those whose rollout reached a terminal state.
	Cells      int `json:"cells"`
	States     int `json:"states"`
	Terminated int `json:"terminated"`
	// Value are the statistics of V over the states; Error those of
	// Q − V (absent without critics), ErrorAbsMean the mean of |Q − V|.
	Value        Stats  `json:"value"`
	Error        *Stats `json:"value_error,omitempty"`
	ErrorAbsMean *num   `json:"value_error_abs_mean,omitempty"`
}

// BufferValues compares V with the buffer's own estimates.
type BufferValues struct {
	Horizon int     `json:"horizon"`
	Gamma   float64 `json:"gamma"`
	// Candidates is how many buffer states have a known stored return;
	// Sampled how many were drawn (Seed); States those that are states of
	// the environment. Rows are their storage rows, the order of
	// buffer_values.npy.
	Candidates int   `json:"candidates"`
	Sampled    int   `json:"sampled"`
	States     int   `json:"states"`
	Rows       []int `json:"rows"`
	// Means over the states: V, the stored return G, G − V, and with
	// critics Q(s, π(s)) and Q(s, π(s)) − V.
	TrueValue        num  `json:"true_value_mean"`
	StoredReturn     num  `json:"stored_return_mean"`
	StoredMinusTrue  num  `json:"stored_minus_true_mean"`
	QPolicy          *num `json:"q_policy_mean,omitempty"`
	QPolicyMinusTrue *num `json:"q_policy_minus_true_mean,omitempty"`
}

var returnsDefinitions = map[string]string{
	"episodes":         "N episodes from the environment's reset distribution (reset states drawn with seed), the actor's deterministic action each step, each episode to its time limit or a terminal state; the return is the undiscounted sum of rewards",
	"episodes.mean":    "mean episode return with its 95% percentile interval over stratified-bootstrap resamples of the episodes (50000 replicates, seeded)",
	"episodes.iqm":     "interquartile mean (mean of the middle 50%) of the episode returns, with its bootstrap interval",
	"grid":             "value_grid.npy (rows × cols, row = plane y, column = plane x): V(s) = Σ_{t<horizon} gamma^t r_t of the deterministic policy from the cell's state, the time limit ignored, stopped at a terminal state; NaN where the cell's observation is no state of the environment",
	"grid.value_error": "value_error_grid.npy = q_grid − value_grid, Q(s, π(s)) of the critics (combined as q_grid) minus V(s): > 0 where the critic over-estimates the policy's value",
	"buffer":           "V(s) from buffer states whose stored discounted return G (valuebias's, same gamma) is known, a seeded sample of them; buffer_values.npy is (states, 3): V, G, Q(s, π(s)) (NaN without critics), rows in returns.json",
}

func runReturns(c *Context) (*Output, error) {
	env := envOf(c)
	o := c.Opt.Returns.orDefaults()
	gamma, err := configGamma(c.Run.Dir)
	if err != nil {
		return nil, err
	}
	res := Returns{Env: env.Name, Source: env.Source, Definitions: returnsDefinitions}
	out := &Output{}
	const sec = "returns"
	ep, err := episodeReturns(c, env, o)
	if err != nil {
		return nil, err
	}
	res.Episodes = ep.sum
	out.Summary = func(s *RunSummary) { MetricTrueReturn.Set(s, float64(ep.sum.Mean.Value)) }
	if err := c.writeArray("episode_returns.npy", toF32(ep.returns), len(ep.returns)); err != nil {
		return nil, err
	}
	iv := func(i Interval) string {
		return fmt.Sprintf("%s [%s, %s]", fmtNum(float64(i.Value)), fmtNum(float64(i.Lo)), fmtNum(float64(i.Hi)))
	}
	out.table(sec, plotting.Table{Caption: fmt.Sprintf("True return of the deterministic policy in %s: %d episodes from the reset distribution (seed %d), 95%% bootstrap intervals", env.Name, ep.sum.N, o.Seed),
		Header: []string{"episodes", "mean", "median", "IQM", "std", "min", "max", "terminated"},
		Rows: [][]string{{strconv.Itoa(ep.sum.N), iv(ep.sum.Mean), iv(ep.sum.Median), iv(ep.sum.IQM), fmtNum(float64(ep.sum.Std)),
			fmtNum(float64(ep.sum.Min)), fmtNum(float64(ep.sum.Max)), strconv.Itoa(ep.sum.Terminated)}}})
	hp := plotting.NewHistPanel("Undiscounted episode return", toF32(ep.returns), c.Opt.HistBins, plotting.TabGreen)
	hp.XLabel = "return"
	fig, err := plotting.HistogramGrid(fmt.Sprintf("True returns in %s (%d episodes)", env.Name, ep.sum.N), 1, 1, []plotting.HistPanel{hp}, 0, 0)
	if err := out.add(sec, "episode_returns", fig, err); err != nil {
		return nil, err
	}
	if c.Plane != nil {
		gv, err := gridValues(c, env, o, gamma, out)
		if err != nil {
			return nil, err
		}
		res.Grid = gv
	}
	if b := c.Run.Buffer.V; b != nil && b.ObsDim == env.ObsDim && o.BufferStates > 0 {
		bv, err := bufferValues(c, env, o, gamma)
		if err != nil {
			return nil, err
		}
		res.Buffer = bv
		if bv.States > 0 {
			row := []string{strconv.Itoa(bv.States), fmtNum(float64(bv.TrueValue)), fmtNum(float64(bv.StoredReturn)), fmtNum(float64(bv.StoredMinusTrue)), "–", "–"}
			if bv.QPolicy != nil {
				row[4], row[5] = fmtNum(float64(*bv.QPolicy)), fmtNum(float64(*bv.QPolicyMinusTrue))
			}
			out.table(sec, plotting.Table{Caption: fmt.Sprintf("True value V(s) (γ = %s, H = %d) on %d buffer states with a known stored return G", fmtNum(gamma), o.Horizon, bv.States),
				Header: []string{"states", "mean V", "mean G", "mean G − V", "mean Q(s, π(s))", "mean Q(s, π(s)) − V"}, Rows: [][]string{row}})
		}
	}
	return out, c.writeJSON("returns.json", res)
}

// rollout rolls the actor out from n states with the engine's backend,
// reporting progress over steps to the engine's progress hook: on the
// backend's device when it has the environment's kernels
// (returns_device.go), else stepping the environment on the host.
func rollout(c *Context, env *envs.Env, states []float64, n, steps int, gamma float64) (*envs.Result, error) {
	actor := c.Run.Net(loaders.RoleActor)
	// Done before, stacked with other runs' (batch mode; rollouts.go)?
	if pre := c.Opt.Rollouts; pre != nil {
		req := &RolloutRequest{Run: c.Run.Dir, Env: env, Actor: actor, States: states[:n*env.StateDim], N: n, Steps: steps, Gamma: gamma}
		if r := pre.Take(req); r != nil {
			return r, nil
		}
	}
	b := c.Engine.Backend()
	if r := deviceRoller(b, env, c.Opt.Returns.HostSteps); r != nil { // the environment stepped on the device too
		return deviceRollout(c.context(), r, env, []*loaders.Network{actor}, states, n, steps, gamma, c.Engine.Progress)
	}
	workers := 0
	if p, ok := b.(graph.Preferences); ok {
		_, workers = p.Preferred()
	}
	pol := func(obs []float32, n int, act []float32) error { return b.Policy(actor, obs, n, act) }
	return env.Run(c.context(), pol, states, n, envs.Rollout{Steps: steps, Gamma: gamma, Workers: workers, Progress: c.Engine.Progress})
}

type episodes struct {
	returns []float64
	sum     EpisodeReturns
}

func episodeReturns(c *Context, env *envs.Env, o ReturnsOptions) (*episodes, error) {
	n := o.Episodes
	r, err := rollout(c, env, env.ResetStates(o.Seed, n), n, env.MaxSteps, 1)
	if err != nil {
		return nil, err
	}
	ep, err := summarizeEpisodes(r, n, o.Seed)
	if err != nil {
		return nil, err
	}
	ep.sum.TimeLimit = env.MaxSteps
	return ep, nil
}

// summarizeEpisodes computes the episodes' statistics, the bootstrap
// seeded with seed.
func summarizeEpisodes(r *envs.Result, n int, seed uint64) (*episodes, error) {
	ep := &episodes{returns: r.Return, sum: EpisodeReturns{N: n, Seed: seed}}
	agg, err := stats.Bootstrap{Seed: seed}.Aggregates(stats.Scores{r.Return}, 0, 1)
	if err != nil {
		return nil, err
	}
	s := &ep.sum
	s.Mean, s.Median, s.IQM = intervalOf(agg.Mean), intervalOf(agg.Median), intervalOf(agg.IQM)
	st := stats64(r.Return)
	s.Std, s.Min, s.Max = st.Std, st.Min, st.Max
	steps := 0
	for i := range r.Steps {
		steps += int(r.Steps[i])
		if r.Terminated[i] {
			s.Terminated++
		}
	}
	s.MeanLength = num(float64(steps) / float64(n))
	return ep, nil
}

// gridValues rolls out from every cell's state and writes value_grid.npy
// and, with critics, value_error_grid.npy and their maps.
func gridValues(c *Context, env *envs.Env, o ReturnsOptions, gamma float64, out *Output) (*GridValues, error) {
	rows, cols := c.Grid().Shape()
	cells := rows * cols
	states, at := gridStates(c, env)
	gv := &GridValues{Rows: rows, Cols: cols, Plane: c.Plane.Describe(), Horizon: o.Horizon, Gamma: gamma, Cells: cells, States: len(at)}
	value := make([]float32, cells)
	for i := range value {
		value[i] = float32(math.NaN())
	}
	r, err := rollout(c, env, states, len(at), o.Horizon, gamma)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		value[i] = float32(r.Return[k])
		if r.Terminated[k] {
			gv.Terminated++
		}
	}
	gv.Value = statsFinite(value)
	if err := c.writeArray("value_grid.npy", value, rows, cols); err != nil {
		return nil, err
	}
	const sec = "returns"
	title := fmt.Sprintf("True value V(s) = Σ_{t<%d} γ^t r_t of the policy (γ = %s)", o.Horizon, fmtNum(gamma))
	fig, err := mapFigure(c.Plane, title, "V(s)", value, rows, cols, 1, plotting.Viridis(), false)
	if err := out.add(sec, "value_grid", fig, err); err != nil {
		return nil, err
	}
	if len(at) < cells {
		out.Notes = append(out.Notes, Note{sec, fmt.Sprintf("%d of %d cells of the plane are no state of %s (blank on the maps, NaN in the arrays).", cells-len(at), cells, env.Name)})
	}
	if needCritics(c) != nil {
		return gv, nil
	}
	gq, err := c.GridQ()
	if err != nil {
		return nil, err
	}
	diff := make([]float32, cells)
	abs := 0.0
	for i := range diff {
		diff[i] = gq.Q[i] - value[i]
		if d := float64(diff[i]); !math.IsNaN(d) {
			abs += math.Abs(d)
		}
	}
	st := statsFinite(diff)
	am := num(abs / float64(max(len(at), 1)))
	gv.Error, gv.ErrorAbsMean = &st, &am
	if err := c.writeArray("value_error_grid.npy", diff, rows, cols); err != nil {
		return nil, err
	}
	fig, err = mapFigure(c.Plane, "Value error Q(s, π(s)) − V(s) = "+qName(c)+" − true value (> 0: over-estimation)", "Q − V", diff, rows, cols, 1, plotting.RdBuR(), true)
	return gv, out.add(sec, "value_error_grid", fig, err)
}

// gridStates returns the states of the grid's cells that are states of
// env, in row-major cell order, and the cell of each.
func gridStates(c *Context, env *envs.Env) (states []float64, at []int) {
	g := c.Grid()
	rows, cols := g.Shape()
	sd := env.StateDim
	states = make([]float64, 0, rows*cols*sd)
	obs, s := make([]float64, env.ObsDim), make([]float64, sd)
	for iy := 0; iy < rows; iy++ {
		y := g.Y.At(iy)
		for ix := 0; ix < cols; ix++ {
			c.Plane.ObsAt(g.X.At(ix), y, obs)
			if env.FromObs(obs, s) {
				states = append(states, s...)
				at = append(at, iy*cols+ix)
			}
		}
	}
	return states, at
}

// bufferValues rolls out from a seeded sample of the buffer states whose
// stored return is known.
func bufferValues(c *Context, env *envs.Env, o ReturnsOptions, gamma float64) (*BufferValues, error) {
	b := c.Run.Buffer.V
	st := returnStates(b.Obs, b.NextObs, b.ObsDim, b.Rewards, b.Dones, b.Size, b.Capacity, b.Index, gamma, valueHorizon(gamma))
	bv := &BufferValues{Horizon: o.Horizon, Gamma: gamma, Candidates: len(st.Rows)}
	pick := make([]int, len(st.Rows)) // indices into st.Rows
	for i := range pick {
		pick[i] = i
	}
	if len(pick) > o.BufferStates {
		rng := rand.New(rand.NewPCG(o.Seed, 0x62756666)) // "buff"
		for i := 0; i < o.BufferStates; i++ {
			j := i + rng.IntN(len(pick)-i)
			pick[i], pick[j] = pick[j], pick[i]
		}
		pick = pick[:o.BufferStates]
		slices.Sort(pick)
	}
	bv.Sampled = len(pick)
	d, sd := b.ObsDim, env.StateDim
	obs, s := make([]float64, d), make([]float64, sd)
	var states []float64
	var kept []int
	for _, k := range pick {
		row := st.Rows[k]
		for j := range obs {
			obs[j] = float64(b.Obs[row*d+j])
		}
		if env.FromObs(obs, s) {
			states = append(states, s...)
			kept = append(kept, k)
		}
	}
	bv.States = len(kept)
	bv.Rows = make([]int, len(kept))
	nan := num(math.NaN())
	bv.TrueValue, bv.StoredReturn, bv.StoredMinusTrue = nan, nan, nan
	r, err := rollout(c, env, states, len(kept), o.Horizon, gamma)
	if err != nil {
		return nil, err
	}
	var qpol []float32
	if needCritics(c) == nil {
		bq, err := c.BufferQ()
		if err != nil {
			return nil, err
		}
		qpol = bq.AtPolicy
	}
	table := make([]float32, 3*len(kept))
	var sv, sg, sq float64
	for i, k := range kept {
		row := st.Rows[k]
		bv.Rows[i] = row
		v, g := r.Return[i], st.Returns[k]
		q := math.NaN()
		if qpol != nil {
			q = float64(qpol[row])
		}
		sv, sg, sq = sv+v, sg+g, sq+q
		table[3*i], table[3*i+1], table[3*i+2] = float32(v), float32(g), float32(q)
	}
	if err := c.writeArray("buffer_values.npy", table, len(kept), 3); err != nil {
		return nil, err
	}
	if n := float64(len(kept)); n > 0 {
		bv.TrueValue, bv.StoredReturn, bv.StoredMinusTrue = num(sv/n), num(sg/n), num((sg-sv)/n)
		if qpol != nil {
			qm, qd := num(sq/n), num((sq-sv)/n)
			bv.QPolicy, bv.QPolicyMinusTrue = &qm, &qd
		}
	}
	return bv, nil
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// stats64 is statsOf of float64 values.
func stats64(v []float64) Stats {
	n := float64(len(v))
	if n == 0 {
		nan := num(math.NaN())
		return Stats{nan, nan, nan, nan}
	}
	sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, x := range v {
		sum += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean := sum / n
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return Stats{num(mean), num(math.Sqrt(ss / n)), num(lo), num(hi)}
}

// statsFinite is stats64 of the values that are not NaN.
func statsFinite(v []float32) Stats {
	f := make([]float64, 0, len(v))
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			f = append(f, float64(x))
		}
	}
	return stats64(f)
}
