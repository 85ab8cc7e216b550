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

// RewardMeanFigure is analysis 2: eval reward_mean against step with the
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

// RewardSumFigure is analysis 3: eval reward_sum against step.
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

// CriticLossFigure is analyses 4 and 5: loss_q1 (critic 1, blue) or loss_q2
// (critic 2, green) against step.
func CriticLossFigure(critic int, step, loss []float64) (*Figure, error) {
	return CurveStyle{}.StepField(fmt.Sprintf("loss_q%d", critic), step, loss)
}

// ActorLossFigure is analysis 6: actor_loss against step (only the rows that
// have it).
func ActorLossFigure(step, loss []float64) (*Figure, error) {
	return CurveStyle{}.StepField("actor_loss", step, loss)
}

// BufferSizeFigure is analysis 7: buffer_size against step.
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

// StepFieldLookOf returns the notebook's look of a step field (analyses
// 4–7) or, for any other field, a plain one named after it.
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

// PolicyLineFigure is analysis 10: the actor's torque against θ in degrees
// at θ̇ = 0, with y = 0 and a dashed x = 0 (upright) line.
func PolicyLineFigure(thetaDeg, action []float64) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Actor policy: torque(θ) at dθ/dt = 0", XLabel: ThetaLabel, YLabel: "action (torque)",
		RefLines: []RefLine{
			{At: 0, Alpha: 0.5, Width: vg.Points(0.5)},
			{Label: "θ = 0 (upright)", Vertical: true, At: 0, Color: TabGreen, Alpha: 0.7, Dashed: true},
		},
		Width: 10 * vg.Inch, Height: 5 * vg.Inch,
	}, Series{X: thetaDeg, Y: action, Color: TabRed, Width: vg.Points(2)})
}

// PolicyMapOptions is analysis 11: the actor's action on the state grid.
func PolicyMapOptions() HeatmapOptions {
	return StateGridOptions("Actor policy: torque(θ, dθ/dt)", "action (torque)", RdBuR())
}

// TargetPolicyMapOptions is analysis 13's actor_target action on the grid.
func TargetPolicyMapOptions() HeatmapOptions {
	return StateGridOptions("Target actor policy: torque(θ, dθ/dt)", "action (torque)", RdBuR())
}

// PolicyDiffMapOptions is analysis 13's actor − actor_target map, with
// symmetric limits ±max|diff|.
func PolicyDiffMapOptions() HeatmapOptions {
	o := StateGridOptions("Policy difference: actor − actor_target", "action − action_target", RdBuR())
	o.Symmetric = true
	return o
}

// QMapOptions is analysis 20: Q(s, π(s)) = min(Q1, Q2) on the grid.
func QMapOptions() HeatmapOptions {
	return StateGridOptions("Policy Q-value: Q(s, π(s))", "Q(s, π(s))", Viridis())
}

// CoverageFigure is analysis 17: the buffer's state coverage, counts from
// Histogram2D(θ in degrees, θ̇, nx, ny) drawn with hot_r over the edges.
func CoverageFigure(counts []float64, nx, ny int, xedges, yedges []float64) (*Figure, error) {
	if len(xedges) != nx+1 || len(yedges) != ny+1 {
		return nil, fmt.Errorf("coverage: %d x edges and %d y edges for %d × %d bins", len(xedges), len(yedges), nx, ny)
	}
	v := make([]float32, len(counts))
	for i, c := range counts {
		v[i] = float32(c)
	}
	o := HeatmapOptions{
		Title: "State-space coverage of the buffer", XLabel: ThetaLabel, YLabel: ThetaDotLabel,
		ColorLabel: "Number of transitions", Colormap: HotR(),
		XMin: xedges[0], XMax: xedges[nx], YMin: yedges[0], YMax: yedges[ny],
	}
	return Heatmap(v, nx, ny, o)
}

// CriticMapOptions is Q_i(s, π(s)) of one critic (1 or 2) on the grid.
func CriticMapOptions(critic int) HeatmapOptions {
	return StateGridOptions(fmt.Sprintf("Critic Q%d: Q%d(s, π(s))", critic, critic), fmt.Sprintf("Q%d(s, π(s))", critic), Viridis())
}

// TargetQMapOptions is min(Q1_target, Q2_target)(s, π_target(s)) on the grid.
func TargetQMapOptions() HeatmapOptions {
	return StateGridOptions("Target Q-value: Q_target(s, π_target(s))", "Q_target(s, π_target(s))", Viridis())
}

// DisagreementMapOptions is Q1 − Q2 at (s, π(s)) on the grid, with symmetric
// limits.
func DisagreementMapOptions() HeatmapOptions {
	o := StateGridOptions("Critic disagreement: Q1 − Q2", "Q1(s, π(s)) − Q2(s, π(s))", RdBuR())
	o.Symmetric = true
	return o
}

// BatchRewardFigure overlays the eval reward_mean curves of many runs, one
// Series per run labelled with the run's name, for the batch index.
func BatchRewardFigure(curves []Series) (*Figure, error) {
	return Lines(LineOptions{
		Title: "Evaluation: mean reward per step, all runs", XLabel: StepLabel, YLabel: "Reward (mean per step)",
		LegendBottom: true,
	}, curves...)
}
