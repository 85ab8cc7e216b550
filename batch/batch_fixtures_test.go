package batch

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/jobs"
)

// copyTree copies the regular files under src to dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		copyFile(t, p, filepath.Join(dst, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	os.MkdirAll(filepath.Dir(dst), 0o755)
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

// TestBatchOverFixtureRunsAndBrokenOnes runs the real evaluation over the
// fixture runs plus copies broken the ways users' runs break: the good runs
// get full outputs, the broken ones a row naming the bad file, the one
// without a buffer its other outputs; a second batch evaluates nothing
// that succeeded.
func TestBatchOverFixtureRunsAndBrokenOnes(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates real runs")
	}
	good := fixture.Path(t, "runs", "2026-02-14_13-38-10_pendulum-v1")
	root := filepath.Join(t.TempDir(), "experiments")
	// Two layouts (gen-1 and gen-2) suffice here; the evaluation tests
	// cover the others, and this test also runs under -race.
	for _, name := range []string{"2026-02-14_13-38-10_pendulum-v1", "2026-06-20_09-15-00_pendulum-gen2"} {
		copyTree(t, fixture.Path(t, "runs", name), filepath.Join(root, name))
	}
	broken := []struct {
		name, file, with string
		errHas           string
	}{
		{"2026-04-01_00-00-00_truncated-ckpt", "models/actor.pth", "ckpt_truncated_half.pth", "actor.pth"},
		{"2026-04-02_00-00-00_hostile-pickle", "models/actor.pth", "ckpt_os_system.pth", "actor.pth"},
		{"2026-04-03_00-00-00_bad-yaml", "config.yaml", "config_invalid.yaml", "config.yaml"},
		{"2026-04-04_00-00-00_no-buffer", "data/replay_buffer.pth", "", "replay_buffer.pth"},
	}
	for _, b := range broken {
		dir := filepath.Join(root, b.name)
		copyTree(t, good, dir)
		if b.with == "" {
			os.Remove(filepath.Join(dir, b.file))
		} else {
			copyFile(t, fixture.Path(t, "bad", b.with), filepath.Join(dir, b.file))
		}
	}
	opt := jobs.DefaultOptions()
	opt.Grid, opt.Line, opt.Formats = 16, 32, []string{"svg"}
	// Returns, as the command line runs them, kept short: the page's
	// value-error maps come from them.
	opt.Returns = jobs.ReturnsOptions{Enabled: true, Episodes: 20, Horizon: 100, BufferStates: -1}
	eval := func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
		return jobs.Evaluate(ctx, runDir, outDir, opt)
	}
	out := filepath.Join(t.TempDir(), "results")
	res := mustRun(t, &Batch{Root: root, Out: out, Workers: 2, Evaluate: eval, Options: "test"})
	if len(res.Runs) != 6 {
		t.Fatalf("%d rows, want 6", len(res.Runs))
	}
	rows := rowsByName(res.Runs)
	for _, r := range res.Runs {
		if strings.Contains(r.Error, "panic") {
			t.Errorf("%s panicked: %s", r.Name, r.Error)
		}
	}
	for _, name := range []string{"2026-02-14_13-38-10_pendulum-v1", "2026-06-20_09-15-00_pendulum-gen2"} {
		r := rows[name]
		if r.Status != jobs.StatusOK {
			t.Errorf("%s: status %q (%s), want ok", name, r.Status, r.Error)
		}
		if _, err := os.Stat(filepath.Join(out, name, ReportFileName)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, b := range broken {
		r := rows[b.name]
		want := jobs.StatusFailed // a broken file fails the run
		if strings.HasSuffix(b.name, "no-buffer") {
			want = jobs.StatusPartial // a missing one does not
		}
		if r.Status != want || !strings.Contains(r.Error, b.errHas) {
			t.Errorf("%s: status %q error %q; want a problem naming %s", b.name, r.Status, r.Error, b.errHas)
		}
	}
	if r := rows["2026-04-04_00-00-00_no-buffer"]; r.Status != jobs.StatusPartial {
		t.Errorf("run without buffer: status %q, want partial", r.Status)
	} else if _, err := os.Stat(filepath.Join(out, r.Out, ReportFileName)); err != nil {
		t.Errorf("run without buffer has no report: %v", err)
	}
	// The page's value-error maps read the real runs' value_error_grid.npy
	// and the plane their summary.json records.
	page, err := os.ReadFile(filepath.Join(out, IndexFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<section id="value-error">`, `href="2026-02-14_13-38-10_pendulum-v1/report.html#returns"`, `x: θ (degrees) from -180 to 180`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("batch page lacks %q", want)
		}
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Error("/tmp/pwned exists: a hostile pickle ran")
	}
	again := mustRun(t, &Batch{Root: root, Out: out, Workers: 2, Evaluate: eval, Options: "test"})
	if again.Evaluated != 0 || again.Failed != res.Failed {
		t.Errorf("second batch evaluated %d runs (want 0: inputs unchanged) with %d failed (want %d)", again.Evaluated, again.Failed, res.Failed)
	}
	for _, r := range res.Runs {
		t.Logf("%-40s %-8s %.2fs %.80s", r.Name, r.Status, r.Seconds, r.Error)
	}
}
