package plotting

import (
	"fmt"

	"gonum.org/v1/plot/vg"
)

// This file holds the notebook's figures with their English titles and
// labels, so that every job draws them the same way.

// StepLabel is the x label of every training curve.
const StepLabel = "Training step"

// RewardMeanFigure draws eval reward_mean against step with the
// reward_min..reward_max band.
func RewardMeanFigure(step, mean, lo, hi []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Evaluation: mean reward per step", XLabel: StepLabel, YLabel: "Reward (mean per step)",
		Bands:        []Band{{Label: "reward min–max", X: step, Lo: lo, Hi: hi, Color: TabBlue}},
		LegendBottom: true,
	}, Series{Label: "reward_mean", X: step, Y: mean, Color: TabBlue, Markers: true})
}

// RewardSumFigure draws eval reward_sum against step.
func RewardSumFigure(step, sum []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Evaluation: total reward per episode", XLabel: StepLabel, YLabel: "Reward (sum)",
		LegendBottom: true,
	}, Series{Label: "reward_sum", X: step, Y: sum, Color: TabGreen, Markers: true})
}

// CriticLossFigure draws loss_q1 (critic 1, blue) or loss_q2
// (critic 2, green) against step.
func CriticLossFigure(critic int, step, loss []float64) (*Figure, error) {
	c := TabBlue
	if critic == 2 {
		c = TabGreen
	}
	return Lines(LineOptions{
		Title: fmt.Sprintf("Critic Q%d Loss", critic), XLabel: StepLabel, YLabel: "Loss",
	}, Series{Label: fmt.Sprintf("Q%d Loss", critic), X: step, Y: loss, Color: c, Alpha: 0.7, Width: vg.Points(0.8)})
}

// ActorLossFigure draws actor_loss against step (only the rows that
// have it).
func ActorLossFigure(step, loss []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Actor Loss", XLabel: StepLabel, YLabel: "Loss",
	}, Series{Label: "Actor Loss", X: step, Y: loss, Color: TabRed, Alpha: 0.7, Width: vg.Points(0.8)})
}

// BufferSizeFigure draws buffer_size against step.
func BufferSizeFigure(step, size []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Replay buffer size", XLabel: StepLabel, YLabel: "Buffer size",
	}, Series{X: step, Y: size, Color: TabPurple})
}

// CoverageFigure draws a 2-D histogram of states, counts from
// Histogram2D(x, y, nx, ny) with hot_r over the edges.
func CoverageFigure(counts []float64, nx, ny int, xedges, yedges []float64, xlabel, ylabel string) (*Figure, error) {
	if len(xedges) != nx+1 || len(yedges) != ny+1 {
		return nil, fmt.Errorf("coverage: %d x edges and %d y edges for %d × %d bins", len(xedges), len(yedges), nx, ny)
	}
	v := make([]float32, len(counts))
	for i, c := range counts {
		v[i] = float32(c)
	}
	o := HeatmapOptions{
		Title: "State-space coverage of the buffer", XLabel: xlabel, YLabel: ylabel,
		ColorLabel: "Number of transitions", Colormap: HotR(),
		XMin: xedges[0], XMax: xedges[nx], YMin: yedges[0], YMax: yedges[ny],
	}
	return Heatmap(v, nx, ny, o)
}

// BatchRewardFigure overlays the eval reward_mean curves of many runs, one
// Series per run labelled with the run's name, for the batch index.
func BatchRewardFigure(curves []Series) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Evaluation: mean reward per step, all runs", XLabel: StepLabel, YLabel: "Reward (mean per step)",
		LegendBottom: true,
	}, curves...)
}
