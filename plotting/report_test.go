package plotting

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func renderReport(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func testImage(t *testing.T) Image {
	t.Helper()
	f, err := RewardSumFigure([]float64{0, 1, 2}, []float64{-3, -2, -1})
	if err != nil {
		t.Fatal(err)
	}
	im, err := NewImage("Evaluation: total reward per episode", f, "figures/reward_sum.svg")
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestReportEscapesStringsFromTheRun(t *testing.T) {
	evil := `<script>alert("x")</script>`
	r := NewReport("run "+evil, []string{"dir " + evil}, Section{ID: "summary", Title: "Summary"})
	s, _ := r.Section("summary")
	s.Notes = []string{evil}
	s.Tables = []Table{{Caption: evil, Header: []string{evil}, Rows: [][]string{{evil}}}}
	s.Images = []Image{{Title: evil, PNG: []byte{1}, SVGPath: `javascript:alert(1)`}}
	html := renderReport(t, r)
	if strings.Contains(html, evil) {
		t.Errorf("report contains the raw string %q", evil)
	}
	if !strings.Contains(html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("report lacks the escaped run name")
	}
	if strings.Contains(html, `href="javascript:`) {
		t.Errorf("report links to a javascript: URL")
	}
	// The only scripts are our own: the table sorter, and the figures'
	// zoom with the table of contents' marker.
	if n := strings.Count(html, "<script>"); n != 2 {
		t.Errorf("report has %d <script> tags, want 2", n)
	}
}

// testSections are a run report's sections in the notebook's order.
var testSections = []Section{{ID: "summary", Title: "Summary"}, {ID: "rewards", Title: "Evaluation rewards"},
	{ID: "losses", Title: "Training losses"}, {ID: "models", Title: "Models"}, {ID: "weights", Title: "Weight distributions"},
	{ID: "policy", Title: "Policy"}, {ID: "target", Title: "Actor vs actor_target"}, {ID: "buffer", Title: "Replay buffer"},
	{ID: "phase", Title: "Phase portrait"}, {ID: "coverage", Title: "State coverage"}, {ID: "qvalues", Title: "Q-values"},
	{ID: "extra", Title: "Extra maps"}}

func TestReportKeepsItsSectionsInOrder(t *testing.T) {
	r := NewReport("run", nil, testSections...)
	for i := range r.Sections {
		r.Sections[i].Images = []Image{testImage(t)}
	}
	html := renderReport(t, r)
	last := -1
	for _, s := range testSections {
		i := strings.Index(html, `<section id="`+s.ID+`"`)
		if i < 0 {
			t.Errorf("no section %q", s.ID)
			continue
		}
		if i < last {
			t.Errorf("section %q out of order", s.ID)
		}
		last = i
		if !strings.Contains(html, `<a href="#`+s.ID+`">`) {
			t.Errorf("no link to section %q", s.ID)
		}
	}
	for _, want := range []string{"summary", "rewards", "losses", "models", "weights", "policy", "target", "buffer", "phase", "coverage", "qvalues", "extra"} {
		if !strings.Contains(html, `id="`+want+`"`) {
			t.Errorf("no section id %q", want)
		}
	}
}

func TestReportEmbedsImagesAsDecodablePNGDataURIs(t *testing.T) {
	r := NewReport("run", nil, testSections...)
	s, _ := r.Section("rewards")
	s.Images = []Image{testImage(t)}
	html := renderReport(t, r)
	m := regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no PNG data URI in the report")
	}
	b, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("embedded image does not decode: %v", err)
	}
	if !strings.Contains(html, `href="figures/reward_sum.svg"`) {
		t.Errorf("no link to the SVG")
	}
	// Self-contained: no stylesheet, script or image fetched from elsewhere.
	for _, bad := range []string{`<link`, `src="http`, `src="/`, `@import`} {
		if strings.Contains(html, bad) {
			t.Errorf("report references an external resource (%s)", bad)
		}
	}
}

func TestReportTablesRightAlignNumbers(t *testing.T) {
	r := &Report{Title: "t", Sections: []Section{{ID: "models", Title: "Models", Tables: []Table{{
		Header: []string{"model", "parameters"},
		Rows:   [][]string{{"actor", "67,073"}, {"net_body.0", "-1.5e-05"}, {"2026-02-14", "12.5%"}},
	}}}}}
	html := renderReport(t, r)
	for _, want := range []string{`<td>actor</td>`, `<td class="num">67,073</td>`, `<td>net_body.0</td>`, `<td class="num">-1.5e-05</td>`, `<td>2026-02-14</td>`, `<td class="num">12.5%</td>`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

func TestIndexLinksRunsAndSortsByHeader(t *testing.T) {
	x := &Index{
		Title:   "batch",
		Columns: []string{"run", "final reward"},
		Rows: []IndexRow{
			{Link: "runs/a/report.html", Cells: []string{"a<b>", "-150.5"}},
			{Link: "javascript:alert(1)", Cells: []string{"c", "-3"}},
		},
		Images: []Image{testImage(t)},
	}
	var buf bytes.Buffer
	if err := x.Render(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`<a href="runs/a/report.html">a&lt;b&gt;</a>`,
		`<th class="sortable">final reward</th>`,
		`<td class="num">-150.5</td>`,
		`<img src="data:image/png;base64,`,
		`table.sortable`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	if strings.Contains(html, `href="javascript:`) {
		t.Errorf("index links to a javascript: URL")
	}
}

func TestWriteReportAndIndexAreAtomicFiles(t *testing.T) {
	dir := t.TempDir()
	if err := WriteReport(filepath.Join(dir, "report.html"), NewReport("r", nil)); err != nil {
		t.Fatal(err)
	}
	if err := WriteIndex(filepath.Join(dir, "index.html"), &Index{Title: "i"}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d files, want 2 (no temporaries)", len(entries))
	}
	blocked := filepath.Join(dir, "report.html", "report.html") // a file stands where a directory must be
	if err := WriteReport(blocked, NewReport("r", nil)); err == nil || !strings.Contains(err.Error(), blocked) {
		t.Errorf("writing under a file: err = %v, want an error naming the path", err)
	}
}

func TestReportFoldsEmptySectionsIntoOneLine(t *testing.T) {
	r := NewReport("run", nil, Section{ID: "summary", Title: "Summary", Notes: []string{"hello"}},
		Section{ID: "phase", Title: "Phase portrait"}, Section{ID: "coverage", Title: "State coverage"})
	html := renderReport(t, r)
	if strings.Contains(html, `<section id="phase"`) || strings.Contains(html, `<section id="coverage"`) {
		t.Errorf("an empty section got a card")
	}
	if n := strings.Count(html, `class="empty"`); n != 1 {
		t.Errorf("%d empty-section lines, want 1", n)
	}
	if !regexp.MustCompile(`Nothing to show for this run in: <span id="phase">Phase portrait</span>, <span id="coverage">State coverage</span>`).MatchString(html) {
		t.Errorf("the empty sections are not listed in one line:\n%s", html)
	}
}

func TestReportShowsAChartsStaticFiguresOnlyWithoutJavaScript(t *testing.T) {
	im := testImage(t)
	fb := im
	fb.Title, fb.Fallback = "Critic Q1 Loss", true
	r := NewReport("run", nil, Section{ID: "losses", Title: "Training losses", Images: []Image{im, fb},
		Interactive: "<div class=\"rleval-interactive\"></div>", Charts: 1})
	html := renderReport(t, r)
	m := regexp.MustCompile(`(?s)<noscript class="fallback">(.*?)</noscript>`).FindStringSubmatch(html)
	if m == nil || !strings.Contains(m[1], `alt="Critic Q1 Loss"`) || strings.Contains(m[1], `alt="`+im.Title+`"`) {
		t.Errorf("the fallback figure is not (alone) in <noscript>")
	}
	if strings.Count(html, `alt="`+im.Title+`"`) != 1 {
		t.Errorf("the figure without a chart is not shown once")
	}
	// One figure shown and one chart: a section of two grid columns.
	if !strings.Contains(html, `<section id="losses" class="s2">`) {
		t.Errorf("a section of one figure and one chart should span two columns")
	}
	// Without charts in the section, a fallback figure is shown as it is.
	r.Sections[0].Interactive, r.Sections[0].Charts = "", 0
	if html := renderReport(t, r); strings.Contains(html, "<noscript") || !strings.Contains(html, `alt="Critic Q1 Loss"`) {
		t.Errorf("a fallback figure without its chart is hidden")
	}
}

func TestReportCaptionsDoNotRepeatTheFiguresTitle(t *testing.T) {
	r := NewReport("run", nil, Section{ID: "s", Title: "S", Images: []Image{testImage(t)}})
	html := renderReport(t, r)
	if strings.Contains(html, "<figcaption>Evaluation: total reward per episode") {
		t.Errorf("the caption repeats the title drawn in the figure")
	}
	if !strings.Contains(html, `<figcaption><a href="figures/reward_sum.svg">SVG</a></figcaption>`) {
		t.Errorf("the caption lost the SVG link")
	}
}

func TestWideTablesTakeTwoCells(t *testing.T) {
	narrow := Table{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}}
	wide := Table{Header: []string{"file"}, Rows: [][]string{{strings.Repeat("x", 80)}}}
	if w := viewTable(narrow).Weight; w != 1 {
		t.Errorf("narrow table weight %d", w)
	}
	if w := viewTable(wide).Weight; w != 2 {
		t.Errorf("wide table weight %d", w)
	}
}

func TestDottedLettersAreDrawnByCSSAndEscaped(t *testing.T) {
	got := string(richText("θ̇ <b>&"))
	want := `<span class="ddot" title="θ̇">θ</span> &lt;b&gt;&amp;`
	if got != want {
		t.Errorf("richText = %q, want %q", got, want)
	}
	r := NewReport("run", nil, Section{ID: "buffer", Title: "Replay buffer", Tables: []Table{{Header: []string{"value"}, Rows: [][]string{{"θ̇"}}}}})
	if html := renderReport(t, r); !strings.Contains(html, `<td><span class="ddot" title="θ̇">θ</span></td>`) {
		t.Errorf("the buffer table's θ̇ is not drawn with its dot")
	}
}
