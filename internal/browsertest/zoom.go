package browsertest

import (
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// zoomProbe records page errors from the start and, after load, zooms the
// first chart through uPlot's API and writes what it saw on <body>.
const (
	zoomErrors = `<script>window.__errs=[];window.addEventListener('error',function(e){window.__errs.push(String(e.message||e))});
(function(){var ce=console.error;console.error=function(){window.__errs.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments)}})();</script>`
	zoomProbe = `<script>
window.addEventListener('load', function () {
  var r = { charts: (window.rlevalCharts || []).length };
  try {
    var u = window.rlevalCharts[0].u;
    r.min0 = u.scales.x.min; r.max0 = u.scales.x.max;
    u.setScale('x', { min: r.min0 + (r.max0 - r.min0) / 4, max: r.max0 - (r.max0 - r.min0) / 4 });
  } catch (e) { r.probe = String(e); }
  setTimeout(function () {
    try { var u = window.rlevalCharts[0].u; r.min1 = u.scales.x.min; r.max1 = u.scales.x.max; } catch (e) { r.probe = String(e); }
    r.errors = window.__errs;
    document.body.setAttribute('data-zoom', JSON.stringify(r));
  }, 100);
});
</script>`
)

// ZoomResult is what the probe of Zoom reports: the charts on the page,
// the first chart's x range before (0) and after (1) a zoom, and errors.
type ZoomResult struct {
	Charts                 int
	Min0, Max0, Min1, Max1 float64
	Errors                 []string
	Probe                  string
}

// Zoom loads a copy of page alone in headless Chromium with the
// probes added, and returns what they saw. Without Chromium the test
// skips (make test lists it; CI, which installs chromium, fails on it).
func Zoom(t testing.TB, page []byte) ZoomResult {
	t.Helper()
	s := strings.Replace(string(page), "<head>", "<head>"+zoomErrors, 1)
	s = strings.Replace(s, "</body>", zoomProbe+"</body>", 1)
	alone := filepath.Join(t.TempDir(), "copy.html")
	if err := os.WriteFile(alone, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := DumpDOM(t, alone, "--virtual-time-budget=10000", "--window-size=1400,1000")
	m := regexp.MustCompile(`data-zoom="([^"]*)"`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run:\n%.500s", dom)
	}
	var r ZoomResult
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 || r.Probe != "" {
		t.Fatalf("page errors %q, probe %q", r.Errors, r.Probe)
	}
	if !(r.Min1 > r.Min0 && r.Max1 < r.Max0) {
		t.Errorf("zoom did not narrow the range: %v..%v then %v..%v", r.Min0, r.Max0, r.Min1, r.Max1)
	}
	return r
}
