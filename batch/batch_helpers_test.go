package batch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/jobs"
)

// demoRun is the fixture run rleval's demo shows.
const demoRun = "2026-02-14_13-38-10_pendulum-v1"

// testdata is the repository's fixture directory, for tests that build paths
// to files they then check; fixture.Path fails a test whose fixture is gone.
const testdata = "../testdata"

// fixtureRun describes one run directory of a test experiments folder.
type fixtureRun struct {
	rel      string // path under the root
	noBuffer bool   // leave out data/replay_buffer.pth (a partial run)
}

// standardFixture is the folder the batch tests share: good runs, nested
// groups, a name collision, a run that panics, one whose evaluation fails
// and a partial one.
var standardFixture = []fixtureRun{
	{rel: "2026-01-01_10-00-00_pendulum"},
	{rel: "2026-01-02_10-00-00_pendulum-seed2"},
	{rel: "2026-01-03_10-00-00_panic-run"},
	{rel: "2026-01-04_10-00-00_broken-ckpt"},
	{rel: "2026-01-05_10-00-00_nobuffer", noBuffer: true},
	{rel: "sweepA/2026-02-01_09-00-00_td3"},
	{rel: "sweepB/2026-02-01_09-00-00_td3"},
	{rel: "sweepB/custom-named"},
}

// makeExperiments builds a fixture experiments folder and returns its root.
func makeExperiments(t testing.TB, runs []fixtureRun) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "experiments")
	for _, r := range runs {
		dir := filepath.Join(root, filepath.FromSlash(r.rel))
		files := map[string]string{
			"config.yaml":            "experiment_name: " + filepath.Base(r.rel) + "\n",
			"train_logs/train.jsonl": `{"source":"train","event":"evaluation","step":500,"reward_sum":-160.2}` + "\n",
			"models/actor.pth":       strings.Repeat("a", 64),
		}
		if !r.noBuffer {
			files["data/replay_buffer.pth"] = strings.Repeat("b", 128)
		}
		for name, content := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// fakeEval is an EvaluateFunc standing in for jobs.Evaluate: it reads the
// inputs, writes deterministic outputs atomically, panics for runs named
// "*panic*", fails for "*broken*", and reports runs without a buffer as
// partial. It counts calls per run.
type fakeEval struct {
	mu    sync.Mutex
	calls map[string]int
	// sleep is spent per run; spin is CPU work per run (benchmarks).
	sleep time.Duration
	spin  int
	// alloc bytes are held while the run is evaluated (a loaded buffer);
	// onPeak is called then, for memory benchmarks.
	alloc  int
	onPeak func()
	// afterFirstFile, if set, runs between the run's two output files,
	// where a kill leaves a run half written.
	afterFirstFile func(name string)
}

func newFakeEval() *fakeEval { return &fakeEval{calls: map[string]int{}} }

func (f *fakeEval) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeEval) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func (f *fakeEval) Evaluate(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
	name := filepath.Base(runDir)
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.Contains(name, "panic") {
		var m map[string]int
		m["boom"]++ // a nil-map bug, as a real panic would be
	}
	if strings.Contains(name, "broken") {
		return nil, fmt.Errorf("load %s: tensor %q: storage truncated: %w", filepath.Join(runDir, "models/actor.pth"), "net.0.weight", io.ErrUnexpectedEOF)
	}
	cfg, err := os.ReadFile(filepath.Join(runDir, "config.yaml"))
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write(cfg)
	seed := float64(h.Sum64()%1000) / 10
	if f.spin > 0 {
		seed += spin(f.spin)
	}
	if f.alloc > 0 {
		buf := make([]byte, f.alloc)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = byte(i)
		}
		if f.onPeak != nil {
			f.onPeak()
		}
		runtime.KeepAlive(buf)
	}
	if f.sleep > 0 {
		time.Sleep(f.sleep)
	}
	if err := atomicfile.WriteBytes(filepath.Join(outDir, "metrics.json"), []byte(fmt.Sprintf(`{"run":%q,"seed":%g}`, name, seed))); err != nil {
		return nil, err
	}
	if f.afterFirstFile != nil {
		f.afterFirstFile(name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s := &jobs.RunSummary{
		Metrics:   map[string]float64{"final_reward_sum": -seed, "best_reward_sum": -seed / 2, "mean_q_policy": -seed * 3, "l2_total": seed / 100, "value_bias": seed/10 - 1},
		CurveStep: []float64{500, 1000, 1500}, CurveValue: []float64{-seed * 2, -seed, math.NaN()},
		Status: jobs.StatusOK,
	}
	if _, err := os.Stat(filepath.Join(runDir, "data/replay_buffer.pth")); err != nil {
		s.Status, s.Error = jobs.StatusPartial, "buffer: data/replay_buffer.pth: missing"
		delete(s.Metrics, jobs.MetricMeanQPolicy.Name)
		delete(s.Metrics, jobs.MetricValueBias.Name)
	} else {
		s.BufferSize = 128
		if err := atomicfile.WriteBytes(filepath.Join(outDir, "buffer.json"), []byte(`{"size":128}`)); err != nil {
			return nil, err
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(outDir, ReportFileName), []byte("<html>"+name+"</html>")); err != nil {
		return nil, err
	}
	return s, nil
}

// spin burns CPU deterministically, standing in for network evaluation.
func spin(n int) float64 {
	x := 0.0
	for i := 0; i < n; i++ {
		x += math.Sqrt(float64(i)) * 1e-12
	}
	return math.Mod(x, 1e-6)
}

// treeFiles maps every file under dir (slash paths) to its content, with
// the files that hold timings (manifests, summaries, index) normalised.
func treeFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Name() == ManifestName:
			m, err := ReadManifest(filepath.Dir(p))
			if err != nil {
				return err
			}
			m.Summary = normRow(m.Summary)
			out[rel] = fmt.Sprintf("%+v", *m)
		case strings.HasPrefix(d.Name(), "summary") && strings.HasSuffix(d.Name(), ".json"):
			res, err := ReadSummary(p)
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprint(normRows(res.Runs))
		case strings.HasPrefix(d.Name(), "summary") && strings.HasSuffix(d.Name(), ".csv"),
			d.Name() == IndexFileName:
			out[rel] = "(has timings)"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normRow clears what differs between two evaluations of the same run:
// timings, and the error's stack (line numbers differ per call site).
func normRow(s jobs.RunSummary) jobs.RunSummary {
	s.Seconds, s.Finished = 0, time.Time{}
	if i := strings.Index(s.Error, "\n"); i >= 0 {
		s.Error = s.Error[:i]
	}
	return s
}

func normRows(rows []jobs.RunSummary) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%+v\n", normRow(r))
	}
	return b.String()
}

func sameTrees(t *testing.T, a, b map[string]string) {
	t.Helper()
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		switch {
		case !oka:
			t.Errorf("%s: only in the second tree", k)
		case !okb:
			t.Errorf("%s: only in the first tree", k)
		case va != vb:
			t.Errorf("%s differs:\n first: %s\nsecond: %s", k, va, vb)
		}
	}
}

func rowsByName(rows []jobs.RunSummary) map[string]jobs.RunSummary {
	m := map[string]jobs.RunSummary{}
	for _, r := range rows {
		m[r.Out] = r
	}
	return m
}

func mustRun(t testing.TB, b *Batch) *Result {
	t.Helper()
	res, err := b.Run(context.Background())
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	return res
}

func isUsage(err error) bool { return errors.Is(err, jobs.ErrUsage) }
