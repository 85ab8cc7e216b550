package loaders

import (
	"io"
	"math"
	"strings"
	"testing"
)

func TestTrainLogParsesPythonTokensAndSkipsBadLines(t *testing.T) {
	log := strings.Join([]string{
		`{"source":"train","event":"step","step":2100,"buffer_size":2100,"time":12.3,"loss_q1":0.41,"loss_q2":0.39}`,
		`{"source":"train","event":"step","step":2200,"buffer_size":2200,"time":13,"loss_q1":NaN,"loss_q2":Infinity,"actor_loss":-Infinity}`,
		``,
		`garbage here`,
		`{"source":"env","event":"step","step":5}`,
		`{"source":"train","event":"evaluation","step":2500,"time":20.1,"episodes":1,"reward_mean":-0.8,"reward_sum":-160.2,"reward_max":-0.01,"reward_min":-7.9,"extra":{"a":[1,"}"]}}`,
		`{"source":"train","event":"step","step":2300,"loss_q1":1e400,"ok":true,"note":"x\"y"}`,
		`[1,2,3]`,
		`{"source":"train","event":"final_evaluation","step":3000,"reward_sum":-150}`,
		`{"source":"train","event":"step","step":24`,
	}, "\n")
	lg, err := ReadTrainLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if lg.Steps.Count != 3 || lg.Evals.Count != 1 || lg.Finals.Count != 1 {
		t.Fatalf("counts steps=%d evals=%d finals=%d", lg.Steps.Count, lg.Evals.Count, lg.Finals.Count)
	}
	if lg.Steps.StepMin != 2100 || lg.Steps.StepMax != 2300 {
		t.Errorf("step range %v..%v", lg.Steps.StepMin, lg.Steps.StepMax)
	}
	q1 := lg.Steps.Col("loss_q1")
	if len(q1.Value) != 3 || !math.IsNaN(q1.Value[1]) || !math.IsInf(q1.Value[2], 1) {
		t.Errorf("loss_q1 = %v", q1.Value)
	}
	if q2 := lg.Steps.Col("loss_q2"); !math.IsInf(q2.Value[1], 1) {
		t.Errorf("loss_q2 = %v", q2.Value)
	}
	al := lg.Steps.Col("actor_loss")
	if len(al.Step) != 1 || al.Step[0] != 2200 || !math.IsInf(al.Value[0], -1) {
		t.Errorf("actor_loss sparse column = %+v", al)
	}
	if got := lg.Evals.Col("reward_sum").Value; len(got) != 1 || got[0] != -160.2 {
		t.Errorf("reward_sum = %v", got)
	}
	if lg.Ignored != 1 {
		t.Errorf("ignored = %d, want 1", lg.Ignored)
	}
	wantSkipped := []int{4, 8, 10}
	if lg.SkippedCount != len(wantSkipped) {
		t.Fatalf("skipped %+v", lg.Skipped)
	}
	for i, l := range wantSkipped {
		if lg.Skipped[i].Line != l {
			t.Errorf("skipped[%d] line %d, want %d", i, lg.Skipped[i].Line, l)
		}
	}
	if !strings.HasPrefix(lg.Skipped[2].Reason, "partial last line") {
		t.Errorf("last reason %q", lg.Skipped[2].Reason)
	}
	if lg.Lines != 10 {
		t.Errorf("lines = %d", lg.Lines)
	}
}

func TestTrainLogSkipsOverlongLine(t *testing.T) {
	long := `{"source":"train","event":"step","step":1,"x":"` + strings.Repeat("a", maxLogLine+10) + `"}`
	in := long + "\n" + `{"source":"train","event":"step","step":2}` + "\n"
	lg, err := ReadTrainLog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if lg.Steps.Count != 1 || lg.SkippedCount != 1 || lg.Skipped[0].Line != 1 {
		t.Fatalf("count=%d skipped=%+v", lg.Steps.Count, lg.Skipped)
	}
}

// endlessLog yields step records forever (up to n bytes).
type endlessLog struct{ n, i int }

func (e *endlessLog) Read(p []byte) (int, error) {
	const line = `{"source":"train","event":"step","step":2100,"buffer_size":2100,"time":12.3,"loss_q1":0.41,"loss_q2":0.39}` + "\n"
	if e.i >= e.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && e.i < e.n {
		c := copy(p[k:], line[e.i%len(line):])
		k += c
		e.i += c
	}
	return k, nil
}

func TestScanTrainLogAllocatesNothingPerLine(t *testing.T) {
	count := 0
	allocs := testing.AllocsPerRun(3, func() {
		_ = ScanTrainLog(&endlessLog{n: 1 << 20}, func(*Record) error { count++; return nil }, func(SkippedLine) {})
	})
	// A megabyte is ~9,500 lines; a per-line allocation would show here.
	if allocs > 100 {
		t.Errorf("%.0f allocations per MB of log", allocs)
	}
	if count == 0 {
		t.Fatal("no records scanned")
	}
}

func BenchmarkScanTrainLog(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	for b.Loop() {
		if err := ScanTrainLog(&endlessLog{n: size}, func(*Record) error { return nil }, func(SkippedLine) {}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzTrainLog(f *testing.F) {
	f.Add([]byte(`{"source":"train","event":"step","step":2100,"loss_q1":NaN}` + "\n"))
	f.Add([]byte(`{"a":{"b":[1,2,{"c":"\u00e9"}]},"step":-Infinity}`))
	f.Add([]byte("{\"source\":\"train\",\"event\":\"evaluation\",\"step\":1\n\n[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lg, err := ReadTrainLog(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if lg.Steps.Count+lg.Evals.Count+lg.Finals.Count+lg.Ignored+lg.SkippedCount > lg.Lines {
			t.Fatalf("more records than lines: %+v", lg)
		}
	})
}
