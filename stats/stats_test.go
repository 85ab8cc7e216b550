package stats

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// fixtures is testdata/stats/stats.json, written by
// tools/make_stats_fixtures.py with numpy and scipy.
type fixtures struct {
	Basics []struct {
		X          []float64          `json:"x"`
		TrimMean   float64            `json:"trim_mean"`
		Median     float64            `json:"median"`
		Percentile map[string]float64 `json:"percentile"`
	} `json:"basics"`
	Matrices []struct {
		Scores        Scores  `json:"scores"`
		Mean          float64 `json:"mean"`
		Median        float64 `json:"median"`
		IQM           float64 `json:"iqm"`
		OptimalityGap float64 `json:"optimality_gap"`
	} `json:"matrices"`
	Improvements []struct {
		X, Y []float64
		P    float64 `json:"p"`
	} `json:"improvements"`
	Bootstraps []struct {
		Scores        Scores     `json:"scores"`
		ScoreRange    [2]float64 `json:"score_range"`
		Mean          [2]float64 `json:"mean"`
		Median        [2]float64 `json:"median"`
		IQM           [2]float64 `json:"iqm"`
		OptimalityGap [2]float64 `json:"optimality_gap"`
	} `json:"bootstraps"`
}

func load(t *testing.T) *fixtures {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "stats", "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// close is within 1e-12 relative: the same sums in another order.
func close(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b))
}

func TestTrimMeanMedianPercentileEqualScipyNumpy(t *testing.T) {
	for _, c := range load(t).Basics {
		t.Run(strconv.Itoa(len(c.X)), func(t *testing.T) {
			if got := TrimMean(slices.Clone(c.X), 0.25); !close(got, c.TrimMean) {
				t.Errorf("TrimMean = %v, scipy %v", got, c.TrimMean)
			}
			if got := median(slices.Clone(c.X)); !close(got, c.Median) {
				t.Errorf("median = %v, numpy %v", got, c.Median)
			}
			for q, want := range c.Percentile {
				qf, _ := strconv.ParseFloat(q, 64)
				if got := Percentile(slices.Clone(c.X), qf); !close(got, want) {
					t.Errorf("Percentile(%v) = %v, numpy %v", qf, got, want)
				}
			}
		})
	}
}

func TestAggregatesEqualRliable(t *testing.T) {
	for i, c := range load(t).Matrices {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, x := range []struct {
				name      string
				got, want float64
			}{
				{"mean", Mean(c.Scores), c.Mean},
				{"median", Median(c.Scores), c.Median},
				{"iqm", IQM(c.Scores), c.IQM},
				{"optimality gap", OptimalityGap(c.Scores), c.OptimalityGap},
			} {
				if !close(x.got, x.want) {
					t.Errorf("%s = %v, numpy %v", x.name, x.got, x.want)
				}
			}
			a, err := Bootstrap{Reps: 2000, Seed: 1}.Aggregates(c.Scores, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !close(a.Mean.Value, c.Mean) || !close(a.Median.Value, c.Median) || !close(a.IQM.Value, c.IQM) || !close(a.OptimalityGap.Value, c.OptimalityGap) {
				t.Errorf("Bootstrap.Aggregates values %+v differ from numpy's", a)
			}
		})
	}
}

func TestProbabilityOfImprovementIsMannWhitney(t *testing.T) {
	for i, c := range load(t).Improvements {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			p, err := ProbabilityOfImprovement(Scores{c.X}, Scores{c.Y})
			if err != nil || !close(p, c.P) {
				t.Fatalf("P = %v (%v), scipy U/(nm) %v", p, err, c.P)
			}
			iv, err := Bootstrap{Reps: 5000, Seed: 3}.Improvement(Scores{c.X}, Scores{c.Y})
			if err != nil || iv.Value != p || !(iv.Lo <= p && p <= iv.Hi) {
				t.Fatalf("interval %+v does not hold %v (%v)", iv, p, err)
			}
			// The interval of Y over X mirrors that of X over Y.
			q, _ := ProbabilityOfImprovement(Scores{c.Y}, Scores{c.X})
			if !close(p+q, 1) {
				t.Errorf("P(x>y) + P(y>x) = %v, want 1", p+q)
			}
		})
	}
}

// TestBootstrapIntervalsMatchNumpy compares with intervals numpy computed
// from its own random numbers: the two differ by Monte Carlo error only.
// Tolerance: 3% of the spread of the scores, several times the standard
// error of a 2.5% percentile of 20,000–50,000 replicates.
func TestBootstrapIntervalsMatchNumpy(t *testing.T) {
	for i, c := range load(t).Bootstraps {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			all := c.Scores.pooled()
			spread := slices.Max(all) - slices.Min(all)
			a, err := Bootstrap{Seed: 7}.Aggregates(c.Scores, c.ScoreRange[0], c.ScoreRange[1])
			if err != nil {
				t.Fatal(err)
			}
			gapSpread := spread / (c.ScoreRange[1] - c.ScoreRange[0])
			for _, x := range []struct {
				name   string
				got    Interval
				want   [2]float64
				spread float64
			}{
				{"mean", a.Mean, c.Mean, spread},
				{"median", a.Median, c.Median, spread},
				{"iqm", a.IQM, c.IQM, spread},
				{"optimality gap", a.OptimalityGap, c.OptimalityGap, gapSpread},
			} {
				tol := 0.03 * x.spread
				if math.Abs(x.got.Lo-x.want[0]) > tol || math.Abs(x.got.Hi-x.want[1]) > tol {
					t.Errorf("%s interval [%v, %v], numpy [%v, %v] (tolerance %v)", x.name, x.got.Lo, x.got.Hi, x.want[0], x.want[1], tol)
				}
				if !(x.got.Lo <= x.got.Value && x.got.Value <= x.got.Hi) {
					t.Errorf("%s interval [%v, %v] does not hold its value %v", x.name, x.got.Lo, x.got.Hi, x.got.Value)
				}
			}
		})
	}
}

func TestBootstrapIsReproducibleAndSeeded(t *testing.T) {
	s := Scores{{1, 5, 2, 8, 3, 9, 4}, {0.5, 0.7, 0.1}}
	a1, _ := Bootstrap{Reps: 3000, Seed: 42}.Aggregates(s, 0, 10)
	a2, _ := Bootstrap{Reps: 3000, Seed: 42}.Aggregates(s, 0, 10)
	a3, _ := Bootstrap{Reps: 3000, Seed: 43}.Aggregates(s, 0, 10)
	if a1 != a2 {
		t.Errorf("same seed, different intervals: %+v vs %+v", a1, a2)
	}
	if a1 == a3 {
		t.Errorf("different seeds gave identical intervals %+v", a1)
	}
}

// TestStratifiedBootstrapKeepsTasks pins the stratification: a task whose
// runs all score the same contributes that score to every replicate, so two
// constant tasks give a zero-width interval of the mean.
func TestStratifiedBootstrapKeepsTasks(t *testing.T) {
	a, err := Bootstrap{Reps: 1000}.Aggregates(Scores{{1, 1, 1}, {3, 3}}, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mean != (Interval{2, 2, 2}) || a.Median != (Interval{2, 2, 2}) {
		t.Errorf("mean %+v, median %+v: want exactly 2 with no spread", a.Mean, a.Median)
	}
}

// TestReplicateIQMEqualsTrimMean checks the counting shortcut of the
// replicate loop against TrimMean of the same resample written out.
func TestReplicateIQMEqualsTrimMean(t *testing.T) {
	s := Scores{{3, 1, 4, 1, 5, 9, 2, 6}, {5, 3, 5}, {8, 9, 7, 9, 3}}
	e := newStrat(s, 0, 10)
	e.local = make([][]int32, len(s))
	for t := range s {
		e.local[t] = make([]int32, len(s[t]))
	}
	d := newDrawer(Bootstrap{Seed: 5})
	for range 200 {
		e.resample(d)
		var sample []float64
		med := make([]float64, len(s))
		for t, v := range e.vals {
			sum := 0.0
			for j, c := range e.local[t] {
				for range c {
					sample = append(sample, v[j])
					sum += v[j]
				}
			}
			med[t] = sum / float64(len(v))
		}
		mean, m, iqm, _ := e.aggregates()
		want := TrimMean(slices.Clone(sample), 0.25)
		if math.Abs(iqm-want) > 1e-12 || math.Abs(e.iqm()-want) > 1e-12 {
			t.Fatalf("replicate IQM %v, TrimMean of the resample %v", iqm, want)
		}
		if wm := median(med); math.Abs(m-wm) > 1e-12 {
			t.Fatalf("replicate median %v, want %v", m, wm)
		}
		if wm := (med[0] + med[1] + med[2]) / 3; math.Abs(mean-wm) > 1e-12 {
			t.Fatalf("replicate mean %v, want %v", mean, wm)
		}
	}
}

func TestProfileAndCurve(t *testing.T) {
	s := Scores{{1, 2, 3, 4}}
	p, err := Bootstrap{Reps: 2000}.Profile(s, []float64{0, 2, 2.5, 4})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 0.5, 0.5, 0}
	for i, iv := range p {
		if iv.Value != want[i] || iv.Lo > iv.Value || iv.Hi < iv.Value {
			t.Errorf("profile[%d] = %+v, want value %v inside its interval", i, iv, want[i])
		}
	}
	c := Bootstrap{Reps: 500}.SampleEfficiency(
		[][]float64{{1, 2, 3}, {1, 2, 3}, {1, 3}},
		[][]float64{{1, 2, 3}, {2, 3, 4}, {0, 9}})
	if !slices.Equal(c.Step, []float64{1, 3}) {
		t.Fatalf("curve steps %v, want the common steps [1 3]", c.Step)
	}
	if c.IQM[0].Value != IQM(Scores{{1, 2, 0}}) || c.IQM[1].Value != IQM(Scores{{3, 4, 9}}) {
		t.Errorf("curve %+v", c.IQM)
	}
}

func TestEmptyScoresAreAnError(t *testing.T) {
	if _, err := (Bootstrap{}).Aggregates(Scores{{1}, {}}, 0, 1); err != ErrNoScores {
		t.Errorf("err = %v, want ErrNoScores", err)
	}
	if _, err := ProbabilityOfImprovement(Scores{{1}}, Scores{{1}, {2}}); err != ErrTaskMismatch {
		t.Errorf("err = %v, want ErrTaskMismatch", err)
	}
	if !math.IsNaN(IQM(nil)) {
		t.Error("IQM(nil) is not NaN")
	}
}
