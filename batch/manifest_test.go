package batch

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/jobs"
)

func TestManifestRoundTripKeepsNaN(t *testing.T) {
	dir := t.TempDir()
	nan := math.NaN()
	in := &Manifest{Version: manifestVersion, Options: "v1", Inputs: []InputFile{{Path: "config.yaml", Size: 10, ModTime: 123}},
		Summary: jobs.RunSummary{Name: "r", Status: jobs.StatusPartial, Metrics: map[string]float64{"final_reward_sum": nan, "best_reward_sum": -1.5, "mean_q_policy": math.Inf(1)},
			CurveStep: []float64{1, 2}, CurveValue: []float64{nan, 3}, Jobs: []jobs.JobStatus{{Name: "buffer", Status: "skipped", Reason: "missing"}},
			Finished: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if err := WriteManifest(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := out.Summary
	if !math.IsNaN(jobs.MetricFinalRewardSum.Get(&s)) || jobs.MetricBestRewardSum.Get(&s) != -1.5 || !math.IsNaN(jobs.MetricMeanQPolicy.Get(&s)) || !math.IsNaN(s.CurveValue[0]) || s.CurveValue[1] != 3 {
		t.Fatalf("numbers did not survive: %+v", s)
	}
	if s.Name != "r" || len(s.Jobs) != 1 || !s.Finished.Equal(in.Summary.Finished) || !out.Matches(in.Inputs, "v1") {
		t.Fatalf("manifest did not survive: %+v", out)
	}
}

func TestManifestMatches(t *testing.T) {
	base := []InputFile{{"a", 1, 10}, {"b", 2, 20}}
	m := &Manifest{Version: manifestVersion, Options: "v1", Inputs: base}
	tests := []struct {
		name    string
		inputs  []InputFile
		options string
		want    bool
	}{
		{"same", []InputFile{{"a", 1, 10}, {"b", 2, 20}}, "v1", true},
		{"other options", base, "v2", false},
		{"size changed", []InputFile{{"a", 1, 10}, {"b", 3, 20}}, "v1", false},
		{"mtime changed", []InputFile{{"a", 1, 11}, {"b", 2, 20}}, "v1", false},
		{"file added", append(append([]InputFile{}, base...), InputFile{"c", 1, 1}), "v1", false},
		{"file removed", base[:1], "v1", false},
	}
	for _, tt := range tests {
		if got := m.Matches(tt.inputs, tt.options); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReadManifestCorruptSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("{trunc"), 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("err = %v", err)
	}
}

func TestScanInputsSkipsHiddenAndTemps(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"config.yaml", "models/actor.pth", ".DS_Store", "models/.actor.pth" + atomicfile.Marker + "1"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("xyz"), 0o644)
	}
	os.Symlink(dir, filepath.Join(dir, "models", "loop"))
	in, err := ScanInputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || in[0].Path != "config.yaml" || in[1].Path != "models/actor.pth" || in[1].Size != 3 {
		t.Fatalf("inputs %+v", in)
	}
}

func TestIndexEscapesEveryString(t *testing.T) {
	res := &Result{Root: `exp"<x>`, Runs: []jobs.RunSummary{
		{Name: `<script>alert(1)</script>`, Out: `a b/<c>#?`, Status: jobs.StatusOK, Error: `</td><img src=x onerror=alert(2)>`,
			CurveStep: []float64{0, 1}, CurveValue: []float64{1, math.NaN()}, Metrics: map[string]float64{"final_reward_sum": math.NaN()}},
		{Name: "plain", Out: "plain", Status: jobs.StatusFailed, CurveStep: []float64{0, 1}, CurveValue: []float64{2, 3}},
	}}
	path := filepath.Join(t.TempDir(), IndexFileName)
	if err := WriteIndex(path, res, nil); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	for _, bad := range []string{"<script>alert", "<img src=x", `exp"<x>`, "<c>"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, good := range []string{`href="a%20b/%3Cc%3E%23%3F/report.html"`, `<img src="data:image/png;base64,`, "<table"} {
		if !bytes.Contains(page, []byte(good)) {
			t.Errorf("page lacks %q", good)
		}
	}
}
