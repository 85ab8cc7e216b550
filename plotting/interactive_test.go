package plotting

import (
	"bytes"
	"encoding/json"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/browsertest"
)

func TestInteractiveCurvesEscapeNamesAndEmbedLevels(t *testing.T) {
	x, y := noisySeries(100000)
	h, err := InteractiveCurves([]Chart{{Title: "</script><b>x", XLabel: "step", Smooth: 0.6,
		Curves: []Curve{{Label: "loss&<i>", X: x, Y: y, Smooth: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(h)
	if strings.Contains(s, "</script><b>") || strings.Contains(s, "<i>") {
		t.Error("a name reached the page unescaped")
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" class="rleval-curves">(.*?)</script>`).FindStringSubmatch(s)
	if m == nil {
		t.Fatal("no chart data")
	}
	var specs []struct {
		Title  string
		Levels [][][]*float64
	}
	if err := json.Unmarshal([]byte(m[1]), &specs); err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].Title != "</script><b>x" {
		t.Fatalf("specs %+v", specs)
	}
	lv := specs[0].Levels
	if len(lv) != len(chartLevels) || len(lv[0][0]) > 4*chartLevels[0] || len(lv[1][0]) <= len(lv[0][0]) {
		t.Fatalf("levels of %d points", func() []int {
			var n []int
			for _, l := range lv {
				n = append(n, len(l[0]))
			}
			return n
		}())
	}
	// Every embedded point is a point of the series.
	for _, l := range lv {
		for k, xv := range l[0] {
			i := int(*xv / 100)
			if l[1][k] == nil || *l[1][k] != float64(float32(y[i])) && math.Abs(*l[1][k]-y[i]) > 1e-6*math.Abs(y[i]) {
				t.Fatalf("point %v: %v, series %v", *xv, l[1][k], y[i])
			}
		}
	}
	short, err := InteractiveCurves([]Chart{{Curves: []Curve{{Label: "r", X: []float64{1, 2, 3}, Y: []float64{1, math.NaN(), 3}}}}})
	if err != nil || !strings.Contains(string(short), `"levels":[[[1,3],[1,3]]]`) {
		t.Errorf("a short series embeds its finite points once: %v", err)
	}
}

// errorProbe goes first in <head>: it records every error and
// console.error of the page.
const errorProbe = `<script>
window.__errs = [];
window.addEventListener('error', function (e) { window.__errs.push(String(e.message || e)); });
window.addEventListener('unhandledrejection', function (e) { window.__errs.push('rejection: ' + e.reason); });
(function () { var ce = console.error; console.error = function () { window.__errs.push(Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
</script>`

// chartProbe runs after load: it zooms the first chart through uPlot's
// API, hovers, moves the smoothing slider, toggles the log scale and
// writes what it saw into <body data-result>.
const chartProbe = `<script>
window.addEventListener('load', function () {
  // uPlot applies scale changes on a later tick: each step waits for it.
  var r = { errors: window.__errs.slice(), charts: (window.rlevalCharts || []).length }, c, u, smoothCol, before;
  var steps = [
    function () {
      c = window.rlevalCharts[0]; u = c.u;
      r.min0 = u.scales.x.min; r.max0 = u.scales.x.max; r.level0 = c.level(); r.n0 = u.data[0].length;
      var mid = (r.min0 + r.max0) / 2, half = (r.max0 - r.min0) / 64;
      u.setScale('x', { min: mid - half, max: mid + half });
    },
    function () {
      r.min1 = u.scales.x.min; r.max1 = u.scales.x.max; r.level1 = c.level(); r.n1 = c.u.data[0].length;
      u.setCursor({ left: Math.round(u.bbox.width / 4 / devicePixelRatio), top: 50 });
    },
    function () {
      r.hover = Array.prototype.map.call(c.root.querySelectorAll('.u-legend .u-value'), function (e) { return e.textContent; });
      smoothCol = c.spec.series.findIndex(function (s) { return s.smoothed; }) + 1;
      before = JSON.stringify(c.u.data[smoothCol].slice(0, 50));
      var sl = c.root.querySelector('.rleval-smooth'); sl.value = '0.99'; sl.dispatchEvent(new Event('input'));
    },
    function () {
      r.smoothChanged = JSON.stringify(c.u.data[smoothCol].slice(0, 50)) !== before;
      var cb = c.root.querySelector('.rleval-log'); cb.checked = true; cb.dispatchEvent(new Event('change'));
    },
    function () { r.logDistr = c.u.scales.y.distr; r.minAfterLog = c.u.scales.x.min; }
  ];
  function run(i) {
    if (i < steps.length) {
      try { steps[i](); } catch (e) { r.probe = String(e); i = steps.length; }
      setTimeout(function () { run(i + 1); }, 50);
      return;
    }
    r.errorsAfter = window.__errs.slice();
    document.body.setAttribute('data-result', JSON.stringify(r));
  }
  run(0);
});
</script>`

// probeResult is what chartProbe reports.
type probeResult struct {
	Errors, ErrorsAfter    []string
	Charts                 int
	Min0, Max0, Min1, Max1 float64
	Level0, Level1, N0, N1 int
	Hover                  []string
	SmoothChanged          bool
	LogDistr               int
	MinAfterLog            float64
	Probe                  string
}

// openInChromium loads page (with the probes added) in headless Chromium
// and returns the probe's result.
func openInChromium(t *testing.T, page []byte) probeResult {
	t.Helper()
	s := strings.Replace(string(page), "<head>", "<head>"+errorProbe, 1)
	s = strings.Replace(s, "</body>", chartProbe+"</body>", 1)
	path := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := browsertest.DumpDOM(t, path, "--virtual-time-budget=10000", "--window-size=1400,1000")
	m := regexp.MustCompile(`data-result="([^"]*)"`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run:\n%.800s", dom)
	}
	var r probeResult
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &r); err != nil {
		t.Fatalf("probe result %s: %v", m[1], err)
	}
	return r
}

// CheckInteractivePage fails t unless the page's first chart loaded without
// a console error, zooms, refines, hovers, smooths and goes log-scale.
func checkInteractivePage(t *testing.T, r probeResult, wantRefine bool) {
	t.Helper()
	if len(r.Errors) > 0 || len(r.ErrorsAfter) > 0 || r.Probe != "" {
		t.Fatalf("page errors %q, after use %q, probe %q", r.Errors, r.ErrorsAfter, r.Probe)
	}
	if r.Charts == 0 {
		t.Fatal("no chart on the page")
	}
	if !(r.Min1 > r.Min0 && r.Max1 < r.Max0) {
		t.Errorf("zoom did not narrow the range: %v..%v then %v..%v", r.Min0, r.Max0, r.Min1, r.Max1)
	}
	if wantRefine && !(r.Level1 > r.Level0) {
		t.Errorf("zooming in kept level %d (%d then %d points)", r.Level1, r.N0, r.N1)
	}
	hovered := false
	for _, v := range r.Hover[1:] {
		hovered = hovered || regexp.MustCompile(`\d`).MatchString(v)
	}
	if len(r.Hover) < 2 || !regexp.MustCompile(`^\d+$`).MatchString(r.Hover[0]) || !hovered {
		t.Errorf("hover shows %q, want an integer step and values", r.Hover)
	}
	if !r.SmoothChanged {
		t.Error("the smoothing slider did not change the smoothed curve")
	}
	if r.LogDistr != 3 || r.MinAfterLog != r.Min1 {
		t.Errorf("log toggle: y distr %d, x min %v (zoom %v)", r.LogDistr, r.MinAfterLog, r.Min1)
	}
}

func TestInteractiveCurvesZoomHoverSmoothInChromium(t *testing.T) {
	x, y := noisySeries(200000)
	for i := range y {
		y[i] = math.Exp(y[i] / 10) // positive, for the log scale
	}
	h, err := InteractiveCurves([]Chart{
		{Title: "loss", XLabel: "step", YLabel: "loss", Smooth: 0.6, Curves: []Curve{{Label: "loss_q1", X: x, Y: y, Smooth: true}}},
		{Title: "reward", XLabel: "step", Curves: []Curve{{Label: "mean", X: x[:200], Y: y[:200], Markers: true},
			{Label: "min", X: x[:200], Y: y[1:201]}, {Label: "max", X: x[:200], Y: y[2:202]}}, Bands: []ChartBand{{Lo: 1, Hi: 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport("interactive", nil, Section{ID: "losses", Title: "Training losses", Interactive: h})
	var buf bytes.Buffer
	if err := rep.Render(&buf); err != nil {
		t.Fatal(err)
	}
	r := openInChromium(t, buf.Bytes())
	t.Logf("probe: %+v", r)
	if r.Charts != 2 {
		t.Errorf("%d charts", r.Charts)
	}
	checkInteractivePage(t, r, true)
}
