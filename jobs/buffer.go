package jobs

import (
	"github.com/rleval/rleval/plotting"
)

// bufferJob: analyses 14–17: replay-buffer statistics, histograms of every
// observation value, action and reward, the phase portrait coloured by
// action, and the state-coverage 2-D histogram.
var bufferJob = Job{Name: "buffer", Needs: needBuffer, Run: runBuffer}

// bufferStats is buffer.json.
type bufferStats struct {
	Size         int          `json:"size"`
	Capacity     int          `json:"capacity"`
	Index        int          `json:"index"`
	Wrapped      bool         `json:"wrapped"`
	Obs          []namedStats `json:"obs"`
	Action       []namedStats `json:"action"`
	Reward       Stats        `json:"reward"`
	DonesCount   int          `json:"dones_count"`
	DonesPercent num          `json:"dones_percent"`
}

type namedStats struct {
	Name string `json:"name"`
	Stats
}

func runBuffer(c *Context) error {
	b := c.Run.Buffer
	st := bufferStats{Size: b.Size, Capacity: b.Capacity, Index: b.Index, Wrapped: b.Size == b.Capacity}
	names := c.Preset.ObsNames
	for d := 0; d < b.ObsDim; d++ {
		name := ""
		if d < len(names) {
			name = names[d]
		}
		st.Obs = append(st.Obs, namedStats{name, statsOf(b.Obs, d, b.ObsDim)})
	}
	for d := 0; d < b.ActDim; d++ {
		st.Action = append(st.Action, namedStats{"action", statsOf(b.Actions, d, b.ActDim)})
	}
	st.Reward = statsOf(b.Rewards, 0, 1)
	for _, d := range b.Dones {
		if d {
			st.DonesCount++
		}
	}
	if b.Size > 0 {
		st.DonesPercent = num(100 * float64(st.DonesCount) / float64(b.Size))
	}
	if err := c.writeJSON("buffer.json", st); err != nil {
		return err
	}
	// Phase-plane coordinates of every row (θ in degrees and θ̇ for the
	// pendulum), for the phase portrait and the coverage histogram.
	px, py := make([]float32, b.Size), make([]float32, b.Size)
	for i := 0; i < b.Size; i++ {
		x, y := c.Preset.Project(b.Obs[i*b.ObsDim : (i+1)*b.ObsDim])
		px[i], py[i] = float32(x), float32(y)
	}
	nb := c.Opt.CoverageBins
	counts, xe, ye := plotting.Histogram2D(px, py, nb, nb)
	// coverage.npy follows np.histogram2d: axis 0 is x (θ), axis 1 is y.
	cov := make([]float32, nb*nb)
	for iy := 0; iy < nb; iy++ {
		for ix := 0; ix < nb; ix++ {
			cov[ix*nb+iy] = float32(counts[iy*nb+ix])
		}
	}
	if err := WriteNPY(c.path("coverage.npy"), cov, nb, nb); err != nil {
		return err
	}
	return c.plotBuffer(st, px, py, counts, xe, ye)
}
