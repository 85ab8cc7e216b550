package plotting

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
)

//go:embed assets/overlay.js
var overlayJS string

// OverlayData is what the batch page's curve overlay can draw: every
// field logged by any run, each run's curves (reduced to a few points), and
// the groups.
type OverlayData struct {
	Fields []string     `json:"fields"`
	Groups []string     `json:"groups"`
	Runs   []OverlayRun `json:"runs"`
}

// OverlayRun is one run's curves: Curves[k] are the x and y of field k
// (absent when the run did not log it); Group indexes Groups, -1 for none.
type OverlayRun struct {
	Name   string               `json:"n"`
	Group  int                  `json:"g"`
	Curves map[int][2][]float64 `json:"c"`
}

// overlayJSON is OverlayData as the page embeds it: numbers compact,
// non-finite ones null.
type overlayJSON struct {
	Fields []string `json:"fields"`
	Groups []string `json:"groups"`
	Runs   []struct {
		Name   string              `json:"n"`
		Group  int                 `json:"g"`
		Curves map[int][2]jsonNums `json:"c"`
	} `json:"runs"`
}

// OverlayCurves returns the HTML of the batch page's curve overlay: a
// field picker, runs or groups to tick (filterable), a smoothing slider and
// one uPlot chart, all inline (uPlot is embedded), so the page works
// offline. The data sits in a JSON script element and uPlot in a script
// element of type text/plain, neither parsed until the overlay is first
// shown or used, so they cost a page of hundreds of runs nothing while it
// loads; every string in the data is JSON-escaped for a <script> element.
func OverlayCurves(d *OverlayData) (template.HTML, error) {
	if d == nil || len(d.Fields) == 0 || len(d.Runs) == 0 {
		return "", nil
	}
	j := overlayJSON{Fields: d.Fields, Groups: d.Groups}
	if j.Groups == nil {
		j.Groups = []string{}
	}
	j.Runs = make([]struct {
		Name   string              `json:"n"`
		Group  int                 `json:"g"`
		Curves map[int][2]jsonNums `json:"c"`
	}, len(d.Runs))
	for i, r := range d.Runs {
		j.Runs[i].Name, j.Runs[i].Group = r.Name, r.Group
		j.Runs[i].Curves = make(map[int][2]jsonNums, len(r.Curves))
		for k, c := range r.Curves {
			j.Runs[i].Curves[k] = [2]jsonNums{c[0], c[1]}
		}
	}
	data, err := json.Marshal(j) // escapes <, > and & for HTML
	if err != nil {
		return "", fmt.Errorf("curve overlay: %w", err)
	}
	var b strings.Builder
	b.WriteString("<div class=\"rleval-overlay\">\n<style>")
	b.WriteString(uplotCSS)
	b.WriteString(`.rleval-overlay .ov-controls{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;font-size:13px;margin:6px 0}
.rleval-overlay .ov-body{display:flex;gap:14px;align-items:flex-start}
.rleval-overlay .ov-list{flex:0 0 260px;max-height:360px;overflow:auto;border:1px solid #e4e4e4;padding:4px 6px;font-size:12px}
.rleval-overlay .ov-list label{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;cursor:pointer}
.rleval-overlay .ov-chart{flex:1 1 auto;min-width:0}
.rleval-overlay .ov-info{color:#777;font-size:13px}
.rleval-overlay .u-legend{font-size:11px;max-height:120px;overflow:auto;display:block}</style>
<div class="ov-controls"><label>field <select class="ov-field"></select></label>
<span><label><input type="radio" name="ov-mode" value="groups"> groups (mean ± sd)</label> <label><input type="radio" name="ov-mode" value="runs"> runs</label></span>
<label>smoothing <input class="ov-smooth" type="range" min="0" max="0.99" step="0.01" value="0"> <span class="ov-smooth-v">0.00</span></label>
<input class="ov-filter" type="search" placeholder="filter the list">
<button type="button" class="ov-shown">tick all listed</button> <button type="button" class="ov-none">clear</button></div>
<div class="ov-body"><div class="ov-list"></div><div class="ov-chart"><p class="ov-info"></p></div></div>
<script type="text/plain" id="rleval-overlay-uplot">`)
	b.WriteString(uplotJS)
	b.WriteString("</script>\n<script type=\"application/json\" id=\"rleval-overlay-data\">")
	b.Write(data)
	b.WriteString("</script>\n<script>")
	b.WriteString(overlayJS)
	b.WriteString("</script>\n</div>")
	return template.HTML(b.String()), nil
}
