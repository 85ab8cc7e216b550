package batch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/internal/flock"
	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/loaders"
)

// EvaluateFunc evaluates the run in runDir with all jobs, writing its
// outputs (atomically, with atomicfile.Write) under outDir, which exists. It
// returns the run's summary row; a partial run is a row with StatusPartial
// and a nil error. It should return promptly with ctx.Err() once ctx is
// cancelled. The runner fills the row's Name, Dir, Out and, when left
// empty, Date, Status, Seconds and Finished.
type EvaluateFunc func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error)

// Batch evaluates every run directory under Root, writing each run's
// outputs to Out/<run>/ and the batch summary to Out.
type Batch struct {
	// Root is the experiments folder, Out the output folder (which may
	// be inside Root: it is then not searched for runs, but it must not be
	// Root itself or inside a run).
	Root, Out string
	// Dirs, if set, are the run directories to evaluate instead of those
	// under Root (`rleval run` over several directories).
	Dirs []string
	// Workers is how many runs are evaluated at once (≤ 0 means 1).
	Workers int
	// Shard and Shards select shard Shard (0-based) of Shards; Shards ≤ 1
	// selects every run. See ShardOf.
	Shard, Shards int
	// Match keeps the runs whose base name matches this path.Match glob
	// ("" keeps all).
	Match string
	// Force re-evaluates runs whose manifest says they are up to date.
	Force bool
	// FollowLinks follows symbolic links out of Root (--follow-links);
	// by default discovery stays under Root.
	FollowLinks bool
	// Options identifies the rleval output version and the options that
	// change outputs; a run evaluated with other Options is redone.
	Options string
	// Evaluate evaluates one run.
	Evaluate EvaluateFunc
	// Progress, if set, is called (serially) at the start and after each
	// run, skipped ones included: runs done of total, failures so far.
	Progress func(done, total, failed int)
	// SummaryInterval is the least time between two rewrites of the
	// summary files while the batch runs (0 means 2s); they are always
	// written at the end, even when the batch is cancelled.
	SummaryInterval time.Duration
	// Groups configure the groups of runs compared in groups.json and
	// on the index page.
	Groups GroupOptions
	// Rollouts, if set, does the returns job's rollouts of the runs
	// before they are evaluated, many runs' actors stacked; Evaluate's
	// jobs.Options.Rollouts must be it.
	Rollouts *Rollouts
}

// Result is the outcome of a batch or a merge, and the content of
// summary.json.
type Result struct {
	// Root and Out are the batch's folders.
	Root string `json:"root"`
	Out  string `json:"out"`
	// Shard and Shards are the batch's shard (0 and 0 for a whole batch
	// or a merge).
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Options is Batch.Options.
	Options  string    `json:"options"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Total is the number of runs selected (after --match and --shard);
	// Evaluated + Skipped of them finished: Skipped were up to date.
	Total     int `json:"total"`
	Evaluated int `json:"evaluated"`
	Skipped   int `json:"skipped"`
	// OK, Partial and Failed count the finished runs by status.
	OK      int `json:"ok"`
	Partial int `json:"partial"`
	Failed  int `json:"failed"`
	// Interrupted is set when the batch was cancelled before every run
	// finished.
	Interrupted bool `json:"interrupted"`
	// Notes are things the user should know that are not run failures
	// (skipped unreadable folders, missing shards).
	Notes []string `json:"notes,omitempty"`
	// Runs are the finished runs' rows, sorted by run path; Out in each
	// is relative to the batch's output folder.
	Runs []jobs.RunSummary `json:"runs"`
}

// Run runs the batch: discovers the runs, skips the up-to-date ones,
// evaluates the others Workers at a time, and writes the summary files. A
// run's failure, error or panic alike, becomes a failed row and the batch
// goes on. The error is non-nil only when the batch itself failed (wrapping
// ErrUsage for bad options) or was cancelled (wrapping ctx.Err()); the
// result then still holds the runs that finished.
func (b *Batch) Run(ctx context.Context) (*Result, error) {
	res := &Result{Root: b.Root, Out: b.Out, Shard: b.Shard, Shards: b.Shards, Options: b.Options, Started: time.Now().UTC()}
	runs, err := b.selectRuns(res)
	if err != nil {
		return res, err
	}
	rows, done, writeErr := b.evaluateAll(ctx, res, runs)
	res.Interrupted = done < len(runs)
	if err := b.writeSummaries(res, rows, true); err != nil {
		return res, err
	}
	if writeErr != nil {
		return res, writeErr
	}
	if res.Interrupted {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("batch interrupted after %d of %s (run it again to resume): %w", done, plural.N(len(runs), "run"), err)
		}
	}
	return res, nil
}

// selectRuns checks the batch's options, creates its output folder and
// returns the runs it evaluates: Dirs, or those discovered under Root,
// after --match and --shard.
func (b *Batch) selectRuns(res *Result) ([]RunDir, error) {
	if b.Evaluate == nil {
		return nil, fmt.Errorf("batch: no Evaluate function: %w", jobs.ErrUsage)
	}
	if err := validShard(b.Shard, b.Shards); err != nil {
		return nil, err
	}
	if b.Shards <= 1 {
		res.Shard, res.Shards = 0, 0
	}
	if b.Out == "" {
		return nil, fmt.Errorf("batch: no output folder (--out): %w", jobs.ErrUsage)
	}
	// Discovery first: a root that is not there creates no output folder.
	all, notes, err := b.discover()
	res.Notes = notes
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder %s: %w", b.Out, err)
	}
	if err := checkOutside(b.Out, all); err != nil {
		return nil, err
	}
	runs, err := FilterMatch(all, b.Match)
	if err != nil {
		return nil, err
	}
	// A --group-by key no config has is refused now, not after the runs.
	dirs := make([]string, len(runs))
	for i, r := range runs {
		dirs[i] = r.Path
	}
	if err := CheckGroupBy(dirs, b.Groups.GroupBy); err != nil {
		return nil, err
	}
	matched := len(runs)
	runs = SelectShard(runs, b.Shard, b.Shards)
	res.Total = len(runs)
	switch {
	case len(all) == 0:
		res.Notes = append(res.Notes, fmt.Sprintf("no run folders under %s (a run folder is named <YYYY-MM-DD>_<HH-MM-SS>_<name> or holds a config.yaml)", b.Root))
	case matched == 0:
		res.Notes = append(res.Notes, fmt.Sprintf("--match %q matches none of the %s under %s (it is matched against each run folder's base name)", b.Match, plural.N(len(all), "run"), b.Root))
	case len(runs) == 0:
		res.Notes = append(res.Notes, fmt.Sprintf("shard %d of %d holds none of the %s", b.Shard, b.Shards, plural.N(matched, "run")))
	}
	jsonName, csvName := SummaryFileNames(res.Shard, res.Shards)
	l, err := flock.Acquire(context.Background(), filepath.Join(b.Out, LockDirName, "summaries.lock"))
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	// Under the lock no other batch is writing these files: any
	// temporaries of theirs are a killed batch's.
	for _, name := range []string{jsonName, csvName, IndexFileName} {
		removeTempsOf(b.Out, name)
	}
	return runs, nil
}

// LockDirName is the folder of a batch --out that holds its lock files:
// one per run, held while a batch evaluates it, and one for the summary
// files. Two batches writing one --out at once (the shards of an array
// job, or a batch started twice) each evaluate a run only when no other
// does; a run another batch holds is taken up after the others, once it is
// free, and then is up to date.
const LockDirName = ".rleval-locks"

// lockRun takes the lock of run rd's output folder: at once, or
// flock.ErrBusy when another batch evaluates it; with wait, once it is
// free (or ctx is done).
func (b *Batch) lockRun(ctx context.Context, rd RunDir, wait bool) (*flock.Lock, error) {
	path := filepath.Join(b.Out, LockDirName, rd.OutName+".lock")
	if wait {
		return flock.Acquire(ctx, path)
	}
	return flock.TryLock(path)
}

// discover returns Dirs as runs, or the runs under Root.
func (b *Batch) discover() ([]RunDir, []string, error) {
	if len(b.Dirs) == 0 {
		return DiscoverOptions{Exclude: []string{b.Out}, FollowLinks: b.FollowLinks}.Discover(b.Root)
	}
	var runs []RunDir
	names := map[string]int{}
	for _, d := range b.Dirs {
		names[filepath.Base(filepath.Clean(d))]++
	}
	for _, d := range b.Dirs {
		name := filepath.Base(filepath.Clean(d))
		rd := RunDir{Path: d, Rel: filepath.ToSlash(filepath.Clean(d)), Name: name, OutName: name}
		if names[name] > 1 {
			rd.OutName = strings.NewReplacer("/", "__", "..", "_").Replace(strings.TrimPrefix(rd.Rel, "/"))
		}
		runs = append(runs, rd)
	}
	return runs, nil, nil
}

// evaluateAll evaluates runs Workers at a time, counting them into res,
// calling Progress and rewriting the summaries every SummaryInterval. It
// returns the finished rows (nil for unfinished runs), how many finished,
// and the first error writing the summaries.
func (b *Batch) evaluateAll(ctx context.Context, res *Result, runs []RunDir) ([]*jobs.RunSummary, int, error) {
	interval := b.SummaryInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	var (
		mu        sync.Mutex
		rows      = make([]*jobs.RunSummary, len(runs))
		done      int
		lastWrite = time.Now()
		writeErr  error
	)
	if b.Progress != nil {
		b.Progress(0, len(runs), 0)
	}
	finish := func(i int, row *jobs.RunSummary, skipped bool) {
		mu.Lock()
		defer mu.Unlock()
		rows[i] = row
		done++
		res.count(row, skipped)
		if b.Progress != nil {
			b.Progress(done, len(runs), res.Failed)
		}
		if time.Since(lastWrite) >= interval {
			lastWrite = time.Now()
			if err := b.writeSummaries(res, rows, false); err != nil && writeErr == nil {
				writeErr = err
			}
		}
	}
	// Runs another batch is evaluating (same --out) wait until the others
	// are done; by then they are usually finished and up to date.
	var busy []int
	pool := func(todo []int, wait bool) {
		next := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < max(b.Workers, 1); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					l, err := b.lockRun(ctx, runs[i], wait)
					switch {
					case errors.Is(err, flock.ErrBusy):
						b.Rollouts.drop(runs[i])
						mu.Lock()
						busy = append(busy, i)
						mu.Unlock()
						continue
					case err != nil && ctx.Err() != nil:
						continue
					case err != nil:
						finish(i, failedRow(runs[i], err, 0), false)
						continue
					}
					row, skipped, ok := b.runOne(ctx, runs[i])
					l.Unlock()
					if ok {
						finish(i, row, skipped)
					}
				}
			}()
		}
	feed:
		for _, wave := range b.waves(todo) {
			if !wait { // runs another batch held: likely up to date now
				b.prepareRollouts(ctx, runs, wave)
			}
			for _, i := range wave {
				select {
				case next <- i:
				case <-ctx.Done():
					break feed
				}
			}
		}
		close(next)
		wg.Wait()
	}
	all := make([]int, len(runs))
	for i := range all {
		all[i] = i
	}
	pool(all, false)
	slices.Sort(busy)
	pool(busy, true)
	return rows, done, writeErr
}

// count adds one finished run to the totals.
func (res *Result) count(row *jobs.RunSummary, skipped bool) {
	if skipped {
		res.Skipped++
	} else {
		res.Evaluated++
	}
	res.countStatus(row.Status)
}

// countStatus adds one run of status to OK, Partial or Failed.
func (res *Result) countStatus(status string) {
	switch status {
	case jobs.StatusFailed:
		res.Failed++
	case jobs.StatusPartial:
		res.Partial++
	default:
		res.OK++
	}
}

// writeSummaries fills res.Runs from the finished rows and writes the
// summary files; final adds index.html (whole batches only) and the end
// time.
func (b *Batch) writeSummaries(res *Result, rows []*jobs.RunSummary, final bool) error {
	res.Runs = res.Runs[:0]
	for _, r := range rows {
		if r != nil {
			res.Runs = append(res.Runs, *r)
		}
	}
	res.Finished = time.Now().UTC()
	// Another batch writing the same summaries (a batch started twice)
	// must not remove this one's temporaries while it writes.
	l, err := flock.Acquire(context.Background(), filepath.Join(b.Out, LockDirName, "summaries.lock"))
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := WriteSummary(b.Out, res); err != nil {
		return err
	}
	if final && res.Shards <= 1 {
		if err := writeBatchPages(b.Out, res, b.Groups); err != nil {
			return err
		}
	}
	return nil
}

// runOne evaluates or skips one run. ok is false when the batch was
// cancelled before the run finished: it has no row and no manifest.
func (b *Batch) runOne(ctx context.Context, rd RunDir) (row *jobs.RunSummary, skipped, ok bool) {
	defer b.Rollouts.drop(rd)
	if ctx.Err() != nil {
		return nil, false, false
	}
	outDir := filepath.Join(b.Out, rd.OutName)
	inputs, err := ScanInputs(loaders.RunFolder(rd.Path))
	if err != nil {
		return failedRow(rd, err, 0), false, true
	}
	// A kill -9 may have left temporaries in the run's folder, even when
	// it finished; this batch holds the run's lock, so they are stale.
	if _, err := atomicfile.RemoveStale(outDir); err != nil {
		return failedRow(rd, err, 0), false, true
	}
	if !b.Force {
		if m, err := ReadManifest(outDir); err == nil && m.Matches(inputs, b.Options) {
			s := m.Summary
			fillRow(&s, rd)
			return &s, true, true
		}
	}
	// The manifest goes first: a kill from here on leaves the run
	// without one, so the next batch redoes it.
	if err := os.Remove(filepath.Join(outDir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return failedRow(rd, fmt.Errorf("remove old manifest (check permissions of %s): %w", outDir, err), 0), false, true
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return failedRow(rd, fmt.Errorf("create run output folder: %w", err), 0), false, true
	}
	start := time.Now()
	s, err := safeEvaluate(ctx, b.Evaluate, rd.Path, outDir)
	secs := time.Since(start).Seconds()
	if err != nil && ctx.Err() != nil {
		return nil, false, false
	}
	if err != nil {
		if s == nil {
			return failedRow(rd, err, secs), false, true
		}
		s.Status, s.Error = jobs.StatusFailed, err.Error()
	}
	if s == nil {
		return failedRow(rd, errors.New("evaluation returned no summary (a bug in rleval)"), secs), false, true
	}
	fillRow(s, rd)
	if s.Seconds == 0 {
		s.Seconds = secs
	}
	if s.Finished.IsZero() {
		s.Finished = time.Now().UTC()
	}
	if err != nil {
		return s, false, true // no manifest: the next batch tries again
	}
	// A completed evaluation gets a manifest whatever the run's status: a
	// broken run gives the same result until its inputs change.
	if err := WriteManifest(outDir, &Manifest{Version: manifestVersion, Options: b.Options, Inputs: inputs, Summary: *s}); err != nil {
		s.Status, s.Error = jobs.StatusFailed, err.Error()
	}
	return s, false, true
}

// fillRow sets the fields the runner owns.
func fillRow(s *jobs.RunSummary, rd RunDir) {
	s.Name, s.Dir, s.Out = jobs.NameWithAlgorithm(rd.Name, s.Algorithm), rd.Path, rd.OutName
	if s.Layout == "" {
		s.Layout = rd.Layout
	}
	if s.Date == "" {
		s.Date = RunDate(rd.Name)
	}
	if s.Status == "" {
		s.Status = jobs.StatusOK
	}
}

// failedRow is the row of a run that produced no summary.
func failedRow(rd RunDir, err error, secs float64) *jobs.RunSummary {
	s := &jobs.RunSummary{Status: jobs.StatusFailed, Error: err.Error(), Seconds: secs, Finished: time.Now().UTC()}
	fillRow(s, rd)
	return s
}

// safeEvaluate is the batch's one recover boundary: a panic in a run's
// evaluation (a bug) becomes that run's error, with the panic value and the
// top of the stack, and the batch goes on.
func safeEvaluate(ctx context.Context, eval EvaluateFunc, runDir, outDir string) (s *jobs.RunSummary, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("panic (a bug in rleval, please report it with this message): %v\n%s", r, shortStack(debug.Stack()))
		}
	}()
	return eval(ctx, runDir, outDir)
}

// shortStack keeps the frames below the panic: enough to find the bug
// without filling a CSV cell.
func shortStack(stack []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	start := 1 // after "goroutine N [running]:"
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			start = i + 2 // the panic call and its file line
			break
		}
	}
	const frames = 5
	end := min(start+2*frames, len(lines))
	if start >= end {
		return ""
	}
	return strings.Join(lines[start:end], "\n")
}

// checkOutside refuses an output folder that is a run directory or lies
// inside one: outputs would become inputs.
func checkOutside(out string, runs []RunDir) error {
	outReal, err := realPath(out)
	if err != nil {
		return fmt.Errorf("output folder %s: %w", out, err)
	}
	if fi, err := os.Stat(filepath.Join(out, "config.yaml")); err == nil && !fi.IsDir() {
		return fmt.Errorf("output folder %s holds a config.yaml: it is a run; choose an --out outside the runs: %w", out, jobs.ErrUsage)
	}
	for _, r := range runs {
		runReal, err := realPath(loaders.RunFolder(r.Path))
		if err != nil {
			continue
		}
		if outReal == runReal || strings.HasPrefix(outReal, runReal+string(filepath.Separator)) {
			return fmt.Errorf("output folder %s is inside run %s; choose an --out outside the runs: %w", out, r.Path, jobs.ErrUsage)
		}
	}
	return nil
}

func realPath(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}

// removeTempsOf removes temporaries of dir/name that a killed batch left.
// Only this file's own temporaries: other shards may be writing theirs.
func removeTempsOf(dir, name string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "."+name+atomicfile.Marker+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
}
