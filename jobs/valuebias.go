package jobs

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// valueBiasJob measures the critics' value-estimation bias (the TD3
// paper's §4.1 question) from the stored trajectories: Q(s, a) at the
// stored action (min(Q1, Q2) of twin critics, as qvalues combines them)
// against the discounted Monte Carlo return G that followed, on the
// buffer's states whose return is known. It writes value_bias.json, a
// histogram of Q − G and Q against G, and puts the run's bias_mean in the
// batch summary.
//
// Inputs: the replay buffer, the critics (Q over the buffer is the shared
// BufferQ evaluation, computed once for this job and qvalues) and the
// config's algorithm.gamma (0.99 if absent).
var valueBiasJob = Job{Name: "valuebias", Sections: []Section{{"valuebias", "Value-estimation bias"}},
	Needs: needAll(needCritics, needBuffer, needReadableConfig), Run: runValueBias}

// needReadableConfig refuses a config that exists but is broken: its gamma
// is unknown. A run with no config at all takes the default gamma.
func needReadableConfig(c *Context) error {
	if c.Run.Config.V == nil && c.Run.Config.Err != nil && !errors.Is(c.Run.Config.Err, loaders.ErrNotExist) {
		return c.Run.Config.Err
	}
	return nil
}

// defaultGamma is the discount when a config has no algorithm.gamma (the
// issue's definition; loaders.DefaultConfig's 0.98 is upstream's default
// for config.yaml files that predate the key, not the definition's).
const defaultGamma = 0.99

// ValueBias is value_bias.json.
type ValueBias struct {
	// Gamma is the discount, Horizon H = ⌈ln 0.01 / ln γ⌉ the rows an
	// incomplete segment's state must lie before its end (γ^H ≤ 0.01: the
	// unseen rest of the episode weighs at most 1% of its return).
	Gamma   float64 `json:"gamma"`
	Horizon int     `json:"horizon"`
	// Segments counts the runs of consecutive rows, Complete those that
	// end in a done.
	Segments int `json:"segments"`
	Complete int `json:"complete_segments"`
	// States is how many buffer rows the statistics are over.
	States int `json:"states"`
	// MCReturnMean and QMean are the means of G and Q; BiasMean and
	// BiasStd (ddof 0) of Q − G.
	MCReturnMean num `json:"mc_return_mean"`
	QMean        num `json:"q_mean"`
	BiasMean     num `json:"bias_mean"`
	BiasStd      num `json:"bias_std"`
}

// biasStates are the buffer rows the bias is measured on.
type biasStates struct {
	// Rows are storage rows in time order; Returns their G.
	Rows    []int
	Returns []float64
	// Segments and Complete count all segments and those ending in done.
	Segments, Complete int
}

// valueHorizon is H = ⌈ln 0.01 / ln γ⌉ (1 for γ ≤ 0.01, no limit for γ ≥ 1).
func valueHorizon(gamma float64) int {
	if gamma >= 1 {
		return math.MaxInt
	}
	if gamma <= 0.01 {
		return 1
	}
	return int(math.Ceil(math.Log(0.01) / math.Log(gamma)))
}

// returnStates walks a replay buffer in time order (rows 0..size−1 while
// size < capacity, else index..capacity−1 then 0..index−1), cuts it into
// segments — ending at t when dones[t] (complete), or when
// next_observations[t] ≠ observations[t+1] or t is the last row
// (incomplete) — computes G_t = r_t + γ·G_{t+1} within each segment (G_t =
// r_t at its end), and keeps every row of a complete segment and the rows
// of an incomplete one at least horizon rows before its end. obs and next
// hold size×obsDim values, rewards and dones size values, in storage order.
func returnStates(obs, next []float32, obsDim int, rewards []float32, dones []bool, size, capacity, index int, gamma float64, horizon int) biasStates {
	var st biasStates
	if size <= 0 {
		return st
	}
	order := make([]int, size)
	if size < capacity || index <= 0 || index >= size {
		for t := range order {
			order[t] = t
		}
	} else {
		for t := range order {
			order[t] = (index + t) % size
		}
	}
	// ends[t]: 0 inside a segment, 1 at an incomplete end, 2 at a done.
	ends := make([]byte, size)
	for t, r := range order {
		switch {
		case dones[r]:
			ends[t] = 2
		case t == size-1:
			ends[t] = 1
		default:
			n := order[t+1]
			for d := 0; d < obsDim; d++ {
				if next[r*obsDim+d] != obs[n*obsDim+d] {
					ends[t] = 1
					break
				}
			}
		}
	}
	g := make([]float64, size)
	for t := size - 1; t >= 0; t-- {
		g[t] = float64(rewards[order[t]])
		if ends[t] == 0 {
			g[t] += gamma * g[t+1]
		}
	}
	start := 0
	for t := range size {
		if ends[t] == 0 {
			continue
		}
		st.Segments++
		last := t // the last row kept
		if ends[t] == 2 {
			st.Complete++
		} else if horizon > t-start {
			last = start - 1
		} else {
			last = t - horizon
		}
		for u := start; u <= last; u++ {
			st.Rows = append(st.Rows, order[u])
			st.Returns = append(st.Returns, g[u])
		}
		start = t + 1
	}
	return st
}

// configGamma is the config's algorithm.gamma, or defaultGamma without one.
func configGamma(runDir string) (float64, error) {
	cfg, err := RunConfig(runDir)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultGamma, nil
	}
	if err != nil {
		return 0, err
	}
	v, ok := cfg["algorithm.gamma"]
	if !ok || v == "null" || v == "" {
		return defaultGamma, nil
	}
	g, err := strconv.ParseFloat(v, 64)
	if err != nil || !(g > 0 && g <= 1) {
		return 0, fmt.Errorf("%s: algorithm.gamma %q is not a discount in (0, 1]", runDir, v)
	}
	return g, nil
}

func runValueBias(c *Context) (*Output, error) {
	b := c.Run.Buffer.V
	gamma, err := configGamma(c.Run.Dir)
	if err != nil {
		return nil, err
	}
	bq, err := c.BufferQ()
	if err != nil {
		return nil, err
	}
	q := bq.AtBuffer
	h := valueHorizon(gamma)
	st := returnStates(b.Obs, b.NextObs, b.ObsDim, b.Rewards, b.Dones, b.Size, b.Capacity, b.Index, gamma, h)
	vb := ValueBias{Gamma: gamma, Horizon: h, Segments: st.Segments, Complete: st.Complete, States: len(st.Rows)}
	nan := num(math.NaN())
	vb.MCReturnMean, vb.QMean, vb.BiasMean, vb.BiasStd = nan, nan, nan, nan
	qs := make([]float32, len(st.Rows))
	gs := make([]float32, len(st.Rows))
	diff := make([]float32, len(st.Rows))
	if n := len(st.Rows); n > 0 {
		var sq, sg, sd float64
		for i, r := range st.Rows {
			qv := float64(q[r])
			sq += qv
			sg += st.Returns[i]
			sd += qv - st.Returns[i]
			qs[i], gs[i], diff[i] = q[r], float32(st.Returns[i]), float32(qv-st.Returns[i])
		}
		mean := sd / float64(n)
		ss := 0.0
		for i, r := range st.Rows {
			d := float64(q[r]) - st.Returns[i] - mean
			ss += d * d
		}
		vb.MCReturnMean, vb.QMean, vb.BiasMean, vb.BiasStd = num(sg/float64(n)), num(sq/float64(n)), num(mean), num(math.Sqrt(ss/float64(n)))
	}
	out := &Output{Summary: func(s *RunSummary) { MetricValueBias.Set(s, float64(vb.BiasMean)) }}
	if c.Opt.CoreOnly {
		return out, nil
	}
	if err := c.writeJSON("value_bias.json", vb); err != nil {
		return nil, err
	}
	const sec = "valuebias"
	qn := qName(c)
	out.table(sec, plotting.Table{Caption: "Value-estimation bias: " + qn + "(s, a) at the stored actions − discounted return G",
		Header: []string{"γ", "horizon H", "segments (complete)", "states", "mean G", "mean Q", "mean Q − G", "std Q − G"},
		Rows: [][]string{{fmtNum(gamma), strconv.Itoa(h), fmt.Sprintf("%d (%d)", st.Segments, st.Complete), strconv.Itoa(len(st.Rows)),
			fmtNum(float64(vb.MCReturnMean)), fmtNum(float64(vb.QMean)), fmtNum(float64(vb.BiasMean)), fmtNum(float64(vb.BiasStd))}}})
	if len(st.Rows) == 0 {
		out.Notes = append(out.Notes, Note{sec, "No state of the buffer has a known return (no complete episode, no segment longer than H)."})
		return out, nil
	}
	hp := plotting.NewHistPanel("Q − G over the buffer's states", diff, c.Opt.HistBins, plotting.TabPurple)
	hp.XLabel = "Q(s, a) − G"
	fig, err := plotting.HistogramGrid("Value-estimation bias", 1, 1, []plotting.HistPanel{hp}, 0, 0)
	if err := out.add(sec, "value_bias_hist", fig, err); err != nil {
		return nil, err
	}
	title := "Q against the discounted return G, colour = Q − G"
	if len(gs) >= plotting.DensityThreshold {
		title = "Q against the discounted return G, colour = mean Q − G, shade = log density"
	}
	fig, err = plotting.PhasePortrait(gs, qs, diff, plotting.PhaseOptions{Title: title,
		XLabel: "G (discounted return that followed)", YLabel: "Q = " + qn + "(s, a)", ColorLabel: "Q − G"})
	return out, out.add(sec, "value_bias_scatter", fig, err)
}
