package jobs

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// MapKinds lists what `rleval heatmap --what` draws.
var MapKinds = []string{"policy", "target", "diff", "q", "q1", "q2", "q-disagreement"}

// BigMap asks for one high-resolution map.
type BigMap struct {
	// What is one of MapKinds.
	What string
	// N is the grid's side: N×N cells.
	N int
	// Plane chooses the map's plane (--preset, --axes, --fix).
	Plane PlaneSpec
	// Out is the PNG path; the .npy is written beside it, and a figure with
	// axes and colour bar as <name>-figure.png.
	Out string
	// Engine evaluates the networks.
	Engine *graph.Engine
}

// Validate checks a map asked for on a command line, naming the flag of a
// bad value; the error wraps ErrUsage.
func (m BigMap) Validate() error {
	if !slices.Contains(MapKinds, m.What) {
		return fmt.Errorf("--what %q: want one of %s: %w", m.What, strings.Join(MapKinds, ", "), ErrUsage)
	}
	if m.N < 2 || m.N > 1<<16 {
		return fmt.Errorf("--grid %d: want 2 to 65536: %w", m.N, ErrUsage)
	}
	if !strings.HasSuffix(m.Out, ".png") {
		return fmt.Errorf("--out %q: want a .png file name: %w", m.Out, ErrUsage)
	}
	return nil
}

// BigMapResult says what BigMap wrote.
type BigMapResult struct {
	PNG, NPY, Figure string
	Min, Max         float64
}

// blockCells bounds the cells evaluated per block: all buffers of a block
// stay a few tens of MB whatever N is. A variable so that a test can make
// a small map take several blocks.
var blockCells = 1 << 20

// rowView is rows off..off+n-1 of a Rows.
type rowView struct {
	src   graph.Rows
	off   int
	count int
}

func (v rowView) Len() int                         { return v.count }
func (v rowView) Dim() int                         { return v.src.Dim() }
func (v rowView) Fill(start, n int, dst []float32) { v.src.Fill(v.off+start, n, dst) }

// bigMapNeeds lists the networks each map needs.
var bigMapNeeds = map[string][]loaders.Role{
	"policy": {loaders.RoleActor}, "target": {loaders.RoleActorTarget}, "diff": {loaders.RoleActor, loaders.RoleActorTarget},
	"q": {loaders.RoleActor, loaders.RoleCritic1}, "q1": {loaders.RoleActor, loaders.RoleCritic1},
	"q2": {loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2}, "q-disagreement": {loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2},
}

// RenderBigMap evaluates a map over an N×N grid block by block, streams it
// to .npy, then colours it into a full-resolution PNG (one pixel per cell,
// origin lower-left) and a figure with axes, reading the array back row by
// row. Memory stays bounded by a block and one image, not by N².
func RenderBigMap(ctx context.Context, r *loaders.Run, m BigMap) (*BigMapResult, error) {
	need := bigMapNeeds[m.What]
	if need == nil {
		return nil, fmt.Errorf("unknown map %q: want one of %s", m.What, strings.Join(MapKinds, ", "))
	}
	for _, role := range need {
		if r.Net(role) == nil {
			return nil, fmt.Errorf("map %s needs the %s network: %v", m.What, role, r.Nets[role].Err)
		}
	}
	pl, err := ResolvePlane(r, m.Plane)
	if err != nil {
		return nil, err
	}
	g := pl.Grid(m.N)
	res := &BigMapResult{PNG: m.Out, NPY: strings.TrimSuffix(m.Out, ".png") + ".npy",
		Figure: strings.TrimSuffix(m.Out, ".png") + "-figure.png", Min: math.Inf(1), Max: math.Inf(-1)}
	if err := writeBigMap(ctx, r, m, g, res); err != nil {
		return nil, err
	}
	return res, drawBigMap(r, m, pl, g, res)
}

// writeBigMap evaluates the map block by block into res.NPY and records
// its finite range.
func writeBigMap(ctx context.Context, r *loaders.Run, m BigMap, g *graph.Grid, res *BigMapResult) error {
	nx, ny := g.X.N, g.Y.N
	rowsPerBlock := max(1, blockCells/nx)
	ev := newBlockEval(r, m, rowsPerBlock*nx)
	if eng := m.Engine; eng != nil && eng.Progress != nil {
		defer wholeMapProgress(eng, m.What, nx*ny)()
	}
	return WriteNPYStream(res.NPY, []int{ny, nx}, func(s *NPYStream) error {
		for y0 := 0; y0 < ny; y0 += rowsPerBlock {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(rowsPerBlock, ny-y0) * nx
			vals, err := ev.eval(rowView{g, y0 * nx, n}, n)
			if err != nil {
				return err
			}
			for _, v := range vals {
				if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
					res.Min, res.Max = math.Min(res.Min, f), math.Max(res.Max, f)
				}
			}
			if err := s.Write(vals); err != nil {
				return err
			}
		}
		return nil
	})
}

// blockEval evaluates one map over blocks of at most cap cells, reusing
// its buffers.
type blockEval struct {
	what                  string
	eng                   *graph.Engine
	actor, target, c1, c2 *loaders.Network
	k                     int
	bufA, bufB            []float32
	q1, q2, qm, out       []float32
}

// wholeMapProgress makes eng report the progress of the whole map of
// cells, over all its blocks and evaluations ("diff" evaluates two
// networks), instead of each evaluation's from 0 to 100 %, until the
// returned function restores its hook.
func wholeMapProgress(eng *graph.Engine, what string, cells int) (restore func()) {
	report := eng.Progress
	passes := 1
	if what == "diff" {
		passes = 2
	}
	whole := cells * passes
	sum, prev := 0, 0
	eng.Progress = func(done, total int) {
		sum += done - prev
		prev = done
		if done >= total { // this evaluation is over; the next starts at 0
			prev = 0
		}
		report(min(sum, whole), whole)
	}
	return func() { eng.Progress = report }
}

func newBlockEval(r *loaders.Run, m BigMap, cells int) *blockEval {
	e := &blockEval{what: m.What, eng: m.Engine, actor: r.Net(loaders.RoleActor), target: r.Net(loaders.RoleActorTarget), k: 1}
	e.c1, e.c2 = r.Net(loaders.RoleCritic1), r.Net(loaders.RoleCritic2)
	if e.actor != nil {
		e.k = e.actor.ActDim
	} else if e.target != nil {
		e.k = e.target.ActDim
	}
	e.bufA, e.bufB = make([]float32, cells*e.k), make([]float32, cells*e.k)
	e.q1, e.out = make([]float32, cells), make([]float32, cells)
	if e.c2 != nil {
		e.q2, e.qm = make([]float32, cells), make([]float32, cells)
	}
	return e
}

func (e *blockEval) eval(view graph.Rows, n int) ([]float32, error) {
	k := e.k
	switch e.what {
	case "policy", "target", "diff":
		net := e.actor
		if e.what == "target" {
			net = e.target
		}
		if err := e.eng.Policy(net, view, e.bufA[:n*k]); err != nil {
			return nil, err
		}
		vals := firstOf(e.bufA[:n*k], k, e.out[:n])
		if e.what == "diff" {
			if err := e.eng.Policy(e.target, view, e.bufB[:n*k]); err != nil {
				return nil, err
			}
			for i := range vals {
				vals[i] = e.bufA[i*k] - e.bufB[i*k]
			}
		}
		return vals, nil
	}
	var q2, qm []float32
	if e.c2 != nil {
		q2, qm = e.q2[:n], e.qm[:n]
	}
	if err := e.eng.QPolicy(e.actor, e.c1, e.c2, view, e.bufA[:n*k], e.q1[:n], q2, qm); err != nil {
		return nil, err
	}
	switch e.what {
	case "q":
		return combineQ(e.c1, e.q1[:n], q2, qm), nil
	case "q1":
		return e.q1[:n], nil
	case "q2":
		return q2, nil
	}
	vals := e.out[:n]
	for i := range vals {
		vals[i] = e.q1[i] - q2[i]
	}
	return vals, nil
}

// drawBigMap colours res.NPY into the full-resolution PNG and the figure
// with axes, reading the array back row by row.
func drawBigMap(r *loaders.Run, m BigMap, pl *Plane, g *graph.Grid, res *BigMapResult) error {
	nx, ny := g.X.N, g.Y.N
	vmin, vmax := res.Min, res.Max
	cmap, label := plotting.Viridis(), "Q-value"
	switch m.What {
	case "policy", "target":
		cmap, label = plotting.RdBuR(), "action"
	case "diff", "q-disagreement":
		cmap = plotting.RdBuR()
		a := math.Max(math.Abs(vmin), math.Abs(vmax))
		vmin, vmax = -a, a
		label = map[string]string{"diff": "action − action_target", "q-disagreement": "Q1 − Q2"}[m.What]
	}
	if !(vmin < vmax) {
		vmin, vmax = vmin-0.5, vmin+0.5
	}
	f, err := os.Open(res.NPY)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := int64(len(npyHeader([]int{ny, nx})))
	raw := make([]byte, 4*nx)
	readRow := func(y int, dst []float32) error {
		if _, err := f.ReadAt(raw, hdr+int64(y)*int64(4*nx)); err != nil && err != io.EOF {
			return fmt.Errorf("read back %s: %w", res.NPY, err)
		}
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return nil
	}
	if err := plotting.RenderRaster(res.PNG, nx, ny, readRow, vmin, vmax, cmap); err != nil {
		return err
	}
	small, sx, sy, err := plotting.DownsampleRows(nx, ny, plotting.DefaultMaxPixels, readRow)
	if err != nil {
		return err
	}
	xlo, xhi, ylo, yhi := pl.Extent()
	fig, err := plotting.Heatmap(small, sx, sy, plotting.HeatmapOptions{
		Title:  fmt.Sprintf("%s — %s, %d×%d grid", r.Name, m.What, nx, ny),
		XLabel: plotLabel(pl.X.Label), YLabel: plotLabel(pl.Y.Label), ColorLabel: label, Colormap: cmap,
		XMin: xlo, XMax: xhi, YMin: ylo, YMax: yhi, VMin: vmin, VMax: vmax})
	fig, err = withTicks(fig, err, pl)
	if err != nil {
		return err
	}
	decorateMap(fig, pl)
	png, err := fig.PNG()
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(res.Figure, png)
}

// firstOf copies the first of k values per row into dst (or returns v
// itself when k is 1).
func firstOf(v []float32, k int, dst []float32) []float32 {
	if k == 1 {
		return v
	}
	for i := range dst {
		dst[i] = v[i*k]
	}
	return dst
}
