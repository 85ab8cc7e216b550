package batch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/jobs"
)

func TestBatchIsolatesFailingRuns(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	out := filepath.Join(t.TempDir(), "results")
	fe := newFakeEval()
	var progress []int
	res := mustRun(t, &Batch{Root: root, Out: out, Workers: 2, Evaluate: fe.Evaluate,
		Progress: func(done, total, failed int) { progress = append(progress, done) }})

	if res.Total != 8 || len(res.Runs) != 8 || res.OK != 5 || res.Partial != 1 || res.Failed != 2 {
		t.Fatalf("total %d rows %d ok %d partial %d failed %d; want 8 8 5 1 2", res.Total, len(res.Runs), res.OK, res.Partial, res.Failed)
	}
	if len(progress) != 9 || progress[8] != 8 {
		t.Fatalf("progress calls %v, want 0..8", progress)
	}
	rows := rowsByName(res.Runs)
	tests := []struct {
		out, status string
		errHas      []string
		files       []string // must exist in the run's output folder
		noFiles     []string
	}{
		{out: "2026-01-01_10-00-00_pendulum", status: jobs.StatusOK, files: []string{"metrics.json", "buffer.json", "report.html", ManifestName}},
		{out: "2026-01-03_10-00-00_panic-run", status: jobs.StatusFailed, errHas: []string{"panic", "assignment to entry in nil map", "batch_helpers_test.go"}, noFiles: []string{ManifestName, "report.html"}},
		{out: "2026-01-04_10-00-00_broken-ckpt", status: jobs.StatusFailed, errHas: []string{"storage truncated", "actor.pth"}, noFiles: []string{ManifestName}},
		{out: "2026-01-05_10-00-00_nobuffer", status: jobs.StatusPartial, errHas: []string{"buffer"}, files: []string{"metrics.json", "report.html", ManifestName}, noFiles: []string{"buffer.json"}},
		{out: "sweepA__2026-02-01_09-00-00_td3", status: jobs.StatusOK, files: []string{"report.html", ManifestName}},
		{out: "sweepB__2026-02-01_09-00-00_td3", status: jobs.StatusOK, files: []string{"report.html", ManifestName}},
		{out: "custom-named", status: jobs.StatusOK, files: []string{"report.html", ManifestName}},
	}
	for _, tt := range tests {
		t.Run(tt.out, func(t *testing.T) {
			r, ok := rows[tt.out]
			if !ok {
				t.Fatalf("no row with Out %q", tt.out)
			}
			if r.Status != tt.status {
				t.Fatalf("status %q (%s), want %q", r.Status, r.Error, tt.status)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(r.Error, s) {
					t.Errorf("error %q lacks %q", r.Error, s)
				}
			}
			for _, f := range tt.files {
				if _, err := os.Stat(filepath.Join(out, tt.out, f)); err != nil {
					t.Errorf("missing output: %v", err)
				}
			}
			for _, f := range tt.noFiles {
				if _, err := os.Stat(filepath.Join(out, tt.out, f)); err == nil {
					t.Errorf("%s exists, want none", f)
				}
			}
		})
	}
	r := rows["2026-01-01_10-00-00_pendulum"]
	if r.Date != "2026-01-01 10:00:00" || r.Name != "2026-01-01_10-00-00_pendulum" || r.Seconds <= 0 || r.Finished.IsZero() {
		t.Errorf("runner-owned fields not filled: %+v", r)
	}
	for _, f := range []string{"summary.json", "summary.csv", IndexFileName} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("batch output: %v", err)
		}
	}
}

func TestBatchResumeSkipsUpToDateRuns(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	out := filepath.Join(t.TempDir(), "results")
	fe := newFakeEval()
	b := &Batch{Root: root, Out: out, Workers: 2, Evaluate: fe.Evaluate, Options: "v1"}
	first := mustRun(t, b)
	calls := fe.total()

	// A second batch evaluates nothing that succeeded; failures are retried.
	second := mustRun(t, b)
	if second.Skipped != 6 || second.Evaluated != 2 || fe.total()-calls != 2 {
		t.Fatalf("second batch: skipped %d evaluated %d calls %d; want 6, 2, 2", second.Skipped, second.Evaluated, fe.total()-calls)
	}
	if normRows(first.Runs) != normRows(second.Runs) {
		t.Fatalf("rows of a resumed batch differ:\n%s\n%s", normRows(first.Runs), normRows(second.Runs))
	}

	// Touching one input re-evaluates that run only.
	touched := filepath.Join(root, "sweepA/2026-02-01_09-00-00_td3/models/actor.pth")
	later := time.Now().Add(time.Hour)
	os.Chtimes(touched, later, later)
	before := fe.count("2026-02-01_09-00-00_td3")
	third := mustRun(t, b)
	if third.Evaluated != 3 || fe.count("2026-02-01_09-00-00_td3") != before+1 {
		t.Fatalf("after touch: evaluated %d (want 3: the touched run and the 2 failures)", third.Evaluated)
	}

	// New options redo everything, and so does Force.
	b.Options = "v2"
	if res := mustRun(t, b); res.Evaluated != 8 {
		t.Fatalf("new options: evaluated %d, want 8", res.Evaluated)
	}
	b.Force = true
	if res := mustRun(t, b); res.Evaluated != 8 {
		t.Fatalf("force: evaluated %d, want 8", res.Evaluated)
	}
}

func TestBatchKilledMidwayResumesToSameOutputs(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	mustRun(t, &Batch{Root: root, Out: whole, Workers: 2, Evaluate: newFakeEval().Evaluate})

	for _, k := range []int{1, 3, 6} {
		t.Run("cancel after "+strconv.Itoa(k), func(t *testing.T) {
			killed := filepath.Join(tmp, "killed"+strconv.Itoa(k))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fe := newFakeEval()
			var mu sync.Mutex
			n := 0
			// The k-th run to write its first file cancels the batch: it
			// and the runs in flight stop half written.
			fe.afterFirstFile = func(string) {
				mu.Lock()
				defer mu.Unlock()
				if n++; n == k {
					cancel()
				}
			}
			res, err := (&Batch{Root: root, Out: killed, Workers: 2, Evaluate: fe.Evaluate}).Run(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if !res.Interrupted || len(res.Runs) >= 8 {
				t.Fatalf("interrupted %v with %d rows; want an unfinished batch", res.Interrupted, len(res.Runs))
			}
			// What a kill -9 leaves besides: a temporary file in a run
			// folder and next to the summary, and a finished run whose
			// manifest never got written.
			os.WriteFile(filepath.Join(killed, "2026-01-01_10-00-00_pendulum", ".metrics.json"+atomicfile.Marker+"42"), []byte("{half"), 0o644)
			os.WriteFile(filepath.Join(killed, ".summary.json"+atomicfile.Marker+"7"), []byte("{half"), 0o644)
			os.Remove(filepath.Join(killed, "custom-named", ManifestName))
			if _, err := ReadSummary(filepath.Join(killed, "summary.json")); err != nil {
				t.Fatalf("a cancelled batch left no valid summary: %v", err)
			}

			res2 := mustRun(t, &Batch{Root: root, Out: killed, Workers: 2, Evaluate: fe.Evaluate})
			if res2.Interrupted || len(res2.Runs) != 8 || res2.Skipped == 0 && k > 1 {
				t.Fatalf("rerun: interrupted %v rows %d skipped %d", res2.Interrupted, len(res2.Runs), res2.Skipped)
			}
			sameTrees(t, treeFiles(t, whole), treeFiles(t, killed))
		})
	}
}

func TestBatchRejectsBadOptions(t *testing.T) {
	root := makeExperiments(t, standardFixture[:1])
	run := filepath.Join(root, standardFixture[0].rel)
	fe := newFakeEval()
	tests := []struct {
		name string
		b    Batch
	}{
		{"out inside a run", Batch{Root: root, Out: filepath.Join(run, "results")}},
		{"out is a run", Batch{Root: root, Out: run}},
		{"out is the root", Batch{Root: root, Out: root}},
		{"shard out of range", Batch{Root: root, Out: t.TempDir(), Shard: 4, Shards: 4}},
		{"bad match", Batch{Root: root, Out: t.TempDir(), Match: "[x"}},
		{"root is a file", Batch{Root: filepath.Join(run, "config.yaml"), Out: t.TempDir()}},
		{"no out", Batch{Root: root}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.Evaluate = fe.Evaluate
			_, err := tt.b.Run(context.Background())
			if !isUsage(err) {
				t.Fatalf("err = %v, want a usage error", err)
			}
		})
	}
	if fe.total() != 0 {
		t.Fatal("a rejected batch evaluated runs")
	}
}

func TestBatchMatchSelectsRunsByName(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	res := mustRun(t, &Batch{Root: root, Out: t.TempDir(), Match: "*_td3", Evaluate: newFakeEval().Evaluate})
	if len(res.Runs) != 2 || res.Runs[0].Out != "sweepA__2026-02-01_09-00-00_td3" {
		t.Fatalf("rows %+v; want the two td3 runs, named as in the whole batch", res.Runs)
	}
	if res.Failed != 0 {
		t.Fatal("a clean batch has failed runs")
	}
}

func TestSummaryCSVMatchesJSON(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	out := t.TempDir()
	mustRun(t, &Batch{Root: root, Out: out, Evaluate: newFakeEval().Evaluate})
	res, err := ReadSummary(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(out, "summary.csv"))
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "name,date,status,error,final_reward_sum,best_reward_sum,mean_q_policy,buffer_size,l2_total,seconds,library,layout,value_bias,algorithm,true_return" {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs)-1 != len(res.Runs) {
		t.Fatalf("csv has %d rows, json %d", len(recs)-1, len(res.Runs))
	}
	num := func(cell string) float64 {
		if cell == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			t.Fatalf("cell %q: %v", cell, err)
		}
		return v
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	sawNaN, sawBias := false, false
	for i, r := range res.Runs {
		c := recs[i+1]
		if c[0] != r.Name || c[1] != r.Date || c[2] != r.Status || c[3] != r.Error || c[7] != strconv.Itoa(r.BufferSize) {
			t.Errorf("row %d: csv %q vs json %+v", i, c, r)
		}
		for j, v := range []float64{jobs.MetricFinalRewardSum.Get(&r), jobs.MetricBestRewardSum.Get(&r), jobs.MetricMeanQPolicy.Get(&r), 0, jobs.MetricL2Total.Get(&r), r.Seconds} {
			if j == 3 {
				continue
			}
			if !same(num(c[4+j]), v) {
				t.Errorf("row %d col %d: csv %q vs json %v", i, 4+j, c[4+j], v)
			}
			sawNaN = sawNaN || math.IsNaN(v)
		}
		bias := jobs.MetricValueBias.Get(&r)
		if !same(num(c[12]), bias) {
			t.Errorf("row %d value_bias: csv %q vs json %v", i, c[12], bias)
		}
		sawBias = sawBias || !math.IsNaN(bias)
	}
	if !sawBias {
		t.Fatal("fixture has no value bias; the test would not pin its column")
	}
	if !sawNaN {
		t.Fatal("fixture has no NaN; the test would not pin NaN handling")
	}
}

// TestMain runs the test binary as the batch that
// TestBatchKilledByKill9ResumesToSameOutputs kills, when started with
// RLEVAL_KILL9_ROOT set (as os/exec's tests start their helper processes),
// and runs the tests otherwise.
func TestMain(m *testing.M) {
	if root := os.Getenv("RLEVAL_KILL9_ROOT"); root != "" {
		kill9Child(root, os.Getenv("RLEVAL_KILL9_OUT"))
	}
	os.Exit(m.Run())
}

// kill9Child runs a slow batch of root into out and waits to be killed.
func kill9Child(root, out string) {
	fe := newFakeEval()
	fe.sleep = 20 * time.Millisecond
	b := &Batch{Root: root, Out: out, Workers: 2, Evaluate: fe.Evaluate, SummaryInterval: time.Millisecond}
	if _, err := b.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "batch:", err)
		os.Exit(2)
	}
	time.Sleep(time.Minute) // finished before the kill: wait for it
	os.Exit(0)
}

func TestBatchKilledByKill9ResumesToSameOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	root := makeExperiments(t, standardFixture)
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	mustRun(t, &Batch{Root: root, Out: whole, Workers: 2, Evaluate: newFakeEval().Evaluate})

	killed := filepath.Join(tmp, "killed")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RLEVAL_KILL9_ROOT="+root, "RLEVAL_KILL9_OUT="+killed)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once about half of the runs are done (a bound, not a timing
	// assertion: the child is killed after the deadline anyway).
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		m, _ := filepath.Glob(filepath.Join(killed, "*", ManifestName))
		if len(m) >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL: no deferred cleanup runs
	cmd.Wait()

	// Whatever the kill interrupted, no output is half written: every
	// JSON file there parses.
	filepath.WalkDir(killed, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !atomicfile.IsTemp(p) && strings.HasSuffix(p, ".json") {
			if b, _ := os.ReadFile(p); !json.Valid(b) {
				t.Errorf("%s is half written after kill -9", p)
			}
		}
		return nil
	})
	res := mustRun(t, &Batch{Root: root, Out: killed, Workers: 2, Evaluate: newFakeEval().Evaluate})
	if len(res.Runs) != 8 {
		t.Fatalf("rerun has %d rows, want 8", len(res.Runs))
	}
	t.Logf("after the kill: %d runs skipped, %d evaluated", res.Skipped, res.Evaluated)
	sameTrees(t, treeFiles(t, whole), treeFiles(t, killed))
}

func TestBatchWithoutRunsSaysWhatARunIs(t *testing.T) {
	res := mustRun(t, &Batch{Root: t.TempDir(), Out: t.TempDir(), Evaluate: newFakeEval().Evaluate})
	if res.Total != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "config.yaml") || res.Failed != 0 {
		t.Fatalf("empty batch: %+v", res)
	}
}

// TestConcurrentBatchesOnOneOutEvaluateEachRunOnce starts two batches
// writing one --out at once (a batch started twice): the run locks make
// each run evaluated by one of them; the other waits and finds it up to
// date, and both end with every run's row.
func TestConcurrentBatchesOnOneOutEvaluateEachRunOnce(t *testing.T) {
	var good []fixtureRun // runs that fail are retried by design: left out
	for _, r := range standardFixture {
		if !strings.Contains(r.rel, "panic") && !strings.Contains(r.rel, "broken") {
			good = append(good, r)
		}
	}
	root := makeExperiments(t, good)
	out := filepath.Join(t.TempDir(), "results")
	fe := newFakeEval()
	fe.sleep = 30 * time.Millisecond // long enough for the two to overlap
	var wg sync.WaitGroup
	res := make([]*Result, 2)
	errs := make([]error, 2)
	for k := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &Batch{Root: root, Out: out, Workers: 2, Evaluate: fe.Evaluate, Options: "v1"}
			res[k], errs[k] = b.Run(context.Background())
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", k, err)
		}
	}
	for name, n := range fe.calls {
		want := 1
		if name == "2026-02-01_09-00-00_td3" { // two runs of that name
			want = 2
		}
		if n != want {
			t.Errorf("%s evaluated %d times, want %d", name, n, want)
		}
	}
	if got := res[0].Evaluated + res[1].Evaluated; got != len(good) || fe.total() != len(good) {
		t.Errorf("evaluated %d + %d (%d calls), want %d in all", res[0].Evaluated, res[1].Evaluated, fe.total(), len(good))
	}
	for k, r := range res {
		if len(r.Runs) != len(good) || r.Failed != 0 {
			t.Errorf("batch %d: %d rows, %d failed; want all %d runs", k, len(r.Runs), r.Failed, len(good))
		}
	}
	// The outputs are those of one batch alone.
	alone := filepath.Join(t.TempDir(), "alone")
	mustRun(t, &Batch{Root: root, Out: alone, Workers: 2, Evaluate: newFakeEval().Evaluate, Options: "v1"})
	sameTrees(t, treeFiles(t, alone), treeFiles(t, out))
}
