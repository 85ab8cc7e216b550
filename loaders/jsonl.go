package loaders

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"unsafe"
)

// Record is one parsed line of train.jsonl. The scanner reuses a Record
// between lines: copy what you keep.
type Record struct {
	// Line is the 1-based line number in the file.
	Line int
	// Source and Event are the "source" and "event" strings ("" if absent).
	Source, Event string
	// Step is the "step" field; HasStep is false where a line has none.
	Step    float64
	HasStep bool
	// Names and Values are every other numeric field in line order
	// (NaN, Infinity and -Infinity included, booleans and strings not).
	Names  []string
	Values []float64
}

// SkippedLine is a line the log reader could not use.
type SkippedLine struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// maxLogLine bounds one line of train.jsonl; a longer one is skipped, so a
// corrupt file without newlines cannot make the reader buffer it whole.
const maxLogLine = 1 << 20

// ScanTrainLog reads a JSONL log as a stream, calling fn for every line
// that parses as a JSON object, and skip for every other non-blank line
// (garbage, a partial last line, an over-long line). Memory is constant
// whatever the file's size. Python's bare NaN, Infinity and -Infinity
// tokens are accepted as numbers.
func ScanTrainLog(r io.Reader, fn func(*Record) error, skip func(SkippedLine)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		rec    Record
		long   []byte
		line   int
		intern = map[string]string{}
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) <= maxLogLine {
				long = append(long, chunk...)
			} else {
				long = long[:0]
				// Drain the rest of the line, then report it once.
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				line++
				skip(SkippedLine{Line: line, Reason: fmt.Sprintf("line longer than %d bytes", maxLogLine)})
				if err != nil {
					if err == io.EOF {
						return nil
					}
					return err
				}
				continue
			}
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if len(long) > 0 {
			if len(long)+len(chunk) > maxLogLine {
				long = long[:0]
				line++
				skip(SkippedLine{Line: line, Reason: fmt.Sprintf("line longer than %d bytes", maxLogLine)})
				if err == io.EOF {
					return nil
				}
				continue
			}
			chunk = append(long, chunk...)
			long = long[:0]
		}
		if len(chunk) > 0 {
			line++
			partial := err == io.EOF && chunk[len(chunk)-1] != '\n'
			text := bytes.TrimSpace(chunk)
			if len(text) > 0 {
				rec.Line = line
				if perr := parseRecord(text, &rec, intern); perr != nil {
					reason := perr.Error()
					if partial {
						reason = "partial last line: " + reason
					}
					skip(SkippedLine{Line: line, Reason: reason})
				} else if ferr := fn(&rec); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// parseRecord parses one JSON object line into rec.
func parseRecord(b []byte, rec *Record, intern map[string]string) error {
	p := jsonParser{b: b, intern: intern}
	rec.Source, rec.Event, rec.Step, rec.HasStep = "", "", 0, false
	rec.Names, rec.Values = rec.Names[:0], rec.Values[:0]
	p.ws()
	if !p.eat('{') {
		return errors.New("not a JSON object")
	}
	p.ws()
	if p.eat('}') {
		return p.end()
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if !p.eat(':') {
			return p.fail("expected ':'")
		}
		p.ws()
		switch c := p.peek(); {
		case c == '"':
			s, err := p.str()
			if err != nil {
				return err
			}
			switch key {
			case "source":
				rec.Source = s
			case "event":
				rec.Event = s
			}
		case c == '{' || c == '[':
			if err := p.skipNested(); err != nil {
				return err
			}
		case c == 't' || c == 'f' || c == 'n':
			if !p.word("true") && !p.word("false") && !p.word("null") {
				return p.fail("invalid literal")
			}
		default:
			v, err := p.number()
			if err != nil {
				return err
			}
			if key == "step" {
				rec.Step, rec.HasStep = v, true
			} else {
				rec.Names = append(rec.Names, key)
				rec.Values = append(rec.Values, v)
			}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return p.end()
		}
		return p.fail("expected ',' or '}'")
	}
}

type jsonParser struct {
	b []byte
	i int
	// intern maps the bytes of keys and short values seen before to one
	// string, so a long log allocates per distinct name, not per line.
	intern map[string]string
}

// internBytes returns the string of b, reusing an earlier copy.
func (p *jsonParser) internBytes(b []byte) string {
	if s, ok := p.intern[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(p.intern) < 4096 {
		p.intern[s] = s
	}
	return s
}

func (p *jsonParser) fail(msg string) error {
	if p.i >= len(p.b) {
		return fmt.Errorf("%s at end of line (column %d)", msg, p.i+1)
	}
	return fmt.Errorf("%s at column %d", msg, p.i+1)
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.b) {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) word(w string) bool {
	if bytes.HasPrefix(p.b[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *jsonParser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return p.fail("trailing data")
	}
	return nil
}

// str parses a JSON string; escapes are decoded by encoding/json.
func (p *jsonParser) str() (string, error) {
	if !p.eat('"') {
		return "", p.fail("expected string")
	}
	start, escaped := p.i, false
	for p.i < len(p.b) {
		switch c := p.b[p.i]; c {
		case '\\':
			escaped = true
			p.i += 2
			continue
		case '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				return p.internBytes(raw), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", p.fail("invalid string escape")
			}
			return s, nil
		}
		p.i++
	}
	return "", p.fail("unterminated string")
}

// number parses a JSON number or one of Python's NaN, Infinity, -Infinity.
func (p *jsonParser) number() (float64, error) {
	switch {
	case p.word("NaN"):
		return math.NaN(), nil
	case p.word("Infinity"):
		return math.Inf(1), nil
	case p.word("-Infinity"):
		return math.Inf(-1), nil
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, p.fail("invalid value")
	}
	// The string view is not retained: ParseFloat only reads it.
	v, err := strconv.ParseFloat(unsafe.String(&p.b[start], p.i-start), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return v, nil // ±Inf or 0 on overflow/underflow, as Python does
		}
		return 0, p.fail("invalid number")
	}
	return v, nil
}

// maxJSONDepth bounds nested values skipped in a log line.
const maxJSONDepth = 512

// skipNested skips an object or array, strings inside included.
func (p *jsonParser) skipNested() error {
	depth := 0
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return p.fail("nesting too deep")
			}
		case '}', ']':
			depth--
			if depth == 0 {
				p.i++
				return nil
			}
		}
		p.i++
	}
	return p.fail("unterminated value")
}

// Series is one numeric field of one event kind over steps: only the
// records that have the field (actor_loss is sparse).
type Series struct {
	Step  []float64 `json:"step"`
	Value []float64 `json:"value"`
}

// Table holds the records of one event kind as columns.
type Table struct {
	// Count is the number of records.
	Count int `json:"count"`
	// StepMin and StepMax are the step range (NaN when Count is 0).
	StepMin float64 `json:"step_min"`
	StepMax float64 `json:"step_max"`
	// Names lists the numeric fields in first-seen order.
	Names []string `json:"names"`
	// Columns maps a field name to its series.
	Columns map[string]*Series `json:"-"`
}

// Col returns the series of a field, or an empty one.
func (t *Table) Col(name string) Series {
	if s, ok := t.Columns[name]; ok {
		return *s
	}
	return Series{}
}

func (t *Table) add(r *Record) {
	if t.Columns == nil {
		t.Columns = map[string]*Series{}
		t.StepMin, t.StepMax = math.NaN(), math.NaN()
	}
	t.Count++
	if r.HasStep {
		if t.Count == 1 || math.IsNaN(t.StepMin) || r.Step < t.StepMin {
			t.StepMin = r.Step
		}
		if t.Count == 1 || math.IsNaN(t.StepMax) || r.Step > t.StepMax {
			t.StepMax = r.Step
		}
	}
	for i, name := range r.Names {
		s, ok := t.Columns[name]
		if !ok {
			s = &Series{}
			t.Columns[name] = s
			t.Names = append(t.Names, name)
		}
		step := math.NaN()
		if r.HasStep {
			step = r.Step
		}
		s.Step = append(s.Step, step)
		s.Value = append(s.Value, r.Values[i])
	}
}

// TrainLog is the train.jsonl of a run: the "train" source's step,
// evaluation and final_evaluation records, and the lines that were skipped.
type TrainLog struct {
	Path  string `json:"path"`
	Lines int    `json:"lines"`
	// Steps, Evals and Finals hold the step, evaluation and
	// final_evaluation events of source "train".
	Steps  Table `json:"steps"`
	Evals  Table `json:"evaluations"`
	Finals Table `json:"final_evaluations"`
	// Ignored counts parsed records of other sources or events.
	Ignored int `json:"ignored"`
	// Skipped lists the first MaxSkippedListed unusable lines;
	// SkippedCount counts them all.
	Skipped      []SkippedLine `json:"skipped"`
	SkippedCount int           `json:"skipped_count"`
}

// MaxSkippedListed bounds how many skipped lines a TrainLog lists.
const MaxSkippedListed = 100

// LoadTrainLog reads a train.jsonl file.
func LoadTrainLog(path string) (*TrainLog, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load %s: %w", path, ErrNotExist)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	lg, err := ReadTrainLog(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	lg.Path = path
	return lg, nil
}

// ReadTrainLog reads train.jsonl content from r.
func ReadTrainLog(r io.Reader) (*TrainLog, error) {
	lg := &TrainLog{}
	for _, t := range []*Table{&lg.Steps, &lg.Evals, &lg.Finals} {
		t.Columns = map[string]*Series{}
		t.StepMin, t.StepMax = math.NaN(), math.NaN()
	}
	err := ScanTrainLog(r, func(rec *Record) error {
		lg.Lines = rec.Line
		if rec.Source != "train" {
			lg.Ignored++
			return nil
		}
		switch rec.Event {
		case "step":
			lg.Steps.add(rec)
		case "evaluation":
			lg.Evals.add(rec)
		case "final_evaluation":
			lg.Finals.add(rec)
		default:
			lg.Ignored++
		}
		return nil
	}, func(s SkippedLine) {
		lg.Lines = s.Line
		lg.SkippedCount++
		if len(lg.Skipped) < MaxSkippedListed {
			lg.Skipped = append(lg.Skipped, s)
		}
	})
	return lg, err
}
