package jobs

import (
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// page collects the report of one run as the jobs produce it.
type page struct {
	run *loaders.Run
}

func newPage(r *loaders.Run) *page { return &page{run: r} }

func (p *page) write(c *Context) error { return nil }

func (c *Context) plotCurves(lg *loaders.TrainLog) error                        { return nil }
func (c *Context) plotModels(infos []modelInfo, l2 *l2Result) error             { return nil }
func (c *Context) plotPolicy(g *graph.Grid, line, target, diff []float32) error { return nil }
func (c *Context) plotQValues(st qStats) error                                  { return nil }
func (c *Context) plotMaps(g *graph.Grid, maps []namedMap) error                { return nil }
func (c *Context) plotBuffer(st bufferStats, px, py []float32, counts []float64, xe, ye []float64) error {
	return nil
}
