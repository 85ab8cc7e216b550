package loaders

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/cputime"
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
	f.Add([]byte("{\"source\":\"train\",\"event\":\"step\",\"step\":1,\"a\":1}\n{\"source\":\"train\",\"event\":\"step\",\"step\":2,\"b\":2}\n{\"source\":\"x\",\"event\":\"y\",\"c\":3}\nbad\n"))
	// Strings a line repeats from the one before, or nearly: a longer key,
	// an escaped one, a value in a key's place.
	f.Add([]byte("{\"source\":\"train\",\"event\":\"step\",\"step\":1,\"loss\":1.5}\n{\"source\":\"train\",\"event\":\"step\",\"step\":2,\"lossy\":2.25}\n" +
		"{\"source\":\"train\",\"event\":\"step\",\"step\":3,\"lo\\\"ss\":3}\n{\"source\":\"step\",\"event\":\"train\",\"train\":4}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lg, err := ReadTrainLog(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if lg.Steps.Count+lg.Evals.Count+lg.Finals.Count+lg.Ignored+lg.SkippedCount > lg.Lines {
			t.Fatalf("more records than lines: %+v", lg)
		}
		// Reading in pieces gives the same log.
		p, err := readTrainLogParallel(bytes.NewReader(data), int64(len(data)), 3, true)
		if err != nil {
			t.Fatal(err)
		}
		sameLog(t, "3 parts", p, lg)
		sameAsEncodingJSON(t, data)
	})
}

// sameAsEncodingJSON parses every line of data that encoding/json reads as
// an object with distinct keys, in order with one parser (as the reader
// does, so that strings seen on earlier lines are reused), and fails t
// unless the parser read the same source, event, step and numbers.
func sameAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	jp := jsonParser{intern: map[string]string{}}
	var rec Record
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		var fields map[string]json.RawMessage
		if json.Unmarshal(line, &fields) != nil || fields == nil || !distinctKeys(line, len(fields)) {
			jp.parseRecord(line, &rec) // still part of the parser's history
			continue
		}
		if err := jp.parseRecord(line, &rec); err != nil {
			t.Fatalf("%q: encoding/json reads it, the parser says %v", line, err)
		}
		str := func(k string) string {
			var s string
			json.Unmarshal(fields[k], &s)
			return s
		}
		if rec.Source != str("source") || rec.Event != str("event") {
			t.Fatalf("%q: source %q event %q, encoding/json %q %q", line, rec.Source, rec.Event, str("source"), str("event"))
		}
		num := func(k string, got float64) {
			var want float64
			if raw := fields[k]; json.Unmarshal(raw, &want) == nil && math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("%q: %s = %v, encoding/json %v", line, k, got, want)
			}
		}
		if rec.HasStep {
			num("step", rec.Step)
		}
		for i, k := range rec.Names {
			num(k, rec.Values[i])
		}
	}
}

// distinctKeys says whether the JSON object in line has n top-level keys,
// none repeated (encoding/json keeps the last of repeated keys).
func distinctKeys(line []byte, n int) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	keys := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return false
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
		keys++
	}
	return keys == n
}

func TestTrainLogKeepsEveryKindOfRecordAsColumns(t *testing.T) {
	in := strings.Join([]string{
		`{"source":"train","event":"step","step":1,"time":0.5,"loss_q1":1}`,
		`{"source":"env","event":"step","step":1,"reward":-3.5,"obs0":0.1}`,
		`{"source":"train","event":"step","step":2,"time":0.75,"loss_q1":2,"actor_loss":-1}`,
		`{"source":"env","event":"step","step":2,"reward":-2.5}`,
		`{"source":"train","event":"step","step":3,"loss_q1":3}`,
		`{"source":"train","event":"checkpoint","step":3,"size":12}`,
	}, "\n")
	lg, err := ReadTrainLog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if lg.Steps.Count != 3 || len(lg.Others) != 2 || lg.Ignored != 3 {
		t.Fatalf("steps %d, others %d, ignored %d", lg.Steps.Count, len(lg.Others), lg.Ignored)
	}
	env := lg.Others[0]
	if env.Source != "env" || env.Event != "step" || env.Count != 2 {
		t.Fatalf("env table %+v", env)
	}
	if r := env.Col("reward"); len(r.Value) != 2 || r.Value[1] != -2.5 || r.Step[1] != 2 {
		t.Errorf("env reward %+v", r)
	}
	if o := env.Col("obs0"); len(o.Value) != 1 || o.Step[0] != 1 {
		t.Errorf("env obs0 %+v", o)
	}
	// time is missing on the last record: the column turns sparse.
	if tm := lg.Steps.Col("time"); len(tm.Value) != 2 || tm.Step[1] != 2 {
		t.Errorf("time %+v", tm)
	}
	q := lg.Steps.Against("loss_q1", "time")
	if len(q.Step) != 3 || q.Step[0] != 0.5 || q.Step[1] != 0.75 || !math.IsNaN(q.Step[2]) || q.Value[2] != 3 {
		t.Errorf("loss_q1 against time %+v", q)
	}
	a := lg.Steps.Against("actor_loss", "time")
	if len(a.Step) != 1 || a.Step[0] != 0.75 || a.Value[0] != -1 {
		t.Errorf("actor_loss against time %+v", a)
	}
	if len(lg.Tables()) != 3 { // steps and the two others
		t.Errorf("tables %d", len(lg.Tables()))
	}
}

// bigLog writes n step records of ten fields the way the trainer logs
// them, actor_loss every other step, and an evaluation every n/200 steps.
func bigLog(n int) []byte {
	var b strings.Builder
	for i := range n {
		// Values are float32 printed as Python prints a double (17 digits).
		py := func(v float64) string { return strconv.FormatFloat(float64(float32(v)), 'g', -1, 64) }
		fmt.Fprintf(&b, `{"source": "train", "event": "step", "step": %d, "time": %.2f, "buffer_size": %d, "loss_q1": %s, "loss_q2": %s, "q1_mean": %s, "q2_mean": %s, "target_q_mean": %s, "episode_reward": %s, "episode_length": %d`,
			i+1, float64(i)*0.0031, min(i+1, 2000000), py(1/(1+float64(i)*1e-4)+float64(i%7)*1e-3), py(1.1/(1+float64(i)*1e-4)), py(-float64(i%1000)/13), py(-float64(i%999)/11), py(-float64(i%997)/12), py(-float64(i%200)*1.3), i%200+1)
		if i%2 == 1 {
			fmt.Fprintf(&b, `, "actor_loss": %s`, py(float64(i%1000)/17))
		}
		b.WriteString("}\n")
		if (i+1)%max(n/200, 1) == 0 {
			fmt.Fprintf(&b, `{"source": "train", "event": "evaluation", "step": %d, "time": 1.5, "episodes": 5, "reward_mean": -0.8, "reward_sum": %.4f, "reward_max": -0.01, "reward_min": -7.9}`+"\n", i+1, -float64(i)*1e-3)
		}
	}
	return []byte(b.String())
}

func TestTrainLogHoldsAtMost16BytesPerValue(t *testing.T) {
	const n = 50000
	lg, err := ReadTrainLog(bytes.NewReader(bigLog(n)))
	if err != nil {
		t.Fatal(err)
	}
	values := 0
	for _, tb := range lg.Tables() {
		for _, name := range tb.Names {
			values += len(tb.Col(name).Value)
		}
	}
	if lg.Steps.Count != n || values < 9*n {
		t.Fatalf("%d records, %d values", lg.Steps.Count, values)
	}
	if per := float64(lg.Bytes()) / float64(values); per > 16 {
		t.Errorf("%.1f bytes held per value, want ≤ 16", per)
	}
	if al := lg.Steps.Col("actor_loss"); len(al.Value) != n/2 || al.Step[0] != 2 {
		t.Errorf("actor_loss: %d values, first at step %v", len(al.Value), al.Step[0])
	}
}

func TestFastNumberMatchesParseFloat(t *testing.T) {
	cases := []string{"0", "-0", "1", "12.5", "-3.25e-3", "1e22", "1e23", "9007199254740993", "0.1", "123456789012345678901",
		"1.7976931348623157e308", "5e-324", "2.2250738585072014e-308", "1E5", "1e+5", "0.000000000000000000000001",
		"-0.41999998688697815", "3.0000000000000004", "1.", ".5", "1e", "1-2", "+1", "00012"}
	for i := range 20000 {
		f32 := float64(float32(math.Sin(float64(i)) * math.Pow(10, float64(i%30-15))))
		cases = append(cases, strconv.FormatFloat(math.Float64frombits(uint64(i)*0x9E3779B97F4A7C15), 'g', -1, 64),
			strconv.FormatFloat(f32, 'g', -1, 64), strconv.FormatFloat(f32, 'f', -1, 64),
			strconv.FormatFloat(float64(i)*0.0031, 'f', 4, 64), strconv.FormatFloat(1/(1+float64(i)), 'g', 8, 64))
	}
	for _, s := range cases {
		line := `{"x":` + s + `}`
		var p jsonParser
		p.intern = map[string]string{}
		var rec Record
		err := p.parseRecord([]byte(line), &rec)
		want, werr := strconv.ParseFloat(s, 64)
		if werr != nil && !errors.Is(werr, strconv.ErrRange) {
			continue // the slow path decides what is invalid, as before
		}
		if err != nil || len(rec.Values) != 1 {
			t.Errorf("%s: %v %v", s, err, rec.Values)
			continue
		}
		if got := rec.Values[0]; math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%s: got %v, strconv %v", s, got, want)
		}
	}
}

func FuzzFastNumber(f *testing.F) {
	for _, s := range []string{"0", "-3.25e-3", "1e22", "9007199254740993", "0.1", "12.5E+3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, end, ok := fastNumber([]byte(s), 0)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s[:end], 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("%q: fast %v, strconv %v (%v)", s[:end], v, want, err)
		}
	})
}

// BenchmarkReadTrainLog reads a trainer-like log of ten fields per step
// into columns. MB/s is wall time (the machine may be shared); MB/cpu-s
// is per second of this process's CPU, i.e. on one core.
func BenchmarkReadTrainLog(b *testing.B) {
	data := bigLog(200000)
	b.SetBytes(int64(len(data)))
	cpu0 := cputime.Used()
	for b.Loop() {
		lg, err := ReadTrainLog(bytes.NewReader(data))
		if err != nil || lg.Steps.Count != 200000 {
			b.Fatal(err)
		}
	}
	if cpu := (cputime.Used() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
}

// sameLog fails t unless a and b hold the same records, columns and
// skipped lines.
func sameLog(t *testing.T, what string, a, b *TrainLog) {
	t.Helper()
	if a.Lines != b.Lines || a.Ignored != b.Ignored || a.SkippedCount != b.SkippedCount || len(a.Skipped) != len(b.Skipped) {
		t.Fatalf("%s: lines %d/%d ignored %d/%d skipped %d/%d", what, a.Lines, b.Lines, a.Ignored, b.Ignored, a.SkippedCount, b.SkippedCount)
	}
	for i := range a.Skipped {
		if a.Skipped[i] != b.Skipped[i] {
			t.Fatalf("%s: skipped[%d] %+v vs %+v", what, i, a.Skipped[i], b.Skipped[i])
		}
	}
	ta, tb := a.Tables(), b.Tables()
	if len(ta) != len(tb) {
		t.Fatalf("%s: %d vs %d tables", what, len(ta), len(tb))
	}
	same := func(x, y []float64) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return true
	}
	for i := range ta {
		x, y := ta[i], tb[i]
		if x.Source != y.Source || x.Event != y.Event || x.Count != y.Count || !same([]float64{x.StepMin, x.StepMax}, []float64{y.StepMin, y.StepMax}) ||
			strings.Join(x.Names, ",") != strings.Join(y.Names, ",") {
			t.Fatalf("%s: table %d: %s/%s %d %v..%v %v vs %s/%s %d %v..%v %v", what, i, x.Source, x.Event, x.Count, x.StepMin, x.StepMax, x.Names,
				y.Source, y.Event, y.Count, y.StepMin, y.StepMax, y.Names)
		}
		for _, name := range x.Names {
			cx, cy := x.Col(name), y.Col(name)
			if !same(cx.Step, cy.Step) || !same(cx.Value, cy.Value) {
				t.Fatalf("%s: %s/%s column %s differs: %d vs %d values", what, x.Source, x.Event, name, len(cx.Value), len(cy.Value))
			}
		}
	}
}

func TestTrainLogReadInPiecesEqualsOneRead(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		switch {
		case i%97 == 5:
			b.WriteString("garbage\n\n")
		case i%211 == 7:
			fmt.Fprintf(&b, `{"source":"env","event":"episode","step":%d,"return":%d}`+"\n", i, -i)
		case i%50 == 0:
			fmt.Fprintf(&b, `{"source":"train","event":"evaluation","step":%d,"reward_sum":%d.5}`+"\n", i, -i)
		}
		fmt.Fprintf(&b, `{"source":"train","event":"step","step":%d,"loss_q1":%d.25`, i, i%13)
		if i%2 == 1 {
			fmt.Fprintf(&b, `,"actor_loss":%d`, i%7)
		}
		if i > 1500 { // a field that appears half way
			fmt.Fprintf(&b, `,"alpha":0.%d`, i)
		}
		if i != 2200 { // and one that skips a record
			b.WriteString(`,"buffer_size":1`)
		}
		b.WriteString("}\n")
	}
	b.WriteString(`{"source":"train","event":"step","step":9`) // partial last line
	data := []byte(b.String())
	want, err := ReadTrainLog(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for parts := 1; parts <= 9; parts++ {
		got, err := readTrainLogParallel(bytes.NewReader(data), int64(len(data)), parts, true)
		if err != nil {
			t.Fatal(err)
		}
		sameLog(t, fmt.Sprintf("%d parts", parts), got, want)
	}
	if want.SkippedCount == 0 || len(want.Others) != 1 || len(want.Steps.Col("alpha").Value) != 1499 {
		t.Fatalf("the fixture lost its point: %+v", want.Skipped)
	}
}
