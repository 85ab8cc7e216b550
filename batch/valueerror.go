package batch

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/plotting"
	"github.com/rleval/rleval/stats"
)

// valueErrorFile is the returns job's map of Q(s, π(s)) − V(s) over the
// maps' plane, in a run's output folder.
const valueErrorFile = "value_error_grid.npy"

// errorScalePercentile is the percentile of |Q − V| over every run's tile
// cells that bounds the shared colour scale: one run whose critic diverged
// would otherwise wash every other map out to white.
const errorScalePercentile = 99

// maxNoteNames is the most run names a note on the page lists.
const maxNoteNames = 8

// planeKey identifies a plane: two runs' maps compare cell by cell when
// their keys are equal.
func planeKey(v *jobs.PlaneView) string {
	b, _ := json.Marshal(v) // plain fields: cannot fail
	return string(b)
}

// readRunPlane reads the plane from the run output folder dir's
// summary.json (nil when it records none).
func readRunPlane(dir string) (*jobs.PlaneView, error) {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	var s struct {
		Plane *jobs.PlaneView `json:"plane"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "summary.json"), err)
	}
	return s.Plane, nil
}

// errorMaps is what the batch page's value-error section shows: each
// group's mean map and its runs' maps, all on the plane most runs share,
// reduced to thumbSide² tiles, and the runs left out.
type errorMaps struct {
	plane *jobs.Plane
	// scale bounds the shared colour scale, −scale to +scale.
	scale  float64
	groups []errorGroup
	// Runs left out: without a value-error map, because no returns
	// analysis ran (noReturns) or it had no critic or plane (noMap); or
	// on another plane than the page's (otherPlane).
	noReturns, noMap, otherPlane []string
}

// errorGroup is one group's tiles: mean (nil when none of its runs has a
// map on the page's plane) over n of its total runs, and the tiles of
// those n runs, best first.
type errorGroup struct {
	name     string
	mean     []float32
	n, total int
	runs     []thumbRun // maps[0] is the run's tile
}

// errorRun is one run's tile and the key of its plane ("" without a map).
type errorRun struct {
	thumbRun
	plane string
}

// readErrorMaps reads every grouped run's value_error_grid.npy and the
// plane from its summary.json (runs' Out resolved against base), and
// averages each group's maps on the plane most maps share. It returns nil
// when no run has a map.
func readErrorMaps(res *Result, g *Groups, base string) *errorMaps {
	byOut := map[string]*jobs.RunSummary{}
	for i := range res.Runs {
		byOut[res.Runs[i].Out] = &res.Runs[i]
	}
	em := &errorMaps{}
	planes, count := map[string]*jobs.PlaneView{}, map[string]int{}
	blocks := make([][]errorRun, len(g.Groups))
	for gi, gr := range g.Groups {
		for i, out := range gr.Outs {
			r := errorRun{thumbRun: thumbRun{name: gr.Runs[i], score: float64(gr.Scores[i]), value: numCell(float64(gr.Scores[i]))}}
			if s := byOut[out]; s != nil && s.Status != jobs.StatusFailed {
				r.link = relURL(out) + "/" + ReportFileName + "#returns"
			}
			dir := runDir(base, out)
			v, nx, ny, err := readMapNPY(filepath.Join(dir, valueErrorFile))
			pl, perr := readRunPlane(dir)
			switch {
			case err != nil && !exists(filepath.Join(dir, "returns.json")):
				em.noReturns = append(em.noReturns, r.name)
			case err != nil:
				em.noMap = append(em.noMap, r.name)
			case perr != nil || pl == nil:
				em.noMap = append(em.noMap, r.name+" (its summary.json names no plane)")
			default:
				r.plane = planeKey(pl)
				planes[r.plane] = pl
				count[r.plane]++
				r.maps[0], r.nx[0], r.ny[0] = tileOf(v, nx, ny, thumbSide), thumbSide, thumbSide
			}
			blocks[gi] = append(blocks[gi], r)
		}
	}
	if len(count) == 0 {
		return nil
	}
	main := ""
	for k, n := range count {
		if n > count[main] || n == count[main] && k < main {
			main = k
		}
	}
	em.plane = planes[main].Plane()
	em.average(g, blocks, main)
	return em
}

// average fills em's groups with the tiles of the runs on the plane main
// and their cell-wise means, and sets the shared scale.
func (em *errorMaps) average(g *Groups, blocks [][]errorRun, main string) {
	cells := 0
	for _, runs := range blocks {
		for _, r := range runs {
			if r.plane == main {
				cells += len(r.maps[0])
			}
		}
	}
	abs := make([]float64, 0, cells)
	for gi, runs := range blocks {
		eg := errorGroup{name: g.Groups[gi].Name, total: len(runs)}
		sum, n := make([]float64, thumbSide*thumbSide), make([]int, thumbSide*thumbSide)
		for _, r := range runs {
			if r.plane == "" {
				continue
			}
			if r.plane != main {
				em.otherPlane = append(em.otherPlane, r.name)
				continue
			}
			for i, x := range r.maps[0] {
				if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
					sum[i] += f
					n[i]++
					abs = append(abs, math.Abs(f))
				}
			}
			eg.runs = append(eg.runs, r.thumbRun)
		}
		slices.SortStableFunc(eg.runs, bestFirst)
		if eg.n = len(eg.runs); eg.n > 0 {
			eg.mean = make([]float32, len(sum))
			for i := range sum {
				eg.mean[i] = float32(math.NaN())
				if n[i] > 0 {
					eg.mean[i] = float32(sum[i] / float64(n[i]))
				}
			}
		}
		em.groups = append(em.groups, eg)
	}
	em.scale = 1
	if s := stats.Percentile(abs, errorScalePercentile); s > 0 && !math.IsInf(s, 0) {
		em.scale = s
	}
}

// resample averages an ny × nx map (row 0 at the bottom) into ty × tx
// cells: each the mean of the finite values of the block it covers (one
// map cell when the map is smaller), NaN where there are none.
func resample(v []float32, nx, ny, tx, ty int) []float32 {
	out := make([]float32, tx*ty)
	for y := range ty {
		y0, y1 := y*ny/ty, max((y+1)*ny/ty, y*ny/ty+1)
		for x := range tx {
			x0, x1 := x*nx/tx, max((x+1)*nx/tx, x*nx/tx+1)
			sum, n := 0.0, 0
			for yy := y0; yy < min(y1, ny); yy++ {
				for xx := x0; xx < min(x1, nx); xx++ {
					if f := float64(v[yy*nx+xx]); !math.IsNaN(f) && !math.IsInf(f, 0) {
						sum += f
						n++
					}
				}
			}
			out[y*tx+x] = float32(math.NaN())
			if n > 0 {
				out[y*tx+x] = float32(sum / float64(n))
			}
		}
	}
	return out
}

// tileOf resamples a map to side × side cells, so that maps of any grid
// on one plane average cell by cell.
func tileOf(v []float32, nx, ny, side int) []float32 { return resample(v, nx, ny, side, side) }

// runDir is the output folder of a run whose Out is out, resolved
// against the batch page's folder base unless absolute.
func runDir(base, out string) string {
	if filepath.IsAbs(filepath.FromSlash(out)) {
		return filepath.FromSlash(out)
	}
	return filepath.Join(base, filepath.FromSlash(out))
}

// exists says whether path is there.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// fixedNote says which values the plane holds fixed ("fixed sin θ = 0");
// "" for none.
func fixedNote(pl *jobs.Plane) string {
	if f := pl.FixedText(); f != "" {
		return "fixed " + f
	}
	return ""
}

// errorSection puts em on the page: the groups' mean tiles and the runs'
// tiles as two sprite sheets on the shared scale, and notes on the runs
// left out.
func errorSection(p *plotting.BatchPage, em *errorMaps, metric string) error {
	xlo, xhi, ylo, yhi := em.plane.Extent()
	m := &plotting.ErrorMaps{Scale: em.scale, Cols: sheetCols, Side: thumbSide,
		XLabel: em.plane.X.Label, YLabel: em.plane.Y.Label, XLo: xlo, XHi: xhi, YLo: ylo, YHi: yhi,
		Fixed: fixedNote(em.plane),
		ScaleNote: fmt.Sprintf("One colour scale for every tile: ±%s, the %dth percentile of |Q − V| over all runs' tile cells (colours saturate beyond it).",
			strconv.FormatFloat(em.scale, 'g', 4, 64), errorScalePercentile)}
	var means, tiles [][]float32
	for gi, eg := range em.groups {
		t := plotting.ErrorTile{Name: eg.name, Tile: -1, Title: fmt.Sprintf("%s\nmean of the value-error maps of its %s", eg.name, plural.N(eg.n, "run"))}
		if eg.n < eg.total {
			t.Title = fmt.Sprintf("%s\nmean of the value-error maps of %d of its %s (the notes say why the others are left out)", eg.name, eg.n, plural.N(eg.total, "run"))
		}
		if eg.mean != nil {
			t.Tile = gi
			t.Text = fmt.Sprintf("%s, mean %s", plural.N(eg.n, "run"), signed(meanFinite(eg.mean)))
		} else {
			t.Text = "no map"
		}
		m.Groups = append(m.Groups, t)
		means = append(means, eg.mean)
		var rs []plotting.ErrorTile
		for _, r := range eg.runs {
			rs = append(rs, plotting.ErrorTile{Name: r.name, Link: r.link, Tile: len(tiles),
				Text: fmt.Sprintf("mean %s · %s %s", signed(meanFinite(r.maps[0])), metric, r.value), Title: r.name + ": open its returns"})
			tiles = append(tiles, r.maps[0])
		}
		m.Runs = append(m.Runs, rs)
	}
	var err error
	if m.GroupSheet, err = errorSheet(means, em.scale); err != nil {
		return err
	}
	if m.RunSheet, err = errorSheet(tiles, em.scale); err != nil {
		return err
	}
	m.Notes = errorNotes(em)
	p.ValueErrors = m
	return nil
}

// errorSheet draws tiles (thumbSide² each, nil for none) as a sprite sheet
// on the scale ±scale.
func errorSheet(tiles [][]float32, scale float64) ([]byte, error) {
	if len(tiles) == 0 {
		return nil, nil
	}
	side := make([]int, len(tiles))
	for i := range side {
		side[i] = thumbSide
	}
	return plotting.ThumbSheet(tiles, side, side, thumbSide, sheetCols, -scale, scale, plotting.RdBuR())
}

// errorNotes say which runs the value-error maps leave out, and why.
func errorNotes(em *errorMaps) []string {
	var notes []string
	add := func(names []string, why string) {
		if len(names) == 0 {
			return
		}
		list := strings.Join(names[:min(len(names), maxNoteNames)], ", ")
		if len(names) > maxNoteNames {
			list += fmt.Sprintf(" and %d more", len(names)-maxNoteNames)
		}
		notes = append(notes, fmt.Sprintf("%s %s, left out: %s.", plural.N(len(names), "run"), why, list))
	}
	add(em.noReturns, "had no returns analysis (an environment rleval cannot roll out, --no-returns, or a failed run), so no value-error map")
	add(em.noMap, "had a returns analysis but no value-error map (no critic or no plane)")
	add(em.otherPlane, "drew their maps on another plane than "+em.plane.Describe())
	return notes
}

// meanFinite is the mean of v's finite values (NaN for none).
func meanFinite(v []float32) float64 {
	sum, n := 0.0, 0
	for _, x := range v {
		if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
			sum += f
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// signed formats v with its sign ("+3.2", "−0.5"), "—" for NaN.
func signed(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v < 0:
		return "−" + strconv.FormatFloat(-v, 'g', 3, 64)
	}
	return "+" + strconv.FormatFloat(v, 'g', 3, 64)
}
