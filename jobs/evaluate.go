package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/internal/jsonnum"
	"github.com/rleval/rleval/loaders"
)

// Options configure the evaluation of one run.
type Options struct {
	// Grid is N of the N×N state grid (200 in the notebook).
	Grid int
	// Line is the number of θ points of the 1-D policy curve (500).
	Line int
	// WeightBins, BiasBins and HistBins are histogram bin counts (80, 40, 100).
	WeightBins, BiasBins, HistBins int
	// CoverageBins is the side of the state-coverage 2-D histogram (100).
	CoverageBins int
	// Formats lists the plot formats to write: "png", "svg".
	Formats []string
	// Smooth is the weight of TensorBoard's debiased EMA drawn over the
	// noisy step curves (losses and other step fields), 0 for none.
	Smooth float64
	// X is the training curves' axis: "step" (default) or "time".
	X string
	// CoreOnly writes only the core arrays of `rleval eval`: no plots, JSON
	// or report.
	CoreOnly bool
	// Plane chooses the maps' plane (--preset, --axes, --fix).
	Plane PlaneSpec
	// Engine evaluates the networks; nil means a CPU engine.
	Engine *graph.Engine
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
	// Progress, if set, is called before the first job and after each,
	// with the jobs done and the total: one progress over the whole run.
	Progress func(done, total int)
	// Only, if set, names the jobs to run (`rleval rollout`: returns);
	// the others are not listed.
	Only []string
	// Returns configures the returns job (rollouts in the run's
	// environment).
	Returns ReturnsOptions
	// Rollouts, if set, holds rollouts of the returns job done before the
	// run's evaluation (batch mode's, many runs' actors stacked: see
	// PlanRollouts); a rollout it holds is not done again.
	Rollouts RolloutCache
	// Load selects how the run is read: a forced layout (--layout), a
	// checkpoint along training (--checkpoint), original TD3's max_action.
	Load loaders.LoadOptions
	// Checkpoints selects checkpoints along training to evaluate besides
	// the final model (--checkpoints; see the checkpoints job).
	Checkpoints CheckpointSpec
}

// DefaultOptions returns the notebook's parameters.
func DefaultOptions() Options {
	return Options{Grid: 200, Line: 500, WeightBins: 80, BiasBins: 40, HistBins: 100, CoverageBins: 100, Formats: []string{"png"},
		Smooth: 0.6, X: "step"}
}

// Context is what a job sees: the loaded run, the options, where to write,
// the state plane of its maps, and the shared evaluations it may ask for
// (GridPolicy, GridQ, BufferQ). It holds no job's results.
type Context struct {
	Run    *loaders.Run
	Opt    Options
	Out    string
	Engine *graph.Engine
	// Plane is the state plane of the maps, phase portrait and coverage;
	// nil, with PlaneErr saying why, when the run has none.
	Plane    *Plane
	PlaneErr error

	shared *shared
	// noNumbers lists the arrays the running job wrote that hold no
	// number at all (writeArray).
	noNumbers struct {
		sync.Mutex
		names []string
	}
	ctx context.Context
}

// context returns the evaluation's context: long jobs stop when it is
// cancelled.
func (c *Context) context() context.Context {
	if c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// Grid returns the state grid of the maps, Opt.Grid points a side.
func (c *Context) Grid() *graph.Grid { return c.Plane.Grid(c.Opt.Grid) }

// Evaluate loads the run in runDir and runs every job, writing into outDir.
// A missing or broken input skips only the jobs that need it; the summary
// says which and why. The error is non-nil only when nothing could be done
// (the run directory is unreadable) or ctx was cancelled.
func Evaluate(ctx context.Context, runDir, outDir string, opt Options) (*RunSummary, error) {
	start := time.Now()
	logf := opt.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	sum := &RunSummary{Name: filepath.Base(filepath.Clean(runDir)), Dir: runDir, Out: outDir}
	load := opt.Load
	load.LogsLater = true
	r, err := loadRun(ctx, runDir, load)
	if err != nil {
		sum.Status, sum.Error = StatusFailed, err.Error()
		return sum, err
	}
	// The logs are read while the jobs that do not need them run (a
	// million-record log takes about as long as the networks' analyses);
	// runJobs waits for them before the jobs that do. An early return
	// (cancelled, unwritable output) leaves the read to finish on its own:
	// it writes nothing, and Ctrl-C need not wait for it.
	logsRead := make(chan struct{})
	go func() {
		defer close(logsRead)
		r.LoadLogs()
	}()
	sum.Library, sum.Layout = r.Library, r.Layout
	if r.Config.V != nil {
		sum.Algorithm = strings.ToLower(r.Config.V.Algorithm.Type)
		sum.Name = NameWithAlgorithm(sum.Name, sum.Algorithm)
	}
	if !r.Started.IsZero() {
		sum.Date = r.Started.Format("2006-01-02 15:04:05")
	}
	if r.Buffer.V != nil {
		sum.BufferSize = r.Buffer.V.Size
	}
	eng := opt.Engine
	if eng == nil {
		eng = graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{})
	}
	c := &Context{Run: r, Opt: opt, Out: outDir, Engine: eng, ctx: ctx}
	c.Plane, c.PlaneErr = ResolvePlane(r, opt.Plane)
	if errors.Is(c.PlaneErr, ErrUsage) {
		// --axes or --fix name what the run does not have: an error of
		// the command, before anything is written, not maps skipped.
		sum.Status, sum.Error = StatusFailed, c.PlaneErr.Error()
		return sum, fmt.Errorf("%s: %w", runDir, c.PlaneErr)
	}
	c.shared = newShared(c)
	var todo []Job
	for _, j := range registry {
		if (j.Applies == nil || j.Applies(c)) && (!opt.CoreOnly || j.Core) && (len(opt.Only) == 0 || slices.Contains(opt.Only, j.Name)) {
			todo = append(todo, j)
		}
	}
	pg := newPage(c, sectionsOf(todo))
	defer pg.wait() // also on early returns: no figure outlives Evaluate
	defer func() {
		// The backend outlives the run in a batch: release its networks.
		for _, p := range r.Nets {
			if p.V != nil {
				eng.Forget(p.V)
			}
		}
	}()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		sum.Status, sum.Error = StatusFailed, err.Error()
		return sum, fmt.Errorf("create %s: %w", outDir, err)
	}
	if err := runJobs(ctx, todo, c, pg, sum, logsRead, logf); err != nil {
		return sum, err
	}
	pg.finish(sum) // a figure that failed fails its job
	finishStatus(r, sum)
	sum.Seconds = time.Since(start).Seconds()
	sum.Finished = time.Now().UTC()
	if !opt.CoreOnly {
		if err := writeSummary(c, sum); err != nil {
			return sum, err
		}
		if err := pg.write(sum); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// loadRun is loaders.LoadRun, returning ctx's error as soon as ctx is
// cancelled: the files read are regular and bounded, but a replay buffer
// of gigabytes still takes seconds, and Ctrl-C must not wait for it. The
// abandoned read finishes on its own and writes nothing.
func loadRun(ctx context.Context, runDir string, opt loaders.LoadOptions) (*loaders.Run, error) {
	type loaded struct {
		r   *loaders.Run
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		r, err := loaders.LoadRun(runDir, opt)
		done <- loaded{r, err}
	}()
	select {
	case l := <-done:
		return l.r, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runJobs runs the jobs that do not read the logs, then, once logsRead is
// closed, those that do, and lists their statuses in sum in todo's order.
// Unless ctx is cancelled it returns after logsRead is closed, even with no
// job reading the logs: the run's status and summary read them next.
func runJobs(ctx context.Context, todo []Job, c *Context, pg *page, sum *RunSummary, logsRead <-chan struct{}, logf func(string, ...any)) error {
	status := make([]*JobStatus, len(todo))
	defer func() {
		for _, st := range status {
			if st != nil {
				sum.Jobs = append(sum.Jobs, *st)
			}
		}
	}()
	done := 0
	progress := func() {
		if c.Opt.Progress != nil {
			c.Opt.Progress(done, len(todo))
		}
	}
	progress()
	for _, readsLog := range []bool{false, true} {
		if readsLog {
			select {
			case <-logsRead:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for i, j := range todo {
			if j.ReadsLog != readsLog {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			st := runOne(j, c, pg, sum, logf)
			status[i] = &st
			done++
			progress()
		}
	}
	return nil
}

// runOne runs one job if its inputs are there and hands what it returns to
// the report and the summary.
func runOne(j Job, c *Context, pg *page, sum *RunSummary, logf func(string, ...any)) JobStatus {
	name := c.Run.Name
	if err := j.Needs(c); err != nil {
		logf("%s: %s skipped: %v", name, j.Name, err)
		return JobStatus{Name: j.Name, Status: "skipped", Reason: err.Error()}
	}
	t0 := time.Now()
	c.takeNoNumbers()
	out, err := runJob(j, c)
	if nan := c.takeNoNumbers(); err == nil && len(nan) > 0 {
		err = fmt.Errorf("every value of %s is NaN: the inputs it was computed from hold values that are not numbers (see the run's problems, or check the networks' weights and normalisation)",
			strings.Join(nan, ", "))
	}
	if err != nil {
		logf("%s: %s failed: %v", name, j.Name, err)
		return JobStatus{Name: j.Name, Status: "failed", Reason: err.Error()}
	}
	if out != nil {
		if out.Summary != nil {
			out.Summary(sum)
		}
		if !c.Opt.CoreOnly {
			pg.add(j.Name, out)
		}
	}
	logf("%s: %s done in %.2fs", name, j.Name, time.Since(t0).Seconds())
	return JobStatus{Name: j.Name, Status: "ok"}
}

// finishStatus sets the run's status from its problems and failed jobs.
func finishStatus(r *loaders.Run, sum *RunSummary) {
	failed := 0
	for _, j := range sum.Jobs {
		if j.Status == "failed" {
			failed++
		}
	}
	sum.Status = StatusOK
	sum.NotSaved = r.NotSaved()
	if problems := r.Problems(); len(problems) > 0 || failed > 0 {
		sum.Status = StatusPartial
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.Error())
		}
		sum.Problems = append([]string(nil), msgs...)
		for _, j := range sum.Jobs {
			// A job failed by a broken input says nothing new.
			if j.Status == "failed" && !slices.Contains(sum.Problems, j.Reason) {
				msgs = append(msgs, j.Name+": "+j.Reason)
			}
		}
		sum.Error = strings.Join(msgs, "; ")
	}
	// A file that exists but cannot be read (corrupt, truncated, hostile),
	// or an analysis that failed, fails the run (exit 1; 3 in a batch),
	// even though the jobs that did not need it ran; a file
	// that is simply absent (crashed or unfinished run) only makes it partial,
	// and one the run's library never saves (r.NotSaved) leaves it ok.
	if len(r.Broken()) > 0 || failed > 0 {
		sum.Status = StatusFailed
	}
}

// runJob runs one job, turning a panic into that job's error: a bug in one
// analysis must not cost the others.
func runJob(j Job, c *Context) (out *Output, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("internal error (please report): %v\n%s", p, debug.Stack())
		}
	}()
	return j.Run(c)
}

// path returns the output path of a file of this run.
func (c *Context) path(name string) string { return filepath.Join(c.Out, name) }

// writeArray writes one of the run's float32 arrays (WriteNPY) and notes
// it when not one of its values is a number: an analysis whose output is
// all NaN fails (runOne) rather than passing as "ok".
func (c *Context) writeArray(name string, data []float32, shape ...int) error {
	if err := WriteNPY(c.path(name), data, shape...); err != nil {
		return err
	}
	if len(data) > 0 && !slices.ContainsFunc(data, func(v float32) bool { return v == v }) {
		c.noNumbers.Lock()
		c.noNumbers.names = append(c.noNumbers.names, name)
		c.noNumbers.Unlock()
	}
	return nil
}

// takeNoNumbers returns and forgets the arrays writeArray noted.
func (c *Context) takeNoNumbers() []string {
	c.noNumbers.Lock()
	defer c.noNumbers.Unlock()
	names := c.noNumbers.names
	c.noNumbers.names = nil
	return names
}

// writeJSON writes v as indented JSON, atomically. Non-finite floats must
// have been turned into nil (see num) before.
func (c *Context) writeJSON(name string, v any) error {
	return atomicfile.Write(c.path(name), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// num is the JSON number of the job outputs: NaN and ±Inf are written as
// null. A short name, since nearly every output struct has some.
type num = jsonnum.Float

// Stats are mean, std (ddof 0), min and max of an array, in float64.
type Stats struct {
	Mean num `json:"mean"`
	Std  num `json:"std"`
	Min  num `json:"min"`
	Max  num `json:"max"`
}

// statsOf computes Stats over values taken every stride starting at off:
// column off of a row-major array with stride columns. Two passes in
// float64 (like numpy's mean and std on float32 data, to well within 1e-4
// relative).
func statsOf(v []float32, off, stride int) Stats {
	n := 0
	sum := 0.0
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := off; i < len(v); i += stride {
		x := float64(v[i])
		sum += x
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
		n++
	}
	if n == 0 {
		nan := num(math.NaN())
		return Stats{nan, nan, nan, nan}
	}
	mean := sum / float64(n)
	ss := 0.0
	for i := off; i < len(v); i += stride {
		d := float64(v[i]) - mean
		ss += d * d
	}
	return Stats{num(mean), num(math.Sqrt(ss / float64(n))), num(lo), num(hi)}
}
