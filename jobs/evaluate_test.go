package jobs

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
)

const testdata = "../testdata"

// fixtureRuns lists the committed fixture runs that have expected values.
func fixtureRuns(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(testdata, "expected", "*"))
	var runs []string
	for _, d := range dirs {
		name := filepath.Base(d)
		if st, err := os.Stat(filepath.Join(testdata, "runs", name)); err == nil && st.IsDir() {
			runs = append(runs, name)
		}
	}
	if len(runs) == 0 {
		t.Skip("no fixture runs under testdata/")
	}
	return runs
}

func readNPY(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var v []float32
	if err := r.Read(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v, r.Header.Descr.Shape
}

// closeArrays applies ANALYSES.md's tolerance: every element within
// 1e-5 × max(1, max|expected|) + 1e-4 × |expected|.
func closeArrays(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) > 1e-5*scale+1e-4*math.Abs(w) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v", name, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance", name, bad, len(want))
	}
}

// closeJSON compares every number of want with got within rel (1e-4
// relative, ANALYSES.md's tolerance for statistics), keys of want only.
func closeJSON(t *testing.T, path string, got, want any, rel float64) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want object", path, got)
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s missing", path, k)
				continue
			}
			closeJSON(t, path+"."+k, gv, wv, rel)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: got %v, want %d items", path, got, len(w))
			return
		}
		for i := range w {
			closeJSON(t, path+"["+itoa(i)+"]", g[i], w[i], rel)
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > rel*math.Max(math.Abs(w), 1e-12)+1e-12 {
			t.Errorf("%s = %v, want %v", path, got, w)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func readJSON(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func TestEvaluateMatchesPyTorch(t *testing.T) {
	for _, name := range fixtureRuns(t) {
		t.Run(name, func(t *testing.T) {
			exp := filepath.Join(testdata, "expected", name)
			var meta struct {
				GridN int `json:"grid_n"`
			}
			b, err := os.ReadFile(filepath.Join(exp, "meta.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			opt := DefaultOptions()
			opt.Grid = meta.GridN
			sum, err := Evaluate(context.Background(), filepath.Join(testdata, "runs", name), out, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range sum.Jobs {
				if j.Status == "failed" {
					t.Errorf("job %s failed: %s", j.Name, j.Reason)
				}
			}
			arrays, _ := filepath.Glob(filepath.Join(exp, "*.npy"))
			for _, p := range arrays {
				base := filepath.Base(p)
				if base == "coverage.npy" {
					continue // counts: compared below with bin-edge slack
				}
				want, wshape := readNPY(t, p)
				gp := filepath.Join(out, base)
				if _, err := os.Stat(gp); err != nil {
					t.Errorf("%s not written", base)
					continue
				}
				got, gshape := readNPY(t, gp)
				if len(gshape) != len(wshape) {
					t.Errorf("%s: shape %v, want %v", base, gshape, wshape)
				}
				closeArrays(t, base, got, want)
			}
			for _, f := range []string{"buffer.json", "q.json", "l2.json"} {
				if _, err := os.Stat(filepath.Join(exp, f)); err != nil {
					continue
				}
				closeJSON(t, f, readJSON(t, filepath.Join(out, f)), readJSON(t, filepath.Join(exp, f)), 1e-4)
			}
			if _, err := os.Stat(filepath.Join(exp, "coverage.npy")); err == nil {
				want, _ := readNPY(t, filepath.Join(exp, "coverage.npy"))
				got, _ := readNPY(t, filepath.Join(out, "coverage.npy"))
				diff, total := 0.0, 0.0
				for i := range want {
					diff += math.Abs(float64(got[i] - want[i]))
					total += float64(want[i])
				}
				// A point exactly on a bin edge may land on either side
				// between float32 and float64 arithmetic: allow 0.1%.
				if diff > 0.001*total {
					t.Errorf("coverage differs in %v of %v counts", diff, total)
				}
			}
		})
	}
}
