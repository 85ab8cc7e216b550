package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
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
