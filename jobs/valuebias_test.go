package jobs

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

func TestReturnStates(t *testing.T) {
	const g = 0.5
	// obs are 1-D; next[t] == obs[t+1] keeps a segment going.
	for name, tc := range map[string]struct {
		obs, next, rew  []float32
		dones           []bool
		capacity, index int
		horizon         int
		rows            []int
		returns         []float64
		segments, compl int
	}{
		"one complete episode": {
			obs: []float32{0, 1, 2}, next: []float32{1, 2, 9}, rew: []float32{1, 1, 1}, dones: []bool{false, false, true},
			capacity: 10, horizon: 7,
			rows: []int{0, 1, 2}, returns: []float64{1.75, 1.5, 1}, segments: 1, compl: 1,
		},
		"a gap ends an incomplete segment, its last horizon rows dropped": {
			obs: []float32{0, 1, 2, 5, 6}, next: []float32{1, 2, 3, 6, 7}, rew: []float32{1, 2, 4, 8, 8}, dones: []bool{false, false, false, false, true},
			capacity: 10, horizon: 2,
			rows: []int{0, 3, 4}, returns: []float64{1 + 0.5*2 + 0.25*4, 12, 8}, segments: 2, compl: 1,
		},
		"the last row ends a segment incomplete": {
			obs: []float32{0, 1, 2}, next: []float32{1, 2, 3}, rew: []float32{1, 1, 1}, dones: []bool{false, false, false},
			capacity: 10, horizon: 3,
			rows: nil, returns: nil, segments: 1, compl: 0,
		},
		"a full ring starts at index": {
			// time order: rows 2, 3, 0, 1; row 1 is the newest.
			obs: []float32{2, 3, 0, 1}, next: []float32{3, 9, 1, 2}, rew: []float32{4, 8, 1, 2}, dones: []bool{false, true, false, false},
			capacity: 4, index: 2, horizon: 1,
			rows: []int{2, 3, 0, 1}, returns: []float64{1 + 0.5*2 + 0.25*4 + 0.125*8, 2 + 0.5*4 + 0.25*8, 4 + 0.5*8, 8}, segments: 1, compl: 1,
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := returnStates(tc.obs, tc.next, 1, tc.rew, tc.dones, len(tc.obs), tc.capacity, tc.index, g, tc.horizon)
			if !reflect.DeepEqual(st.Rows, tc.rows) || !reflect.DeepEqual(st.Returns, tc.returns) || st.Segments != tc.segments || st.Complete != tc.compl {
				t.Errorf("got rows %v returns %v segments %d (%d complete), want %v %v %d (%d)", st.Rows, st.Returns, st.Segments, st.Complete, tc.rows, tc.returns, tc.segments, tc.compl)
			}
		})
	}
	if h := valueHorizon(0.98); h != 228 {
		t.Errorf("H(0.98) = %d, want ⌈ln 0.01 / ln 0.98⌉ = 228", h)
	}
	if h := valueHorizon(0.99); h != 459 {
		t.Errorf("H(0.99) = %d, want 459", h)
	}
}

// TestValueBiasEqualsNumpy runs the job on every fixture run (one has a
// ring-wrapped buffer) and compares with tools/make_stats_fixtures.py's
// numpy implementation of the definition over PyTorch's Q. Tolerance:
// ANALYSES.md's 1e-4 relative for statistics, of the largest magnitude
// involved (Q and G of a few hundred, their difference smaller).
func TestValueBiasEqualsNumpy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "stats", "value_bias.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Gamma        float64 `json:"gamma"`
		Horizon      int     `json:"horizon"`
		Segments     int     `json:"segments"`
		Complete     int     `json:"complete_segments"`
		States       int     `json:"states"`
		Wrapped      bool    `json:"wrapped"`
		MCReturnMean float64 `json:"mc_return_mean"`
		QMean        float64 `json:"q_mean"`
		BiasMean     float64 `json:"bias_mean"`
		BiasStd      float64 `json:"bias_std"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) < 4 {
		t.Fatalf("%d fixture runs in value_bias.json, want 4", len(want))
	}
	wrapped := false
	for name, w := range want {
		wrapped = wrapped || w.Wrapped
		t.Run(name, func(t *testing.T) {
			r, err := loaders.LoadRun(filepath.Join(testdata, "runs", name), loaders.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			opt := DefaultOptions()
			c := &Context{Run: r, Opt: opt, Out: out, Engine: graph.NewEngine(graph.NewCPU(graph.Options{}), graph.Options{})}
			c.Plane, c.PlaneErr = ResolvePlane(r, opt.Plane)
			c.shared = newShared(c)
			if err := valueBiasJob.Needs(c); err != nil {
				t.Fatal(err)
			}
			o, err := valueBiasJob.Run(c)
			if err != nil {
				t.Fatal(err)
			}
			sum := &RunSummary{Jobs: []JobStatus{{Name: valueBiasJob.Name, Status: "ok"}}}
			o.Summary(sum)
			pg := newPage(c, valueBiasJob.Sections)
			pg.add(valueBiasJob.Name, o)
			pg.finish(sum)
			for _, j := range sum.Jobs {
				if j.Status == "failed" {
					t.Errorf("figure failed: %s", j.Reason)
				}
			}
			var got struct {
				Gamma                     float64
				Horizon, Segments, States int
				Complete                  int     `json:"complete_segments"`
				MCReturnMean              float64 `json:"mc_return_mean"`
				QMean                     float64 `json:"q_mean"`
				BiasMean                  float64 `json:"bias_mean"`
				BiasStd                   float64 `json:"bias_std"`
			}
			b, err := os.ReadFile(filepath.Join(out, "value_bias.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Gamma != w.Gamma || got.Horizon != w.Horizon || got.Segments != w.Segments || got.Complete != w.Complete || got.States != w.States {
				t.Errorf("got %+v, numpy %+v", got, w)
			}
			scale := math.Max(math.Abs(w.MCReturnMean), math.Abs(w.QMean))
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"mc_return_mean", got.MCReturnMean, w.MCReturnMean}, {"q_mean", got.QMean, w.QMean},
				{"bias_mean", got.BiasMean, w.BiasMean}, {"bias_std", got.BiasStd, w.BiasStd}} {
				if math.Abs(c.got-c.want) > 1e-4*scale {
					t.Errorf("%s = %v, numpy %v", c.name, c.got, c.want)
				}
			}
			if v := MetricValueBias.Get(sum); v != got.BiasMean {
				t.Errorf("summary value_bias %v, file %v", v, got.BiasMean)
			}
			for _, f := range []string{"value_bias_hist.png", "value_bias_scatter.png"} {
				if _, err := os.Stat(filepath.Join(out, "plots", f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	if !wrapped {
		t.Error("no fixture run has a wrapped buffer")
	}
}
