package batch

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/internal/jsonnum"
	"github.com/rleval/rleval/internal/par"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/stats"
)

// Names of the group files in a batch's output folder.
const (
	GroupsJSONName = "groups.json"
	GroupsCSVName  = "groups.csv"
)

// groupsVersion is the groups.json format version.
const groupsVersion = 1

// MetricNames lists the per-run numbers groups can be compared by
// (jobs.Metrics), for GroupOptions.Metric; the first is the default.
func MetricNames() []string {
	var names []string
	for _, m := range jobs.Metrics() {
		names = append(names, m.Name)
	}
	return names
}

// metricOf returns the metric called name ("" is the default).
func metricOf(name string) (jobs.Metric, error) {
	if name == "" {
		return jobs.Metrics()[0], nil
	}
	if m, ok := jobs.MetricByName(name); ok {
		return m, nil
	}
	return jobs.Metric{}, fmt.Errorf("unknown metric %q (want one of %s): %w", name, strings.Join(MetricNames(), ", "), jobs.ErrUsage)
}

// GroupOptions configure how runs are grouped and compared.
type GroupOptions struct {
	// GroupBy lists the config keys (dotted paths, e.g.
	// "algorithm.actor.optimizer.lr") that define a group; nil groups runs
	// whose configs are equal but for seeds, names, dates and paths.
	GroupBy []string
	// Metric names the per-run score (one of Metrics; "" is the last
	// evaluation's reward_sum).
	Metric string
	// ScoreRange, when set, normalises scores for the optimality gap and
	// bounds the performance profile; otherwise the scores' own range is
	// used.
	ScoreRange *[2]float64
	// Bootstrap seeds the intervals and sets the replicates of the
	// aggregates (0: stats.DefaultReps).
	Bootstrap stats.Bootstrap
	// CurveReps and PairReps are the replicates of each point of the IQM
	// curves and performance profiles, and of each probability of
	// improvement (0: 5000 each). They are fewer than Bootstrap.Reps
	// because there are many points and pairs: a 500-run sweep has
	// thousands of each, and their intervals are drawn, not tabulated.
	CurveReps, PairReps int
}

// Validate checks the options a batch only uses once every run is done.
func (o GroupOptions) Validate() error {
	_, err := metricOf(o.Metric)
	return err
}

// maxPairGroups bounds the groups whose probability-of-improvement matrix
// gets intervals: the matrix grows as the square of the groups, and past
// this many it is a picture, not something one reads intervals from.
const maxPairGroups = 60

// Stat is a statistic with its confidence interval; NaN is written null.
// It is the returns job's Interval, so that a group's statistics and a
// run's true return read alike.
type Stat = jobs.Interval

func statOf(iv stats.Interval) *Stat {
	return &Stat{Value: jsonnum.Float(iv.Value), Lo: jsonnum.Float(iv.Lo), Hi: jsonnum.Float(iv.Hi)}
}

// GroupCurve is a group's sample-efficiency curve: the IQM across its runs
// of the evaluation reward_sum at each step every run reached.
type GroupCurve struct {
	Step []float64 `json:"step"`
	IQM  []Stat    `json:"iqm"`
}

// Group is one group of runs and its statistics over them.
type Group struct {
	// Name is "key=value, ..." of the keys whose values tell groups apart.
	Name string `json:"name"`
	// Keys holds those keys' values.
	Keys map[string]string `json:"keys"`
	// Runs are the run names, Outs their output folders relative to the
	// batch output (as in summary.json), in the same order.
	Runs []string `json:"runs"`
	Outs []string `json:"outs"`
	// Scores are the runs' metric values (null where a run has none);
	// Scored counts the finite ones, which the statistics are over.
	Scores []jsonnum.Float `json:"scores"`
	Scored int             `json:"scored"`
	// The aggregates of the scores (nil when no run has a score).
	Mean          *Stat `json:"mean"`
	Median        *Stat `json:"median"`
	IQM           *Stat `json:"iqm"`
	OptimalityGap *Stat `json:"optimality_gap"`
	// ValueBias is the mean over runs of the value-estimation bias.
	ValueBias *Stat `json:"value_bias"`
	// TrueReturn is the mean over runs of the returns job's true return
	// (each run's mean episode return; nil when no run has one).
	TrueReturn *Stat `json:"true_return,omitempty"`
	// Curve is the IQM curve of the evaluation reward_sum.
	Curve GroupCurve `json:"iqm_curve"`
	// Profile is the performance profile at Groups.Thresholds.
	Profile []Stat `json:"profile"`
}

// Groups is groups.json: the groups of a batch and their comparison.
type Groups struct {
	Version int    `json:"version"`
	Metric  string `json:"metric"`
	// GroupBy are the keys that name the groups.
	GroupBy []string `json:"group_by"`
	// ScoreRange normalises the optimality gap; ScoreRangeSource is
	// "option" or "observed" (the scores' min and max).
	ScoreRange       [2]float64 `json:"score_range"`
	ScoreRangeSource string     `json:"score_range_source"`
	Seed             uint64     `json:"seed"`
	Level            float64    `json:"level"`
	Reps             int        `json:"reps"`
	CurveReps        int        `json:"curve_reps"`
	PairReps         int        `json:"pair_reps"`
	// Thresholds are the performance profile's score thresholds.
	Thresholds []float64 `json:"thresholds"`
	Groups     []Group   `json:"groups"`
	// Improvement[i][j] is the probability that a run of group i scores
	// above a run of group j (null on the diagonal or without scores).
	Improvement [][]*Stat `json:"probability_of_improvement"`
	// Ungrouped are runs whose config could not be read.
	Ungrouped []string `json:"ungrouped,omitempty"`
	Notes     []string `json:"notes,omitempty"`
}

// ignoredKey reports whether a config key never tells groups apart:
// seeds, names, dates, times and paths.
func ignoredKey(k string) bool {
	last := strings.ToLower(k[strings.LastIndexByte(k, '.')+1:])
	if strings.Contains(last, "seed") {
		return true
	}
	switch last {
	case "experiment_name", "exp_name", "run_name", "date", "time", "timestamp", "datetime", "uuid", "verbose":
		return true
	case "name":
		return !strings.Contains(k, ".") // a run's own name, not env.name
	}
	for _, suf := range []string{"dir", "path", "file", "folder", "_log", "_date", "_time"} {
		if strings.HasSuffix(last, suf) {
			return true
		}
	}
	return false
}

// CheckGroupBy returns an error wrapping ErrUsage when a --group-by key is
// in the config of none of the runs in dirs (runs without a readable
// config are not counted); it names the keys that exist.
func CheckGroupBy(dirs []string, groupBy []string) error {
	if len(groupBy) == 0 {
		return nil
	}
	var configs []map[string]string
	for _, d := range dirs {
		if c, err := jobs.RunConfig(d); err == nil {
			configs = append(configs, c)
		}
	}
	return checkGroupBy(configs, groupBy)
}

// maxKeysNamed bounds the config keys an unknown --group-by key lists.
const maxKeysNamed = 30

func checkGroupBy(configs []map[string]string, groupBy []string) error {
	if len(configs) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, c := range configs {
		for k := range c {
			have[k] = true
		}
	}
	for _, k := range groupBy {
		if have[k] {
			continue
		}
		all := slices.Sorted(maps.Keys(have))
		// Keys that contain what was typed first: "algo" finds
		// "algorithm.name".
		var near, rest []string
		for _, h := range all {
			if strings.Contains(strings.ToLower(h), strings.ToLower(k)) {
				near = append(near, h)
			} else {
				rest = append(rest, h)
			}
		}
		list := append(near, rest...)
		more := ""
		if len(list) > maxKeysNamed {
			more = fmt.Sprintf(" and %d more", len(list)-maxKeysNamed)
			list = list[:maxKeysNamed]
		}
		return fmt.Errorf("--group-by %s: no run's config has that key; the keys they have: %s%s: %w", k, strings.Join(list, ", "), more, jobs.ErrUsage)
	}
	return nil
}

// absent stands for a key a run's config does not have.
const absent = "(absent)"

// configValue is c's value of key k, absent when it has none.
func configValue(c map[string]string, k string) string {
	if v, ok := c[k]; ok {
		return v
	}
	return absent
}

// namingKeys are the config keys that name groups: groupBy when given (in
// the user's order), else every key but the ignored ones whose value
// differs between runs, sorted.
func namingKeys(configs []map[string]string, groupBy []string) []string {
	if len(groupBy) > 0 {
		return groupBy
	}
	keyset := map[string]bool{}
	for _, c := range configs {
		for k := range c {
			if !ignoredKey(k) {
				keyset[k] = true
			}
		}
	}
	var naming []string
	for _, k := range slices.Sorted(maps.Keys(keyset)) {
		first := configValue(configs[0], k)
		for _, c := range configs[1:] {
			if configValue(c, k) != first {
				naming = append(naming, k)
				break
			}
		}
	}
	return naming
}

// assignGroups groups runs by their configs: by the values of groupBy, or
// by every key but the ignored ones. It returns the members of each group
// (indices into configs, groups in name order) with each group's name and
// key values, and the keys that name them.
func assignGroups(configs []map[string]string, groupBy []string) (members [][]int, names []string, keys []map[string]string, naming []string) {
	naming = namingKeys(configs, groupBy)
	byName := map[string]int{}
	for i, c := range configs {
		parts := make([]string, len(naming))
		kv := map[string]string{}
		for j, k := range naming {
			v := configValue(c, k)
			parts[j] = k + "=" + v
			kv[k] = v
		}
		name := strings.Join(parts, ", ")
		g, ok := byName[name]
		if !ok {
			g = len(names)
			byName[name] = g
			names = append(names, name)
			keys = append(keys, kv)
			members = append(members, nil)
		}
		members[g] = append(members[g], i)
	}
	// Without --group-by, a group is named by the fewest of those keys
	// that still tell every group apart: a sweep's config often records a
	// setting in several keys (and others change with it), which would
	// name each group by a dozen of them. Keys keeps them all.
	if len(groupBy) == 0 {
		naming = fewestKeys(keys, naming)
	}
	for g, kv := range keys {
		parts := make([]string, len(naming))
		for j, k := range naming {
			parts[j] = k + "=" + kv[k]
		}
		names[g] = strings.Join(parts, ", ")
		if names[g] == "" {
			names[g] = "all runs"
		}
	}
	// Name order, with numbers compared as numbers where the names
	// differ only there (lr=0.0003 before lr=0.001).
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		for _, k := range naming {
			va, vb := keys[a][k], keys[b][k]
			if va == vb {
				continue
			}
			fa, ea := strconv.ParseFloat(va, 64)
			fb, eb := strconv.ParseFloat(vb, 64)
			if ea == nil && eb == nil {
				if fa < fb {
					return -1
				}
				return 1
			}
			return strings.Compare(va, vb)
		}
		return 0
	})
	sortedMembers := make([][]int, len(order))
	sortedNames := make([]string, len(order))
	sortedKeys := make([]map[string]string, len(order))
	for i, g := range order {
		sortedMembers[i], sortedNames[i], sortedKeys[i] = members[g], names[g], keys[g]
	}
	return sortedMembers, sortedNames, sortedKeys, naming
}

// fewestKeys returns a smallest set, found greedily, of the keys whose
// values tell every pair of groups apart, in the order of keys: each step
// takes the key that separates the most pairs still alike, on a tie the
// one with the shorter values, then the first by name.
func fewestKeys(groups []map[string]string, keys []string) []string {
	n := len(groups)
	alike := make([][2]int, 0, n*(n-1)/2)
	for a := range n {
		for b := a + 1; b < n; b++ {
			alike = append(alike, [2]int{a, b})
		}
	}
	chosen := map[string]bool{}
	for len(alike) > 0 {
		best, bestSplit, bestLen := "", 0, 0
		for _, k := range keys {
			if chosen[k] {
				continue
			}
			split := 0
			for _, p := range alike {
				if groups[p[0]][k] != groups[p[1]][k] {
					split++
				}
			}
			length := 0
			for _, g := range groups {
				length += len(k) + len(g[k])
			}
			if split > bestSplit || (split == bestSplit && split > 0 && length < bestLen) {
				best, bestSplit, bestLen = k, split, length
			}
		}
		if bestSplit == 0 {
			break // cannot happen: the groups differ in some key
		}
		chosen[best] = true
		kept := alike[:0]
		for _, p := range alike {
			if groups[p[0]][best] == groups[p[1]][best] {
				kept = append(kept, p)
			}
		}
		alike = kept
	}
	var out []string
	for _, k := range keys {
		if chosen[k] {
			out = append(out, k)
		}
	}
	return out
}

// ComputeGroups groups the runs of a batch result and computes every
// statistic over each group's runs. Run configs are read from each row's
// Dir; a run whose config cannot be read is listed as ungrouped.
func ComputeGroups(res *Result, opt GroupOptions) (*Groups, error) {
	metric, err := metricOf(opt.Metric)
	if err != nil {
		return nil, err
	}
	g := &Groups{Version: groupsVersion, Metric: metric.Name, Seed: opt.Bootstrap.Seed, Level: opt.Bootstrap.Level,
		Reps: opt.Bootstrap.Reps, CurveReps: opt.CurveReps, PairReps: opt.PairReps, Groups: []Group{}}
	if g.Level <= 0 || g.Level >= 1 {
		g.Level = 0.95
	}
	if g.Reps <= 0 {
		g.Reps = stats.DefaultReps
	}
	if g.CurveReps <= 0 {
		g.CurveReps = 5000
	}
	if g.PairReps <= 0 {
		g.PairReps = 5000
	}
	var rows []*jobs.RunSummary
	var configs []map[string]string
	for i := range res.Runs {
		s := &res.Runs[i]
		c, err := jobs.RunConfig(s.Dir)
		if err != nil {
			g.Ungrouped = append(g.Ungrouped, s.Name)
			g.Notes = append(g.Notes, fmt.Sprintf("%s: no config to group by: %v", s.Name, err))
			continue
		}
		rows = append(rows, s)
		configs = append(configs, c)
	}
	if len(rows) == 0 {
		return g, nil
	}
	if err := checkGroupBy(configs, opt.GroupBy); err != nil {
		return nil, err
	}
	members, names, keys, naming := assignGroups(configs, opt.GroupBy)
	g.GroupBy = naming
	if g.GroupBy == nil {
		g.GroupBy = []string{}
	}

	// Score range: the option, or the scores' own.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range rows {
		if v := metric.Get(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	g.ScoreRangeSource = "observed"
	if opt.ScoreRange != nil {
		lo, hi = opt.ScoreRange[0], opt.ScoreRange[1]
		g.ScoreRangeSource = "option"
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	g.ScoreRange = [2]float64{lo, hi}
	g.Thresholds = stats.Thresholds(lo, hi, 51)

	g.Groups = make([]Group, len(members))
	scores := make([][]float64, len(members))
	for i, m := range members {
		gr := &g.Groups[i]
		gr.Name, gr.Keys = names[i], keys[i]
		for _, r := range m {
			s := rows[r]
			gr.Runs = append(gr.Runs, s.Name)
			gr.Outs = append(gr.Outs, s.Out)
			v := metric.Get(s)
			gr.Scores = append(gr.Scores, jsonnum.Float(v))
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				scores[i] = append(scores[i], v)
			}
		}
		gr.Scored = len(scores[i])
	}
	boot := opt.Bootstrap
	boot.Reps, boot.Level = g.Reps, g.Level
	curveBoot := boot
	curveBoot.Reps = g.CurveReps

	// Groups are independent; each has its own random streams, so the
	// result does not depend on the order they are computed in.
	par.For(len(members), func(i int) {
		groupStats(&g.Groups[i], scores[i], rows, members[i], boot.WithStream(uint64(i)<<8), curveBoot.WithStream(uint64(i)<<8), lo, hi, g.Thresholds)
	})

	g.Improvement = improvementMatrix(scores, opt.Bootstrap.Seed, g.PairReps, g.Level)
	if len(members) > maxPairGroups {
		g.Notes = append(g.Notes, fmt.Sprintf("%d groups: the probability-of-improvement matrix has no intervals past %d groups", len(members), maxPairGroups))
	}
	return g, nil
}

// groupStats fills one group's statistics. Streams: +0 the aggregates, +1
// the value bias, +2 the profile, +3 the IQM curve, +4 the true return.
func groupStats(gr *Group, scores []float64, rows []*jobs.RunSummary, members []int, boot, curveBoot stats.Bootstrap, lo, hi float64, taus []float64) {
	if len(scores) > 0 {
		a, err := boot.Aggregates(stats.Scores{scores}, lo, hi)
		if err == nil {
			gr.Mean, gr.Median, gr.IQM, gr.OptimalityGap = statOf(a.Mean), statOf(a.Median), statOf(a.IQM), statOf(a.OptimalityGap)
		}
		if p, err := curveBoot.WithStream(curveBoot.Stream+2).Profile(stats.Scores{scores}, taus); err == nil {
			for _, iv := range p {
				gr.Profile = append(gr.Profile, *statOf(iv))
			}
		}
	}
	var bias, truth []float64
	var steps, values [][]float64
	for _, r := range members {
		s := rows[r]
		if v := jobs.MetricValueBias.Get(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
			bias = append(bias, v)
		}
		if v := jobs.MetricTrueReturn.Get(s); !math.IsNaN(v) && !math.IsInf(v, 0) {
			truth = append(truth, v)
		}
		if n := min(len(s.CurveStep), len(s.CurveValue)); n > 0 {
			steps = append(steps, s.CurveStep[:n])
			values = append(values, s.CurveValue[:n])
		}
	}
	if len(bias) > 0 {
		if a, err := boot.WithStream(boot.Stream+1).Aggregates(stats.Scores{bias}, 0, 1); err == nil {
			gr.ValueBias = statOf(a.Mean)
		}
	}
	if len(truth) > 0 {
		if a, err := boot.WithStream(boot.Stream+4).Aggregates(stats.Scores{truth}, 0, 1); err == nil {
			gr.TrueReturn = statOf(a.Mean)
		}
	}
	gr.Curve = GroupCurve{Step: []float64{}, IQM: []Stat{}}
	if len(steps) > 0 {
		c := curveBoot.WithStream(curveBoot.Stream+3).SampleEfficiency(steps, values)
		gr.Curve.Step = c.Step
		for _, iv := range c.IQM {
			gr.Curve.IQM = append(gr.Curve.IQM, *statOf(iv))
		}
	}
}

// improvementMatrix is P(group i > group j) for every pair, with intervals
// up to maxPairGroups groups. Pair (i, j) uses stream 2⁴⁰ + i·n + j.
func improvementMatrix(scores [][]float64, seed uint64, reps int, level float64) [][]*Stat {
	n := len(scores)
	m := make([][]*Stat, n)
	for i := range m {
		m[i] = make([]*Stat, n)
	}
	type pair struct{ i, j int }
	var pairs []pair
	for i := range n {
		for j := range n {
			if i != j && len(scores[i]) > 0 && len(scores[j]) > 0 {
				pairs = append(pairs, pair{i, j})
			}
		}
	}
	par.For(len(pairs), func(k int) {
		p := pairs[k]
		x, y := stats.Scores{scores[p.i]}, stats.Scores{scores[p.j]}
		if n > maxPairGroups {
			v, err := stats.ProbabilityOfImprovement(x, y)
			if err == nil {
				nan := jsonnum.Float(math.NaN())
				m[p.i][p.j] = &Stat{Value: jsonnum.Float(v), Lo: nan, Hi: nan}
			}
			return
		}
		b := stats.Bootstrap{Reps: reps, Seed: seed, Stream: 1<<40 + uint64(p.i*n+p.j), Level: level}
		if iv, err := b.Improvement(x, y); err == nil {
			m[p.i][p.j] = statOf(iv)
		}
	})
	return m
}

// WriteGroups writes groups.json and groups.csv to dir, each atomically.
func WriteGroups(dir string, g *Groups) error {
	if err := atomicfile.Write(filepath.Join(dir, GroupsJSONName), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(g)
	}); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, GroupsCSVName), func(w io.Writer) error {
		return writeGroupsCSV(w, g)
	})
}

// GroupsCSVHeader is the header row of groups.csv.
var GroupsCSVHeader = []string{"group", "runs", "scored",
	"mean", "mean_lo", "mean_hi", "median", "median_lo", "median_hi", "iqm", "iqm_lo", "iqm_hi",
	"optimality_gap", "optimality_gap_lo", "optimality_gap_hi", "value_bias", "value_bias_lo", "value_bias_hi",
	"true_return", "true_return_lo", "true_return_hi"}

func writeGroupsCSV(w io.Writer, g *Groups) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(GroupsCSVHeader); err != nil {
		return err
	}
	for _, gr := range g.Groups {
		row := []string{gr.Name, strconv.Itoa(len(gr.Runs)), strconv.Itoa(gr.Scored)}
		for _, s := range []*Stat{gr.Mean, gr.Median, gr.IQM, gr.OptimalityGap, gr.ValueBias, gr.TrueReturn} {
			if s == nil {
				row = append(row, "", "", "")
				continue
			}
			row = append(row, csvFloat(float64(s.Value)), csvFloat(float64(s.Lo)), csvFloat(float64(s.Hi)))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadGroups reads a groups.json written by WriteGroups.
func ReadGroups(path string) (*Groups, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var g Groups
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if g.Version != groupsVersion {
		return nil, fmt.Errorf("read %s: groups format version %d, this rleval reads %d", path, g.Version, groupsVersion)
	}
	return &g, nil
}

// writeBatchPages computes and writes the groups of a finished batch or
// merge, then its index page. A failure to group is a note on the page,
// not a failed batch: the runs' own results stand.
func writeBatchPages(out string, res *Result, opt GroupOptions) error {
	g, err := ComputeGroups(res, opt)
	if err != nil {
		if errors.Is(err, jobs.ErrUsage) {
			return err
		}
		res.Notes = append(res.Notes, "groups: "+err.Error())
		g = nil
	}
	if g != nil {
		if err := WriteGroups(out, g); err != nil {
			return err
		}
	}
	return WriteIndex(filepath.Join(out, IndexFileName), res, g)
}
