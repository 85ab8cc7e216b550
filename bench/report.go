package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// column is one column of the table and the CSV: the CSV holds the exact
// value in base units, the table a rounded, readable form of the same value.
// No table header or cell contains a space, so a table line splits into its
// cells with strings.Fields.
type column struct {
	csv, head string
	// cell returns the value (ok false: empty cell).
	cell func(r *Result) (v float64, s string, ok bool)
	// table formats v for the table.
	table func(v float64) string
	// show says whether the column appears for this report.
	show func(rep *Report) bool
}

func always(*Report) bool { return true }

func hasTransfers(rep *Report) bool {
	for _, r := range rep.Results {
		if r.ComputeS != nil {
			return true
		}
	}
	return false
}

func hasTorch(rep *Report) bool {
	for _, r := range rep.Results {
		if r.VsTorch != nil {
			return true
		}
	}
	return false
}

func num(f func(r *Result) float64) func(r *Result) (float64, string, bool) {
	return func(r *Result) (float64, string, bool) { return f(r), "", true }
}

func opt(f func(r *Result) *float64) func(r *Result) (float64, string, bool) {
	return func(r *Result) (float64, string, bool) {
		if p := f(r); p != nil {
			return *p, "", true
		}
		return 0, "", false
	}
}

var columns = []column{
	{csv: "device", head: "device", show: always,
		cell: func(r *Result) (float64, string, bool) { return 0, r.Device, true }},
	{csv: "workload", head: "workload", show: always,
		cell: func(r *Result) (float64, string, bool) { return 0, string(r.Workload), true }},
	{csv: "batch", head: "batch", show: always, table: formatInt,
		cell: num(func(r *Result) float64 { return float64(r.Batch) })},
	{csv: "rows_per_s", head: "rows/s", show: always, table: formatSI,
		cell: num(func(r *Result) float64 { return r.RowsPerS })},
	{csv: "latency_median_s", head: "p50", show: always, table: formatSeconds,
		cell: num(func(r *Result) float64 { return r.LatencyMedianS })},
	{csv: "latency_p95_s", head: "p95", show: always, table: formatSeconds,
		cell: num(func(r *Result) float64 { return r.LatencyP95S })},
	{csv: "gflops", head: "GFLOP/s", show: always, table: format3,
		cell: num(func(r *Result) float64 { return r.GFLOPS })},
	{csv: "ceiling_share", head: "%ceiling", show: always, table: formatPercent,
		cell: opt(func(r *Result) *float64 { return r.CeilingShare })},
	{csv: "h2d_s", head: "h2d", show: hasTransfers, table: formatSeconds,
		cell: opt(func(r *Result) *float64 { return r.HostToDeviceS })},
	{csv: "compute_s", head: "compute", show: hasTransfers, table: formatSeconds,
		cell: opt(func(r *Result) *float64 { return r.ComputeS })},
	{csv: "d2h_s", head: "d2h", show: hasTransfers, table: formatSeconds,
		cell: opt(func(r *Result) *float64 { return r.DeviceToHostS })},
	{csv: "vs_torch", head: "vs_torch", show: hasTorch, table: formatRatio,
		cell: opt(func(r *Result) *float64 { return r.VsTorch })},
}

// shownColumns returns the columns this report's table and CSV have.
func (r *Report) shownColumns() []column {
	var cs []column
	for _, c := range columns {
		if c.show(r) {
			cs = append(cs, c)
		}
	}
	return cs
}

// emptyCell marks a value that does not apply (no ceiling off the CPU, no
// transfers on the CPU, no torch row to compare with).
const emptyCell = "-"

// WriteTable writes the header lines and an aligned table of the results.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	r.writeHeader(&b)
	b.WriteByte('\n')
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	cs := r.shownColumns()
	for i, c := range cs {
		if i > 0 {
			tw.Write([]byte{'\t'})
		}
		tw.Write([]byte(c.head))
	}
	tw.Write([]byte("\t\n"))
	for i := range r.Results {
		for j, c := range cs {
			if j > 0 {
				tw.Write([]byte{'\t'})
			}
			v, s, ok := c.cell(&r.Results[i])
			switch {
			case !ok:
				s = emptyCell
			case c.table != nil:
				s = c.table(v)
			}
			tw.Write([]byte(s))
		}
		tw.Write([]byte("\t\n"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHeader writes the lines describing the machine, BLAS, ceilings,
// networks, settings and devices.
func (r *Report) writeHeader(b *strings.Builder) {
	m := r.Machine
	fmt.Fprintf(b, "rleval bench, %s\n", r.Time.Format(time.RFC3339))
	fmt.Fprintf(b, "machine: %s, %d cores, GOMAXPROCS %d, %s/%s, %s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Arch, m.GoVersion)
	fmt.Fprintf(b, "blas: %s", r.BLAS)
	if len(r.Ceilings) > 0 {
		c := r.Ceilings[0]
		fmt.Fprintf(b, "; GEMM ceiling (graph's plan, %d-row chunks of %d×%d layers, fastest calls):", c.M, c.N, c.K)
		for i, c := range r.Ceilings {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(b, "%s %s GFLOP/s on %d thread%s", sep, format3(c.GFLOPS), c.Threads, plural(c.Threads))
		}
	} else {
		b.WriteString("; GEMM ceiling not measured")
	}
	b.WriteByte('\n')
	n := r.Nets
	src := n.Source
	if src == "" {
		src = "networks"
	}
	fmt.Fprintf(b, "nets: %s: actor %s, %d critic%s %s; FLOP/row actor %d, critic %d, q_full %d\n",
		src, n.Actor, n.Critics, plural(n.Critics), n.Critic, n.FLOPsPerRow[WorkloadActor], n.FLOPsPerRow[WorkloadCritic], n.FLOPsPerRow[WorkloadQFull])
	fmt.Fprintf(b, "settings: %d rows a pass, at least %d passes and %s per cell, warm-up excluded, %d thread%s; p50, p95: wall time per batch\n",
		r.Rows, r.MinReps, formatSeconds(r.MinTimeS), r.Threads, plural(r.Threads))
	for _, d := range r.Devices {
		fmt.Fprintf(b, "device %s: %s", d.Device, d.Name)
		if g := d.GPU; g != nil {
			fmt.Fprintf(b, "; GPU %s", g.Name)
			if g.TotalMem > 0 {
				fmt.Fprintf(b, ", %.1f GiB memory (%.1f GiB free)", float64(g.TotalMem)/(1<<30), float64(g.FreeMem)/(1<<30))
			}
			if g.ComputeCapability > 0 {
				fmt.Fprintf(b, ", compute capability %d.%d", g.ComputeCapability/10, g.ComputeCapability%10)
			}
		}
		b.WriteByte('\n')
	}
	if t := r.Torch; t != nil {
		fmt.Fprintf(b, "device %s: torch %s, %d thread%s (%s %s)\n", TorchDevice, t.Version, t.Threads, plural(t.Threads), t.Python, t.Script)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// WriteCSV writes the table's rows and columns, values exact and in base
// units (seconds, rows/s, fractions), empty where the table shows "-".
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cs := r.shownColumns()
	rec := make([]string, len(cs))
	for i, c := range cs {
		rec[i] = c.csv
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for i := range r.Results {
		for j, c := range cs {
			v, s, ok := c.cell(&r.Results[i])
			switch {
			case !ok:
				s = ""
			case c.table != nil:
				s = strconv.FormatFloat(v, 'g', -1, 64)
			}
			rec[j] = s
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the whole report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// formatInt formats an integer value.
func formatInt(v float64) string { return strconv.FormatInt(int64(v), 10) }

// format3 formats v with three significant digits, without an exponent
// from 0.001 up.
func format3(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 0.001:
		d := 2 - int(math.Floor(math.Log10(a)))
		return strconv.FormatFloat(v, 'f', max(d, 0), 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// formatSI formats v with three significant digits and a k, M or G suffix.
func formatSI(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return format3(v/1e9) + "G"
	case a >= 1e6:
		return format3(v/1e6) + "M"
	case a >= 1e3:
		return format3(v/1e3) + "k"
	}
	return format3(v)
}

// formatSeconds formats a duration in seconds with three significant digits
// and the unit time.ParseDuration reads: ns, µs, ms or s.
func formatSeconds(s float64) string {
	a := math.Abs(s)
	switch {
	case a == 0:
		return "0s"
	case a < 1e-6:
		return format3(s*1e9) + "ns"
	case a < 1e-3:
		return format3(s*1e6) + "µs"
	case a < 1:
		return format3(s*1e3) + "ms"
	}
	return format3(s) + "s"
}

// formatPercent formats a fraction as a percentage.
func formatPercent(v float64) string { return format3(100*v) + "%" }

// formatRatio formats a ratio as "1.23x".
func formatRatio(v float64) string { return format3(v) + "x" }
