package jobs

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// IndexFileName is the batch's HTML index in its output folder.
const IndexFileName = "index.html"

// ReportFileName is the per-run report the index links to, relative to the
// run's output folder.
const ReportFileName = "report.html"

// WriteIndex writes the batch index page to path atomically: a table of the
// runs sortable by any column (a click on its header), a link to each run's
// report, and the evaluation reward curves of all runs overlaid in one SVG.
// The page is self-contained (no network).
func WriteIndex(path string, res *BatchResult) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		return indexTmpl.Execute(w, newIndexPage(res))
	})
}

// palette is matplotlib's tab10, the colors the rest of the reports use.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

type indexPage struct {
	Title            string
	Total, OK, Part  int
	Failed           int
	Rows             []indexRow
	Curves           []indexCurve
	W, H             int
	XTicks, YTicks   []indexTick
	PlotL, PlotR     float64
	PlotT, PlotB     float64
	HasCurves        bool
	Notes            []string
	Columns          []string
	NumericFromIndex int
}

type indexRow struct {
	Name, Link, Color string
	Cells             []indexCell
}

type indexCell struct {
	Text, Sort string
}

type indexCurve struct {
	Name, Color, Points string
}

type indexTick struct {
	Pos, Label string
}

func newIndexPage(res *BatchResult) *indexPage {
	p := &indexPage{
		Title: "rleval batch", Total: len(res.Runs), OK: res.OK, Part: res.Partial, Failed: res.Failed,
		Notes: res.Notes, W: 900, H: 420, PlotL: 70, PlotR: 880, PlotT: 20, PlotB: 380,
		Columns: []string{"run", "date", "status", "final reward_sum", "best reward_sum", "mean Q(s,π(s))", "buffer size", "‖actor−target‖₂", "seconds", "error"},
	}
	if res.Root != "" {
		p.Title = "rleval batch: " + res.Root
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range res.Runs {
		s := &res.Runs[i]
		for k := 0; k < len(s.CurveStep) && k < len(s.CurveValue); k++ {
			x, y := s.CurveStep[k], s.CurveValue[k]
			if isFinite(x) && isFinite(y) {
				xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
				ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
			}
		}
	}
	p.HasCurves = xmin <= xmax
	if p.HasCurves {
		if xmin == xmax {
			xmin, xmax = xmin-1, xmax+1
		}
		if ymin == ymax {
			ymin, ymax = ymin-1, ymax+1
		}
	}
	sx := func(x float64) float64 { return p.PlotL + (x-xmin)/(xmax-xmin)*(p.PlotR-p.PlotL) }
	sy := func(y float64) float64 { return p.PlotB - (y-ymin)/(ymax-ymin)*(p.PlotB-p.PlotT) }
	for i := range res.Runs {
		s := &res.Runs[i]
		color := palette[i%len(palette)]
		row := indexRow{Name: s.Name, Color: color}
		if s.Status != StatusFailed && s.Out != "" {
			row.Link = relURL(s.Out) + "/" + ReportFileName
		}
		row.Cells = []indexCell{
			{s.Date, s.Date},
			{s.Status, s.Status},
			numCell(s.FinalRewardSum),
			numCell(s.BestRewardSum),
			numCell(s.MeanQPolicy),
			numCell(float64(s.BufferSize)),
			numCell(s.L2Total),
			numCell(s.Seconds),
			{s.Error, s.Error},
		}
		p.Rows = append(p.Rows, row)
		if !p.HasCurves {
			continue
		}
		var pts strings.Builder
		for k := 0; k < len(s.CurveStep) && k < len(s.CurveValue); k++ {
			x, y := s.CurveStep[k], s.CurveValue[k]
			if isFinite(x) && isFinite(y) {
				fmt.Fprintf(&pts, "%.1f,%.1f ", sx(x), sy(y))
			}
		}
		if pts.Len() > 0 {
			p.Curves = append(p.Curves, indexCurve{Name: s.Name, Color: color, Points: strings.TrimSpace(pts.String())})
		}
	}
	if p.HasCurves {
		for _, t := range ticks(xmin, xmax, 6) {
			p.XTicks = append(p.XTicks, indexTick{fmt.Sprintf("%.1f", sx(t)), strconv.FormatFloat(t, 'g', 6, 64)})
		}
		for _, t := range ticks(ymin, ymax, 5) {
			p.YTicks = append(p.YTicks, indexTick{fmt.Sprintf("%.1f", sy(t)), strconv.FormatFloat(t, 'g', 6, 64)})
		}
	}
	return p
}

// relURL escapes each segment of a slash-separated relative path.
func relURL(rel string) string {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func numCell(v float64) indexCell {
	if !isFinite(v) {
		return indexCell{"", ""}
	}
	return indexCell{strconv.FormatFloat(v, 'g', 6, 64), strconv.FormatFloat(v, 'g', -1, 64)}
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ticks returns about n round tick values within [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if (hi-lo)/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	first := math.Ceil(lo / step)
	for k := 0.0; (first+k)*step <= hi+step*1e-9; k++ {
		out = append(out, (first+k)*step)
	}
	return out
}

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:sans-serif;margin:1.5em}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee;cursor:pointer;user-select:none}
th.asc::after{content:" ▲"}th.desc::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.err{white-space:pre-wrap;max-width:40em;font-family:monospace;font-size:11px}
tr.failed{background:#fdd}tr.partial{background:#ffd}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.Total}} runs: {{.OK}} ok, {{.Part}} partial, {{.Failed}} failed.</p>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{if .HasCurves}}<h2>Evaluation reward_sum</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" font-size="11">
<rect x="{{.PlotL}}" y="{{.PlotT}}" width="810" height="360" fill="none" stroke="#888"/>
{{range .XTicks}}<line x1="{{.Pos}}" x2="{{.Pos}}" y1="{{$.PlotB}}" y2="{{$.PlotT}}" stroke="#eee"/><text x="{{.Pos}}" y="{{$.PlotB}}" dy="14" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .YTicks}}<line x1="{{$.PlotL}}" x2="{{$.PlotR}}" y1="{{.Pos}}" y2="{{.Pos}}" stroke="#eee"/><text x="{{$.PlotL}}" y="{{.Pos}}" dx="-4" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}<text x="475" y="412" text-anchor="middle">step</text><text x="14" y="200" text-anchor="middle" transform="rotate(-90 14 200)">reward_sum</text>
{{range .Curves}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.5" points="{{.Points}}"><title>{{.Name}}</title></polyline>
{{end}}</svg>
{{end}}<h2>Runs</h2>
<table id="runs"><thead><tr>{{range $i, $c := .Columns}}<th data-col="{{$i}}">{{$c}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr class="{{(index .Cells 1).Text}}"><td data-v="{{.Name}}"><span class="sw" style="background:{{.Color}}"></span>{{if .Link}}<a href="{{.Link}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</td>{{range $j, $c := .Cells}}<td{{if and (ge $j 2) (le $j 7)}} class="num"{{end}}{{if eq $j 8}} class="err"{{end}} data-v="{{$c.Sort}}">{{$c.Text}}</td>{{end}}</tr>
{{end}}</tbody></table>
<script>
(function(){
var t=document.getElementById("runs"),dir={};
t.querySelectorAll("th").forEach(function(th){th.addEventListener("click",function(){
 var c=+th.dataset.col,d=dir[c]=dir[c]===1?-1:1,b=t.tBodies[0];
 var rows=Array.prototype.slice.call(b.rows);
 rows.sort(function(x,y){
  var a=x.cells[c].dataset.v,z=y.cells[c].dataset.v;
  if(a===""&&z==="")return 0;if(a==="")return 1;if(z==="")return -1;
  if(isFinite(a)&&isFinite(z))return d*(parseFloat(a)-parseFloat(z));
  return d*(a<z?-1:a>z?1:0);});
 rows.forEach(function(r){b.appendChild(r)});
 t.querySelectorAll("th").forEach(function(h){h.className=""});th.className=d===1?"asc":"desc";
});});
})();
</script>
</body></html>
`))
