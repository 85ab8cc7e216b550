package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
)

// copyFixture copies a committed run folder into the test's temp dir,
// leaving out the files named in drop, and returns the copy's path.
func copyFixture(t *testing.T, src string, drop ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	for _, f := range drop {
		if err := os.Remove(filepath.Join(dst, f)); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// runSummary is what these tests read of a run's summary.json.
type runSummary struct {
	Status   string   `json:"status"`
	Problems []string `json:"problems"`
	NotSaved []string `json:"not_saved"`
	Jobs     []struct {
		Name, Status, Reason string
	} `json:"jobs"`
}

// TestRunOnPublishedRunsExits0WithTheQMap is issue 20's first "done
// when": runs as their libraries publish them — RL Zoo SAC, DDPG and TQC
// without replay_buffer.pkl, a CleanRL run, an original-TD3 folder — are
// ok and exit 0, write q_grid.npy equal to PyTorch's, and summary.json
// notes the buffer the library did not save.
func TestRunOnPublishedRunsExits0WithTheQMap(t *testing.T) {
	layouts := fixture.Path(t, "layouts")
	for _, tc := range []struct {
		name, expected string
		dir            func(t *testing.T) string
		oneCritic      bool
	}{
		{"rl-zoo sac", "logs+sac+Pendulum-v1_1", func(t *testing.T) string {
			return copyFixture(t, filepath.Join(layouts, "logs", "sac", "Pendulum-v1_1"), "replay_buffer.pkl")
		}, false},
		{"rl-zoo tqc", "logs+tqc+Pendulum-v1_1", func(t *testing.T) string {
			return copyFixture(t, filepath.Join(layouts, "logs", "tqc", "Pendulum-v1_1"), "replay_buffer.pkl")
		}, false},
		{"rl-zoo ddpg", "logs+ddpg+Pendulum-v1_1", func(t *testing.T) string {
			return copyFixture(t, filepath.Join(layouts, "logs", "ddpg", "Pendulum-v1_1"))
		}, true},
		{"cleanrl", "runs+Pendulum-v1__td3_continuous_action__1__1700000000", func(t *testing.T) string {
			return filepath.Join(layouts, "runs", "Pendulum-v1__td3_continuous_action__1__1700000000")
		}, false},
		{"original td3", "TD3+TD3_Pendulum-v1_0", func(t *testing.T) string {
			return filepath.Join(layouts, "TD3", "TD3_Pendulum-v1_0")
		}, false},
		{"original td3 OurDDPG", "TD3+OurDDPG_Pendulum-v1_0", func(t *testing.T) string {
			return filepath.Join(layouts, "TD3", "OurDDPG_Pendulum-v1_0")
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			if _, err := os.Stat(filepath.Join(dir, "replay_buffer.pkl")); err == nil {
				t.Fatal("the run under test has a replay buffer")
			}
			out := t.TempDir()
			code, stdout, stderr := cli(t, "run", "-q", "--device", "cpu", "--grid", "16", "--line", "16", "--out", out, dir)
			if code != exitOK {
				t.Fatalf("exit %d, want 0:\n%s\n%s", code, stdout, stderr)
			}
			res := filepath.Join(out, filepath.Base(dir))
			exp := fixture.Path(t, "expected-layouts", tc.expected)
			fixture.CloseNPY(t, filepath.Join(res, "q_grid.npy"), filepath.Join(exp, "q_grid.npy"), fixture.Analyses)

			var s runSummary
			fixture.DecodeJSON(t, filepath.Join(res, "summary.json"), &s)
			if s.Status != "ok" || len(s.Problems) != 0 {
				t.Errorf("status %q, problems %q: want ok and none", s.Status, s.Problems)
			}
			noted := false
			for _, n := range s.NotSaved {
				noted = noted || strings.HasPrefix(n, "buffer: ")
			}
			if !noted {
				t.Errorf("summary.json not_saved %q does not note the absent buffer", s.NotSaved)
			}
			for _, j := range s.Jobs {
				if j.Name == "qvalues" && (j.Status != "skipped" || j.Reason == "") {
					t.Errorf("qvalues %s %q, want skipped with its reason", j.Status, j.Reason)
				}
				if j.Name == "qgrid" && j.Status != "ok" {
					t.Errorf("qgrid %s: %s", j.Status, j.Reason)
				}
			}
			if !strings.Contains(stdout, "note: not saved") {
				t.Errorf("run's output does not note the files the library never saves:\n%s", stdout)
			}
			// DDPG's one critic is not shown as twin critics.
			for _, f := range []string{"q2_grid.npy", "q2_target_grid.npy", "q_disagreement.npy"} {
				_, err := os.Stat(filepath.Join(res, f))
				if tc.oneCritic && err == nil {
					t.Errorf("%s written for a run with one critic", f)
				}
				if !tc.oneCritic && f != "q2_target_grid.npy" && err != nil {
					t.Errorf("%s not written for twin critics: %v", f, err)
				}
			}
		})
	}
}

// TestRunWithACorruptBufferExits1NamingIt: a buffer that exists but cannot
// be read is not a file the library never saved: the run exits 1 naming
// it, and the Q map, which needs no buffer, is still written.
func TestRunWithACorruptBufferExits1NamingIt(t *testing.T) {
	dir := copyFixture(t, fixture.Path(t, "runs", "2026-02-14_13-38-10_pendulum-v1"))
	p := filepath.Join(dir, "data", "replay_buffer.pth")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := cli(t, "run", "-q", "--device", "cpu", "--grid", "16", "--line", "16", "--out", out, dir)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, "replay_buffer.pth") {
		t.Errorf("the output does not name the corrupt buffer:\n%s\n%s", stdout, stderr)
	}
	res := filepath.Join(out, filepath.Base(dir))
	var s runSummary
	fixture.DecodeJSON(t, filepath.Join(res, "summary.json"), &s)
	if s.Status == "ok" || len(s.NotSaved) != 0 || len(s.Problems) == 0 || !strings.Contains(strings.Join(s.Problems, " "), "replay_buffer.pth") {
		t.Errorf("summary.json status %q, problems %q, not_saved %q: want the corrupt buffer as a problem", s.Status, s.Problems, s.NotSaved)
	}
	if _, err := os.Stat(filepath.Join(res, "q_grid.npy")); err != nil {
		t.Errorf("no Q map beside a corrupt buffer: %v", err)
	}
}

// TestBatchWithACorruptBufferExits3AndLinksTheReport: in a batch, the run
// with a corrupt buffer fails (exit 3), an RL Zoo run without one is ok,
// and the index still links the failed run's report, which was written.
func TestBatchWithACorruptBufferExits3AndLinksTheReport(t *testing.T) {
	bad := copyFixture(t, fixture.Path(t, "runs", "2026-02-14_13-38-10_pendulum-v1"))
	p := filepath.Join(bad, "data", "replay_buffer.pth")
	if err := os.WriteFile(p, []byte("PK\x03\x04 not a buffer"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := copyFixture(t, fixture.Path(t, "layouts", "logs", "sac", "Pendulum-v1_1"), "replay_buffer.pkl")
	out := t.TempDir()
	code, stdout, stderr := cli(t, "run", "-q", "--device", "cpu", "--grid", "8", "--line", "8", "--out", out, good, bad)
	if code != exitSomeFailed {
		t.Fatalf("exit %d, want 3:\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "1 ok") || !strings.Contains(stdout, "1 failed") || !strings.Contains(stdout, "replay_buffer.pth") {
		t.Errorf("batch output:\n%s", stdout)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), filepath.Base(bad)+"/report.html") {
		t.Errorf("the index does not link the failed run's report")
	}
}
