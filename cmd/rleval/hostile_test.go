package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/internal/hostile"
)

// hostileRun is hostile.Run on the fixture folder at testdata/elem...
func hostileRun(t *testing.T, edit func(dir string) error, elem ...string) string {
	t.Helper()
	return hostile.Run(t, fixture.Path(t, elem...), edit)
}

var sb3SACRun = []string{"layouts", "logs", "sac", "Pendulum-v1_2"}

func TestInspectListsAnUnsafePytorchVariablesAndExits1(t *testing.T) {
	dir := hostileRun(t, func(dir string) error {
		return hostile.ReplaceZipMember(filepath.Join(dir, "Pendulum-v1.zip"), "pytorch_variables.pth", hostile.UnsafePickle)
	}, sb3SACRun...)
	code, out, stderr := cli(t, "inspect", dir)
	if code != exitFailure || !strings.Contains(out, "pytorch_variables.pth") || !strings.Contains(out, "refusing to call os.system") {
		t.Fatalf("exit %d, want 1 listing the refused pytorch_variables.pth:\n%s\n%s", code, out, stderr)
	}
}

func TestInspectOfALogWithoutSourceSaysWhy(t *testing.T) {
	dir := hostileRun(t, func(dir string) error {
		return hostile.WriteLines(filepath.Join(dir, "train.jsonl"), 500, hostile.SourcelessLine)
	}, "runs", "2026-06-20_09-15-00_pendulum-gen2")
	code, out, _ := cli(t, "inspect", dir)
	if code != exitFailure || !strings.Contains(out, `train.jsonl: none of its 500 lines is a record (line 1: no "source"`) {
		t.Fatalf("exit %d; inspect does not say why the log has no records:\n%s", code, out)
	}
	// A log with records and a line without source lists it.
	dir = hostileRun(t, func(dir string) error {
		return hostile.Append(filepath.Join(dir, "train.jsonl"), hostile.SourcelessLine)
	}, "runs", "2026-06-20_09-15-00_pendulum-gen2")
	if _, out, _ = cli(t, "inspect", dir); !strings.Contains(out, "Skipped lines: 1 (lines 10)") || !strings.Contains(out, `line 10: no "source"`) {
		t.Fatalf("inspect does not list the line without source:\n%s", out)
	}
}

func TestRunNamesABrokenVecNormalizeOnce(t *testing.T) {
	dir := hostileRun(t, func(dir string) error {
		return hostile.PatchFloat64s(filepath.Join(dir, "Pendulum-v1", "vecnormalize.pkl"), []float64{0.4, 0.6, 9}, []float64{-1, 0, math.NaN()})
	}, sb3SACRun...)
	code, out, stderr := cli(t, "run", "-q", "--grid", "8", "--format", "svg", "--out", t.TempDir(), dir)
	all := out + stderr
	if code != exitFailure || strings.Count(all, "vecnormalize.pkl: VecNormalize") != 1 || strings.Contains(all, "model zip unreadable") {
		t.Fatalf("exit %d, want 1 naming vecnormalize.pkl once and nothing else:\n%s", code, all)
	}
}

func TestRunNamesAnOversizedMonitorOnTheTerminal(t *testing.T) {
	var mon string
	dir := hostileRun(t, func(dir string) error {
		mon = filepath.Join(dir, "0.monitor.csv")
		return hostile.Grow(mon, 500<<20)
	}, sb3SACRun...)
	_, out, stderr := cli(t, "run", "-q", "--grid", "8", "--format", "svg", "--out", t.TempDir(), dir)
	if !strings.Contains(out+stderr, "input: load "+mon+": monitor file is 500 MB") {
		t.Fatalf("the terminal does not name the oversized monitor file:\n%s\n%s", out, stderr)
	}
}
