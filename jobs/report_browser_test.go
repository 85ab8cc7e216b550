package jobs

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
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
});
</script>`

func TestReportOpensInChromiumWithEveryImageAndSection(t *testing.T) {
	browsertest.Chromium(t) // skips without one, before the work
	out := t.TempDir()
	opt := DefaultOptions()
	opt.Grid, opt.Line = 40, 50
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
	dom := browsertest.DumpDOM(t, alone, "--virtual-time-budget=10000")
	m := regexp.MustCompile(`data-images-total="(\d+)" data-images-loaded="(\d+)"`).FindStringSubmatch(string(dom))
	if m == nil {
		t.Fatalf("the page's load handler did not run:\n%.500s", dom)
	}
	if m[1] != m[2] || m[1] == "0" {
		t.Errorf("%s of %s images loaded", m[2], m[1])
	}
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
	browsertest.Screenshot(t, alone, shot, "--virtual-time-budget=10000", "--window-size=1280,2000")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot %v", b)
	}
}
