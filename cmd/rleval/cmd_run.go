package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/jobs"
)

// evalFlags are the flags shared by eval, run, heatmap and batch.
type evalFlags struct {
	device  string
	workers int
	chunk   int
	grid    int
	line    int
	formats string
	smooth  float64
	xAxis   string
	quiet   bool
	preset  string
	axes    string
	fix     string
	load    loadFlags
	// checkpoints is --checkpoints (run and batch only).
	checkpoints string
	returns     returnsFlags
}

// registerCheckpoints adds --checkpoints (run and batch).
func (f *evalFlags) registerCheckpoints(fs *flag.FlagSet) {
	fs.StringVar(&f.checkpoints, "checkpoints", "", "also evaluate the checkpoints saved along training: `all`, steps N,M,... or last:K (the final model counts as the last); "+
		"writes checkpoints/step_<N>/ (policy_grid, q_grid, q_buffer .npy), checkpoints.json and a step slider in the report")
}

func (f *evalFlags) register(fs *flag.FlagSet, withPlots bool) {
	fs.StringVar(&f.device, "device", "auto", "where to evaluate: auto (CUDA when it can be used, else CPU), cpu, cuda, or gorgonia (Gorgonia's TapeMachine: the slow reference the fast plans are checked against)")
	fs.IntVar(&f.workers, "threads", 0, "CPU evaluation workers (0: one per core)")
	fs.IntVar(&f.chunk, "chunk", 0, "rows per evaluation chunk (0: the device's preference)")
	fs.IntVar(&f.grid, "grid", 200, "N of the N×N state grid")
	fs.IntVar(&f.line, "line", 500, "points of the 1-D policy curve")
	if withPlots {
		fs.StringVar(&f.formats, "format", "png", "plot formats, comma-separated: png, svg")
		fs.Float64Var(&f.smooth, "smooth", 0.6, "TensorBoard smoothing of the step curves, 0 (none) to 1")
		fs.StringVar(&f.xAxis, "x", "step", "axis of the training curves: step or time")
		f.returns.register(fs)
	}
	fs.BoolVar(&f.quiet, "q", false, "quiet: no progress output")
	fs.StringVar(&f.preset, "preset", "", "observation-space preset: "+strings.Join(jobs.PresetNames(), ", ")+" or none (default: by the config's environment)")
	fs.StringVar(&f.axes, "axes", "", "the maps' axes `I:LO:HI,J:LO:HI`: observation indices or names and ranges (default: the preset's, else the two values of largest buffer variance over their 0.5–99.5% quantiles)")
	fs.StringVar(&f.fix, "fix", "", "values of the other observations `K=V,...` (default: the buffer's mean, else 0)")
	f.load.register(fs)
}

// plane returns the --preset, --axes and --fix of the maps.
func (f *evalFlags) plane() (jobs.PlaneSpec, error) {
	spec := jobs.PlaneSpec{Preset: f.preset}
	if f.preset != "" && f.preset != "none" && jobs.PresetByName(f.preset) == nil {
		return spec, usagef("--preset %q: want one of %s or none", f.preset, strings.Join(jobs.PresetNames(), ", "))
	}
	var err error
	if spec.Axes, err = jobs.ParseAxes(f.axes); err != nil {
		return spec, usageError{err.Error()}
	}
	if spec.Fix, err = jobs.ParseFix(f.fix); err != nil {
		return spec, usageError{err.Error()}
	}
	return spec, nil
}

func (f *evalFlags) options(p *progress) (jobs.Options, error) {
	opt := jobs.DefaultOptions()
	opt.Grid, opt.Line = f.grid, f.line
	opt.Smooth = f.smooth
	if f.xAxis != "" {
		opt.X = f.xAxis
	}
	if f.formats != "" {
		opt.Formats = nil
		for _, s := range strings.Split(f.formats, ",") {
			opt.Formats = append(opt.Formats, strings.ToLower(strings.TrimSpace(s)))
		}
	}
	var err error
	if opt.Plane, err = f.plane(); err != nil {
		return opt, err
	}
	if opt.Load, err = f.load.options(); err != nil {
		return opt, err
	}
	if opt.Checkpoints, err = jobs.ParseCheckpoints(f.checkpoints); err != nil {
		return opt, asUsage(err)
	}
	if err := f.returns.apply(&opt); err != nil {
		return opt, err
	}
	if err := opt.Validate(); err != nil {
		return opt, asUsage(err)
	}
	opt.Logf = p.logf
	return opt, nil
}

// engine opens the device and wraps it in an Engine.
func (f *evalFlags) engine(p *progress) (*graph.Engine, error) {
	if !validDevice(f.device) {
		return nil, usagef("--device %q: want one of %s", f.device, strings.Join(graph.Devices(), ", "))
	}
	gopt := graph.Options{Workers: f.workers, Chunk: f.chunk, Logf: func(format string, a ...any) {
		// auto says in one line when it runs on the CPU, even with -q.
		fmt.Fprintf(p.w, "rleval: "+format+"\n", a...)
	}}
	b, err := graph.Open(f.device, gopt)
	if err != nil {
		return nil, err
	}
	p.logf("device: %s", b.Name())
	e := graph.NewEngine(b, gopt)
	e.Progress = p.rows("evaluating")
	return e, nil
}

func validDevice(d string) bool {
	for _, x := range graph.Devices() {
		if d == x {
			return true
		}
	}
	return false
}

// interruptible returns a context cancelled by Ctrl-C or SIGTERM: every
// command then stops, leaves no half-written file, and exits 130.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// errInterrupted is the outcome of a cancelled command.
var errInterrupted = exitError{exitInterrupted, fmt.Errorf("interrupted")}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[RUN_DIR...]", "Runs every analysis of the notebook on each run and writes <out>/<run-name>/:\n.npy arrays, summary.json, models.json, l2.json, buffer.json, q.json, plots/ and\nreport.html. A missing or broken file skips only the analyses that need it;\none the run's library never saves (RL Zoo's replay buffer, CleanRL's targets) is\na note, and the run exits 0.\nSeveral RUN_DIRs are evaluated as a batch (summary.json, summary.csv and index.html\nin --out). With no RUN_DIR it evaluates the bundled demo run.", stderr)
	var ef evalFlags
	ef.register(fs, true)
	ef.registerCheckpoints(fs)
	out := fs.String("out", "rleval-out", "output directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return runBatch(batch.Batch{Dirs: pos, Out: *out, Workers: 1, Force: true}, ef, stdout, stderr)
	}
	return evaluateRun(pos, *out, ef, false, stdout, stderr)
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "[RUN_DIR]", "Writes the core arrays as .npy (float32): policy_1d, policy_grid, target_grid,\nq_grid, q_buffer and q_policy (and policy_std_grid for SAC). Grids are (N, N) with\nthe second axis as rows.", stderr)
	var ef evalFlags
	ef.register(fs, false)
	out := fs.String("out", "rleval-out", "output directory (arrays go to <out>/<run-name>/)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("eval takes one run directory, got %d", len(pos))
	}
	return evaluateRun(pos, *out, ef, true, stdout, stderr)
}

// evaluateRun evaluates one run (the demo run without one).
func evaluateRun(pos []string, out string, ef evalFlags, core bool, stdout, stderr io.Writer) error {
	p := newProgress(stderr, ef.quiet)
	opt, err := ef.options(p)
	if err != nil {
		return err
	}
	opt.CoreOnly = core
	dir, err := runDirArg(pos)
	if err != nil {
		return err
	}
	eng, err := ef.engine(p)
	if err != nil {
		return err
	}
	defer eng.Backend().Close()
	// One bar over the run's analyses, not one per evaluation in them.
	eng.Progress = nil
	opt.Progress = p.steps("analyses", "jobs")
	opt.Engine = eng
	ctx, stop := interruptible()
	defer stop()
	name := filepath.Base(filepath.Clean(dir))
	dst := filepath.Join(out, name)
	sum, err := jobs.Evaluate(ctx, dir, dst, opt)
	if ctx.Err() != nil {
		return errInterrupted
	}
	if errors.Is(err, jobs.ErrUsage) {
		return asUsage(err)
	}
	if err != nil {
		return err
	}
	where := filepath.Join(dst, "report.html")
	if core {
		where = dst
	}
	fmt.Fprintf(stdout, "%s: %s in %.1fs → %s\n", name, sum.Status, sum.Seconds, where)
	// Each input problem once, with the jobs it skipped, then the other
	// jobs that did not finish.
	shown := map[string]bool{}
	for _, p := range sum.Problems {
		fmt.Fprintf(stdout, "  input: %s\n", p)
		var skipped []string
		for _, j := range sum.Jobs {
			if j.Status == "skipped" && j.Reason == p {
				skipped = append(skipped, j.Name)
				shown[j.Name] = true
			}
		}
		if len(skipped) > 0 {
			fmt.Fprintf(stdout, "    skipped for it: %s\n", strings.Join(skipped, ", "))
		}
	}
	for _, j := range sum.Jobs {
		if j.Status != "ok" && !shown[j.Name] {
			fmt.Fprintf(stdout, "  %s %s: %s\n", j.Name, j.Status, j.Reason)
		}
	}
	for _, n := range sum.NotSaved {
		fmt.Fprintf(stdout, "  note: not saved by %s: %s\n", sum.Library, n)
	}
	if sum.Status != jobs.StatusOK {
		return exitError{exitFailure, fmt.Errorf("%s had missing or broken inputs (see above)", name)}
	}
	return nil
}
