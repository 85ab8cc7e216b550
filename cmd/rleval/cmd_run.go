package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

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
}

func (f *evalFlags) register(fs *flag.FlagSet, withPlots bool) {
	fs.StringVar(&f.device, "device", "auto", "where to evaluate: auto (CUDA when it can be used, else CPU), cpu or cuda")
	fs.IntVar(&f.workers, "threads", 0, "CPU evaluation workers (0: one per core)")
	fs.IntVar(&f.chunk, "chunk", 0, "rows per evaluation chunk (0: the device's preference)")
	fs.IntVar(&f.grid, "grid", 200, "N of the N×N state grid")
	fs.IntVar(&f.line, "line", 500, "points of the 1-D policy curve")
	if withPlots {
		fs.StringVar(&f.formats, "format", "png", "plot formats, comma-separated: png, svg")
		fs.Float64Var(&f.smooth, "smooth", 0.6, "TensorBoard smoothing of the step curves, 0 (none) to 1")
		fs.StringVar(&f.xAxis, "x", "step", "axis of the training curves: step or time")
	}
	fs.BoolVar(&f.quiet, "q", false, "quiet: no progress output")
}

func (f *evalFlags) options(p *progress) (jobs.Options, error) {
	opt := jobs.DefaultOptions()
	if f.grid < 2 || f.grid > 1<<16 {
		return opt, usagef("--grid %d: want 2 to 65536", f.grid)
	}
	if f.line < 2 {
		return opt, usagef("--line %d: want at least 2", f.line)
	}
	opt.Grid, opt.Line = f.grid, f.line
	if !(f.smooth >= 0 && f.smooth < 1) {
		return opt, usagef("--smooth %v: want 0 to 1 (1 excluded)", f.smooth)
	}
	if f.xAxis != "" && f.xAxis != "step" && f.xAxis != "time" {
		return opt, usagef("--x %q: want step or time", f.xAxis)
	}
	opt.Smooth = f.smooth
	if f.xAxis != "" {
		opt.X = f.xAxis
	}
	if f.formats != "" {
		opt.Formats = nil
		for _, s := range strings.Split(f.formats, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s != "png" && s != "svg" {
				return opt, usagef("--format %q: want png, svg or both (png,svg)", s)
			}
			opt.Formats = append(opt.Formats, s)
		}
	}
	opt.Logf = p.logf
	return opt, nil
}

// engine opens the device and wraps it in an Engine.
func (f *evalFlags) engine(p *progress) (*graph.Engine, error) {
	if !validDevice(f.device) {
		return nil, usagef("--device %q: want auto, cpu or cuda", f.device)
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
	for _, x := range graph.Devices {
		if d == x {
			return true
		}
	}
	return false
}

// interruptible returns a context cancelled by Ctrl-C (and extra signals).
func interruptible(extra ...os.Signal) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), append([]os.Signal{os.Interrupt}, extra...)...)
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[RUN_DIR...]", "Runs every analysis of the notebook on each run and writes <out>/<run-name>/:\n.npy arrays, summary.json, models.json, l2.json, buffer.json, q.json, plots/ and\nreport.html. A missing or broken file skips only the analyses that need it.\nWith no RUN_DIR it evaluates the bundled demo run.", stderr)
	var ef evalFlags
	ef.register(fs, true)
	out := fs.String("out", "rleval-out", "output directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	return evaluateRuns(pos, *out, ef, false, stdout, stderr)
}

func cmdEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "[RUN_DIR]", "Writes the core arrays as .npy (float32): policy_1d, policy_grid, target_grid,\nq_grid, q_buffer and q_policy. Grids are (N, N) with θ̇ as rows.", stderr)
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
	return evaluateRuns(pos, *out, ef, true, stdout, stderr)
}

func evaluateRuns(dirs []string, out string, ef evalFlags, core bool, stdout, stderr io.Writer) error {
	p := newProgress(stderr, ef.quiet)
	opt, err := ef.options(p)
	if err != nil {
		return err
	}
	opt.CoreOnly = core
	if len(dirs) == 0 {
		d, err := runDirArg(nil)
		if err != nil {
			return err
		}
		dirs = []string{d}
	}
	eng, err := ef.engine(p)
	if err != nil {
		return err
	}
	defer eng.Backend().Close()
	opt.Engine = eng
	ctx, stop := interruptible()
	defer stop()
	failed := 0
	for _, dir := range dirs {
		name := filepath.Base(filepath.Clean(dir))
		dst := filepath.Join(out, name)
		sum, err := jobs.Evaluate(ctx, dir, dst, opt)
		if err != nil {
			if ctx.Err() != nil {
				return exitError{exitFailure, fmt.Errorf("interrupted")}
			}
			fmt.Fprintf(stderr, "rleval: %s: %v\n", dir, err)
			failed++
			continue
		}
		where := filepath.Join(dst, "report.html")
		if core {
			where = dst
		}
		fmt.Fprintf(stdout, "%s: %s in %.1fs → %s\n", name, sum.Status, sum.Seconds, where)
		for _, j := range sum.Jobs {
			if j.Status != "ok" {
				fmt.Fprintf(stdout, "  %s %s: %s\n", j.Name, j.Status, j.Reason)
			}
		}
		if sum.Status != jobs.StatusOK {
			failed++
		}
	}
	if failed > 0 {
		return exitError{exitFailure, fmt.Errorf("%d of %d run(s) had missing or broken inputs (see above)", failed, len(dirs))}
	}
	return nil
}
