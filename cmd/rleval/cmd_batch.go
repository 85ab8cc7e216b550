package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/jobs"
)

func cmdBatch(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("batch", "EXPERIMENTS_DIR", "Evaluates every run under EXPERIMENTS_DIR (directories named <date>_<time>_<name>,\nor holding a config.yaml) with all analyses, writing each run as `rleval run` does\nand summary.json, summary.csv and index.html in --out. A broken run is a row with\nits error; the others go on. A run whose inputs are unchanged since its last\nsuccessful evaluation is skipped (--force redoes it). --shard i/n (0-based) takes a\nstable share of the runs for cluster array jobs; combine shards with `rleval merge`.\nExit status: 0 all runs ok, 3 some runs failed, 1 the batch could not run, 2 usage,\n130 interrupted (finished runs are kept; rerun to resume).", stderr)
	var ef evalFlags
	ef.register(fs, true)
	ef.registerCheckpoints(fs)
	out := fs.String("out", "rleval-out", "output directory")
	workers := fs.Int("workers", 0, "runs evaluated at once (0: one per core)")
	shard := fs.String("shard", "", "evaluate only shard `i/n` (0-based), e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT")
	match := fs.String("match", "", "evaluate only runs whose directory name matches this `GLOB`")
	force := fs.Bool("force", false, "re-evaluate runs whose outputs are up to date")
	followLinks := fs.Bool("follow-links", false, "follow symbolic links that lead out of EXPERIMENTS_DIR (by default they are skipped with a note)")
	var gf groupFlags
	gf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("batch takes one experiments directory, got %d", len(pos))
	}
	b := batch.Batch{Root: pos[0], Out: *out, Workers: *workers, Match: *match, Force: *force, FollowLinks: *followLinks}
	if b.Groups, err = gf.options(); err != nil {
		return err
	}
	if b.Workers <= 0 {
		b.Workers = runtime.NumCPU()
	}
	if *shard != "" {
		if b.Shard, b.Shards, err = batch.ParseShard(*shard); err != nil {
			return asUsage(err)
		}
	}
	return runBatch(b, ef, stdout, stderr)
}

// runBatch evaluates b's runs with every analysis on one backend, printing
// progress and the outcome.
func runBatch(b batch.Batch, ef evalFlags, stdout, stderr io.Writer) error {
	p := newProgress(stderr, ef.quiet)
	opt, err := ef.options(p)
	if err != nil {
		return err
	}
	b.Options = opt.Fingerprint()
	if !validDevice(ef.device) {
		return usagef("--device %q: want one of %s", ef.device, strings.Join(graph.Devices(), ", "))
	}
	// One backend owns the device for the whole batch; each run gets its own
	// Engine over it, so loading and plotting of one run overlap the
	// evaluation of another. On the CPU the cores are split between runs.
	gopt := graph.Options{Workers: jobs.ThreadsPerRun(ef.workers, b.Workers), Chunk: ef.chunk, Logf: func(format string, a ...any) {
		fmt.Fprintf(stderr, "rleval: "+format+"\n", a...)
	}}
	backend, err := graph.Open(ef.device, gopt)
	if err != nil {
		return err
	}
	defer backend.Close()
	p.logf("device: %s; %s at once", backend.Name(), plural.N(b.Workers, "run"))
	quietRuns := opt
	quietRuns.Logf = nil
	// On a GPU the runs' rollouts are done ahead, those that stack together.
	if b.Rollouts = batch.NewRollouts(quietRuns, backend); b.Rollouts != nil {
		quietRuns.Rollouts = b.Rollouts
	}
	b.Evaluate = func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
		o := quietRuns
		o.Engine = graph.NewEngine(backend, gopt)
		return jobs.Evaluate(ctx, runDir, outDir, o)
	}
	b.Progress = p.runs()
	ctx, stop := interruptible()
	defer stop()
	res, err := b.Run(ctx)
	if res != nil {
		// The summaries are written when the batch ran, interrupted or not.
		printBatch(res, b.Out, err == nil || batchExit(res, err) == exitInterrupted, stdout, stderr)
	}
	code := batchExit(res, err)
	switch code {
	case exitOK:
		return nil
	case exitUsage:
		return asUsage(err)
	}
	if err == nil {
		err = fmt.Errorf("%d of %s failed (see %s)", res.Failed, plural.N(res.Total, "run"), filepath.Join(b.Out, "summary.csv"))
	}
	return exitError{code, err}
}

// printBatch prints the notes of a batch and, when it wrote its summaries
// (ran), its outcome and where to look: the index page, or a shard's
// summary.
func printBatch(res *batch.Result, out string, ran bool, stdout, stderr io.Writer) {
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "rleval: note: %s\n", n)
	}
	if !ran {
		return
	}
	where := filepath.Join(out, batch.IndexFileName)
	if res.Shards > 1 {
		json, _ := batch.SummaryFileNames(res.Shard, res.Shards)
		where = filepath.Join(out, json)
	}
	fmt.Fprintf(stdout, "%s: %d evaluated, %d up to date; %d ok, %d partial, %d failed → %s\n",
		plural.N(res.Total, "run"), res.Evaluated, res.Skipped, res.OK, res.Partial, res.Failed, where)
	for _, r := range res.Runs {
		if r.Status == jobs.StatusFailed {
			fmt.Fprintf(stdout, "  failed: %s: %s\n", r.Name, firstLine(r.Error))
		}
	}
}

func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", "DIR...", "Combines the summaries of sharded batches (summary-shard-i-of-n.json) into one\nsummary.json, summary.csv and index.html in the first DIR. With every shard in one\n--out (the recommended cluster setup) that is `rleval merge OUT`.", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("merge takes at least one directory")
	}
	res, err := batch.Merge(pos[0], pos)
	// Missing shards still leave the merged files written.
	if res != nil && (err == nil || errors.Is(err, batch.ErrMissingShards)) {
		fmt.Fprintf(stdout, "%s: %d ok, %d partial, %d failed → %s\n", plural.N(len(res.Runs), "run"), res.OK, res.Partial, res.Failed, filepath.Join(pos[0], batch.IndexFileName))
	}
	if code := batchExit(res, err); code != exitOK {
		if err == nil {
			err = fmt.Errorf("%s failed", plural.N(res.Failed, "run"))
		}
		return exitError{code, err}
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
