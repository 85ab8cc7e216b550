package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

const demoRun = "2026-02-14_13-38-10_pendulum-v1"

// testdata is the repository's fixture directory, for tests that build paths
// to files they then check; fixture.Path fails a test whose fixture is gone.
const testdata = "../testdata"

// copyRun copies a fixture run into a temporary directory, so a test can
// break it.
func copyRun(t *testing.T, name string) string {
	t.Helper()
	src := fixture.Path(t, "runs", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func jobStatus(sum *RunSummary) map[string]JobStatus {
	m := map[string]JobStatus{}
	for _, j := range sum.Jobs {
		m[j.Name] = j
	}
	return m
}

func TestEvaluateSkipsOnlyTheJobsOfABrokenInput(t *testing.T) {
	for name, tc := range map[string]struct {
		breakRun func(dir string) error
		skipped  []string
		reason   string
		status   string
	}{
		"no buffer": {
			func(dir string) error { return os.Remove(filepath.Join(dir, "data", "replay_buffer.pth")) },
			[]string{"buffer", "qvalues", "valuebias"}, "replay_buffer.pth", StatusPartial,
		},
		"hostile critic2": {
			func(dir string) error {
				b, err := os.ReadFile(fixture.Path(t, "bad", "ckpt_os_system.pth"))
				if err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(dir, "models", "critic2.pth"), b, 0o644)
			},
			[]string{"qvalues", "qgrid", "valuebias", "maps"}, "critic2.pth", StatusFailed,
		},
		"truncated actor": {
			func(dir string) error {
				p := filepath.Join(dir, "models", "actor.pth")
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				return os.WriteFile(p, b[:len(b)/2], 0o644)
			},
			[]string{"models", "policy", "qvalues", "qgrid", "valuebias", "returns", "maps"}, "actor.pth", StatusFailed,
		},
		"bad yaml and no log": {
			func(dir string) error {
				if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("env: {name: [\n"), 0o644); err != nil {
					return err
				}
				return os.Remove(filepath.Join(dir, "train_logs", "train.jsonl"))
			},
			[]string{"curves", "valuebias:config.yaml", "returns:config.yaml"}, "train.jsonl", StatusFailed,
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyRun(t, demoRun)
			if err := tc.breakRun(dir); err != nil {
				t.Fatal(err)
			}
			opt := DefaultOptions()
			opt.Grid = 16
			opt.Line = 16
			opt.Returns = ReturnsOptions{Enabled: true, Episodes: 10, Horizon: 10, BufferStates: 8}
			out := t.TempDir()
			sum, err := Evaluate(context.Background(), dir, out, opt)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Status != tc.status {
				t.Errorf("status %q, want %s", sum.Status, tc.status)
			}
			st := jobStatus(sum)
			skipped := map[string]bool{}
			for _, j := range tc.skipped {
				reason := tc.reason
				if name, r, ok := strings.Cut(j, ":"); ok { // a job skipped for another input
					j, reason = name, r
				}
				skipped[j] = true
				if st[j].Status != "skipped" || !strings.Contains(st[j].Reason, reason) {
					t.Errorf("job %s: %+v, want skipped naming %s", j, st[j], reason)
				}
			}
			if _, listed := st["sac"]; listed {
				t.Error("the sac job is listed for a TD3 run")
			}
			for _, j := range Jobs() {
				// The demo run is TD3, evaluated without --checkpoints.
				if j.Name == "sac" || j.Name == "checkpoints" {
					continue
				}
				if !skipped[j.Name] && st[j.Name].Status != "ok" {
					t.Errorf("job %s: %+v, want ok", j.Name, st[j.Name])
				}
			}
			for _, f := range []string{"summary.json", "report.html"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("%s missing: %v", f, err)
				}
			}
			if _, err := os.Stat("/tmp/pwned"); err == nil {
				t.Fatal("a hostile pickle ran code")
			}
		})
	}
}

func TestRenderBigMapMatchesTheGridAndColours(t *testing.T) {
	exp := fixture.Path(t, "expected", demoRun)
	r, err := loaders.LoadRun(fixture.Path(t, "runs", demoRun), loaders.LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	eng := graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{Chunk: 1000})
	for _, tc := range []struct{ what, want string }{{"q", "q_grid.npy"}, {"policy", "policy_grid.npy"}, {"diff", "policy_diff.npy"}, {"q1", "q1_grid.npy"}} {
		t.Run(tc.what, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tc.what+".png")
			res, err := RenderBigMap(context.Background(), r, BigMap{What: tc.what, N: 200, Out: out, Engine: eng})
			if err != nil {
				t.Fatal(err)
			}
			got, shape := fixture.ReadNPY(t, res.NPY)
			if len(shape) != 2 || shape[0] != 200 || shape[1] != 200 {
				t.Fatalf("shape %v", shape)
			}
			fixture.CloseNPY(t, res.NPY, filepath.Join(exp, tc.want), fixture.Analyses)
			f, err := os.Open(res.PNG)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 200 {
				t.Fatalf("raster %v, want 200×200", b)
			}
			cmap := plotting.Viridis()
			vmin, vmax := res.Min, res.Max
			if tc.what == "policy" || tc.what == "diff" {
				cmap = plotting.RdBuR()
			}
			if tc.what == "diff" {
				a := math.Max(-vmin, vmax)
				vmin, vmax = -a, a
			}
			// Grid row 0 (θ̇ = -8) is the bottom line of the image.
			for _, cell := range [][2]int{{0, 0}, {199, 0}, {0, 199}, {123, 45}} {
				x, y := cell[0], cell[1]
				tt := plotting.Normalize(float64(got[y*200+x]), vmin, vmax)
				if i, _ := cmap.Index(tt); i == plotting.RasterNaNIndex {
					tt = (plotting.RasterNaNIndex - 0.5) / plotting.LUTSize // the raster's top colour gives way to NaN
				}
				wc := cmap.At(tt)
				r, g, b, _ := img.At(x, 199-y).RGBA()
				if uint8(r>>8) != wc.R || uint8(g>>8) != wc.G || uint8(b>>8) != wc.B {
					t.Errorf("cell (%d,%d): pixel %d,%d,%d, want %v", x, y, r>>8, g>>8, b>>8, wc)
				}
			}
			if _, err := os.Stat(res.Figure); err != nil {
				t.Error(err)
			}
		})
	}
}

// The jobs that read the logs run after the others, while the logs are read,
// yet the summary lists every job in the registry's order, and the SAC job
// still draws the logged entropy.
func TestEvaluateListsJobsInRegistryOrder(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-07-01_08-00-00_pendulum-sac")
	opt := DefaultOptions()
	opt.Grid, opt.Line = 16, 16
	opt.Returns = ReturnsOptions{Enabled: true, Episodes: 10, Horizon: 10, BufferStates: 8}
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), dir, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, j := range sum.Jobs {
		got = append(got, j.Name)
		if j.Status != "ok" {
			t.Errorf("job %s: %s (%s)", j.Name, j.Status, j.Reason)
		}
	}
	for _, j := range registry {
		if j.Name != "checkpoints" { // only with --checkpoints
			want = append(want, j.Name)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("jobs listed %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(out, "plots", "sac_entropy.png")); err != nil {
		t.Fatalf("the SAC job drew no entropy from the log: %v", err)
	}
	var file struct {
		Log *logSummary `json:"log"`
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if file.Log == nil || file.Log.Steps.Count == 0 {
		t.Fatal("summary.json has no log")
	}
}

// With no job reading the logs (core arrays of a TD3 run), Evaluate still
// waits for them: a log that cannot be read fails the run.
func TestEvaluateCoreOnlyWaitsForTheLogs(t *testing.T) {
	dir := copyRun(t, demoRun)
	log := filepath.Join(dir, "train_logs", "train.jsonl")
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(log, 0o755); err != nil { // exists, cannot be read as a file
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Grid, opt.Line, opt.CoreOnly = 8, 8, true
	sum, err := Evaluate(context.Background(), dir, t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range sum.Jobs {
		if j.Name == curvesJob.Name {
			t.Fatalf("core-only ran the curves job: %+v", sum.Jobs)
		}
	}
	if sum.Status != StatusFailed || !strings.Contains(sum.Error, "train.jsonl") {
		t.Fatalf("status %s, error %q: the unreadable log was not waited for", sum.Status, sum.Error)
	}
}

// runJobs waits for the logs before it returns even when no job reads them
// (the status and summary read them next), and a cancellation ends that
// wait.
func TestRunJobsWaitsForTheLogs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := false
	job := Job{Name: "nets", Needs: func(*Context) error { return nil }, Run: func(*Context) (*Output, error) {
		ran = true
		cancel() // the logs are never read: only this ends the wait
		return nil, nil
	}}
	c := &Context{Run: &loaders.Run{Name: "run"}, Opt: Options{CoreOnly: true}}
	sum := &RunSummary{}
	err := runJobs(ctx, []Job{job}, c, nil, sum, make(chan struct{}), func(string, ...any) {})
	if !ran || !errors.Is(err, context.Canceled) {
		t.Fatalf("ran %v, error %v: runJobs did not wait for the logs", ran, err)
	}
	if len(sum.Jobs) != 1 || sum.Jobs[0].Status != "ok" {
		t.Fatalf("statuses %+v", sum.Jobs)
	}
}

// TestRunStatusSeparatesNeverSavedFromMissingAndBroken pins what a run's
// status says: a file its library never saves leaves it ok (a note), one
// it should have saved makes it partial, one that cannot be read or an
// analysis that failed makes it failed; summary keeps every reason.
func TestRunStatusSeparatesNeverSavedFromMissingAndBroken(t *testing.T) {
	absent := func(name string) error { return fmt.Errorf("load %s: %w", name, loaders.ErrNotExist) }
	optional := map[loaders.PartName]string{loaders.PartBuffer: "never saved"}
	bufErr := func(err error) loaders.Part[*loaders.ReplayBuffer] {
		return loaders.Part[*loaders.ReplayBuffer]{Err: err}
	}
	for _, tc := range []struct {
		name     string
		run      loaders.Run
		jobs     []JobStatus
		status   string
		notSaved int
		errHas   string
	}{
		{"never saved", loaders.Run{Buffer: bufErr(absent("replay_buffer.pkl")), Optional: optional}, nil, StatusOK, 1, ""},
		{"missing", loaders.Run{Buffer: bufErr(absent("replay_buffer.pth"))}, nil, StatusPartial, 0, "replay_buffer.pth"},
		{"optional but broken", loaders.Run{Buffer: bufErr(fmt.Errorf("load replay_buffer.pkl: truncated: %w", loaders.ErrInvalid)), Optional: optional},
			nil, StatusFailed, 0, "replay_buffer.pkl"},
		{"analysis failed", loaders.Run{Buffer: bufErr(absent("replay_buffer.pkl")), Optional: optional},
			[]JobStatus{{Name: "maps", Status: "failed", Reason: "boom"}}, StatusFailed, 1, "maps: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := &RunSummary{Jobs: tc.jobs}
			finishStatus(&tc.run, sum)
			if sum.Status != tc.status || len(sum.NotSaved) != tc.notSaved || !strings.Contains(sum.Error, tc.errHas) {
				t.Errorf("status %q, not saved %q, error %q; want %s, %d notes, error naming %q", sum.Status, sum.NotSaved, sum.Error, tc.status, tc.notSaved, tc.errHas)
			}
			if tc.notSaved > 0 && !strings.Contains(sum.NotSaved[0], "never saved") {
				t.Errorf("note %q does not say why the file is absent", sum.NotSaved[0])
			}
		})
	}
}

// TestRenderBigMapReportsOneProgressOverAllBlocks: a map of several blocks
// (and "diff", two networks per block) reports one rising count to one
// total, as a single progress bar needs, not each block from 0 to 100 %.
func TestRenderBigMapReportsOneProgressOverAllBlocks(t *testing.T) {
	defer func(n int) { blockCells = n }(blockCells)
	blockCells = 40 * 10 // 4 blocks of a 40×40 map
	r, err := loaders.LoadRun(fixture.Path(t, "runs", demoRun), loaders.LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"q", "diff"} {
		eng := graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{Chunk: 100})
		var calls [][2]int
		eng.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
		if _, err := RenderBigMap(context.Background(), r, BigMap{What: what, N: 40, Out: filepath.Join(t.TempDir(), "m.png"), Engine: eng}); err != nil {
			t.Fatal(err)
		}
		if len(calls) < 4 {
			t.Fatalf("%s: %d progress calls, want one per chunk", what, len(calls))
		}
		last := calls[len(calls)-1]
		if last[0] != last[1] {
			t.Errorf("%s: progress ends at %d of %d", what, last[0], last[1])
		}
		for i, c := range calls {
			if c[1] != last[1] || (i > 0 && c[0] < calls[i-1][0]) {
				t.Fatalf("%s: progress goes back or changes its total: %v", what, calls)
			}
		}
	}
}

// TestReportSkippedSectionListsOnlySkippedJobs: the report's "Skipped
// jobs" section lists the jobs that did not run, not every job.
func TestReportSkippedSectionListsOnlySkippedJobs(t *testing.T) {
	dir := copyRun(t, demoRun)
	if err := os.Remove(filepath.Join(dir, "data", "replay_buffer.pth")); err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Grid, opt.Line = 16, 16
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), dir, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), `<section id="`+sectionSkipped.ID+`"`) // then its grid class
	sec, _, _ = strings.Cut(sec, "</section>")
	if !ok {
		t.Fatal("report has no skipped-jobs section")
	}
	for _, j := range sum.Jobs {
		row := "<td>" + j.Name + "</td>"
		if listed := strings.Contains(sec, row); listed != (j.Status != "ok") {
			t.Errorf("job %s (%s): listed in the skipped section %v", j.Name, j.Status, listed)
		}
	}
}

// TestEvaluateReportsOneProgressOverItsJobs: a run's progress counts its
// jobs from 0 to all of them, one total, never going back.
func TestEvaluateReportsOneProgressOverItsJobs(t *testing.T) {
	opt := DefaultOptions()
	opt.Grid, opt.Line = 16, 16
	var calls [][2]int
	opt.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
	sum, err := Evaluate(context.Background(), copyRun(t, demoRun), t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	n := len(sum.Jobs)
	if len(calls) != n+1 {
		t.Fatalf("%d progress calls for %d jobs: %v", len(calls), n, calls)
	}
	for i, c := range calls {
		if c != [2]int{i, n} {
			t.Fatalf("call %d is %v, want [%d %d]: %v", i, c, i, n, calls)
		}
	}
}
