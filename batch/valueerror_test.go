package batch

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/jsonnum"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/plotting"
)

// pendulumPlaneJSON is a run's summary.json as the returns and map jobs
// leave it for the Pendulum preset (only the plane matters here).
const pendulumPlaneJSON = `{"run": "r", "preset": "pendulum", "plane": {"x": {"key": "theta", "label": "θ (degrees)", "lo": -3.141592653589793, "hi": 3.141592653589793, "plot_scale": 57.29577951308232}, "y": {"key": "theta_dot", "label": "θ̇ (rad/s)", "lo": -8, "hi": 8}, "fixed": []}}`

// otherPlaneJSON is the same run's summary.json had it mapped velocity
// over a shorter range.
const otherPlaneJSON = `{"run": "r", "plane": {"x": {"key": "theta", "label": "θ (degrees)", "lo": -3.141592653589793, "hi": 3.141592653589793, "plot_scale": 57.29577951308232}, "y": {"key": "theta_dot", "label": "θ̇ (rad/s)", "lo": -2, "hi": 2}, "fixed": []}}`

// errorRunSpec is one run of errorBatch: its value-error map is the
// constant v (NaN: no map), with returns.json when returns is set.
type errorRunSpec struct {
	name    string
	v       float64
	returns bool
	plane   string
}

// errorBatch writes the runs' output folders under out and groups them as
// given (one group per slice), each run scored by its index.
func errorBatch(t *testing.T, groups map[string][]errorRunSpec, order []string) (*Result, *Groups, string) {
	t.Helper()
	out := t.TempDir()
	res := &Result{Root: "exp", Out: out}
	g := &Groups{Metric: "final reward_sum"}
	for _, name := range order {
		gr := Group{Name: name}
		for i, r := range groups[name] {
			od := filepath.Join(out, "runs", r.name)
			if err := os.MkdirAll(od, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(od, "summary.json"), []byte(r.plane), 0o644); err != nil {
				t.Fatal(err)
			}
			if r.returns {
				if err := os.WriteFile(filepath.Join(od, "returns.json"), []byte(`{"env": "Pendulum-v1"}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if !math.IsNaN(r.v) {
				// A 50 × 40 grid, so tiles are resampled; one cell NaN (no
				// state there) is left out of the means.
				v := make([]float32, 50*40)
				for k := range v {
					v[k] = float32(r.v)
				}
				v[7] = float32(math.NaN())
				if r.name == "outlier" {
					v[100] = 1000 // one diverged cell
				}
				if err := jobs.WriteNPY(filepath.Join(od, valueErrorFile), v, 40, 50); err != nil {
					t.Fatal(err)
				}
			}
			res.Runs = append(res.Runs, jobs.RunSummary{Name: r.name, Out: "runs/" + r.name, Status: jobs.StatusOK})
			gr.Runs, gr.Outs = append(gr.Runs, r.name), append(gr.Outs, "runs/"+r.name)
			gr.Scores = append(gr.Scores, jsonnum.Float(i))
		}
		g.Groups = append(g.Groups, gr)
	}
	return res, g, out
}

// TestValueErrorMapsOnOneSharedScale: each group's tile is the mean of its
// runs' maps on the plane they share, every tile is coloured on one
// symmetric scale, and runs without a map or on another plane are left
// out with a note naming them (escaped).
func TestValueErrorMapsOnOneSharedScale(t *testing.T) {
	nan := math.NaN()
	res, g, out := errorBatch(t, map[string][]errorRunSpec{
		"tau=0.005": {{"a1", 1, true, pendulumPlaneJSON}, {"a2", 2, true, pendulumPlaneJSON}, {"a3", 3, true, pendulumPlaneJSON}},
		"tau=0.05": {{"b1", -4, true, pendulumPlaneJSON}, {"b2", -6, true, pendulumPlaneJSON},
			{"<b>no-returns</b>", nan, false, pendulumPlaneJSON}, {"no-critic", nan, true, pendulumPlaneJSON}, {"zoomed", 50, true, otherPlaneJSON}},
		"<i>empty</i>": {{"c1", nan, false, pendulumPlaneJSON}},
		"tau=0.5":      {{"outlier", 0, true, pendulumPlaneJSON}},
	}, []string{"tau=0.005", "tau=0.05", "<i>empty</i>", "tau=0.5"})
	em := readErrorMaps(res, g, out)
	if em == nil {
		t.Fatal("no value-error maps read")
	}
	want := []struct {
		mean     float64
		n, total int
	}{{2, 3, 3}, {-5, 2, 5}, {nan, 0, 1}}
	for i, w := range want {
		eg := em.groups[i]
		if eg.n != w.n || eg.total != w.total {
			t.Errorf("group %s: mean of %d of %d runs, want %d of %d", eg.name, eg.n, eg.total, w.n, w.total)
		}
		if math.IsNaN(w.mean) {
			if eg.mean != nil {
				t.Errorf("group %s without maps has a mean tile", eg.name)
			}
			continue
		}
		if len(eg.mean) != thumbSide*thumbSide {
			t.Fatalf("group %s: tile of %d cells", eg.name, len(eg.mean))
		}
		for k, x := range eg.mean {
			if math.Abs(float64(x)-w.mean) > 1e-6 {
				t.Fatalf("group %s: cell %d = %v, want %v", eg.name, k, x, w.mean)
			}
		}
	}
	// Cells are 0, 1, 2, 3, −4 and −6 in equal numbers but for one run's
	// diverged cell: the 99th percentile of |Q − V| is 6, not 1000, and
	// the other plane's 50 is not on this page.
	if em.scale != 6 {
		t.Errorf("shared scale ±%v, want ±6", em.scale)
	}
	p := &plotting.BatchPage{}
	if err := errorSection(p, em, "final reward_sum"); err != nil {
		t.Fatal(err)
	}
	m := p.ValueErrors
	if m.Scale != 6 || m.XLabel != "θ (degrees)" || m.XLo != -180 || m.XHi != 180 || m.YLo != -8 || m.YHi != 8 {
		t.Errorf("scale ±%v, axes %q %v..%v, %v..%v", m.Scale, m.XLabel, m.XLo, m.XHi, m.YLo, m.YHi)
	}
	// Both sheets are coloured on ±6: a group of mean 2 and a run of −6.
	sheetColour := func(sheet []byte, tile int) [3]uint32 {
		img, err := png.Decode(bytes.NewReader(sheet))
		if err != nil {
			t.Fatal(err)
		}
		r, g, b, _ := img.At(tile%sheetCols*thumbSide+thumbSide/2, tile/sheetCols*thumbSide+thumbSide/2).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	colour := func(v float64) [3]uint32 {
		c := plotting.RdBuR().At(plotting.Normalize(v, -6, 6))
		return [3]uint32{uint32(c.R), uint32(c.G), uint32(c.B)}
	}
	if got, w := sheetColour(m.GroupSheet, 0), colour(2); got != w {
		t.Errorf("group tile of mean 2 drawn %v, want %v", got, w)
	}
	if m.Groups[2].Tile != -1 || m.Groups[2].Text != "no map" {
		t.Errorf("group without maps: %+v", m.Groups[2])
	}
	if len(m.Runs[1]) != 2 || m.Runs[1][1].Name != "b1" {
		t.Fatalf("group tau=0.05's run tiles %+v, want b2 then b1 (best first)", m.Runs[1])
	}
	if got, w := sheetColour(m.RunSheet, m.Runs[1][1].Tile), colour(-4); got != w {
		t.Errorf("run tile of −4 drawn %v, want %v", got, w)
	}
	path := filepath.Join(out, IndexFileName)
	if err := WriteIndex(path, res, g); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, w := range []string{
		`<section id="value-error">`, `href="#value-error"`,
		`One colour scale for every tile: ±6, the 99th percentile`,
		`>-6</text>`, `>6</text>`, // the colour bar's ends
		`x: θ (degrees) from -180 to 180`, `y: <span class="ddot" title="θ̇">θ</span> (rad/s) from -8 to 8`,
		`3 runs, mean &#43;2`, `2 runs, mean −5`, // html/template writes + as &#43;
		"tau=0.05\nmean of the value-error maps of 2 of its 5 runs (the notes say why",
		`href="runs/a1/report.html#returns"`,
		`2 runs had no returns analysis`, `&lt;b&gt;no-returns&lt;/b&gt;, c1.`,
		`1 run had a returns analysis but no value-error map (no critic or no plane), left out: no-critic.`,
		`1 run drew their maps on another plane than x = θ (degrees) over [-180, 180]`, `left out: zoomed.`,
		`&lt;i&gt;empty&lt;/i&gt;`,
	} {
		if !strings.Contains(html, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	for _, bad := range []string{"<b>no-returns", "<i>empty"} {
		if strings.Contains(html, bad) {
			t.Errorf("page holds the run-derived %q unescaped", bad)
		}
	}
	if n := strings.Count(html, `class="veg"`); n != 4 {
		t.Errorf("%d group tiles, want 4", n)
	}
	if n := strings.Count(html, `class="ver"`); n != 6 {
		t.Errorf("%d run tiles, want 6 (a1–a3, b1, b2, outlier)", n)
	}
}

// TestBatchWithoutValueErrorMapsHasNoSection: a batch whose runs had no
// returns analysis gets no value-error section (and no empty one).
func TestBatchWithoutValueErrorMapsHasNoSection(t *testing.T) {
	res, g, out := errorBatch(t, map[string][]errorRunSpec{"x": {{"a", math.NaN(), false, pendulumPlaneJSON}}}, []string{"x"})
	if em := readErrorMaps(res, g, out); em != nil {
		t.Fatalf("maps read from runs without any: %+v", em)
	}
	path := filepath.Join(out, IndexFileName)
	if err := WriteIndex(path, res, g); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	if strings.Contains(string(page), `id="value-error"`) {
		t.Error("a page without value-error maps has their section")
	}
}

// TestResampleAveragesBlocksAndRepeatsCells: a larger map is averaged in
// blocks (NaN left out), a smaller one repeated, so maps of any grid on
// one plane average cell by cell.
func TestResampleAveragesBlocksAndRepeatsCells(t *testing.T) {
	nan := float32(math.NaN())
	got := resample([]float32{1, 3, 5, nan, 2, 4, 6, 8}, 4, 2, 2, 1)
	if got[0] != 2.5 || got[1] != 19.0/3 {
		t.Errorf("4 × 2 to 2 × 1: %v, want [2.5 6.333]", got)
	}
	got = tileOf([]float32{1, 2, 3, 4}, 2, 2, 4)
	want := []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("2 × 2 to 4 × 4: %v, want %v", got, want)
		}
	}
}

// TestFixedNoteNamesTheFixedValues: the section's line under the tiles
// names the values held off the plane, and nothing when there are none.
func TestFixedNoteNamesTheFixedValues(t *testing.T) {
	pl := &jobs.Plane{Fixed: []jobs.FixedValue{{Index: 1, Name: "sin θ", Value: 0.5}, {Index: 2, Name: "θ̇", Value: -1}}}
	if got, want := fixedNote(pl), "fixed sin θ = 0.5, θ̇ = -1"; got != want {
		t.Errorf("fixedNote = %q, want %q", got, want)
	}
	if got := fixedNote(&jobs.Plane{}); got != "" {
		t.Errorf("fixedNote of a plane with nothing fixed = %q", got)
	}
}
