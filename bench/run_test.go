package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/worker"
)

func TestFLOPsPerRowCountsTwoPerWeight(t *testing.T) {
	tests := []struct {
		name      string
		obs, act  int
		hidden    []int
		noCritic2 bool
		w         Workload
		want      int64
	}{
		{"pendulum actor", 3, 1, []int{256, 256}, false, WorkloadActor, 2 * (3*256 + 256*256 + 256*1)},
		{"pendulum critic", 3, 1, []int{256, 256}, false, WorkloadCritic, 2 * (4*256 + 256*256 + 256*1)},
		{"pendulum q_full", 3, 1, []int{256, 256}, false, WorkloadQFull,
			2*(3*256+256*256+256*1) + 4*2*(4*256+256*256+256*1)},
		{"one critic q_full", 3, 1, []int{256, 256}, true, WorkloadQFull,
			2*(3*256+256*256+256*1) + 2*2*(4*256+256*256+256*1)},
		{"three hidden layers", 17, 6, []int{400, 300, 64}, false, WorkloadActor, 2 * (17*400 + 400*300 + 300*64 + 64*6)},
		{"unknown workload", 3, 1, []int{8}, false, "bogus", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := SyntheticNets(tt.obs, tt.act, tt.hidden, 1)
			if tt.noCritic2 {
				n.Critic2 = nil
			}
			if got := n.FLOPsPerRow(tt.w); got != tt.want {
				t.Errorf("FLOPsPerRow(%s) = %d, want %d", tt.w, got, tt.want)
			}
		})
	}
	if got := FLOPsPerRow(nil); got != 0 {
		t.Errorf("FLOPsPerRow(nil) = %d, want 0", got)
	}
}

func TestSyntheticIsSeededTorchInitWithPendulumBounds(t *testing.T) {
	a, c1, c2 := Synthetic(3, 1, []int{256, 256}, 7)
	a2, _, _ := Synthetic(3, 1, []int{256, 256}, 7)
	a3, _, _ := Synthetic(3, 1, []int{256, 256}, 8)
	if !slices.Equal(a.Layers[0].W, a2.Layers[0].W) {
		t.Error("same seed gave different actors")
	}
	if slices.Equal(a.Layers[0].W, a3.Layers[0].W) {
		t.Error("different seeds gave the same actor")
	}
	if slices.Equal(c1.Layers[1].W, c2.Layers[1].W) {
		t.Error("the two critics are equal")
	}
	if got, want := a.Widths(), []int{3, 256, 256, 1}; !slices.Equal(got, want) {
		t.Errorf("actor widths %v, want %v", got, want)
	}
	if got, want := c2.Widths(), []int{4, 256, 256, 1}; !slices.Equal(got, want) {
		t.Errorf("critic widths %v, want %v", got, want)
	}
	if !slices.Equal(a.Low, []float32{-2}) || !slices.Equal(a.High, []float32{2}) || c1.Low != nil {
		t.Errorf("bounds: actor [%v, %v], critic low %v; want [-2, 2] and nil", a.Low, a.High, c1.Low)
	}
	for _, l := range append(a.Layers, c1.Layers...) {
		bound := 1 / math.Sqrt(float64(l.In))
		var maxAbs float64
		for _, v := range append(slices.Clone(l.W), l.B...) {
			maxAbs = max(maxAbs, math.Abs(float64(v)))
		}
		if maxAbs > bound || maxAbs < 0.9*bound {
			t.Errorf("layer %s: max |w| %g, want close to and at most 1/sqrt(%d) = %g", l.Name, maxAbs, l.In, bound)
		}
	}
	if err := graph.Validate(a); err != nil {
		t.Errorf("graph rejects the synthetic actor: %v", err)
	}
	if err := graph.Validate(c1); err != nil {
		t.Errorf("graph rejects the synthetic critic: %v", err)
	}
	if got, want := a.NumParams(), 3*256+256+256*256+256+256+1; got != want {
		t.Errorf("actor has %d parameters, want %d", got, want)
	}
}

// tableRows splits the table part of WriteTable's output (after the blank
// line) into header and cells.
func tableRows(t *testing.T, out string) (head []string, rows [][]string) {
	t.Helper()
	_, tab, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("no blank line between header and table:\n%s", out)
	}
	for i, line := range strings.Split(strings.TrimRight(tab, "\n"), "\n") {
		f := strings.Fields(line)
		if i == 0 {
			head = f
			continue
		}
		rows = append(rows, f)
	}
	return head, rows
}

// parseCell reads a table cell back into the CSV's unit.
func parseCell(t *testing.T, col, s string) float64 {
	t.Helper()
	mult := 1.0
	switch col {
	case "latency_median_s", "latency_p95_s", "h2d_s", "compute_s", "d2h_s":
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("column %s: %q is not a duration: %v", col, s, err)
		}
		return d.Seconds()
	case "rows_per_s":
		for suf, m := range map[string]float64{"k": 1e3, "M": 1e6, "G": 1e9} {
			if strings.HasSuffix(s, suf) {
				s, mult = strings.TrimSuffix(s, suf), m
			}
		}
	case "ceiling_share":
		s, mult = strings.TrimSuffix(s, "%"), 0.01
	case "vs_torch":
		s = strings.TrimSuffix(s, "x")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("column %s: %q is not a number: %v", col, s, err)
	}
	return v * mult
}

// checkConsistent checks that the table, the CSV and the JSON of rep hold
// the same rows and the columns wantCols, every number positive and finite.
func checkConsistent(t *testing.T, rep *Report, wantCols []string) {
	t.Helper()
	var tab, csvb, js bytes.Buffer
	if err := rep.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteCSV(&csvb); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	head, rows := tableRows(t, tab.String())
	recs, err := csv.NewReader(&csvb).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if !slices.Equal(recs[0], wantCols) {
		t.Fatalf("CSV columns %v, want %v", recs[0], wantCols)
	}
	if len(head) != len(recs[0]) {
		t.Fatalf("table has %d columns %v, CSV %d %v", len(head), head, len(recs[0]), recs[0])
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON does not parse: %v", err)
	}
	if len(rows) != len(rep.Results) || len(recs)-1 != len(rep.Results) || len(back.Results) != len(rep.Results) {
		t.Fatalf("rows: table %d, CSV %d, JSON %d, report %d", len(rows), len(recs)-1, len(back.Results), len(rep.Results))
	}
	for i, rec := range recs[1:] {
		if len(rows[i]) != len(rec) {
			t.Fatalf("row %d: table has %d cells %v, CSV %d %v", i, len(rows[i]), rows[i], len(rec), rec)
		}
		jr := back.Results[i]
		for j, col := range recs[0] {
			cell, c := rows[i][j], rec[j]
			switch col {
			case "device":
				if cell != c || jr.Device != c {
					t.Errorf("row %d device: table %q, CSV %q, JSON %q", i, cell, c, jr.Device)
				}
				continue
			case "workload":
				if cell != c || string(jr.Workload) != c {
					t.Errorf("row %d workload: table %q, CSV %q, JSON %q", i, cell, c, jr.Workload)
				}
				continue
			}
			if c == "" {
				if cell != emptyCell {
					t.Errorf("row %d %s: CSV empty, table %q", i, col, cell)
				}
				continue
			}
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatalf("row %d %s: CSV %q: %v", i, col, c, err)
			}
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("row %d %s = %v, want positive and finite", i, col, v)
			}
			// The table rounds to three significant digits: within 0.5%.
			if tv := parseCell(t, col, cell); math.Abs(tv-v) > 0.005*math.Abs(v) {
				t.Errorf("row %d %s: table %q (%g), CSV %g", i, col, cell, tv, v)
			}
			if jv, ok := jsonValue(jr, col); !ok || jv != v {
				t.Errorf("row %d %s: JSON %v (present %v), CSV %v", i, col, jv, ok, v)
			}
		}
	}
}

// jsonValue returns the Result field behind a CSV column.
func jsonValue(r Result, col string) (float64, bool) {
	deref := func(p *float64) (float64, bool) {
		if p == nil {
			return 0, false
		}
		return *p, true
	}
	switch col {
	case "batch":
		return float64(r.Batch), true
	case "rows_per_s":
		return r.RowsPerS, true
	case "latency_median_s":
		return r.LatencyMedianS, true
	case "latency_p95_s":
		return r.LatencyP95S, true
	case "gflops":
		return r.GFLOPS, true
	case "ceiling_share":
		return deref(r.CeilingShare)
	case "h2d_s":
		return deref(r.HostToDeviceS)
	case "compute_s":
		return deref(r.ComputeS)
	case "d2h_s":
		return deref(r.DeviceToHostS)
	case "vs_torch":
		return deref(r.VsTorch)
	}
	return 0, false
}

var allColumns = []string{"device", "workload", "batch", "rows_per_s", "latency_median_s", "latency_p95_s",
	"gflops", "ceiling_share", "h2d_s", "compute_s", "d2h_s"}

func TestRunTableCSVAndJSONAgreeWithEveryColumn(t *testing.T) {
	defer smallCeiling()()
	cfg := tinyConfig()
	var progress int
	cfg.Progress = func(Result) { progress++ }
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * 3 * 3; len(rep.Results) != want || progress != want {
		t.Fatalf("%d results, %d progress calls, want %d", len(rep.Results), progress, want)
	}
	for _, r := range rep.Results {
		cpu := r.Device == "cpu"
		if (r.CeilingShare != nil) != cpu || (r.ComputeS != nil) == cpu {
			t.Errorf("%s %s %d: ceiling share %v, transfers %v", r.Device, r.Workload, r.Batch, r.CeilingShare, r.ComputeS)
		}
		if r.Batches < 5 {
			t.Errorf("%s %s %d: %d batches timed, want at least 5", r.Device, r.Workload, r.Batch, r.Batches)
		}
		if r.LatencyP95S < r.LatencyMedianS {
			t.Errorf("%s %s %d: p95 %g below median %g", r.Device, r.Workload, r.Batch, r.LatencyP95S, r.LatencyMedianS)
		}
		if r.FLOPsPerRow != cfg.Nets.FLOPsPerRow(r.Workload) {
			t.Errorf("%s %s: FLOPsPerRow %d", r.Device, r.Workload, r.FLOPsPerRow)
		}
	}
	if got := rep.Ceilings; len(got) != 2 || got[0].Threads != 1 || got[1].Threads != 2 {
		t.Errorf("ceilings %+v, want 1 and 2 threads", got)
	}
	checkConsistent(t, rep, allColumns)

	var tab bytes.Buffer
	rep.WriteTable(&tab)
	for _, want := range []string{"machine: ", "GOMAXPROCS", "blas: " + BLASName(), "GEMM ceiling", "3-8-8-1",
		"device cpu: cpu (fake, 2 workers)", "device cuda: cuda: Fake GPU 80GB; GPU Fake GPU 80GB, 80.0 GiB memory"} {
		if !strings.Contains(tab.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}
}

func TestRunWithoutCUDAOrCeilingDropsThoseColumns(t *testing.T) {
	cfg := tinyConfig()
	cfg.Devices = []string{"cpu"}
	cfg.CeilingTime = -1
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// ceiling_share stays, empty: the column set does not depend on
	// whether the ceiling was measured.
	checkConsistent(t, rep, allColumns[:8])
}

func TestRunSplitsBatchesOverPreferredWorkers(t *testing.T) {
	fb := &fakeBackend{name: "cpu", chunk: 1000, workers: 2}
	cfg := tinyConfig()
	cfg.Devices = []string{"cpu"}
	cfg.Open = func(string) (graph.Backend, error) { return prefBackend{fb}, nil }
	cfg.Batches = []int{100, 1000}
	cfg.Workloads = []Workload{WorkloadActor}
	cfg.CeilingTime = -1
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	// 100 rows fit in one call (below minSplitRows per worker); 1000 rows
	// go to two workers, 500 each.
	for n := range fb.calls {
		if n != 100 && n != 500 {
			t.Errorf("a call had %d rows; calls by size %v", n, fb.calls)
		}
	}
	if fb.calls[100] == 0 || fb.calls[500] == 0 {
		t.Errorf("calls by size %v, want some of 100 and of 500 rows", fb.calls)
	}
}

func TestRunReportsBackendErrorsWithDeviceAndBatch(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		open func(string) (graph.Backend, error)
		want string
	}{
		{"open fails", func(string) (graph.Backend, error) { return nil, boom }, `open device "cpu"`},
		{"evaluation fails", func(string) (graph.Backend, error) { return &fakeBackend{name: "x", fail: boom}, nil },
			`device "cpu", actor, batch 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Devices = []string{"cpu"}
			cfg.Open = tt.open
			_, err := Run(cfg)
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to wrap boom and say %q", err, tt.want)
			}
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no actor", func(c *Config) { c.Nets.Actor = nil }},
		{"zero batch", func(c *Config) { c.Batches = []int{4, 0} }},
		{"unknown workload", func(c *Config) { c.Workloads = []Workload{"policy"} }},
		{"mismatched critic", func(c *Config) { c.Nets.Critic1 = SyntheticNets(5, 1, []int{8}, 1).Critic1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tinyConfig()
			tt.edit(&cfg)
			if _, err := Run(cfg); err == nil {
				t.Error("Run accepted the config")
			}
		})
	}
}

func TestRunOpensGraphCPUByDefault(t *testing.T) {
	cfg := tinyConfig()
	cfg.Devices = []string{"cpu"}
	cfg.Nets = SyntheticNets(3, 1, []int{32, 32}, 1)
	cfg.Open = nil
	cfg.CeilingTime = -1
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Devices[0].Workers != 2 || !strings.HasPrefix(rep.Devices[0].Name, "cpu") {
		t.Errorf("device %+v, want graph's CPU with 2 workers", rep.Devices[0])
	}
	checkConsistent(t, rep, allColumns[:8])
}

func TestMeasureSGEMMCeilingIsPositive(t *testing.T) {
	defer smallCeiling()()
	for _, threads := range []int{0, 1, 2} {
		c, err := MeasureSGEMMCeiling(threads, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if c.Threads != max(threads, 1) || !(c.GFLOPS > 0) || math.IsInf(c.GFLOPS, 0) || c.Reps < 3 || c.MedianGFLOPS > c.GFLOPS || c.BLAS != BLASName() {
			t.Errorf("threads %d: %+v", threads, c)
		}
	}
}

func TestFormatsKeepThreeSignificantDigits(t *testing.T) {
	tests := []struct {
		f    func(float64) string
		v    float64
		want string
	}{
		{formatSI, 1234567, "1.23M"},
		{formatSI, 999, "999"},
		{formatSI, 12.5, "12.5"},
		{formatSI, 3.2e9, "3.20G"},
		{formatSeconds, 1.234e-5, "12.3µs"},
		{formatSeconds, 0.25, "250ms"},
		{formatSeconds, 2e-8, "20.0ns"},
		{formatSeconds, 12.34, "12.3s"},
		{formatPercent, 0.4567, "45.7%"},
		{formatRatio, 1.5, "1.50x"},
		{format3, 0, "0"},
		{format3, 12345, "12345"},
		{format3, 1e-5, "1e-05"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.v); got != tt.want {
			t.Errorf("format(%g) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// worker.Remote is the backend the optional interfaces exist for.
var (
	_ TransferStats      = (*worker.Remote)(nil)
	_ graph.DeviceInfoer = (*worker.Remote)(nil)
)

func TestBLASOfStripsDeviceAndWorkers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cpu (pure Go, Go+AVX2 kernels, 2 workers)", "pure Go, Go+AVX2 kernels"},
		{"cpu (openblas, 1 worker)", "openblas"},
		{"cpu (openblas)", "openblas"},
		{"cuda: H100", "cuda: H100"},
	}
	for _, tt := range tests {
		if got := blasOf(tt.in); got != tt.want {
			t.Errorf("blasOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if BLASName() == "" {
		t.Error("BLASName is empty")
	}
}
