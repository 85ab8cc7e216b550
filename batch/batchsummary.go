package batch

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/jobs"
)

// summaryVersion is the summary.json format version.
const summaryVersion = 1

// summaryCSVColumns are summary.csv's columns as of algorithm. Columns are
// only ever added at the end, so that scripts reading them by position go
// on working: metrics registered since follow, in their order.
var summaryCSVColumns = []string{"name", "date", "status", "error", "final_reward_sum", "best_reward_sum", "mean_q_policy", "buffer_size", "l2_total", "seconds", "library", "layout", "value_bias", "algorithm"}

// SummaryCSVHeader returns the header row of summary.csv.
func SummaryCSVHeader() []string {
	h := append([]string(nil), summaryCSVColumns...)
	for _, m := range jobs.Metrics() {
		if !slices.Contains(summaryCSVColumns, m.Name) {
			h = append(h, m.Name)
		}
	}
	return h
}

// csvCell is the cell of column col (a SummaryCSVHeader name) of s's row.
func csvCell(s *jobs.RunSummary, col string) string {
	switch col {
	case "name":
		return s.Name
	case "date":
		return s.Date
	case "status":
		return s.Status
	case "error":
		return s.Error
	case "buffer_size":
		return strconv.Itoa(s.BufferSize)
	case "seconds":
		return csvFloat(s.Seconds)
	case "library":
		return s.Library
	case "layout":
		return s.Layout
	case "algorithm":
		return s.Algorithm
	}
	m, _ := jobs.MetricByName(col)
	return csvFloat(m.Get(s))
}

// SummaryFileNames returns the names of a batch's summary files in its
// output folder: summary.json and summary.csv for a whole batch, and
// summary-shard-<i>-of-<n>.json/.csv for shard i of n (n > 1), so that
// shards can share one output folder; Merge combines them.
func SummaryFileNames(shard, shards int) (jsonName, csvName string) {
	if shards <= 1 {
		return "summary.json", "summary.csv"
	}
	base := fmt.Sprintf("summary-shard-%d-of-%d", shard, shards)
	return base + ".json", base + ".csv"
}

// WriteSummary writes res's summary JSON and CSV to dir (names from
// SummaryFileNames), each atomically.
func WriteSummary(dir string, res *Result) error {
	jsonName, csvName := SummaryFileNames(res.Shard, res.Shards)
	if err := atomicfile.Write(filepath.Join(dir, jsonName), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(res)
	}); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, csvName), func(w io.Writer) error {
		return WriteSummaryCSV(w, res.Runs)
	})
}

// WriteSummaryCSV writes runs as CSV with SummaryCSVHeader; NaN and ±Inf
// are written as empty cells.
func WriteSummaryCSV(w io.Writer, runs []jobs.RunSummary) error {
	cw := csv.NewWriter(w)
	header := SummaryCSVHeader()
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(header))
	for i := range runs {
		for j, col := range header {
			row[j] = csvCell(&runs[i], col)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ReadSummary reads a summary JSON file written by WriteSummary.
func ReadSummary(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res Result
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("read batch summary %s: %w (rerun the batch to rewrite it)", path, err)
	}
	return &res, nil
}

// batchJSON is Result's file layout.
type batchJSON struct {
	Version int `json:"version"`
	plainBatch
	Runs []runJSON `json:"runs"`
}

// plainBatch is Result without its methods.
type plainBatch Result

// MarshalJSON writes the summary.json layout: a format version, the batch
// metadata, and the runs, with NaN written as null.
func (r *Result) MarshalJSON() ([]byte, error) {
	bj := batchJSON{Version: summaryVersion, plainBatch: plainBatch(*r), Runs: make([]runJSON, len(r.Runs))}
	for i := range r.Runs {
		bj.Runs[i] = runJSON(r.Runs[i])
	}
	return json.Marshal(bj)
}

// UnmarshalJSON reads the summary.json layout; null numbers read as NaN.
func (r *Result) UnmarshalJSON(data []byte) error {
	var bj batchJSON
	if err := json.Unmarshal(data, &bj); err != nil {
		return err
	}
	if bj.Version != summaryVersion {
		return fmt.Errorf("summary format version %d, this rleval reads %d", bj.Version, summaryVersion)
	}
	*r = Result(bj.plainBatch)
	r.Runs = make([]jobs.RunSummary, len(bj.Runs))
	for i := range bj.Runs {
		r.Runs[i] = jobs.RunSummary(bj.Runs[i])
	}
	return nil
}
