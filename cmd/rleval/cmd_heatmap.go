package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/loaders"
)

func cmdHeatmap(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("heatmap", "[RUN_DIR]", "Computes one map over an N×N state grid block by block and writes FILE.png at full\nresolution (one pixel per cell, origin lower-left), FILE.npy (float32, (N, N), the\nsecond axis as rows) and FILE-figure.png (axes and colour bar). Memory stays bounded: 4096² and\n16384² grids work on a laptop. --axes, --fix and --preset choose the plane as in run.", stderr)
	var ef evalFlags
	ef.register(fs, false)
	what := fs.String("what", "q", "the map: "+strings.Join(jobs.MapKinds, ", "))
	fs.Lookup("grid").Value.Set("4096")
	fs.Lookup("grid").DefValue = "4096"
	out := fs.String("out", "", "output PNG `FILE` (default <what>_<N>.png)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("heatmap takes one run directory, got %d", len(pos))
	}
	m := jobs.BigMap{What: *what, N: ef.grid, Out: *out}
	if m.Out == "" {
		m.Out = fmt.Sprintf("%s_%d.png", *what, ef.grid)
	}
	if m.Plane, err = ef.plane(); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return asUsage(err)
	}
	dir, err := runDirArg(pos)
	if err != nil {
		return err
	}
	lo, err := ef.load.options()
	if err != nil {
		return err
	}
	// The buffer is read only when the plane's defaults come from it.
	noBuffer := lo
	noBuffer.SkipBuffer = true
	r, err := loaders.LoadRun(dir, noBuffer)
	if err != nil {
		return err
	}
	if jobs.PlaneNeedsBuffer(r, m.Plane) {
		if r, err = loaders.LoadRun(dir, lo); err != nil {
			return err
		}
	}
	p := newProgress(stderr, ef.quiet)
	if m.Engine, err = ef.engine(p); err != nil {
		return err
	}
	defer m.Engine.Backend().Close()
	ctx, stop := interruptible()
	defer stop()
	res, err := jobs.RenderBigMap(ctx, r, m)
	if errors.Is(err, jobs.ErrUsage) {
		return usagef("%s: %v", dir, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "%s: %s map on a %d×%d grid, values %.6g … %.6g\n  %s\n  %s\n  %s\n", r.Name, m.What, m.N, m.N, res.Min, res.Max, res.PNG, res.NPY, res.Figure)
	return nil
}
