package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/jobs"
)

// oneLine fails unless s is one line that holds each of want.
func oneLine(t *testing.T, what, s string, want ...string) {
	t.Helper()
	if strings.Count(strings.TrimRight(s, "\n"), "\n") != 0 {
		t.Errorf("%s: %d lines, want one:\n%s", what, strings.Count(s, "\n"), s)
	}
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s: %q lacks %q", what, s, w)
		}
	}
}

func TestFlagErrorIsOneLinePointingToHelp(t *testing.T) {
	for _, args := range [][]string{
		{"batch", "--no-such-flag", "dir"},
		{"run", "--grid", "many"},
		{"compare", "-x"},
	} {
		code, stdout, stderr := cli(t, args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("rleval %v: exit %d, stdout %q; want %d and nothing", args, code, stdout, exitUsage)
		}
		oneLine(t, strings.Join(args, " "), stderr, "see rleval "+args[0]+" -h")
	}
}

func TestShardOutOfRangeIsOneClearLine(t *testing.T) {
	code, _, stderr := cli(t, "batch", "--shard", "3/2", t.TempDir())
	if code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	oneLine(t, "--shard 3/2", stderr, "no shard 3 of 2", "0 to 1")
	if strings.Count(stderr, "shard") > 3 || strings.Contains(stderr, "usage") {
		t.Errorf("--shard 3/2 repeats itself or ends in usage: %q", stderr)
	}
}

func TestBatchOfMissingFolderWritesNothingAndExits2(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o")
	missing := filepath.Join(t.TempDir(), "nonexistent")
	code, stdout, stderr := cli(t, "batch", "-q", "--device", "cpu", "--out", out, missing)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, stderr)
	}
	if strings.Contains(stdout, "index.html") || strings.Contains(stderr, "index.html") {
		t.Errorf("names an index page it never wrote: %q %q", stdout, stderr)
	}
	if !strings.Contains(stderr, missing) {
		t.Errorf("stderr %q does not name the folder", stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("created %s for a batch that could not run", out)
	}
}

func TestBatchSaysWhenMatchFindsNoRun(t *testing.T) {
	root := t.TempDir()
	src := fixture.Path(t, "runs", "2026-03-01_10-00-00_pendulum-legacy")
	if err := os.CopyFS(filepath.Join(root, "2026-03-01_10-00-00_one"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := cli(t, "batch", "-q", "--device", "cpu", "--match", "zzz*", "--out", out, root)
	if code != exitOK || !strings.Contains(stderr, `--match "zzz*" matches none of the 1 run `) {
		t.Errorf("exit %d, stderr %q; want a note that --match found none of 1 run", code, stderr)
	}
	code, stdout, stderr := cli(t, "batch", "-q", "--device", "cpu", "--grid", "8", "--line", "8", "--out", out, root)
	if code != exitOK || !strings.HasPrefix(stdout, "1 run: 1 evaluated") {
		t.Errorf("exit %d, stdout %q (%s); want \"1 run: 1 evaluated\"", code, stdout, stderr)
	}
}

// TestUnknownObservationIsUsageErrorWritingNothing: --axes and --fix that
// name an observation the run lacks exit 2 with one line naming those it
// has, and leave an earlier output as it was (today: "ok", maps skipped).
func TestUnknownObservationIsUsageErrorWritingNothing(t *testing.T) {
	out := t.TempDir()
	report := filepath.Join(out, "2026-02-14_13-38-10_pendulum-v1", "report.html")
	os.MkdirAll(filepath.Dir(report), 0o755)
	os.WriteFile(report, []byte("earlier"), 0o644)
	heat := filepath.Join(out, "q.png")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--axes", "7:-1:1,1:-1:1"}, []string{`"7"`, "0..2", "cos_theta", "theta_dot"}},
		{[]string{"run", "--axes", "foo:-1:1,bar:-1:1"}, []string{`"foo"`, "0..2"}},
		{[]string{"eval", "--fix", "9=1"}, []string{`--fix`, `"9"`, "0..2"}},
		{[]string{"run", "--preset", "none", "--axes", "0,5"}, []string{`"5"`, "0..2"}},
		{[]string{"heatmap", "--grid", "8", "--out", heat, "--fix", "9=1"}, []string{`"9"`, "0..2"}},
	} {
		args := append(append([]string{}, tc.args...), "-q", "--device", "cpu", "--grid", "8")
		if tc.args[0] != "heatmap" {
			args = append(args, "--out", out)
		}
		code, stdout, stderr := cli(t, args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("rleval %v: exit %d, stdout %q; want %d", tc.args, code, stdout, exitUsage)
		}
		oneLine(t, strings.Join(tc.args, " "), stderr, tc.want...)
	}
	if b, _ := os.ReadFile(report); string(b) != "earlier" {
		t.Error("a refused run overwrote the earlier report")
	}
	if _, err := os.Stat(heat); err == nil {
		t.Error("a refused heatmap wrote its PNG")
	}
}

// TestCompareUnknownKeyKeepsPages: a --group-by key no config has, or an
// unknown --metric, exits 2 naming what exists, and groups.json and
// index.html stay as they were (today: one group "algo=(absent)").
func TestCompareUnknownKeyKeepsPages(t *testing.T) {
	out := t.TempDir()
	var res batch.Result
	for _, name := range []string{"2026-02-14_13-38-10_pendulum-v1", "2026-06-20_09-15-00_pendulum-gen2"} {
		dir, _ := filepath.Abs(fixture.Path(t, "runs", name))
		res.Runs = append(res.Runs, jobs.RunSummary{Name: name, Dir: dir, Out: name, Status: jobs.StatusOK, Metrics: map[string]float64{"final_reward_sum": -100}})
	}
	if err := batch.WriteSummary(out, &res); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{batch.GroupsJSONName, batch.IndexFileName} {
		os.WriteFile(filepath.Join(out, f), []byte("earlier"), 0o644)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--group-by", "algo"}, []string{"--group-by algo", "algorithm", "env.name"}},
		{[]string{"--group-by", "env.name,nosuch.key"}, []string{"nosuch.key", "env.name"}},
		{[]string{"--metric", "reward"}, []string{"reward", "final_reward_sum", "value_bias"}},
	} {
		args := append(append([]string{"compare", "--reps", "10"}, tc.args...), out)
		code, stdout, stderr := cli(t, args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want %d", tc.args, code, stdout, exitUsage)
		}
		oneLine(t, strings.Join(tc.args, " "), stderr, tc.want...)
	}
	for _, f := range []string{batch.GroupsJSONName, batch.IndexFileName} {
		if b, _ := os.ReadFile(filepath.Join(out, f)); string(b) != "earlier" {
			t.Errorf("a refused compare overwrote %s", f)
		}
	}
	// batch refuses the key before evaluating anything.
	root := t.TempDir()
	src := fixture.Path(t, "runs", "2026-02-14_13-38-10_pendulum-v1")
	os.CopyFS(filepath.Join(root, "2026-02-14_13-38-10_pendulum-v1"), os.DirFS(src))
	bout := filepath.Join(t.TempDir(), "b")
	code, _, stderr := cli(t, "batch", "-q", "--device", "cpu", "--group-by", "algo", "--out", bout, root)
	if code != exitUsage {
		t.Errorf("batch --group-by algo: exit %d, want %d", code, exitUsage)
	}
	oneLine(t, "batch --group-by algo", stderr, "--group-by algo")
	if _, err := os.Stat(filepath.Join(bout, "2026-02-14_13-38-10_pendulum-v1")); err == nil {
		t.Error("batch evaluated runs before refusing --group-by")
	}
}
