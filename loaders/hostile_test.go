package loaders

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rleval/rleval/internal/hostile"
)

// loadWithin loads the run at dir, failing t (instead of hanging the test
// binary) when that takes longer than budget.
func loadWithin(t *testing.T, dir string, opt LoadOptions, budget time.Duration) *Run {
	t.Helper()
	type result struct {
		r   *Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := LoadRun(dir, opt)
		if err == nil {
			r.LoadLogs()
		}
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res.r
	case <-time.After(budget):
		t.Fatalf("loading %s did not return within %v", dir, budget)
		return nil
	}
}

const gen2Run = runsDir + "/2026-06-20_09-15-00_pendulum-gen2"

func TestLoadRunRefusesFilesThatAreNotRegular(t *testing.T) {
	for _, tc := range []struct {
		name, rel, what string
		make            func(p string) error
		err             func(r *Run) error
	}{
		{"fifo actor", "agent_td3/actor.pt", "named pipe", hostile.FIFO, func(r *Run) error { return r.Nets[RoleActor].Err }},
		{"fifo buffer", "data/replay_buffer.pth", "named pipe", hostile.FIFO, func(r *Run) error { return r.Buffer.Err }},
		{"fifo config", "config.yaml", "named pipe", hostile.FIFO, func(r *Run) error { return r.Config.Err }},
		{"log is /dev/zero", "train.jsonl", "character device", func(p string) error { return hostile.Link(p, "/dev/zero") },
			func(r *Run) error { return r.Log.Err }},
		{"fifo env log", "env.jsonl", "named pipe", hostile.FIFO, func(r *Run) error {
			if len(r.OtherLogErrs) != 1 {
				return nil
			}
			return r.OtherLogErrs[0]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := hostile.Run(t, gen2Run, func(dir string) error { return tc.make(filepath.Join(dir, tc.rel)) })
			r := loadWithin(t, dir, LoadOptions{}, 10*time.Second)
			err := tc.err(r)
			p := filepath.Join(dir, tc.rel)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.what) {
				t.Fatalf("error %v, want ErrInvalid naming %s as a %s", err, p, tc.what)
			}
			if len(r.Broken()) != 1 {
				t.Fatalf("broken %v, want the one file", r.Broken())
			}
		})
	}
}

func TestTrainLogSkipsRecordsWithoutSourceAndKeepsTheOthers(t *testing.T) {
	dir := hostile.Run(t, gen2Run, func(dir string) error {
		return hostile.Append(filepath.Join(dir, "train.jsonl"), hostile.SourcelessLine)
	})
	orig, err := LoadTrainLog(filepath.Join(gen2Run, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lg, err := LoadTrainLog(filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if lg.Steps.Count != orig.Steps.Count || len(lg.Others) != len(orig.Others) || lg.Steps.Count == 0 {
		t.Fatalf("%d step records and %d other tables, want %d and %d", lg.Steps.Count, len(lg.Others), orig.Steps.Count, len(orig.Others))
	}
	if lg.SkippedCount != orig.SkippedCount+1 {
		t.Fatalf("skipped %d, want %d", lg.SkippedCount, orig.SkippedCount+1)
	}
	last := lg.Skipped[len(lg.Skipped)-1]
	if last.Line != orig.Lines+1 || !strings.Contains(last.Reason, `"source"`) {
		t.Fatalf("skipped %+v, want line %d for its missing source", last, orig.Lines+1)
	}
	// A log none of whose lines has a source says so, line by line, and
	// is no log at all.
	all, err := ReadTrainLog(strings.NewReader(strings.Repeat(hostile.SourcelessLine, 500)))
	if err != nil {
		t.Fatal(err)
	}
	if all.SkippedCount != 500 || len(all.Skipped) != MaxSkippedListed || all.Skipped[3].Line != 4 || len(all.Tables()) != 0 {
		t.Fatalf("sourceless log: %d skipped, %d listed, %d tables", all.SkippedCount, len(all.Skipped), len(all.Tables()))
	}
	p := filepath.Join(dir, "train.jsonl")
	if err := hostile.WriteLines(p, 500, hostile.SourcelessLine); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrainLog(p); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `none of its 500 lines is a record (line 1: no "source"`) {
		t.Fatalf("%v, want an error saying no line is a record", err)
	}
	// A run killed while writing its first line has an empty log.
	if err := os.WriteFile(p, []byte(`{"source":"train","ev`), 0o644); err != nil {
		t.Fatal(err)
	}
	if lg, err := LoadTrainLog(p); err != nil || lg.SkippedCount != 1 {
		t.Fatalf("%v, want an empty log with its partial line skipped", err)
	}
}

const sb3SAC = layoutsDir + "/logs/sac/Pendulum-v1_2"

// The fixture's obs_rms.var (tools/make_layouts.py).
var fixtureVar = []float64{0.4, 0.6, 9}

func TestVecNormalizeRefusesVariancesThatAreNotNumbers(t *testing.T) {
	for _, bad := range [][]float64{{-1, 0, math.NaN()}, {0.4, math.Inf(1), 9}, {0.4, 0.6, -1e-3}} {
		dir := hostile.Run(t, sb3SAC, func(dir string) error {
			return hostile.PatchFloat64s(filepath.Join(dir, "Pendulum-v1", "vecnormalize.pkl"), fixtureVar, bad)
		})
		p := filepath.Join(dir, "Pendulum-v1", "vecnormalize.pkl")
		if _, err := LoadVecNormalize(p); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "var[") {
			t.Fatalf("var %v: %v, want a refusal naming the variance", bad, err)
		}
		r := loadWithin(t, dir, LoadOptions{}, 10*time.Second)
		// One cause, once, naming the file; the model zip is sound.
		probs := r.Problems()
		if len(probs) != 1 || !strings.Contains(probs[0].Error(), p) || r.Config.Err != nil {
			t.Fatalf("var %v: problems %q, config error %v; want the vecnormalize.pkl alone", bad, probs, r.Config.Err)
		}
		if loadedNets(r) != 0 {
			t.Fatalf("networks loaded without their normalisation")
		}
	}
}

func TestProblemsNameAnUnsafePytorchVariablesOnce(t *testing.T) {
	dir := hostile.Run(t, sb3SAC, func(dir string) error {
		return hostile.ReplaceZipMember(filepath.Join(dir, "Pendulum-v1.zip"), "pytorch_variables.pth", hostile.UnsafePickle)
	})
	r := loadWithin(t, dir, LoadOptions{}, 10*time.Second)
	broken := r.Broken()
	if len(broken) != 1 || !errors.Is(broken[0], ErrUnsafePickle) || !strings.Contains(broken[0].Error(), "pytorch_variables.pth") {
		t.Fatalf("broken %v, want the unsafe pytorch_variables.pth", broken)
	}
}

func TestMonitorCSVChecksEpisodes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "0.monitor.csv")
	rows := []hostile.MonitorRow{{Reward: -100, Length: 200}, {Reward: math.NaN(), Length: 200}, {Reward: -90, Length: -5},
		{Reward: math.Inf(-1), Length: 200}, {Reward: -80, Length: 0}, {Reward: -70, Length: 200}}
	if err := hostile.WriteMonitor(p, len(rows), func(i int) hostile.MonitorRow { return rows[i] }); err != nil {
		t.Fatal(err)
	}
	lg, err := LoadMonitorCSV(p)
	if err != nil {
		t.Fatal(err)
	}
	steps := lg.Steps.Col("episode_reward").Step
	// Episodes with a sound length count towards the steps, even when
	// their return is unusable.
	if len(steps) != 2 || steps[0] != 200 || steps[1] != 800 {
		t.Fatalf("episodes end at steps %v, want 200 and 800", steps)
	}
	if lg.SkippedCount != 4 || lg.Skipped[0].Line != 4 {
		t.Fatalf("skipped %+v, want lines 4–7", lg.Skipped)
	}
	for _, s := range lg.Skipped {
		if s.Reason == "" {
			t.Fatalf("skipped %+v without a reason", s)
		}
	}
}

func TestMonitorCSVTooLargeNamesItself(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "0.monitor.csv")
	if err := hostile.WriteMonitor(p, 3, func(i int) hostile.MonitorRow { return hostile.MonitorRow{Reward: -1, Length: 200} }); err != nil {
		t.Fatal(err)
	}
	if err := hostile.Grow(p, maxMonitorBytes+1); err != nil {
		t.Fatal(err)
	}
	_, err := LoadMonitorCSV(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "monitor") || strings.Contains(err.Error(), "config") {
		t.Fatalf("%v, want an error naming the monitor file", err)
	}
	if info, _ := os.Stat(p); info.Size() <= maxMonitorBytes {
		t.Fatal("the fixture lost its point")
	}
}

// The lines a run's curve files skipped (a monitor episode that is not a
// number, a TensorBoard record cut short) survive the merge of its curves.
func TestSB3CurvesKeepTheLinesTheirFilesSkipped(t *testing.T) {
	events, _ := filepath.Glob(filepath.Join(layoutsDir, "runs", "*", "events.out.tfevents.*"))
	if len(events) != 1 {
		t.Fatalf("%d event files", len(events))
	}
	dir := hostile.Run(t, sb3SAC, func(dir string) error {
		b, err := os.ReadFile(events[0])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(events[0])), b[:len(b)-5], 0o644); err != nil {
			return err
		}
		return hostile.Append(filepath.Join(dir, "0.monitor.csv"), "NaN,200,9.5\n")
	})
	r := loadWithin(t, dir, LoadOptions{SkipBuffer: true}, 10*time.Second)
	if r.Log.V == nil || r.Log.V.SkippedCount != 2 || len(r.Log.V.Skipped) != 2 {
		t.Fatalf("log %+v, want the two skipped lines", r.Log.V)
	}
	reasons := r.Log.V.Skipped[0].Reason + "\n" + r.Log.V.Skipped[1].Reason
	if !strings.Contains(reasons, "0.monitor.csv: episode return") || !strings.Contains(reasons, "tfevents") || !strings.Contains(reasons, "cut short") {
		t.Fatalf("reasons %q do not name the files", reasons)
	}
}

// A monitor file of a million episodes is read as a stream into columns
// sized once: what reading it allocates stays near the 24 bytes an episode
// its three columns hold (reading the file whole, copying it to a string
// and growing the columns by appending took four times that).
func TestMonitorCSVReadsAMillionEpisodesCompactly(t *testing.T) {
	const n = 1_000_000
	p := filepath.Join(t.TempDir(), "0.monitor.csv")
	if err := hostile.WriteMonitor(p, n, func(i int) hostile.MonitorRow {
		return hostile.MonitorRow{Reward: -float64(i%1000) - 0.25, Length: 200}
	}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	lg, err := LoadMonitorCSV(p)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if lg.Steps.Count != n || lg.Steps.StepMax != 200*n {
		t.Fatalf("%d episodes to step %v", lg.Steps.Count, lg.Steps.StepMax)
	}
	columns := 24 * n
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d episodes: %.1f MB allocated, %.1f MB in columns", n, float64(alloc)/(1<<20), float64(lg.Bytes())/(1<<20))
	if alloc > uint64(columns)*13/10+4<<20 {
		t.Fatalf("reading %d episodes allocated %d MB, more than 1.3 × the %d MB of their columns + 4 MB", n, alloc>>20, columns>>20)
	}
}

func TestEvaluationsSkipReturnsThatAreNotNumbers(t *testing.T) {
	// A float64 .npy of original TD3's results: [-1200, NaN, +Inf, -300].
	vals := []float64{-1200, math.NaN(), math.Inf(1), -300}
	hdr := "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"
	hdr += strings.Repeat(" ", 128-10-len(hdr)-1) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), 0)
	b = append(b, hdr...)
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	p := filepath.Join(t.TempDir(), "TD3_Pendulum-v1_0.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	lg, err := LoadTD3Results(p, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if s := lg.Evals.Col("reward_sum"); !sameBits(s.Step, []float64{0, 15000}) || !sameBits(s.Value, []float64{-1200, -300}) {
		t.Fatalf("evaluations %v at %v, want -1200 and -300 at 0 and 15000", s.Value, s.Step)
	}
	if lg.SkippedCount != 2 || lg.Skipped[0].Line != 2 || !strings.Contains(lg.Skipped[1].Reason, "step 10000") {
		t.Fatalf("skipped %+v, want evaluations 2 and 3", lg.Skipped)
	}
}
