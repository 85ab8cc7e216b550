package jobs

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/rleval/rleval/internal/atomicfile"
	"io"
	"math"
	"os"
	"strings"

	"github.com/rleval/rleval/graph"
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
	// XRange and YRange override the preset's axes (radians and rad/s for
	// the pendulum) when Lo < Hi.
	XRange, YRange [2]float64
	// Out is the PNG path; the .npy is written beside it, and a figure with
	// axes and colour bar as <name>-figure.png.
	Out string
	// Engine evaluates the networks.
	Engine *graph.Engine
}

// BigMapResult says what BigMap wrote.
type BigMapResult struct {
	PNG, NPY, Figure string
	Min, Max         float64
}

// blockCells bounds the cells evaluated per block: all buffers of a block
// stay a few tens of MB whatever N is.
const blockCells = 1 << 20

// rowView is rows off..off+n-1 of a Rows.
type rowView struct {
	src   graph.Rows
	off   int
	count int
}

func (v rowView) Len() int                         { return v.count }
func (v rowView) Dim() int                         { return v.src.Dim() }
func (v rowView) Fill(start, n int, dst []float32) { v.src.Fill(v.off+start, n, dst) }

// RenderBigMap evaluates a map over an N×N grid block by block, streams it
// to .npy, then colours it into a full-resolution PNG (one pixel per cell,
// origin lower-left) and a figure with axes, reading the array back row by
// row. Memory stays bounded by a block and one image, not by N².
func RenderBigMap(ctx context.Context, r *loaders.Run, m BigMap) (*BigMapResult, error) {
	p := PresetFor(r)
	if p.Grid == nil {
		return nil, errNoGrid
	}
	need := map[string][]loaders.Role{
		"policy": {loaders.RoleActor}, "target": {loaders.RoleActorTarget}, "diff": {loaders.RoleActor, loaders.RoleActorTarget},
		"q": {loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2}, "q1": {loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2},
		"q2": {loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2}, "q-disagreement": {loaders.RoleActor, loaders.RoleCritic1, loaders.RoleCritic2},
	}[m.What]
	if need == nil {
		return nil, fmt.Errorf("unknown map %q: want one of %s", m.What, strings.Join(MapKinds, ", "))
	}
	for _, role := range need {
		if r.Nets[role] == nil {
			return nil, fmt.Errorf("map %s needs the %s network: %v", m.What, role, r.NetErrs[role])
		}
	}
	g := p.Grid(m.N)
	if m.XRange[0] < m.XRange[1] {
		g.X.Lo, g.X.Hi = m.XRange[0], m.XRange[1]
	}
	if m.YRange[0] < m.YRange[1] {
		g.Y.Lo, g.Y.Hi = m.YRange[0], m.YRange[1]
	}
	res := &BigMapResult{PNG: m.Out, NPY: strings.TrimSuffix(m.Out, ".png") + ".npy",
		Figure: strings.TrimSuffix(m.Out, ".png") + "-figure.png", Min: math.Inf(1), Max: math.Inf(-1)}
	nx, ny := g.X.N, g.Y.N
	rowsPerBlock := max(1, blockCells/nx)
	actor := r.Nets[loaders.RoleActor]
	target := r.Nets[loaders.RoleActorTarget]
	c1, c2 := r.Nets[loaders.RoleCritic1], r.Nets[loaders.RoleCritic2]
	k := 1
	if actor != nil {
		k = actor.ActDim
	} else if target != nil {
		k = target.ActDim
	}
	bufA, bufB := make([]float32, rowsPerBlock*nx*k), make([]float32, rowsPerBlock*nx*k)
	q1, q2, qm := make([]float32, rowsPerBlock*nx), make([]float32, rowsPerBlock*nx), make([]float32, rowsPerBlock*nx)
	out := make([]float32, rowsPerBlock*nx)
	err := WriteNPYStream(res.NPY, []int{ny, nx}, func(s *NPYStream) error {
		for y0 := 0; y0 < ny; y0 += rowsPerBlock {
			if err := ctx.Err(); err != nil {
				return err
			}
			rows := min(rowsPerBlock, ny-y0)
			n := rows * nx
			view := rowView{g, y0 * nx, n}
			var vals []float32
			var err error
			switch m.What {
			case "policy", "target", "diff":
				net := actor
				if m.What == "target" {
					net = target
				}
				if err = m.Engine.Policy(net, view, bufA[:n*k]); err != nil {
					return err
				}
				vals = firstOf(bufA[:n*k], k, out[:n])
				if m.What == "diff" {
					if err = m.Engine.Policy(target, view, bufB[:n*k]); err != nil {
						return err
					}
					for i := range vals {
						vals[i] = bufA[i*k] - bufB[i*k]
					}
				}
			default:
				if err = m.Engine.QPolicy(actor, c1, c2, view, bufA[:n*k], q1[:n], q2[:n], qm[:n]); err != nil {
					return err
				}
				switch m.What {
				case "q":
					vals = qm[:n]
				case "q1":
					vals = q1[:n]
				case "q2":
					vals = q2[:n]
				default:
					vals = out[:n]
					for i := range vals {
						vals[i] = q1[i] - q2[i]
					}
				}
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
	if err != nil {
		return nil, err
	}
	vmin, vmax := res.Min, res.Max
	cmap, label := plotting.Viridis(), "Q-value"
	switch m.What {
	case "policy", "target":
		cmap, label = plotting.RdBuR(), "action"
	case "diff", "q-disagreement":
		cmap = plotting.RdBuR()
		a := math.Max(math.Abs(vmin), math.Abs(vmax))
		vmin, vmax = -a, a
		if m.What == "diff" {
			label = "action − action_target"
		} else {
			label = "Q1 − Q2"
		}
	}
	if !(vmin < vmax) {
		vmin, vmax = vmin-0.5, vmin+0.5
	}
	f, err := os.Open(res.NPY)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	small, sx, sy, err := plotting.DownsampleRows(nx, ny, plotting.DefaultMaxPixels, readRow)
	if err != nil {
		return nil, err
	}
	xs, ys := 1.0, 1.0
	if p.Name == "pendulum" {
		xs = 180 / math.Pi // θ is drawn in degrees
	}
	fig, err := plotting.Heatmap(small, sx, sy, plotting.HeatmapOptions{
		Title:  fmt.Sprintf("%s — %s, %d×%d grid", r.Name, m.What, nx, ny),
		XLabel: plotLabel(p.XLabel), YLabel: plotLabel(p.YLabel), ColorLabel: label, Colormap: cmap,
		XMin: g.X.Lo * xs, XMax: g.X.Hi * xs, YMin: g.Y.Lo * ys, YMax: g.Y.Hi * ys, VMin: vmin, VMax: vmax})
	if err != nil {
		return nil, err
	}
	png, err := fig.PNG()
	if err != nil {
		return nil, err
	}
	return res, atomicfile.WriteBytes(res.Figure, png)
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
