package plotting

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/cmpimg"
	"gonum.org/v1/plot/vg"
)

// goldenDelta is cmpimg's per-pixel tolerance (normalised YIQ distance,
// 0 = identical). The figures are drawn in pure Go with embedded fonts, so
// x86 machines, Intel or AMD, render them bit for bit alike; 0.02 (about 4
// grey levels) absorbs an antialiasing rounding where a compiler fuses
// multiply-adds (arm64) while a wrong colour, a moved label or a missing
// line still fails.
const goldenDelta = 0.02

// checkGolden compares fig's PNG with testdata/<name>_golden.png, as gonum's
// cmpimg.CheckPlot does; `go test ./plotting -regen` rewrites the golden
// files from the current drawing (look at them before committing).
func checkGolden(t *testing.T, name string, fig *Figure, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	got, err := fig.PNG()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", name+"_golden.png")
	if *cmpimg.GenerateTestData {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("golden image missing: %v (create it with go test ./plotting -regen)", err)
	}
	ok, err := cmpimg.EqualApprox("png", got, want, goldenDelta)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		p := filepath.Join(t.TempDir(), name+".png")
		os.WriteFile(p, got, 0o644)
		t.Errorf("%s differs from %s beyond %v (the new drawing is %s; -regen accepts it)", name, golden, goldenDelta, p)
	}
}

// stateGrid fills an n×n grid over θ ∈ [-π, π] (columns) × θ̇ ∈ [-8, 8]
// (rows, the first at the bottom) with f.
func stateGrid(n int, f func(th, thd float64) float64) []float32 {
	v := make([]float32, n*n)
	for i := range n {
		thd := -8 + 16*float64(i)/float64(n-1)
		for j := range n {
			th := -math.Pi + 2*math.Pi*float64(j)/float64(n-1)
			v[i*n+j] = float32(f(th, thd))
		}
	}
	return v
}

func gridOptions(title, colorLabel string, cmap *Colormap) HeatmapOptions {
	return HeatmapOptions{
		Title: title, XLabel: "θ (degrees)", YLabel: "dθ/dt (rad/s)", ColorLabel: colorLabel, Colormap: cmap,
		XMin: -180, XMax: 180, YMin: -8, YMax: 8,
		Width: 6 * vg.Inch, Height: 4.5 * vg.Inch,
	}
}

func TestPolicyHeatmapMatchesGolden(t *testing.T) {
	v := stateGrid(64, func(th, thd float64) float64 { return 2 * math.Tanh(-1.5*math.Sin(th)-0.3*thd) })
	fig, err := Heatmap(v, 64, 64, gridOptions("Actor policy: torque(θ, dθ/dt)", "action (torque)", RdBuR()))
	checkGolden(t, "policy_heatmap", fig, err)
}

func TestQMapMatchesGolden(t *testing.T) {
	v := stateGrid(64, func(th, thd float64) float64 { return -(th*th + 0.1*thd*thd) * 10 })
	v[5*64+7] = float32(math.NaN()) // a NaN cell takes the NaN colour
	fig, err := Heatmap(v, 64, 64, gridOptions("Policy Q-value: Q(s, π(s))", "Q(s, π(s))", Viridis()))
	checkGolden(t, "q_map", fig, err)
}

func TestHistogramGridMatchesGolden(t *testing.T) {
	// Deterministic stand-ins for a buffer's columns.
	const n = 3000
	cos, sin, act, rew := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		th := math.Pi * math.Sin(float64(i)*0.37) * math.Cos(float64(i)*0.011)
		cos[i], sin[i] = float32(math.Cos(th)), float32(math.Sin(th))
		act[i] = float32(2 * math.Tanh(math.Sin(float64(i)*1.7)*2))
		rew[i] = float32(-(th*th + 0.001*float64(act[i]*act[i])))
	}
	fig, err := HistogramGrid("Replay buffer distributions", 2, 2, []HistPanel{
		NewHistPanel("cos θ", cos, 100, TabBlue), NewHistPanel("sin θ", sin, 100, TabOrange),
		NewHistPanel("action", act, 100, TabGreen), NewHistPanel("reward", rew, 100, TabRed),
	}, 8*vg.Inch, 6*vg.Inch)
	checkGolden(t, "histogram_grid", fig, err)
}

func TestLineWithBandMatchesGolden(t *testing.T) {
	var step, mean, lo, hi []float64
	for i := 1; i <= 30; i++ {
		s := float64(i * 500)
		m := -6 * math.Exp(-float64(i)/6)
		step, mean = append(step, s), append(mean, m)
		lo, hi = append(lo, m-1.5*math.Exp(-float64(i)/10)), append(hi, m+0.5*math.Exp(-float64(i)/10))
	}
	mean[12] = math.NaN() // a missing evaluation breaks the line
	fig, err := Lines(LineOptions{
		Title: "Evaluation: mean reward per step", XLabel: "Training step", YLabel: "Reward (mean per step)",
		Bands:        []Band{{Label: "reward min–max", X: step, Lo: lo, Hi: hi, Color: TabBlue}},
		LegendBottom: true, Width: 7 * vg.Inch, Height: 3.5 * vg.Inch,
	}, Series{Label: "reward_mean", X: step, Y: mean, Color: TabBlue, Markers: true})
	checkGolden(t, "line_band", fig, err)
}

// coverageCounts stands in for a buffer's states per cell on a 40 × 40
// grid over θ × θ̇: a band along θ̇ = −θ/30 and a blob at the origin.
func coverageCounts(n int) []float64 {
	c := make([]float64, n*n)
	for i := range n {
		thd := -8 + 16*(float64(i)+0.5)/float64(n)
		for j := range n {
			th := -180 + 360*(float64(j)+0.5)/float64(n)
			d := thd + th/30
			c[i*n+j] = math.Floor(20*math.Exp(-d*d/2) + 40*math.Exp(-(th*th/400+thd*thd)))
		}
	}
	return c
}

func TestCoverageContourOverAMapMatchesGolden(t *testing.T) {
	v := stateGrid(64, func(th, thd float64) float64 { return 2 * math.Tanh(-1.5*math.Sin(th)-0.3*thd) })
	fig, err := Heatmap(v, 64, 64, gridOptions("Actor policy: torque(cos θ, dθ/dt)", "action (torque)", RdBuR()))
	if err != nil {
		t.Fatal(err)
	}
	AddCoverageContour(fig.Plot(), coverageCounts(40), 40, 40, -180, 180, -8, 8)
	fig.Footer = []FooterLine{{Text: CoverageLegend}, {Text: "Held fixed off the plane: sin θ = 0."}, {Text: "Warning: the plane leaves the data.", Warn: true}}
	checkGolden(t, "coverage_contour", fig, nil)
}

func TestLogCoverageMatchesGolden(t *testing.T) {
	const n = 40
	c := coverageCounts(n)
	for i := range c {
		c[i] *= c[i] * 10 // up to 16,000 per cell: four decades
	}
	xe, ye := make([]float64, n+1), make([]float64, n+1)
	for i := range xe {
		xe[i], ye[i] = -180+360*float64(i)/n, -8+16*float64(i)/n
	}
	fig, err := CoverageFigure(c, n, n, xe, ye, "θ (degrees)", "dθ/dt (rad/s)")
	if err == nil {
		fig.Width, fig.Height = 6*vg.Inch, 4.5*vg.Inch
	}
	checkGolden(t, "coverage_log", fig, err)
}

func TestAggregatesIntervalPlotMatchesGolden(t *testing.T) {
	names := []string{"lr=0.0003", "lr=0.001", "lr=0.003, batch_size=1024 and a long name"}
	vals := [][]Interval{
		{{-180, -250, -140}, {-175, -240, -150}, {-190, -260, -150}, {0.4, 0.3, 0.5}},
		{{-300, -420, -200}, {-310, -400, -250}, {-320, -430, -230}, {0.6, 0.5, 0.7}},
		{{-150, -150, -150}, {-150, -150, -150}, {-150, -150, -150}, {0.3, 0.3, 0.3}}, // one run: zero width
	}
	fig, err := AggregatesFigure("final reward_sum", []string{"Median", "IQM", "Mean", "Optimality gap"}, names, vals)
	checkGolden(t, "aggregates_intervals", fig, err)
}
