package loaders

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
)

// Series is one numeric field of one event kind over steps: only the
// records that have the field (actor_loss is sparse).
type Series struct {
	Step  []float64 `json:"step"`
	Value []float64 `json:"value"`
}

// Table holds the records of one event kind as columns: one step per
// record and, per numeric field, the values of the records that have it.
// A field present in every record costs 8 bytes a value; a sparse one 12.
type Table struct {
	// Source and Event name the records' "source" and "event".
	Source string `json:"source,omitempty"`
	Event  string `json:"event,omitempty"`
	// Count is the number of records.
	Count int `json:"count"`
	// StepMin and StepMax are the step range (NaN when Count is 0).
	StepMin float64 `json:"step_min"`
	StepMax float64 `json:"step_max"`
	// Names lists the numeric fields in first-seen order.
	Names []string `json:"names"`
	// Step holds each record's step, NaN where a record has none.
	Step []float64 `json:"-"`

	cols  []column       // in Names order
	index map[string]int // name → position in cols
	pos   []int          // cols index of the previous record's k-th field
}

// column is one field's values. rows is nil while every record so far had
// the field (the common case, which then needs no row numbers).
type column struct {
	rows  []int32
	vals  []float64
	dense bool
}

func newTable(source, event string) *Table {
	return &Table{Source: source, Event: event, StepMin: math.NaN(), StepMax: math.NaN(), index: map[string]int{}}
}

// Col returns the series of a field, or an empty one. A field present in
// every record shares the table's Step slice: do not modify it.
func (t *Table) Col(name string) Series {
	i, ok := t.index[name]
	if !ok {
		return Series{}
	}
	c := &t.cols[i]
	if c.dense {
		return Series{Step: t.Step[:len(c.vals):len(c.vals)], Value: c.vals}
	}
	step := make([]float64, len(c.rows))
	for k, r := range c.rows {
		step[k] = t.Step[r]
	}
	return Series{Step: step, Value: c.vals}
}

// Against returns a field over another field of the same records (for
// example "time"): X[i] is the x field of the record of Value[i], NaN where
// that record has none. x == "step" is Col.
func (t *Table) Against(name, x string) Series {
	if x == "step" || x == "" {
		return t.Col(name)
	}
	s := t.Col(name)
	xi, ok := t.index[x]
	if !ok || len(s.Value) == 0 {
		return Series{Step: nanSlice(len(s.Value)), Value: s.Value}
	}
	byRow := t.rowValues(xi)
	out := make([]float64, len(s.Value))
	c := &t.cols[t.index[name]]
	for k := range out {
		r := k
		if !c.dense {
			r = int(c.rows[k])
		}
		out[k] = byRow[r]
	}
	return Series{Step: out, Value: s.Value}
}

// rowValues returns column i with one value per record, NaN where absent.
func (t *Table) rowValues(i int) []float64 {
	c := &t.cols[i]
	if c.dense && len(c.vals) == t.Count {
		return c.vals
	}
	out := nanSlice(t.Count)
	for k, v := range c.vals {
		if c.dense {
			out[k] = v
		} else {
			out[c.rows[k]] = v
		}
	}
	return out
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// Bytes is the memory the table's columns hold (capacity, not length).
func (t *Table) Bytes() int {
	n := 8 * cap(t.Step)
	for i := range t.cols {
		n += 8*cap(t.cols[i].vals) + 4*cap(t.cols[i].rows)
	}
	return n
}

// expectedRecords estimates how many records of a kind a log of size bytes
// holds, from count such records in its first read bytes, 5% to spare;
// never more than one per 16 bytes (no record line is shorter).
func expectedRecords(count int, read, size int64) int {
	n := float64(count) * float64(size) / float64(read) * 1.05
	return int(min(n, float64(size/16+1)))
}

// reserve makes room for n records in the step column and in every column
// that every record so far had.
func (t *Table) reserve(n int) {
	t.Step = growTo(t.Step, n)
	for i := range t.cols {
		if c := &t.cols[i]; c.dense {
			c.vals = growTo(c.vals, n)
		}
	}
}

// growTo returns s with room for n values. Unlike slices.Grow it does not
// clear the new room: a large slice fresh from the OS is zero already, and
// the pages of room never filled are then never touched (page faults were
// a fifth of reading a large log).
func growTo(s []float64, n int) []float64 {
	if n <= cap(s) {
		return s
	}
	g := make([]float64, len(s), n)
	copy(g, s)
	return g
}

func (t *Table) add(r *Record) {
	row := t.Count
	t.Count++
	step := math.NaN()
	if r.HasStep {
		step = r.Step
		if math.IsNaN(t.StepMin) || step < t.StepMin {
			t.StepMin = step
		}
		if math.IsNaN(t.StepMax) || step > t.StepMax {
			t.StepMax = step
		}
	}
	t.Step = append(t.Step, step)
	for k, name := range r.Names {
		// Lines repeat their fields in one order: try the column the
		// previous record had at this position before hashing the name.
		ci := -1
		if k < len(t.pos) && t.Names[t.pos[k]] == name {
			ci = t.pos[k]
		} else {
			i, ok := t.index[name]
			if !ok {
				i = len(t.cols)
				t.index[name] = i
				t.Names = append(t.Names, name)
				t.cols = append(t.cols, column{dense: row == 0})
			}
			ci = i
			if k < len(t.pos) {
				t.pos[k] = ci
			} else {
				t.pos = append(t.pos, ci)
			}
		}
		c := &t.cols[ci]
		if c.dense && len(c.vals) != row {
			// The field skipped a record (or the record repeats it):
			// from now on it needs its row numbers.
			c.sparse()
		}
		if !c.dense {
			c.rows = append(c.rows, int32(row))
		}
		c.vals = append(c.vals, r.Values[k])
	}
}

// TrainLog is a JSONL log of a run (train.jsonl or another of its logs):
// the "train" source's step, evaluation and final_evaluation records, every
// other kind of record in Others, and the lines that were skipped.
type TrainLog struct {
	Path  string `json:"path"`
	Lines int    `json:"lines"`
	// Steps, Evals and Finals hold the step, evaluation and
	// final_evaluation events of source "train".
	Steps  Table `json:"steps"`
	Evals  Table `json:"evaluations"`
	Finals Table `json:"final_evaluations"`
	// Others holds every other (source, event) kind of record, in
	// first-seen order.
	Others []*Table `json:"others,omitempty"`
	// Ignored counts parsed records of other sources or events.
	Ignored int `json:"ignored"`
	// Skipped lists the first MaxSkippedListed unusable lines;
	// SkippedCount counts them all.
	Skipped      []SkippedLine `json:"skipped"`
	SkippedCount int           `json:"skipped_count"`
}

// Tables returns every non-empty table: Steps, Evals, Finals, then Others.
func (lg *TrainLog) Tables() []*Table {
	var out []*Table
	for _, t := range append([]*Table{&lg.Steps, &lg.Evals, &lg.Finals}, lg.Others...) {
		if t.Count > 0 {
			out = append(out, t)
		}
	}
	return out
}

// Bytes is the memory the log's columns hold.
func (lg *TrainLog) Bytes() int {
	n := 0
	for _, t := range append([]*Table{&lg.Steps, &lg.Evals, &lg.Finals}, lg.Others...) {
		n += t.Bytes()
	}
	return n
}

// MaxSkippedListed bounds how many skipped lines a TrainLog lists.
const MaxSkippedListed = 100

// maxOtherTables bounds the kinds of records a log keeps, so that a log
// whose every line names a new event cannot grow without end.
const maxOtherTables = 64

// LoadTrainLog reads a train.jsonl file: the trainer's log, whose every
// record has a "source" and an "event".
func LoadTrainLog(path string) (*TrainLog, error) { return loadLog(path, true) }

// loadLog reads a JSONL log; needSource skips the records without a source
// or an event (train.jsonl's), while the trainer's other logs (env.jsonl)
// write records without a source.
func loadLog(path string, needSource bool) (*TrainLog, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lg *TrainLog
	// Bytes appended while the log is read (a run still training) are
	// left for the next read.
	if size >= parallelMin && logParts() > 1 {
		lg, err = readTrainLogParallel(f, size, logParts(), needSource)
	} else {
		lg, _, err = readTrainLog(io.LimitReader(f, size), size, needSource)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	lg.Path = path
	if err := lg.noRecords(); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return lg, nil
}

// noRecords says why a log none of whose lines is a record is no log (a
// file of another format, every line without "source"), rather than an
// empty one; a run killed while writing its first line is only empty.
func (lg *TrainLog) noRecords() error {
	if lg.SkippedCount == 0 || lg.Ignored > 0 || len(lg.Tables()) > 0 {
		return nil
	}
	first := lg.Skipped[0]
	if lg.SkippedCount == 1 && strings.HasPrefix(first.Reason, "partial last line") {
		return nil
	}
	return datafile.Invalidf("none of its %d lines is a record (line %d: %s)", lg.SkippedCount, first.Line, first.Reason)
}

// ReadTrainLog reads train.jsonl content from r.
func ReadTrainLog(r io.Reader) (*TrainLog, error) {
	lg, _, err := readTrainLog(r, 0, true)
	return lg, err
}

// reserveAfter is the number of records of a kind after which, when the
// log's size is known, its columns are sized for the whole log at once:
// growing them by appending copies a million-record log's columns about
// twenty times, which cost a third of reading it.
const reserveAfter = 1024

// readTrainLog is ReadTrainLog, also returning the number of lines read.
// size, when > 0, is the number of log bytes to make room for (those r
// holds, or the whole file for the first of several pieces): after
// reserveAfter records of a kind, that kind's columns are reserved for the
// records size bytes should hold, from the bytes per record so far.
func readTrainLog(r io.Reader, size int64, needSource bool) (*TrainLog, int, error) {
	lg := &TrainLog{}
	for _, x := range []struct {
		t     *Table
		event string
	}{{&lg.Steps, "step"}, {&lg.Evals, "evaluation"}, {&lg.Finals, "final_evaluation"}} {
		*x.t = *newTable("train", x.event)
	}
	var last *Table // the previous record's table: logs come in runs of one kind
	reserve := func(t *Table, rec *Record) {
		if t.Count == reserveAfter && size > 0 && rec.Offset > 0 {
			t.reserve(expectedRecords(t.Count, rec.Offset, size))
		}
	}
	skip := func(s SkippedLine) {
		lg.Lines = s.Line
		lg.SkippedCount++
		if len(lg.Skipped) < MaxSkippedListed {
			lg.Skipped = append(lg.Skipped, s)
		}
	}
	lines, err := scanLog(r, func(rec *Record) error {
		// The trainer writes "source" and "event" on every record of
		// train.jsonl; a line without them there (appended by hand,
		// another tool's) is no record of any kind: kept, it would make a
		// table of its own whose curves take the place of the train
		// records' (curve_step_*).
		if needSource && (rec.Source == "" || rec.Event == "") {
			skip(SkippedLine{Line: rec.Line, Reason: missingKeys(rec)})
			return nil
		}
		lg.Lines = rec.Line
		if last != nil && last.Source == rec.Source && last.Event == rec.Event {
			last.add(rec)
			reserve(last, rec)
			if last != &lg.Steps && last != &lg.Evals && last != &lg.Finals {
				lg.Ignored++
			}
			return nil
		}
		t := lg.table(rec.Source, rec.Event)
		if t == nil {
			lg.Ignored++
			return nil
		}
		if t != &lg.Steps && t != &lg.Evals && t != &lg.Finals {
			lg.Ignored++
		}
		t.add(rec)
		reserve(t, rec)
		last = t
		return nil
	}, skip)
	return lg, lines, err
}

// missingKeys says which of the keys every record has a line lacks.
func missingKeys(rec *Record) string {
	var miss []string
	if rec.Source == "" {
		miss = append(miss, `"source"`)
	}
	if rec.Event == "" {
		miss = append(miss, `"event"`)
	}
	return "no " + strings.Join(miss, " or ") + " string (the trainer writes both on every record)"
}

// table returns the table of a kind of record, nil past maxOtherTables.
func (lg *TrainLog) table(source, event string) *Table {
	if source == "train" {
		switch event {
		case "step":
			return &lg.Steps
		case "evaluation":
			return &lg.Evals
		case "final_evaluation":
			return &lg.Finals
		}
	}
	for _, t := range lg.Others {
		if t.Source == source && t.Event == event {
			return t
		}
	}
	if len(lg.Others) >= maxOtherTables {
		return nil
	}
	t := newTable(source, event)
	lg.Others = append(lg.Others, t)
	return t
}

// OtherLogs lists the *.jsonl files beside a run's log (the trainer's
// environment logs), sorted, the log itself left out.
func OtherLogs(logPath string) []string {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(logPath), "*.jsonl"))
	var out []string
	for _, m := range matches {
		if filepath.Clean(m) == filepath.Clean(logPath) || strings.HasPrefix(filepath.Base(m), ".") {
			continue
		}
		// Not only regular files: a FIFO here is refused, naming it,
		// when the log is read.
		if st, err := os.Stat(m); err == nil && !st.IsDir() {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}
