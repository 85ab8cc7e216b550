package jobs

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/browsertest"
	"github.com/rleval/rleval/internal/cputime"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders"
)

// denseLog is a train.jsonl logging every step: n step records with
// actor_loss every other step, an evaluation every n/20 steps, and a
// record of another source after each evaluation.
func denseLog(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"source":"train","event":"step","step":%d,"time":%.3f,"buffer_size":%d,"loss_q1":%.7g,"loss_q2":%.7g`,
			i+1, float64(i)*0.01, i+1, 1/(1+float64(i%977)*0.01), 0.5+float64(i%13)*0.1)
		if i%2 == 1 {
			fmt.Fprintf(&b, `,"actor_loss":%.7g`, -float64(i%101)/7)
		}
		b.WriteString("}\n")
		if (i+1)%(n/20) == 0 {
			fmt.Fprintf(&b, `{"source":"train","event":"evaluation","step":%d,"time":%.3f,"reward_mean":%.4f,"reward_min":%.4f,"reward_max":%.4f,"reward_sum":%.4f}`+"\n",
				i+1, float64(i)*0.01, -float64(i)/1e4, -float64(i)/1e4-1, -float64(i)/1e4+1, -float64(i)/50)
			fmt.Fprintf(&b, `{"source":"env","event":"episode","step":%d,"return":%.3f}`+"\n", i+1, -float64(i%300))
		}
	}
	return b.String()
}

// curveRun is the demo run with a dense train.jsonl and an environment
// log beside it.
func curveRun(t *testing.T, n int) string {
	dir := copyRun(t, demoRun)
	logs := filepath.Join(dir, "train_logs")
	if err := os.WriteFile(filepath.Join(logs, "train.jsonl"), []byte(denseLog(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := `{"event":"reset","step":0,"seed":3}` + "\n" + `{"event":"step","step":1,"reward":-1.5,"theta":0.25}` + "\n" + `{"event":"step","step":2,"reward":-1.25,"theta":0.5}` + "\n"
	if err := os.WriteFile(filepath.Join(logs, "env.jsonl"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCurveArraysEqualTheLogOneRowPerRecord(t *testing.T) {
	const n = 20000
	out := t.TempDir()
	opt := DefaultOptions()
	opt.Grid, opt.Line = 20, 20
	sum, err := Evaluate(context.Background(), curveRun(t, n), out, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st := jobStatus(sum)["curves"]; st.Status != StatusOK {
		t.Fatalf("curves: %+v", st)
	}
	check := func(file string, rows int, want func(i int) (step, v float64)) {
		t.Helper()
		got, shape := fixture.ReadNPY(t, filepath.Join(out, file))
		if len(shape) != 2 || shape[0] != rows || shape[1] != 2 {
			t.Fatalf("%s: shape %v, want [%d 2]", file, shape, rows)
		}
		for i := range rows {
			s, v := want(i)
			if got[2*i] != float32(s) || got[2*i+1] != float32(v) {
				t.Fatalf("%s row %d: (%v, %v), want (%v, %v)", file, i, got[2*i], got[2*i+1], float32(s), float32(v))
			}
		}
	}
	// The log's values as printed (%.7g) are what float32 keeps.
	parse := func(format string, v float64) float64 {
		var x float64
		fmt.Sscanf(fmt.Sprintf(format, v), "%g", &x)
		return x
	}
	check("curve_step_loss_q1.npy", n, func(i int) (float64, float64) {
		return float64(i + 1), parse("%.7g", 1/(1+float64(i%977)*0.01))
	})
	check("curve_step_actor_loss.npy", n/2, func(k int) (float64, float64) {
		i := 2*k + 1
		return float64(i + 1), parse("%.7g", -float64(i%101)/7)
	})
	check("curve_evaluation_reward_sum.npy", 20, func(k int) (float64, float64) {
		i := (k+1)*(n/20) - 1
		return float64(i + 1), parse("%.4f", -float64(i)/50)
	})
	check("curve_env_episode_return.npy", 20, func(k int) (float64, float64) {
		i := (k+1)*(n/20) - 1
		return float64(i + 1), parse("%.3f", -float64(i%300))
	})
	// env.jsonl beside the log: records without a source.
	check("curve_env.jsonl_step_reward.npy", 2, func(k int) (float64, float64) { return float64(k + 1), -1.5 + 0.25*float64(k) })
	check("curve_env.jsonl_reset_seed.npy", 1, func(int) (float64, float64) { return 0, 3 })
	for _, f := range []string{"plots/train_loss_q1.png", "plots/train_actor_loss.png", "plots/log_env.jsonl_step_theta.png", "plots/log_env_episode_return.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("figure missing: %v", err)
		}
	}
}

func TestCurvesAgainstTime(t *testing.T) {
	out := t.TempDir()
	opt := DefaultOptions()
	opt.Grid, opt.Line, opt.X = 20, 20, "time"
	if _, err := Evaluate(context.Background(), curveRun(t, 2000), out, opt); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// The charts' x label, and the arrays still by step.
	if !strings.Contains(string(page), `"xlabel":"`+timeLabel+`"`) {
		t.Error("the interactive charts are not against time")
	}
	got, _ := fixture.ReadNPY(t, filepath.Join(out, "curve_step_loss_q1.npy"))
	if got[2*99] != 100 {
		t.Errorf("curve arrays keep steps: row 99 step %v", got[2*99])
	}
}

func TestReportCurvesZoomInChromium(t *testing.T) {
	out := t.TempDir()
	opt := DefaultOptions()
	opt.Grid, opt.Line = 20, 20
	if _, err := Evaluate(context.Background(), curveRun(t, 20000), out, opt); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if r := browsertest.Zoom(t, page); r.Charts < 7 { // 2 rewards, 5 step fields, the env logs
		t.Errorf("%d charts", r.Charts)
	}
}

// trainerLog is a log like tools/make_big_log.py's: n step records of ten
// numeric fields (17-digit floats, as Python prints float32 losses) and
// 200 evaluations.
func trainerLog(n int) string {
	var b strings.Builder
	py := func(v float64) string { return strconv.FormatFloat(float64(float32(v)), 'g', -1, 64) }
	for i := range n {
		d := math.Exp(-float64(i) / float64(n/5))
		fmt.Fprintf(&b, `{"source": "train", "event": "step", "step": %d, "buffer_size": %d, "time": %.2f, "loss_q1": %s, "loss_q2": %s, "actor_loss": %s, "q1_mean": %s, "q2_mean": %s, "target_q_mean": %s, "reward": %s}`+"\n",
			1000+i, 1000+i, float64(1000+i)*0.0042, py((0.1+2*d)*(1+math.Sin(float64(i)*0.7)/2)), py((0.1+2*d)*(1+math.Cos(float64(i)*1.3)/2)),
			py(5+60*(1-d)+math.Sin(float64(i))), py(-60*(1-d)+math.Sin(float64(i)*3)/2), py(-60*(1-d)+math.Cos(float64(i)*3)/2),
			py(-60*(1-d)+math.Sin(float64(i)*5)/3), py(-math.Abs(math.Sin(float64(i)*0.37))*(3*d+0.2)))
		if (i+1)%(n/200) == 0 {
			fmt.Fprintf(&b, `{"source": "train", "event": "evaluation", "step": %d, "time": 1.0, "episodes": 5, "reward_mean": %.6f, "reward_sum": %.4f, "reward_max": %.6f, "reward_min": %.6f}`+"\n",
				1000+i, -8*d-0.75, -1600*d-150, -8*d+0.75, -8*d-3.75)
		}
	}
	return b.String()
}

// BenchmarkCurvesJob runs the curves job (arrays, figures, interactive
// charts) on a million-step log already loaded, as `rleval run` does.
// cpu-s/op is the CPU it takes, which a shared machine does not inflate.
func BenchmarkCurvesJob(b *testing.B) {
	lg, err := loaders.ReadTrainLog(strings.NewReader(trainerLog(1000000)))
	if err != nil {
		b.Fatal(err)
	}
	r := &loaders.Run{Name: "bench", Dir: b.TempDir(), Log: loaders.Part[*loaders.TrainLog]{V: lg}}
	out := b.TempDir()
	b.ResetTimer()
	cpu0 := cputime.Used()
	for b.Loop() {
		c := &Context{Run: r, Opt: DefaultOptions(), Out: out}
		p := newPage(c, curvesJob.Sections)
		o, err := runCurves(c)
		if err != nil {
			b.Fatal(err)
		}
		p.add("curves", o)
		sum := &RunSummary{Jobs: []JobStatus{{Name: "curves", Status: StatusOK}}}
		p.finish(sum)
		for _, j := range sum.Jobs {
			if j.Status != StatusOK {
				b.Fatal(j.Reason)
			}
		}
	}
	b.ReportMetric((cputime.Used()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(lg.Steps.Count), "records")
}

// TestRLZooCurvesAreEpisodeReturns: an RL Zoo run's evaluations.npz holds
// episode returns, drawn as such (no "mean reward per step" chart), and
// its monitor's training episodes are shown with the rewards, not under
// the training losses.
func TestRLZooCurvesAreEpisodeReturns(t *testing.T) {
	opt := DefaultOptions()
	opt.Grid, opt.Line = 8, 8
	out := t.TempDir()
	if _, err := Evaluate(context.Background(), filepath.Join(testdata, "layouts", "logs", "ddpg", "Pendulum-v1_1"), out, opt); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"eval_return.png", "train_episode_reward.png", "train_episode_length.png"} {
		if _, err := os.Stat(filepath.Join(out, "plots", f)); err != nil {
			t.Errorf("plots/%s: %v", f, err)
		}
	}
	for _, f := range []string{"eval_reward_mean.png", "eval_reward_sum.png", "curve_evaluation_reward_mean.npy"} {
		if _, err := os.Stat(filepath.Join(out, "plots", f)); err == nil {
			t.Errorf("%s drawn for episode returns", f)
		}
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s written for episode returns", f)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	rewards, losses := strings.Index(page, `id="rewards"`), strings.Index(page, `id="losses"`)
	ep := strings.Index(page, "Training episodes: return")
	if rewards < 0 || losses < rewards || ep < rewards || ep > losses {
		t.Errorf("the monitor's episode returns are not in the rewards section (rewards at %d, losses at %d, episode_reward at %d)", rewards, losses, ep)
	}
	if strings.Contains(page, "mean reward per step") || !strings.Contains(page, "episode return") {
		t.Error("the report calls episode returns rewards per step")
	}
}
