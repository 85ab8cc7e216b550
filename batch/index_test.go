package batch

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/stats"
)

// TestBatchPageEscapesGroupNames gives runs configs whose values are
// markup: the groups table, legends, curves' titles and the matrix must
// show them as text.
func TestBatchPageEscapesGroupNames(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	res := &Result{Root: root}
	for i, v := range []string{`"<script>alert(1)</script>"`, `"</td><img src=x onerror=alert(2)>"`} {
		for s := range 2 {
			name := "run" + string(rune('a'+2*i+s))
			dir := filepath.Join(root, name)
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("seed: "+string(rune('0'+s))+"\nnote: "+v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			res.Runs = append(res.Runs, jobs.RunSummary{Name: name, Dir: dir, Out: name, Status: jobs.StatusOK, Metrics: map[string]float64{"final_reward_sum": float64(i + s), "value_bias": math.NaN()}, CurveStep: []float64{1, 2}, CurveValue: []float64{0, float64(i + s)}})
		}
	}
	g, err := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Reps: 100}, CurveReps: 20, PairReps: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Groups) != 2 {
		t.Fatalf("%d groups, want 2", len(g.Groups))
	}
	path := filepath.Join(out, IndexFileName)
	if err := WriteIndex(path, res, g); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	for _, bad := range []string{"<script>alert", "<img src=x"} {
		if strings.Contains(string(page), bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, good := range []string{`id="groups"`, `id="curves"`, `class="band"`, `id="improvement"`, "note=&lt;script&gt;"} {
		if !strings.Contains(string(page), good) {
			t.Errorf("page lacks %q", good)
		}
	}
}

func TestReadMapNPYReadsWhatWriteNPYWrites(t *testing.T) {
	dir := t.TempDir()
	v := []float32{1, 2, 3, 4, 5, 6}
	p := filepath.Join(dir, "m.npy")
	if err := jobs.WriteNPY(p, v, 2, 3); err != nil {
		t.Fatal(err)
	}
	got, nx, ny, err := readMapNPY(p)
	if err != nil || nx != 3 || ny != 2 || got[5] != 6 {
		t.Fatalf("readMapNPY = %v %d×%d, %v", got, ny, nx, err)
	}
	if err := jobs.WriteNPY(p, v, 1, 3, 2); err != nil { // two channels: the first is read
		t.Fatal(err)
	}
	if got, _, _, err := readMapNPY(p); err != nil || len(got) != 3 || got[1] != 3 {
		t.Fatalf("3-D map: %v, %v", got, err)
	}
	data, _ := os.ReadFile(p)
	os.WriteFile(p, data[:len(data)-1], 0o644)
	if _, _, _, err := readMapNPY(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("truncated map: err = %v, want one naming the file", err)
	}
}

func FuzzReadMapNPY(f *testing.F) {
	for _, name := range []string{"policy_grid.npy", "q_grid.npy", "policy_1d.npy", "coverage.npy"} {
		b, err := os.ReadFile(filepath.Join(testdata, "expected", demoRun, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "m.npy")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		v, nx, ny, err := readMapNPY(p)
		if err == nil && len(v) != nx*ny {
			t.Fatalf("%d values for %d × %d", len(v), ny, nx)
		}
	})
}

// BenchmarkWriteIndex500 writes the page of 100 groups × 5 runs, every
// run with its policy, Q and value-error maps and two curves.
func BenchmarkWriteIndex500(b *testing.B) {
	res, out := makeBigBatch(b, 100, 5)
	g, err := ComputeGroups(res, GroupOptions{Bootstrap: stats.Bootstrap{Reps: 2000, Seed: 1}, CurveReps: 500, PairReps: 500})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(out, IndexFileName)
	b.ResetTimer()
	for range b.N {
		if err := WriteIndex(path, res, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Runs)*b.N)/b.Elapsed().Seconds(), "runs/s")
}
