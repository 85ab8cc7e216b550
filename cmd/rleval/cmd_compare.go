package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/stats"
)

// groupFlags are the flags that choose how runs are grouped and compared.
type groupFlags struct {
	groupBy, metric, scoreRange string
	reps, curveReps, pairReps   int
	seed                        uint64
}

func (g *groupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.groupBy, "group-by", "", "group runs by these config `KEY,...` (dotted, e.g. algorithm.actor.optimizer.lr); default: runs whose configs differ only by seed, names, dates and paths")
	fs.StringVar(&g.metric, "metric", "", "per-run score the groups are compared by: "+strings.Join(batch.MetricNames(), ", ")+" (default: the last evaluation's reward_sum)")
	fs.StringVar(&g.scoreRange, "score-range", "", "normalise scores by `LO,HI` for the optimality gap (default: the scores' own range)")
	fs.IntVar(&g.reps, "reps", stats.DefaultReps, "bootstrap replicates of each group's aggregates")
	fs.IntVar(&g.curveReps, "curve-reps", 5000, "bootstrap replicates of each point of the IQM curves and performance profiles")
	fs.IntVar(&g.pairReps, "pair-reps", 5000, "bootstrap replicates of each probability of improvement")
	fs.Uint64Var(&g.seed, "seed", 0, "seed of the bootstrap")
}

func (g *groupFlags) options() (batch.GroupOptions, error) {
	o := batch.GroupOptions{Metric: g.metric, Bootstrap: stats.Bootstrap{Reps: g.reps, Seed: g.seed}, CurveReps: g.curveReps, PairReps: g.pairReps}
	if g.reps < 1 || g.curveReps < 1 || g.pairReps < 1 {
		return o, usagef("--reps, --curve-reps and --pair-reps must be positive")
	}
	for _, k := range strings.Split(g.groupBy, ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.GroupBy = append(o.GroupBy, k)
		}
	}
	if g.scoreRange != "" {
		var r [2]float64
		lo, hi, ok := strings.Cut(g.scoreRange, ",")
		var err1, err2 error
		r[0], err1 = strconv.ParseFloat(strings.TrimSpace(lo), 64)
		r[1], err2 = strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if !ok || err1 != nil || err2 != nil {
			return o, usagef("--score-range %q: want LO,HI", g.scoreRange)
		}
		if !(r[1] > r[0]) {
			return o, usagef("--score-range %q: want LO < HI", g.scoreRange)
		}
		o.ScoreRange = &r
	}
	if err := o.Validate(); err != nil {
		return o, usagef("--metric: %v", err)
	}
	return o, nil
}

func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "OUT...", "Recomputes the groups of runs and their statistics (groups.json, groups.csv) and the\nindex page from finished batch outputs, without evaluating anything again: after\n`rleval merge`, with another grouping or metric, or across several batches (then\n--out is required). Run configs are read from the run directories the summaries name.", stderr)
	var gf groupFlags
	gf.register(fs)
	out := fs.String("out", "", "where to write groups.json, groups.csv and index.html (default: the one OUT)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("compare takes at least one batch output folder")
	}
	if *out == "" {
		if len(pos) > 1 {
			return usagef("compare of %d batches needs --out", len(pos))
		}
		*out = pos[0]
	}
	opt, err := gf.options()
	if err != nil {
		return err
	}
	res, g, err := batch.Compare(*out, pos, opt)
	if err != nil {
		switch code := batchExit(nil, err); code {
		case exitUsage:
			return asUsage(err)
		case exitFailure:
		default:
			return exitError{code, err}
		}
		return err
	}
	for _, n := range g.Notes {
		fmt.Fprintf(stderr, "rleval: note: %s\n", n)
	}
	fmt.Fprintf(stdout, "%s in %s (by %s) → %s\n", plural.N(len(res.Runs), "run"), plural.N(len(g.Groups), "group"), strings.Join(g.GroupBy, ", "), filepath.Join(*out, batch.GroupsJSONName))
	return nil
}
