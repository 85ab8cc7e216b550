package plotting

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
)

// This file holds the notebook's figures with their English titles and
// labels, so that every job draws them the same way.

// StepLabel is the x label of every training curve.
const StepLabel = "Training step"

// CurveStyle is how training curves are drawn: the x axis and the
// smoothing of noisy step fields. The zero value is the notebook's look.
type CurveStyle struct {
	// XLabel labels the x axis; empty means StepLabel.
	XLabel string
	// Smooth is SmoothEMA's weight for noisy step fields (those that are
	// not monotonic, i.e. not buffer_size or time); 0 for none.
	Smooth float64
}

func (st CurveStyle) xlabel() string {
	if st.XLabel == "" {
		return StepLabel
	}
	return st.XLabel
}

// smoothing returns the weight to smooth y with.
func (st CurveStyle) smoothing(y []float64) float64 {
	if st.Smooth > 0 && Noisy(y) {
		return st.Smooth
	}
	return 0
}

// Noisy reports whether y goes both up and down (ignoring non-finite
// values): such a step field is smoothed, a counter or a clock is not.
func Noisy(y []float64) bool {
	up, down := false, false
	prev := math.NaN()
	for _, v := range y {
		if !finite(v) {
			continue
		}
		if !math.IsNaN(prev) {
			up = up || v > prev
			down = down || v < prev
		}
		prev = v
	}
	return up && down
}

// RewardMeanFigure draws eval reward_mean against step with the
// reward_min..reward_max band.
func RewardMeanFigure(step, mean, lo, hi []float64) (*Figure, error) {
	return CurveStyle{}.RewardMean(step, mean, lo, hi)
}

// RewardMean is RewardMeanFigure in this style; evaluations keep their
// markers and band and are never smoothed.
func (st CurveStyle) RewardMean(x, mean, lo, hi []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Evaluation: mean reward per step", XLabel: st.xlabel(), YLabel: "Reward (mean per step)",
		Bands:        []Band{{Label: "reward min–max", X: x, Lo: lo, Hi: hi, Color: TabBlue}},
		LegendBottom: true,
	}, Series{Label: "reward_mean", X: x, Y: mean, Color: TabBlue, Markers: true})
}

// RewardSumFigure draws eval reward_sum against step.
func RewardSumFigure(step, sum []float64) (*Figure, error) {
	return CurveStyle{}.RewardSum(step, sum)
}

// RewardSum is RewardSumFigure in this style.
func (st CurveStyle) RewardSum(x, sum []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Evaluation: total reward per episode", XLabel: st.xlabel(), YLabel: "Reward (sum)",
		LegendBottom: true,
	}, Series{Label: "reward_sum", X: x, Y: sum, Color: TabGreen, Markers: true})
}

// EpisodeReturn draws the mean episode return of each evaluation against
// x with the min–max band over its episodes, as Stable-Baselines3's
// evaluations.npz holds them: returns, not rewards per step.
func (st CurveStyle) EpisodeReturn(x, mean, lo, hi []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: EpisodeReturnTitle, XLabel: st.xlabel(), YLabel: EpisodeReturnLabel,
		Bands:        []Band{{Label: "return min–max over the episodes", X: x, Lo: lo, Hi: hi, Color: TabGreen}},
		LegendBottom: true,
	}, Series{Label: "mean return", X: x, Y: mean, Color: TabGreen, Markers: true})
}

// The title and axis label of EpisodeReturn.
const (
	EpisodeReturnTitle = "Evaluation: episode return (mean, min–max over the episodes)"
	EpisodeReturnLabel = "Return (sum of rewards per episode)"
)

// CriticLossFigure draws loss_q1 (critic 1, blue) or loss_q2
// (critic 2, green) against step.
func CriticLossFigure(critic int, step, loss []float64) (*Figure, error) {
	return CurveStyle{}.StepField(fmt.Sprintf("loss_q%d", critic), step, loss)
}

// ActorLossFigure draws actor_loss against step (only the rows that
// have it).
func ActorLossFigure(step, loss []float64) (*Figure, error) {
	return CurveStyle{}.StepField("actor_loss", step, loss)
}

// BufferSizeFigure draws buffer_size against step.
func BufferSizeFigure(step, size []float64) (*Figure, error) {
	return CurveStyle{}.StepField("buffer_size", step, size)
}

// StepFieldLook is how a step field is titled and coloured.
type StepFieldLook struct {
	Title, YLabel, Label string
	Color                color.Color
	Alpha                float64
	Width                vg.Length
}

// StepFieldLookOf returns the notebook's look of a step field (the
// losses and buffer size) or, for any other field, a plain one named after it.
func StepFieldLookOf(field string) StepFieldLook {
	switch field {
	case "loss_q1":
		return StepFieldLook{"Critic Q1 Loss", "Loss", "Q1 Loss", TabBlue, 0.7, vg.Points(0.8)}
	case "loss_q2":
		return StepFieldLook{"Critic Q2 Loss", "Loss", "Q2 Loss", TabGreen, 0.7, vg.Points(0.8)}
	case "actor_loss":
		return StepFieldLook{"Actor Loss", "Loss", "Actor Loss", TabRed, 0.7, vg.Points(0.8)}
	case "buffer_size":
		return StepFieldLook{"Replay buffer size", "Buffer size", "", TabPurple, 0, 0}
	case "episode_reward":
		return StepFieldLook{"Training episodes: return", EpisodeReturnLabel, "episode return", TabGreen, 0.7, vg.Points(0.8)}
	case "episode_length":
		return StepFieldLook{"Training episodes: length", "Steps per episode", "episode length", TabOrange, 0.7, vg.Points(0.8)}
	}
	return StepFieldLook{field, field, field, nil, 0.8, 0}
}

// StepField draws one numeric field of the step records against x in
// this style: the notebook's figure for the known fields, a plain line for
// the others, smoothed over the faint raw series when the field is noisy.
func (st CurveStyle) StepField(field string, x, y []float64) (*Figure, error) {
	lk := StepFieldLookOf(field)
	return Lines(LineOptions{Title: lk.Title, XLabel: st.xlabel(), YLabel: lk.YLabel},
		Series{Label: lk.Label, X: x, Y: y, Color: lk.Color, Alpha: lk.Alpha, Width: lk.Width, Smooth: st.smoothing(y)})
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
		ColorLabel: "Transitions per cell (log scale)", Colormap: Viridis(), Log: true, NaNColor: color.White,
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
