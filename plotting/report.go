package plotting

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"

	"github.com/rleval/rleval/internal/atomicfile"
)

// Report is the HTML page of one run: a title and sections in order.
type Report struct {
	// Title heads the page, e.g. the run's name.
	Title string
	// Subtitles are short lines under the title (run directory, date).
	Subtitles []string
	// Sections are shown in this order, each linked from the top bar.
	Sections []Section
}

// Section is one part of a report, with an id to link to.
type Section struct {
	// ID is the HTML id.
	ID string
	// Title heads the section.
	Title string
	// Notes are paragraphs of plain text.
	Notes []string
	// Tables follow the notes.
	Tables []Table
	// Images follow the tables.
	Images []Image
	// Interactive, if not empty, follows the images: charts made by
	// InteractiveCurves.
	Interactive template.HTML
	// Charts is the number of charts in Interactive: each takes a cell of
	// the section's grid.
	Charts int
}

// Table is a table of text cells. Cells that look like numbers are right
// aligned.
type Table struct {
	// Caption is shown above the table; empty for none.
	Caption string
	// Header names the columns.
	Header []string
	// Rows hold the cells, row by row.
	Rows [][]string
	// Links, if not nil, gives a link target per cell (same shape as Rows,
	// "" for none), e.g. a run's report from the batch index.
	Links [][]string
	// Sortable lets readers sort rows by clicking a column header.
	Sortable bool
}

// Image is a figure embedded in a page as a base64 PNG data URI, so the
// page needs no other file.
type Image struct {
	// Title is the caption and the image's alt text.
	Title string
	// PNG is the encoded image.
	PNG []byte
	// SVGPath, if not empty, is linked from the caption: the figure's SVG
	// relative to the page.
	SVGPath string
	// Width, if not zero, is the display width in CSS pixels; zero shows
	// the PNG at its size, shrunk to the page.
	Width int
	// Fallback marks a static figure that an interactive chart of the same
	// section shows too: the page shows it only without JavaScript, so each
	// curve appears once.
	Fallback bool
}

// NewImage renders fig as PNG for a page.
func NewImage(title string, fig *Figure, svgPath string) (Image, error) {
	b, err := fig.PNG()
	if err != nil {
		return Image{}, err
	}
	return Image{Title: title, PNG: b, SVGPath: svgPath}, nil
}

// Section returns the section with the given id and whether it exists.
func (r *Report) Section(id string) (*Section, bool) {
	for i := range r.Sections {
		if r.Sections[i].ID == id {
			return &r.Sections[i], true
		}
	}
	return nil, false
}

// NewReport returns a report with the given sections, empty, in that order,
// so that callers fill them by id whatever order they work in.
func NewReport(title string, subtitles []string, sections ...Section) *Report {
	return &Report{Title: title, Subtitles: subtitles, Sections: sections}
}

// Index is the HTML page of a batch: a sortable table of runs, each linked
// to its report, then tables and figures that compare runs.
type Index struct {
	// Title heads the page.
	Title string
	// Subtitles are short lines under the title.
	Subtitles []string
	// Notes are paragraphs above the runs table.
	Notes []string
	// Columns name the runs table's columns; the first is the run.
	Columns []string
	// Rows are the runs, one per row.
	Rows []IndexRow
	// Tables follow the runs table (throughput, skipped runs).
	Tables []Table
	// Images follow, e.g. the reward curves of all runs in one plot.
	Images []Image
	// Interactive, if not empty, follows the images: charts made by
	// InteractiveCurves.
	Interactive template.HTML
}

// IndexRow is one run in the batch index.
type IndexRow struct {
	// Link is the run's report, relative to the index page (e.g.
	// "runs/a/report.html"); the first cell links to it. Empty for none.
	Link string
	// Cells are the row's text, one per column.
	Cells []string
}

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

var (
	reportTemplate = template.Must(template.New("report.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/report.html", "templates/parts.html"))
	indexTemplate  = template.Must(template.New("index.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/index.html", "templates/parts.html"))
	styleCSS       = mustRead("templates/style.css")
)

// templateFuncs are the pages' template functions: rich writes text with
// its dotted letters (θ̇) drawn by CSS.
var templateFuncs = template.FuncMap{"rich": richText}

// richText escapes s for HTML and writes each letter carrying a combining
// dot above (U+0307, θ̇ = dθ/dt) as <span class="ddot">θ</span>, whose dot
// the pages' CSS draws: browsers often drop the combining mark (Chromium
// does with DejaVu Sans, the default sans-serif on Linux). The title keeps
// the original text for copying.
func richText(s string) template.HTML {
	if !strings.ContainsRune(s, '\u0307') {
		return template.HTML(template.HTMLEscapeString(s))
	}
	r := []rune(s)
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		if i+1 < len(r) && r[i+1] == '\u0307' {
			esc := template.HTMLEscapeString(string(r[i : i+2]))
			b.WriteString(`<span class="ddot" title="` + esc + `">` + template.HTMLEscapeString(string(r[i])) + `</span>`)
			i++
			continue
		}
		if r[i] == '\u0307' { // a dot on nothing: drop it
			continue
		}
		b.WriteString(template.HTMLEscapeString(string(r[i])))
	}
	return template.HTML(b.String())
}

func mustRead(name string) template.CSS {
	b, err := templateFS.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot fail at run time
	}
	return template.CSS(b)
}

// The view types carry what templates need in a form html/template will
// not re-escape: data URIs typed as URLs, CSS typed as CSS.
type (
	pageView struct {
		Title     string
		Subtitles []string
		CSS       template.CSS
		Sections  []sectionView
		// Empty are the sections with nothing to show, folded into one line.
		Empty  []sectionView
		Notes  []string
		Runs   tableView
		Tables []tableView
		Images []imageView
		// Interactive is InteractiveCurves' trusted HTML.
		Interactive template.HTML
	}
	sectionView struct {
		ID, Title   string
		Notes       []string
		Tables      []tableView
		Images      []imageView
		Fallbacks   []imageView
		Interactive template.HTML
		// Span is the number of grid columns the section takes on a wide
		// screen (1–3): one per table, figure or chart, at most three.
		Span int
	}
	tableView struct {
		Caption  string
		Header   []string
		Rows     [][]cellView
		Sortable bool
		// Weight is the number of report grid cells the table takes: 2
		// for a wide one.
		Weight int
	}
	cellView struct {
		Text, Href string
		Num        bool
	}
	imageView struct {
		Title   string
		Src     template.HTMLAttr
		SVGPath string
		Width   int
	}
)

// numberRE matches cells shown right-aligned: a number, optionally with
// thousands separators, a sign, an exponent, a unit or percent after it.
var numberRE = regexp.MustCompile(`^[-+−]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][-+]?\d+)?\s*(%|[a-zA-Z/]{0,6})$`)

func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && strings.ContainsAny(s, "0123456789") && numberRE.MatchString(s) && !isLetterFirst(s)
}

func isLetterFirst(s string) bool {
	c := s[0]
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func viewTable(t Table) tableView {
	v := tableView{Caption: t.Caption, Header: t.Header, Sortable: t.Sortable}
	for i, row := range t.Rows {
		cells := make([]cellView, len(row))
		for j, c := range row {
			cells[j] = cellView{Text: c, Num: isNumber(c)}
			if i < len(t.Links) && j < len(t.Links[i]) {
				cells[j].Href = t.Links[i][j]
			}
		}
		v.Rows = append(v.Rows, cells)
	}
	v.Weight = 1
	if tableChars(t) > wideTable {
		v.Weight = 2
	}
	return v
}

// wideTable is the width, in characters of its widest cells, from which a
// table takes two cells of the report's grid.
const wideTable = 64

// tableChars sums the length of each column's longest cell or header.
func tableChars(t Table) int {
	var w []int
	grow := func(row []string) {
		for j, c := range row {
			if j >= len(w) {
				w = append(w, 0)
			}
			w[j] = max(w[j], len([]rune(c))+2)
		}
	}
	grow(t.Header)
	for _, r := range t.Rows {
		grow(r)
	}
	n := 0
	for _, x := range w {
		n += x
	}
	return n
}

func viewImage(im Image) imageView {
	// base64 text needs no escaping inside a quoted attribute; passing the
	// attribute as trusted keeps html/template from rejecting the data:
	// scheme and from writing each '+' as "&#43;".
	src := `src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(im.PNG) + `"`
	return imageView{Title: im.Title, Src: template.HTMLAttr(src), SVGPath: im.SVGPath, Width: im.Width}
}

// Render writes the report as one self-contained HTML page: styles inline,
// images as data URIs, every string from the run escaped.
func (r *Report) Render(w io.Writer) error {
	v := pageView{Title: r.Title, Subtitles: r.Subtitles, CSS: styleCSS}
	for _, s := range r.Sections {
		sv := sectionView{ID: s.ID, Title: s.Title, Notes: s.Notes, Interactive: s.Interactive}
		for _, t := range s.Tables {
			sv.Tables = append(sv.Tables, viewTable(t))
		}
		for _, im := range s.Images {
			if im.Fallback && s.Interactive != "" {
				sv.Fallbacks = append(sv.Fallbacks, viewImage(im))
			} else {
				sv.Images = append(sv.Images, viewImage(im))
			}
		}
		items := len(sv.Images) + s.Charts
		for _, t := range sv.Tables {
			items += t.Weight
		}
		if s.Interactive != "" && s.Charts == 0 {
			items++
		}
		if items == 0 && len(sv.Notes) == 0 {
			v.Empty = append(v.Empty, sv)
			continue
		}
		sv.Span = min(max(items, 1), 3)
		v.Sections = append(v.Sections, sv)
	}
	if err := reportTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("render report %q: %w", r.Title, err)
	}
	return nil
}

// Render writes the index as one self-contained HTML page with a runs table
// sortable by clicking a column header.
func (x *Index) Render(w io.Writer) error {
	runs := Table{Header: x.Columns, Sortable: true}
	for _, row := range x.Rows {
		runs.Rows = append(runs.Rows, row.Cells)
		links := make([]string, len(row.Cells))
		if len(links) > 0 {
			links[0] = row.Link
		}
		runs.Links = append(runs.Links, links)
	}
	v := pageView{Title: x.Title, Subtitles: x.Subtitles, CSS: styleCSS, Notes: x.Notes, Runs: viewTable(runs), Interactive: x.Interactive}
	for _, t := range x.Tables {
		v.Tables = append(v.Tables, viewTable(t))
	}
	for _, im := range x.Images {
		v.Images = append(v.Images, viewImage(im))
	}
	if err := indexTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("render index %q: %w", x.Title, err)
	}
	return nil
}

// WriteReport renders r to path atomically.
func WriteReport(path string, r *Report) error {
	var buf bytes.Buffer
	if err := r.Render(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}

// WriteIndex renders x to path atomically.
func WriteIndex(path string, x *Index) error {
	var buf bytes.Buffer
	if err := x.Render(&buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}
