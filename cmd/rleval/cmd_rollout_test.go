package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
)

// TestRolloutRollsOutKnownEnvironmentsOnly: a MountainCarContinuous run is
// rolled out; a run of an environment rleval does not have is named, with
// why, and the exit status says some runs were not.
func TestRolloutRollsOutKnownEnvironmentsOnly(t *testing.T) {
	good := fixture.Path(t, "runs-rollout", "2026-09-01_10-00-00_mountaincar-pump")
	other := fixture.Path(t, "runs-obs", "2026-08-01_12-00-00_obs17-td3")
	out := t.TempDir()
	code, stdout, stderr := cli(t, "rollout", "-q", "--device", "cpu", "--grid", "8", "--episodes", "20", "--horizon", "50", "--out", out, good, other)
	if code != exitSomeFailed {
		t.Fatalf("exit %d, want %d: %s%s", code, exitSomeFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, filepath.Base(good)+": true return ") || !strings.Contains(stdout, filepath.Base(other)+": not rolled out") {
		t.Errorf("stdout:\n%s", stdout)
	}
	for _, f := range []string{"returns.json", "value_grid.npy", "episode_returns.npy", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, filepath.Base(good), f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, filepath.Base(other), "returns.json")); err == nil {
		t.Error("returns.json written for an environment rleval does not have")
	}
	if code, _, _ := cli(t, "rollout", "--episodes", "0", good); code != exitUsage {
		t.Errorf("--episodes 0: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := cli(t, "rollout"); code != exitUsage {
		t.Errorf("no run: exit %d, want %d", code, exitUsage)
	}
}

// TestRunIncludesReturnsUnlessNoReturns: `rleval run` rolls the policy out
// by default when the environment is known, and --no-returns skips it.
func TestRunIncludesReturnsUnlessNoReturns(t *testing.T) {
	run := fixture.Path(t, "runs-obs", "2026-08-01_13-00-00_mountaincar-td3")
	for _, no := range []bool{false, true} {
		out := t.TempDir()
		args := []string{"run", "-q", "--device", "cpu", "--grid", "8", "--line", "8", "--episodes", "10", "--horizon", "20", "--out", out, run}
		if no {
			args = append(args[:1], append([]string{"--no-returns"}, args[1:]...)...)
		}
		if code, stdout, stderr := cli(t, args...); code != 0 {
			t.Fatalf("exit %d: %s%s", code, stdout, stderr)
		}
		_, err := os.Stat(filepath.Join(out, filepath.Base(run), "returns.json"))
		if no != (err != nil) {
			t.Errorf("--no-returns %v: returns.json: %v", no, err)
		}
	}
}
