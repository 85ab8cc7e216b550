package loaders

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"

	"github.com/rleval/rleval/loaders/internal/npy"
)

// Other libraries' curves become a TrainLog, so the curves job, the report
// and batch summaries draw them as they draw train.jsonl: evaluation
// episode returns fill the evaluation table (reward_mean, reward_min,
// reward_max over the episodes of one evaluation, reward_sum their mean,
// ep_length), and training scalars (monitor.csv episodes, TensorBoard
// tags) fill the step table, one column per name.
//
// Their evaluations hold episode returns (the sum of an episode's
// rewards), never a mean reward per step: they fill reward_sum (the mean
// return, the column every layout's summary and batch curves read),
// return_min, return_max and return_std over the evaluation's episodes,
// episodes and ep_length; reward_mean (per step) stays empty.

// newCurveLog returns an empty TrainLog for a curve file.
func newCurveLog(path string) *TrainLog {
	lg := &TrainLog{Path: path}
	lg.Steps, lg.Evals, lg.Finals = *newTable("train", "step"), *newTable("train", "evaluation"), *newTable("train", "final_evaluation")
	return lg
}

// tableAppend adds one record of named values at step to t.
func tableAppend(t *Table, step float64, names []string, values []float64) {
	t.add(&Record{Step: step, HasStep: true, Names: names, Values: values})
}

// evalNames are the evaluation columns filled from episode returns.
var evalNames = []string{"reward_sum", "return_min", "return_max", "return_std", "episodes"}

// addEvaluation records one evaluation of episode returns at step. One
// whose step or a return is not a finite number is skipped and listed.
func addEvaluation(lg *TrainLog, step float64, returns []float64, lengths []float64) {
	if len(returns) == 0 {
		return
	}
	finite := !math.IsNaN(step) && !math.IsInf(step, 0)
	for _, r := range returns {
		finite = finite && !math.IsNaN(r) && !math.IsInf(r, 0)
	}
	if !finite {
		skipEvaluation(lg, step)
		return
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, r := range returns {
		lo, hi, sum = math.Min(lo, r), math.Max(hi, r), sum+r
	}
	mean := sum / float64(len(returns))
	ss := 0.0
	for _, r := range returns {
		ss += (r - mean) * (r - mean)
	}
	// std with ddof 0, as RL Zoo's EvalCallback prints it (np.std).
	names, vals := evalNames, []float64{mean, lo, hi, math.Sqrt(ss / float64(len(returns))), float64(len(returns))}
	if len(lengths) > 0 {
		l := 0.0
		for _, x := range lengths {
			l += x
		}
		names = append(names[:len(names):len(names)], "ep_length")
		vals = append(vals, l/float64(len(lengths)))
	}
	tableAppend(&lg.Evals, step, names, vals)
	lg.Lines++
}

// skipEvaluation counts and lists one evaluation at step whose step or a
// return is not a finite number.
func skipEvaluation(lg *TrainLog, step float64) {
	lg.Lines++
	lg.SkippedCount++
	if len(lg.Skipped) < MaxSkippedListed {
		lg.Skipped = append(lg.Skipped, SkippedLine{Line: lg.Lines,
			Reason: fmt.Sprintf("evaluation at step %v: a return or the step is not a finite number", step)})
	}
}

// LoadEvaluationsNPZ reads Stable-Baselines3's EvalCallback file
// evaluations.npz: timesteps (n), results (n × episodes) and ep_lengths.
func LoadEvaluationsNPZ(path string) (*TrainLog, error) {
	m, err := npy.LoadNPZ(path)
	if err != nil {
		return nil, err
	}
	ts, okT := m["timesteps"]
	res, okR := m["results"]
	if !okT || !okR {
		return nil, fmt.Errorf("load %s: no timesteps and results arrays: %w", path, ErrInvalid)
	}
	steps, err := ts.Float64s()
	if err != nil {
		return nil, fmt.Errorf("load %s: timesteps: %w", path, err)
	}
	r, err := res.Float64s()
	if err != nil {
		return nil, fmt.Errorf("load %s: results: %w", path, err)
	}
	n := len(steps)
	if n == 0 || len(r)%n != 0 || (len(res.Shape) > 0 && res.Shape[0] != n) {
		return nil, fmt.Errorf("load %s: results of shape %v for %d timesteps: %w", path, res.Shape, n, ErrInvalid)
	}
	per := len(r) / n
	var lens []float64
	if el, ok := m["ep_lengths"]; ok {
		if lens, err = el.Float64s(); err != nil || len(lens) != len(r) {
			lens = nil
		}
	}
	lg := newCurveLog(path)
	for i, s := range steps {
		var l []float64
		if lens != nil {
			l = lens[i*per : (i+1)*per]
		}
		addEvaluation(lg, s, r[i*per:(i+1)*per], l)
	}
	return lg, nil
}

// maxMonitorBytes bounds a monitor.csv (one short line per episode:
// about eight million episodes).
const maxMonitorBytes = 256 << 20

// maxMonitorLine bounds one line of a monitor.csv; a longer one is an
// error (real lines are three numbers and the occasional info key).
const maxMonitorLine = 1 << 20

// LoadMonitorCSV reads a Stable-Baselines3 Monitor file: a `#{json}`
// header, a `r,l,t` column line, then one line per training episode. The
// episodes become step-table columns episode_reward and episode_length at
// the cumulative step count where each episode ended. The file is read as
// a stream into the columns, which are sized from the file once the first
// episodes show how long a line is. An episode whose length is not a
// number > 0, or whose return is not a finite number, is skipped and
// listed; one with a sound length still counts towards the step axis.
func LoadMonitorCSV(path string) (*TrainLog, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > maxMonitorBytes {
		return nil, fmt.Errorf("load %s: monitor file is %d MB, more than the %d MB (about eight million episodes) rleval reads; move it out of the run folder to evaluate the run without it: %w",
			path, size>>20, maxMonitorBytes>>20, ErrInvalid)
	}
	lg := newCurveLog(path)
	skip := func(line int, reason string) {
		lg.SkippedCount++
		if len(lg.Skipped) < MaxSkippedListed {
			lg.Skipped = append(lg.Skipped, SkippedLine{Line: line, Reason: reason})
		}
	}
	// Read no further than the size checked above: a file still being
	// written is read as it was.
	sc := bufio.NewScanner(io.LimitReader(f, size))
	sc.Buffer(make([]byte, 64<<10), maxMonitorLine)
	var (
		line, read int
		cols       = map[string]int{}
		total      float64
		names      = []string{"episode_reward", "episode_length"}
		vals       = make([]float64, 2)
		fields     [][]byte
	)
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		read += len(raw) + 1
		text := bytes.TrimSpace(raw)
		if len(text) == 0 {
			continue
		}
		if text[0] == '#' {
			var hdr map[string]any
			if line != 1 || json.Unmarshal(text[1:], &hdr) != nil {
				return nil, fmt.Errorf("load %s: line %d: not a monitor header: %w", path, line, ErrInvalid)
			}
			continue
		}
		fields = fields[:0]
		for f := range bytes.SplitSeq(text, []byte(",")) {
			fields = append(fields, f)
		}
		if len(cols) == 0 {
			for i, f := range fields {
				cols[string(f)] = i
			}
			if _, ok := cols["r"]; !ok {
				return nil, fmt.Errorf("load %s: line %d: no r column: %w", path, line, ErrInvalid)
			}
			continue
		}
		num := func(c string) (float64, bool) {
			i, ok := cols[c]
			if !ok || i >= len(fields) {
				return 0, false
			}
			v, err := strconv.ParseFloat(string(fields[i]), 64)
			return v, err == nil
		}
		r, okR := num("r")
		l, okL := num("l")
		_, hasL := cols["l"]
		switch {
		case hasL && (!okL || !(l > 0) || math.IsInf(l, 0)):
			skip(line, "episode length is not a number > 0")
			continue
		case okL:
			total += l
		}
		if !okR || math.IsNaN(r) || math.IsInf(r, 0) {
			skip(line, "episode return is not a finite number")
			continue
		}
		vals[0], vals[1] = r, l
		n := 1
		if okL {
			n = 2
		}
		tableAppend(&lg.Steps, total, names[:n], vals[:n])
		if lg.Steps.Count == reserveAfter {
			lg.Steps.reserve(expectedRecords(reserveAfter, int64(read), size))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load %s: line %d: %v: %w", path, line+1, err, ErrInvalid)
	}
	lg.Lines = line
	return lg, nil
}

// LoadTD3Results reads original TD3's results/<policy>_<env>_<seed>.npy:
// the average evaluation return every eval_freq steps, the first before
// training.
func LoadTD3Results(path string, evalFreq float64) (*TrainLog, error) {
	a, err := npy.LoadNPY(path)
	if err != nil {
		return nil, err
	}
	v, err := a.Float64s()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w: %w", path, err, ErrInvalid)
	}
	lg := newCurveLog(path)
	for i, r := range v {
		step := float64(i) * evalFreq
		if math.IsNaN(r) || math.IsInf(r, 0) {
			skipEvaluation(lg, step)
			continue
		}
		// Each value is already a mean over the evaluation's episodes,
		// whose spread the file does not keep.
		tableAppend(&lg.Evals, step, []string{"reward_sum"}, []float64{r})
		lg.Lines++
	}
	return lg, nil
}

// mergeLogs puts the tables of several curve sources into one TrainLog
// (the first's path names it); sources that failed are left out. The
// lines each source skipped are kept, their reasons naming the file.
func mergeLogs(logs ...*TrainLog) *TrainLog {
	var out *TrainLog
	for _, lg := range logs {
		if lg == nil {
			continue
		}
		if out == nil {
			out = lg
			continue
		}
		for _, pair := range [][2]*Table{{&out.Steps, &lg.Steps}, {&out.Evals, &lg.Evals}} {
			dst, src := pair[0], pair[1]
			if src.Count == 0 {
				continue
			}
			if dst.Count == 0 {
				*dst = *src
				continue
			}
			dst.join(src)
		}
		out.Lines += lg.Lines
		out.SkippedCount += lg.SkippedCount
		for _, s := range lg.Skipped {
			if len(out.Skipped) == MaxSkippedListed {
				break
			}
			s.Reason = filepath.Base(lg.Path) + ": " + s.Reason
			out.Skipped = append(out.Skipped, s)
		}
	}
	return out
}
