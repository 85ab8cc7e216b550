package batch

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
)

// TestEveryMetricReachesEveryOutput: each registered metric, set on a row,
// is a summary.csv column, a key of the row in summary.json and in the
// manifest (read back to the same value), a heading of the index page's
// runs table and a score groups can be compared by; one not set is an
// empty cell and reads back as not set.
func TestEveryMetricReachesEveryOutput(t *testing.T) {
	ms := jobs.Metrics()
	if len(ms) == 0 {
		t.Fatal("no metric registered")
	}
	set := jobs.RunSummary{Name: "set", Out: "set", Status: jobs.StatusOK}
	unset := jobs.RunSummary{Name: "unset", Out: "unset", Status: jobs.StatusOK}
	for i, m := range ms {
		m.Set(&set, float64(i)+0.25)
	}
	res := &Result{Runs: []jobs.RunSummary{set, unset}}
	dir := t.TempDir()
	if err := WriteSummary(dir, res); err != nil {
		t.Fatal(err)
	}
	csvText, err := os.ReadFile(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csvText)), "\n")
	header := strings.Split(lines[0], ",")
	if !slices.Equal(header[:len(summaryCSVColumns)], summaryCSVColumns) {
		t.Fatalf("summary.csv's first columns moved: %q", header)
	}
	back, err := ReadSummary(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(dir, &Manifest{Summary: set}); err != nil {
		t.Fatal(err)
	}
	man, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	page := filepath.Join(dir, IndexFileName)
	if err := WriteIndex(page, res, nil); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(page)
	for i, m := range ms {
		want := float64(i) + 0.25
		col := slices.Index(header, m.Name)
		if col < 0 {
			t.Errorf("%s: no summary.csv column", m.Name)
		} else if cells := strings.Split(lines[1], ","); cells[col] != strconv.FormatFloat(want, 'g', -1, 64) {
			t.Errorf("%s: csv cell %q, want %v", m.Name, cells[col], want)
		} else if cells := strings.Split(lines[2], ","); cells[col] != "" {
			t.Errorf("%s: unset csv cell %q", m.Name, cells[col])
		}
		if !bytes.Contains(raw, []byte(`"`+m.Name+`": `)) {
			t.Errorf("%s: not in summary.json", m.Name)
		}
		if got := m.Get(&back.Runs[0]); got != want {
			t.Errorf("%s: summary.json read back %v, want %v", m.Name, got, want)
		}
		if got := m.Get(&back.Runs[1]); !math.IsNaN(got) {
			t.Errorf("%s: unset read back as %v", m.Name, got)
		}
		if got := m.Get(&man.Summary); got != want {
			t.Errorf("%s: manifest read back %v, want %v", m.Name, got, want)
		}
		if !bytes.Contains(html, []byte(">"+m.Heading()+"<")) {
			t.Errorf("%s: no index column %q", m.Name, m.Heading())
		}
		if !slices.Contains(MetricNames(), m.Name) {
			t.Errorf("%s: groups cannot be compared by it", m.Name)
		}
		if _, err := ComputeGroups(res, GroupOptions{Metric: m.Name}); err != nil {
			t.Errorf("%s: groups: %v", m.Name, err)
		}
	}
}
