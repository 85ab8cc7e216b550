package batch

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
)

func TestShardsMergedEqualUnshardedBatch(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	want := mustRun(t, &Batch{Root: root, Out: whole, Workers: 2, Evaluate: newFakeEval().Evaluate})

	for _, n := range []int{2, 3, 16} {
		t.Run("shared out, "+strconv.Itoa(n)+" shards", func(t *testing.T) {
			out := filepath.Join(tmp, "shared"+strconv.Itoa(n))
			for i := 0; i < n; i++ {
				mustRun(t, &Batch{Root: root, Out: out, Shard: i, Shards: n, Evaluate: newFakeEval().Evaluate})
			}
			if _, err := os.Stat(filepath.Join(out, "summary.json")); err == nil {
				t.Fatal("a shard wrote summary.json; shards must write summary-shard-i-of-n.json")
			}
			got, err := Merge(out, []string{out})
			if err != nil {
				t.Fatal(err)
			}
			if normRows(got.Runs) != normRows(want.Runs) {
				t.Fatalf("merged rows differ from the unsharded batch:\n%s\nwant\n%s", normRows(got.Runs), normRows(want.Runs))
			}
			if got.OK != want.OK || got.Failed != want.Failed || got.Partial != want.Partial || got.Total != want.Total {
				t.Fatalf("merged counts %+v, want %+v", got, want)
			}
			// Same files in the run folders; summaries equal up to timings.
			tw, tg := treeFiles(t, whole), treeFiles(t, out)
			for k := range tg {
				if strings.HasPrefix(k, "summary-shard-") {
					delete(tg, k)
				}
			}
			sameTrees(t, tw, tg)
		})
	}

	t.Run("separate outs", func(t *testing.T) {
		var dirs []string
		for i := 0; i < 3; i++ {
			d := filepath.Join(tmp, "sep", "shard"+strconv.Itoa(i))
			dirs = append(dirs, d)
			mustRun(t, &Batch{Root: root, Out: d, Shard: i, Shards: 3, Evaluate: newFakeEval().Evaluate})
		}
		merged := filepath.Join(tmp, "sep", "merged")
		os.MkdirAll(merged, 0o755)
		got, err := Merge(merged, dirs)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Runs) != len(want.Runs) {
			t.Fatalf("%d rows, want %d", len(got.Runs), len(want.Runs))
		}
		for _, r := range got.Runs {
			if r.Status == jobs.StatusFailed {
				continue
			}
			// The index links Out/report.html relative to the merged folder.
			if _, err := os.Stat(filepath.Join(merged, filepath.FromSlash(r.Out), ReportFileName)); err != nil {
				t.Errorf("link of %s does not resolve: %v", r.Name, err)
			}
		}
	})
}

func TestMergeReportsMissingShards(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	out := t.TempDir()
	for _, i := range []int{0, 2} {
		mustRun(t, &Batch{Root: root, Out: out, Shard: i, Shards: 3, Evaluate: newFakeEval().Evaluate})
	}
	_, err := Merge(out, []string{out})
	if !errors.Is(err, ErrMissingShards) || !strings.Contains(err.Error(), "[1]") {
		t.Fatalf("err = %v, want missing shard 1", err)
	}
	if _, err := ReadSummary(filepath.Join(out, "summary.json")); err != nil {
		t.Fatalf("no merged summary of the shards that exist: %v", err)
	}
}

func TestMergeRejectsMixedShardCounts(t *testing.T) {
	root := makeExperiments(t, standardFixture)
	out := t.TempDir()
	mustRun(t, &Batch{Root: root, Out: out, Shard: 0, Shards: 2, Evaluate: newFakeEval().Evaluate})
	mustRun(t, &Batch{Root: root, Out: out, Shard: 0, Shards: 3, Evaluate: newFakeEval().Evaluate})
	if _, err := Merge(out, []string{out}); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("err = %v, want a stale-summaries error", err)
	}
	if _, err := Merge(out, []string{t.TempDir()}); err == nil {
		t.Fatal("merging a folder without summaries succeeded")
	}
}
