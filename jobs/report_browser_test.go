package jobs

import (
	"context"
	"encoding/json"
	"html"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/browsertest"
)

// imageCheck is appended to a copy of the report: once the page has loaded
// it records on <body> how many images there are and how many decoded.
const imageCheck = `<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute('data-images-total', imgs.length);
  document.body.setAttribute('data-images-loaded', ok);
  // Layout at the window's width: the page's height, what sticks out of
  // its card, and the title of every figure and chart shown.
  document.body.setAttribute('data-height', document.documentElement.scrollHeight);
  var over = [];
  document.querySelectorAll('main > section').forEach(function (sec) {
    var box = sec.getBoundingClientRect();
    sec.querySelectorAll('img, .rleval-chart, .u-legend, .rleval-controls, table, .card').forEach(function (el) {
      var r = el.getBoundingClientRect(), name = sec.id + ' ' + el.tagName + '.' + el.className;
      if (r.width === 0) return;
      if (r.left < box.left - 1 || r.right > box.right + 1) over.push(name + ' sticks out of its card');
      if (el.classList.contains('card') && el.scrollWidth > el.clientWidth + 1) over.push(name + ' scrolls');
    });
  });
  document.body.setAttribute('data-overflow', JSON.stringify(over));
  var shown = [];
  for (var i = 0; i < imgs.length; i++) shown.push(imgs[i].alt);
  document.querySelectorAll('.u-title').forEach(function (t) { shown.push(t.textContent); });
  document.body.setAttribute('data-shown', JSON.stringify(shown));
});
</script>`

// maxReportHeight is the tallest the demo report may be at 1440 px wide.
const maxReportHeight = 8000

func TestReportOpensInChromiumWithEveryImageAndSection(t *testing.T) {
	browsertest.Chromium(t) // skips without one, before the work
	out := t.TempDir()
	opt := DefaultOptions()
	opt.Grid, opt.Line = 40, 50
	opt.Returns = ReturnsOptions{Enabled: true, Episodes: 20, Horizon: 20, BufferStates: 16}
	if _, err := Evaluate(context.Background(), filepath.Join(testdata, "runs", demoRun), out, opt); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// The report must not depend on anything beside it: open a copy alone
	// in another folder.
	alone := filepath.Join(t.TempDir(), "copy.html")
	html := strings.Replace(string(page), "</body>", imageCheck+"</body>", 1)
	if err := os.WriteFile(alone, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := browsertest.DumpDOM(t, alone, "--virtual-time-budget=10000", "--window-size=1440,1000")
	m := regexp.MustCompile(`data-images-total="(\d+)" data-images-loaded="(\d+)"`).FindStringSubmatch(string(dom))
	if m == nil {
		t.Fatalf("the page's load handler did not run:\n%.500s", dom)
	}
	if m[1] != m[2] || m[1] == "0" {
		t.Errorf("%s of %s images loaded", m[2], m[1])
	}
	checkReportLayout(t, string(dom))
	for _, s := range Sections() {
		// The demo run is TD3, and evaluated without --checkpoints.
		if s.ID == sectionSkipped.ID || s.ID == "sac" || s.ID == "checkpoints" {
			continue
		}
		if !strings.Contains(string(dom), `id="`+s.ID+`"`) {
			t.Errorf("section %q missing from the rendered page", s.ID)
		}
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	browsertest.Screenshot(t, alone, shot, "--virtual-time-budget=10000", "--window-size=1440,2000")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1440 || b.Dy() != 2000 {
		t.Errorf("screenshot %v", b)
	}
}

// checkReportLayout reads what imageCheck recorded at 1440 px wide: the
// report fits in maxReportHeight, nothing sticks out of its card, and each
// figure or chart (by title) is shown once, the curves as charts only.
func checkReportLayout(t *testing.T, dom string) {
	t.Helper()
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("no %s on <body>", name)
		}
		return html.UnescapeString(m[1])
	}
	if h, _ := strconv.Atoi(attr("data-height")); h == 0 || h > maxReportHeight {
		t.Errorf("the report is %d px tall at 1440 px wide, want ≤ %d", h, maxReportHeight)
	}
	var over, shown []string
	if err := json.Unmarshal([]byte(attr("data-overflow")), &over); err != nil {
		t.Fatal(err)
	}
	for _, o := range over {
		t.Errorf("at 1440 px: %s", o)
	}
	if err := json.Unmarshal([]byte(attr("data-shown")), &shown); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, s := range shown {
		seen[s]++
	}
	for _, want := range []string{"Evaluation: mean reward per step", "Evaluation: total reward per episode", "Critic Q1 Loss", "Actor Loss"} {
		if seen[want] != 1 {
			t.Errorf("curve %q shown %d times, want once (as a chart)", want, seen[want])
		}
	}
	for s, n := range seen {
		if n > 1 {
			t.Errorf("%q shown %d times", s, n)
		}
	}
}
