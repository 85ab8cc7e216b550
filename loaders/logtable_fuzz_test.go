package loaders

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// refRecord is one record as the reference reader sees it.
type refRecord struct {
	source, event string
	step          float64 // NaN where the record has none
	names         []string
	values        []float64
}

// refJSONRecord reads one line with encoding/json alone: an object whose
// keys are distinct and whose numbers all parse; ok is false for anything
// else (encoding/json has no NaN, and keeps the last of repeated keys).
func refJSONRecord(line []byte) (rec refRecord, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return rec, false
	}
	rec.step = math.NaN()
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rec, false
		}
		key := tok.(string)
		if seen[key] {
			return rec, false
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return rec, false
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&v) != nil {
			return rec, false
		}
		switch x := v.(type) {
		case string:
			switch key {
			case "source":
				rec.source = x
			case "event":
				rec.event = x
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return rec, false
			}
			switch key {
			case "step":
				rec.step = f
			case "source", "event":
				// a number where a string belongs: no source, no event
			default:
				rec.names, rec.values = append(rec.names, key), append(rec.values, f)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return rec, false
	}
	if _, err := dec.Token(); err != io.EOF { // nothing after it
		return rec, false
	}
	return rec, true
}

// refSeries is a column the reference reader builds: every value of a
// field with its record's step, in file order.
type refSeries struct{ step, value []float64 }

// refTable is a kind of record as the reference reader keeps it.
type refTable struct {
	count  int
	names  []string
	series map[string]*refSeries
}

// refReadLog is the simple reference reader of the columnar one: each line
// is read by encoding/json where it can be (by the line parser where it
// cannot: NaN tokens, repeated keys), records without source or event are
// skipped, and every numeric field of every record is appended to its
// kind's series, the first 64 kinds beyond the train ones kept as the
// reader keeps them.
func refReadLog(data []byte) (tables map[[2]string]*refTable, order [][2]string, skipped int) {
	tables = map[[2]string]*refTable{}
	jp := jsonParser{intern: map[string]string{}}
	var prec Record
	others := 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		perr := jp.parseRecord(line, &prec) // also keeps the parser's history as the reader's
		rec, ok := refJSONRecord(line)
		if !ok {
			if perr != nil {
				skipped++
				continue
			}
			rec = refRecord{source: prec.Source, event: prec.Event, step: math.NaN(),
				names: append([]string(nil), prec.Names...), values: append([]float64(nil), prec.Values...)}
			if prec.HasStep {
				rec.step = prec.Step
			}
		}
		if rec.source == "" || rec.event == "" {
			skipped++
			continue
		}
		k := [2]string{rec.source, rec.event}
		t := tables[k]
		if t == nil {
			train := rec.source == "train" && (rec.event == "step" || rec.event == "evaluation" || rec.event == "final_evaluation")
			if !train {
				if others == maxOtherTables {
					continue // ignored, as the reader does
				}
				others++
			}
			t = &refTable{series: map[string]*refSeries{}}
			tables[k] = t
			order = append(order, k)
		}
		t.count++
		for i, name := range rec.names {
			s := t.series[name]
			if s == nil {
				s = &refSeries{}
				t.series[name] = s
				t.names = append(t.names, name)
			}
			s.step = append(s.step, rec.step)
			s.value = append(s.value, rec.values[i])
		}
	}
	return tables, order, skipped
}

// FuzzTrainLogColumns checks the columnar reader's handling of schemas
// (fields that appear late, skip records, repeat, change order, kinds that
// interleave) against the reference reader: every record of every kind
// survives, every value of every field is in its column at its record's
// step, and nothing else is.
func FuzzTrainLogColumns(f *testing.F) {
	f.Add([]byte("{\"source\":\"train\",\"event\":\"step\",\"step\":1,\"a\":1,\"b\":2}\n{\"source\":\"train\",\"event\":\"step\",\"step\":2,\"b\":3}\n" +
		"{\"source\":\"train\",\"event\":\"step\",\"step\":3,\"b\":4,\"a\":5,\"c\":6}\n{\"source\":\"env\",\"event\":\"step\",\"step\":3,\"a\":7}\n"))
	f.Add([]byte("{\"source\":\"train\",\"event\":\"step\",\"step\":5,\"loss_q1\":0.5}\n{\"event\":\"step\",\"step\":5300,\"loss_q1\":0.1}\n"))
	f.Add([]byte("{\"source\":\"train\",\"event\":\"step\",\"a\":1,\"a\":2}\n{\"source\":\"train\",\"event\":\"step\",\"step\":\"x\",\"a\":NaN}\n"))
	f.Add([]byte("{\"source\":\"train\",\"event\":\"evaluation\",\"step\":1e400,\"reward_sum\":-1}\n{\"source\":5,\"event\":\"step\",\"x\":1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("\r")) || len(data) > maxLogLine {
			return // line ends and over-long lines are the scanner's, tested apart
		}
		lg, err := ReadTrainLog(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		want, order, skipped := refReadLog(data)
		if lg.SkippedCount != skipped {
			t.Fatalf("skipped %d lines, the reference %d: %+v", lg.SkippedCount, skipped, lg.Skipped)
		}
		got := lg.Tables()
		if len(got) != len(order) {
			t.Fatalf("%d kinds of record, the reference %d", len(got), len(order))
		}
		for _, tb := range got {
			w := want[[2]string{tb.Source, tb.Event}]
			if w == nil {
				t.Fatalf("kind %s/%s the reference does not have", tb.Source, tb.Event)
			}
			if tb.Count != w.count || strings.Join(tb.Names, "\x00") != strings.Join(w.names, "\x00") {
				t.Fatalf("%s/%s: %d records, fields %q; the reference %d, %q", tb.Source, tb.Event, tb.Count, tb.Names, w.count, w.names)
			}
			for _, name := range tb.Names {
				s, ws := tb.Col(name), w.series[name]
				if !sameBits(s.Step, ws.step) || !sameBits(s.Value, ws.value) {
					t.Fatalf("%s/%s field %q: steps %v values %v; the reference %v %v", tb.Source, tb.Event, name, s.Step, s.Value, ws.step, ws.value)
				}
			}
		}
	})
}

// sameBits says whether x and y hold the same float64s, NaNs included.
func sameBits(x, y []float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) && !(math.IsNaN(x[i]) && math.IsNaN(y[i])) {
			return false
		}
	}
	return true
}
