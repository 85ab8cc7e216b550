package batch

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/hostile"
	"github.com/rleval/rleval/jobs"
)

// A run whose file is a FIFO fails alone and fast; the run after it in a
// batch is evaluated.
func TestBatchIsNotBlockedByARunWithAFIFO(t *testing.T) {
	root := t.TempDir()
	stuck := filepath.Join(root, "2026-06-20_09-15-00_stuck")
	good := filepath.Join(root, "2026-06-20_09-16-00_good")
	src := filepath.Join(testdata, "runs", "2026-06-20_09-15-00_pendulum-gen2")
	for _, d := range []string{stuck, good} {
		if err := hostile.Copy(src, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range []string{"config.yaml", "agent_td3/actor.pt", "data/replay_buffer.pth"} {
		if err := hostile.FIFO(filepath.Join(stuck, rel)); err != nil {
			t.Fatal(err)
		}
	}
	if err := hostile.Link(filepath.Join(stuck, "train.jsonl"), "/dev/zero"); err != nil {
		t.Fatal(err)
	}
	b := Batch{Root: root, Out: filepath.Join(t.TempDir(), "out"), Workers: 1,
		Evaluate: func(ctx context.Context, runDir, outDir string) (*jobs.RunSummary, error) {
			return jobs.Evaluate(ctx, runDir, outDir, jobs.Options{Grid: 8, CoreOnly: true})
		}}
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := b.Run(context.Background())
		done <- result{res, err}
	}()
	var res *Result
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		res = r.res
	case <-time.After(10 * time.Second):
		t.Fatal("the batch did not finish within 10 s")
	}
	var failed, ok []string
	for _, s := range res.Runs {
		switch s.Status {
		case jobs.StatusFailed:
			failed = append(failed, s.Name)
			for _, want := range []string{"config.yaml", "actor.pt", "replay_buffer.pth", "train.jsonl"} {
				if !strings.Contains(s.Error, want) {
					t.Errorf("%s: error %q does not name %s", s.Name, s.Error, want)
				}
			}
		case jobs.StatusOK:
			ok = append(ok, s.Name)
		}
	}
	if !slices.Equal(failed, []string{"2026-06-20_09-15-00_stuck"}) || !slices.Equal(ok, []string{"2026-06-20_09-16-00_good (td3)"}) {
		t.Fatalf("failed %v, ok %v", failed, ok)
	}
}
